"""Redis as transport only: queues, enqueueing ids after commit, and the in-process mode (the worker process
itself: `bridge.infra.supervisor`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import fakeredis
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from rq.utils import import_attribute

from bridge.infra import jobnames

log = logging.getLogger(__name__)

EVENTS = "events"
CAMPAIGNS = "campaigns"
MAINTENANCE = "maintenance"
QUEUES = (EVENTS, CAMPAIGNS, MAINTENANCE)

# Transient failures (database restarting, store timeouts) are retried by RQ with backoff.
DEFAULT_RETRY = Retry(max=4, interval=[5, 30, 120, 600])
WAITING_STATES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
LIVE_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

# A job function by its catalogue name (`bridge.infra.jobnames`), or the function itself (tests).
JobFunc = TypeVar("JobFunc", str, Callable[..., Any])
_embedded_server: fakeredis.FakeServer | None = None


def connect(url: str) -> Redis:
    """A Redis client for `url`, or an in-process Redis emulation when `url` is empty."""
    if url:
        return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
    global _embedded_server
    if _embedded_server is None:
        _embedded_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_embedded_server)


def connect_worker(url: str) -> Redis:
    """A Redis client of an RQ worker's own, with no read timeout of ours.

    RQ blocks on BLPOP for `worker_ttl - 15` s and, when the worker is built, raises the read timeout of its
    connection pool to that plus 10 s; but a connection opened before (our 5 s one, shared with the cron
    thread) keeps its 5 s, RQ's BLPOP may draw it and then quits on "Redis connection timeout". A pool of
    the worker's own holds only connections opened after RQ set the timeout.
    """
    return Redis.from_url(url, socket_connect_timeout=2, socket_keepalive=True, health_check_interval=30)


class CatalogueJob(Job):
    """An RQ job whose function is found in the job catalogue: a job queued by an earlier release under a
    function's old path runs today's entry point (`jobnames.LEGACY`)."""

    @property
    def func(self) -> Any:
        """The function to run, by the catalogue's current name."""
        name = self.func_name
        if name is not None and self.instance is None and name in jobnames.LEGACY:
            return import_attribute(jobnames.current_name(name))
        return super().func


def get_queue(redis: Redis, name: str = EVENTS) -> Queue:
    """The named RQ queue on `redis`."""
    return Queue(name, connection=redis, job_class=CatalogueJob)


def enqueue(
    redis: Redis,
    func: JobFunc,
    *args: Any,
    job_id: str,
    queue: str = EVENTS,
    retry: Retry | None = DEFAULT_RETRY,
    timeout: int = 300,
) -> bool:
    """Queue `func(*args)` under a stable id; False (never an exception) when Redis is unreachable."""
    try:
        get_queue(redis, queue).enqueue(
            func,
            *args,
            job_id=job_id,
            retry=retry,
            job_timeout=timeout,
            result_ttl=600,
            failure_ttl=7 * 86400,
        )
    except (RedisError, OSError) as exc:
        log.warning("enqueue of %s failed: %s", job_id, type(exc).__name__)
        return False
    return True


def enqueue_many(
    redis: Redis,
    func: JobFunc,
    arg_list: Sequence[tuple[Any, ...]],
    *,
    job_ids: Sequence[str],
    queue_name: str,
    retry: Retry | None = DEFAULT_RETRY,
) -> bool:
    """Queue many calls of `func` in one round trip; False when Redis is unreachable."""
    if not arg_list:
        return True
    datas = [
        Queue.prepare_data(
            func, args, job_id=job_id, retry=retry, timeout=300, result_ttl=600, failure_ttl=7 * 86400
        )
        for args, job_id in zip(arg_list, job_ids, strict=True)
    ]
    try:
        get_queue(redis, queue_name).enqueue_many(datas)
    except (RedisError, OSError) as exc:
        log.warning("enqueue of %d job(s) failed: %s", len(datas), type(exc).__name__)
        return False
    return True


def enqueue_events(redis: Redis, event_ids: list[int]) -> None:
    """Queue `process_event` for many events in one round trip."""
    enqueue_many(
        redis,
        jobnames.PROCESS_EVENT,
        [(i,) for i in event_ids],
        job_ids=[jobnames.event_id(i) for i in event_ids],
        queue_name=EVENTS,
    )


def enqueue_batch(redis: Redis, job_id: str, event_ids: list[int]) -> bool:
    """Queue one `process_events` job for the events of a group commit (the id is stored with them)."""
    return enqueue(redis, jobnames.PROCESS_EVENTS, event_ids, job_id=job_id, timeout=300 + 2 * len(event_ids))


Requeued = Literal["queued", "live", "refused"]


def requeue(
    redis: Redis,
    func: str,
    *args: Any,
    job_id: str,
    queue: str,
    retry: Retry | None = DEFAULT_RETRY,
    timeout: int = 300,
) -> Requeued:
    """Queue a job again unless RQ still holds one under `job_id` (waiting in a backlog or for its retry: a
    second one would only race it): "queued", "live", or "refused" when Redis is unreachable (the caller's
    next periodic run tries again)."""
    try:
        if job_is_live(redis, job_id):
            return "live"
    except (RedisError, OSError) as exc:
        log.warning("requeue of %s: Redis unreachable (%s)", job_id, type(exc).__name__)
        return "refused"
    queued = enqueue(redis, func, *args, job_id=job_id, queue=queue, retry=retry, timeout=timeout)
    return "queued" if queued else "refused"


def requeue_all(
    redis: Redis,
    func: str,
    ids: Iterable[int],
    job_id: Callable[[int], str],
    *,
    queue: str,
    retry: Retry | None = DEFAULT_RETRY,
) -> int:
    """`requeue` the job of each id in turn, stopping at the first refusal (Redis away: the next periodic run
    goes on); how many were queued."""
    queued = 0
    for item in ids:
        outcome = requeue(redis, func, item, job_id=job_id(item), queue=queue, retry=retry)
        if outcome == "refused":
            break
        queued += outcome == "queued"
    return queued


def job_is_live(redis: Redis, job_id: str) -> bool:
    """True when RQ still holds this job queued, running or scheduled for a retry."""
    job = Job.fetch(job_id, connection=redis) if Job.exists(job_id, connection=redis) else None
    return job is not None and job.get_status(refresh=False) in LIVE_STATES


def drop_waiting(redis: Redis, job_ids: Sequence[str]) -> int:
    """Delete the jobs among `job_ids` still waiting (queued, scheduled, deferred); how many."""
    dropped = 0
    for job_id in job_ids:
        try:
            job = Job.fetch(job_id, connection=redis)
            if job.get_status() in WAITING_STATES:
                job.delete()
                dropped += 1
        except NoSuchJobError:
            continue
        except (RedisError, OSError):
            break  # Redis is down: nothing can run those jobs now
    return dropped


def queue_depths(redis: Redis) -> dict[str, int]:
    """Jobs waiting in each queue."""
    return {name: get_queue(redis, name).count for name in QUEUES}


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a thread (no signal handlers there; timeouts by timer)."""

    death_penalty_class = TimerDeathPenalty
    job_class = CatalogueJob

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            # super()'s, named so mypy applies the untyped-RQ exclusion (pyproject) to it
            SimpleWorker._install_signal_handlers(self)


def thread_worker(redis: Redis) -> ThreadWorker:
    """A worker on every queue that runs jobs in the calling thread (`.work(burst=True)`: until none left)."""
    return ThreadWorker([get_queue(redis, name) for name in QUEUES], connection=redis)


class Embedded:
    """RQ over the in-process Redis: one worker thread plus a ticker for scheduled and periodic jobs."""

    def __init__(self, redis: Redis, periodic: Sequence[tuple[Callable[[], None], float]] = ()) -> None:
        self.redis = redis
        self.periodic = list(periodic)
        self.stop = threading.Event()
        self.worker = thread_worker(redis)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker and ticker threads (daemons)."""
        worker = threading.Thread(target=self._work, name="relance-worker", daemon=True)
        ticker = threading.Thread(target=self._tick, name="relance-ticker", daemon=True)
        self.threads = [worker, ticker]
        for t in self.threads:
            t.start()

    def _work(self) -> None:
        while not self.stop.is_set():
            try:
                self.worker.work(burst=True, logging_level="WARNING")
            except Exception:
                log.exception("embedded worker crashed; restarting")
            self.stop.wait(0.2)

    def _tick(self) -> None:
        scheduler = RQScheduler(list(QUEUES), connection=self.redis)
        last: dict[int, float] = {}
        while not self.stop.is_set():
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
            now = time.monotonic()
            for i, (func, every) in enumerate(self.periodic):
                if now - last.get(i, 0.0) >= every:
                    last[i] = now
                    try:
                        func()
                    except Exception:
                        log.exception("periodic task failed")
            self.stop.wait(1.0)
