"""Marshmallow schemas that validate a scoring rules document and load it into Rules."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from scoring.defaults import DEFAULT_SCORING
from scoring.ruleset import ActivityRule, Cap, Criterion, CustomKind, Rules
from scoring.vocabulary import (
    ACTIVITY_KINDS,
    CAP_PERIODS,
    LIST_OPERATORS,
    OPERATORS,
    OPERATORS_BY_TYPE,
    PROFILE_FIELDS,
)

MAX_POINTS = 1000
MAX_CUSTOM_KINDS = 50
CUSTOM_KIND_PATTERN = r"^[a-z][a-z0-9_]{2,39}$"
MAX_LIST_ITEMS = 1000
_POINTS_RANGE = validate.Range(min=-MAX_POINTS, max=MAX_POINTS)
_BOUND_RANGE = validate.Range(min=-10_000, max=10_000)


class _Number(fields.Float):
    """A finite JSON number: no strings, no booleans."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class CapSchema(Schema):
    points = _Number(required=True, validate=validate.Range(min=0, max=100 * MAX_POINTS))
    period = fields.String(
        load_default="day", validate=validate.OneOf(CAP_PERIODS, error="Must be one of: day, week, month.")
    )

    @post_load
    def _to_cap(self, data: dict[str, Any], **kwargs: Any) -> Cap:
        return Cap(**data)


class ActivityRuleSchema(Schema):
    points = _Number(required=True, validate=_POINTS_RANGE)
    cap = fields.Nested(CapSchema, load_default=None, allow_none=True)
    first_only = fields.Boolean(load_default=False)


class _ActivitiesBase(Schema):
    error_messages = {"unknown": "Unknown activity kind."}

    @post_load
    def _to_rules(self, data: dict[str, Any], **kwargs: Any) -> tuple[ActivityRule, ...]:
        return tuple(ActivityRule(kind=kind, **rule) for kind, rule in data.items())


# One optional field per known kind, so an unknown kind is reported under its own name.
ActivitiesSchema = _ActivitiesBase.from_dict(
    {kind: fields.Nested(ActivityRuleSchema) for kind in ACTIVITY_KINDS}, name="ActivitiesSchema"
)


class CustomKindSchema(Schema):
    """A merchant's own activity kind: a key the API sends, a label people read, and its points."""

    key = fields.String(
        required=True,
        validate=validate.Regexp(
            CUSTOM_KIND_PATTERN,
            error="Must be 3 to 40 lower-case letters, digits or underscores, starting with a letter.",
        ),
    )
    label = fields.String(required=True, validate=validate.Length(min=1, max=80))
    points = _Number(required=True, validate=_POINTS_RANGE)
    cap = fields.Nested(CapSchema, load_default=None, allow_none=True)
    first_only = fields.Boolean(load_default=False)

    @pre_load
    def _strip(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("label"), str):
            return {**data, "label": data["label"].strip()}
        return data

    @validates_schema(skip_on_field_errors=True)
    def _check_key(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["key"] in ACTIVITY_KINDS:
            raise ValidationError("Is a built-in activity kind: pick another key.", "key")


def _unique_keys(kinds: list[Any]) -> None:
    keys = [kind["key"] for kind in kinds if isinstance(kind, Mapping)]
    if len(set(keys)) != len(keys):
        raise ValidationError("Each custom activity kind needs its own key.")


def value_problem(field_type: str, operator: str, value: object) -> str | None:
    """Why `value` does not suit `operator` on a field of this type, or None when it does."""
    if operator in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            return f"Must be a non-empty list for operator '{operator}'."
        if len(value) > MAX_LIST_ITEMS:
            return f"Must have at most {MAX_LIST_ITEMS} items."
        problems = (_scalar_problem(field_type, item) for item in value)
        return next((f"Every item: {problem}" for problem in problems if problem), None)
    return _scalar_problem(field_type, value)


def _scalar_problem(field_type: str, value: object) -> str | None:
    if field_type == "boolean" and not isinstance(value, bool):
        return "Must be true or false."
    if field_type == "string" and not (isinstance(value, str) and 0 < len(value) <= 200):
        return "Must be a non-empty string of at most 200 characters."
    if field_type == "number" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        return "Must be a number."
    return None


class CriterionSchema(Schema):
    field = fields.String(
        required=True, validate=validate.OneOf(PROFILE_FIELDS, error="Unknown profile field.")
    )
    operator = fields.String(required=True, validate=validate.OneOf(OPERATORS, error="Unknown operator."))
    value = fields.Raw(required=True)
    points = _Number(required=True, validate=_POINTS_RANGE)
    label = fields.String(load_default="", validate=validate.Length(max=80))

    @validates_schema(skip_on_field_errors=False)
    def _check_value(self, data: dict[str, Any], **kwargs: Any) -> None:
        field, operator = data.get("field", ""), data.get("operator", "")
        if field not in PROFILE_FIELDS or operator not in OPERATORS or "value" not in data:
            return  # already reported by the field validators
        field_type = PROFILE_FIELDS[field]
        if operator not in OPERATORS_BY_TYPE[field_type]:
            raise ValidationError(f"Does not apply to field '{field}'.", "operator")
        problem = value_problem(field_type, operator, data.get("value"))
        if problem:
            raise ValidationError(problem, "value")

    @post_load
    def _to_criterion(self, data: dict[str, Any], **kwargs: Any) -> Criterion:
        value = data["value"]
        value = tuple(map(_plain, value)) if isinstance(value, list) else _plain(value)
        return Criterion(data["field"], data["operator"], value, data["points"], data["label"])


def _plain(value: Any) -> Any:
    """Numbers as floats, so that 3 and 3.0 load to equal rules."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class DecaySchema(Schema):
    half_life_days = _Number(
        load_default=DEFAULT_SCORING["decay"]["half_life_days"], validate=validate.Range(min=0, max=3650)
    )


class TiersSchema(Schema):
    warm = fields.Integer(strict=True, load_default=DEFAULT_SCORING["tiers"]["warm"])
    hot = fields.Integer(strict=True, load_default=DEFAULT_SCORING["tiers"]["hot"])

    @validates_schema(skip_on_field_errors=False)
    def _check_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        warm, hot = data.get("warm"), data.get("hot")
        if warm is not None and hot is not None and warm >= hot:
            raise ValidationError("Must be greater than warm.", "hot")


class ScoringRulesSchema(Schema):
    """The whole scoring document; a top-level section left out takes its default."""

    activities = fields.Nested(ActivitiesSchema, required=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=validate.Length(max=100))
    decay = fields.Nested(DecaySchema, required=True)
    tiers = fields.Nested(TiersSchema, required=True)
    minimum = fields.Integer(strict=True, required=True, validate=_BOUND_RANGE)
    maximum = fields.Integer(strict=True, required=True, validate=_BOUND_RANGE)
    custom_kinds = fields.List(
        fields.Nested(CustomKindSchema),
        load_default=list,
        validate=[validate.Length(max=MAX_CUSTOM_KINDS), _unique_keys],
    )

    @pre_load
    def _fill_sections(self, data: Any, **kwargs: Any) -> Any:
        return {**DEFAULT_SCORING, **data} if isinstance(data, Mapping) else data

    @validates_schema(skip_on_field_errors=False)
    def _check_bounds(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("minimum"), data.get("maximum")
        hot = (data.get("tiers") or {}).get("hot")
        errors: dict[str, Any] = {}
        if low is not None and high is not None and low >= high:
            errors["maximum"] = ["Must be greater than minimum."]
        if high is not None and hot is not None and hot > high:
            errors["tiers"] = {"hot": ["Must be at most maximum."]}
        if errors:
            raise ValidationError(errors)

    @post_load
    def _to_rules(self, data: dict[str, Any], **kwargs: Any) -> Rules:
        custom = data["custom_kinds"]
        own = tuple(
            ActivityRule(kind["key"], kind["points"], kind["cap"], kind["first_only"]) for kind in custom
        )
        return Rules(
            activities=data["activities"] + own,
            custom_kinds=tuple(CustomKind(kind["key"], kind["label"]) for kind in custom),
            criteria=tuple(data["criteria"]),
            half_life_days=data["decay"]["half_life_days"],
            warm=data["tiers"]["warm"],
            hot=data["tiers"]["hot"],
            minimum=data["minimum"],
            maximum=data["maximum"],
        )
