"""Processing of one stored event: normalize, apply idempotently, rescore, hand on."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bridge.db import transaction
from bridge.db.models import Event, Shop
from bridge.events import apply
from bridge.infra import jobnames, queue
from bridge.infra.context import Context, FactReader
from bridge.leads import erasure as privacy
from bridge.leads import preload
from bridge.leads import scores as scorer
from connectors.base import PayloadError, StoreError

log = logging.getLogger(__name__)

# Worth another try: the database blinked, two workers raced on one row, a store timed out.
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.IntegrityError, ConnectionError)


class RetryLater(RuntimeError):
    """Raised to let RQ retry the job with backoff."""


def handle_event(ctx: Context, event_id: int) -> str:
    """Process one event; returns its final status (or raises RetryLater)."""
    attempt = _begin_attempt(ctx, event_id)
    if attempt is None:
        return "skipped"
    return _handle_counted(ctx, event_id, attempt)


def _handle_counted(ctx: Context, event_id: int, attempt: int) -> str:
    try:
        status, follow_ups = _apply_racing(ctx, event_id)
    except TRANSIENT as exc:
        return _transient(ctx, event_id, attempt, exc)
    except StoreError as exc:
        if exc.transient:
            return _transient(ctx, event_id, attempt, exc)
        _fail(ctx, event_id, exc)
        return "failed"
    except Exception as exc:  # an authentic payload we cannot read: keep it, flag it, allow replay
        _fail(ctx, event_id, exc)
        return "failed"
    for step in follow_ups:
        step()
    return status


RACE_RETRIES = 2


def _apply_racing(ctx: Context, event_id: int) -> tuple[str, list[apply.FollowUp]]:
    """Apply an event in its own transaction. A unique constraint that fails means another worker created
    the same lead, cart or order and has committed it (PostgreSQL made us wait for that): looking again at
    once finds it, where RQ's backoff would hold the event for seconds."""
    for retry in range(RACE_RETRIES + 1):
        try:
            with transaction(ctx.sessions) as session:
                return _apply_event(ctx, session, event_id)
        except sa_exc.IntegrityError:
            if retry == RACE_RETRIES:
                raise
            log.info("event %s lost a race to another worker; applying it again", event_id)
    raise AssertionError("unreachable")


def handle_events(ctx: Context, event_ids: list[int]) -> dict[str, int]:
    """Process a batch of events; counts per final status. Raises RetryLater (after the others are done)
    when some must be tried again.

    A batch on its first try is applied in one transaction (per shop), each touched lead rescored once: a
    sixth of the statements and commits of one event at a time. Anything going wrong there (a payload we
    cannot read, two workers creating the same lead) rolls it back, and the events go one at a time in
    their own transactions, which confines a failure to its own event."""
    attempts = _begin_attempts(ctx, event_ids)
    outcome: dict[str, int] = {}
    if len(event_ids) > len(attempts):
        outcome["skipped"] = len(event_ids) - len(attempts)
    alone = [event_id for event_id in event_ids if event_id in attempts]
    if len(alone) > 1 and all(n == 1 for n in attempts.values()):
        together, alone, follow_ups = _apply_together(ctx, alone)
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


def _apply_together(
    ctx: Context, event_ids: list[int]
) -> tuple[dict[int, str], list[int], list[apply.FollowUp]]:
    """Apply a batch in one transaction: the status of each event applied, the events left to go one at a
    time (all of them when the transaction failed) and the steps to run after the commit."""
    try:
        with transaction(ctx.sessions) as session:
            preload.begin(session)
            try:
                return _apply_batch(ctx, session, event_ids)
            finally:
                preload.forget(session)
    except Exception as exc:  # nothing was written; one at a time sorts it out
        log.info("batch of %d event(s) goes one at a time: %s", len(event_ids), type(exc).__name__)
        return {}, event_ids, []


def _apply_batch(
    ctx: Context, session: sa.orm.Session, event_ids: list[int]
) -> tuple[dict[int, str], list[int], list[apply.FollowUp]]:
    events = session.scalars(
        sa.select(Event)
        .where(Event.id.in_(event_ids), Event.status == "pending")
        .order_by(Event.id)
        .with_for_update()
    ).all()
    shops = {
        s.id: s for s in session.scalars(sa.select(Shop).where(Shop.id.in_({e.shop_id for e in events})))
    }
    read: list[tuple[Event, list[object]]] = []
    unread: list[int] = []  # events left to go one at a time, after the batch
    for at, event in enumerate(events):
        if event.topic.startswith("collect/"):
            # Storefront traffic must never mail: alone, its tier changes are told apart from the store's.
            unread.append(event.id)
            continue
        try:
            items = _facts(ctx, shops[event.shop_id], event)
        except Exception:  # its own transaction fails it, with the error kept
            unread.append(event.id)
            continue
        if any(isinstance(f, privacy.PRIVACY_FACTS) for f in items):
            # An uninstall or a redaction changes what the events after it may do: they go one at a time.
            unread += [e.id for e in events[at:]]
            break
        read.append((event, items))
    for shop_id in shops:
        keys = preload.keys_of(
            shop_id, (f for event, items in read if event.shop_id == shop_id for f in items)
        )
        if keys:
            preload.preload(session, keys)
    now = ctx.now()
    statuses: dict[int, str] = {}
    follow_ups: list[apply.FollowUp] = []
    reasons: dict[int, dict[int, str]] = {}  # per shop: each touched lead and the last event that touched it
    for event, items in read:
        if items:
            result = apply.apply_facts(session, ctx, shops[event.shop_id], event, items)
            reasons.setdefault(event.shop_id, {}).update(
                dict.fromkeys(result.touched_leads, f"event {event.topic}")
            )
            follow_ups += result.follow_ups
        statuses[event.id] = "processed" if items else "ignored"
    for shop_id, touched in reasons.items():
        changes = scorer.rescore_leads(session, shops[shop_id], touched, now, reason=touched)
        follow_ups += scorer.follow_ups(
            ctx, shops[shop_id], changes
        )  # store events only: collect/ went alone
    for status in set(statuses.values()):  # one statement per outcome, not one per event
        done = [event_id for event_id, s in statuses.items() if s == status]
        session.execute(
            sa.update(Event).where(Event.id.in_(done)).values(status=status, processed_at=now, error=None),
            execution_options={"synchronize_session": False},
        )
    return statuses, unread, follow_ups


def _facts(ctx: Context, shop: Shop, event: Event) -> list[object]:
    """The facts of an event (only privacy facts once the shop has uninstalled)."""
    payload = json.loads(event.payload, parse_float=Decimal)
    if "\\u0000" in event.payload:  # an escaped NUL: valid JSON, but no PostgreSQL text or JSONB holds it
        payload = _without_nul(payload)
    facts = adapter_for(ctx, shop.platform, event.topic).normalize(event.topic, payload)
    privacy.check_shop(shop, facts)
    if shop.uninstalled_at is not None:
        facts = [f for f in facts if isinstance(f, privacy.PRIVACY_FACTS)]
    return list(facts)


def _without_nul(value: Any) -> Any:
    """The payload with NUL characters in its strings replaced by U+FFFD, as the raw body's are at ingest."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _apply_event(ctx: Context, session: sa.orm.Session, event_id: int) -> tuple[str, list[apply.FollowUp]]:
    event = session.get(Event, event_id, with_for_update=True)
    if event is None or event.status != "pending":
        return "skipped", []
    shop = session.get(Shop, event.shop_id)
    assert shop is not None
    facts = _facts(ctx, shop, event)
    now = ctx.now()
    if not facts:
        event.status, event.processed_at, event.error = "ignored", now, None
        return "ignored", []
    result = apply.apply_facts(session, ctx, shop, event, facts)
    changes = scorer.rescore_leads(session, shop, result.touched_leads, now, reason=f"event {event.topic}")
    event.status, event.processed_at, event.error = "processed", now, None
    if event.topic.startswith("collect/"):  # untrusted storefront traffic never triggers an offer email
        return "processed", result.follow_ups
    return "processed", result.follow_ups + scorer.follow_ups(ctx, shop, changes)


def adapter_for(ctx: Context, platform: str, topic: str) -> FactReader:
    """The normalizer of a topic: storefront and plugin events have their own, the rest the platform's."""
    prefix = topic.split("/", 1)[0]
    if prefix == "collect":
        return ctx.storefront
    if prefix == "wordpress" and prefix in ctx.adapters:
        return ctx.adapters[prefix]
    return ctx.adapters[platform]


_DATABASE_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (sa_exc.IntegrityError, "the database refused a duplicate or a missing reference"),
    (sa_exc.DataError, "the database refused a value of this event"),
    (sa_exc.OperationalError, "the database did not answer"),
    (sa_exc.InterfaceError, "the database did not answer"),
    (sa_exc.SQLAlchemyError, "the database refused this event"),
    (json.JSONDecodeError, "the payload is not valid JSON"),
    (RecursionError, "the payload is nested too deeply"),
)


def error_reason(exc: BaseException) -> str:
    """What `events.error` keeps of a failure, shown to merchants: the exception's class and a short reason
    free of personal data. Our own payload errors name fields, never values; database errors carry the
    statement and its parameters (names, emails), and anything else may quote the payload, so they get a
    fixed text."""
    name = type(exc).__name__
    if isinstance(exc, PayloadError):
        return f"{name}: {str(exc)[:300]}"
    if isinstance(exc, StoreError):  # the store's own words may quote what we sent
        return f"{name}: the store call failed ({exc.code or 'no code'})"
    reason = next((text for kind, text in _DATABASE_REASONS if isinstance(exc, kind)), None)
    return f"{name}: {reason or 'the event could not be processed'}"


def _transient(ctx: Context, event_id: int, attempt: int, exc: BaseException) -> str:
    message = error_reason(exc)
    if attempt >= ctx.settings.max_event_attempts:
        _fail(ctx, event_id, exc)
        return "failed"
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(Event).where(Event.id == event_id).values(error=message))
    raise RetryLater(message) from exc


def _fail(ctx: Context, event_id: int, exc: BaseException) -> None:
    message = error_reason(exc)
    log.warning("event %s failed: %s", event_id, type(exc).__name__)
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Event)
            .where(Event.id == event_id)
            .values(status="failed", error=message, processed_at=ctx.now())
        )


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
