"""Scale-out: 2 web processes and 3 workers on one Redis and one PostgreSQL, a burst of signed webhooks with
duplicates sent to both web processes, then concurrent abandonment sweeps, then each due journey step
advanced by several jobs at once. Invariants: every event processed exactly once, each cart abandoned once
with one journey run, at most one offer per cart, no duplicate activity, one code per offer."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, JourneyRun, Offer, Ruleset
from bridge.infra import jobnames, queue
from bridge.outreach import steps, sweep
from bridge.shops.registry import create_shop
from tests.conftest import APP_SECRET
from tests.faults.conftest import RELANCE, ROOT, free_port, process_env, settings_for, wait_for
from tests.faults.support import checkout, customer, order, signed
from tests.integration.outreach.journeys_helpers import campaign, journey

DOMAIN = "scale.myshopify.com"
SHOPPERS, UPDATED, ORDERED, DUPLICATES = 100, 50, 30, 40


def burst(start: datetime) -> list:
    out = []
    for i in range(SHOPPERS):
        out.append(signed("customers/create", customer(i, start), f"cc-{i}", DOMAIN))
        out.append(signed("checkouts/create", checkout(i, start + timedelta(minutes=1)), f"kc-{i}", DOMAIN))
        if i < UPDATED:
            update = checkout(
                i, start + timedelta(minutes=2), start + timedelta(minutes=1), subtotal="150.00"
            )
            out.append(signed("checkouts/update", update, f"ku-{i}", DOMAIN))
        if i >= SHOPPERS - ORDERED:
            out.append(signed("orders/create", order(i, start + timedelta(minutes=3)), f"oc-{i}", DOMAIN))
    return out


def prepare(ctx) -> int:
    """A demo-store shop (codes kept in Redis) whose one journey sends a code a minute after abandonment,
    holding nobody out (and no journey for leads turning hot)."""
    document = {"campaign": campaign(abandonment_delay_minutes=30), "journeys": [journey()]}
    with transaction(ctx.sessions) as s:
        shop = create_shop(
            s, ctx.vault, platform="shopify", domain=DOMAIN, now=ctx.now(), access_token="t"
        ).shop
        shop.state = {"demo": True}
        s.add(Ruleset(shop_id=shop.id, version=1, document=document, created_at=ctx.now(), created_by="test"))
        s.flush()
        return int(shop.id)


def start_web(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    flags = ["-k", "gthread", "--workers", "1", "--threads", "8", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *flags, "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, port


def up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def idle(ctx) -> bool:
    """No job waits, and none is running (a running job is no longer in its queue's count)."""
    return queue.queue_depths(ctx.redis) == {q: 0 for q in queue.QUEUES} and not any(
        queue.get_queue(ctx.redis, q).started_job_registry.count for q in queue.QUEUES
    )


def started(ctx) -> bool:
    """The sweeps are done: every cart that did not order is abandoned, every abandoned cart has its journey
    run, and no job is left."""
    with ctx.sessions() as s:
        abandoned = s.scalar(sa.select(sa.func.count()).select_from(Cart).where(Cart.status == "abandoned"))
        runs = s.scalar(sa.select(sa.func.count()).select_from(JourneyRun))
    return SHOPPERS - ORDERED <= abandoned == runs and idle(ctx)


def settled(ctx) -> bool:
    """Every run took its step (or ended) and no offer waits for its code."""
    with ctx.sessions() as s:
        active = s.scalar(
            sa.select(sa.func.count()).select_from(JourneyRun).where(JourneyRun.status == "active")
        )
        planned = s.scalar(sa.select(sa.func.count()).select_from(Offer).where(Offer.status == "planned"))
    return active == 0 and planned == 0 and idle(ctx)


def advance_all_at_once(ctx, redis_conn) -> None:
    """The runs' step falls due (their minute is up), and three worker jobs and two threads here each
    advance every run: the run's lock and its (run, step) offer make each step happen once."""
    with transaction(ctx.sessions) as s:
        s.execute(sa.update(JourneyRun).values(next_due_at=datetime.now(UTC) - timedelta(seconds=1)))
        run_ids = sorted(s.scalars(sa.select(JourneyRun.id).where(JourneyRun.status == "active")))
    for n in range(3):
        queue.enqueue(
            redis_conn, jobnames.ADVANCE_RUNS, run_ids, job_id=f"steps-all-{n}", queue=queue.CAMPAIGNS
        )
    threads = [threading.Thread(target=lambda: steps.advance_runs(ctx, run_ids)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def count(ctx, query) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(query) or 0)


@pytest.fixture
def ctx(tmp_path, clean_pg, redis_url, redis_conn, build_context):
    """This process's view of the shared services (closed at teardown)."""
    return build_context(settings_for(clean_pg, redis_url, tmp_path), redis=redis_conn)


@pytest.mark.timeout(240)
def test_two_web_processes_and_three_workers_never_double_process(
    ctx, tmp_path, clean_pg, redis_url, redis_conn
):
    shop_id = prepare(ctx)
    env = process_env(
        tmp_path,
        DATABASE_URL=clean_pg,
        REDIS_URL=redis_url,
        SHOPIFY_API_SECRET=APP_SECRET,
        RELAY_AFTER_SECONDS="60",
    )
    webs = [start_web(env) for _ in range(2)]
    workers = [
        subprocess.Popen(
            [*RELANCE, "worker", "--no-cron"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    try:
        for _, port in webs:
            wait_for(lambda port=port: up(port), timeout=30, every=0.2)
        deliveries = burst(datetime.now(UTC) - timedelta(hours=3))
        rng = random.Random(7)
        sends = [(d, i % 2) for i, d in enumerate(deliveries)]
        sends += [(d, 1) for d in rng.sample(deliveries, DUPLICATES)]  # repeats, to the other web process
        rng.shuffle(sends)
        local = threading.local()

        def send(item) -> int:
            (path, raw, headers), which = item
            if not hasattr(local, "http"):
                local.http = requests.Session()
            url = f"http://127.0.0.1:{webs[which][1]}{path}"
            return local.http.post(url, data=raw, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(send, sends))
        assert statuses == [200] * len(sends)

        pending = sa.select(sa.func.count()).select_from(Event).where(Event.status == "pending")
        wait_for(lambda: count(ctx, sa.select(sa.func.count()).select_from(Event)) == len(deliveries), 30)
        wait_for(lambda: count(ctx, pending) == 0, timeout=90, every=0.5)

        # Concurrent sweeps: three as jobs on the three workers, two in this process's threads.
        for n in range(3):
            queue.enqueue(
                redis_conn, jobnames.SWEEP_CARTS, job_id=f"sweep-{n}", queue=queue.CAMPAIGNS, retry=None
            )
        swept: list[int] = []
        threads = [threading.Thread(target=lambda: swept.append(sweep.sweep(ctx))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        wait_for(lambda: started(ctx), timeout=90, every=0.5)
        advance_all_at_once(ctx, redis_conn)
        wait_for(lambda: settled(ctx), timeout=90, every=0.5)
    finally:
        for proc in [p for p, _ in webs] + workers:
            proc.terminate()
        outputs = [proc.communicate(timeout=30)[1] for proc in [p for p, _ in webs] + workers]

    with ctx.sessions() as s:
        events = s.execute(sa.select(Event.status, Event.attempts, Event.processed_at)).all()
        assert len(events) == len(deliveries)  # one row per distinct delivery, duplicates collapsed
        # Processed, once: an attempt that lost a race (two workers creating one lead) rolled back and
        # was retried by RQ; the unique constraints and the status check make a second application impossible.
        assert {status for status, _, _ in events} == {"processed"} and all(at for _, _, at in events)
        carts = s.execute(sa.select(Cart.id, Cart.status)).all()
        abandoned = {cart_id for cart_id, status in carts if status == "abandoned"}
        # An order processed before (or beside) its checkout does not close the cart the checkout then
        # creates (bridge/carts.py); such a cart is abandoned, and no code reaches its customer (below).
        assert len(carts) == SHOPPERS and SHOPPERS - ORDERED <= len(abandoned) <= SHOPPERS
        marks = s.scalars(sa.select(Activity.ref).where(Activity.kind == "cart_abandoned")).all()
        assert sorted(marks) == sorted(f"cart:{i}" for i in abandoned)  # each cart abandoned once
        runs = s.execute(sa.select(JourneyRun.cart_id, sa.func.count()).group_by(JourneyRun.cart_id)).all()
        assert {cart for cart, _ in runs} == abandoned and {n for _, n in runs} == {1}
        per_cart = s.execute(sa.select(Offer.cart_id, sa.func.count()).group_by(Offer.cart_id)).all()
        assert {cart for cart, _ in per_cart} <= abandoned and {n for _, n in per_cart} <= {1}
        offers = s.execute(
            sa.select(Cart.checkout_token, Offer.status, Offer.decision).join(Cart, Cart.id == Offer.cart_id)
        ).all()
        duplicated = s.execute(
            sa.select(Activity.lead_id, Activity.kind, Activity.ref)
            .group_by(Activity.lead_id, Activity.kind, Activity.ref)
            .having(sa.func.count() > 1)
        ).all()
        assert duplicated == []
        codes = {c.lower() for c in s.scalars(sa.select(Offer.code).where(Offer.status == "created"))}
    # A code for every shopper who did not order (no mail channel: it waits, created); an ordered cart
    # abandoned anyway has its step cancelled by the order before the send, its code removed.
    created = {token for token, status, _ in offers if status == "created"}
    assert created == {f"chk-{i}" for i in range(SHOPPERS - ORDERED)}
    others = {(status, decision) for _, status, decision in offers if status != "created"}
    assert others <= {("cancelled", "ordered_meanwhile")}
    stored = {k.decode().lower() for k in redis_conn.hkeys(f"relance:demo:{shop_id}:codes")}
    assert stored == codes  # one code per live offer on the store, none left for cancelled ones
    assert sum(swept) <= len(abandoned)
    assert not any("Traceback" in out for out in outputs[:2]), "web: " + "".join(outputs[:2])[-3000:]
    for out in outputs[2:]:  # workers: only transient failures, retried by RQ
        chunks = out.split("Traceback (most recent call last)")[1:]
        assert all("RetryLater" in c or "direct cause of the following" in c for c in chunks), out[-3000:]
