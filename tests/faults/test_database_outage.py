"""PostgreSQL unreachable (a proxy in front of it is cut): webhooks get 503 so the store retries, are accepted
again once it is back, and a transaction cut in the middle leaves nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from bridge import wiring
from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, Lead, ScoreChange
from bridge.events import pipeline
from bridge.infra import queue
from bridge.shops.registry import create_shop
from tests.faults.conftest import settings_for
from tests.faults.support import checkout, signed

DOMAIN = "dbdown.myshopify.com"


@pytest.fixture
def proxied(tmp_path, clean_pg, pg_proxy, redis_conn):
    url = sa.engine.make_url(clean_pg).set(port=pg_proxy.port).render_as_string(hide_password=False)
    settings = settings_for(url, "redis://unused", tmp_path, relay_after_seconds=0)
    ctx = wiring.build(settings, redis=redis_conn)
    with transaction(ctx.sessions) as s:
        create_shop(s, ctx.vault, platform="shopify", domain=DOMAIN, now=ctx.now(), access_token="shpat_x")
    yield ctx
    ctx.engine.dispose()


def counts(ctx) -> dict[str, int]:
    with ctx.sessions() as s:
        return {
            m.__tablename__: s.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Event, Lead, Cart, Activity, ScoreChange)
        }


@pytest.mark.timeout(60)
def test_webhooks_get_503_while_the_database_is_down_and_200_after(proxied, pg_proxy):
    ctx = proxied
    client = create_app(ctx.settings, ctx=ctx).test_client()
    at = datetime.now(UTC) - timedelta(hours=1)
    first = signed("checkouts/create", checkout(1, at), "db-1", DOMAIN)
    assert client.post(first[0], data=first[1], headers=first[2]).status_code == 200  # warms the signer cache

    pg_proxy.cut()
    second = signed("checkouts/create", checkout(2, at), "db-2", DOMAIN)
    for _ in range(3):  # the store retries; each try is refused the same way
        refused = client.post(second[0], data=second[1], headers=second[2])
        assert refused.status_code == 503 and refused.headers["Retry-After"]
    pg_proxy.restore()

    accepted = client.post(second[0], data=second[1], headers=second[2])
    assert accepted.status_code == 200 and accepted.json["duplicate"] is False
    again = client.post(second[0], data=second[1], headers=second[2])
    assert again.json["duplicate"] is True
    with ctx.sessions() as s:
        assert sorted(s.scalars(sa.select(Event.delivery_key))) == [
            "checkouts/create:db-1",
            "checkouts/create:db-2",
        ]
    with ctx.sessions() as s:
        carriers = set(s.scalars(sa.select(Event.job_id)))
    assert sorted(queue.get_queue(ctx.redis).job_ids) == sorted(carriers)  # each stored event has its job


@pytest.mark.timeout(60)
def test_a_transaction_cut_midway_leaves_nothing_and_the_retry_completes(proxied, pg_proxy):
    ctx = proxied
    client = create_app(ctx.settings, ctx=ctx).test_client()
    delivery = signed("checkouts/create", checkout(3, datetime.now(UTC) - timedelta(hours=1)), "db-3", DOMAIN)
    assert client.post(delivery[0], data=delivery[1], headers=delivery[2]).status_code == 200
    [event_id] = _event_ids(ctx)
    baseline = counts(ctx)

    def cut_on_activity(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACTIVITIES"):
            pg_proxy.cut()  # the lead and the cart were written in this transaction: they must vanish

    sa_event.listen(ctx.engine, "before_cursor_execute", cut_on_activity)
    try:
        with pytest.raises(sa.exc.OperationalError):
            pipeline.handle_event(ctx, event_id)
    finally:
        sa_event.remove(ctx.engine, "before_cursor_execute", cut_on_activity)
    pg_proxy.restore()
    assert counts(ctx) == baseline  # nothing half-written
    with ctx.sessions() as s:
        event = s.get(Event, event_id)
        assert event.status == "pending" and event.attempts == 1  # RQ retries it

    assert pipeline.handle_event(ctx, event_id) == "processed"
    after = counts(ctx)
    assert after["leads"] == baseline["leads"] + 1 and after["carts"] == baseline["carts"] + 1
    assert pipeline.handle_event(ctx, event_id) == "skipped"  # a late duplicate job changes nothing
    assert counts(ctx) == after


def _event_ids(ctx) -> list[int]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Event.id).order_by(Event.id)))
