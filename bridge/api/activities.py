"""`POST /api/v1/activities`: activities from the merchant's other tools, scored like the store's.

A content download, an e-mail opened in the merchant's own e-mail platform, a webinar attended: each comes
with the lead's e-mail, a kind (one of `API_KINDS` or one of the merchant's own kinds in the rules'
`custom_kinds`) and the caller's own `id`. Each is stored as an `api/activity` event keyed by that id (a
repeat answers 2xx and adds nothing), then queued and applied by the same worker path as webhooks
(bridge.events.activities). Authenticated by the shop's API key, the merchant may name a lead that does not
exist yet: it is created (its consent stays unknown; an activity never changes consent). One activity, or
`{"activities": [...]}` with at most `MAX_BATCH` of them; a batch with any invalid activity is refused
whole (422, messages per index and field), nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates

from bridge.events import activities
from bridge.events.ingest import event_values, read_body
from bridge.infra.web import context
from bridge.leads.emails import normalize_email
from bridge.leads.rules import scoring_rules_for
from bridge.shops.bearer import authenticated

bp = Blueprint("activities", __name__, url_prefix="/api/v1")

# The built-in kinds another tool may report. The others are the store's own record (a cart, a checkout,
# an order, an account, an abandonment) and come only from the store.
API_KINDS: tuple[str, ...] = (
    "newsletter_signup",
    "product_view",
    "email_open",
    "promo_email_open",
    "email_click",
    "email_reply",
    "content_download",
)
MAX_BATCH = 100
MAX_BODY = 256 * 1024
MAX_AGE = timedelta(days=366 * 5)  # older is refused: it would score nothing after decay anyway


class _Identifier(fields.String):
    """The caller's id, as a string or a whole number."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class ActivitySchema(Schema):
    """One activity; `kinds` are the kinds this shop accepts now."""

    class Meta:
        unknown = EXCLUDE

    email = fields.Email(required=True, validate=validate.Length(max=320))
    kind = fields.String(required=True)
    id = _Identifier(
        required=True,
        validate=[
            validate.Length(1, 128),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Must be printable ASCII without spaces."),
        ],
    )
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)
    ref = _Identifier(load_default=None, allow_none=True, validate=validate.Length(1, 200))

    def __init__(self, kinds: Sequence[str], now: datetime) -> None:
        super().__init__()
        self.kinds, self.now = tuple(kinds), now

    @pre_load
    def _strip(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @validates("kind")
    def _known_kind(self, value: str, **_kwargs: Any) -> None:
        if value not in self.kinds:
            raise ValidationError("Unknown activity kind. Must be one of: " + ", ".join(self.kinds) + ".")

    @validates("occurred_at")
    def _recent(self, value: datetime | None, **_kwargs: Any) -> None:
        if value is not None and value < self.now - MAX_AGE:
            raise ValidationError("Must be within the last five years.")


def accepted_kinds(rules_kinds: Sequence[str], custom: Sequence[str]) -> tuple[str, ...]:
    """The built-in kinds another tool may send, then the merchant's own."""
    return (*(kind for kind in API_KINDS if kind in rules_kinds), *custom)


def document(data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What is stored: the e-mail normalized, the time in UTC (a future time is taken as now)."""
    occurred = data.get("occurred_at") or now
    out = {
        "email": normalize_email(data["email"]),
        "kind": data["kind"],
        "id": data["id"],
        "occurred_at": min(occurred, now).astimezone(UTC).isoformat(),
    }
    if data.get("ref"):
        out["ref"] = data["ref"]
    return out


@bp.post("/activities")
@authenticated
def add_activities() -> tuple[Response, int]:
    """Validate, store once and queue one activity or a batch of them."""
    ctx = context()
    now = ctx.now()
    try:
        body = json.loads(read_body(MAX_BODY))
    except (ValueError, RecursionError):
        abort(400, "the body must be a JSON object")
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    batch = "activities" in body
    items = body["activities"] if batch else [body]
    if batch and (not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH):
        too_many = {"activities": [f"Must be a list of 1 to {MAX_BATCH} activities."]}
        return jsonify(error="invalid activities", errors=too_many), 422
    rules = scoring_rules_for(g.session, g.shop.id)
    schema = ActivitySchema(accepted_kinds(rules.kinds(), [kind.key for kind in rules.custom_kinds]), now)
    loaded: list[dict[str, Any]] = []
    problems: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            loaded.append(schema.load(item if isinstance(item, dict) else {"_": item}))
        except ValidationError as exc:
            problems[index] = exc.messages
    if problems:
        errors: Any = {"activities": problems} if batch else problems[0]
        return jsonify(error="invalid activity", errors=errors), 422
    shop_id = g.shop.id
    g.session.rollback()  # nothing held open while the events are stored
    results = []
    for data in loaded:
        doc = document(data, now)
        raw = json.dumps(doc).encode()
        event_id = ctx.writer.submit(event_values(ctx, shop_id, activities.envelope(doc), raw))
        results.append({"id": doc["id"], "duplicate": event_id is None})
    if not batch:
        return jsonify(ok=True, **results[0]), 202
    fresh = sum(1 for r in results if not r["duplicate"])
    return jsonify(ok=True, accepted=fresh, duplicates=len(results) - fresh, results=results), 202
