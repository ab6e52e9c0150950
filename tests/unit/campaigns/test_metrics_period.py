"""Period bounds: days in a shop's time zone (a `to` day counts whole), datetimes as given, UTC out."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.metrics import days_touched, period_end, period_start

PARIS = ZoneInfo("Europe/Paris")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_day_starts_at_midnight_in_the_zone() -> None:
    assert period_start(date(2026, 12, 1), PARIS) == utc(2026, 11, 30, 23)
    assert period_start(date(2026, 12, 1), UTC) == utc(2026, 12, 1)


def test_a_day_as_the_end_is_included_whole() -> None:
    assert period_end(date(2026, 11, 30), UTC) == utc(2026, 12, 1)
    assert period_end(date(2026, 11, 30), PARIS) == utc(2026, 11, 30, 23)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_days_of_a_clock_change_are_as_long_as_they_really_are(day: date, hours: int) -> None:
    assert period_end(day, PARIS) - period_start(day, PARIS) == timedelta(hours=hours)


def test_a_datetime_without_offset_is_read_in_the_zone_and_one_with_an_offset_as_given() -> None:
    assert period_start(datetime(2026, 7, 1, 12), PARIS) == utc(2026, 7, 1, 10)
    assert period_end(datetime(2026, 7, 1, 12), PARIS) == utc(2026, 7, 1, 10)
    plus_two = datetime(2026, 7, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert period_start(plus_two, UTC) == period_end(plus_two, UTC) == utc(2026, 7, 1, 10)
    assert period_start(plus_two, PARIS).tzinfo is UTC


@pytest.mark.parametrize(
    ("bound", "value", "zone"),
    [
        (period_end, date(9999, 12, 31), UTC),  # the day ends in year 10000
        (period_start, date(1, 1, 1), PARIS),  # its midnight is in year 0 in UTC
        (period_start, datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), UTC),
    ],
)
def test_bounds_outside_the_calendar_overflow(
    bound: Callable[[date, tzinfo], datetime], value: date, zone: tzinfo
) -> None:
    with pytest.raises(OverflowError):
        bound(value, zone)


def test_days_touched_are_the_utc_days_a_period_overlaps() -> None:
    assert days_touched(utc(2026, 11, 29), utc(2026, 12, 1)) == (date(2026, 11, 29), date(2026, 11, 30))
    assert days_touched(utc(2026, 11, 29, 12), utc(2026, 11, 29, 13)) == (date(2026, 11, 29),) * 2
    assert days_touched(utc(2026, 11, 29, 23), utc(2026, 11, 30, 0, 0, 1)) == (
        date(2026, 11, 29),
        date(2026, 11, 30),
    )


@given(st.dates(date(1, 1, 2), date(9999, 12, 30)), st.dates(date(1, 1, 2), date(9999, 12, 30)))
def test_a_period_of_whole_days_touches_exactly_those_days(first: date, last: date) -> None:
    first, last = min(first, last), max(first, last)
    start, end = period_start(first, UTC), period_end(last, UTC)
    assert start < end and days_touched(start, end) == (first, last)
