"""The report's "Data drift vs base" section: when a PR changes the training data, the monitor's own tests
(monitor/drift.py with `monitor.thresholds`) compare this PR's table with the base's, so a reviewer sees what
moved in the distribution before approving the model trained on it.

Which data: the file `data.path` names, in the base's params.yaml at the base revision and in this PR's. Both
are hashed as DVC hashes them (md5 of the file); the same hash means the same data and no section.

How the base's table is read: through DVC's file system at the base revision (`DVCFileSystem`), which finds a
DVC-tracked file by the hash the base's dvc.lock or .dvc file records, in the local DVC cache (this run's
pipeline or a restored cache often holds it) or else on the DVC remote, and a file kept in git in git. So it
works in a fresh CI checkout where only git and the remote exist, and needs nothing else from the base's run.
(The base's reference profile would not do: it summarises the training split rather than the table, without
the target, and is a DVC output to fetch all the same.)

How it is compared: the base's table is profiled as the monitor profiles training data (`monitor.profile`),
with the kinds of this PR's feature schema (models/metadata.json), and this PR's table is tested against it;
the target is tested as the monitor tests predictions (label shift). The section informs, it is not a gate:
it never fails the check, and a base that cannot be read is one line in it, not an error.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from dvc.api import DVCFileSystem

from ..config import DriftThresholds, MonitorParams, Params, Paths
from ..contracts import FeatureSchema, read_metadata
from ..errors import UserError
from ..monitor.drift import ColumnDrift, DriftResult, detect_drift
from ..monitor.profile import PREDICTION, build_profile
from ..monitor.report import format_value
from ..pipeline.data import read_table
from ..pipeline.lineage import file_md5

TITLE = "### Data drift vs base"
SHOWN_NEW_CATEGORIES = 5

STATUS_LINES = {
    "drift": "🔴 **Data drift**: the data moved beyond the monitor's thresholds",
    "warning": "🟠 **Some columns drifted** (fewer than the dataset-drift share)",
    "ok": "🟢 **No drift**: the same distribution within the monitor's thresholds",
    "insufficient_data": "⚪ **Too few rows to test** (`monitor.thresholds.min_samples`)",
}
VERDICT_MARKS = {"drift": "🔴 drift", "no_drift": "no drift", "insufficient_data": "too few rows"}


class DataComparisonError(UserError):
    """The tables cannot be compared: the base's is not on the base, in the DVC cache or on the remote."""


@dataclass(frozen=True)
class DataVersion:
    """One side's training table: its path in the project and its md5 (the DVC hash of the file)."""

    path: str
    md5: str


@dataclass(frozen=True)
class DataComparison:
    """The monitor's verdicts on this PR's table against the base's, with what was compared."""

    base: DataVersion
    current: DataVersion
    base_rows: int
    current_rows: int
    drift: DriftResult
    target: str
    only_in_base: list[str]
    only_in_current: list[str]


def compare_tables(
    versions: tuple[DataVersion, DataVersion],
    base: pd.DataFrame,
    current: pd.DataFrame,
    schema: FeatureSchema,
    monitor: MonitorParams,
) -> DataComparison:
    """The monitor's drift of the `current` table against a profile of the `base` one, on the schema's
    features in both tables and the target; `versions` are the base's and the current one's."""
    shared = tuple(spec for spec in schema.features if spec.name in base.columns and spec.name in current)
    if not shared:
        raise DataComparisonError(
            f"no feature of the schema ({', '.join(schema.names())}) is in both tables: nothing to compare"
        )
    compared = schema.model_copy(update={"features": shared})
    names = compared.names()
    thresholds = monitor.thresholds.model_copy(
        update={"critical_features": [name for name in monitor.thresholds.critical_features if name in names]}
    )
    has_target = schema.target in base.columns and schema.target in current.columns
    labels = base[schema.target] if has_target else None
    profile = build_profile(base, compared, labels, **monitor.profile.model_dump())
    drift = detect_drift(
        profile, current, thresholds, prediction_column=schema.target if has_target else PREDICTION
    )
    return DataComparison(
        base=versions[0],
        current=versions[1],
        base_rows=len(base),
        current_rows=len(current),
        drift=drift,
        target=schema.target,
        only_in_base=[str(name) for name in base.columns if name not in current.columns],
        only_in_current=[str(name) for name in current.columns if name not in base.columns],
    )


# --- markdown ------------------------------------------------------------------------------------------


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def _row_change(base_rows: int, current_rows: int) -> str:
    change = current_rows - base_rows
    relative = f", {100 * change / base_rows:+.1f}%" if base_rows else ""
    return f"{current_rows} ({change:+d}{relative})"


def _effect_size(column: ColumnDrift) -> str:
    if column.test == "ks":
        return f"KS {format_value(column.statistic)}, PSI {format_value(column.psi)}"
    if column.test == "chi2":
        return f"Cramér's V {format_value(column.cramers_v)}, PSI {format_value(column.psi)}"
    return "—"


def _new_categories(column: ColumnDrift) -> str:
    if not column.new_categories:
        return "—"
    shown = ", ".join(f"`{category}`" for category in column.new_categories[:SHOWN_NEW_CATEGORIES])
    more = len(column.new_categories) - SHOWN_NEW_CATEGORIES
    share = format_value(column.new_category_share)
    return f"{shown}{f' (+{more} more)' if more > 0 else ''}: {share} of rows"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def column_row(column: ColumnDrift, target: str) -> str:
    name = f"`{target}` (target)" if column.role == "prediction" else f"`{column.name}`"
    missing = f"{_percent(column.missing_rate_reference)} → {_percent(column.missing_rate_current)}"
    cells = [
        name + (" ★" if column.critical else ""),
        VERDICT_MARKS[column.verdict],
        _effect_size(column),
        format_value(column.p_value_adj),
        missing,
        _new_categories(column),
        "; ".join(column.reasons) or "—",
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


COLUMN_HEADER = [
    "| column | verdict | effect size | p (BH) | missing base → PR | new categories | why |",
    "|---|---|---|---:|---|---|---|",
]


def _ordered(drift: DriftResult) -> list[ColumnDrift]:
    """Drifted columns first, then by their largest effect size."""
    columns = drift.features + ([drift.prediction] if drift.prediction else [])

    def rank(column: ColumnDrift) -> tuple[bool, float]:
        distance = column.statistic if column.test == "ks" else column.cramers_v
        return (column.verdict != "drift", -max(distance or 0.0, column.psi or 0.0))

    return sorted(columns, key=rank)


def _changed(column: ColumnDrift) -> bool:
    return column.verdict == "drift" or bool(column.new_categories) or column.missing_drift


def thresholds_line(thresholds: DriftThresholds) -> str:
    return (
        "Verdicts of the monitor (`monitor.thresholds` in params.yaml): a column drifts when its "
        f"Benjamini-Hochberg adjusted p-value is below alpha {thresholds.alpha:g} and an effect size passes "
        f"(KS ≥ {thresholds.ks_threshold:g}, Cramér's V ≥ {thresholds.cramers_v_threshold:g}, "
        f"PSI ≥ {thresholds.psi_threshold:g}, new categories ≥ {thresholds.new_category_share_threshold:g} "
        "of rows), or its missing rate moved significantly, by ≥ "
        f"{thresholds.missing_rate_threshold:g}; the data drifts when ≥ {thresholds.share_threshold:g} of "
        "the columns or a critical one (★) drift."
    )


INFORMS = "Informational, not a gate: this section never fails the check."


def versions_table(
    base_label: str, base: DataVersion, current: DataVersion, rows: tuple[int, int]
) -> list[str]:
    base_rows, current_rows = rows
    return [
        f"| | `{base_label}` | this PR |",
        "|---|---|---|",
        f"| data | `{base.path}` | `{current.path}` |",
        f"| md5 | `{base.md5}` | `{current.md5}` |",
        f"| rows | {base_rows} | {_row_change(base_rows, current_rows)} |",
    ]


def render_section(comparison: DataComparison, base_label: str) -> list[str]:
    """The section's markdown lines: what was compared, the verdict, the changed columns, then all of them."""
    drift = comparison.drift
    rows = (comparison.base_rows, comparison.current_rows)
    lines = [TITLE, "", *versions_table(base_label, comparison.base, comparison.current, rows), ""]
    lines += [
        f"{STATUS_LINES[drift.status]}: {drift.n_drifted} of {drift.n_evaluated} features drifted"
        + ("; the target's distribution drifted" if drift.prediction_drift else "")
        + ".",
        "",
    ]
    if comparison.only_in_base or comparison.only_in_current:
        gone = ", ".join(f"`{name}`" for name in comparison.only_in_base) or "none"
        added = ", ".join(f"`{name}`" for name in comparison.only_in_current) or "none"
        lines += [f"Columns only in the base: {gone}; only in this PR: {added}.", ""]
    ordered = _ordered(drift)
    changed = [column for column in ordered if _changed(column)]
    if changed:
        lines += [*COLUMN_HEADER, *(column_row(column, comparison.target) for column in changed), ""]
    lines += [
        f"<details><summary>All {len(ordered)} columns</summary>",
        "",
        *COLUMN_HEADER,
        *(column_row(column, comparison.target) for column in ordered),
        "",
        "</details>",
        "",
        thresholds_line(drift.thresholds),
        "",
        INFORMS,
    ]
    return lines


def unavailable_section(reason: str) -> list[str]:
    return [TITLE, "", f"Not computed: {reason}", "", INFORMS]


# --- reading both sides --------------------------------------------------------------------------------


def base_data_path(fs: DVCFileSystem, rev: str) -> str:
    """`data.path` of the base's params.yaml (read as YAML: the base may predate this PR's params)."""
    try:
        params = yaml.safe_load(fs.read_text("params.yaml"))
    except FileNotFoundError:
        raise DataComparisonError(f"`{rev}` has no params.yaml (a first PR?)") from None
    except yaml.YAMLError as error:
        raise DataComparisonError(f"the params.yaml of `{rev}` is not valid YAML ({error})") from None
    path = (params.get("data") or {}).get("path") if isinstance(params, dict) else None
    if not isinstance(path, str) or not path:
        raise DataComparisonError(f"the params.yaml of `{rev}` names no `data.path`")
    return path


def fetch_base_table(fs: DVCFileSystem, rev: str, path: str, folder: Path) -> Path:
    """The base's file copied into `folder`, from git, the DVC cache or the DVC remote."""
    local = folder / Path(path).name
    try:
        fs.get_file(path, str(local))
    except FileNotFoundError as error:
        raise DataComparisonError(
            f"`{path}` of `{rev}` is neither in the DVC cache nor on the DVC remote ({error}); "
            "`dvc push` on the base branch makes it available"
        ) from None
    # The remote's clients (S3, GCS, Azure, SSH) raise many types; to the report they all mean the same.
    except Exception as error:
        raise DataComparisonError(
            f"`{path}` of `{rev}` could not be read from the DVC remote: {type(error).__name__}: {error}"
        ) from None
    return local


def base_version(fs: DVCFileSystem, rev: str, path: str, folder: Path) -> tuple[DataVersion, Path | None]:
    """The base's version; its file is fetched now only when DVC records no hash (a file kept in git)."""
    try:
        recorded = fs.info(path).get("md5")
    except FileNotFoundError:
        raise DataComparisonError(
            f"`{path}` is not on `{rev}` (neither in git nor in its dvc.lock or a .dvc file): "
            "no base data to compare with"
        ) from None
    if recorded:
        return DataVersion(path, recorded), None
    local = fetch_base_table(fs, rev, path, folder)
    return DataVersion(path, file_md5(local)), local


def compare_with_base(rev: str, paths: Paths, params: Params, folder: Path) -> DataComparison | None:
    """The comparison with the base's training table; None when both are the same data (same hash)."""
    current_file = paths.root / params.data.path
    if not current_file.is_file():
        raise DataComparisonError(f"`{params.data.path}` (data.path) is not in this PR's workspace")
    current = DataVersion(params.data.path, file_md5(current_file))
    fs = DVCFileSystem(str(paths.root), rev=rev)
    base_path = base_data_path(fs, rev)
    base, local = base_version(fs, rev, base_path, folder)
    if base.md5 == current.md5:
        return None
    base_table = read_table(local or fetch_base_table(fs, rev, base_path, folder))
    schema = read_metadata(paths.metadata).feature_schema
    return compare_tables((base, current), base_table, read_table(current_file), schema, params.monitor)


def data_drift_section(rev: str, paths: Paths, params: Params) -> Sequence[str]:
    """The report's section: none when the data did not change, one line when the base cannot be compared."""
    try:
        with tempfile.TemporaryDirectory(prefix="base-data-") as folder:
            comparison = compare_with_base(rev, paths, params, Path(folder))
    except UserError as error:  # the base's data, the tables or the schema: one line, the report goes on
        return unavailable_section(str(error))
    return [] if comparison is None else render_section(comparison, rev)
