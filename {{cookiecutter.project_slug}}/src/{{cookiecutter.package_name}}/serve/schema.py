"""Pydantic request/response models built at run time from the bundle's feature schema.

The `type: ignore` comments are for static checkers only: types made at run time (Literal of the
categories seen in training, create_model) cannot be expressed statically.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..contracts import FeatureSchema, FeatureSpec

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _field_type(f: FeatureSpec, unknown_category: str) -> Any:
    if f.kind == "numeric":
        t: Any = FiniteFloat
    elif f.categories and unknown_category == "error":
        t = Literal[tuple(f.categories)]  # type: ignore[valid-type]
    elif f.categories and all(isinstance(c, bool) for c in f.categories):
        t = Annotated[bool, Field(strict=True)]
    elif f.categories and all(isinstance(c, int) and not isinstance(c, bool) for c in f.categories):
        t = Annotated[int, Field(strict=True)]
    else:
        t = Annotated[str, Field(strict=True)]
    return t


def _description(f: FeatureSpec, nullable: bool, unknown_category: str) -> str:
    d = f"{f.kind} feature (training dtype {f.dtype})"
    if f.kind == "categorical" and f.categories:
        d += f"; categories seen in training: {list(f.categories)}"
        if unknown_category == "ignore":
            d += " (other values accepted, encoded as unknown)"
    d += "; null allowed" if nullable else "; required, not null"
    return d


def build_row_model(
    schema: FeatureSchema, *, unknown_category: str = "error", allow_missing: bool = True
) -> type[BaseModel]:
    """One required field per feature; the JSON key is the exact column name (alias).

    Python attribute names are f0, f1, ... in schema order, so ``row.__dict__.values()`` gives
    the values in schema order without per-field lookups.
    """
    fields: dict[str, Any] = {}
    for i, f in enumerate(schema.features):
        nullable = bool(f.nullable and allow_missing)
        t = _field_type(f, unknown_category)
        if nullable:
            t = t | None
        ex = None
        if f.kind == "categorical" and f.categories:
            ex = f.categories[0]
        elif f.kind == "numeric":
            ex = 0.0
        fields[f"f{i}"] = (
            t,
            Field(..., alias=f.name, description=_description(f, nullable, unknown_category), examples=[ex]),
        )
    return create_model(  # type: ignore[call-overload]
        "FeatureRow",
        __config__=ConfigDict(extra="forbid", populate_by_name=False, title="FeatureRow"),
        **fields,
    )


def build_request_model(row_model: type[BaseModel], max_rows: int) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload]
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        rows=(
            list[row_model],  # type: ignore[valid-type]
            Field(
                ...,
                min_length=1,
                max_length=max_rows,
                description=f"Rows to score (1..{max_rows}); a single prediction is a list of one row",
            ),
        ),
    )


def build_response_model(schema: FeatureSchema) -> type[BaseModel]:
    if schema.problem_type == "classification":
        classes = list(schema.classes or ())
        pred_t: Any = Literal[tuple(classes)] if classes else Any  # type: ignore[valid-type]
        prob_t: Any = list[dict[str, float]] | None
        prob_desc = f"Per row: probability for each class, keyed by str(class); classes {classes}"
    else:
        pred_t = float
        prob_t = list[dict[str, float]] | None
        prob_desc = "null for regression"
    return create_model(  # type: ignore[call-overload]
        "PredictResponse",
        request_id=(
            str,
            Field(description="uuid4 hex; also in the X-Request-ID header and the prediction log"),
        ),
        model_version=(str, Field(description="metadata.json model_version")),
        predictions=(list[pred_t], Field(description="One prediction per input row, same order")),
        probabilities=(prob_t, Field(description=prob_desc)),
    )


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: str = Field(
        description="Human-readable summary naming the fields, e.g. rows[0]['mean radius']: ..."
    )
    detail: list[ValidationErrorItem]
