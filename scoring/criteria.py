"""Profile criteria compiled once into predicates over a Profile.

A criterion never matches a profile whose field is unknown (None), whatever the
operator: an unknown country is neither "in our markets" nor "not in" them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from scoring.model import Profile
from scoring.vocabulary import PROFILE_FIELDS

Predicate = Callable[[Profile], bool]
CriterionValue = str | float | bool | tuple[str, ...] | tuple[float, ...]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def email_domain(email: str | None) -> str | None:
    """The lower-case domain of an email address, or None when there is none."""
    if not email or "@" not in email:
        return None
    return email.rpartition("@")[2].strip().casefold() or None


def _getter(field: str) -> Callable[[Profile], object]:
    if field == "email_domain":
        return lambda profile: email_domain(profile.email)
    if PROFILE_FIELDS[field] == "string":
        attribute = operator.attrgetter(field)
        return lambda profile: _fold(attribute(profile))
    return operator.attrgetter(field)


def _fold(value: object) -> object:
    return value.strip().casefold() if isinstance(value, str) else value


def compile_criterion(field: str, op: str, value: CriterionValue) -> Predicate:
    """A predicate telling whether a profile matches `field op value` (validated input)."""
    if field == "segment":
        return _segment_predicate(op, value)
    get = _getter(field)
    if op in ("in", "not_in"):
        assert isinstance(value, tuple)
        members = frozenset(_fold(item) for item in value)
        wanted = op == "in"

        def match_member(profile: Profile) -> bool:
            actual = get(profile)
            return actual is not None and (actual in members) == wanted

        return match_member
    compare = _COMPARE[op]
    expected = _fold(value)

    def match_value(profile: Profile) -> bool:
        actual = get(profile)
        return actual is not None and compare(actual, expected)

    return match_value


def _segment_predicate(op: str, value: CriterionValue) -> Predicate:
    """`segment eq shirts`: the lead belongs to that segment (memberships come with the profile)."""
    keys = frozenset(_fold(item) for item in value) if isinstance(value, tuple) else frozenset({_fold(value)})
    wanted = op in ("eq", "in")
    return lambda profile: bool(keys & profile.segments) == wanted
