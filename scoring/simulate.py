"""What-if arithmetic: how a candidate ruleset would move leads between tiers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from scoring.model import Score
from scoring.vocabulary import TIERS

_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


def compare(before: Sequence[Score], after: Sequence[Score]) -> dict[str, Any]:
    """Tier counts under the live and the candidate rules, and how many leads move up or down.

    `before[i]` and `after[i]` must score the same lead. Moves follow the tier order
    cold < warm < hot < customer; "transitions" counts each "from->to" pair that changed.
    """
    if len(before) != len(after):
        raise ValueError("before and after must score the same leads")
    transitions: Counter[str] = Counter()
    moved_up = moved_down = 0
    for old, new in zip(before, after, strict=True):
        if old.tier == new.tier:
            continue
        transitions[f"{old.tier}->{new.tier}"] += 1
        if _RANK[new.tier] > _RANK[old.tier]:
            moved_up += 1
        else:
            moved_down += 1
    return {
        "leads": len(before),
        "before": _tier_counts(before),
        "after": _tier_counts(after),
        "moved_up": moved_up,
        "moved_down": moved_down,
        "unchanged": len(before) - moved_up - moved_down,
        "transitions": dict(sorted(transitions.items())),
        "average_total": {"before": _average(before), "after": _average(after)},
    }


def _tier_counts(scores: Sequence[Score]) -> dict[str, int]:
    counts = Counter(score.tier for score in scores)
    return {tier: counts.get(tier, 0) for tier in TIERS}


def _average(scores: Sequence[Score]) -> float:
    return round(sum(score.total for score in scores) / len(scores), 2) if scores else 0.0
