"""Redis killed under an idle `relance worker`, then restarted empty: the worker waits it out and works."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Worker

from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Event
from bridge.infra import queue
from bridge.shops.registry import create_shop
from tests.faults.conftest import RELANCE, process_env, settings_for, wait_for
from tests.faults.support import customer, signed

DOMAIN = "reconnect.myshopify.com"
OUTAGE_SECONDS = 15


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.timeout(180)
def test_the_worker_outlives_a_redis_restart(tmp_path, clean_pg, redis_server, build_context):
    settings = settings_for(clean_pg, redis_server.url, tmp_path)
    ctx = build_context(settings, redis=queue.connect(redis_server.url))
    with transaction(ctx.sessions) as s:
        create_shop(s, ctx.vault, platform="shopify", domain=DOMAIN, now=ctx.now(), access_token="shpat_x")
    client = create_app(settings, ctx=ctx).test_client()
    env = process_env(tmp_path, DATABASE_URL=clean_pg, REDIS_URL=redis_server.url, WORKER_TTL="20")
    env["LOG_LEVEL"] = "INFO"
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*RELANCE, "worker"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        probe = Redis.from_url(redis_server.url)
        wait_for(lambda: Worker.all(connection=probe), timeout=60)
        probe.close()
        time.sleep(3)  # the first periodic jobs are done: the worker waits on its queues
        redis_server.kill()
        back_at = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < back_at:
            assert worker.poll() is None, f"the worker quit with Redis: {log_path.read_text()[-2000:]}"
            time.sleep(0.5)
        redis_server.start()  # back, empty
        path, raw, headers = signed("customers/create", customer(1, datetime.now(UTC)), "after", DOMAIN)
        assert client.post(path, data=raw, headers=headers).status_code == 200
        wait_for(lambda: _statuses(ctx) == {"processed"}, timeout=90)
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    assert code == 0, log_path.read_text()[-2000:]


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_a_worker_waiting_for_redis_stops_when_asked(tmp_path, clean_pg, redis_server):
    env = process_env(tmp_path, DATABASE_URL=clean_pg, REDIS_URL=redis_server.url, WORKER_TTL="20")
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*RELANCE, "worker"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        probe = Redis.from_url(redis_server.url)
        wait_for(lambda: Worker.all(connection=probe), timeout=60)
        probe.close()
        redis_server.kill()
        time.sleep(8)  # RQ's reconnect loop, or ours, is waiting
        assert worker.poll() is None, log_path.read_text()[-2000:]
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    assert code == 0, log_path.read_text()[-2000:]  # a stop asked for, not a crash


def _statuses(ctx) -> set[str]:
    with ctx.sessions() as s:
        return set(s.scalars(sa.select(Event.status)))
