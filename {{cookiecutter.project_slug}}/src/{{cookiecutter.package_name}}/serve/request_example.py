"""A /predict request body made of real rows: for smoke tests of the image, benchmarks and the README.

`python -m <package>.serve.request_example [--table data/processed/test.parquet] [--rows 1] [--out FILE]`
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Paths
from ..contracts import FeatureSchema, read_metadata


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def request_body(table: pd.DataFrame, schema: FeatureSchema, rows: int = 1) -> dict[str, Any]:
    """The first `rows` rows of `table` as {"rows": [{feature: value}]}, features as in the schema."""
    names = schema.names()
    records = table[names].head(rows).astype(object).to_dict(orient="records")
    return {"rows": [{name: _json_value(record[name]) for name in names} for record in records]}


def main(argv: Sequence[str] | None = None) -> None:
    paths = Paths()
    parser = argparse.ArgumentParser(prog="request_example", description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=paths.test, help="default: %(default)s")
    parser.add_argument("--metadata", type=Path, default=paths.metadata, help="default: %(default)s")
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--out", type=Path, help="default: standard output")
    args = parser.parse_args(argv)
    schema = read_metadata(args.metadata).feature_schema
    table = pd.read_parquet(args.table) if args.table.suffix == ".parquet" else pd.read_csv(args.table)
    body = json.dumps(request_body(table, schema, args.rows))
    if args.out:
        args.out.write_text(body + "\n", encoding="utf-8")
    else:
        print(body)
