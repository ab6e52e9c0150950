"""The prospects queue: leads handed to whoever sells, each with a status, an owner and a response timer,
and the history of what happened to them (for the measurement issue's calibration chart)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

PROSPECT_STATUSES = ("to_contact", "contacted", "won", "not_a_fit")
OPEN_STATUSES = ("to_contact", "contacted")
# One open prospect per lead (a partial unique index): a closed one may be followed by a new entry.
PROSPECT_OPEN = "closed_at IS NULL"


class Prospect(Base):
    """One stay of a lead in the queue, from its entry to its outcome (won or not a fit)."""

    __tablename__ = "prospects"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="to_contact")  # one of PROSPECT_STATUSES
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(80))  # why it entered: "tier:hot", later "segment:<key>"
    score_at_entry: Mapped[int]
    entered_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the response target: entered_at + the rules' response_hours
    first_contacted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    __table_args__ = (
        sa.Index(
            "uq_prospects_open_lead",
            "shop_id",
            "lead_id",
            unique=True,
            postgresql_where=sa.text(PROSPECT_OPEN),
            sqlite_where=sa.text(PROSPECT_OPEN),
        ),
        sa.Index("ix_prospects_shop_status_due", "shop_id", "status", "due_at"),
        sa.Index("ix_prospects_lead", "lead_id"),
    )


class ProspectEvent(Base):
    """One change of a prospect (entered, a status, an owner), who made it and the lead's score then."""

    __tablename__ = "prospect_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    prospect_id: Mapped[int] = mapped_column(cascade_fk("prospects.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(sa.String(16))  # "entered", "status" or "owner"
    old_value: Mapped[str | None] = mapped_column(sa.String(40))
    new_value: Mapped[str | None] = mapped_column(sa.String(40))
    actor: Mapped[str] = mapped_column(sa.String(320))
    score: Mapped[int]  # the lead's score when it happened
    tier: Mapped[str] = mapped_column(sa.String(10))
    __table_args__ = (
        sa.Index("ix_prospect_events_prospect", "prospect_id", "at"),
        sa.Index("ix_prospect_events_shop_at", "shop_id", "at"),
    )
