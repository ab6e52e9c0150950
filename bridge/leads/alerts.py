"""Emitting merchant alerts: one line at each place where something happens (after its commit), a delivery
row per target and one RQ job per row; and the subscriptions' signing secrets, encrypted apart.

`emit` costs one indexed read of the live rules (their parsing is cached by content) when the shop has no
subscription for the event, and does nothing else. Rows hold ids and non-personal facts only; the job that
sends them (`bridge.outreach.alerts`) reads the lead's email when it builds the payload.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from rq import Retry
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import AlertDelivery, AlertSecret, AuditLog
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.infra.crypto import Vault
from bridge.leads.rules import alerts_for
from campaigns.alerts import EVENT_TYPES, AlertSettings

log = logging.getLogger(__name__)
SALES_EMAIL = "sales_email"  # the target of hot-lead emails and digests in the delivery log
# Backoff of a failing endpoint: about 3 h in all, then the delivery is `failed` in the log.
ALERT_RETRY = Retry(max=5, interval=[10, 60, 300, 1800, 7200])
_NAMESPACE = uuid.UUID("6f1c2f8e-2d0b-4c55-9a43-5b1f0b7f6a17")


def event_id(shop_id: int, event_type: str, key: str | None) -> str:
    """The payload's `id`: stable for a natural key (a retried job emits the same event), else random."""
    if key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_NAMESPACE, f"{shop_id}:{event_type}:{key}"))


def emit(ctx: Context, shop_id: int, event_type: str, refs: Mapping[str, Any], key: str | None = None) -> int:
    """Queue `event_type` for every subscription to it (and the hot-lead email); how many deliveries.

    `refs`: ids and non-personal facts (`lead_id`, `cart_id`, tiers, amounts). `key`: what makes the event
    unique (e.g. the cart and its abandonment time), so a retried caller never sends it twice. Never raises:
    an alert must not fail the work it reports.
    """
    return emit_many(ctx, shop_id, event_type, lambda _session: [(refs, key)])


Items = Callable[[Session], Iterable[tuple[Mapping[str, Any], str | None]]]


def emit_many(ctx: Context, shop_id: int, event_type: str, items: Items) -> int:
    """`emit` for several events of one type: the rules are read once, and `items(session)` (the events'
    refs and keys, read from the database) is only called when something subscribes."""
    return emit_kinds(ctx, shop_id, [(event_type, items)])


def emit_kinds(ctx: Context, shop_id: int, kinds: Sequence[tuple[str, Items]]) -> int:
    """`emit_many` for events of several types with one read of the rules (an order: recovered carts and
    redeemed offers); how many deliveries were queued."""
    unknown = [event_type for event_type, _ in kinds if event_type not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown alert events {unknown!r}")
    ids: list[int] = []
    try:
        with ctx.sessions() as session:
            settings = alerts_for(session, shop_id)
            wanted = [(t, _targets(settings, t), items) for t, items in kinds]
            found = [(t, targets, list(items(session))) for t, targets, items in wanted if targets]
        for event_type, targets, events in found:
            keyed = [(refs, event_id(shop_id, event_type, key)) for refs, key in events]
            ids += record(ctx, shop_id, event_type, keyed, targets) if keyed else []
    except Exception:
        log.exception("alerts %s of shop %s not recorded", [t for t, _ in kinds], shop_id)
    enqueue(ctx, ids)
    return len(ids)


def _targets(settings: AlertSettings, event_type: str) -> list[tuple[str, str]]:
    """(channel, target) pairs for one event type."""
    found = [("slack" if s.format == "slack" else "webhook", s.key) for s in settings.targets(event_type)]
    if event_type == "lead.hot" and settings.sales_email and settings.hot_email:
        found.append(("email", SALES_EMAIL))
    return found


def record(
    ctx: Context,
    shop_id: int,
    event_type: str,
    events: Sequence[tuple[Mapping[str, Any], str]],
    targets: Sequence[tuple[str, str]],
    test: bool = False,
) -> list[int]:
    """Write the delivery rows of some events, (refs, event id) each, for every target; those written
    before for the same event and target are left alone (one query finds them). The new rows' ids."""
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        found = session.execute(
            sa.select(AlertDelivery.event_id, AlertDelivery.target).where(
                AlertDelivery.event_id.in_([event for _, event in events])
            )
        )
        done = {(event, target) for event, target in found}
        rows = [
            AlertDelivery(
                shop_id=shop_id,
                event_id=event,
                event_type=event_type,
                channel=channel,
                target=target,
                refs={k: v for k, v in refs.items() if k != "occurred_at"},
                occurred_at=datetime.fromisoformat(str(refs.get("occurred_at") or now.isoformat())),
                test=test,
                status="pending",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            for refs, event in events
            for channel, target in targets
            if (event, target) not in done
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def enqueue(ctx: Context, delivery_ids: list[int]) -> bool:
    """Queue the job of each delivery (after their commit); a lost enqueue is caught by `requeue_alerts`."""
    return queue.enqueue_many(
        ctx.redis,
        jobnames.DELIVER_ALERT,
        [(i,) for i in delivery_ids],
        job_ids=[jobnames.alert_id(i) for i in delivery_ids],
        queue_name=queue.CAMPAIGNS,
        retry=ALERT_RETRY,
    )


# Signing secrets: one per subscription key, Fernet-encrypted, shown to the merchant once.


def secret_for(session: Session, vault: Vault, shop_id: int, key: str) -> str | None:
    """The plain signing secret of a subscription, or None when it has none yet."""
    stored = session.scalar(
        sa.select(AlertSecret.secret_enc).where(AlertSecret.shop_id == shop_id, AlertSecret.key == key)
    )
    return vault.decrypt(stored) if stored else None


def has_secret(session: Session, shop_id: int) -> set[str]:
    """The subscription keys of a shop that have a signing secret."""
    return set(session.scalars(sa.select(AlertSecret.key).where(AlertSecret.shop_id == shop_id)).all())


def new_secret(session: Session, vault: Vault, shop_id: int, key: str, actor: str, now: datetime) -> str:
    """Create (or replace) a subscription's signing secret in the caller's transaction; the plain secret, to
    show once."""
    plain = "whsec_" + secrets.token_urlsafe(32)
    row = session.scalar(sa.select(AlertSecret).where(AlertSecret.shop_id == shop_id, AlertSecret.key == key))
    replaced = row is not None
    if row is None:
        row = AlertSecret(shop_id=shop_id, key=key)
        session.add(row)
    row.secret_enc, row.created_at, row.created_by = vault.encrypt(plain) or "", now, actor[:320]
    action = "alert_secret.rotated" if replaced else "alert_secret.created"
    session.add(AuditLog(shop_id=shop_id, actor=actor[:320], action=action, detail={"key": key}, at=now))
    return plain


def ensure_secret(ctx: Context, shop_id: int, key: str) -> str:
    """A subscription's secret, created in a transaction of its own when missing (a subscription written
    through `PUT /api/v1/rules`: the merchant then rotates it to read it)."""
    with ctx.sessions() as session:
        found = secret_for(session, ctx.vault, shop_id, key)
    if found:
        return found
    with transaction(ctx.sessions) as session:
        found = secret_for(session, ctx.vault, shop_id, key)  # another job may have made it meanwhile
        return found or new_secret(session, ctx.vault, shop_id, key, "relance", ctx.now())


def forget_secrets(session: Session, shop_id: int, keep: Iterable[str]) -> None:
    """Delete the secrets of subscriptions that no longer exist."""
    session.execute(
        sa.delete(AlertSecret).where(AlertSecret.shop_id == shop_id, AlertSecret.key.not_in(list(keep)))
    )
