"""GitHub Actions workflow commands (`::error title=...::message`) whose message keeps every line.

A workflow command ends at the first newline, so a multi-line message echoed as is shows only its first line
in the annotation; GitHub's escaping (`%` -> `%25`, CR -> `%0D`, LF -> `%0A`; in properties also `:` and `,`)
keeps it whole. Workflows call it through the CLI: `cli annotate error --title "Deploy gate" --file msg.txt`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

LEVELS = ("error", "warning", "notice")


def escape_data(message: str) -> str:
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    """One workflow command line for an annotation of `level` with every line of `message`."""
    if level not in LEVELS:
        raise ValueError(f"annotation level {level!r} is not one of {', '.join(LEVELS)}")
    return f"::{level} title={escape_property(title)}::{escape_data(message.strip())}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="annotate", description=__doc__.splitlines()[0])
    parser.add_argument("level", choices=LEVELS)
    parser.add_argument("--title", required=True, help="the annotation's title")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="read the message from this file")
    source.add_argument("--message", help="the message itself")
    args = parser.parse_args(argv)
    message = args.file.read_text(encoding="utf-8") if args.file else args.message
    print(annotation(args.level, args.title, message or "(no message)"))
    return 0
