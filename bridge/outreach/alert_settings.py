"""Changing a shop's alerts: the `alerts` part of the rules document saved as a new version, addresses
checked against the SSRF rules, and each new subscription's signing secret created (shown once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bridge.db.models import Ruleset, Shop
from bridge.infra.context import Context
from bridge.leads import alerts, rules
from bridge.outreach import outbound


@dataclass
class Saved:
    """What saving alerts did: the new version (None: nothing changed or refused), the errors by field path,
    and the secrets created, by subscription key (plain: show them once, they are never shown again)."""

    row: Ruleset | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def save(ctx: Context, session: Session, shop_id: int, document: Any, actor: str, note: str = "") -> Saved:
    """Validate and save an `alerts` document in the caller's transaction (the caller commits, then queues
    the version's rescore as every rules change does)."""
    _, live = rules.current(session, shop_id)
    shop = session.get(Shop, shop_id)
    document = _without_markers(document)
    clean, errors = rules.validate({"alerts": document}, base=live, platform=shop.platform if shop else None)
    if clean is None:
        return Saved(errors=rules.flatten_errors(errors))
    refused = outbound.webhook_url_errors(ctx, clean, live)
    if refused:
        return Saved(errors=rules.flatten_errors(refused))
    if not rules.diff(live, clean):
        return Saved()
    row = rules.save(session, shop_id, clean, actor, note or "alerts", ctx.now())
    keys = [s["key"] for s in clean["alerts"]["subscriptions"]]
    alerts.forget_secrets(session, shop_id, keep=keys)
    known = alerts.has_secret(session, shop_id)
    secrets = {
        key: alerts.new_secret(session, ctx.vault, shop_id, key, actor, ctx.now())
        for key in keys
        if key not in known
    }
    return Saved(row=row, secrets=secrets)


def _without_markers(document: Any) -> Any:
    """The document as `view` showed it, less its read-only `secret` markers (a GET can be PUT back)."""
    if not isinstance(document, dict) or not isinstance(document.get("subscriptions"), list):
        return document
    subscriptions = [
        {k: v for k, v in s.items() if k != "secret"} if isinstance(s, dict) else s
        for s in document["subscriptions"]
    ]
    return {**document, "subscriptions": subscriptions}


def rotate(ctx: Context, session: Session, shop_id: int, key: str, actor: str) -> str | None:
    """A new signing secret for a subscription (the old one stops at once); None when there is no such
    subscription."""
    if rules.alerts_for(session, shop_id).subscription(key) is None:
        return None
    return alerts.new_secret(session, ctx.vault, shop_id, key, actor, ctx.now())


def view(session: Session, shop_id: int) -> dict[str, Any]:
    """The live alerts document, each subscription marked with whether it has a secret ("set")."""
    _, document = rules.current(session, shop_id)
    known = alerts.has_secret(session, shop_id)
    part = document["alerts"]
    subscriptions = [{**s, "secret": "set" if s["key"] in known else None} for s in part["subscriptions"]]
    return {**part, "subscriptions": subscriptions}


def delivery_json(row: Any) -> dict[str, Any]:
    """One delivery log line as the API answers it (no payload, no URL, no personal data)."""
    return {
        "id": row.id,
        "event_id": row.event_id,
        "type": row.event_type,
        "channel": row.channel,
        "target": row.target,
        "test": row.test,
        "status": row.status,
        "attempts": row.attempts,
        "response_code": row.response_code,
        "duration_ms": row.duration_ms,
        "error": row.error,
        "occurred_at": row.occurred_at.isoformat(),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
