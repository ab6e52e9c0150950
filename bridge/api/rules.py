"""The rules API: one versioned document per shop (scoring rules and campaign settings).

Errors are `422 {"errors": {"scoring.tiers.hot": ["Must be greater than warm."], ...}}`, every
problem under its field path. A change is committed first and its bulk rescore queued after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy import exc as sa_exc

from bridge.api.v1 import page_args
from bridge.db.models import Ruleset
from bridge.infra import jobnames
from bridge.infra.web import context
from bridge.leads import rescore, rules
from bridge.leads.simulate import simulate
from bridge.outreach import advice, outbound
from bridge.shops.bearer import authenticated

bp = Blueprint("rules_api", __name__, url_prefix="/api/v1")
ACTOR = "api"  # an API key names a shop, not a person
SIMULATE_SECONDS = 20.0  # below gunicorn's 30 s timeout; a larger shop gets a partial, flagged answer


@bp.get("/rules")
@authenticated
def get_rules() -> Response:
    """The live version and its document."""
    row = rules.latest(g.session, g.shop.id)
    _, document = rules.current(g.session, g.shop.id)
    progress = rescore.progress(g.session, g.shop.id, row.version) if row is not None else None
    return jsonify(**rules.describe(row), document=document, rescore=progress)


@bp.put("/rules")
@authenticated
def put_rules() -> tuple[Response, int]:
    """Validate and save a new version, then queue its rescore; 422 lists every problem."""
    session, shop = g.session, g.shop
    body = _json_body()
    _, live = rules.current(session, shop.id)
    clean, errors = rules.validate(body, base=live)
    if clean is None:
        return _invalid(errors)
    refused = outbound.webhook_url_errors(context(), clean, live)
    if refused:
        return _invalid(refused)
    if not rules.diff(live, clean):  # nothing changed: no new version, no rescore
        return jsonify(**rules.describe(rules.latest(session, shop.id)), document=live, changed=False), 200
    note = request.args.get("note", "")[:255]
    return _committed(lambda: rules.save(session, shop.id, body, ACTOR, note, context().now()))


@bp.post("/journeys/<key>/steps/<int:step>/drop-code")
@authenticated
def drop_code(key: str, step: int) -> tuple[Response, int]:
    """Send a journey's step (0-based, as in the rules document) without its code from now on, as a new rules
    version (the advice of GET /api/v1/metrics' `discount_advice`); 404 when the step carries no code."""
    session, shop = g.session, g.shop
    if step not in advice.code_steps(session, shop.id).get(key, []):
        return jsonify(error=f"journey {key!r} has no step {step} with a code"), 404
    return _committed(lambda: advice.drop_code(session, shop.id, key, step, ACTOR, context().now()))


@bp.get("/rules/versions")
@authenticated
def versions() -> Response:
    """Every version, newest first, with who, when and what changed."""
    limit, offset = page_args()
    live, _ = rules.current(g.session, g.shop.id)
    items = rules.history(g.session, g.shop.id, limit, offset)
    return jsonify(live=live, versions=items, limit=limit, offset=offset)


@bp.get("/rules/versions/<int:version>")
@authenticated
def version(version: int) -> Response:
    """One version's full document (0: the defaults)."""
    document = rules.version_document(g.session, g.shop.id, version)
    if document is None:
        abort(404)
    return jsonify(version=version, document=document)


@bp.post("/rules/versions/<int:version>/restore")
@authenticated
def restore(version: int) -> tuple[Response, int]:
    """Make an old version live again, as a new version, and queue its rescore."""
    session, shop = g.session, g.shop
    try:
        return _committed(lambda: rules.restore(session, shop.id, version, ACTOR, context().now()))
    except LookupError:
        abort(404)


@bp.post("/rules/simulate")
@authenticated
def simulate_rules() -> tuple[Response, int]:
    """What the candidate rules (a whole document or its "scoring" part) would do to stored leads."""
    body = _json_body()
    try:
        result = simulate(g.session, g.shop.id, body, context().now(), max_seconds=SIMULATE_SECONDS)
    except rules.InvalidRules as exc:
        return _invalid(exc.errors)
    finally:
        g.session.rollback()  # read-only by construction; this makes sure
    return jsonify(result), 200


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        abort(400, "the body must be JSON")


def _invalid(errors: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(errors=rules.flatten_errors(errors)), 422


def _committed(change: Callable[[], Ruleset]) -> tuple[Response, int]:
    """Run a change that writes a new version, commit it, then queue the rescore."""
    session, shop = g.session, g.shop
    _, before = rules.current(session, shop.id)
    try:
        row = change()
        session.commit()
    except rules.InvalidRules as exc:
        session.rollback()
        return _invalid(exc.errors)
    except sa_exc.IntegrityError:
        session.rollback()
        return jsonify(error="another change was saved at the same time; reload and retry"), 409
    queued = rescore.enqueue_rescore(context(), shop.id, row.version)
    out = {**rules.describe(row), "document": row.document, "changed": True}
    out["diff"] = rules.diff(before, row.document)
    out["rescore"] = {"job_id": jobnames.rescore_shop_id(shop.id, row.version), "queued": queued}
    return jsonify(out), 200
