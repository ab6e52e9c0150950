"""Events: the shop's recent webhooks with their status; failed ones show their error and can be replayed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.paging import before_id, newest_first, page_of
from admin_ui.support import audit, db, owned
from bridge.db.models import EVENT_STATUSES, Event
from bridge.events import pipeline
from bridge.infra.web import context


def event_page(
    status: str, topic: str, before: int | None
) -> sa.Select[int, str, str, int, str | None, datetime, datetime | None]:
    """One page of events, newest first (keyset on id); the payload is not loaded."""
    query = sa.select(
        Event.id,
        Event.topic,
        Event.status,
        Event.attempts,
        Event.error,
        Event.received_at,
        Event.processed_at,
    ).where(Event.shop_id == shop_id())
    if status in EVENT_STATUSES:
        query = query.where(Event.status == status)
    if topic:
        query = query.where(Event.topic == topic[:100])
    return newest_first(query, Event.id, before)


@bp.get("/events")
def events() -> str:
    """Recent webhooks; filter by status or topic."""
    status, topic = request.args.get("status", ""), request.args.get("topic", "").strip()
    page = page_of(db().execute(event_page(status, topic, before_id())).all(), lambda row: str(row.id))
    notice = ""
    if request.args.get("done") == "replayed":
        notice = gettext(
            "Event %(id)s was queued again; its new status shows here in a moment.",
            id=request.args.get("id", type=int) or "",
        )
    return render_template(
        "admin_ui/events.html",
        events=page.rows,
        page=page,
        status=status,
        topic=topic,
        statuses=EVENT_STATUSES,
        notice=notice,
        active="events",
    )


@bp.post("/events/<int:event_id>/replay")
def event_replay(event_id: int) -> ResponseReturnValue:
    """Process a stored event again (the same path as `relance replay`)."""
    owned(Event, event_id)
    audit("event.replayed", event_id=event_id)
    db().commit()
    pipeline.replay(context(), [event_id])
    return redirect(
        admin_url("admin.events", done="replayed", id=event_id, status=request.form.get("status", ""))
    )
