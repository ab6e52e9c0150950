"""Shopify's inbound webhooks: signature, delivery identity and payload → facts (connectors.base)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from connectors.base import Envelope, Fact, PayloadError
from connectors.shopify.fields import parse_timestamp
from connectors.shopify.normalize import HANDLERS, facts_for

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
SUPPORTED_TOPICS = frozenset(HANDLERS)
# Privacy law topics: only the app configuration can subscribe them (compliance_topics in shopify.app.toml).
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
# Every other topic Relance handles: app-specific subscriptions in shopify.app.toml (a test holds the file
# to this list), or per-shop subscriptions for an app that is not deployed with the CLI.
SUBSCRIBED_TOPICS = SUPPORTED_TOPICS - COMPLIANCE_TOPICS
MAX_KEY_LENGTH = 255  # the events table's delivery key column
_MAX_TOPIC_LENGTH = 100
_MAX_ID_LENGTH = 150  # 100 + ":" + 150 stays under MAX_KEY_LENGTH


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Header `name`, matched case-insensitively (werkzeug headers or any dict), stripped; None if blank."""
    wanted = name.lower()
    try:
        value: object = headers.get(name)
        if value is None and isinstance(headers, dict):  # a plain dict whose keys are spelled differently
            value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)
    except (AttributeError, TypeError):  # not a mapping at all
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    return value.strip() or None


def signature(raw: bytes, secret: str | bytes) -> bytes:
    """Shopify's signature of a body: base64 of HMAC-SHA256(key=secret, msg=raw body)."""
    key = secret.encode("utf-8", "surrogatepass") if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest())


def _candidate_secrets(secrets: object) -> list[str | bytes]:
    if isinstance(secrets, str | bytes):  # one secret passed bare must not become one secret per character
        secrets = [secrets]
    if not isinstance(secrets, Iterable):
        return []
    return [s for s in secrets if isinstance(s, str | bytes) and s]


def _delivery_id(raw: bytes, headers: Mapping[str, str]) -> str:
    # Shopify's dedup guidance: the event id (same on every delivery and retry of one event), else the
    # delivery's webhook id. With neither (a hand-made or replayed request), the body's hash still
    # de-duplicates retries, which carry the original body byte for byte; distinct bodies never collide.
    event_id = header(headers, EVENT_ID_HEADER) or header(headers, WEBHOOK_ID_HEADER)
    if event_id is None:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(event_id) > _MAX_ID_LENGTH:  # hashed rather than cut, so long ids stay distinct
        return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return event_id


class ShopifyWebhooks:
    """connectors.base.WebhookAdapter for Shopify's HTTPS webhooks."""

    platform = "shopify"

    def is_ping(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """Always False: Shopify sends no test request; every delivery is signed and goes through verify."""
        return False

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
        """True when `X-Shopify-Hmac-Sha256` is the body's signature under one of `secrets` (rotation)."""
        if not isinstance(raw, bytes | bytearray | memoryview):
            return False
        sent = header(headers, HMAC_HEADER)
        if sent is None:
            return False
        sent_bytes = sent.encode("ascii", "replace")  # non-ASCII can never match base64; must not raise
        body = bytes(raw)
        return any(hmac.compare_digest(signature(body, s), sent_bytes) for s in _candidate_secrets(secrets))

    def envelope(self, raw: bytes, headers: Mapping[str, str]) -> Envelope:
        """Topic, de-duplication key (`topic:event id`) and trigger time of a verified delivery."""
        topic = header(headers, TOPIC_HEADER)
        if topic is None:
            raise PayloadError(f"{TOPIC_HEADER} header is missing")
        if len(topic) > _MAX_TOPIC_LENGTH:
            raise PayloadError(f"{TOPIC_HEADER} header is too long ({len(topic)} characters)")
        key = f"{topic}:{_delivery_id(bytes(raw), headers)}"
        return Envelope(topic=topic, delivery_key=key, triggered_at=self._triggered_at(headers))

    @staticmethod
    def _triggered_at(headers: Mapping[str, str]) -> datetime | None:
        value = header(headers, TRIGGERED_AT_HEADER)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            return None

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """Facts carried by one payload; [] for unknown topics; PayloadError when it cannot be read."""
        return facts_for(topic, payload)
