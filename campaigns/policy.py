"""The offer policy: who gets an offer, who is held out, who is skipped, and why."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from campaigns.holdout import in_holdout
from campaigns.settings import CampaignSettings, QuietHours

# A planned offer is live too: its code exists (on the store soon) and is about to be sent.
LIVE_STATUSES = frozenset({"planned", "created", "sent"})
# Offers that never reached the customer; a held-out offer counts all the same (see _frequency_cap).
UNSENT_STATUSES = frozenset({"failed", "suppressed"})


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
class Decision:
    """What to do: "offer" (at send_at), "holdout", "skip" or "delay" (decide again at send_at)."""

    action: str
    reason: str
    send_at: datetime | None = None
    holdout: bool = False


@dataclass(frozen=True)
class _Case:
    """The arguments of one decide() call, so each check is a small function of one value."""

    lead: LeadView
    cart: CartView | None
    recent_offers: Sequence[OfferView]
    last_order_at: datetime | None
    settings: CampaignSettings
    spent_this_month: Decimal
    now: datetime
    reason: str


def estimate_cost(settings: CampaignSettings, cart: CartView | None, lead: LeadView | None = None) -> Decimal:
    """Return what an offer would cost the merchant if redeemed.

    A percentage applies to the cart, or without one to the lead's expected order value.
    """
    if settings.discount_kind == "fixed_amount":
        return settings.discount_value
    if cart is not None:
        base = cart.subtotal
    else:
        base = lead.expected_order_value if lead is not None else Decimal(0)
    return (base * settings.discount_value / 100).quantize(Decimal("0.01"))


def budget_month_start(now: datetime, timezone: str | None) -> datetime:
    """Return when the current budget month began (the 1st at 00:00 in the shop's zone), in UTC.

    spent_this_month is what the non-holdout offers created since then commit: the estimate of a live
    code, the real discount of a redeemed one (expired, cancelled and failed codes cost nothing).
    """
    local = now.astimezone(ZoneInfo(timezone or "UTC"))
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo).astimezone(UTC)


def _disabled(case: _Case) -> bool:
    hot_leads_off = case.reason == "hot_lead" and not case.settings.hot_lead_offers
    return not case.settings.enabled or hot_leads_off


def _no_cart(case: _Case) -> bool:
    return case.reason == "abandoned_cart" and case.cart is None


def _no_email(case: _Case) -> bool:
    return not (case.lead.email or "").strip()


def _unsubscribed(case: _Case) -> bool:
    return case.lead.unsubscribed


def _no_consent(case: _Case) -> bool:
    return case.settings.require_consent and case.lead.accepts_marketing is not True


def _ordered_since_cart(case: _Case) -> bool:
    return (
        case.cart is not None
        and case.last_order_at is not None
        and case.last_order_at >= case.cart.created_at
    )


def _already_customer(case: _Case) -> bool:
    # Without a cart (a hot lead), any order makes them a customer rather than a lead to convert.
    return case.cart is None and (case.lead.is_customer or case.last_order_at is not None)


def _frequency_cap(case: _Case) -> bool:
    # Holdout assignments count too: the control group must be selected by the same rules as the
    # treated group, or the recovery rates compare different populations.
    days = case.settings.frequency_cap_days
    since = case.now - timedelta(days=days)
    return days > 0 and any(
        offer.created_at > since and (offer.holdout or offer.status not in UNSENT_STATUSES)
        for offer in case.recent_offers
    )


def _live_code_exists(case: _Case) -> bool:
    return any(
        not offer.holdout
        and offer.status in LIVE_STATUSES
        and offer.expires_at is not None
        and offer.expires_at > case.now
        for offer in case.recent_offers
    )


def _below_minimum(case: _Case) -> bool:
    return case.cart is not None and case.cart.subtotal < case.settings.minimum_cart_value


def _budget_exhausted(case: _Case) -> bool:
    budget = case.settings.monthly_budget
    if budget is None:
        return False
    spent = case.spent_this_month
    return spent >= budget or spent + estimate_cost(case.settings, case.cart, case.lead) > budget


# Checks run in this order; the first that holds names the skip. Everything up to the holdout
# applies to both groups alike, so the holdout stays a fair control.
_SKIP_CHECKS: tuple[tuple[str, Callable[[_Case], bool]], ...] = (
    ("disabled", _disabled),
    ("no_cart", _no_cart),
    ("no_email", _no_email),
    ("unsubscribed", _unsubscribed),
    ("no_consent", _no_consent),
    ("ordered_since_cart", _ordered_since_cart),
    ("already_customer", _already_customer),
    ("frequency_cap", _frequency_cap),
    ("live_code_exists", _live_code_exists),
    ("below_minimum", _below_minimum),
    ("budget_exhausted", _budget_exhausted),
)
SKIP_REASONS = tuple(name for name, _ in _SKIP_CHECKS)


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


def _ready_at(case: _Case) -> datetime | None:
    """Return when an abandoned cart's offer becomes due if that is still in the future."""
    if case.reason != "abandoned_cart" or case.cart is None:
        return None
    due = case.cart.last_activity_at + timedelta(minutes=case.settings.abandonment_delay_minutes)
    return due if due > case.now else None


def decide(
    lead: LeadView,
    cart: CartView | None,
    recent_offers: Sequence[OfferView],
    last_order_at: datetime | None,
    settings: CampaignSettings,
    spent_this_month: Decimal,
    now: datetime,
    reason: str = "abandoned_cart",
) -> Decision:
    """Decide whether this lead gets an offer now, later, never, or is held out; all times aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    case = _Case(lead, cart, recent_offers, last_order_at, settings, spent_this_month, now, reason)
    for name, check in _SKIP_CHECKS:
        if check(case):
            return Decision("skip", name)
    if (due := _ready_at(case)) is not None:
        return Decision("delay", "cart_active", send_at=due)
    if in_holdout(lead.holdout_key, settings.holdout_share):
        return Decision("holdout", "holdout", holdout=True)
    if (later := quiet_until(settings, now)) is not None:
        return Decision("offer", "quiet_hours", send_at=later)
    return Decision("offer", "eligible", send_at=now)
