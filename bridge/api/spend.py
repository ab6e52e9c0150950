"""The spend table through the API: `GET /api/v1/spend` lists it, `PUT /api/v1/spend` writes rows
(`{"spend": [{"source": "google", "month": "2026-11", "amount": "120.50", "currency": "EUR"}]}`; a null
amount removes that source's month; rows not named stay). Errors: `422 {"errors": {"spend": {"0": {"month":
[...]}}}}`, every problem under its row and field."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import ValidationError

from bridge.infra.web import context
from bridge.outreach import spend
from bridge.shops.bearer import authenticated

bp = Blueprint("spend_api", __name__, url_prefix="/api/v1")


@bp.get("/spend")
@authenticated
def get_spend() -> Response:
    """Every spend row of the shop, newest month first."""
    return jsonify(spend=[spend.as_json(row) for row in spend.listed(g.session, g.shop.id)])


@bp.put("/spend")
@authenticated
def put_spend() -> Response | tuple[Response, int]:
    """Write the rows given (module doc), then answer with the whole table."""
    try:
        rows = spend.load_rows(request.get_json(silent=True))
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    spend.save(g.session, g.shop.id, rows, g.shop.currency, context().now())
    g.session.commit()
    return jsonify(spend=[spend.as_json(row) for row in spend.listed(g.session, g.shop.id)])
