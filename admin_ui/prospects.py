"""Prospects: the sales queue (soonest due first), each lead with why it is hot, its response timer, an
owner and the status buttons; a status set here is scored like any activity (bridge.leads.prospects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta, gettext, lazy_gettext

from admin_ui.access import admin_url, principal, shop_id
from admin_ui.blueprint import bp
from admin_ui.paging import PAGE_SIZE, page_of
from admin_ui.rules_form import KIND_NAMES
from admin_ui.support import audit, db
from bridge.db.models import OPEN_STATUSES, PROSPECT_STATUSES, Lead, Prospect, Shop
from bridge.infra.web import MAX_ID, context, int_or_none
from bridge.leads import prospects

STATUS_NAMES: dict[str, Any] = {
    "to_contact": lazy_gettext("to contact"),
    "contacted": lazy_gettext("contacted"),
    "won": lazy_gettext("won"),
    "not_a_fit": lazy_gettext("not a fit"),
}
ACTIONS: dict[str, Any] = {  # the button that sets each status
    "contacted": lazy_gettext("Contacted"),
    "won": lazy_gettext("Won"),
    "not_a_fit": lazy_gettext("Not a fit"),
}
FILTERS = ("status", "owner", "overdue")


def _filter() -> tuple[prospects.QueueFilter, dict[str, str]]:
    """The queue's filter from the query string (unknown values: the default, open prospects of anyone)."""
    status, owner = request.args.get("status", ""), request.args.get("owner", "")
    overdue = request.args.get("overdue") == "1"
    statuses = (
        PROSPECT_STATUSES if status == "all" else (status,) if status in PROSPECT_STATUSES else OPEN_STATUSES
    )
    owner_id = 0 if owner == "none" else int_or_none(owner, 1, MAX_ID)
    shown = {"status": status, "owner": owner, "overdue": "1" if overdue else ""}
    return prospects.QueueFilter(statuses, owner_id, overdue), shown


def line_label(line: dict[str, Any]) -> str:
    """A breakdown line's name in the page's language (an activity kind's own words; else as stored)."""
    rule = str(line.get("rule") or "")
    kind = rule.removeprefix("activity:")
    return str(KIND_NAMES.get(kind) or line.get("label") or rule)


def timer_text(prospect: Prospect, now: datetime) -> tuple[str, bool]:
    """The timer in words and whether it is overdue: `5 hours left`, `overdue by 2 hours`, `answered in …`."""
    if prospect.first_contacted_at is not None:
        waited = format_timedelta(prospect.first_contacted_at - prospect.entered_at, threshold=1.5)
        return gettext("first contact after %(time)s", time=waited), False
    left = prospect.due_at - now
    if left.total_seconds() < 0:
        return gettext("overdue by %(time)s", time=format_timedelta(-left, threshold=1.5)), True
    return gettext("%(time)s left", time=format_timedelta(left, threshold=1.5)), False


def _row(prospect: Prospect, lead: Lead, now: datetime) -> dict[str, Any]:
    text, overdue = timer_text(prospect, now)
    return {
        "prospect": prospect,
        "lead": lead,
        "why": [(line_label(line), line.get("points") or 0) for line in prospects.why(lead)],
        "timer": text,
        "overdue": overdue,
        "actions": [s for s in ACTIONS if s in prospects.TRANSITIONS[prospect.status]],
    }


@bp.get("/prospects")
def prospects_page() -> str:
    """The prospects queue; filter by status, owner, overdue."""
    where, shown = _filter()
    offset = int_or_none(request.args.get("after"), 0, MAX_ID) or 0
    now = context().now()
    rows = prospects.queue(db(), shop_id(), now, where, PAGE_SIZE + 1, offset)
    page = page_of(rows, lambda _: str(offset + PAGE_SIZE), key="after")
    notice = gettext("The prospect was updated.") if request.args.get("done") == "updated" else ""
    return render_template(
        "admin_ui/prospects.html",
        rows=[_row(p, lead, now) for p, lead in page.rows],
        page=page,
        shown=shown,
        users=prospects.shop_users(db(), shop_id()),
        statuses=PROSPECT_STATUSES,
        status_names=STATUS_NAMES,
        action_names=ACTIONS,
        error=_error_text(request.args.get("error", "")),
        notice=notice,
        active="prospects",
    )


@bp.post("/prospects/<int:prospect_id>/status")
def prospect_status(prospect_id: int) -> ResponseReturnValue:
    """Set a prospect's status (written as a scored activity; the lead is rescored)."""
    return _change(prospect_id, status=request.form.get("status", ""))


@bp.post("/prospects/<int:prospect_id>/owner")
def prospect_owner(prospect_id: int) -> ResponseReturnValue:
    """Give a prospect to a user of the shop (blank: to nobody)."""
    raw = request.form.get("owner_id", "")
    owner_id = None if raw == "" else int_or_none(raw, 1, MAX_ID) or -1  # -1: refused as no user of the shop
    return _change(prospect_id, owner_id=owner_id)


def _change(prospect_id: int, **change: Any) -> ResponseReturnValue:
    session = db()
    found = session.get(Prospect, prospect_id)
    shop = session.get(Shop, shop_id())
    if found is None or shop is None or found.shop_id != shop.id:
        abort(404)
    errors = prospects.change(session, shop, found, principal().actor, context().now(), **change)
    back = {name: request.form.get(name, "") for name in FILTERS if request.form.get(name)}
    if errors:
        session.rollback()
        return redirect(admin_url("admin.prospects_page", error=next(iter(errors)), **back))
    audit("prospect.changed", prospect_id=prospect_id, **change)
    session.commit()
    return redirect(admin_url("admin.prospects_page", done="updated", **back))


ERRORS: dict[str, Any] = {  # what the page says of a refused change, by the field refused
    "status": lazy_gettext("This prospect cannot take that status any more."),
    "owner_id": lazy_gettext("Choose a user of this shop as the owner."),
}


def _error_text(field: str) -> str:
    return str(ERRORS.get(field, ""))
