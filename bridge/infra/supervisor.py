"""The worker process: RQ workers on our queues, started again with backoff when one quits unasked."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested

from bridge.infra.queue import QUEUES, CatalogueJob, get_queue

log = logging.getLogger(__name__)


def work_until_stopped(
    worker_class: type[Worker],
    redis: Redis,
    *,
    burst: bool,
    logging_level: str,
    worker_ttl: int,
    max_pause: float = 60.0,
) -> None:
    """Run RQ workers of `worker_class` on our queues until a stop is asked (SIGTERM, SIGINT).

    RQ's worker returns by itself when Redis times out or a call outside its reconnect loop fails; then a
    new one starts after a pause doubling from 1 s to `max_pause` (back to 1 s after a good run). Burst
    mode returns once the queues are empty, and raises when Redis fails.
    """
    asked = threading.Event()
    supervised = _supervised(worker_class, asked)
    queues = [get_queue(redis, name) for name in QUEUES]
    pause = 1.0
    while True:
        _stop_on_signal(asked)  # until RQ's work() installs its own handlers
        began = time.monotonic()
        worker = _run_once(
            lambda: supervised(queues, connection=redis, worker_ttl=worker_ttl, job_class=CatalogueJob),
            asked,
            burst=burst,
            logging_level=logging_level,
        )
        _stop_on_signal(asked)
        if burst or asked.is_set():
            return
        _let_go(worker)
        if time.monotonic() - began > 10 * max_pause:
            pause = 1.0
        log.warning("worker quit without being asked (Redis lost?): starting a new one in %.0f s", pause)
        if asked.wait(pause):
            return
        pause = min(pause * 2, max_pause)


def _run_once(
    make: Callable[[], Worker], asked: threading.Event, *, burst: bool, logging_level: str
) -> Worker | None:
    """One RQ worker's life: made (RQ talks to Redis there), then run unless a stop was asked already."""
    worker = None
    try:
        worker = make()
        if not asked.is_set():
            worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
    except StopRequested:  # RQ's handler, raised outside RQ's loop
        asked.set()
    except (RedisError, OSError) as exc:
        if burst:
            raise
        log.error("worker stopped on a Redis error: %s", type(exc).__name__)
    return worker


def _supervised(worker_class: type[Worker], asked: threading.Event) -> type[Worker]:
    """`worker_class` that sets `asked` on SIGTERM or SIGINT, and stops even while Redis is away."""

    class Supervised(worker_class):  # type: ignore[valid-type,misc]
        def request_stop(self, signum: int, frame: Any) -> None:
            asked.set()
            try:
                super().request_stop(signum, frame)
            except (RedisError, OSError):
                raise StopRequested() from None  # RQ could not read its state from Redis: stop now

    Supervised.__name__ = Supervised.__qualname__ = worker_class.__name__
    return Supervised


def _stop_on_signal(asked: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: asked.set())


def _let_go(worker: Worker | None) -> None:
    """Stop the pubsub thread of a worker whose teardown failed (Redis away): it would retry forever."""
    thread = getattr(worker, "pubsub_thread", None)
    if thread is not None and thread.is_alive():
        thread.stop()
        thread.join(timeout=5)
        with contextlib.suppress(RedisError, OSError):
            worker.pubsub.close()  # type: ignore[union-attr]
