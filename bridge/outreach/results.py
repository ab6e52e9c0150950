"""What Relance brought back: carts, offers, recovery vs the holdout group, revenue, sources, tiers.

The figures `compute` returns for one shop and a period [start, end):

- `carts`: created, abandoned in the period; `recovered` of those, by an order not cancelled since;
  `recovered_treated`/`recovered_holdout` of those, per group of `recovery`.
- `recovery`: carts abandoned in the period, by intention to treat: `treated_carts` are those whose
  abandoned-cart offer was decided (sent or not: cancelled by an early order, failed, …), `holdout_carts`
  those held out; carts the policy skipped are in neither. Rates and the 95 % interval compare them.
- `offers`: `sent` in the period (holdout rows never are), `redeemed` in the period (codes used, even on
  orders cancelled later; some may have been sent before the period), and `redemption_rate`: the share
  of the offers sent in the period that were redeemed by now. `redemption` repeats that share with its
  own counts (offers sent in the period, how many of them were redeemed by now), so it never exceeds 1.
- `revenue`: amounts in the shop's `currency` (Shop.currency, else the most common one in the figures;
  amounts without a currency count in it), as strings with two decimals, cancelled orders left out:
  `recovered` (order totals of the recovered carts, both groups and skipped carts alike),
  `recovered_treated`, `recovered_holdout`, `from_codes` (totals of the orders that redeemed an offer in
  the period), `discount_cost` (those offers' cost). Other currencies are never converted or added: each
  has the same figures under `by_currency` (the shop's currency included).
- `sources` (each cart's first known of UTM source, referrer, landing page), `sources_by` (conversion
  by each of the three on its own), `tiers` (now), `tiers_over_time` (the snapshots of the UTC days
  the period overlaps).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import money_sum, money_value, transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Order, Shop, TierSnapshot
from bridge.infra.context import Context
from bridge.outreach import sources
from campaigns.metrics import days_touched

TREATED, HOLDOUT = "treated", "holdout"
FIGURES = ("recovered", "recovered_treated", "recovered_holdout", "from_codes", "discount_cost")
CENT = Decimal("0.01")


def _count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _group(holdout: bool | None, status: str | None) -> str | None:
    """A cart's group by intention to treat, from its abandoned-cart offer row: held out, or chosen for an
    offer whatever became of it (sent, cancelled by an early order, failed, …). Carts the policy skipped
    (`suppressed`, not held out) and carts without a decision are in neither group."""
    if holdout:
        return HOLDOUT
    return TREATED if status is not None and status != "suppressed" else None


# A cart's group by its journey run: held out of the whole journey (stopped before its first step), or
# treated (its journey started, whatever became of it); a cart no journey admitted is in neither. Carts of
# the single-offer era have no run: their one abandoned-cart offer says it.
_RUN_HOLDOUT = sa.case(
    (JourneyRun.id.is_(None), Offer.holdout), else_=sa.func.coalesce(JourneyRun.holdout_stop, -1) == 0
)
_RUN_STATUS = sa.case(
    (JourneyRun.id.is_(None), Offer.status),
    (JourneyRun.journey_key == "", "suppressed"),
    else_="treated",
)


def _cart_rows(shop_id: int, start: datetime, end: datetime, *columns: Any) -> sa.Select[Any]:
    """Carts abandoned in the period, with their journey run (or their single-era offer) and their order."""
    return (
        sa.select(_RUN_HOLDOUT.label("holdout"), _RUN_STATUS.label("status"), *columns)
        .select_from(Cart)
        .outerjoin(JourneyRun, JourneyRun.cart_id == Cart.id)
        .outerjoin(
            Offer,
            sa.and_(Offer.cart_id == Cart.id, Offer.reason == "abandoned_cart", Offer.run_id.is_(None)),
        )
        .outerjoin(Order, sa.and_(Order.shop_id == Cart.shop_id, Order.order_id == Cart.order_id))
        .where(Cart.shop_id == shop_id, Cart.abandoned_at >= start, Cart.abandoned_at < end)
    )


# Recovered for the metrics: an order that was not cancelled since.
RECOVERED = sa.and_(Cart.status == "recovered", Order.cancelled_at.is_(None))


Amount = tuple[str, str | None, Decimal | None, int]  # (figure, currency, sum, how many rows it adds up)


CartGroup = tuple[bool | None, str | None, str | None, int, int, Decimal | None]


def _cart_groups(session: Session, shop_id: int, start: datetime, end: datetime) -> list[CartGroup]:
    """One pass over the carts abandoned in the period: (holdout, offer status, currency, carts, recovered,
    recovered orders' total) per group; the counts and the cart revenue both come from it."""
    currency = sa.func.coalesce(Order.currency, Cart.currency)
    recovered = sa.func.sum(sa.case((RECOVERED, 1), else_=0))
    total = money_sum(session, sa.case((RECOVERED, Cart.order_total)))
    query = _cart_rows(shop_id, start, end, currency, sa.func.count(), recovered, total).group_by(
        _RUN_HOLDOUT, _RUN_STATUS, currency
    )
    return [
        (holdout, status, code, int(n), int(won or 0), money_value(session, paid))
        for holdout, status, code, n, won, paid in session.execute(query)
    ]


def _carts(groups: list[CartGroup]) -> dict[str | None, list[int]]:
    """[abandoned, recovered] carts of the period per group (None: in neither group)."""
    out: dict[str | None, list[int]] = {TREATED: [0, 0], HOLDOUT: [0, 0], None: [0, 0]}
    for holdout, status, _, n, won, _ in groups:
        group = out[_group(holdout, status)]
        group[0] += n
        group[1] += won
    return out


def _amounts(
    session: Session, shop_id: int, start: datetime, end: datetime, groups: list[CartGroup]
) -> list[Amount]:
    """The sums the revenue figures add up, per group and currency, cancelled orders left out (summed in
    SQL: a 90-day period of a busy shop has tens of thousands of recovered carts)."""
    amounts: list[Amount] = []
    for holdout, status, code, _, won, total in groups:
        if not won:
            continue
        amounts.append(("recovered", code, total, won))
        if group := _group(holdout, status):
            amounts.append((f"recovered_{group}", code, total, won))
    offer_currency = sa.func.coalesce(Order.currency, Offer.currency)
    offers = (
        sa.select(
            offer_currency,
            money_sum(session, Offer.order_total),
            money_sum(session, Offer.cost),
            sa.func.count(),
        )
        .outerjoin(Order, sa.and_(Order.shop_id == Offer.shop_id, Order.order_id == Offer.order_id))
        .where(*_redeemed(shop_id, start, end), Order.cancelled_at.is_(None))
        .group_by(offer_currency)
    )
    for code, total, cost, n in session.execute(offers):
        amounts += [
            ("from_codes", code, money_value(session, total), int(n)),
            ("discount_cost", code, money_value(session, cost), 0),
        ]
    return amounts


def _revenue(amounts: list[Amount], shop_currency: str | None) -> dict[str, Any]:
    """The figures in the shop's currency (Shop.currency, else the most common one), and per currency."""
    seen: Counter[str] = Counter()
    for figure, code, _, n in amounts:
        if code and figure in ("recovered", "from_codes"):
            seen[code] += n
    main = shop_currency or min(seen, key=lambda code: (-seen[code], code), default=None)
    sums = {main: dict.fromkeys(FIGURES, Decimal(0))}  # the shop's currency is listed even at zero
    for figure, code, amount, _ in amounts:
        if amount is not None:
            sums.setdefault(code or main, dict.fromkeys(FIGURES, Decimal(0)))[figure] += amount

    def cents(figures: dict[str, Decimal]) -> dict[str, str]:
        return {name: str(value.quantize(CENT)) for name, value in figures.items()}

    by_currency = {code: cents(sums[code]) for code in sorted(c for c in sums if c)}
    return {**cents(sums[main]), "currency": main, "by_currency": by_currency}


def _redeemed(shop_id: int, start: datetime, end: datetime) -> tuple[Any, ...]:
    return (
        Offer.shop_id == shop_id,
        Offer.holdout.is_(False),
        Offer.redeemed_at >= start,
        Offer.redeemed_at < end,
    )


def _offers(
    session: Session, shop_id: int, start: datetime, end: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `offers` and `redemption` figures: both rates are of the offers sent in the period."""
    sent, redeemed = session.execute(
        sa.select(sa.func.count(), sa.func.count(Offer.redeemed_at)).where(
            Offer.shop_id == shop_id, Offer.holdout.is_(False), Offer.sent_at >= start, Offer.sent_at < end
        )
    ).one()
    rate = campaigns.redemption_rate(int(sent), int(redeemed))
    used = _count(session, sa.select(Offer.id).where(*_redeemed(shop_id, start, end)))
    offers = {"sent": int(sent), "redeemed": used, "redemption_rate": rate}
    return offers, {"sent": int(sent), "redeemed": int(redeemed), "rate": rate}


def _tiers_over_time(session: Session, shop_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The daily tier snapshots (days in UTC) of every day the period overlaps."""
    first, last = days_touched(start, end)
    rows = session.scalars(
        sa.select(TierSnapshot)
        .where(TierSnapshot.shop_id == shop_id, TierSnapshot.day >= first, TierSnapshot.day <= last)
        .order_by(TierSnapshot.day)
    ).all()
    return [{"day": r.day.isoformat(), **r.counts} for r in rows]


def compute(
    session: Session, shop_id: int, start: datetime, end: datetime, by_source_field: bool = True
) -> dict[str, Any]:
    """Every figure of the overview for one shop and the period [start, end), as the module docstring
    describes them (`sources_by` only with `by_source_field`: the admin overview does not show it and
    spares its three queries)."""
    cart_groups = _cart_groups(session, shop_id, start, end)
    carts, recovery = _cart_figures(session, shop_id, start, end, cart_groups)
    offers, redemption = _offers(session, shop_id, start, end)
    shop_currency = session.scalar(sa.select(Shop.currency).where(Shop.id == shop_id))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "carts": carts,
        "recovery": recovery,
        "offers": offers,
        "redemption": redemption,
        "revenue": _revenue(_amounts(session, shop_id, start, end, cart_groups), shop_currency),
        "sources": sources.by_source(session, shop_id, start, end),
        **({"sources_by": sources.by_field(session, shop_id, start, end)} if by_source_field else {}),
        "tiers": _tier_counts(session, shop_id),
        "tiers_over_time": _tiers_over_time(session, shop_id, start, end),
    }


def _cart_figures(
    session: Session, shop_id: int, start: datetime, end: datetime, cart_groups: list[CartGroup]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `carts` and `recovery` figures: counts per group, and the treated group against the holdout."""
    groups = _carts(cart_groups)
    treated, holdout = groups[TREATED], groups[HOLDOUT]
    comparison = campaigns.recovery_comparison(treated[0], treated[1], holdout[0], holdout[1])
    created = _count(
        session,
        sa.select(Cart.id).where(Cart.shop_id == shop_id, Cart.created_at >= start, Cart.created_at < end),
    )
    carts = {
        "created": created,
        "abandoned": sum(n for n, _ in groups.values()),
        "recovered": sum(won for _, won in groups.values()),
        "recovered_treated": treated[1],
        "recovered_holdout": holdout[1],
    }
    recovery = {
        "treated_carts": treated[0],
        "holdout_carts": holdout[0],
        "treated_rate": comparison.treated_rate,
        "holdout_rate": comparison.holdout_rate,
        "difference": comparison.difference,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "confidence": 0.95,
    }
    return carts, recovery


def _tier_counts(session: Session, shop_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Lead.tier, sa.func.count())
        .where(Lead.shop_id == shop_id, Lead.redacted_at.is_(None))
        .group_by(Lead.tier)
    ).all()
    counts = defaultdict(int, {tier: int(n) for tier, n in rows})
    return {tier: counts[tier] for tier in ("cold", "warm", "hot", "customer")}


def snapshot_tiers(ctx: Context) -> int:
    """Store today's tier counts for every shop (idempotent: one row a shop a day)."""
    today: date = ctx.now().date()
    with transaction(ctx.sessions) as session:
        shop_ids = list(session.scalars(sa.select(Shop.id)))
        for shop_id in shop_ids:
            counts = _tier_counts(session, shop_id)
            row = session.scalar(
                sa.select(TierSnapshot).where(TierSnapshot.shop_id == shop_id, TierSnapshot.day == today)
            )
            if row is None:
                session.add(TierSnapshot(shop_id=shop_id, day=today, counts=counts))
            else:
                row.counts = counts
    return len(shop_ids)
