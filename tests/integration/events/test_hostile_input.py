"""Hostile or odd input: one bad row never fails its neighbours, errors keep no personal data."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bridge.db.models import Event, Lead
from bridge.events.pipeline import replay
from bridge.events.writer import Slot
from tests.conftest import fixture, shopify_sign


def row(shop_id: int, key: str, payload: str = "{}", topic: str = "orders/create") -> dict:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    return {
        "shop_id": shop_id,
        "topic": topic,
        "delivery_key": key,
        "received_at": at,
        "triggered_at": at,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "available_at": at + timedelta(seconds=10),
    }


def events(ctx) -> list[Event]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Event).order_by(Event.id)))


def test_a_nul_byte_body_is_stored_and_its_18_neighbours_in_the_group_commit_are_too(ctx, shopify_shop):
    shop_id = shopify_shop["id"]
    group = [Slot(row(shop_id, f"ok-{n}", f'{{"n": {n}}}')) for n in range(18)]
    group.insert(7, Slot(row(shop_id, "nul", '{"first_name": "A\x00B"}\x00')))
    ctx.writer._write(group)  # one group commit of 19 concurrent deliveries
    ctx.writer.flush()
    answers = [slot.error or slot.result for slot in group]
    assert all(isinstance(a, int) for a in answers), answers
    stored = {e.delivery_key: e for e in events(ctx)}
    assert len(stored) == 19
    assert "\x00" not in stored["nul"].payload and stored["nul"].payload.startswith('{"first_name": "A')


def test_a_row_that_really_fails_fails_alone(ctx, shopify_shop):
    shop_id = shopify_shop["id"]
    group = [Slot(row(shop_id, f"ok-{n}")) for n in range(5)]
    group.insert(2, Slot(row(shop_id + 999, "no-such-shop")))  # a foreign key that cannot hold
    ctx.writer._write(group)
    ctx.writer.flush()
    failed = [slot for slot in group if slot.error is not None]
    assert failed == [group[2]]
    assert sorted(e.delivery_key for e in events(ctx)) == [f"ok-{n}" for n in range(5)]


def post_signed(client, raw: bytes, topic: str, event_id: str):
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-Hmac-Sha256": shopify_sign(raw),
        "X-Shopify-Event-Id": event_id,
    }
    return client.post("/webhooks/shopify", data=raw, headers=headers)


def test_a_signed_body_with_a_nul_byte_is_stored_flagged_and_replayable(ctx, client, shopify_shop, run_jobs):
    raw = fixture("shopify", "customers__create.json").rstrip() + b"\x00"
    assert post_signed(client, raw, "customers/create", "ev-nul").status_code == 200
    run_jobs()
    [event] = events(ctx)
    assert event.status == "failed" and event.error.startswith("JSONDecodeError")
    assert replay(ctx, [event.id]) == 1
    run_jobs()
    assert events(ctx)[0].status == "failed" and events(ctx)[0].attempts == 1


def test_a_nul_character_inside_a_name_is_stored_as_a_replacement_character(
    ctx, client, shopify_shop, run_jobs
):
    body = json.loads(fixture("shopify", "customers__create.json"))
    raw = json.dumps(body).replace('"first_name": "', '"first_name": "\x00', 1).encode()
    assert b"\x00" in raw
    assert post_signed(client, raw, "customers/create", "ev-nul-name").status_code == 200
    run_jobs()
    [event] = events(ctx)
    assert event.status == "processed"  # as undecodable bytes are: replaced, not refused
    with ctx.sessions() as s:
        assert s.scalar(sa.select(Lead.first_name)) == "\ufffd" + body["first_name"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_nineteen_concurrent_deliveries_in_one_group_with_a_nul_body_all_answer_200(
    ctx, client, shopify_shop
):
    bodies = [json.dumps({"id": n, "created_at": "2026-11-25T10:00:00Z"}).encode() for n in range(18)]
    bodies.insert(9, b'{"id": 99, "note": "\x00"}')
    answers: dict[int, int] = {}

    def deliver(n: int) -> None:
        answers[n] = post_signed(client, bodies[n], "customers/update", f"ev-{n}").status_code

    def wait_for(size: int) -> None:
        deadline = time.monotonic() + 10
        while not ctx.writer._writing or len(ctx.writer._waiting) != size:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    first = threading.Thread(target=ctx.writer.submit, args=(row(shopify_shop["id"], "first"),))
    with ctx.writer._job_lock:  # a leader holds a first delivery while the 19 queue up behind it
        first.start()
        wait_for(0)
        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(19)]
        for thread in threads:
            thread.start()
        wait_for(19)  # the next leader takes all of them
    for thread in threads:
        thread.join(10)
    first.join(10)
    assert sorted(answers.values()) == [200] * 19
    assert len(events(ctx)) == 20


def customer_body(**changes) -> dict:
    return json.loads(fixture("shopify", "customers__create.json")) | changes


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_failing_event_keeps_an_error_without_the_name_its_sql_carried(ctx, client, shopify_shop, run_jobs):
    body = customer_body(first_name="Annabelle" * 40)  # longer than the column: PostgreSQL refuses it
    raw = json.dumps(body).encode()
    assert post_signed(client, raw, "customers/create", "ev-long-name").status_code == 200
    run_jobs()
    [event] = events(ctx)
    assert event.status == "failed"
    assert event.error == "DataError: the database refused a value of this event"
    assert "annabelle" not in event.error.lower() and "INSERT" not in event.error


def test_customers_redact_leaves_no_personal_text_in_the_errors_of_that_customers_events(
    ctx, client, shopify_shop, run_jobs
):
    body = customer_body(first_name="Bob", last_name="Biller", email="bob@biller.com")
    assert post_signed(client, json.dumps(body).encode(), "customers/create", "ev-c").status_code == 200
    run_jobs()
    with ctx.sessions.begin() as s:  # errors as earlier versions stored them: the SQL and its parameters
        for event in s.scalars(sa.select(Event)):
            event.error = "DataError: INSERT INTO leads ... {'first_name': 'Bob', 'email': 'bob@biller.com'}"
        s.add(Event(**row(shopify_shop["id"], "failed-one", "{}", "customers/update") | {
            "status": "failed", "error": "IntegrityError: ... 'bob@biller.com' ... 'Biller'"}))  # fmt: skip
    redact = {"shop_id": 954889, "shop_domain": "demo.myshopify.com", "orders_to_redact": [],
              "customer": {"id": body["id"], "email": body["email"]}}  # fmt: skip
    assert post_signed(client, json.dumps(redact).encode(), "customers/redact", "ev-r").status_code == 200
    run_jobs()
    for event in events(ctx):
        text = f"{event.payload} {event.error}".lower()
        assert "bob" not in text and "biller" not in text and str(body["id"]) not in text, event.topic


def test_an_escaped_nul_in_a_valid_payload_is_processed_like_any_other(ctx, client, shopify_shop, run_jobs):
    body = customer_body(first_name="Bob\x00", note="\x00")  # json.dumps writes them as \u0000
    raw = json.dumps(body).encode()
    assert b"\\u0000" in raw
    assert post_signed(client, raw, "customers/create", "ev-escaped-nul").status_code == 200
    run_jobs()
    assert [e.status for e in events(ctx)] == ["processed"]
    with ctx.sessions() as s:
        assert s.scalar(sa.select(Lead.first_name)) == "Bob\ufffd"
