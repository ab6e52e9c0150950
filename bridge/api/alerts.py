"""The alerts API: subscriptions to signed events, the sales address for hot-lead emails, the delivery log.

`PUT /api/v1/alerts` saves the `alerts` part of the rules document as a new version (422 per field, e.g.
`alerts.subscriptions.0.url`); a new subscription's signing secret is in that answer only.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy import exc as sa_exc

from bridge.api.v1 import page_args
from bridge.infra.web import context
from bridge.leads import rescore
from bridge.outreach import alert_settings, alerts
from bridge.shops.bearer import authenticated

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")
ACTOR = "api"


@bp.get("/alerts")
@authenticated
def get_alerts() -> Response:
    """The live alerts settings; each subscription says whether it has a secret, never the secret."""
    return jsonify(alert_settings.view(g.session, g.shop.id))


@bp.put("/alerts")
@authenticated
def put_alerts() -> tuple[Response, int]:
    """Save the alerts settings; 422 lists every problem; new subscriptions' secrets, once."""
    session, shop = g.session, g.shop
    try:
        body: Any = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        abort(400, "the body must be JSON")
    saved = alert_settings.save(context(), session, shop.id, body, ACTOR, request.args.get("note", "")[:255])
    if saved.errors:
        session.rollback()
        return jsonify(errors=saved.errors), 422
    if saved.row is None:
        return jsonify(changed=False, alerts=alert_settings.view(session, shop.id)), 200
    version = saved.row.version
    try:
        session.commit()
    except sa_exc.IntegrityError:
        session.rollback()
        return jsonify(error="another change was saved at the same time; reload and retry"), 409
    rescore.enqueue_rescore(context(), shop.id, version)
    view = alert_settings.view(session, shop.id)
    return jsonify(changed=True, version=version, alerts=view, secrets=saved.secrets), 200


@bp.post("/alerts/subscriptions/<key>/secret")
@authenticated
def rotate_secret(key: str) -> tuple[Response, int]:
    """A new signing secret for a subscription, effective at once, shown in this answer only."""
    secret = alert_settings.rotate(context(), g.session, g.shop.id, key, ACTOR)
    if secret is None:
        abort(404)
    g.session.commit()
    return jsonify(key=key, secret=secret), 200


@bp.post("/alerts/subscriptions/<key>/test")
@authenticated
def send_test(key: str) -> tuple[Response, int]:
    """Queue a test event (`data.test` is true) to one subscription; its delivery shows in the log."""
    delivery_id = alerts.send_test(context(), g.shop.id, key)
    if delivery_id is None:
        abort(404)
    return jsonify(delivery_id=delivery_id), 202


@bp.get("/alerts/deliveries")
@authenticated
def deliveries() -> Response:
    """The delivery log, newest first (`before=<id>` pages on)."""
    limit, _ = page_args()
    before = request.args.get("before", type=int)
    rows = alerts.deliveries(g.session, g.shop.id, limit=limit, before=before)
    return jsonify(deliveries=[alert_settings.delivery_json(r) for r in rows], limit=limit)
