"""The composition root shared by the web app and the workers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge import db
from bridge.events.writer import EventWriter
from bridge.infra import queue
from bridge.infra.crypto import Vault
from bridge.infra.settings import Settings, complete
from bridge.shops.registry import SignerCache
from connectors.base import WebhookAdapter
from connectors.shopify.webhooks import ShopifyWebhooks
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import WordPressEvents

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


@dataclass
class Context:
    """Everything a request or a job needs, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    redis: Redis
    adapters: dict[str, WebhookAdapter]
    clock: Callable[[], datetime] = utcnow
    signers: Any = None
    writer: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        """The current time by this context's clock (tests inject one)."""
        return self.clock()


_current: Context | None = None


def build(
    settings: Settings, *, redis: Redis | None = None, clock: Callable[[], datetime] = utcnow
) -> Context:
    """Build a context from settings and make it the process's current one."""
    settings = complete(settings)
    engine = db.make_engine(settings.database_url)
    ctx = Context(
        settings=settings,
        engine=engine,
        sessions=db.make_session_factory(engine),
        vault=Vault(settings.encryption_keys),
        redis=redis if redis is not None else queue.connect(settings.redis_url),
        adapters={
            "shopify": ShopifyWebhooks(),
            "woocommerce": WooWebhooks(),
            "wordpress": WordPressEvents(clock=clock),
        },
        clock=clock,
    )
    from bridge.events.collect import COLLECT_ADAPTER  # imported here: collect → ingest → runtime

    ctx.adapters["collect"] = COLLECT_ADAPTER
    ctx.signers = SignerCache(ctx.sessions, ctx.vault, settings)
    ctx.writer = EventWriter(
        engine,
        after_commit=lambda job, ids: queue.enqueue_batch(ctx.redis, job, ids),
        job_window=settings.ingest_job_window_ms / 1000,
    )
    from bridge.outreach.sweep import on_tier_change

    ctx.extras["on_tier_change"] = on_tier_change
    install(ctx)
    return ctx


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
        from bridge.infra.settings import from_env

        _current = build(from_env())
    return _current
