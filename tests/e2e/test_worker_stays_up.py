"""The default `relance worker` (scheduler and cron included) stays up on an idle queue, then works."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import sqlalchemy as sa
from rq import Worker

from bridge.db.models import Event
from tests.conftest import REDIS_URL, fixture
from tests.e2e.test_processes import RELANCE, env_for, wait_for

WORKER_TTL = 20  # RQ's dequeue timeout is this minus 15 s: 5 s, shorter than the 10 s between relay jobs
IDLE_SECONDS = 40


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_default_worker_outlives_its_dequeue_timeout(tmp_path, ctx, shopify_shop, post_shopify):
    env = env_for(
        tmp_path,
        DATABASE_URL=ctx.settings.database_url,
        REDIS_URL=REDIS_URL,
        WORKER_TTL=str(WORKER_TTL),
        LOG_LEVEL="DEBUG",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*RELANCE, "worker"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: Worker.all(connection=ctx.redis), timeout=60)
        idle_until = time.monotonic() + IDLE_SECONDS
        while time.monotonic() < idle_until:
            assert worker.poll() is None, f"the worker quit after idling: {log_path.read_text()[-2000:]}"
            time.sleep(0.5)
        for i, name in enumerate(["customers__create.json", "checkouts__create.json", "orders__create.json"]):
            topic = name.split(".")[0].replace("__", "/")
            assert post_shopify(topic, fixture("shopify", name), event_id=f"idle-{i}").status_code == 200
        wait_for(lambda: _statuses(ctx) == {"processed"}, timeout=60)
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    output = log_path.read_text()
    assert code == 0, output[-2000:]
    assert output.count("BLPOP timeout") >= 2  # the dequeue timeout did run out while idle, more than once
    assert "Redis connection timeout" not in output and "quit without being asked" not in output


def _statuses(ctx) -> set[str]:
    with ctx.sessions() as s:
        return set(s.scalars(sa.select(Event.status)))
