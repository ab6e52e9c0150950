"""Commercial pressure: when a journey's due step may go out, given the lead's other emails and the
shop's quiet hours. A step held back is deferred to the first allowed moment, never dropped; it is
skipped only when that moment is later than the step's `max_delay_hours` allows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.policy import quiet_hours_end
from campaigns.settings import CampaignSettings, Pressure


@dataclass(frozen=True)
class SentEmail:
    """An email the lead received (or is about to), from which run."""

    sent_at: datetime
    run_id: int | None


@dataclass(frozen=True)
class Rival:
    """Another active run of the same lead whose step is due too."""

    run_id: int
    due_at: datetime
    rank: int


@dataclass(frozen=True)
class Pacing:
    """ "send" now, "defer" to `at`, or "skip" (too late for the step's max delay); `reason` says why."""

    action: str
    reason: str
    at: datetime | None = None


def _cap_clear(at: datetime, emails: Sequence[SentEmail], pressure: Pressure) -> datetime:
    """The first moment from `at` when fewer than `max_emails` fall in the rolling window."""
    window = timedelta(days=pressure.window_days)
    inside = sorted(email.sent_at for email in emails if at - window < email.sent_at <= at)
    if len(inside) < pressure.max_emails:
        return at
    # The oldest emails must leave the window until one slot is free.
    return inside[len(inside) - pressure.max_emails] + window + timedelta(seconds=1)


def _gap_clear(at: datetime, emails: Sequence[SentEmail], run_id: int, pressure: Pressure) -> datetime:
    """The first moment from `at` at least `min_gap_hours` after an email of another run."""
    gap = timedelta(hours=pressure.min_gap_hours)
    others = [email.sent_at for email in emails if email.run_id != run_id and email.sent_at <= at]
    latest = max(others, default=None)
    return at if latest is None or at - latest >= gap else latest + gap


def earliest_send(
    now: datetime,
    run_id: int,
    rank: int,
    emails: Sequence[SentEmail],
    rivals: Sequence[Rival],
    settings: CampaignSettings,
) -> tuple[datetime, str]:
    """The first moment from `now` that every rule allows, and the rule that held the step back last."""
    zone = ZoneInfo(settings.timezone or "UTC")
    pressure, at, reason = settings.pressure, now, "eligible"
    # A rival of higher rank due already goes first: this step waits for the gap after it.
    if pressure is not None and any(r.rank > rank and r.due_at <= now for r in rivals if r.run_id != run_id):
        at, reason = now + timedelta(hours=pressure.min_gap_hours or 1), "priority"
    for _ in range(8):  # each rule can only push later; a few rounds settle every combination
        moved = at
        if pressure is not None:
            if (clear := _cap_clear(moved, emails, pressure)) > moved:
                moved, reason = clear, "frequency_cap"
            if (clear := _gap_clear(moved, emails, run_id, pressure)) > moved:
                moved, reason = clear, "min_gap"
        if settings.quiet_hours is not None and (end := quiet_hours_end(moved, settings.quiet_hours, zone)):
            moved, reason = end, "quiet_hours"
        if moved == at:
            break
        at = moved
    return at, reason


def pace(
    now: datetime,
    due_at: datetime,
    max_delay_hours: int | None,
    run_id: int,
    rank: int,
    emails: Sequence[SentEmail],
    rivals: Sequence[Rival],
    settings: CampaignSettings,
) -> Pacing:
    """Whether a due step goes now, later (deferred) or not at all (later than its max delay)."""
    at, reason = earliest_send(now, run_id, rank, emails, rivals, settings)
    if at <= now:
        if max_delay_hours is not None and now > due_at + timedelta(hours=max_delay_hours):
            return Pacing("skip", "too_late:backlog", now)  # a run found late (a backlog, a worker down)
        return Pacing("send", "eligible", now)
    if max_delay_hours is not None and at > due_at + timedelta(hours=max_delay_hours):
        return Pacing("skip", f"too_late:{reason}", at)
    return Pacing("defer", reason, at)
