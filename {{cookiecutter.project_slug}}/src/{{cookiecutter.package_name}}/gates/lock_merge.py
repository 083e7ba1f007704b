"""A git merge driver for dvc.lock and the pipeline's git-tracked outputs (metrics/, plots/).

dvc.lock is merged stage by stage against the common ancestor: a stage changed on one side only takes that
side; a stage changed on both sides has no right answer in hashes alone (neither side's outputs were made
from the merged code, params and data), so it leaves dvc.lock: `make check-lock` and `dvc status` then list
it as a stage to re-run, and `make pipeline` writes its entry again. So does a stage whose recorded inputs
no longer match the outputs recorded for the stage that makes them. Generated files (metrics, plots) take
the side that changed them; changed on both sides, ours stays until the pipeline writes them again (their
stage is then out of dvc.lock, so nothing pretends they are current).

`make setup` registers it (git config is not versioned; .gitattributes names the drivers):
    merge.dvclock.driver   = python -m <package>.cli merge-lock %O %A %B
    merge.dvcoutput.driver = python -m <package>.cli merge-lock --output %O %A %B
Git passes the ancestor, ours (the result is written there) and theirs; exit 0 means resolved, and any other
exit leaves the file conflicted with ours in place.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError

Stages = dict[str, dict[str, Any]]


def changed_on_one_side(ancestor: Any, ours: Any, theirs: Any) -> tuple[bool, Any]:
    """(True, the merged value) when at most one side changed it, else (False, None)."""
    if theirs in (ours, ancestor):
        return True, ours
    if ours == ancestor:
        return True, theirs
    return False, None


def recorded_outputs(stages: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, Any]]:
    """Output path -> (the stage that makes it, its recorded hash)."""
    return {
        out["path"]: (name, out.get("md5")) for name, entry in stages.items() for out in entry.get("outs", [])
    }


def inconsistent_stages(stages: Stages, producers: Mapping[str, str]) -> set[str]:
    """Stages whose recorded input hash is not the output hash recorded by (or missing for) its maker."""
    outputs = recorded_outputs(stages)
    inconsistent: set[str] = set()
    for name, entry in stages.items():
        for dep in entry.get("deps", []):
            maker = producers.get(dep["path"])
            if maker is None or maker == name:
                continue
            if maker not in stages or outputs.get(dep["path"], (maker, None))[1] != dep.get("md5"):
                inconsistent.add(name)
    return inconsistent


def merge_stages(ancestor: Stages, ours: Stages, theirs: Stages) -> tuple[Stages, list[str]]:
    """The merged stages, and the stages left out of them (in the order of ours, then theirs) to re-run."""
    names = list(dict.fromkeys([*ours, *theirs, *ancestor]))
    merged: Stages = {}
    rerun: list[str] = []
    for name in names:
        resolved, entry = changed_on_one_side(ancestor.get(name), ours.get(name), theirs.get(name))
        if not resolved:
            rerun.append(name)
        elif entry is not None:
            merged[name] = entry
    producers = {
        path: maker
        for side in (ancestor, ours, theirs)
        for path, (maker, _) in recorded_outputs(side).items()
    }
    while stale := inconsistent_stages(merged, producers):
        rerun += sorted(stale)
        merged = {name: entry for name, entry in merged.items() if name not in stale}
    return merged, rerun


def read_lock(path: Path, side: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        lock = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(
            f"dvc.lock of {side} is not valid YAML{where}; resolve it by hand or run `make pipeline`"
        ) from None
    if not isinstance(lock, dict) or not isinstance(lock.get("stages", {}), dict):
        raise UserError(f"dvc.lock of {side} is not a DVC lock file (a mapping with `schema` and `stages`)")
    return lock


def merge_lock_files(ancestor: Path, ours: Path, theirs: Path) -> list[str]:
    """Write the merged dvc.lock over `ours`; returns the stages that must re-run."""
    base, mine, other = (
        read_lock(path, side)
        for path, side in ((ancestor, "the ancestor"), (ours, "ours"), (theirs, "theirs"))
    )
    resolved, schema = changed_on_one_side(base.get("schema"), mine.get("schema"), other.get("schema"))
    if not resolved:
        raise UserError(
            f"dvc.lock schema differs: ours {mine.get('schema')!r}, theirs {other.get('schema')!r}"
        )
    stages, rerun = merge_stages(base.get("stages", {}), mine.get("stages", {}), other.get("stages", {}))
    lock = {"schema": schema, "stages": stages} if schema is not None else {"stages": stages}
    ours.write_text(yaml.safe_dump(lock, sort_keys=False, default_flow_style=False), encoding="utf-8")
    return rerun


def merge_output_file(ancestor: Path, ours: Path, theirs: Path) -> bool:
    """Resolve a generated file by the side that changed it; False when both did (ours stays)."""
    contents = (path.read_bytes() if path.exists() else None for path in (ancestor, ours, theirs))
    resolved, merged = changed_on_one_side(*contents)
    if resolved and merged is None:
        ours.unlink(missing_ok=True)
    elif resolved and merged != ours.read_bytes():
        shutil.copyfile(theirs, ours)
    return resolved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="merge-lock", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--output", action="store_true", help="a generated output (metrics, plots), not dvc.lock"
    )
    parser.add_argument("ancestor", type=Path, help="%%O: the common ancestor's version")
    parser.add_argument("ours", type=Path, help="%%A: ours; the merged result is written here")
    parser.add_argument("theirs", type=Path, help="%%B: theirs")
    args = parser.parse_args(argv)
    if args.output:
        if not merge_output_file(args.ancestor, args.ours, args.theirs):
            print(
                "merge-lock: generated file changed on both sides: ours kept; `make pipeline` rewrites it",
                file=sys.stderr,
            )
        return 0
    rerun = merge_lock_files(args.ancestor, args.ours, args.theirs)
    if rerun:
        print(
            f"merge-lock: dvc.lock merged; left out, to re-run: {', '.join(rerun)} (changed on both sides, or"
            " made from an output that did); `make check-lock` lists them, `make pipeline` re-runs them",
            file=sys.stderr,
        )
    return 0
