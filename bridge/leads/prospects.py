"""The prospects queue: leads handed to whoever sells, with a status, an owner and a response timer.

A lead enters when its own activity moves it into the rules' entry tier (`enter`, from the tier-entered
job) and stays until a salesperson closes it as won or not a fit. One open prospect per lead: entering
again while open adds nothing; a closed prospect whose lead later rises into the tier again (it dropped
out, then did something new) enters anew, as a new row. Each status a salesperson sets is written as an
activity the rules can score (`sales_contacted`, `sales_won`, `sales_not_a_fit`, ref `prospect:<id>`, so a
repeat adds nothing) and the lead is rescored in the same transaction; that rescore starts no journey and
no new entry (a salesperson's click is not the lead's own activity). `prospect_events` keeps every change
with the lead's score at the time, for the calibration chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.db.models import (
    OPEN_STATUSES,
    PROSPECT_STATUSES,
    AdminUser,
    Lead,
    Prospect,
    ProspectEvent,
    Shop,
)
from bridge.leads import segments
from bridge.leads.people import add_activity
from bridge.leads.rules import prospect_settings_for
from bridge.leads.scores import TIER_ORDER, score_leads

SYSTEM = "relance"  # the actor of an entry
# Where each status may go; won and not a fit close the prospect for good (a new entry opens a new one).
TRANSITIONS: dict[str, frozenset[str]] = {
    "to_contact": frozenset({"contacted", "won", "not_a_fit"}),
    "contacted": frozenset({"won", "not_a_fit"}),
    "won": frozenset(),
    "not_a_fit": frozenset(),
}
OUTCOME_KINDS = {"contacted": "sales_contacted", "won": "sales_won", "not_a_fit": "sales_not_a_fit"}
KEEP: Any = object()  # `change`'s owner_id when the owner stays as it is


def enter(session: Session, shop: Shop, lead: Lead, tier: str, now: datetime) -> Prospect | None:
    """A lead whose own activity moved it up into `tier` enters the queue when that tier reaches the rules'
    entry tier; None when it does not enter (queue off, a segment entry, a lower tier, already open)."""
    settings = prospect_settings_for(session, shop.id)
    if not settings.enabled or settings.entry_tier is None:
        return None
    if TIER_ORDER.get(tier, -1) < TIER_ORDER[settings.entry_tier]:
        return None
    return admit(session, shop.id, lead, settings.reason, timedelta(hours=settings.response_hours), now)


def enter_segment_members(session: Session, shop: Shop, lead_ids: Iterable[int], now: datetime) -> int:
    """After an event touched some leads: when the queue's entry is a segment, those of them now in it enter
    (once while open); how many entered. One cached read of the settings when the entry is a tier."""
    settings = prospect_settings_for(session, shop.id)
    key = settings.entry_segment
    segment = segments.shop_segments(session, shop.id).get(key) if settings.enabled and key else None
    if segment is None or key is None:
        return 0
    entered = 0
    for lead in session.scalars(sa.select(Lead).where(Lead.id.in_(sorted(set(lead_ids))))):
        if segments.is_member(session, shop.id, segment, lead.id, now):
            entered += enter_segment(session, shop, lead, key, now) is not None
    return entered


def enter_segment(session: Session, shop: Shop, lead: Lead, segment: str, now: datetime) -> Prospect | None:
    """A lead that is in the merchant's segment `segment` enters the queue when the rules' entry names that
    segment (`enter_segment_members` calls it for the leads an event touched)."""
    settings = prospect_settings_for(session, shop.id)
    if not settings.enabled or settings.entry_segment != segment:
        return None
    return admit(session, shop.id, lead, settings.reason, timedelta(hours=settings.response_hours), now)


def admit(
    session: Session, shop_id: int, lead: Lead, reason: str, response: timedelta, now: datetime
) -> Prospect | None:
    """Put a lead in the open queue, due `response` from now; None when it is open there already (or erased).
    The partial unique index settles a race between two entries."""
    if lead.redacted_at is not None or open_prospect(session, shop_id, lead.id) is not None:
        return None
    prospect = Prospect(
        shop_id=shop_id,
        lead_id=lead.id,
        status="to_contact",
        reason=reason[:80],
        score_at_entry=lead.score,
        entered_at=now,
        due_at=now + response,
    )
    try:
        with session.begin_nested():
            session.add(prospect)
            session.flush()
    except IntegrityError:
        return None
    _record(session, prospect, lead, "entered", None, "to_contact", SYSTEM, now)
    return prospect


def open_prospect(session: Session, shop_id: int, lead_id: int) -> Prospect | None:
    """The lead's prospect still in the queue, if any."""
    return session.scalar(
        sa.select(Prospect).where(
            Prospect.shop_id == shop_id, Prospect.lead_id == lead_id, Prospect.closed_at.is_(None)
        )
    )


def is_shop_user(session: Session, shop_id: int, user_id: int) -> bool:
    """Whether this admin user belongs to the shop (an owner must)."""
    return (
        session.scalar(sa.select(AdminUser.id).where(AdminUser.id == user_id, AdminUser.shop_id == shop_id))
        is not None
    )


def problems(
    session: Session, prospect: Prospect, status: str | None, owner_id: Any = KEEP
) -> dict[str, list[str]]:
    """What is wrong with a change, per field ({} when it may be made)."""
    errors: dict[str, list[str]] = {}
    if status is not None:
        if status not in PROSPECT_STATUSES:
            errors["status"] = [f"Must be one of: {', '.join(PROSPECT_STATUSES)}."]
        elif status != prospect.status and status not in TRANSITIONS[prospect.status]:
            errors["status"] = [f"A prospect marked {prospect.status} cannot become {status}."]
    wrong_owner = not isinstance(owner_id, int) or not is_shop_user(session, prospect.shop_id, owner_id)
    if owner_id is not KEEP and owner_id is not None and wrong_owner:
        errors["owner_id"] = ["Must be a user of this shop."]
    return errors


def change(
    session: Session,
    shop: Shop,
    prospect: Prospect,
    actor: str,
    now: datetime,
    status: str | None = None,
    owner_id: Any = KEEP,
) -> dict[str, list[str]]:
    """Set a prospect's status and/or owner in the caller's transaction; returns the problems instead when
    there are any (and changes nothing). A new status is written as scored activities and the lead
    rescored; setting the status it has already is a no-op."""
    lead = session.get(Lead, prospect.lead_id, with_for_update=True)  # one change of a lead at a time
    session.refresh(prospect)  # as the change before this one left it
    errors = problems(session, prospect, status, owner_id)
    if errors:
        return errors
    assert lead is not None
    if owner_id is not KEEP and owner_id != prospect.owner_id:
        old = prospect.owner_id
        prospect.owner_id = owner_id
        _record(session, prospect, lead, "owner", _text(old), _text(owner_id), actor, now)
    if status is not None and status != prospect.status:
        _set_status(session, shop, prospect, lead, status, actor, now)
    return {}


def _set_status(
    session: Session, shop: Shop, prospect: Prospect, lead: Lead, status: str, actor: str, now: datetime
) -> None:
    old = prospect.status
    kinds = []
    if prospect.first_contacted_at is None:  # won or not a fit straight away: contacted meanwhile
        prospect.first_contacted_at = now
        kinds.append(OUTCOME_KINDS["contacted"])
    if status != "contacted":
        prospect.closed_at = now
        kinds.append(OUTCOME_KINDS[status])
    prospect.status = status
    _record(session, prospect, lead, "status", old, status, actor, now)  # the score before its own points
    last_activity_at = lead.last_activity_at  # the lead's own; a salesperson's click does not move it
    added = [add_activity(session, lead, kind, now, f"prospect:{prospect.id}", None) for kind in kinds]
    lead.last_activity_at = last_activity_at
    if any(added) and lead.redacted_at is None:
        # No follow-ups: the salesperson's click is not the lead's own activity (no journey, no re-entry).
        score_leads(session, shop, [lead.id], now, f"sales: {status}")


def _record(
    session: Session,
    prospect: Prospect,
    lead: Lead,
    kind: str,
    old: str | None,
    new: str | None,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        ProspectEvent(
            shop_id=prospect.shop_id,
            prospect_id=prospect.id,
            at=now,
            kind=kind,
            old_value=old,
            new_value=new,
            actor=actor[:320],
            score=lead.score,
            tier=lead.tier,
        )
    )


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class QueueFilter:
    """Which prospects a list shows: statuses, an owner (0: nobody), only the overdue ones."""

    statuses: tuple[str, ...] = OPEN_STATUSES
    owner_id: int | None = None
    overdue: bool = False


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """Prospects nobody has contacted yet past their response target."""
    return sa.and_(Prospect.status == "to_contact", Prospect.due_at < now)


def queue(
    session: Session, shop_id: int, now: datetime, where: QueueFilter, limit: int, offset: int = 0
) -> list[tuple[Prospect, Lead]]:
    """One page of a shop's queue, the soonest due first (erased leads are left out)."""
    query = (
        sa.select(Prospect, Lead)
        .join(Lead, Lead.id == Prospect.lead_id)
        .where(Prospect.shop_id == shop_id, Lead.redacted_at.is_(None), Prospect.status.in_(where.statuses))
    )
    if where.owner_id == 0:
        query = query.where(Prospect.owner_id.is_(None))
    elif where.owner_id is not None:
        query = query.where(Prospect.owner_id == where.owner_id)
    if where.overdue:
        query = query.where(overdue_clause(now))
    query = query.order_by(Prospect.due_at, Prospect.id).limit(limit).offset(offset)
    return [(prospect, lead) for prospect, lead in session.execute(query)]


def overdue_count(session: Session, shop_id: int, now: datetime) -> int:
    """How many prospects of the shop are past their response target without a first contact."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Prospect)
            .join(Lead, Lead.id == Prospect.lead_id)
            .where(Prospect.shop_id == shop_id, Lead.redacted_at.is_(None), overdue_clause(now))
        )
        or 0
    )


def shop_users(session: Session, shop_id: int) -> list[AdminUser]:
    """The admin users of a shop, who may own prospects."""
    return list(
        session.scalars(sa.select(AdminUser).where(AdminUser.shop_id == shop_id).order_by(AdminUser.email))
    )


def why(lead: Lead, lines: int = 3) -> list[dict[str, Any]]:
    """The top lines of the lead's stored score breakdown, the most points first (what made it hot)."""
    found = [line for line in (lead.breakdown or {}).get("lines", []) if (line.get("points") or 0) > 0]
    return sorted(found, key=lambda line: -float(line.get("points") or 0))[:lines]


def timer(prospect: Prospect, now: datetime) -> dict[str, Any]:
    """The response timer: due time, overdue or not, seconds left until the first contact (negative: late;
    None once contacted), seconds from entry to the first contact."""
    return {
        "due_at": prospect.due_at,
        "overdue": prospect.status == "to_contact" and prospect.due_at < now,
        "seconds_left": None if prospect.first_contacted_at else (prospect.due_at - now).total_seconds(),
        "time_to_first_contact": (
            (prospect.first_contacted_at - prospect.entered_at).total_seconds()
            if prospect.first_contacted_at is not None
            else None
        ),
    }
