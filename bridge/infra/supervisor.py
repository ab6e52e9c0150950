"""The worker process: RQ workers on our queues, started again with backoff when one quits unasked."""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker, Worker
from rq.defaults import DEFAULT_WORKER_TTL
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.worker import BaseWorker, WorkerStatus
from rq.worker_pool import WorkerPool

from bridge.infra.queue import EVENTS, QUEUES, CatalogueJob, connect_worker, get_queue

log = logging.getLogger(__name__)

WORKER_CLASSES = ("split", "fork", "simple", "pool")
DEFAULT_WORKER_CLASS = "split"  # measured with `python -m bench.load --worker-class …`: docs/production.md


class SplitWorker(Worker):
    """Runs the events queue's jobs (webhooks applied to our own database: many, small, no outside call) in
    this process, and forks a work horse per job only for the queues whose jobs call outside services (stores,
    mail providers: campaigns, maintenance), where a hung or crashing client library must not take the worker
    down. RQ's job timeout (SIGALRM) bounds the in-process jobs as it does with `SimpleWorker`."""

    in_process_queues = frozenset({EVENTS})

    def execute_job(self, job: Job, queue: Queue) -> None:
        """This process for the events queue, a work horse for the others."""
        if queue.name not in self.in_process_queues:
            super().execute_job(job, queue)
        else:
            self.prepare_execution(job)  # as SimpleWorker.execute_job does
            self.perform_job(job, queue)
            self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job: Job) -> int:
        """The in-process jobs' heartbeat is this process's: it must outlive the job's timeout."""
        if job.origin not in self.in_process_queues:
            return int(super().get_heartbeat_ttl(job))
        return DEFAULT_WORKER_TTL if job.timeout == -1 else int(job.timeout or DEFAULT_WORKER_TTL) + 60


def worker_class(kind: str) -> type[BaseWorker]:
    """The RQ worker class of `relance worker --worker-class kind` (a pool is made of split workers)."""
    classes: dict[str, type[BaseWorker]] = {"fork": Worker, "simple": SimpleWorker}
    return classes.get(kind, SplitWorker)


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


def work_in_pool(
    worker_class: type[Worker],
    redis_url: str,
    processes: int,
    *,
    burst: bool,
    logging_level: str,
    worker_ttl: int,
) -> None:
    """Run `processes` forked children, each `work_until_stopped`, restarted by RQ's WorkerPool when one dies
    (a crash or the OOM killer takes one child, not the others); SIGTERM or SIGINT stops them all warmly."""
    child = functools.partial(
        _pool_child, worker_class, redis_url, burst=burst, logging_level=logging_level, worker_ttl=worker_ttl
    )
    pool = _Pool(
        list(QUEUES), connect_worker(redis_url), num_workers=processes, worker_class=worker_class, child=child
    )
    pool.start(burst=burst, logging_level=logging_level)


def _pool_child(worker_class: type[Worker], redis_url: str, **kwargs: Any) -> None:
    work_until_stopped(worker_class, connect_worker(redis_url), **kwargs)


class _Pool(WorkerPool):
    """RQ's WorkerPool whose children run `child` (our supervised loop) instead of RQ's bare `run_worker`."""

    def __init__(self, *args: Any, child: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        """A forked process running `child` (burst and logging level are bound in it already)."""
        return multiprocessing.get_context("fork").Process(target=self.child, name=f"relance worker {name}")
