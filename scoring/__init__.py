"""Pure lead scoring: validated rules, the engine, tiers and what-if comparisons."""

from scoring.decay import next_tier_change
from scoring.engine import score, tier_for
from scoring.model import ActivityRecord, BreakdownLine, ProductTouch, Profile, Score
from scoring.rules import (
    DEFAULT_SCORING,
    OPERATORS,
    PROFILE_FIELDS,
    ActivityRule,
    Cap,
    Criterion,
    Rules,
    ScoringRulesSchema,
    default_rules,
    dump_rules,
    load_rules,
)
from scoring.simulate import compare
from scoring.vocabulary import ACTIVITY_KINDS, KIND_LABELS, TIER_WORDS, TIERS, tier_label

__all__ = [
    "ACTIVITY_KINDS",
    "DEFAULT_SCORING",
    "KIND_LABELS",
    "OPERATORS",
    "PROFILE_FIELDS",
    "TIERS",
    "TIER_WORDS",
    "ActivityRecord",
    "ActivityRule",
    "BreakdownLine",
    "Cap",
    "Criterion",
    "ProductTouch",
    "Profile",
    "Rules",
    "Score",
    "ScoringRulesSchema",
    "compare",
    "default_rules",
    "dump_rules",
    "load_rules",
    "next_tier_change",
    "score",
    "tier_for",
    "tier_label",
]
