"""Processing of stored events: normalize, apply idempotently, rescore, hand on.

The stages: an attempt is counted in its own commit; a batch on its first try is applied together
(`bridge.events.batch`), anything else one event at a time in its own transaction; the facts come from
`bridge.events.payloads` and land through `bridge.events.apply`; a failure is kept by
`bridge.events.failures`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Event, Shop
from bridge.events import apply
from bridge.events.batch import apply_together
from bridge.events.failures import TRANSIENT, RetryLater, fail, retry_or_fail
from bridge.events.payloads import facts_of
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import deferred, prospects, scores
from connectors.base import StoreError

log = logging.getLogger(__name__)

RACE_RETRIES = 2


def handle_event(ctx: Context, event_id: int) -> str:
    """Process one event; returns its final status (or raises RetryLater)."""
    attempt = _begin_attempt(ctx, event_id)
    if attempt is None:
        return "skipped"
    return _handle_counted(ctx, event_id, attempt)


def handle_events(ctx: Context, event_ids: list[int]) -> dict[str, int]:
    """Process a batch of events; counts per final status. Raises RetryLater (after the others are done)
    when some must be tried again. A batch on its first try is applied together (`bridge.events.batch`);
    what it leaves, and a batch tried again, goes one event at a time."""
    attempts = _begin_attempts(ctx, event_ids)
    outcome: dict[str, int] = {}
    if len(event_ids) > len(attempts):
        outcome["skipped"] = len(event_ids) - len(attempts)
    alone = [event_id for event_id in event_ids if event_id in attempts]
    if len(alone) > 1 and all(n == 1 for n in attempts.values()):
        together, alone, follow_ups = apply_together(ctx, alone)
        for status in together.values():
            outcome[status] = outcome.get(status, 0) + 1
        for step in follow_ups:
            step()
    waiting: list[str] = []
    for event_id in alone:
        try:
            status = _handle_counted(ctx, event_id, attempts[event_id])
        except RetryLater as exc:
            waiting.append(f"event {event_id}: {exc}")
            status = "retry"
        outcome[status] = outcome.get(status, 0) + 1
    if waiting:
        raise RetryLater(
            f"{len(waiting)} of {len(event_ids)} event(s) to retry; " + "; ".join(waiting)[:1500]
        )
    return outcome


def _handle_counted(ctx: Context, event_id: int, attempt: int) -> str:
    try:
        status, follow_ups = _apply_racing(ctx, event_id)
    except TRANSIENT as exc:
        return retry_or_fail(ctx, event_id, attempt, exc)
    except StoreError as exc:
        if exc.transient:
            return retry_or_fail(ctx, event_id, attempt, exc)
        fail(ctx, event_id, exc)
        return "failed"
    except Exception as exc:  # an authentic payload we cannot read: keep it, flag it, allow replay
        fail(ctx, event_id, exc)
        return "failed"
    for step in follow_ups:
        step()
    return status


def _apply_racing(ctx: Context, event_id: int) -> tuple[str, list[apply.FollowUp]]:
    """Apply an event in its own transaction. A unique constraint that fails means another worker created
    the same lead, cart or order and has committed it (PostgreSQL made us wait for that): looking again at
    once finds it, where RQ's backoff would hold the event for seconds."""
    for retry in range(RACE_RETRIES + 1):
        try:
            with transaction(ctx.sessions) as session:
                deferred.begin(session)
                try:
                    return _apply_event(ctx, session, event_id)
                finally:
                    deferred.end(session)
        except sa_exc.IntegrityError:
            if retry == RACE_RETRIES:
                raise
            log.info("event %s lost a race to another worker; applying it again", event_id)
    raise AssertionError("unreachable")


def _begin_attempt(ctx: Context, event_id: int) -> int | None:
    """Count the attempt in its own commit so a worker killed mid-way still counts it."""
    return _begin_attempts(ctx, [event_id]).get(event_id)


def _begin_attempts(ctx: Context, event_ids: list[int]) -> dict[int, int]:
    """Count an attempt of each pending event in one statement and its own commit; their attempt numbers."""
    with ctx.engine.begin() as conn:
        rows = conn.execute(
            sa.update(Event)
            .where(Event.id.in_(event_ids), Event.status == "pending")
            .values(attempts=Event.attempts + 1)
            .returning(Event.id, Event.attempts)
        )
        return {event_id: attempt for event_id, attempt in rows}


def _apply_event(ctx: Context, session: Session, event_id: int) -> tuple[str, list[apply.FollowUp]]:
    event = session.get(Event, event_id, with_for_update=True)
    if event is None or event.status != "pending":
        return "skipped", []
    shop = session.get(Shop, event.shop_id)
    assert shop is not None
    facts = facts_of(ctx, shop, event)
    now = ctx.now()
    if not facts:
        event.status, event.processed_at, event.error = "ignored", now, None
        return "ignored", []
    result = apply.apply_facts(session, ctx, shop, event, facts)
    apply.write_deferred(session, ctx, {shop.id: shop}, result.follow_ups)
    result.follow_ups += apply.order_alerts(ctx, shop.id, result.orders)
    changes = scores.score_leads(session, shop, result.touched_leads, now, reason=f"event {event.topic}")
    prospects.enter_segment_members(session, shop, result.touched_leads, now)
    event.status, event.processed_at, event.error = "processed", now, None
    if event.topic.startswith(apply.STOREFRONT_PREFIX):  # untrusted storefront traffic never sends an offer
        return "processed", result.follow_ups
    return "processed", result.follow_ups + scores.follow_ups(ctx, shop, changes)


def replay(ctx: Context, event_ids: list[int]) -> int:
    """Put failed (or any) events back to pending and process them again."""
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Event)
            .where(Event.id.in_(event_ids))
            .values(status="pending", attempts=0, error=None, available_at=ctx.now(), job_id=None)
        )
    for event_id in event_ids:
        queue.enqueue(ctx.redis, jobnames.PROCESS_EVENT, event_id, job_id=jobnames.event_id(event_id))
    return len(event_ids)
