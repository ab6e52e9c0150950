"""Merchant alerts (pure): the `alerts` part of the rules document, the events' versioned envelope and their
HMAC signature.

Personal data: an event carries the lead's id and, for the lead and cart events, the lead's email, because
the merchant's own tools (CRM, Slack, helpdesk) need it to act on the lead; the endpoint is the merchant's
own, chosen by the merchant, and gets nothing else personal (no name, address, IP or activity history).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from campaigns.settings import _is_allowed_url

EVENT_TYPES = (
    "lead.tier_changed",
    "lead.hot",
    "cart.abandoned",
    "cart.recovered",
    "offer.sent",
    "offer.redeemed",
    "journey.exited",
)
FORMATS = ("json", "slack")
PAYLOAD_VERSION = 1
MAX_SUBSCRIPTIONS = 20
SIGNATURE_HEADER = "X-Relance-Signature"  # "sha256=" + hex HMAC-SHA256 of f"{timestamp}." + raw body
TIMESTAMP_HEADER = "X-Relance-Timestamp"  # Unix seconds; receivers refuse one older than TOLERANCE_SECONDS
EVENT_HEADER = "X-Relance-Event"
TOLERANCE_SECONDS = 300
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")


@dataclass(frozen=True)
class Subscription:
    """Where some event types go: a URL and a format (its signing secret is kept apart, by `key`)."""

    key: str
    url: str
    events: tuple[str, ...]
    format: str = "json"
    enabled: bool = True


@dataclass(frozen=True)
class AlertSettings:
    """A shop's alerts: webhook subscriptions, and hot-lead emails to its sales address."""

    sales_email: str | None = None
    hot_email: bool = True  # an email at once when a lead becomes hot (needs sales_email)
    digest: bool = False  # one email a day with the day's new hot leads (needs sales_email)
    subscriptions: tuple[Subscription, ...] = field(default_factory=tuple)

    def targets(self, event_type: str) -> tuple[Subscription, ...]:
        """The enabled subscriptions to `event_type`."""
        return tuple(s for s in self.subscriptions if s.enabled and event_type in s.events)

    def subscription(self, key: str) -> Subscription | None:
        """The subscription with this key."""
        return next((s for s in self.subscriptions if s.key == key), None)


DEFAULT_ALERTS: dict[str, Any] = {
    "sales_email": None,
    "hot_email": True,
    "digest": False,
    "subscriptions": [],
}


class SubscriptionSchema(Schema):
    key = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True, validate=validate.Length(min=1)
    )
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    enabled = fields.Boolean(load_default=True)

    @validates("key")
    def _check_key(self, value: str, **kwargs: Any) -> None:
        if not _KEY.match(value):
            raise ValidationError("Use 1 to 40 lower-case letters, digits, '-' or '_'.")

    @validates("url")
    def _check_url(self, value: str, **kwargs: Any) -> None:
        if not _is_allowed_url(value, local_http=True):
            raise ValidationError("Use an https:// address (http:// is allowed for localhost only).")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Subscription:
        return Subscription(**{**data, "events": tuple(dict.fromkeys(data["events"]))})


class AlertSettingsSchema(Schema):
    sales_email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    hot_email = fields.Boolean(load_default=True)
    digest = fields.Boolean(load_default=False)
    subscriptions = fields.List(
        fields.Nested(SubscriptionSchema),
        load_default=list,
        validate=validate.Length(max=MAX_SUBSCRIPTIONS),
    )

    @validates_schema(skip_on_field_errors=True)
    def _check_keys(self, data: dict[str, Any], **kwargs: Any) -> None:
        keys = [s.key for s in data.get("subscriptions", [])]
        if len(keys) != len(set(keys)):
            raise ValidationError("Each subscription needs a key of its own.", "subscriptions")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> AlertSettings:
        return AlertSettings(**{**data, "subscriptions": tuple(data["subscriptions"])})


def load_alerts(doc: Mapping[str, Any] | None) -> AlertSettings:
    """Validate an `alerts` document; raises marshmallow.ValidationError with per-field messages."""
    settings: AlertSettings = AlertSettingsSchema().load(doc if doc is not None else DEFAULT_ALERTS)
    return settings


def dump_alerts(settings: AlertSettings) -> dict[str, Any]:
    """The JSON document of the settings (the inverse of load_alerts)."""
    return {
        "sales_email": settings.sales_email,
        "hot_email": settings.hot_email,
        "digest": settings.digest,
        "subscriptions": [
            {
                "key": s.key,
                "url": s.url,
                "events": list(s.events),
                "format": s.format,
                "enabled": s.enabled,
            }
            for s in settings.subscriptions
        ],
    }


def envelope(
    event_type: str, event_id: str, occurred_at: datetime, shop: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Version 1 of every event's body: receivers read `type` and `version`, de-duplicate on `id`."""
    return {
        "type": event_type,
        "version": PAYLOAD_VERSION,
        "id": event_id,
        "occurred_at": occurred_at.isoformat(),
        "shop": shop,
        "data": dict(data),
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of `"{timestamp}." + body`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: int) -> bool:
    """What a receiver does: a fresh timestamp (against replays) and the same signature, in constant time."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
