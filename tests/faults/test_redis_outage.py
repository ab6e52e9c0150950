"""Redis killed in the middle of a burst of signed webhooks, then restarted empty: nothing acknowledged is
lost, and every event is processed exactly once (the relay re-enqueues what Redis forgot)."""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, Lead
from bridge.infra import queue
from bridge.shops.registry import create_shop
from tests.faults.conftest import RELANCE, process_env, settings_for
from tests.faults.support import checkout, customer, signed

DOMAIN = "outage.myshopify.com"
BURST = 150


def deliveries(start: datetime) -> list:
    out = []
    for i in range(BURST // 2):
        out.append(signed("customers/create", customer(i, start), f"cu-{i}", DOMAIN))
        out.append(signed("checkouts/create", checkout(i, start + timedelta(minutes=1)), f"ck-{i}", DOMAIN))
    return out


@pytest.mark.timeout(120)
def test_acknowledged_webhooks_survive_a_redis_crash(tmp_path, clean_pg, redis_server, build_context):
    settings = settings_for(clean_pg, redis_server.url, tmp_path, relay_after_seconds=0)
    ctx = build_context(settings, redis=queue.connect(redis_server.url))
    with transaction(ctx.sessions) as s:
        create_shop(s, ctx.vault, platform="shopify", domain=DOMAIN, now=ctx.now(), access_token="shpat_x")
    client = create_app(settings, ctx=ctx).test_client()
    acked, lock, crashed, back = [], threading.Lock(), threading.Event(), threading.Event()

    def send(delivery) -> None:
        path, raw, headers = delivery
        response = client.post(path, data=raw, headers=headers)
        if response.status_code == 200:
            with lock:
                acked.append(headers["X-Shopify-Event-Id"])

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(send, d) for d in deliveries(datetime.now(UTC) - timedelta(hours=2))]
        _when(lambda: len(acked) >= 40)
        redis_server.kill()  # mid-burst: jobs already queued are lost with it
        crashed.set()
        _when(lambda: len(acked) >= 100)
        redis_server.start()  # back, empty
        back.set()
        for f in futures:
            f.result(timeout=60)
    assert len(acked) == BURST  # the database was up: every delivery was acknowledged
    assert queue.get_queue(ctx.redis).count < BURST  # Redis forgot some

    env = process_env(tmp_path, DATABASE_URL=clean_pg, REDIS_URL=redis_server.url, RELAY_AFTER_SECONDS="0")
    done = subprocess.run(
        [*RELANCE, "worker", "--burst"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with ctx.sessions() as s:
        events = s.scalars(sa.select(Event)).all()
        assert sorted(e.delivery_key.split(":")[1] for e in events) == sorted(acked)
        assert {e.status for e in events} == {"processed"}
        assert {e.attempts for e in events} == {1}  # each processed exactly once
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) == BURST // 2
        assert s.scalar(sa.select(sa.func.count()).select_from(Cart)) == BURST // 2
        started = s.scalars(
            sa.select(Activity.source_event_id).where(Activity.kind == "checkout_started")
        ).all()
        assert len(started) == len(set(started)) == BURST // 2


def _when(predicate, timeout: float = 60.0) -> None:
    from tests.faults.conftest import wait_for

    wait_for(predicate, timeout=timeout, every=0.005)
