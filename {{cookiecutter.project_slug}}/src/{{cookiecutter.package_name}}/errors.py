"""Errors that mean "the input is wrong" (params, data, settings): a message, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

USER_ERROR_EXIT_CODE = 2


class UserError(ValueError):
    """Base of every error whose message tells the user what to fix."""


def run_stage(main: Callable[..., int | None], argv: Sequence[str] | None = None) -> None:
    """Run an entry point (with argv when given) and exit with its code.

    A UserError ends it with its message on stderr and exit code 2.
    """
    args: list[Any] = [] if argv is None else [list(argv)]
    try:
        code = main(*args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(USER_ERROR_EXIT_CODE)
    sys.exit(code or 0)
