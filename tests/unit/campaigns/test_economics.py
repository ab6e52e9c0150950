"""campaigns.economics: each figure worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from campaigns.economics import (
    conversion,
    conversions,
    highest_tier,
    lead_source,
    new_leads_series,
    prorated_spend,
    return_on_discounts,
)
from campaigns.revenue import Estimate
from campaigns.settings import DEFAULT_CAMPAIGN, dump_campaign, load_campaign


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"utm_source": " Google ", "referrer": "https://www.bing.com/x"}, "google"),
        ({"utm_source": "", "referrer": "https://www.Bing.com/search?q=1"}, "bing.com"),
        ({"referrer": "facebook.com/page"}, "facebook.com"),
        ({"landing_page": "/promo"}, "direct"),
        ({}, "direct"),
        (None, "direct"),
    ],
)
def test_a_lead_s_source(source: dict[str, str] | None, expected: str) -> None:
    assert lead_source(source) == expected


def test_spend_is_prorated_over_the_days_of_each_month_the_period_covers() -> None:
    rows = [
        ("google", date(2026, 11, 1), Decimal(300)),  # 30 days: 10 a day
        ("google", date(2026, 12, 1), Decimal(310)),  # 31 days: 10 a day
        ("meta", date(2026, 10, 1), Decimal(999)),  # before the period
    ]
    start = datetime(2026, 11, 16, tzinfo=UTC)
    end = datetime(2026, 12, 6, tzinfo=UTC)  # 15 days of November, 5 of December
    assert prorated_spend(rows, start, end) == {"google": Decimal("200.00")}
    whole = prorated_spend(rows, datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert whole == {"google": Decimal("610.00"), "meta": Decimal("999.00")}
    # Consecutive periods add up to the months entered.
    middle = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    a = prorated_spend(rows, datetime(2026, 11, 1, tzinfo=UTC), middle)["google"]
    b = prorated_spend(rows, middle, datetime(2026, 12, 1, tzinfo=UTC))["google"]
    assert a + b == Decimal("300.00")


def test_conversion_has_a_wilson_interval_and_none_without_leads() -> None:
    found = conversion(100, 20)
    assert found.rate == 0.2
    assert found.low is not None and found.high is not None
    assert round(found.low, 4) == 0.1334 and round(found.high, 4) == 0.2888  # Wilson, z = 1.96
    assert conversion(0, 0).as_dict() == {"leads": 0, "customers": 0, "rate": None, "low": None, "high": None}
    grouped = conversions([("a", True), ("a", False), ("b", False)])
    assert (grouped["a"].leads, grouped["a"].customers, grouped["b"].customers) == (2, 1, 0)


def test_the_highest_tier_reached() -> None:
    assert highest_tier([]) == "cold"
    assert highest_tier(["warm", "hot", "warm", "customer"]) == "hot"
    assert highest_tier(["customer", "cold"]) == "cold"


def test_roi_is_the_incremental_margin_per_unit_of_discount() -> None:
    # N = 1,000 net (interval 400 to 1,600), D = 200 of codes, m = 0.5:
    # M = 0.5 x (1,000 + 200) - 200 = 400; ROI = 400 / 200 = 2
    found = return_on_discounts(Estimate(1000.0, 400.0, 1600.0), 200.0, 0.5)
    assert found.margin == Estimate(400.0, 100.0, 700.0)
    assert found.roi == Estimate(2.0, 0.5, 3.5)
    # An unknown margin rate or no estimate: nothing; no discount: a margin but no ROI.
    assert return_on_discounts(Estimate(1000.0), 200.0, None).roi == Estimate()
    assert return_on_discounts(Estimate(), 200.0, 0.5).margin == Estimate()
    free = return_on_discounts(Estimate(300.0), 0.0, 0.4)
    assert free.margin == Estimate(120.0) and free.roi == Estimate()
    # Selling at cost (m = 0): each unit of discount is lost, whatever the revenue.
    assert return_on_discounts(Estimate(5000.0), 100.0, 0.0).roi.value == -1.0


def test_new_leads_per_day_then_per_week() -> None:
    kind, series = new_leads_series(
        [date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 4), date(2026, 10, 1)],
        date(2026, 11, 1),
        date(2026, 11, 4),
    )
    assert kind == "day"
    assert series == [(date(2026, 11, d), n) for d, n in ((1, 0), (2, 2), (3, 0), (4, 1))]
    kind, series = new_leads_series(
        [date(2026, 11, 4), date(2026, 11, 8)], date(2026, 9, 1), date(2026, 11, 30)
    )
    assert kind == "week"
    assert series[0][0] == date(2026, 8, 31)  # the Monday of 1 September's week
    assert dict(series)[date(2026, 11, 2)] == 2 and sum(n for _, n in series) == 2


@pytest.mark.parametrize("rate", [-0.1, 1.01, "abc"])
def test_the_margin_rate_is_a_share(rate: object) -> None:
    with pytest.raises(ValidationError) as caught:
        load_campaign({**DEFAULT_CAMPAIGN, "margin_rate": rate})
    assert set(caught.value.messages) == {"margin_rate"}


def test_the_margin_rate_round_trips_and_defaults_to_unknown() -> None:
    assert load_campaign(DEFAULT_CAMPAIGN).margin_rate is None
    settings = load_campaign({**DEFAULT_CAMPAIGN, "margin_rate": "0.42"})
    assert settings.margin_rate == Decimal("0.42")
    assert dump_campaign(settings)["margin_rate"] == 0.42
