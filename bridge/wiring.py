"""The composition root shared by the web app and the workers: the one module that imports every feature."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from redis import Redis

from bridge import db
from bridge.events.collect import COLLECT_ADAPTER
from bridge.events.writer import EventWriter
from bridge.infra import queue
from bridge.infra.context import Context, utcnow
from bridge.infra.crypto import Vault
from bridge.infra.settings import Settings, complete, from_env
from bridge.shops.registry import SignerCache
from connectors import registry as vendors

log = logging.getLogger(__name__)

__all__ = ["Context", "build", "current", "install", "utcnow"]


def build(
    settings: Settings, *, redis: Redis | None = None, clock: Callable[[], datetime] = utcnow
) -> Context:
    """Build a context from settings and make it the process's current one."""
    settings = complete(settings)
    engine = db.make_engine(settings.database_url)
    sessions = db.make_session_factory(engine)
    vault = Vault(settings.encryption_keys)
    redis = redis if redis is not None else queue.connect(settings.redis_url)
    adapters = vendors.webhook_adapters(clock=clock)

    def queue_batch(job_id: str, event_ids: list[int]) -> None:
        # ctx.redis, not this function's redis: whoever swaps the context's Redis swaps the writer's too
        queue.enqueue_batch(ctx.redis, job_id, event_ids)

    writer = EventWriter(engine, after_commit=queue_batch, job_window=settings.ingest_job_window_ms / 1000)
    ctx = Context(
        settings=settings,
        engine=engine,
        sessions=sessions,
        vault=vault,
        redis=redis,
        adapters=adapters,
        storefront=COLLECT_ADAPTER,
        signers=SignerCache(sessions, vault, settings),
        writer=writer,
        clock=clock,
    )
    install(ctx)
    return ctx


_current: Context | None = None


def install(ctx: Context) -> None:
    """Make `ctx` the one jobs in this process use."""
    global _current
    _current = ctx


def _after_fork_in_child() -> None:
    # RQ forks a work horse per job: the child must not reuse the parent's pooled connections.
    if _current is not None:
        _current.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def current() -> Context:
    """The context of this process, built from the environment on first use (workers)."""
    global _current
    if _current is None:
        _current = build(from_env())
    return _current
