"""The prospects queue over the JSON API: `GET /api/v1/prospects` (soonest due first; filter by `status`
(a status or `open`), `owner_id` (0: nobody's), `overdue`) and `PATCH /api/v1/prospects/<id>` with
`{"status": …, "owner_id": …}`; bad input is a 422 naming each field."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from bridge.api.v1 import MAX_PAGE, lead_json
from bridge.db.models import OPEN_STATUSES, PROSPECT_STATUSES, AdminUser, Lead, Prospect
from bridge.infra.web import MAX_ID, context
from bridge.leads import prospects
from bridge.shops.bearer import authenticated

bp = Blueprint("prospects_api", __name__, url_prefix="/api/v1")
ACTOR = "api"  # an API key names a shop, not a person


class ListArgs(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf((*PROSPECT_STATUSES, "open")))
    owner_id = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))
    overdue = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class ChangeBody(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(PROSPECT_STATUSES))
    owner_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_ID))


def prospect_json(prospect: Prospect, lead: Lead, owner: AdminUser | None) -> dict[str, Any]:
    """A prospect as the API shows it, with its lead, why it is hot and its timer."""
    timer = prospects.timer(prospect, context().now())
    return {
        "id": prospect.id,
        "status": prospect.status,
        "reason": prospect.reason,
        "owner": None if owner is None else {"id": owner.id, "email": owner.email},
        "entered_at": prospect.entered_at.isoformat(),
        "due_at": prospect.due_at.isoformat(),
        "overdue": timer["overdue"],
        "seconds_left": timer["seconds_left"],
        "first_contacted_at": _iso(prospect.first_contacted_at),
        "time_to_first_contact_seconds": timer["time_to_first_contact"],
        "closed_at": _iso(prospect.closed_at),
        "score_at_entry": prospect.score_at_entry,
        "lead": lead_json(lead),
        "why": prospects.why(lead),
    }


@bp.get("/prospects")
@authenticated
def list_prospects() -> tuple[Response, int]:
    """The shop's queue, soonest due first."""
    try:
        args = ListArgs().load(request.args.to_dict())
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    status = args.get("status", "all")
    where = prospects.QueueFilter(
        statuses=OPEN_STATUSES if status == "open" else PROSPECT_STATUSES if status == "all" else (status,),
        owner_id=args.get("owner_id"),
        overdue=args["overdue"],
    )
    rows = prospects.queue(g.session, g.shop.id, context().now(), where, args["limit"], args["offset"])
    owners = {u.id: u for u in prospects.shop_users(g.session, g.shop.id)}
    items = [prospect_json(p, lead, owners.get(p.owner_id or 0)) for p, lead in rows]
    return jsonify(prospects=items, limit=args["limit"], offset=args["offset"]), 200


@bp.patch("/prospects/<int:prospect_id>")
@authenticated
def change_prospect(prospect_id: int) -> tuple[Response, int]:
    """Set a prospect's status and/or owner (`owner_id: null` leaves it to nobody)."""
    session, shop = g.session, g.shop
    prospect = session.get(Prospect, prospect_id)
    if prospect is None or prospect.shop_id != shop.id:
        abort(404)
    try:
        body = ChangeBody().load(_json_body())
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    errors = prospects.change(
        session,
        shop,
        prospect,
        ACTOR,
        context().now(),
        status=body.get("status"),
        owner_id=body.get("owner_id", prospects.KEEP),
    )
    if errors:
        session.rollback()
        return jsonify(errors=errors), 422
    session.commit()
    lead = session.get(Lead, prospect.lead_id)
    assert lead is not None
    owner = session.get(AdminUser, prospect.owner_id) if prospect.owner_id is not None else None
    return jsonify(prospect_json(prospect, lead, owner)), 200


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        abort(400, "the body must be JSON")


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
