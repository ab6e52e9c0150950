"""A worker killed with SIGKILL while the store is creating a discount code: the job is retried by another
worker, which finds the code the store did create, so exactly one code exists and the offer is `created`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from typing import Any

import pytest
from rq.registry import StartedJobRegistry

from bridge.db.models import Offer
from bridge.infra import jobnames, queue
from tests.fakes.shopify_store import FakeShopify
from tests.faults.conftest import RELANCE, process_env, settings_for, wait_for
from tests.faults.support import planned_offer, store_shop


class HoldingShopify(FakeShopify):
    """A fake store that holds the first discount creation until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.create_arrived, self.release = threading.Event(), threading.Event()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if b"discountCodeBasicCreate" in body and not self.create_arrived.is_set():
            self.create_arrived.set()
            self.release.wait(30)  # the worker is killed meanwhile; the store still creates the code
        return super().wsgi(environ, start_response)


def start_worker(env: dict[str, str], cwd) -> subprocess.Popen:
    return subprocess.Popen(
        [*RELANCE, "worker", "--no-cron"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.timeout(90)
def test_worker_killed_mid_create_leaves_exactly_one_code(
    tmp_path, clean_pg, redis_url, redis_conn, build_context
):
    with HoldingShopify() as fake:
        settings = settings_for(clean_pg, redis_url, tmp_path, shopify_api_origin=fake.url)
        ctx = build_context(settings, redis=redis_conn)
        offer_id = planned_offer(ctx, store_shop(ctx, fake.shop), 1)
        queue.enqueue(
            redis_conn, jobnames.CREATE_CODE, offer_id, job_id=f"code-{offer_id}", queue=queue.CAMPAIGNS
        )
        env = process_env(tmp_path, DATABASE_URL=clean_pg, REDIS_URL=redis_url, SHOPIFY_API_ORIGIN=fake.url)

        first = start_worker(env, tmp_path)
        assert fake.create_arrived.wait(40), "the create call never reached the store"
        horses = _children(first.pid)  # RQ's work horse runs in a session of its own
        assert horses, "no work horse found"
        for pid in (first.pid, *horses):
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
        first.stderr.close()
        fake.release.set()
        wait_for(lambda: len(fake.discounts) == 1, timeout=10)  # the store finished the orphaned call

        # A dead worker's job stays "started" until its heartbeat lapses (90 s) and its scheduler locks
        # until their TTL (61 s); then RQ's own maintenance retries the job. Skip the wait: expire the
        # locks and run that cleanup as a live worker would, past the lapse.
        for lock in redis_conn.scan_iter("rq:scheduler-lock:*"):
            redis_conn.delete(lock)
        StartedJobRegistry(queue.CAMPAIGNS, connection=redis_conn).cleanup(time.time() + 300)
        second = start_worker(env, tmp_path)
        try:
            wait_for(lambda: _status(ctx, offer_id) == "created", timeout=40)
        finally:
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=30)
        creates = [c for c in fake.calls if c.operation == "RelanceDiscountCreate"]
        [(code, node)] = fake.discounts.items()
        with ctx.sessions() as s:
            offer = s.get(Offer, offer_id)
            assert offer.code.lower() == code and offer.platform_discount_id == node["id"]
        assert len(creates) == 1  # the retry looked the code up and found it


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _status(ctx, offer_id: int) -> str:
    with ctx.sessions() as s:
        return s.get(Offer, offer_id).status
