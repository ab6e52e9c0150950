"""A batch of events on its first try, applied in one transaction: a sixth of the statements and commits
of one event at a time, each touched lead rescored once.

Anything going wrong (a payload we cannot read, two workers creating the same lead) rolls the whole batch
back, and its events go one at a time (`bridge.events.pipeline`), which confines a failure to its event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Event, Shop
from bridge.events import apply
from bridge.events.payloads import facts_of
from bridge.infra.context import Context
from bridge.leads import deferred, erasure, preload, prospects, scores
from connectors.base import Fact

log = logging.getLogger(__name__)

Read = list[tuple[Event, list[Fact]]]  # events whose facts were read, in the order they are applied


class BatchResult(NamedTuple):
    """The status of each event applied, the events left to go one at a time, the steps after commit."""

    statuses: dict[int, str]
    alone: list[int]
    follow_ups: list[apply.FollowUp]


def apply_together(ctx: Context, event_ids: list[int]) -> BatchResult:
    """Apply a batch in one transaction; when it fails, nothing was written and every event goes alone."""
    try:
        with transaction(ctx.sessions) as session:
            preload.begin(session)
            deferred.begin(session)
            try:
                return _apply_batch(ctx, session, event_ids)
            finally:
                deferred.end(session)
                preload.forget(session)
    except Exception as exc:  # nothing was written; one at a time sorts it out
        log.info("batch of %d event(s) goes one at a time: %s", len(event_ids), type(exc).__name__)
        return BatchResult({}, event_ids, [])


def _apply_batch(ctx: Context, session: Session, event_ids: list[int]) -> BatchResult:
    events = session.scalars(
        sa.select(Event)
        .where(Event.id.in_(event_ids), Event.status == "pending")
        .order_by(Event.id)
        .with_for_update()
    ).all()
    shops = {
        s.id: s for s in session.scalars(sa.select(Shop).where(Shop.id.in_({e.shop_id for e in events})))
    }
    read, alone = _read(ctx, shops, events)
    found = {
        shop_id: preload.keys_of(
            shop_id, (f for event, items in read if event.shop_id == shop_id for f in items)
        )
        for shop_id in shops
    }
    preload.lock(session, set().union(*(keys for keys in found.values() if keys)))
    for keys in found.values():
        if keys:
            preload.preload(session, keys)
    now = ctx.now()
    statuses, follow_ups = _apply_read(ctx, session, shops, read, now)
    for status in set(statuses.values()):  # one statement per outcome, not one per event
        done = [event_id for event_id, s in statuses.items() if s == status]
        session.execute(
            sa.update(Event).where(Event.id.in_(done)).values(status=status, processed_at=now, error=None),
            execution_options={"synchronize_session": False},
        )
    return BatchResult(statuses, alone, follow_ups)


def _read(ctx: Context, shops: dict[int, Shop], events: Sequence[Event]) -> tuple[Read, list[int]]:
    """The facts of the events the batch can apply, and the events left to go one at a time after it."""
    read: Read = []
    alone: list[int] = []
    for at, event in enumerate(events):
        if event.topic.startswith(apply.STOREFRONT_PREFIX):
            # Storefront traffic must never mail: alone, its tier changes are told apart from the store's.
            alone.append(event.id)
            continue
        try:
            items = facts_of(ctx, shops[event.shop_id], event)
        except Exception:  # its own transaction fails it, with the error kept
            alone.append(event.id)
            continue
        if any(isinstance(f, erasure.PRIVACY_FACTS) for f in items):
            # An uninstall or a redaction changes what the events after it may do: they go one at a time.
            alone += [e.id for e in events[at:]]
            break
        read.append((event, items))
    return read, alone


def _apply_read(
    ctx: Context, session: Session, shops: dict[int, Shop], read: Read, now: datetime
) -> tuple[dict[int, str], list[apply.FollowUp]]:
    """Apply the facts read, then rescore each touched lead once per shop; each event's status."""
    statuses: dict[int, str] = {}
    follow_ups: list[apply.FollowUp] = []
    reasons: dict[int, dict[int, str]] = {}  # per shop: each touched lead and the last event that touched it
    orders: dict[int, list[str]] = {}  # per shop: the orders applied
    for event, items in read:
        if items:
            result = apply.apply_facts(session, ctx, shops[event.shop_id], event, items)
            reasons.setdefault(event.shop_id, {}).update(
                dict.fromkeys(result.touched_leads, f"event {event.topic}")
            )
            follow_ups += result.follow_ups
            orders.setdefault(event.shop_id, []).extend(result.orders)
        statuses[event.id] = "processed" if items else "ignored"
    apply.write_deferred(session, ctx, shops, follow_ups)
    for shop_id, order_ids in orders.items():
        follow_ups += apply.order_alerts(ctx, shop_id, order_ids)
    for shop_id, touched in reasons.items():  # store events only: collect/ went alone
        changes = scores.score_leads(session, shops[shop_id], touched, now, reason=touched)
        prospects.enter_segment_members(session, shops[shop_id], touched, now)
        follow_ups += scores.follow_ups(ctx, shops[shop_id], changes)
    return statuses, follow_ups
