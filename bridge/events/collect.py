"""Storefront events (`POST /collect/<public_key>`): product views, carts, checkouts and sign-ups.

The sender is any browser (the Shopify web pixel, or a small script on other stores), so the endpoint is
public: CORS open to every origin without credentials, a size cap, a per-(key, IP) rate limit, and a
strict shape. Accepted events go through the same durable path as webhooks, with topic `collect/<event>`.
They are untrusted signals: they only add activities to a lead named by an e-mail, and never create a lead.
Every event is also a sighting of its browser (`VisitorSeen`, by the pixel's client id, with its cart and
checkout tokens): once a store-signed event with one of those tokens names the shopper, the browser's
history joins that lead and its later events score for it (bridge.events.visitors).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy.orm import Session, sessionmaker

from bridge.db.models import Shop
from bridge.events.ingest import event_values, read_body
from bridge.infra import ratelimit
from bridge.infra.web import context
from bridge.leads.emails import normalize_email
from connectors import registry as vendors
from connectors.base import Activity, Envelope, Fact, PayloadError, VisitorSeen, WebhookAdapter

bp = Blueprint("collect", __name__)

TOPIC_PREFIX = "collect/"
KINDS = {
    "product_viewed": "product_view",
    "product_added_to_cart": "add_to_cart",
    "checkout_started": "checkout_started",
    "checkout_contact_info_submitted": "checkout_started",  # the pixel's event carrying a guest's e-mail
    "form_submitted": "newsletter_signup",
    "newsletter_signup": "newsletter_signup",
}
MAX_BODY = 16_384
RATE_LIMIT = 120  # events per window, per public key and client IP
MAX_AGE = timedelta(days=1)  # older timestamps (or future ones) are clamped into [now - 1 day, now]


class _Identifier(fields.String):
    """A string id that storefronts sometimes send as a number."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


def _optional(field: type[fields.Field[Any]], **options: Any) -> fields.Field[Any]:
    return field(load_default=None, allow_none=True, **options)


class CollectSchema(Schema):
    """The shape of one storefront event."""

    class Meta:
        unknown = EXCLUDE

    event = fields.String(required=True, validate=validate.OneOf(sorted(KINDS)))
    client_id = fields.String(required=True, validate=validate.Length(1, 128))
    timestamp = fields.AwareDateTime(required=True, default_timezone=UTC)
    id = _optional(fields.String, validate=validate.Length(1, 128))
    email = _optional(fields.Email, validate=validate.Length(max=320))
    cart_token = _optional(fields.String, validate=validate.Length(1, 255))
    checkout_token = _optional(fields.String, validate=validate.Length(1, 255))
    product_id = _optional(_Identifier, validate=validate.Length(1, 64))
    variant_id = _optional(_Identifier, validate=validate.Length(1, 64))
    url = _optional(
        fields.Url, require_tld=False, schemes={"http", "https"}, validate=validate.Length(max=2048)
    )

    @pre_load
    def _drop_blanks(self, data: Any, **_kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.route("/collect/<public_key>", methods=["OPTIONS"])
def preflight(public_key: str) -> tuple[str, int]:
    """CORS preflight: any origin may post (no cookies, no credentials)."""
    return "", 204


@bp.post("/collect/<public_key>")
def collect(public_key: str) -> tuple[Response, int]:
    """Validate, store once and queue one storefront event."""
    ctx = context()
    now = ctx.now()
    if not ratelimit.allow(ctx.redis, f"{public_key}:{request.remote_addr}", now, RATE_LIMIT):
        return jsonify(error="too many events, slow down"), 429
    raw = read_body(MAX_BODY)
    shop_id = _shop_id(ctx.sessions, public_key)
    if shop_id is None:
        abort(404, "unknown collect key")
    try:
        data = CollectSchema().load(json.loads(raw))
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        abort(400, "the body must be a JSON object")
    except ValidationError as exc:
        return jsonify(error="invalid event", errors=exc.messages), 422
    document = _document(data, now)
    envelope = Envelope(
        topic=TOPIC_PREFIX + document["event"],
        delivery_key=f"collect:{document['client_id']}:{document['id']}",
        triggered_at=datetime.fromisoformat(document["occurred_at"]),
    )
    # the webhooks' path: group-committed insert, then the job id queued after the commit
    event_id = ctx.writer.submit(event_values(ctx, shop_id, envelope, json.dumps(document).encode()))
    return jsonify(ok=True, duplicate=event_id is None), 202


def _shop_id(sessions: sessionmaker[Session], public_key: str) -> int | None:
    with sessions() as session:
        row = session.execute(
            sa.select(Shop.id, Shop.uninstalled_at).where(Shop.public_key == public_key)
        ).one_or_none()
    return None if row is None or row.uninstalled_at is not None else int(row.id)


def _document(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What is stored: the validated fields, the e-mail normalized, the time clamped to the receipt."""
    occurred = min(max(data.pop("timestamp"), now - MAX_AGE), now)
    document = {k: v for k, v in data.items() if v is not None}
    document["occurred_at"] = occurred.astimezone(UTC).isoformat()
    if "email" in document:
        document["email"] = normalize_email(document["email"])
    if "url" in document:  # query strings and fragments can carry personal data: keep the page only
        document["url"] = urlunsplit(urlsplit(document["url"])._replace(query="", fragment=""))
    if "cart_token" in document:
        document["cart_token"] = vendors.shopify_cart_token(
            document["cart_token"].removeprefix("gid://shopify/Cart/")
        )
    if "id" not in document:  # no event id: the content identifies a retry of the same event
        canonical = json.dumps(document, sort_keys=True).encode()
        document["id"] = "sha256:" + hashlib.sha256(canonical).hexdigest()
    return document


class CollectAdapter:
    """Facts of `collect/*` events: one activity for the lead named by the event's e-mail."""

    platform = "collect"

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """The browser's sighting, and the activity when the event names an e-mail; [] for unknown topics."""
        kind = KINDS.get(topic.removeprefix(TOPIC_PREFIX)) if topic.startswith(TOPIC_PREFIX) else None
        if kind is None:
            return []
        try:
            occurred = datetime.fromisoformat(str(payload["occurred_at"]))
        except (KeyError, ValueError) as exc:
            raise PayloadError(f"{topic}: occurred_at is missing or not a time") from exc
        occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
        found: list[Fact] = []
        client_id, email = payload.get("client_id"), payload.get("email")
        named = email if isinstance(email, str) and email else None
        if isinstance(client_id, str) and client_id:  # the e-mail is told, never trusted (visitors)
            tokens = tuple(
                str(payload[key])
                for key in ("cart_token", "checkout_token")
                if isinstance(payload.get(key), str)
            )
            found.append(VisitorSeen(client_id[:160], occurred, tokens, None, named))
        if named:
            ref = _ref(kind, payload, occurred)
            if kind in PRODUCT_KINDS:
                product, variant = store_id(payload.get("product_id")), store_id(payload.get("variant_id"))
                found.append(
                    Activity(kind, occurred, ref, None, named, product, variant if product else None)
                )
            else:
                found.append(Activity(kind, occurred, ref, None, named))
        return found


PRODUCT_KINDS = ("product_view", "add_to_cart")
_GID = "gid://shopify/"


def store_id(value: object) -> str | None:
    """A product or variant id a storefront sent, as the store's own numeric id (a Shopify global id's
    number); None for anything else. Anyone can send storefront events: only a plain number names a product
    Relance may look up, and nothing else of what the browser says about it (title, picture) is kept."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith(_GID):
        text = text.rsplit("/", 1)[-1]
    return text if text.isascii() and text.isdigit() and 0 < len(text) <= 20 and int(text) > 0 else None


def _ref(kind: str, event: Mapping[str, object], occurred: datetime) -> str:
    """What makes an activity one: a product a day, a cart, a checkout, a sign-up; else the event itself."""
    if kind == "product_view" and event.get("product_id"):
        return f"view:{event['product_id']}:{occurred.date().isoformat()}"
    if kind == "add_to_cart" and event.get("cart_token"):
        return f"cart:{event['cart_token']}"  # the same ref as the carts/* webhooks: one per cart
    if kind == "add_to_cart" and event.get("product_id"):
        return f"cart-product:{event['product_id']}:{occurred.date().isoformat()}"
    if kind == "checkout_started" and event.get("checkout_token"):
        return f"checkout:{event['checkout_token']}"  # the same ref as the checkouts/* webhooks
    if kind == "newsletter_signup":
        return "newsletter"
    return f"pixel:{event.get('id')}"


COLLECT_ADAPTER = CollectAdapter()


class WithCollect:
    """A platform adapter that also reads `collect/*` topics (one way to wire `CollectAdapter`)."""

    def __init__(self, inner: WebhookAdapter) -> None:
        self.inner = inner
        self.platform = inner.platform

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
        """The platform's own signature check."""
        return self.inner.verify(raw, headers, secrets)

    def envelope(self, raw: bytes, headers: Mapping[str, str]) -> Envelope:
        """The platform's own delivery identity."""
        return self.inner.envelope(raw, headers)

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """Storefront topics to `CollectAdapter`, everything else to the platform's adapter."""
        if topic.startswith(TOPIC_PREFIX):
            return COLLECT_ADAPTER.normalize(topic, payload)
        return self.inner.normalize(topic, payload)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
