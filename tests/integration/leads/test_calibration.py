"""Score calibration from real rows on SQLite and PostgreSQL: each lead's score 14 days before the period's
end (its last score change before then), whether it ordered in the 14 days since, the signals that told
buyers apart; the overview's section is tested in tests/integration/admin_ui/test_overview_earnings.py."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.db import transaction
from bridge.db.models import Activity, Lead, Order, ScoreChange
from bridge.infra.context import Context
from bridge.leads import calibration

DAY = timedelta(days=1)
_numbers = itertools.count(1)


def _lead(
    session: Any,
    shop_id: int,
    at: datetime,
    score: int | None,
    *,
    bought: bool = False,
    kinds: tuple[str, ...] = (),
    tier: str = "warm",
    later_score: int | None = None,
    cancelled: bool = False,
) -> None:
    n = next(_numbers)
    lead = Lead(shop_id=shop_id, email=f"c{n}@example.com", created_at=at - 40 * DAY, source={})
    session.add(lead)
    session.flush()
    if score is not None:
        change = dict(lead_id=lead.id, old_score=0, old_tier="cold", new_tier=tier, reason="t")
        session.add(ScoreChange(at=at - 2 * DAY, new_score=score, **change))
    if later_score is not None:  # after the moment looked at: must not count
        session.add(ScoreChange(at=at + DAY, new_score=later_score, **change))
    for kind in kinds:
        session.add(Activity(shop_id=shop_id, lead_id=lead.id, kind=kind, occurred_at=at - 3 * DAY, ref=kind))
    if bought:
        session.add(
            Order(
                shop_id=shop_id,
                order_id=f"c{n}",
                lead_id=lead.id,
                total=Decimal(50),
                currency="EUR",
                created_at=at + 5 * DAY,
                cancelled_at=at + 6 * DAY if cancelled else None,
            )
        )


def seed_calibration(ctx: Context, shop_id: int) -> datetime:
    end = ctx.now()
    at = end - 14 * DAY
    with transaction(ctx.sessions) as session:
        for i in range(40):  # high scores: 3 in 4 buy, and most started a checkout
            _lead(session, shop_id, at, 85, bought=i % 4 != 0, kinds=("checkout_started",) if i % 4 else ())
        for i in range(40):  # low scores: 1 in 10 buys
            _lead(session, shop_id, at, 15, bought=i % 10 == 0, later_score=90, kinds=("email_open",))
        _lead(session, shop_id, at, None)  # never scored: score 0 then
        _lead(session, shop_id, at, 15, bought=True, cancelled=True)  # a cancelled order is no purchase
        _lead(session, shop_id, at, 95, tier="customer", bought=True)  # already a customer: not in the cohort
    return end


def test_bands_count_each_lead_by_its_score_then(ctx: Context, shopify_shop: dict[str, Any]) -> None:
    end = seed_calibration(ctx, shopify_shop["id"])
    with ctx.sessions() as session:
        found = calibration.compute(session, shopify_shop["id"], end)
    bands = {band["low"]: band for band in found["bands"]}
    assert (bands[80]["leads"], bands[80]["buyers"]) == (40, 30)
    assert (bands[10]["leads"], bands[10]["buyers"]) == (41, 4)  # the later score of 90 does not count
    assert (bands[0]["leads"], bands[0]["buyers"]) == (1, 0)
    assert bands[90]["leads"] == 0 and bands[90]["rate"] is None
    assert bands[80]["rate_low"] > bands[10]["rate_high"]  # the chart rises with the score, surely
    assert (found["leads"], found["buyers"]) == (82, 34)
    best = found["signals"][0]
    assert best["signal"] == "activity:checkout_started" and best["low"] > 0
