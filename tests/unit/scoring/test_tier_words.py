"""The guides' words beside the tiers' names (the names themselves never change)."""

from __future__ import annotations

from scoring import TIER_WORDS, TIERS, tier_label


def test_warm_and_hot_carry_the_guides_words_and_the_others_their_name_alone() -> None:
    assert tier_label("warm") == "warm · marketing-qualified (MQL)"
    assert tier_label("hot") == "sales-qualified (SQL)".join(["hot · ", ""])
    assert [tier_label(t) for t in ("cold", "customer")] == ["cold", "customer"]
    assert set(TIER_WORDS) <= set(TIERS)
