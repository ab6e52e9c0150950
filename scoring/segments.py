"""Segments: named, saved filters over leads, in the language of the profile criteria plus behaviour.

A segment is ``{"key": "shirt-fans", "name": "Shirt fans", "match": "all" | "any", "conditions": [...]}``;
a condition is ``{"field": ..., "operator": ..., "value": ...}`` like a scoring criterion (no points), and a
product condition adds what it names and how recent it must be::

    {"field": "viewed", "operator": "in", "value": ["shirts"], "of": "collection", "within_days": 30}

The rules of evaluation, shared with the SQL that bridge.leads.segments compiles from the same conditions:
an unknown field (None, or an empty string) matches no operator; text is compared after trimming spaces and
lower-casing A-Z only (what SQLite's lower() does, so both databases and this module agree); product
collections and tags are matched as stored (the product store keeps them lower-cased); `last_activity_days`
compares the age of the last activity in days; `viewed`/`added`/`bought` with `in` need one such product
touched within `within_days` (any time when None), with `not_in` none.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from scoring.model import ProductTouch, Profile
from scoring.vocabulary import TIERS

SOURCE_KEYS = ("utm_source", "utm_medium", "utm_campaign", "referrer", "landing_page")
PRODUCT_FIELDS = ("viewed", "added", "bought")
PRODUCT_SCOPES = ("product", "collection", "tag")
# Field -> type. "days": the age of the last activity; "product": one of PRODUCT_FIELDS.
SEGMENT_FIELDS: Mapping[str, str] = {
    "email_domain": "string",
    "country": "string",
    "source": "string",  # utm_source, else the referrer (as scoring's profile has it)
    "accepts_marketing": "boolean",
    "unsubscribed": "boolean",
    "is_customer": "boolean",
    "orders_count": "number",
    "total_spent": "number",
    "score": "number",
    "tier": "tier",
    "locale": "string",
    "last_activity_days": "days",
    **dict.fromkeys(SOURCE_KEYS, "string"),
    **dict.fromkeys(PRODUCT_FIELDS, "product"),
}
OPERATORS_BY_TYPE: Mapping[str, tuple[str, ...]] = {
    "string": ("eq", "ne", "in", "not_in", "contains"),
    "tier": ("eq", "ne", "in", "not_in"),
    "boolean": ("eq", "ne"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte"),
    "days": ("gt", "gte", "lt", "lte"),
    "product": ("in", "not_in"),
}
ALL_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS_BY_TYPE.values() for op in ops))
MAX_SEGMENTS = 50
MAX_CONDITIONS = 30
MAX_VALUES = 200
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}\Z"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

Value = str | float | bool | tuple[str, ...]


def fold(text: str | None) -> str | None:
    """Text as conditions compare it: spaces trimmed, A-Z lower-cased; empty is unknown (None)."""
    if text is None:
        return None
    return text.strip(" ").translate(_ASCII_LOWER) or None


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: str
    value: Value  # folded text, a float, a bool, or a tuple of folded texts
    of: str = "product"  # product conditions: what `value` names
    within_days: int | None = None  # product conditions: how recent (None: any time)


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    name: str
    match: str  # "all" | "any"
    conditions: tuple[Condition, ...]

    @property
    def uses_score(self) -> bool:
        """Whether it tests the score or the tier (which scoring criteria must not depend on)."""
        return any(condition.field in ("score", "tier") for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What a segment can test about one lead: the scoring profile (with its products) and the rest."""

    profile: Profile
    tier: str = "cold"
    score: int = 0
    locale: str | None = None
    unsubscribed: bool = False
    last_activity_at: datetime | None = None
    source: Mapping[str, Any] = field(default_factory=dict)


class ConditionSchema(Schema):
    field = fields.String(required=True, validate=validate.OneOf(SEGMENT_FIELDS, error="Unknown field."))
    operator = fields.String(required=True, validate=validate.OneOf(ALL_OPERATORS, error="Unknown operator."))
    value = fields.Raw(required=True)
    of = fields.String(
        load_default="product",
        validate=validate.OneOf(PRODUCT_SCOPES, error="Must be one of: product, collection, tag."),
    )
    within_days = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, 3650)
    )

    @validates_schema(skip_on_field_errors=True)
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = SEGMENT_FIELDS[data["field"]]
        if data["operator"] not in OPERATORS_BY_TYPE[kind]:
            allowed = ", ".join(OPERATORS_BY_TYPE[kind])
            raise ValidationError(f"Does not apply to field '{data['field']}' (use {allowed}).", "operator")
        if kind != "product" and (data["within_days"] is not None or data["of"] != "product"):
            raise ValidationError("Only for viewed, added and bought.", "within_days")
        problem = _value_problem(kind, data["operator"], data["value"])
        if problem:
            raise ValidationError(problem, "value")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Condition:
        kind, value = SEGMENT_FIELDS[data["field"]], data["value"]
        if kind in ("string", "tier", "product"):
            items = value if isinstance(value, list) else [value]
            folded = tuple(dict.fromkeys(_fold_value(kind, data["of"], item) for item in items))
            value = folded if isinstance(value, list) or kind == "product" else folded[0]
        elif kind in ("number", "days"):
            value = float(value)
        return Condition(data["field"], data["operator"], value, data["of"], data["within_days"])


def _fold_value(kind: str, scope: str, item: str) -> str:
    if kind == "product" and scope == "product":
        return item.strip()  # a store's product id, compared as it is
    return fold(item) or item


def _value_problem(kind: str, op: str, value: object) -> str | None:
    if op in ("in", "not_in"):
        if kind == "product" and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            return f"Must be a non-empty list for operator '{op}'."
        if len(value) > MAX_VALUES:
            return f"Must have at most {MAX_VALUES} items."
        return next((f"Every item: {p}" for p in map(lambda v: _scalar_problem(kind, v), value) if p), None)
    return _scalar_problem(kind, value)


def _scalar_problem(kind: str, value: object) -> str | None:
    if kind == "boolean":
        return None if isinstance(value, bool) else "Must be true or false."
    if kind in ("number", "days"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "Must be a number."
        return "Must be 0 or more." if kind == "days" and value < 0 else None
    if kind == "tier":
        return None if value in TIERS else f"Must be one of: {', '.join(TIERS)}."
    if not (isinstance(value, str) and fold(value) and len(value) <= 200):
        return "Must be a non-empty string of at most 200 characters."
    return None


class SegmentSchema(Schema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(KEY_PATTERN, error="Use 1 to 40 lower-case letters, digits, '-' or '_'."),
    )
    name = fields.String(load_default="", validate=validate.Length(max=100))
    match = fields.String(
        load_default="all", validate=validate.OneOf(("all", "any"), error="Must be 'all' or 'any'.")
    )
    conditions = fields.List(
        fields.Nested(ConditionSchema), required=True, validate=validate.Length(1, MAX_CONDITIONS)
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Segment:
        return Segment(data["key"], data["name"], data["match"], tuple(data["conditions"]))


def load_segment(document: Any) -> Segment:
    """Validate one segment; raises ValidationError with messages per field."""
    if not isinstance(document, Mapping):
        raise ValidationError({"_schema": ["Must be a JSON object."]})
    segment: Segment = SegmentSchema().load(document)
    return segment


def load_segments(document: Any) -> tuple[Segment, ...]:
    """Validate the rules document's `segments` list (keys unique); messages per index and field."""
    if not isinstance(document, list):
        raise ValidationError(["Must be a list of segments."])
    if len(document) > MAX_SEGMENTS:
        raise ValidationError([f"At most {MAX_SEGMENTS} segments."])
    loaded: list[Segment] = SegmentSchema(many=True).load(document)
    keys = [segment.key for segment in loaded]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise ValidationError({index: {"key": [f"{key!r} is used twice."]}})
    return tuple(loaded)


def dump_segment(segment: Segment) -> dict[str, Any]:
    """The JSON of one segment (the inverse of load_segment)."""
    return {
        "key": segment.key,
        "name": segment.name,
        "match": segment.match,
        "conditions": [_dump_condition(condition) for condition in segment.conditions],
    }


def dump_segments(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    return [dump_segment(segment) for segment in segments]


def _dump_condition(condition: Condition) -> dict[str, Any]:
    value: Any = condition.value
    if isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    doc: dict[str, Any] = {"field": condition.field, "operator": condition.operator, "value": value}
    if SEGMENT_FIELDS[condition.field] == "product":
        doc.update(of=condition.of, within_days=condition.within_days)
    return doc


# --- evaluation -------------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# The age of the last activity, compared through its date: more than N days old is before now - N days.
_DAYS_AS_TIME = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}


def matches(segment: Segment, facts: LeadFacts, now: datetime) -> bool:
    """Whether a lead belongs to a segment at `now`."""
    results = (condition_matches(condition, facts, now) for condition in segment.conditions)
    return all(results) if segment.match == "all" else any(results)


def memberships(segments: Sequence[Segment], facts: LeadFacts, now: datetime) -> frozenset[str]:
    """The keys of the segments a lead belongs to."""
    return frozenset(segment.key for segment in segments if matches(segment, facts, now))


def condition_matches(condition: Condition, facts: LeadFacts, now: datetime) -> bool:
    """Whether one condition holds for a lead (an unknown value never does)."""
    kind = SEGMENT_FIELDS[condition.field]
    if kind == "product":
        return _product_matches(condition, facts.profile.products, now)
    actual = field_value(condition.field, facts)
    if actual is None:
        return False
    op, value = condition.operator, condition.value
    if kind == "days":
        assert isinstance(actual, datetime) and isinstance(value, float)
        return _COMPARE[_DAYS_AS_TIME[op]](actual, now - timedelta(days=value))
    if op in ("in", "not_in"):
        assert isinstance(value, tuple)
        return (actual in value) == (op == "in")
    if op == "contains":
        return isinstance(actual, str) and isinstance(value, str) and value in actual
    return _COMPARE[op](actual, value)


def field_value(name: str, facts: LeadFacts) -> object:
    """The value a condition on `name` compares (folded text, a number, a bool, a time), or None."""
    profile = facts.profile
    source = facts.source or {}
    direct: dict[str, Callable[[], object]] = {
        "email_domain": lambda: fold(_domain(profile.email)),
        "country": lambda: fold(profile.country),
        "source": lambda: fold(_text(source.get("utm_source"))) or fold(_text(source.get("referrer"))),
        "accepts_marketing": lambda: profile.accepts_marketing,
        "unsubscribed": lambda: facts.unsubscribed,
        "is_customer": lambda: profile.is_customer,
        "orders_count": lambda: float(profile.orders_count),
        "total_spent": lambda: float(profile.total_spent),
        "score": lambda: float(facts.score),
        "tier": lambda: facts.tier,
        "locale": lambda: fold(facts.locale),
        "last_activity_days": lambda: facts.last_activity_at,
    }
    if name in direct:
        return direct[name]()
    return fold(_text(source.get(name)))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.partition("@")[2]


def _product_matches(condition: Condition, products: Sequence[ProductTouch], now: datetime) -> bool:
    wanted = condition.value
    assert isinstance(wanted, tuple)
    since = None if condition.within_days is None else now - timedelta(days=condition.within_days)
    action = {"viewed": "viewed", "added": "added", "bought": "bought"}[condition.field]
    found = any(
        touch.action == action
        and (since is None or touch.last_at >= since)
        and _names(touch, condition.of, wanted)
        for touch in products
    )
    return found == (condition.operator == "in")


def _names(touch: ProductTouch, scope: str, wanted: tuple[str, ...]) -> bool:
    if scope == "product":
        return touch.product_id in wanted
    members = touch.collections if scope == "collection" else touch.tags
    return any(member in wanted for member in members)
