"""The segments API: the live segments with their counts, a preview before saving, and a CSV export.

Segments are saved as the `segments` part of the rules document (`PUT /api/v1/rules`: versioned, with
history and restore). A preview of a bad segment answers `422 {"errors": {"segment.conditions.0.value":
[...]}}`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from marshmallow import ValidationError

from bridge.db.models import Lead
from bridge.infra.web import context
from bridge.leads import rules, segments
from bridge.shops.bearer import authenticated
from scoring.segments import Segment, dump_segment, load_segment

bp = Blueprint("segments_api", __name__, url_prefix="/api/v1")
CSV_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "country",
    "locale",
    "score",
    "tier",
    "accepts_marketing",
    "unsubscribed",
    "orders_count",
    "total_spent",
    "last_activity_at",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/segments")
@authenticated
def list_segments() -> Response:
    """The live segments, each with how many leads it holds now."""
    session, shop, now = g.session, g.shop, context().now()
    out = [
        {**dump_segment(segment), "count": segments.count(session, shop.id, segment, now)}
        for segment in segments.shop_segments(session, shop.id).values()
    ]
    return jsonify(segments=out)


@bp.post("/segments/preview")
@authenticated
def preview() -> tuple[Response, int]:
    """`{"segment": {...}}` -> its count and a sample of up to 10 leads (emails masked), nothing saved."""
    body = _json_body()
    document = body.get("segment") if isinstance(body, dict) else None
    try:
        segment = load_segment(document)
    except ValidationError as exc:
        return jsonify(errors=rules.flatten_errors({"segment": exc.messages})), 422
    result = segments.preview(g.session, g.shop.id, segment, context().now())
    return jsonify(segment=dump_segment(segment), **result), 200


@bp.get("/segments/<key>/export.csv")
@authenticated
def export(key: str) -> Response:
    """The segment's leads as CSV (cells that a spreadsheet would run as formulas are defused)."""
    segment = segments.shop_segments(g.session, g.shop.id).get(key)
    if segment is None:
        abort(404)
    return csv_response(g.shop.id, segment)


def csv_response(shop_id: int, segment: Segment) -> Response:
    """A streamed CSV download of a segment's leads (also the admin's export). The stream reads through a
    session of its own, closed when the last line is out (or the client goes away), not the request's."""
    ctx = context()
    now = ctx.now()

    def lines() -> Iterator[str]:
        with ctx.sessions() as session:
            yield from csv_lines(segments.export_batches(session, shop_id, segment, now))

    name = f"relance-segment-{segment.key}-{now:%Y%m%d}.csv"
    return Response(
        lines(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def csv_lines(batches: Iterable[Iterable[Lead]]) -> Iterator[str]:
    """The header, then one line per lead."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for batch in batches:
        for lead in batch:
            writer.writerow([safe_cell(value) for value in _row(lead)])
        yield _drain(buffer)
    yield _drain(buffer)


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab, a carriage return) gets a
    leading apostrophe, so it is never run as a formula (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _row(lead: Lead) -> list[object]:
    return [
        lead.id,
        lead.email or "",
        lead.first_name or "",
        lead.last_name or "",
        lead.country or "",
        lead.locale or "",
        lead.score,
        lead.tier,
        "" if lead.accepts_marketing is None else str(lead.accepts_marketing).lower(),
        str(lead.unsubscribed_at is not None).lower(),
        lead.orders_count,
        str(lead.total_spent),
        lead.last_activity_at.isoformat() if lead.last_activity_at else "",
    ]


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        abort(400, "the body must be JSON")
