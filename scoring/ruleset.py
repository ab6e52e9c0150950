"""The scoring rules as frozen values, with the lookups the engine needs compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scoring.criteria import CriterionValue, Predicate, compile_criterion
from scoring.vocabulary import ACTIVITY_KINDS, KIND_LABELS

_DAY = 86_400.0
_KIND_ORDER = {kind: index for index, kind in enumerate(ACTIVITY_KINDS)}


@dataclass(frozen=True, slots=True)
class Cap:
    """At most `points` (in absolute value, before decay) per UTC day, ISO week or month."""

    points: float
    period: str = "day"  # "day" | "week" | "month"


@dataclass(frozen=True, slots=True)
class ActivityRule:
    """Points for each activity of one kind; `first_only` counts only the earliest one."""

    kind: str
    points: float
    cap: Cap | None = None
    first_only: bool = False


@dataclass(frozen=True, slots=True)
class CustomKind:
    """An activity kind the merchant defined (a webinar attended, a demo booked): its key and label; its
    points are an ActivityRule of the same key in `Rules.activities`."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """Fixed points when the profile matches `field operator value` (never decayed)."""

    field: str
    operator: str
    value: CriterionValue
    points: float
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))

    def describe(self) -> str:
        """The label, or a readable description of the condition when there is none."""
        if self.label:
            return self.label
        shown = ", ".join(map(str, self.value)) if isinstance(self.value, tuple) else str(self.value)
        return f"{self.field.replace('_', ' ')} {self.operator.replace('_', ' ')} {shown}"


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    """A criterion ready for the engine: breakdown id, label, points and predicate."""

    rule: str
    label: str
    points: float
    matches: Predicate


@dataclass(frozen=True, slots=True)
class Rules:
    """A whole scoring ruleset; build it with `load_rules` so it is validated."""

    activities: tuple[ActivityRule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    half_life_days: float = 30.0  # 0: no decay
    warm: int = 40
    hot: int = 80
    minimum: int = 0
    maximum: int = 100
    custom_kinds: tuple[CustomKind, ...] = ()
    # Lookups compiled once per ruleset, so scoring a lead does no set-up work.
    by_kind: dict[str, ActivityRule] = field(init=False, repr=False, compare=False)
    half_life_seconds: float = field(init=False, repr=False, compare=False)
    compiled_criteria: tuple[CompiledCriterion, ...] = field(init=False, repr=False, compare=False)
    labels: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.activities, key=lambda rule: _KIND_ORDER.get(rule.kind, 99)))
        object.__setattr__(self, "activities", ordered)
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "by_kind", {rule.kind: rule for rule in ordered})
        object.__setattr__(self, "half_life_seconds", self.half_life_days * _DAY)
        object.__setattr__(self, "compiled_criteria", _compile_criteria(self.criteria))
        object.__setattr__(self, "custom_kinds", tuple(self.custom_kinds))
        object.__setattr__(self, "labels", {kind.key: kind.label for kind in self.custom_kinds})

    def __reduce__(self) -> tuple[type[Rules], tuple[object, ...]]:
        # Pickle the rules only: the compiled lookups hold closures, and are rebuilt on load.
        values = (self.activities, self.criteria, self.half_life_days, self.warm, self.hot, self.minimum)
        return (Rules, (*values, self.maximum, self.custom_kinds))

    def activity_rule(self, kind: str) -> ActivityRule | None:
        """The rule for an activity kind, or None when that kind scores nothing."""
        return self.by_kind.get(kind)

    def kinds(self) -> tuple[str, ...]:
        """Every activity kind these rules know: the built-in ones, then the merchant's own."""
        return (*ACTIVITY_KINDS, *(kind.key for kind in self.custom_kinds))

    def kind_label(self, kind: str) -> str:
        """Human text for an activity kind: the merchant's label for their own kinds."""
        return self.labels.get(kind) or activity_label(kind)


def activity_label(kind: str) -> str:
    """Human text for an activity kind."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def _compile_criteria(criteria: tuple[Criterion, ...]) -> tuple[CompiledCriterion, ...]:
    compiled: list[CompiledCriterion] = []
    seen: set[str] = set()
    for criterion in criteria:
        base = "profile:" + _slug(criterion.label or f"{criterion.field}_{criterion.operator}")
        rule, number = base, 1
        while rule in seen:  # two criteria with the same name still get distinct ids
            number += 1
            rule = f"{base}_{number}"
        seen.add(rule)
        predicate = compile_criterion(criterion.field, criterion.operator, criterion.value)
        compiled.append(CompiledCriterion(rule, criterion.describe(), criterion.points, predicate))
    return tuple(compiled)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_") or "criterion"
