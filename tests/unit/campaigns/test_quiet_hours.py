"""Quiet hours: a send is delayed to the end of the window in the shop's time zone, DST included."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.policy import quiet_hours_end, quiet_until
from campaigns.settings import CampaignSettings, QuietHours

PARIS = ZoneInfo("Europe/Paris")
NIGHT = QuietHours(start=time(21, 0), end=time(8, 0))
SETTINGS = CampaignSettings(timezone="Europe/Paris", quiet_hours=NIGHT)


def paris(year: int, month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """Return a wall-clock time in Paris; fold=1 picks the second of a repeated hour."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold)


def until(local_now: datetime, settings: CampaignSettings = SETTINGS) -> datetime | None:
    """When the shop's quiet hours end, seen at a local time (None: not in them)."""
    return quiet_until(settings, local_now.astimezone(UTC))


@pytest.mark.parametrize(
    ("local_now", "expected_utc"),
    [
        # Evening: wait for tomorrow 08:00 Paris (07:00 UTC in winter).
        (paris(2026, 11, 26, 22, 30), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)),
        (paris(2026, 11, 26, 21, 0), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)),
        # After midnight: the window ends the same day.
        (paris(2026, 11, 27, 3, 0), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)),
        (paris(2026, 11, 27, 7, 59), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)),
        # Spring forward (29 March 2026): the night is an hour shorter, 08:00 CEST is 06:00 UTC.
        (paris(2026, 3, 28, 23, 0), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        # Fall back (25 October 2026): the night is an hour longer, 08:00 CET is 07:00 UTC.
        (paris(2026, 10, 24, 23, 0), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
        # Summer: 08:00 CEST.
        (paris(2026, 7, 14, 23, 30), datetime(2026, 7, 15, 6, 0, tzinfo=UTC)),
    ],
)
def test_in_quiet_hours_the_send_waits_for_their_end(local_now: datetime, expected_utc: datetime) -> None:
    end = until(local_now)
    assert end == expected_utc
    assert end is not None and end.utcoffset() == timedelta(0)
    # Whatever zone `now` is given in, the answer is the same instant, in UTC.
    assert quiet_hours_end(local_now, NIGHT, PARIS) == expected_utc


@pytest.mark.parametrize(
    "local_now", [paris(2026, 11, 27, 8, 0), paris(2026, 11, 26, 12, 0), paris(2026, 11, 26, 20, 59)]
)
def test_outside_quiet_hours_nothing_waits(local_now: datetime) -> None:
    assert until(local_now) is None


def test_the_window_is_read_in_the_shop_time_zone() -> None:
    # 22:00 UTC is 23:00 in Paris (quiet) but 17:00 in New York (not quiet).
    now = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    assert quiet_until(SETTINGS, now) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert quiet_until(replace(SETTINGS, timezone="America/New_York"), now) is None


def test_without_a_time_zone_the_window_is_read_in_utc() -> None:
    utc = replace(SETTINGS, timezone=None)
    assert quiet_until(utc, datetime(2026, 11, 26, 22, 0, tzinfo=UTC)) == datetime(
        2026, 11, 27, 8, tzinfo=UTC
    )
    assert quiet_until(utc, datetime(2026, 11, 26, 20, 0, tzinfo=UTC)) is None


def test_a_daytime_window_that_does_not_cross_midnight() -> None:
    lunch = replace(SETTINGS, quiet_hours=QuietHours(time(12, 0), time(14, 0)))
    assert until(paris(2026, 11, 26, 12, 0), lunch) == paris(2026, 11, 26, 14, 0)
    assert until(paris(2026, 11, 26, 13, 0), lunch) == paris(2026, 11, 26, 14, 0)
    assert until(paris(2026, 11, 26, 14, 0), lunch) is None
    assert until(paris(2026, 11, 26, 11, 59), lunch) is None


def test_no_quiet_hours() -> None:
    assert until(paris(2026, 11, 26, 23, 0), replace(SETTINGS, quiet_hours=None)) is None


def test_an_end_skipped_by_the_spring_gap_maps_past_the_gap() -> None:
    window = QuietHours(time(1, 0), time(2, 30))  # 02:30 does not exist in Paris on 29 March 2026
    now = paris(2026, 3, 29, 1, 30)
    assert quiet_hours_end(now, window, PARIS) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_an_end_that_happens_twice_is_the_next_occurrence() -> None:
    window = QuietHours(time(1, 0), time(2, 30))  # 02:00-03:00 happens twice in Paris on 25 October 2026
    first, second = paris(2026, 10, 25, 2, 10), paris(2026, 10, 25, 2, 10, fold=1)
    assert quiet_hours_end(first, window, PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert quiet_hours_end(second, window, PARIS) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET


clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.tuples(clock, clock).filter(lambda w: w[0] != w[1]),
    st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]),
)
def test_the_delayed_send_is_the_next_end_of_the_window(
    now: datetime, bounds: tuple[time, time], zone_name: str
) -> None:
    zone, window = ZoneInfo(zone_name), QuietHours(*bounds)
    end = quiet_hours_end(now, window, zone)
    if end is None:
        return
    assert now < end <= now + timedelta(days=1, hours=1)
    local_end = end.astimezone(zone)
    # The end is the window's end on the wall clock, unless DST skipped that time on that day.
    if local_end.time() != window.end:
        skipped = datetime.combine(local_end.date(), window.end, tzinfo=zone)
        assert skipped.astimezone(UTC).astimezone(zone).time() != window.end
