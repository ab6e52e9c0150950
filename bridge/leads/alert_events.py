"""The events merchants can subscribe to, read where they happen (one line at each place, after commit):
tier changes and hot leads, abandoned and recovered carts, offers sent and redeemed, journeys exited."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import Cart, JourneyRun, Offer, Order
from bridge.infra.context import Context
from bridge.leads.alerts import emit, emit_kinds, emit_many

EXIT_WINDOW = timedelta(minutes=15)  # the exits scan looks this far back: a missed minute is caught
TIER_ORDER = {"cold": 0, "warm": 1, "hot": 2}
NO_JOURNEY = "no_journey"  # a cart no journey took: nothing was entered, so nothing is exited


class TierMove(Protocol):
    """What `bridge.leads.scores.TierChange` carries."""

    @property
    def lead_id(self) -> int: ...
    @property
    def old_tier(self) -> str: ...
    @property
    def new_tier(self) -> str: ...
    @property
    def reason(self) -> str: ...


def _money(value: Decimal | None) -> str | None:
    """An amount as the payload writes it: a string with two decimals (JSON numbers lose cents)."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def tier_changes(ctx: Context, shop_id: int, changes: Sequence[TierMove]) -> None:
    """`lead.tier_changed` for each change (a new rules version's bulk rescore excepted: that is the
    merchant's own doing), and `lead.hot` for leads whose own activity made them hot."""
    moved = [c for c in changes if not c.reason.startswith("rules v")]
    if not moved:
        return
    at = ctx.now().isoformat()
    refs = [
        ({"lead_id": c.lead_id, "old_tier": c.old_tier, "new_tier": c.new_tier, "occurred_at": at}, key)
        for c in moved
        for key in [f"{c.lead_id}:{c.old_tier}:{c.new_tier}:{at}"]
    ]
    hot = [  # a lead hot by its own activity: not by decay alone (bridge.leads.scores.DECAY)
        (r, key)
        for (r, key), c in zip(refs, moved, strict=True)
        if c.new_tier == "hot" and TIER_ORDER.get(c.old_tier, 3) < TIER_ORDER["hot"] and c.reason != "decay"
    ]
    emit_kinds(ctx, shop_id, [("lead.tier_changed", lambda _s: refs), ("lead.hot", lambda _s: hot)])


def carts_abandoned(ctx: Context, shop_id: int, cart_ids: Iterable[int]) -> int:
    """`cart.abandoned` for carts the sweep just marked."""
    ids = list(cart_ids)

    def items(session: Session) -> list[tuple[dict[str, Any], str]]:
        rows = session.execute(
            sa.select(Cart.id, Cart.lead_id, Cart.subtotal, Cart.currency, Cart.abandoned_at).where(
                Cart.id.in_(ids), Cart.shop_id == shop_id
            )
        ).all()
        return [
            (
                {
                    "cart_id": cart_id,
                    "lead_id": lead_id,
                    "subtotal": _money(subtotal),
                    "currency": currency,
                    "occurred_at": (abandoned_at or ctx.now()).isoformat(),
                },
                f"{cart_id}:{abandoned_at}",
            )
            for cart_id, lead_id, subtotal, currency, abandoned_at in rows
        ]

    return emit_many(ctx, shop_id, "cart.abandoned", items) if ids else 0


def order_follow_up(ctx: Context, shop_id: int, order_ids: Sequence[str]) -> Callable[[], None]:
    """A step to run after the commit of some orders of a shop: `cart.recovered` for the cart(s) they
    recovered, and `offer.redeemed` for the codes they used (a replayed order sends nothing twice); the rules
    are read once for all of them."""
    wanted = sorted(set(order_ids))

    def carts(session: Session) -> list[tuple[dict[str, Any], str]]:
        rows = session.execute(
            sa.select(
                Cart.id, Cart.lead_id, Cart.order_id, Cart.order_total, Cart.currency, Cart.converted_at
            ).where(Cart.shop_id == shop_id, Cart.order_id.in_(wanted), Cart.status == "recovered")
        ).all()
        return [
            (
                {
                    "cart_id": cart_id,
                    "lead_id": lead_id,
                    "order_id": order_id,
                    "order_total": _money(total),
                    "currency": currency,
                    "occurred_at": (converted_at or ctx.now()).isoformat(),
                },
                f"{cart_id}:{order_id}",
            )
            for cart_id, lead_id, order_id, total, currency, converted_at in rows
        ]

    def offers(session: Session) -> list[tuple[dict[str, Any], str]]:
        rows = session.scalars(
            sa.select(Offer).where(
                Offer.shop_id == shop_id, Offer.order_id.in_(wanted), Offer.status == "redeemed"
            )
        ).all()
        if not rows:
            return []
        currencies = dict(
            session.execute(
                sa.select(Order.order_id, Order.currency).where(
                    Order.shop_id == shop_id, Order.order_id.in_({o.order_id for o in rows})
                )
            ).all()
        )
        return [
            (
                {
                    "offer_id": o.id,
                    "lead_id": o.lead_id,
                    "cart_id": o.cart_id,
                    "order_id": o.order_id,
                    "order_total": _money(o.order_total),
                    "currency": currencies.get(o.order_id or ""),
                    "reason": o.reason,
                    "occurred_at": (o.redeemed_at or ctx.now()).isoformat(),
                },
                f"{o.id}:{o.order_id}",
            )
            for o in rows
        ]

    def step() -> None:
        emit_kinds(ctx, shop_id, [("cart.recovered", carts), ("offer.redeemed", offers)])

    return step


def offer_sent(ctx: Context, offer_id: int, outcome: str) -> int:
    """`offer.sent` once a delivery's outcome is `sent` (the code itself stays out: the merchant's store
    has it, and the event goes through logs and tools that need not)."""
    if outcome != "sent":
        return 0
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        if offer is None:
            return 0
        refs = {
            "offer_id": offer.id,
            "lead_id": offer.lead_id,
            "cart_id": offer.cart_id,
            "reason": offer.reason,
            "journey": offer.journey_key,
            "step": offer.step,
            "discount": None if offer.code is None else {"kind": offer.kind, "value": _money(offer.value)},
            "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
            "occurred_at": (offer.sent_at or ctx.now()).isoformat(),
        }
        shop_id = offer.shop_id
    return emit(ctx, shop_id, "offer.sent", refs, key=str(offer_id))


def journey_exits(ctx: Context) -> int:
    """Periodic: `journey.exited` for runs that ended lately. A run ends in five places, inside their
    transactions and without a context (`bridge.outreach.runs.end`); this scan sees every one of them,
    after commit, whatever ended it (the payload's `id` makes a second sight harmless)."""
    since = ctx.now() - EXIT_WINDOW
    with ctx.sessions() as session:
        shops = session.scalars(
            sa.select(JourneyRun.shop_id).where(JourneyRun.ended_at >= since).distinct()
        ).all()
    sent = 0
    for shop_id in shops:

        def items(session: Session, shop_id: int = shop_id) -> list[tuple[dict[str, Any], str]]:
            rows = session.scalars(
                sa.select(JourneyRun).where(
                    JourneyRun.shop_id == shop_id,
                    JourneyRun.ended_at >= since,
                    JourneyRun.exit_reason != NO_JOURNEY,
                )
            ).all()
            return [
                (
                    {
                        "run_id": r.id,
                        "lead_id": r.lead_id,
                        "cart_id": r.cart_id,
                        "journey": r.journey_key,
                        "trigger": r.trigger,
                        "exit_reason": r.exit_reason,
                        "steps_sent": r.step,
                        "occurred_at": r.ended_at.isoformat() if r.ended_at else None,
                    },
                    str(r.id),
                )
                for r in rows
            ]

        sent += emit_many(ctx, shop_id, "journey.exited", items)
    return sent
