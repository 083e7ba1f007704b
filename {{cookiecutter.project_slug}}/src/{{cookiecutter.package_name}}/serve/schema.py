"""Pydantic request/response models built at run time from the bundle's feature schema.

The `type: ignore` comments are for static checkers only: types made at run time (Literal of the
categories seen in training, create_model) cannot be expressed statically.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..contracts import FeatureSchema, FeatureSpec
from .columns import ColumnRule, UnknownCategory

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _field_type(rule: ColumnRule) -> Any:
    """The pydantic type of one feature's field, from its column rule (columns.py)."""
    if rule.numeric:
        return FiniteFloat
    if rule.categories is not None:
        return Literal[rule.categories]  # type: ignore[valid-type]  # built at run time from the schema
    return Annotated[rule.value_type, Field(strict=True)]


def _description(feature: FeatureSpec, nullable: bool, unknown_category: str) -> str:
    text = f"{feature.kind} feature (training dtype {feature.dtype})"
    if feature.kind == "categorical" and feature.categories:
        text += f"; categories seen in training: {list(feature.categories)}"
        if unknown_category == "ignore":
            text += " (other values accepted, encoded as unknown)"
    text += "; null allowed" if nullable else "; required, not null"
    return text


def build_row_model(
    schema: FeatureSchema, *, unknown_category: UnknownCategory = "error", allow_missing: bool = True
) -> type[BaseModel]:
    """One required field per feature, typed by its column rule; the JSON key is the column name (alias).

    Python attribute names are f0, f1, ... in schema order, so ``row.__dict__.values()`` gives
    the values in schema order without per-field lookups.
    """
    fields: dict[str, Any] = {}
    for index, feature in enumerate(schema.features):
        rule = ColumnRule.of(feature, unknown_category=unknown_category, allow_missing=allow_missing)
        nullable = rule.nullable
        field_type = _field_type(rule)
        if nullable:
            field_type = field_type | None
        example = None
        if feature.kind == "categorical" and feature.categories:
            example = feature.categories[0]
        elif feature.kind == "numeric":
            example = 0.0
        description = _description(feature, nullable, unknown_category)
        fields[f"f{index}"] = (
            field_type,
            Field(..., alias=feature.name, description=description, examples=[example]),
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
        # A Literal built at run time from the schema's classes: valid for pydantic, unknown to type checkers.
        prediction_type: Any = Literal[tuple(classes)] if classes else Any  # type: ignore[valid-type]
        probabilities_type: Any = list[dict[str, float]] | None
        probabilities_description = (
            f"Per row: probability for each class, keyed by str(class); classes {classes}"
        )
    else:
        prediction_type = float
        probabilities_type = list[dict[str, float]] | None
        probabilities_description = "null for regression"
    return create_model(  # type: ignore[call-overload]
        "PredictResponse",
        request_id=(
            str,
            Field(description="uuid4 hex; also in the X-Request-ID header and the prediction log"),
        ),
        model_version=(str, Field(description="metadata.json model_version")),
        predictions=(list[prediction_type], Field(description="One prediction per input row, same order")),
        probabilities=(probabilities_type, Field(description=probabilities_description)),
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
