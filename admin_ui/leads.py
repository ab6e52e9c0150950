"""Leads: search and filter, a lead's score explained, and the privacy actions (export, erase)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from admin_ui import journeys_runs
from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.paging import PAGE_SIZE, page_of
from admin_ui.support import audit, db, owned
from bridge.db.models import Activity, Cart, Lead, Offer, ScoreChange
from bridge.infra.web import MAX_ID, context, int_or_none
from bridge.leads import erasure, products, segments
from bridge.leads.emails import normalize_email
from scoring.segments import Segment

TIERS = ("cold", "warm", "hot", "customer")


def _cursor(raw: str | None) -> tuple[int, int] | None:
    """`score.id` of the last row of the previous page."""
    score, _, lead_id = (raw or "").partition(".")
    cursor = int_or_none(score), int_or_none(lead_id, 1, MAX_ID)
    return None if cursor[0] is None or cursor[1] is None else (cursor[0], cursor[1])


def lead_page(
    email: str, tier: str, after: tuple[int, int] | None, segment: Segment | None = None
) -> sa.Select[Lead]:
    """The query of one page of leads, highest score first (keyset on score, id), of a segment if given."""
    query = sa.select(Lead).where(Lead.shop_id == shop_id(), Lead.redacted_at.is_(None))
    if segment is not None:
        query = query.where(segments.where(segment, context().now(), segments.dialect_of(db())))
    if tier in TIERS:
        query = query.where(Lead.tier == tier)
    if email:
        normalized = normalize_email(email) or ""
        if "@" in normalized:
            query = query.where(Lead.email == normalized)
        else:  # a prefix of the address ("ana", "ana.m")
            escaped = normalized.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Lead.email.like(f"{escaped}%", escape="\\"))
    if after is not None:
        score, lead_id = after
        query = query.where(sa.tuple_(Lead.score, Lead.id) < sa.tuple_(score, lead_id))
    return query.order_by(Lead.score.desc(), Lead.id.desc()).limit(PAGE_SIZE + 1)


@bp.get("/leads")
def leads() -> str:
    """Leads, highest score first; search by email (whole address or its beginning), filter by tier and
    segment."""
    email, tier = request.args.get("email", "").strip()[:320], request.args.get("tier", "")
    defined = segments.shop_segments(db(), shop_id())
    key = request.args.get("segment", "")
    if key and key not in defined:
        abort(404)
    after = _cursor(request.args.get("after"))
    rows = db().scalars(lead_page(email, tier, after, defined.get(key))).all()
    page = page_of(rows, lambda lead: f"{lead.score}.{lead.id}", key="after")
    return render_template(
        "admin_ui/leads.html",
        leads=page.rows,
        page=page,
        email=email,
        tier=tier,
        tiers=TIERS,
        segment=key,
        segments=list(defined.values()),
        active="leads",
    )


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> str:
    """One lead: why each point, score history, activities, products, carts and offers."""
    row: Lead = owned(Lead, lead_id)
    session = db()
    activities = session.scalars(
        sa.select(Activity).where(Activity.lead_id == row.id).order_by(Activity.occurred_at.desc()).limit(100)
    ).all()
    history = session.scalars(
        sa.select(ScoreChange).where(ScoreChange.lead_id == row.id).order_by(ScoreChange.at.desc()).limit(50)
    ).all()
    carts = session.scalars(
        sa.select(Cart)
        .where(Cart.lead_id == row.id, Cart.shop_id == row.shop_id)
        .order_by(Cart.id.desc())
        .limit(50)
    ).all()
    offers = session.scalars(
        sa.select(Offer)
        .where(Offer.lead_id == row.id, Offer.shop_id == row.shop_id)
        .order_by(Offer.id.desc())
        .limit(50)
    ).all()
    breakdown = (row.breakdown or {}).get("lines", [])
    return render_template(
        "admin_ui/lead.html",
        lead=row,
        breakdown=breakdown,
        raw=(row.breakdown or {}).get("raw"),
        activities=activities,
        history=history,
        carts=carts,
        offers=offers,
        runs=journeys_runs.lead_runs(session, row.shop_id, row.id),
        products=products.lead_products(session, row.id),
        member_of=segments.member_keys(session, row.shop_id, row.id, context().now()),
        active="leads",
        erased=request.args.get("done") == "erased",
    )


@bp.post("/leads/<int:lead_id>/export")
def lead_export(lead_id: int) -> ResponseReturnValue:
    """Everything held about the lead, as a JSON download (logged in the audit log)."""
    row: Lead = owned(Lead, lead_id)
    document = erasure.export_lead(db(), row)
    audit("lead.exported", lead_id=row.id)
    db().commit()
    body = json.dumps(document, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="relance-lead-{row.id}.json"'},
    )


@bp.get("/leads/<int:lead_id>/erase")
def lead_erase_confirm(lead_id: int) -> str:
    """The confirmation step before erasing a lead."""
    row: Lead = owned(Lead, lead_id)
    return render_template("admin_ui/erase.html", lead=row, active="leads")


@bp.post("/leads/<int:lead_id>/erase")
def lead_erase(lead_id: int) -> ResponseReturnValue:
    """Erase the lead's personal data (anonymous counts and amounts stay), with an audit-log row."""
    row: Lead = owned(Lead, lead_id)
    if request.form.get("confirm") != "erase":
        return render_template(
            "admin_ui/erase.html", lead=row, error=gettext("Tick the box to confirm."), active="leads"
        ), 400
    if row.redacted_at is None:
        erasure.redact_lead(db(), row, context().now())
        audit("lead.erased", lead_id=row.id)
        db().commit()
    return redirect(admin_url("admin.lead", lead_id=lead_id, done="erased"))
