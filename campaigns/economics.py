"""The money around the leads: return on the discounts, cost per lead and per customer by source, lead to
customer conversion by tier and by source, new leads over time. Arithmetic only, no I/O
(bridge.outreach.economics loads the rows and states the populations).

**Return on the discounts (ROI).** With, for the period's journey runs that have a holdout to compare with:

- N, the incremental net revenue (campaigns.earnings: what the treated runs' customers paid, minus what the
  same number of held-out runs' customers paid), with its 95 % interval;
- D, the discount cost: what our redeemed codes took off the treated runs' orders in that same window
  (known exactly, no interval);
- m, the shop's gross margin rate on its order totals, (price - cost of goods) / price, a setting;

An order's total is what the customer paid, our code already taken off (Shopify's `total_price`,
WooCommerce's `total`), so N is what the treated runs' orders brought in more than without Relance, at the
prices paid, and N + D what those orders were worth at full price. Their margin is m (N + D); we gave D of it
away, so the **incremental margin** is M = m (N + D) - D, and

    ROI = M / D = m (N + D) / D - 1

the margin gained per unit of discount given, net of that discount: 0 breaks even, 1.5 means each euro of
discount came back with 1.50 of margin on top. N's interval carries over exactly: M and ROI are N scaled by
a positive known factor and shifted by a known amount. No discount given (D = 0) or an unknown margin rate:
no ROI (None), never a guess.

**Cost per lead and per customer.** A month's spend on a source is spread evenly over the month; a period
gets the share of each month it covers (a 30-day period from 16 November gets 15/30 of November's and 15/31 of
December's spend), so consecutive periods add up to the months entered. Divided by the leads the period
brought from that source and by the customers among them (campaigns.revenue.cost_per).

**Conversion** is a share with its Wilson interval (campaigns.metrics.wilson_interval).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from campaigns.metrics import wilson_interval
from campaigns.revenue import Estimate, roi

DIRECT = "direct"
TIER_ORDER = ("cold", "warm", "hot")
DAILY_UP_TO_DAYS = 62  # longer periods count new leads per week


def lead_source(source: Mapping[str, Any] | None) -> str:
    """Where a lead came from: its UTM source (lower-cased), else its referring site (no `www.`), else
    "direct", as bridge.outreach.sources names cart sources."""
    given = source or {}
    utm = str(given.get("utm_source") or "").strip()
    if utm:
        return utm.lower()[:100]
    referrer = str(given.get("referrer") or "").strip()
    if referrer:
        try:
            host = urlsplit(referrer if "//" in referrer else f"//{referrer}").hostname
        except ValueError:
            host = None
        return (host or referrer).lower().removeprefix("www.")[:100]
    return DIRECT


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    first = datetime(month.year, month.month, 1)
    days = calendar.monthrange(month.year, month.month)[1]
    return first, first + timedelta(days=days)


def prorated_spend(
    rows: Iterable[tuple[str, date, Decimal]], start: datetime, end: datetime
) -> dict[str, Decimal]:
    """Each source's spend over [start, end) (naive UTC): every month's amount times the share of the
    month the period covers (module doc), to the cent."""
    naive_start, naive_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    out: dict[str, Decimal] = {}
    for source, month, amount in rows:
        first, after = _month_bounds(month)
        overlap = (min(after, naive_end) - max(first, naive_start)).total_seconds()
        if overlap <= 0:
            continue
        share = Decimal(str(overlap)) / Decimal(str((after - first).total_seconds()))
        out[source] = out.get(source, Decimal(0)) + amount * share
    return {source: amount.quantize(Decimal("0.01")) for source, amount in out.items()}


@dataclass(frozen=True)
class Conversion:
    """Leads, the customers among them, and the share with its 95 % Wilson interval."""

    leads: int
    customers: int
    rate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, Any]:
        def four(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "leads": self.leads,
            "customers": self.customers,
            "rate": four(self.rate),
            "low": four(self.low),
            "high": four(self.high),
        }


def conversion(leads: int, customers: int) -> Conversion:
    """`customers` of `leads` became customers, with the share's Wilson interval (None without leads)."""
    interval = wilson_interval(leads, customers) if leads else None
    return Conversion(
        leads,
        customers,
        customers / leads if leads else None,
        interval[0] if interval else None,
        interval[1] if interval else None,
    )


def conversions(people: Iterable[tuple[str, bool]]) -> dict[str, Conversion]:
    """Conversion per group from (group, became a customer) pairs."""
    leads: Counter[str] = Counter()
    customers: Counter[str] = Counter()
    for group, bought in people:
        leads[group] += 1
        customers[group] += bool(bought)
    return {group: conversion(leads[group], customers[group]) for group in sorted(leads)}


def highest_tier(tiers: Iterable[str]) -> str:
    """The highest of cold < warm < hot among `tiers` (cold when none; a customer tier is no lead tier)."""
    best = 0
    for tier in tiers:
        if tier in TIER_ORDER:
            best = max(best, TIER_ORDER.index(tier))
    return TIER_ORDER[best]


@dataclass(frozen=True)
class Return:
    """The discounts' return: the discount cost, the incremental margin and the ROI (module doc)."""

    discount_cost: float
    margin: Estimate
    roi: Estimate


def shifted(estimate: Estimate, amount: float) -> Estimate:
    """The same estimate plus a known amount."""

    def plus(x: float | None) -> float | None:
        return None if x is None else x + amount

    return Estimate(plus(estimate.value), plus(estimate.low), plus(estimate.high))


def return_on_discounts(net: Estimate, discount_cost: float, margin_rate: float | None) -> Return:
    """M = m (N + D) - D and ROI = M / D, with N's interval carried over (module doc); all None without a
    margin rate, without an incremental net revenue, or (ROI only) without a discount given."""
    if margin_rate is None or net.value is None:
        return Return(discount_cost, Estimate(), Estimate())
    before_codes = shifted(net, discount_cost)  # N + D: the orders at full price, more than without
    margin = shifted(before_codes.scaled(margin_rate), -discount_cost)
    if discount_cost <= 0:
        return Return(discount_cost, margin, Estimate())
    return Return(discount_cost, margin, shifted(roi(before_codes, margin_rate, discount_cost), -1.0))


def new_leads_series(days: Iterable[date], first: date, last: date) -> tuple[str, list[tuple[date, int]]]:
    """New leads per day from `first` to `last` (both included), or per week (starting on Mondays) when
    that spans more than DAILY_UP_TO_DAYS days; every bucket present, empty ones at 0."""
    span = (last - first).days + 1
    weekly = span > DAILY_UP_TO_DAYS

    def bucket(day: date) -> date:
        return day - timedelta(days=day.weekday()) if weekly else day

    counts = Counter(bucket(day) for day in days if first <= day <= last)
    step = timedelta(days=7 if weekly else 1)
    series = []
    current = bucket(first)
    while current <= last:
        series.append((current, counts.get(current, 0)))
        current += step
    return ("week" if weekly else "day"), series
