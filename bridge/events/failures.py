"""What a failed attempt leaves on its event: a retry with RQ's backoff while attempts remain, else the
`failed` status; either way a reason free of personal data in `events.error`."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bridge.db import transaction
from bridge.db.models import Event
from bridge.infra.context import Context
from connectors.base import PayloadError, StoreError

log = logging.getLogger(__name__)

# Worth another try: the database blinked, two workers raced on one row, a store timed out.
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.IntegrityError, ConnectionError)


class RetryLater(RuntimeError):
    """Raised to let RQ retry the job with backoff."""


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


def retry_or_fail(ctx: Context, event_id: int, attempt: int, exc: BaseException) -> str:
    """A passing failure: the reason kept and RetryLater raised, or "failed" once the attempts are spent."""
    message = error_reason(exc)
    if attempt >= ctx.settings.max_event_attempts:
        fail(ctx, event_id, exc)
        return "failed"
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(Event).where(Event.id == event_id).values(error=message))
    raise RetryLater(message) from exc


def fail(ctx: Context, event_id: int, exc: BaseException) -> None:
    """Mark the event failed, with the reason; it stays for the merchant to see and replay."""
    message = error_reason(exc)
    log.warning("event %s failed: %s", event_id, type(exc).__name__)
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Event)
            .where(Event.id == event_id)
            .values(status="failed", error=message, processed_at=ctx.now())
        )
