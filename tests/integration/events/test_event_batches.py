"""Ingest batches: one INSERT, one commit and one RQ job per group commit; the relay tells live batches from
lost ones. Runs on SQLite and PostgreSQL (the PostgreSQL insert is its own prepared statement)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from rq import Queue
from rq.job import Job

from bridge.db.models import Event, Shop
from bridge.events import pipeline
from bridge.events.ingest import relay
from bridge.events.writer import Slot
from bridge.infra import queue
from tests.conftest import fixture


def row(shop_id: int, key: str, payload: str = "{}", topic: str = "checkouts/create") -> dict:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    return {
        "shop_id": shop_id,
        "topic": topic,
        "delivery_key": key,
        "received_at": at,
        "triggered_at": at - timedelta(seconds=2),
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "available_at": at + timedelta(seconds=10),
    }


def write(ctx, waiting: list) -> None:
    """One group commit, then its job window closes."""
    ctx.writer._write(waiting)
    ctx.writer.flush()


def stored(ctx) -> list[Event]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Event).order_by(Event.id)))


def test_a_batch_is_one_insert_and_one_job_and_repeats_are_answered_as_duplicates(ctx, shopify_shop):
    shop_id = shopify_shop["id"]
    waiting = [
        Slot(row(shop_id, "a", '{"n": 1}')),
        Slot(row(shop_id, "b") | {"triggered_at": None}),  # no trigger time sent
        Slot(row(shop_id, "a", '{"n": 2}')),  # the same delivery twice in one batch
    ]
    write(ctx, waiting)
    answers = [slot.outcome() for slot in waiting]
    events = stored(ctx)
    assert [e.delivery_key for e in events] == ["a", "b"] and answers == [events[0].id, events[1].id, None]
    assert events[0].payload == '{"n": 1}'
    assert events[0].triggered_at == datetime(2026, 11, 25, 9, 59, 58, tzinfo=UTC)
    assert (
        events[0].received_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC) and events[1].triggered_at is None
    )
    assert {e.status for e in events} == {"pending"} and {e.attempts for e in events} == {0}
    [job_id] = Queue("events", connection=ctx.redis).job_ids
    assert {e.job_id for e in events} == {job_id}
    assert Job.fetch(job_id, connection=ctx.redis).args == ([events[0].id, events[1].id],)

    again = [Slot(row(shop_id, "b"))]  # a redelivery in a later batch: no row, no job
    write(ctx, again)
    assert again[0].outcome() is None
    assert len(stored(ctx)) == 2 and Queue("events", connection=ctx.redis).job_ids == [job_id]


def test_the_commits_of_one_window_travel_as_one_job(ctx, shopify_shop):
    import time

    ctx.writer.job_window = 0.1  # the production default (the test settings queue each commit's job)
    shop_id = shopify_shop["id"]
    events = Queue("events", connection=ctx.redis)
    ctx.writer._write([Slot(row(shop_id, "w1"))])
    ctx.writer._write([Slot(row(shop_id, "w2")), Slot(row(shop_id, "w3"))])
    assert events.job_ids == []  # the window is open: the rows are committed, their job not queued yet
    ctx.writer.flush()
    [job_id] = events.job_ids
    assert Job.fetch(job_id, connection=ctx.redis).args == ([e.id for e in stored(ctx)],)
    assert {e.job_id for e in stored(ctx)} == {job_id}

    started = time.monotonic()  # with no traffic after it, the window closes by itself
    ctx.writer.submit(row(shop_id, "w4"))
    while len(events.job_ids) < 2 and time.monotonic() - started < 5:
        time.sleep(0.01)
    assert len(events.job_ids) == 2 and time.monotonic() - started >= ctx.writer.job_window


def test_a_full_window_is_queued_at_once(ctx, shopify_shop):
    ctx.writer.job_window = 0.1
    ctx.writer._write([Slot(row(shopify_shop["id"], f"f{i}")) for i in range(ctx.writer.max_job + 1)])
    [job_id] = Queue("events", connection=ctx.redis).job_ids  # the job filled up: no waiting for the window
    assert len(Job.fetch(job_id, connection=ctx.redis).args[0]) == ctx.writer.max_job + 1


def test_one_bad_event_does_not_hold_up_its_batch(ctx, shopify_shop, run_jobs):
    checkout = json.loads(fixture("shopify", "checkouts__create.json"))
    checkout["created_at"] = checkout["updated_at"] = "2026-11-25T09:30:00Z"
    waiting = [
        Slot(row(shopify_shop["id"], "bad", "this is not json")),
        Slot(row(shopify_shop["id"], "good", json.dumps(checkout))),
    ]
    write(ctx, waiting)
    ids = [slot.outcome() for slot in waiting]
    assert pipeline.handle_events(ctx, ids) == {"failed": 1, "processed": 1}
    assert [(e.delivery_key, e.status) for e in stored(ctx)] == [("bad", "failed"), ("good", "processed")]
    assert pipeline.handle_events(ctx, ids) == {"skipped": 2}  # a retried batch redoes nothing


def test_relay_requeues_a_lost_batch_as_one_job_and_leaves_a_live_one(ctx, shopify_shop, clock, run_jobs):
    shop_id = shopify_shop["id"]
    first = [Slot(row(shop_id, f"lost-{i}")) for i in range(3)]
    write(ctx, first)
    second = [Slot(row(shop_id, "live"))]
    write(ctx, second)
    events = stored(ctx)
    lost_job, live_job = events[0].job_id, events[3].job_id
    Job.fetch(lost_job, connection=ctx.redis).delete()  # Redis lost it (a flush, a crash without AOF)
    clock.advance(seconds=ctx.settings.relay_after_seconds + 1)

    assert relay(ctx) == 3
    events = stored(ctx)
    [new_job] = {e.job_id for e in events[:3]}
    assert new_job not in (lost_job, live_job) and events[3].job_id == live_job
    assert Job.fetch(new_job, connection=ctx.redis).args == ([e.id for e in events[:3]],)
    assert relay(ctx) == 0  # every pending event has a live job now
    run_jobs()
    assert all(e.status != "pending" and e.attempts == 1 for e in stored(ctx))  # each handled, once


def test_a_replayed_event_travels_alone_and_the_relay_knows_its_job(ctx, shopify_shop, clock, post_shopify):
    post_shopify("checkouts/create", b"not json")
    [event] = stored(ctx)
    assert pipeline.handle_event(ctx, event.id) == "failed"
    queue.get_queue(ctx.redis).empty()
    assert pipeline.replay(ctx, [event.id]) == 1
    [event] = stored(ctx)
    assert event.job_id is None and queue.get_queue(ctx.redis).job_ids == [f"event-{event.id}"]
    clock.advance(seconds=ctx.settings.relay_after_seconds + 1)
    assert relay(ctx) == 0  # `event-<id>` is live: no second copy


def test_the_relay_splits_many_orphans_into_ingest_sized_jobs(ctx, shopify_shop, clock):
    from bridge.events.ingest import RELAY_BATCH

    waiting = [Slot(row(shopify_shop["id"], f"many-{i}")) for i in range(RELAY_BATCH + 2)]
    write(ctx, waiting)
    queue.get_queue(ctx.redis).empty()  # the batch's job is lost
    clock.advance(seconds=ctx.settings.relay_after_seconds + 1)
    assert relay(ctx) == RELAY_BATCH + 2
    jobs = [Job.fetch(j, connection=ctx.redis) for j in queue.get_queue(ctx.redis).job_ids]
    assert sorted(len(job.args[0]) for job in jobs) == [2, RELAY_BATCH]
    assert {e.job_id for e in stored(ctx)} == {job.id for job in jobs}


def shopper_events(ctx, shop_id: int, tag: str) -> list[int]:
    """One shopper's account, checkout, checkout update and order, stored as one ingest batch."""
    bodies = {t: json.loads(fixture("shopify", f"{t.replace('/', '__')}.json")) for t in SHOPPER_TOPICS}
    for body in bodies.values():
        body.update(email=f"{tag}@example.com", token=f"chk-{tag}", checkout_token=f"chk-{tag}")
        if isinstance(body.get("customer"), dict):
            body["customer"] = {**body["customer"], "id": 777, "email": f"{tag}@example.com"}
    bodies["customers/create"]["id"] = 777
    waiting = [
        Slot(row(shop_id, f"{tag}-{n}", json.dumps(body), topic))
        for n, (topic, body) in enumerate(bodies.items())
    ]
    write(ctx, waiting)
    return [slot.outcome() for slot in waiting]


SHOPPER_TOPICS = ("customers/create", "checkouts/create", "checkouts/update", "orders/create")


def outcome_of(ctx, shop_id: int) -> dict:
    from bridge.db.models import Activity, Cart, Lead, Order

    with ctx.sessions() as s:
        [lead] = s.scalars(sa.select(Lead).where(Lead.shop_id == shop_id))
        [cart] = s.scalars(sa.select(Cart).where(Cart.shop_id == shop_id))
        [order] = s.scalars(sa.select(Order).where(Order.shop_id == shop_id))
        kinds = sorted(s.scalars(sa.select(Activity.kind).where(Activity.lead_id == lead.id)))
        return {
            "lead": (lead.score, lead.tier, lead.is_customer, lead.orders_count, lead.total_spent),
            "profile": (lead.first_name, lead.accepts_marketing, lead.external_id),
            "cart": (cart.status, cart.order_id, cart.lead_id == lead.id, cart.subtotal),
            "order": (order.lead_id == lead.id, order.cart_id == cart.id, order.total),
            "activities": kinds,
        }


def test_a_first_try_batch_is_one_transaction_with_the_state_of_one_event_at_a_time(ctx, shopify_shop):
    from bridge.db.models import Lead, ScoreChange
    from bridge.shops.registry import create_shop

    with ctx.sessions.begin() as session:
        other = create_shop(session, ctx.vault, platform="shopify", domain="b.myshopify.com", now=ctx.now())
        other_id = other.shop.id
    together = shopper_events(ctx, shopify_shop["id"], "together")
    alone = shopper_events(ctx, other_id, "alone")
    commits: list[int] = []
    sa.event.listen(ctx.engine, "commit", lambda _conn: commits.append(1))
    assert pipeline.handle_events(ctx, together) == {"processed": 4}
    assert len(commits) == 2  # the attempt counts, then the whole batch
    assert [pipeline.handle_event(ctx, event_id) for event_id in alone] == ["processed"] * 4
    batch, single = outcome_of(ctx, shopify_shop["id"]), outcome_of(ctx, other_id)
    assert batch == single and batch["cart"][0] == "converted" and batch["lead"][2] is True
    assert {(e.status, e.attempts) for e in stored(ctx)} == {("processed", 1)}
    with ctx.sessions() as s:
        reasons = dict.fromkeys((other_id, shopify_shop["id"]), "")
        for shop_id in reasons:
            reasons[shop_id] = s.scalars(
                sa.select(ScoreChange.reason)
                .join(Lead)
                .where(Lead.shop_id == shop_id)
                .order_by(ScoreChange.id)
            ).all()
    # The batch rescored its lead once, after its last event: the same history as one event at a time here.
    assert reasons[shopify_shop["id"]] == reasons[other_id] == ["event orders/create"]
    assert pipeline.handle_events(ctx, together) == {"skipped": 4}


def race(ctx, shop_id: int, email: str, run, caplog) -> tuple[int, object]:
    """Run `run()` in a thread while another connection holds an uncommitted lead with `email`, then commit
    that lead half a second later; the rival lead's id and what `run` returned."""
    import threading
    import time

    from bridge.db.models import Lead

    rival = ctx.engine.connect()
    rival_tx = rival.begin()
    values = {"shop_id": shop_id, "email": email, "created_at": ctx.now(), "source": {}, "breakdown": {}}
    rival_id = rival.execute(sa.insert(Lead).values(**values).returning(Lead.id)).scalar_one()
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(run()))
    with caplog.at_level("INFO", logger="bridge.events"):
        worker.start()
        time.sleep(0.5)  # our INSERT waits on the rival's row (PostgreSQL) or its write lock (SQLite)
        rival_tx.commit()
        rival.close()
        worker.join(timeout=60)
    return rival_id, results[0] if results else None


def the_lead_and_its_activity_kinds(ctx) -> tuple:
    from bridge.db.models import Activity, Lead

    with ctx.sessions() as s:
        [lead] = s.scalars(sa.select(Lead))
        return lead, s.scalars(sa.select(Activity.kind).where(Activity.lead_id == lead.id)).all()


def test_a_batch_that_loses_a_race_writes_nothing_and_goes_one_at_a_time(ctx, shopify_shop, caplog):
    """Another worker creates the shopper's lead while the batch runs: the batch's INSERT hits the unique
    email, the batch rolls back, and one event at a time finds the other worker's lead."""
    ids = shopper_events(ctx, shopify_shop["id"], "race")
    rival_id, result = race(
        ctx, shopify_shop["id"], "race@example.com", lambda: pipeline.handle_events(ctx, ids), caplog
    )
    assert result == {"processed": 4}
    if ctx.engine.dialect.name == "postgresql":  # SQLite serializes writers: the batch starts after the rival
        assert "goes one at a time: IntegrityError" in caplog.text
    lead, kinds = the_lead_and_its_activity_kinds(ctx)
    assert lead.id == rival_id and lead.external_id == "777" and lead.is_customer
    assert len(kinds) == len(set(kinds))  # nothing the rolled-back batch wrote survived twice
    assert {(e.status, e.attempts) for e in stored(ctx)} == {("processed", 1)}  # each attempt counted once


def test_an_event_that_loses_a_race_is_applied_again_at_once(ctx, shopify_shop, caplog):
    """One event at a time, the loser of a lead-creation race looks again within the same attempt instead
    of waiting for RQ's backoff."""
    [event_id, *_] = shopper_events(ctx, shopify_shop["id"], "racer")  # customers/create
    rival_id, result = race(
        ctx, shopify_shop["id"], "racer@example.com", lambda: pipeline.handle_event(ctx, event_id), caplog
    )
    assert result == "processed"
    if ctx.engine.dialect.name == "postgresql":
        assert f"event {event_id} lost a race" in caplog.text
    lead, kinds = the_lead_and_its_activity_kinds(ctx)
    assert lead.id == rival_id and lead.external_id == "777" and kinds == ["account_created"]
    assert [(e.status, e.attempts) for e in stored(ctx) if e.id == event_id] == [("processed", 1)]


def store_deliveries(ctx, shop_id: int, deliveries: list[tuple[str, dict]], tag: str) -> list[int]:
    waiting = [
        Slot(row(shop_id, f"{tag}-{n}", json.dumps(body), topic))
        for n, (topic, body) in enumerate(deliveries)
    ]
    write(ctx, waiting)
    return [slot.outcome() for slot in waiting]


def shopper(n: int) -> list[tuple[str, dict]]:
    """A shopper's cart, account, checkout, checkout update and order, all joined by tokens."""
    out = []
    for topic in ("carts/create", *SHOPPER_TOPICS):
        body = json.loads(fixture("shopify", f"{topic.replace('/', '__')}.json"))
        body.update(email=f"p{n}@example.com", checkout_token=f"chk-{n}", cart_token=f"cart-{n}")
        body["token"] = f"cart-{n}" if topic == "carts/create" else f"chk-{n}"
        if topic == "customers/create":
            body["id"] = 800 + n
        if isinstance(body.get("customer"), dict):
            body["customer"] = {**body["customer"], "id": 800 + n, "email": f"p{n}@example.com"}
        if topic == "orders/create":
            body["id"], body["name"] = 9000 + n, f"#{9000 + n}"
        out.append((topic, body))
    return out


def state_of(ctx, shop_id: int) -> dict:
    from bridge.db.models import Activity, Cart, Lead, LeadProduct, Order, Product

    with ctx.sessions() as s:
        leads = {lead.id: lead for lead in s.scalars(sa.select(Lead).where(Lead.shop_id == shop_id))}
        who = {lead_id: lead.email or lead.external_id for lead_id, lead in leads.items()}
        return {
            "leads": sorted(
                (
                    who[i],
                    lead.external_id,
                    lead.score,
                    lead.tier,
                    lead.is_customer,
                    lead.orders_count,
                    str(lead.total_spent),
                    lead.first_name,
                    lead.accepts_marketing,
                )
                for i, lead in leads.items()
            ),
            "carts": sorted(
                (
                    c.cart_token or "",
                    c.checkout_token or "",
                    c.status,
                    c.order_id or "",
                    who.get(c.lead_id),
                    c.email,
                )
                for c in s.scalars(sa.select(Cart).where(Cart.shop_id == shop_id))
            ),
            "orders": sorted(
                (o.order_id, who.get(o.lead_id), o.cart_id is not None)
                for o in s.scalars(sa.select(Order).where(Order.shop_id == shop_id))
            ),
            "activities": sorted(
                (who[a.lead_id], a.kind, a.ref, a.occurred_at, a.storefront)
                for a in s.scalars(sa.select(Activity).where(Activity.shop_id == shop_id))
            ),
            "latest activity": sorted((who[i], lead.last_activity_at) for i, lead in leads.items()),
            "products": sorted(
                (p.product_id, p.title, p.image_url, str(p.price))
                for p in s.scalars(sa.select(Product).where(Product.shop_id == shop_id))
            ),
            "lead products": sorted(
                (who[r.lead_id], r.product_id, r.action, r.count, r.variant_id, r.first_at, r.last_at)
                for r in s.scalars(sa.select(LeadProduct).where(LeadProduct.shop_id == shop_id))
            ),
        }


def test_a_batch_in_any_order_ends_as_one_event_at_a_time_does(ctx, caplog):
    """Shuffled deliveries of three shoppers (orders before checkouts, checkouts before carts...) applied as
    one preloaded batch and one event at a time, on two fresh shops each round: the same leads, carts,
    orders and activities."""
    import random

    from bridge.shops.registry import create_shop

    rng = random.Random(20261125)
    for round_ in range(6):
        deliveries = [d for n in range(3) for d in shopper(n)]
        rng.shuffle(deliveries)
        shops = []
        with ctx.sessions.begin() as session:
            for how in ("batch", "alone"):
                new = create_shop(
                    session,
                    ctx.vault,
                    platform="shopify",
                    domain=f"{how}{round_}.myshopify.com",
                    now=ctx.now(),
                )
                shops.append(new.shop.id)
        together = store_deliveries(ctx, shops[0], deliveries, f"b{round_}")
        alone = store_deliveries(ctx, shops[1], deliveries, f"a{round_}")
        with caplog.at_level("INFO", logger="bridge.events"):
            assert pipeline.handle_events(ctx, together) == {"processed": len(deliveries)}
        assert "one at a time" not in caplog.text  # applied as a batch, not rescued by the fallback
        assert [pipeline.handle_event(ctx, i) for i in alone] == ["processed"] * len(deliveries)
        batch, single = state_of(ctx, shops[0]), state_of(ctx, shops[1])
        assert batch == single, f"round {round_}: {[t for t, _ in deliveries]}"
        assert len(batch["leads"]) == 3 and len(batch["orders"]) == 3
        assert {r[2] for r in batch["lead products"]} == {"added", "bought"}  # the products were recorded


def test_an_uninstall_ends_the_batch_and_what_follows_goes_one_at_a_time(ctx, shopify_shop):
    """Events after `app/uninstalled` in the same job are handled as one at a time would: ignored."""
    before, after = shopper(1)[2], shopper(2)[2]  # two shoppers' checkouts
    uninstall = ("app/uninstalled", json.loads(fixture("shopify", "app__uninstalled.json")))
    ids = store_deliveries(ctx, shopify_shop["id"], [before, uninstall, after], "u")
    assert pipeline.handle_events(ctx, ids) == {"processed": 2, "ignored": 1}
    assert [e.status for e in stored(ctx)] == ["processed", "processed", "ignored"]
    from bridge.db.models import Cart

    with ctx.sessions() as s:
        assert s.get(Shop, shopify_shop["id"]).uninstalled_at is not None
        assert [c.checkout_token for c in s.scalars(sa.select(Cart))] == [
            "chk-1"
        ]  # nothing after the uninstall


def test_two_workers_with_the_same_shoppers_take_turns_instead_of_racing(ctx, caplog):
    """Two batches naming the same shoppers, applied at once by two threads: on PostgreSQL the second waits
    for the first (advisory locks on the shoppers' keys), so neither hits a unique key and falls back to one
    event at a time; each shopper is one lead."""
    import threading

    from bridge.db.models import Lead
    from bridge.shops.registry import create_shop

    with ctx.sessions.begin() as session:
        shop_id = create_shop(session, ctx.vault, platform="shopify", domain="t.myshopify.com", now=ctx.now())
        shop_id = shop_id.shop.id
    deliveries = [shopper(n) for n in range(4)]
    first = store_deliveries(ctx, shop_id, [d for s in deliveries for d in s[:3]], "first")
    second = store_deliveries(ctx, shop_id, [d for s in deliveries for d in s[3:]], "second")
    results: list[dict] = []
    start = threading.Barrier(2)

    def work(ids: list[int]) -> None:
        start.wait()
        results.append(pipeline.handle_events(ctx, ids))

    with caplog.at_level("INFO", logger="bridge.events"):
        threads = [threading.Thread(target=work, args=(ids,)) for ids in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(r.get("processed", 0) for r in results) == [8, 12]
    if ctx.engine.dialect.name == "postgresql":  # SQLite runs one worker (the embedded queue): it may race
        assert "one at a time" not in caplog.text
    with ctx.sessions() as s:
        emails = s.scalars(sa.select(Lead.email).where(Lead.shop_id == shop_id)).all()
    assert sorted(emails) == [f"p{n}@example.com" for n in range(4)]
