"""Commercial pressure: a due step goes now, is deferred to the first allowed moment, or is skipped only
past its max delay; the cap, the gap between runs, priorities and quiet hours combine."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.pacing import Pacing, Rival, SentEmail, earliest_send, pace
from campaigns.policy import quiet_hours_end
from campaigns.settings import CampaignSettings, Pressure, QuietHours

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # noon in Paris: outside the quiet hours
RUN, OTHER, THIRD = 1, 2, 3
RANK = 20
NIGHT = QuietHours(time(21, 0), time(8, 0))
# Three emails a week, 12 hours between two runs; no quiet hours unless a test turns them on.
SETTINGS = CampaignSettings(timezone="Europe/Paris", quiet_hours=None, pressure=Pressure(3, 7, 12))


def paris(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def decide(
    emails: Sequence[SentEmail] = (),
    rivals: Sequence[Rival] = (),
    *,
    now: datetime = NOW,
    due_at: datetime | None = None,
    max_delay_hours: int | None = None,
    rank: int = RANK,
    **changes: Any,
) -> Pacing:
    """pace() for run RUN's step due at `due_at` (default: now), with the settings changed by `changes`."""
    return pace(now, due_at or now, max_delay_hours, RUN, rank, emails, rivals, replace(SETTINGS, **changes))


def mail(ago: timedelta, run_id: int | None = OTHER) -> SentEmail:
    return SentEmail(NOW - ago, run_id)


DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def test_nothing_in_the_way_sends_now() -> None:
    assert decide() == Pacing("send", "eligible", NOW)
    assert decide([mail(2 * DAY), mail(DAY)]) == Pacing("send", "eligible", NOW)  # two of three


def test_a_full_cap_waits_until_the_oldest_email_leaves_the_window() -> None:
    emails = [mail(6 * DAY), mail(2 * DAY), mail(DAY)]
    pacing = decide(emails)
    assert (pacing.action, pacing.reason) == ("defer", "frequency_cap")
    oldest_leaves = NOW - 6 * DAY + 7 * DAY
    assert pacing.at is not None and oldest_leaves <= pacing.at <= oldest_leaves + timedelta(seconds=1)


def test_over_the_cap_waits_until_enough_emails_have_left() -> None:
    # Four emails in the window (the cap was lowered since): two must leave for one slot.
    emails = [mail(6 * DAY), mail(5 * DAY), mail(4 * DAY), mail(DAY)]
    pacing = decide(emails)
    second_leaves = NOW - 5 * DAY + 7 * DAY
    assert pacing.reason == "frequency_cap"
    assert pacing.at is not None and second_leaves <= pacing.at <= second_leaves + timedelta(seconds=1)


def test_the_cap_counts_the_runs_own_emails_and_emails_without_a_run() -> None:
    assert decide([mail(3 * DAY, RUN), mail(2 * DAY, RUN), mail(DAY, None)]).reason == "frequency_cap"
    # An email just outside the window does not count.
    assert decide([mail(7 * DAY), mail(2 * DAY, RUN), mail(DAY, RUN)]).action == "send"


def test_the_minimum_gap_holds_between_two_runs() -> None:
    pacing = decide([mail(2 * HOUR, OTHER)])
    assert pacing == Pacing("defer", "min_gap", NOW + 10 * HOUR)
    assert decide([mail(12 * HOUR, OTHER)]).action == "send"
    assert decide([mail(2 * HOUR, None)]).reason == "min_gap"  # an email of no run is another run's


def test_a_runs_own_steps_are_not_held_by_the_gap() -> None:
    assert decide([mail(timedelta(minutes=5), RUN)]) == Pacing("send", "eligible", NOW)


def test_the_gap_counts_from_the_latest_email_of_another_run() -> None:
    emails = [mail(11 * HOUR, OTHER), mail(3 * HOUR, THIRD), mail(HOUR, RUN)]
    pacing = decide(emails, pressure=Pressure(5, 7, 12))
    assert pacing == Pacing("defer", "min_gap", NOW + 9 * HOUR)


def test_a_due_rival_of_higher_priority_goes_first() -> None:
    cart = Rival(OTHER, NOW - HOUR, rank=40)
    assert decide(rivals=[cart]) == Pacing("defer", "priority", NOW + 12 * HOUR)
    # Without a gap between runs, the step still lets the rival go first.
    assert decide(rivals=[cart], pressure=Pressure(3, 7, 0)) == Pacing("defer", "priority", NOW + HOUR)


@pytest.mark.parametrize(
    "rival",
    [
        Rival(OTHER, NOW - HOUR, rank=RANK),  # same priority: no one waits
        Rival(OTHER, NOW - HOUR, rank=10),  # lower priority
        Rival(OTHER, NOW + HOUR, rank=40),  # higher, but not due yet
        Rival(RUN, NOW - HOUR, rank=40),  # the run itself
    ],
)
def test_rivals_that_do_not_hold_a_step_back(rival: Rival) -> None:
    assert decide(rivals=[rival]).action == "send"


def test_quiet_hours_crossing_midnight_in_paris() -> None:
    evening, after_midnight = paris(26, 22, 30), paris(27, 3)
    morning = paris(27, 8)
    assert decide(now=evening, quiet_hours=NIGHT) == Pacing("defer", "quiet_hours", morning)
    assert decide(now=after_midnight, quiet_hours=NIGHT) == Pacing("defer", "quiet_hours", morning)
    assert decide(now=paris(27, 8), quiet_hours=NIGHT).action == "send"
    assert decide(now=paris(26, 20, 59), quiet_hours=NIGHT).action == "send"
    assert morning == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def test_quiet_hours_on_the_night_the_clocks_go_back() -> None:
    # 25 October 2026: Paris leaves summer time; 08:00 CET is 07:00 UTC.
    pacing = decide(now=paris(24, 23, month=10), quiet_hours=NIGHT)
    assert pacing == Pacing("defer", "quiet_hours", datetime(2026, 10, 25, 7, 0, tzinfo=UTC))


def test_quiet_hours_apply_without_pressure() -> None:
    pacing = decide(now=paris(26, 23), quiet_hours=NIGHT, pressure=None)
    assert pacing == Pacing("defer", "quiet_hours", paris(27, 8))


def test_a_cap_that_clears_at_night_waits_for_the_morning() -> None:
    # The oldest email leaves the window at 22:30 Paris: quiet then, so 08:00 the day after.
    emails = [SentEmail(paris(20, 22, 30), OTHER), mail(2 * DAY), mail(DAY)]
    assert decide(emails, quiet_hours=NIGHT) == Pacing("defer", "quiet_hours", paris(28, 8))


def test_a_cap_that_clears_after_the_night_waits_for_the_cap() -> None:
    emails = [SentEmail(paris(20, 9, 30), OTHER), mail(2 * DAY), mail(DAY)]
    now = paris(26, 23)
    pacing = decide(emails, now=now, quiet_hours=NIGHT)
    assert (pacing.action, pacing.reason) == ("defer", "frequency_cap")
    assert pacing.at is not None and paris(27, 9, 30) <= pacing.at <= paris(27, 9, 30) + timedelta(seconds=1)


def test_a_gap_that_ends_at_night_waits_for_the_morning() -> None:
    now = paris(26, 15)
    pacing = decide([SentEmail(now - HOUR, OTHER)], now=now, quiet_hours=NIGHT)  # gap ends 02:00
    assert pacing == Pacing("defer", "quiet_hours", paris(27, 8))


def test_a_step_later_than_its_max_delay_is_skipped_with_the_rule() -> None:
    night = paris(26, 23)
    pacing = decide(now=night, quiet_hours=NIGHT, max_delay_hours=2)
    assert pacing == Pacing("skip", "too_late:quiet_hours", paris(27, 8))
    assert decide(now=night, quiet_hours=NIGHT, max_delay_hours=9).action == "defer"  # exactly 9 h later
    assert decide([mail(2 * HOUR)], max_delay_hours=9).reason == "too_late:min_gap"
    assert (
        decide([mail(6 * DAY), mail(DAY), mail(HOUR, RUN)], max_delay_hours=24).reason
        == "too_late:frequency_cap"
    )
    assert decide(rivals=[Rival(OTHER, NOW, 40)], max_delay_hours=1).reason == "too_late:priority"


def test_the_max_delay_counts_from_when_the_step_was_first_due() -> None:
    # Deferred already for 20 hours: a further 9 hours breaks a 24-hour max delay.
    night = paris(26, 23)
    pacing = decide(now=night, due_at=night - 20 * HOUR, quiet_hours=NIGHT, max_delay_hours=24)
    assert (pacing.action, pacing.reason) == ("skip", "too_late:quiet_hours")
    assert decide(now=night, due_at=night - 20 * HOUR, quiet_hours=NIGHT).action == "defer"  # no max delay


def test_without_pressure_nothing_but_quiet_hours_holds_a_step() -> None:
    emails = [mail(3 * HOUR), mail(2 * HOUR), mail(HOUR), mail(HOUR, RUN)]
    rivals = [Rival(OTHER, NOW - HOUR, 100)]
    assert decide(emails, rivals, pressure=None) == Pacing("send", "eligible", NOW)


def test_earliest_send_names_the_rule_that_held_last() -> None:
    at, reason = earliest_send(NOW, RUN, RANK, [mail(2 * HOUR)], [], SETTINGS)
    assert (at, reason) == (NOW + 10 * HOUR, "min_gap")
    assert earliest_send(NOW, RUN, RANK, [], [], SETTINGS) == (NOW, "eligible")


# Properties ---------------------------------------------------------------------------------------------

ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))
windows = st.none() | st.tuples(clock, clock).filter(lambda w: w[0] != w[1]).map(lambda w: QuietHours(*w))
pressures = st.none() | st.builds(
    Pressure, max_emails=st.integers(1, 5), window_days=st.integers(1, 14), min_gap_hours=st.integers(0, 48)
)
shop_settings = st.builds(
    lambda zone, quiet, pressure: replace(SETTINGS, timezone=zone, quiet_hours=quiet, pressure=pressure),
    st.sampled_from(ZONES),
    windows,
    pressures,
)
nows = st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC))
past = st.timedeltas(timedelta(0), timedelta(days=20)).map(lambda d: -d)
emails_before = st.lists(st.tuples(past, st.sampled_from([RUN, OTHER, THIRD, None])), max_size=8)
rival_lists = st.lists(
    st.builds(
        Rival,
        run_id=st.sampled_from([OTHER, THIRD]),
        due_at=st.just(NOW),
        rank=st.integers(0, 100),
    ),
    max_size=2,
)


def in_window(at: datetime, emails: Sequence[SentEmail], pressure: Pressure) -> int:
    return sum(at - timedelta(days=pressure.window_days) < e.sent_at <= at for e in emails)


@settings(max_examples=300)
@given(
    nows, emails_before, rival_lists, shop_settings, st.none() | st.integers(1, 24 * 30), st.integers(0, 100)
)
def test_a_paced_step_is_never_early_and_never_breaks_a_rule(
    now: datetime,
    offsets: list[tuple[timedelta, int | None]],
    rivals: list[Rival],
    shop: CampaignSettings,
    max_delay: int | None,
    rank: int,
) -> None:
    emails = [SentEmail(now + offset, run_id) for offset, run_id in offsets]
    rivals = [replace(rival, due_at=now) for rival in rivals]
    pacing = pace(now, now, max_delay, RUN, rank, emails, rivals, shop)
    assert pacing.at is not None and pacing.at >= now
    assert (pacing.action == "send") == (pacing.at == now)
    if pacing.action == "skip":
        assert max_delay is not None and pacing.at > now + timedelta(hours=max_delay)
        assert pacing.reason.startswith("too_late:")
    # Whether sent now or later, the moment it names breaks no rule.
    zone = ZoneInfo(shop.timezone or "UTC")
    assert shop.quiet_hours is None or quiet_hours_end(pacing.at, shop.quiet_hours, zone) is None
    pressure = shop.pressure
    if pressure is not None:
        assert in_window(pacing.at, emails, pressure) < pressure.max_emails
        gap = timedelta(hours=pressure.min_gap_hours)
        assert all(pacing.at - e.sent_at >= gap for e in emails if e.run_id != RUN)
        if any(r.rank > rank for r in rivals):
            assert pacing.at > now


@given(nows, emails_before, shop_settings)
def test_a_full_cap_never_sends(
    now: datetime, offsets: list[tuple[timedelta, int | None]], shop: CampaignSettings
) -> None:
    emails = [SentEmail(now + offset, run_id) for offset, run_id in offsets]
    pacing = pace(now, now, None, RUN, RANK, emails, [], shop)
    if shop.pressure is not None and in_window(now, emails, shop.pressure) >= shop.pressure.max_emails:
        assert pacing.action == "defer"
    assert pacing.action != "skip"  # without a max delay, a step is never dropped


def test_a_step_found_later_than_its_max_delay_is_skipped_even_when_nothing_holds_it():
    from datetime import UTC, datetime, timedelta

    from campaigns import CampaignSettings, pace

    due = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    settings = CampaignSettings(quiet_hours=None, pressure=None, timezone="UTC")
    late = pace(due + timedelta(hours=3), due, 2, 1, 10, [], [], settings)
    assert (late.action, late.reason) == ("skip", "too_late:backlog")
    in_time = pace(due + timedelta(hours=1), due, 2, 1, 10, [], [], settings)
    assert in_time.action == "send"
