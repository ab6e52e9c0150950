"""The facts of a stored event: its payload parsed, then read by the adapter of its topic."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bridge.db.models import Event, Shop
from bridge.events.activities import API_ACTIVITIES
from bridge.infra.context import Context, FactReader
from bridge.leads import erasure
from connectors.base import Fact


def adapter_for(ctx: Context, platform: str, topic: str) -> FactReader:
    """The normalizer of a topic: storefront and plugin events have their own, the rest the platform's."""
    prefix = topic.split("/", 1)[0]
    if prefix == "collect":
        return ctx.storefront
    if prefix == "api":  # the merchant's own tools, through POST /api/v1/activities
        return API_ACTIVITIES
    if prefix == "wordpress" and prefix in ctx.adapters:
        return ctx.adapters[prefix]
    return ctx.adapters[platform]


def facts_of(ctx: Context, shop: Shop, event: Event) -> list[Fact]:
    """The facts of an event (only privacy facts once the shop has uninstalled)."""
    payload = json.loads(event.payload, parse_float=Decimal)
    if "\\u0000" in event.payload:  # an escaped NUL: valid JSON, but no PostgreSQL text or JSONB holds it
        payload = _without_nul(payload)
    facts = adapter_for(ctx, shop.platform, event.topic).normalize(event.topic, payload)
    erasure.check_shop(shop, facts)
    if shop.uninstalled_at is not None:
        facts = [f for f in facts if isinstance(f, erasure.PRIVACY_FACTS)]
    return list(facts)


def _without_nul(value: Any) -> Any:  # Any: a JSON value, as json.loads gives it
    """The payload with NUL characters in its strings replaced by U+FFFD, as the raw body's are at ingest."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value
