"""The group commit's leader killed in the middle of a batch: a real gunicorn worker SIGKILLed while its
batch waits in PostgreSQL, and the leaders' connection dropped while a batch is in flight. Senders behave as
Shopify does (a delivery not answered 200 is sent again): every acknowledged delivery is stored, every
unacknowledged one is stored by a retry, none twice, and the relay gives each stored event a live job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bridge.app import create_app
from bridge.db.models import Event
from bridge.events.ingest import relay
from bridge.infra import queue
from tests.conftest import APP_SECRET
from tests.faults.conftest import ROOT, free_port, process_env, settings_for, wait_for
from tests.faults.support import Delivery, checkout, signed, store_shop

DOMAIN = "leader.myshopify.com"
DELIVERIES = 48


def deliveries() -> list[Delivery]:
    at = datetime.now(UTC) - timedelta(hours=1)
    return [signed("checkouts/update", checkout(i, at), f"lk-{i}", DOMAIN) for i in range(DELIVERIES)]


class Store:
    """Shopify's side: sends each delivery until it is answered 200, from a few threads at once."""

    def __init__(self, post: Callable[[Delivery], int], senders: int = 8) -> None:
        self.post, self.acked, self.refused = post, set[str](), 0
        self.lock = threading.Lock()
        self.todo = deliveries()
        self.threads = [threading.Thread(target=self._send, daemon=True) for _ in range(senders)]

    def start(self) -> Store:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self.threads:
            thread.join(90)

    def _send(self) -> None:
        while True:
            with self.lock:
                if not self.todo:
                    return
                delivery = self.todo.pop()
            deadline = time.monotonic() + 80
            while self.post(delivery) != 200:  # a 5xx, a dropped connection: Shopify sends it again
                with self.lock:
                    self.refused += 1
                assert time.monotonic() < deadline, "a delivery was never accepted"
                time.sleep(0.2)
            with self.lock:
                self.acked.add(delivery[2]["X-Shopify-Event-Id"])


def batch_waiting_on_lock(url: str) -> bool:
    """Whether an ingest batch is in flight: its INSERT waits on the lock the test holds."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%INSERT INTO events%' AND datname = current_database()"
                    )
                )
            )
    finally:
        engine.dispose()


def lock_events(engine: sa.Engine) -> sa.Connection:
    """A transaction that blocks every insert into `events` until it ends."""
    holder = engine.connect()
    holder.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))
    return holder


def check_nothing_lost(ctx, store: Store) -> None:
    with ctx.sessions() as s:
        keys = list(s.scalars(sa.select(Event.delivery_key)))
    ids = {f"lk-{i}" for i in range(DELIVERIES)}
    assert store.acked == ids  # every delivery was acknowledged in the end (after retries)
    assert sorted(keys) == sorted(f"checkouts/update:{i}" for i in ids)  # each stored, once

    def every_event_has_a_live_job() -> bool:
        relay(ctx)  # the job of a window that died with its process: re-enqueued
        with ctx.sessions() as s:
            carriers = set(s.scalars(sa.select(Event.job_id)))
        return all(queue.job_is_live(ctx.redis, job_id) for job_id in carriers)

    wait_for(every_event_has_a_live_job, timeout=10, every=0.2)  # a window still open closes by itself


def worker_pids(master: int) -> list[int]:
    return [
        int(pid)
        for task in Path(f"/proc/{master}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]


@pytest.mark.timeout(180)
def test_a_gunicorn_worker_killed_while_its_batch_is_in_flight_loses_nothing(
    tmp_path, clean_pg, redis_url, redis_conn, build_context
):
    ctx = build_context(settings_for(clean_pg, redis_url, tmp_path, relay_after_seconds=0), redis=redis_conn)
    store_shop(ctx, DOMAIN)
    port = free_port()
    env = process_env(
        tmp_path,
        DATABASE_URL=clean_pg,
        REDIS_URL=redis_url,
        SHOPIFY_API_SECRET=APP_SECRET,
        RELAY_AFTER_SECONDS="0",  # the killed worker's open window: due for the relay at once
    )
    flags = ["-k", "gthread", "--workers", "1", "--threads", "8", "--log-level", "warning"]
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *flags, "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    session = requests.Session()

    def post(delivery: Delivery) -> int:
        path, raw, headers = delivery
        try:
            return requests.post(
                f"http://127.0.0.1:{port}{path}", data=raw, headers=headers, timeout=10
            ).status_code
        except requests.RequestException:  # the worker died with the request: no answer
            return 0

    try:
        wait_for(lambda: _answers(session, port), timeout=60)
        [first_worker] = worker_pids(web.pid)
        holder = lock_events(ctx.engine)
        store = Store(post).start()
        wait_for(lambda: batch_waiting_on_lock(clean_pg), timeout=30, every=0.05)
        time.sleep(0.3)  # followers queue behind the leader's batch
        acked_before_kill = set(store.acked)
        os.kill(first_worker, signal.SIGKILL)  # the leader, its followers and its connection die at once
        holder.rollback()
        holder.close()
        store.join()
        assert store.refused > 0  # the kill did cut requests short
        assert worker_pids(web.pid) != [first_worker]  # gunicorn started another worker, which took them
        assert acked_before_kill <= store.acked
        check_nothing_lost(ctx, store)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)
        session.close()


def _answers(session: requests.Session, port: int) -> bool:
    try:
        return session.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.timeout(120)
def test_the_leaders_connection_dropped_mid_batch_loses_nothing(tmp_path, clean_pg, pg_proxy, redis_conn):
    """Real request threads on one app; the proxy in front of PostgreSQL is cut while a batch waits."""
    from bridge import wiring

    url = sa.engine.make_url(clean_pg).set(port=pg_proxy.port).render_as_string(hide_password=False)
    ctx = wiring.build(settings_for(url, "redis://unused", tmp_path, relay_after_seconds=0), redis=redis_conn)
    direct = sa.create_engine(clean_pg)  # the test's own lock, not through the proxy
    try:
        store_shop(ctx, DOMAIN)
        client = create_app(ctx.settings, ctx=ctx).test_client()

        def post(delivery: Delivery) -> int:
            path, raw, headers = delivery
            return int(client.post(path, data=raw, headers=headers).status_code)

        holder = lock_events(direct)
        store = Store(post).start()
        wait_for(lambda: batch_waiting_on_lock(clean_pg), timeout=30, every=0.05)
        wait_for(lambda: len(ctx.writer._waiting) >= 3, timeout=10, every=0.01)  # followers behind it
        pg_proxy.cut()  # the leader's connection drops mid-statement
        holder.rollback()
        holder.close()
        time.sleep(0.5)  # a little while down: the next leaders cannot connect (503)
        pg_proxy.restore()
        store.join()
        assert store.refused > 0
        check_nothing_lost(ctx, store)
    finally:
        ctx.engine.dispose()
        direct.dispose()
