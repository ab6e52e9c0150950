"""The worker's Redis client outlasts RQ's blocking dequeue, even on a connection opened before the worker
(the cron thread and the start-up relay open theirs first)."""

from __future__ import annotations

import time

import pytest
from rq import Worker

from bridge.infra import queue
from tests.conftest import REDIS_URL


@pytest.mark.slow
@pytest.mark.redis
def test_a_connection_opened_before_the_worker_outlasts_its_dequeue(redis_conn):
    redis = queue.connect_worker(REDIS_URL)
    redis.ping()  # this connection exists before RQ sets the pool's read timeout
    worker = Worker([queue.get_queue(redis, q) for q in queue.QUEUES], connection=redis, worker_ttl=22)
    assert worker.dequeue_timeout == 7  # longer than the web side's 5 s read timeout
    began = time.monotonic()
    assert worker.dequeue_job_and_maintain_ttl(7, max_idle_time=7) is None  # BLPOP ran out: no job
    assert time.monotonic() - began >= 7
    redis.close()
