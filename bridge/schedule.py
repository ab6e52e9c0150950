"""Periodic jobs, run by RQ's cron scheduler (or the in-process ticker in embedded mode)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronScheduler

from bridge import jobs
from bridge.infra import jobnames, queue

log = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Periodic:
    """A job function of no arguments, its interval and its queue."""

    func: Callable[[], object]
    every_seconds: int
    queue: str = queue.MAINTENANCE


def periodic_jobs() -> list[Periodic]:
    """Every periodic job; each is idempotent, so two schedulers running at once do no harm."""
    return [
        Periodic(jobs.relay_pending, 10),
        Periodic(jobs.sweep_carts, 60, queue.CAMPAIGNS),
        Periodic(jobs.remove_expired_codes, 600, queue.CAMPAIGNS),
        Periodic(jobs.redeliver_lost, 120, queue.CAMPAIGNS),
        Periodic(jobs.snapshot_tiers, 3600),
        Periodic(jobs.requeue_rescores, 60),
        Periodic(jobs.reconcile_all_woocommerce, 900),
        Periodic(jobs.reconcile_all_shopify, 900),
        Periodic(jobs.apply_retention, 86400),
        Periodic(jobs.drop_losing_codes, 86400, queue.CAMPAIGNS),
        Periodic(jobs.send_monthly_reports, 3600, queue.CAMPAIGNS),
        Periodic(jobs.look_up_missing_products, 3600),
        Periodic(jobs.send_alert_digests, 3600, queue.CAMPAIGNS),
        Periodic(jobs.requeue_alerts, 120, queue.CAMPAIGNS),
        Periodic(jobs.emit_journey_exits, 60, queue.CAMPAIGNS),
        Periodic(jobs.rescore_decayed, 300),
    ]


class ThreadCron(CronScheduler):
    """RQ's cron scheduler, run in a thread beside the worker (signals stay with the worker)."""

    def _install_signal_handlers(self) -> None:
        pass


def start_cron(redis: Redis, stop: threading.Event) -> threading.Thread:
    """Run RQ's cron scheduler for our periodic jobs in a daemon thread."""
    cron = ThreadCron(connection=redis, logging_level="WARNING")
    for p in periodic_jobs():
        cron.register(p.func, queue_name=p.queue, interval=p.every_seconds, job_timeout=600)

    def loop() -> None:
        born = False
        try:
            while not stop.is_set():
                pause = 0.5
                try:  # Redis may be away at start or later: keep ticking, the next tick catches up
                    if not born:
                        cron.register_birth()
                        born = True
                    if cron.enqueue_jobs():
                        cron.save()
                    cron.heartbeat()
                except (RedisError, OSError) as exc:
                    log.warning("cron tick failed: Redis unreachable (%s)", type(exc).__name__)
                    pause = REDIS_RETRY_SECONDS
                except Exception:
                    log.exception("cron tick failed")
                stop.wait(max(cron.calculate_sleep_interval(), pause))
        finally:
            if born:
                with contextlib.suppress(Exception):
                    cron.register_death()

    thread = threading.Thread(target=loop, name="relance-cron", daemon=True)
    thread.start()
    return thread


def enqueue_now(redis: Redis, periodic: Periodic) -> Callable[[], None]:
    """A tick for the embedded ticker: enqueue the periodic job once."""

    def tick() -> None:
        queue.enqueue(
            redis,
            periodic.func,
            job_id=jobnames.cron_id(periodic.func.__name__),
            queue=periodic.queue,
            retry=None,
        )

    return tick
