"""Helpers for the scoring integration tests: leads built directly in the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, AuditLog, Lead, RescoreRun, Ruleset, ScoreChange
from bridge.infra.context import Context

AddLead = Callable[..., int]


@pytest.fixture
def add_lead(ctx: Context) -> AddLead:
    """Insert a lead and its activities: add_lead(shop_id, email, [(kind, at), ...], **columns)."""

    def add(shop_id: int, email: str, activities: Iterable[tuple[str, datetime]] = (), **columns: Any) -> int:
        with transaction(ctx.sessions) as session:
            lead = Lead(
                shop_id=shop_id, email=email, created_at=ctx.now(), source={}, breakdown={}, **columns
            )
            session.add(lead)
            session.flush()
            for index, (kind, at) in enumerate(activities):
                session.add(
                    Activity(shop_id=shop_id, lead_id=lead.id, kind=kind, occurred_at=at, ref=f"r{index}")
                )
            return lead.id

    return add


def bearer(api_key: str) -> dict[str, str]:
    """The Authorization header of a shop's API key."""
    return {"Authorization": f"Bearer {api_key}"}


def snapshot(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row scoring and rules can touch, to prove that something changed nothing."""
    tables = {
        "leads": Lead.__table__,
        "activities": Activity.__table__,
        "score_changes": ScoreChange.__table__,
        "rulesets": Ruleset.__table__,
        "rescore_runs": RescoreRun.__table__,
        "audit_log": AuditLog.__table__,
    }
    with ctx.sessions() as session:
        return {
            name: [tuple(row) for row in session.execute(sa.select(table).order_by(table.c.id))]
            for name, table in tables.items()
        }


def scores(ctx: Context, shop_id: int) -> dict[str, tuple[int, str]]:
    """email -> (score, tier) of a shop's leads."""
    with ctx.sessions() as session:
        rows = session.execute(sa.select(Lead.email, Lead.score, Lead.tier).where(Lead.shop_id == shop_id))
        return {email: (score, tier) for email, score, tier in rows}
