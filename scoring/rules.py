"""Load, validate and dump the scoring rules document.

Document format (what `PUT /api/v1/rules` receives under "scoring")::

    {"activities": {"<kind>": {"points": 15, "cap": {"points": 10, "period": "day"},
                               "first_only": false}, ...},
     "criteria": [{"field": "country", "operator": "in", "value": ["FR", "BE"],
                   "points": 10, "label": "In our markets"}, ...],
     "decay": {"half_life_days": 30},
     "tiers": {"warm": 40, "hot": 80},
     "minimum": 0, "maximum": 100,
     "custom_kinds": [{"key": "webinar_attended", "label": "Attended a webinar", "points": 15}]}

"custom_kinds" (optional, at most 50) are the merchant's own activity kinds: a key (not a built-in kind),
a label, and points (with an optional cap and first_only, as in "activities"); the activities API accepts
their keys. An activity kind left out of "activities" scores nothing; a top-level section left out,
or a key left out of "decay" or "tiers", takes its default (DEFAULT_SCORING).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from scoring.defaults import DEFAULT_SCORING, DISPOSABLE_EMAIL_DOMAINS
from scoring.ruleset import ActivityRule, Cap, Criterion, CustomKind, Rules
from scoring.schema import ScoringRulesSchema, value_problem
from scoring.vocabulary import CAP_PERIODS, OPERATORS, PROFILE_FIELDS

__all__ = [
    "CAP_PERIODS",
    "DEFAULT_SCORING",
    "DISPOSABLE_EMAIL_DOMAINS",
    "OPERATORS",
    "PROFILE_FIELDS",
    "ActivityRule",
    "Cap",
    "Criterion",
    "CustomKind",
    "Rules",
    "ScoringRulesSchema",
    "default_rules",
    "dump_rules",
    "load_rules",
    "value_problem",
]


def load_rules(doc: Mapping[str, Any]) -> Rules:
    """Validate a rules document; raises marshmallow.ValidationError with messages per field."""
    rules: Rules = ScoringRulesSchema().load(doc)
    return rules


@cache
def default_rules() -> Rules:
    """The default ruleset (DESIGN §6)."""
    return load_rules(DEFAULT_SCORING)


def dump_rules(rules: Rules) -> dict[str, Any]:
    """The JSON document of a ruleset; `load_rules(dump_rules(r)) == r`."""
    own = rules.labels
    doc: dict[str, Any] = {
        "activities": {rule.kind: _dump_activity(rule) for rule in rules.activities if rule.kind not in own},
        "criteria": [_dump_criterion(criterion) for criterion in rules.criteria],
        "decay": {"half_life_days": _number(rules.half_life_days)},
        "tiers": {"warm": rules.warm, "hot": rules.hot},
        "minimum": rules.minimum,
        "maximum": rules.maximum,
    }
    if rules.custom_kinds:  # left out when empty: documents saved before custom kinds stay the same
        doc["custom_kinds"] = [
            {"key": kind.key, "label": kind.label, **_dump_activity(rule)}
            for kind in rules.custom_kinds
            if (rule := rules.by_kind.get(kind.key)) is not None
        ]
    return doc


def _dump_activity(rule: ActivityRule) -> dict[str, Any]:
    doc: dict[str, Any] = {"points": _number(rule.points)}
    if rule.cap is not None:
        doc["cap"] = {"points": _number(rule.cap.points), "period": rule.cap.period}
    if rule.first_only:
        doc["first_only"] = True
    return doc


def _dump_criterion(criterion: Criterion) -> dict[str, Any]:
    value = criterion.value
    doc: dict[str, Any] = {
        "field": criterion.field,
        "operator": criterion.operator,
        "value": [_number(item) for item in value] if isinstance(value, tuple) else _number(value),
        "points": _number(criterion.points),
    }
    if criterion.label:
        doc["label"] = criterion.label
    return doc


def _number(value: Any) -> Any:
    """Whole floats as ints, for a tidy document; other values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
