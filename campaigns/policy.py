"""The journeys' policy: when a run ends before its next step, whether a code step mints its code, what a
code costs, the budget month and quiet hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from campaigns.settings import CampaignSettings, QuietHours

if TYPE_CHECKING:
    from campaigns.journeys import StepOffer

# A planned offer is live too: its code exists (on the store soon) and is about to be sent.
LIVE_STATUSES = frozenset({"planned", "created", "sent"})


@dataclass(frozen=True)
class LeadView:
    """The lead as the policy sees it; holdout_key is stable per lead, e.g. "<shop_id>:<lead_id>"."""

    lead_id: int
    email: str | None
    accepts_marketing: bool | None
    unsubscribed: bool
    is_customer: bool
    holdout_key: str
    # What the lead is likely to spend (their cart or the shop's average order): prices a percentage
    # offer that has no cart of its own, such as a hot-lead offer, for the budget.
    expected_order_value: Decimal = Decimal(0)


@dataclass(frozen=True)
class CartView:
    """The abandoned cart, if the offer is about one."""

    cart_id: int | None
    subtotal: Decimal
    currency: str | None
    created_at: datetime
    last_activity_at: datetime


@dataclass(frozen=True)
class OfferView:
    """A previous offer (or holdout assignment) to the same lead."""

    created_at: datetime
    status: str
    expires_at: datetime | None
    value: Decimal
    holdout: bool


@dataclass(frozen=True)
class CodeDecision:
    """Whether a code step's code is issued ("issue") or the step goes as a reminder, and why."""

    issue: bool
    reason: str


def estimate_cost(offer: StepOffer, cart: CartView | None, lead: LeadView | None = None) -> Decimal:
    """Return what a code would cost the merchant if redeemed.

    A percentage applies to the cart, or without one to the lead's expected order value; free shipping is
    priced at nothing here (the store knows the shipping rate, we do not).
    """
    if offer.kind == "fixed_amount":
        return offer.value
    if offer.kind != "percentage":
        return Decimal(0)
    if cart is not None:
        base = cart.subtotal
    else:
        base = lead.expected_order_value if lead is not None else Decimal(0)
    return (base * offer.value / 100).quantize(Decimal("0.01"))


def budget_month_start(now: datetime, timezone: str | None) -> datetime:
    """Return when the current budget month began (the 1st at 00:00 in the shop's zone), in UTC.

    spent_this_month is what the non-holdout offers created since then commit: the estimate of a live
    code, the real discount of a redeemed one (expired, cancelled and failed codes cost nothing).
    """
    local = now.astimezone(ZoneInfo(timezone or "UTC"))
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo).astimezone(UTC)


def exit_reason(
    lead: LeadView,
    cart_status: str | None,
    last_order_at: datetime | None,
    since: datetime,
    settings: CampaignSettings,
) -> str | None:
    """Why a run must end before its next step (checked again just before each send), or None.

    `since` is the run's trigger time: an order after it ends the run ("ordered"; for a cart, its own order
    is "cart_ordered")."""
    if not settings.enabled:
        return "disabled"
    if not (lead.email or "").strip():
        return "no_email"
    if lead.unsubscribed:
        return "unsubscribed"
    if settings.require_consent and lead.accepts_marketing is not True:
        return "no_consent"
    if cart_status in ("converted", "recovered"):
        return "cart_ordered"
    if cart_status == "active":
        return "cart_active"
    if last_order_at is not None and last_order_at >= since:
        return "ordered"
    return None


def code_decision(
    offer: StepOffer,
    lead: LeadView,
    cart: CartView | None,
    recent_offers: Sequence[OfferView],
    settings: CampaignSettings,
    spent_this_month: Decimal,
    now: datetime,
) -> CodeDecision:
    """Whether a code step may mint its code: one live code per customer, the cart's minimum, the budget."""
    if any(
        not o.holdout and o.status in LIVE_STATUSES and o.expires_at is not None and o.expires_at > now
        for o in recent_offers
    ):
        return CodeDecision(False, "live_code_exists")
    if cart is not None and cart.subtotal < offer.minimum_order:
        return CodeDecision(False, "below_minimum")
    budget = settings.monthly_budget
    cost = estimate_cost(offer, cart, lead)
    if budget is not None and (spent_this_month >= budget or spent_this_month + cost > budget):
        return CodeDecision(False, "budget_exhausted")
    return CodeDecision(True, "eligible")


def _in_quiet_hours(local: time, window: QuietHours) -> bool:
    """Return True when a local wall-clock time falls in the window (which may cross midnight)."""
    if window.start < window.end:
        return window.start <= local < window.end
    return local >= window.start or local < window.end


def quiet_hours_end(now: datetime, window: QuietHours, zone: ZoneInfo) -> datetime | None:
    """Return the next end of the quiet hours in UTC if `now` falls inside them, else None."""
    local = now.astimezone(zone)
    if not _in_quiet_hours(local.time(), window):
        return None
    day: date = local.date() if local.time() < window.end else local.date() + timedelta(days=1)
    # Wall-clock time: "08:00" stays 08:00 across DST changes; a time skipped by DST maps past the gap,
    # and a time that happens twice means its second occurrence when we are already past the first.
    end = datetime.combine(day, window.end, tzinfo=zone).astimezone(UTC)
    if end <= now:  # compared in UTC: within one zone Python compares wall clocks and ignores fold
        end = datetime.combine(day, window.end.replace(fold=1), tzinfo=zone).astimezone(UTC)
    return end


def quiet_until(settings: CampaignSettings, now: datetime) -> datetime | None:
    """Return when the shop's quiet hours end if `now` falls inside them, else None."""
    window = settings.quiet_hours
    return None if window is None else quiet_hours_end(now, window, ZoneInfo(settings.timezone or "UTC"))
