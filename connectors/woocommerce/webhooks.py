"""WooCommerce webhook deliveries: the creation ping, signatures, delivery identity and facts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import Envelope, Fact, PayloadError
from connectors.woocommerce.normalize import customer_facts, order_facts

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"
CUSTOMER_TOPICS = frozenset({"customer.created", "customer.updated"})
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
MAX_KEY_LENGTH = 255
_PING_BODY = re.compile(rb"webhook_id=[0-9]{1,20}")


class WooWebhooks:
    """WebhookAdapter for WooCommerce (REST API v3 webhooks)."""

    platform = "woocommerce"

    def is_ping(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """True for the unsigned `webhook_id=<n>` form body WooCommerce posts when a webhook is saved."""
        return header(headers, SIGNATURE_HEADER) is None and _PING_BODY.fullmatch(raw.strip()) is not None

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
        """True when X-WC-Webhook-Signature is the base64 HMAC-SHA256 of `raw` under one of `secrets`."""
        sent = (header(headers, SIGNATURE_HEADER) or "").strip().encode("utf-8", "replace")
        if not sent:
            return False
        # An empty secret is a key everybody knows: it never authenticates anything.
        return any(hmac.compare_digest(sign(raw, secret).encode(), sent) for secret in secrets if secret)

    def envelope(self, raw: bytes, headers: Mapping[str, str]) -> Envelope:
        """Topic and de-duplication key: webhook id, topic, resource id and date_modified_gmt."""
        topic = (header(headers, TOPIC_HEADER) or "").strip()
        if not topic:
            raise PayloadError("delivery without X-WC-Webhook-Topic")
        webhook_id = (header(headers, WEBHOOK_ID_HEADER) or "").strip() or "-"
        body = _json_object(raw)
        resource_id, modified = body.get("id"), body.get("date_modified_gmt")
        if _is_scalar_id(resource_id) and isinstance(modified, str) and modified.strip():
            key = f"{webhook_id}:{topic}:{resource_id}:{modified.strip()}"
        else:  # deletions ({"id": n}) and unreadable bodies: the bytes are the identity
            key = f"{webhook_id}:{topic}:sha256:{hashlib.sha256(raw).hexdigest()}"
        if len(key) > MAX_KEY_LENGTH:
            key = f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"
        return Envelope(topic=topic, delivery_key=key, triggered_at=_gmt(modified))

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """Facts carried by one customer or order payload; other topics give none."""
        if not isinstance(payload, Mapping):
            raise PayloadError("payload is not a JSON object")
        if topic in CUSTOMER_TOPICS:
            return customer_facts(topic, payload)
        if topic in ORDER_TOPICS:
            return order_facts(payload)
        return []  # order.deleted carries only {"id": n} and no time: nothing to apply


def polled_envelope(raw: bytes, topic: str, webhook_id: str | None) -> Envelope:
    """The envelope of a resource read over REST (reconciliation): the one its webhook delivery under `topic`
    by webhook `webhook_id` has or would have had, so that the two are stored once."""
    return WooWebhooks().envelope(raw, {TOPIC_HEADER: topic, WEBHOOK_ID_HEADER: webhook_id or ""})


def sign(raw: bytes, secret: str) -> str:
    """WooCommerce's signature of a body: base64 of HMAC-SHA256 with the webhook secret."""
    digest = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (plain dicts included)."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)
    return value if isinstance(value, str) else None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def _is_scalar_id(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip() != ""
    )


def _gmt(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
