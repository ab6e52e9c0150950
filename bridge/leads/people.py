"""Leads: one person per shop, found by customer id or email; profile, consent and activities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db import insert_now
from bridge.db.models import Activity, Lead, Shop
from bridge.leads import preload
from bridge.leads.emails import normalize_email
from connectors import base as facts


def _holders(
    session: Session, shop_id: int, external_id: str | None, email: str | None
) -> tuple[Lead | None, Lead | None]:
    """The lead holding this customer id and the lead holding this email, in one query."""
    if not external_id and not email:
        return None, None
    if preload.covers(session, shop_id, lead_external_id=external_id, lead_email=email):
        rows: Sequence[Lead] = list(preload.rows(session, Lead, shop_id))
    else:
        wanted = [c == v for c, v in ((Lead.external_id, external_id), (Lead.email, email)) if v]
        rows = session.scalars(sa.select(Lead).where(Lead.shop_id == shop_id, sa.or_(*wanted))).all()
    by_id = next((lead for lead in rows if external_id and lead.external_id == external_id), None)
    by_email = next((lead for lead in rows if email and lead.email == email), None)
    return by_id, by_email


def _same_person(lead: Lead | None, external_id: str | None) -> Lead | None:
    # The same address on two store accounts: a different customer id is a different person.
    if lead is None or (external_id and lead.external_id and lead.external_id != external_id):
        return None
    return lead


def find_lead(session: Session, shop_id: int, external_id: str | None, email: str | None) -> Lead | None:
    """The lead known by this customer id, else by this email."""
    by_id, by_email = _holders(session, shop_id, external_id, email)
    return by_id or _same_person(by_email, external_id)


def lead_for(
    session: Session, shop: Shop, external_id: str | None, email: str | None, now: datetime
) -> Lead | None:
    """Find or create the lead for an identity; None when the fact names nobody."""
    email = normalize_email(email)
    if not external_id and not email:
        return None
    by_id, by_email = _holders(session, shop.id, external_id, email)
    lead = by_id or _same_person(by_email, external_id)
    if lead is None:
        values: dict[str, Any] = {
            "shop_id": shop.id,
            "external_id": external_id,
            # An address taken by another account stays with it; this lead is known by its customer id.
            "email": email if by_email is None else None,
            "created_at": now,
            "source": {},
            "breakdown": {},
        }
        # Inserted alone for its id, leaving the transaction's other changes to be written together later
        # (a flush here would write them all, a statement each, at every new lead).
        lead = insert_now(session, Lead, values)
        preload.remember(session, lead)
        return lead
    if external_id and not lead.external_id:
        lead.external_id = external_id
    if email and lead.email != email and by_email is None:
        lead.email = email
    return lead


def _newer(fact_time: datetime | None, stored: datetime | None) -> bool:
    return stored is None or fact_time is None or fact_time >= stored


def apply_customer(session: Session, shop: Shop, fact: facts.CustomerSeen, now: datetime) -> Lead | None:
    """Update a lead's profile unless the payload is older than what we hold."""
    lead = lead_for(session, shop, fact.external_id, fact.email, now)
    if lead is None or not _newer(fact.updated_at, lead.profile_updated_at):
        return lead
    for name in ("first_name", "last_name", "country"):
        value = getattr(fact, name)
        if value:
            setattr(lead, name, value[:2].upper() if name == "country" else value)
    if fact.accepts_marketing is not None:
        set_consent(lead, fact.accepts_marketing, fact.updated_at or now)
    lead.profile_updated_at = fact.updated_at or lead.profile_updated_at
    return lead


def set_consent(lead: Lead, accepts: bool, at: datetime) -> None:
    """Record marketing consent unless a newer consent is already known."""
    if _newer(at, lead.consent_updated_at):
        lead.accepts_marketing = accepts
        lead.consent_updated_at = at


def activity_row(
    lead: Lead, kind: str, occurred_at: datetime, ref: str, event_id: int | None, storefront: bool
) -> dict[str, Any]:
    """The `activities` row of one activity of a lead."""
    return {
        "shop_id": lead.shop_id,
        "lead_id": lead.id,
        "kind": kind,
        "occurred_at": occurred_at,
        "ref": ref[:255],
        "source_event_id": event_id,
        "storefront": storefront,
    }


def add_activity(
    session: Session,
    lead: Lead,
    kind: str,
    occurred_at: datetime,
    ref: str,
    event_id: int | None,
    storefront: bool = False,
) -> bool:
    """Insert one activity; False when it was already there (replay). The store confirming an activity
    first seen on the storefront (the same cart or checkout) makes it a store activity."""
    values = activity_row(lead, kind, occurred_at, ref, event_id, storefront)
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    insert = dialect.insert(Activity).values(**values)
    if storefront:
        stmt = insert.on_conflict_do_nothing()
    else:
        stmt = insert.on_conflict_do_update(
            index_elements=["lead_id", "kind", "ref"], set_={"storefront": False}, where=Activity.storefront
        )
    inserted = session.scalar(stmt.returning(Activity.id)) is not None
    if inserted and (lead.last_activity_at is None or occurred_at > lead.last_activity_at):
        lead.last_activity_at = occurred_at
    return inserted
