"""What-if comparison of tier counts and moves."""

from __future__ import annotations

import pytest

from scoring import Score, compare


def lead(tier: str, total: int = 0) -> Score:
    return Score(total=total, tier=tier, raw=float(total), breakdown=())


def test_counts_tiers_and_moves() -> None:
    before = [lead("cold", 10), lead("warm", 50), lead("hot", 90), lead("customer", 20), lead("warm", 45)]
    after = [lead("warm", 40), lead("cold", 30), lead("hot", 85), lead("customer", 30), lead("hot", 80)]
    result = compare(before, after)
    assert result["leads"] == 5
    assert result["before"] == {"cold": 1, "warm": 2, "hot": 1, "customer": 1}
    assert result["after"] == {"cold": 1, "warm": 1, "hot": 2, "customer": 1}
    assert (result["moved_up"], result["moved_down"], result["unchanged"]) == (2, 1, 2)
    assert result["transitions"] == {"cold->warm": 1, "warm->cold": 1, "warm->hot": 1}
    assert result["average_total"] == {"before": 43.0, "after": 53.0}


def test_no_leads() -> None:
    result = compare([], [])
    assert result["before"] == {"cold": 0, "warm": 0, "hot": 0, "customer": 0}
    assert (result["moved_up"], result["moved_down"], result["average_total"]["after"]) == (0, 0, 0.0)


def test_both_sides_must_score_the_same_leads() -> None:
    with pytest.raises(ValueError, match="same leads"):
        compare([lead("cold")], [])
