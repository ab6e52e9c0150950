"""The store answers 429 and 5xx in bursts, throttles, and hangs past the client's timeout: the client backs
off, no code is created twice, and every offer ends `created` or `failed` with the reason."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest

from bridge.db.models import Offer
from bridge.outreach import codes
from tests.fakes.shopify_store import FakeShopify
from tests.faults.conftest import settings_for
from tests.faults.support import planned_offer, store_shop

READ_TIMEOUT = 20.0  # connectors.shopify.client.DEFAULT_TIMEOUT, the production value


class SlowCreateShopify(FakeShopify):
    """A fake store whose next discount creation answers only after `hang` seconds (but does create)."""

    def __init__(self) -> None:
        super().__init__()
        self.hang = 0.0
        self._once = threading.Lock()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._once:
            hang, self.hang = (self.hang, 0.0) if b"discountCodeBasicCreate" in body else (0.0, self.hang)
        time.sleep(hang)
        return super().wsgi(environ, start_response)


@pytest.fixture
def store(tmp_path, clean_pg, redis_url, redis_conn, build_context):
    with SlowCreateShopify() as fake:
        settings = settings_for(clean_pg, redis_url, tmp_path, shopify_api_origin=fake.url)
        ctx = build_context(settings, redis=redis_conn)
        yield fake, ctx, store_shop(ctx, fake.shop)


def create(ctx, offer_id: int) -> str:
    """Run the create_code job once, as RQ would (a StoreRetry means RQ schedules another attempt)."""
    try:
        return codes.create_on_store(ctx, offer_id)
    except codes.StoreRetry:
        return "retry"


def offer(ctx, offer_id: int) -> Offer:
    with ctx.sessions() as s:
        return s.get(Offer, offer_id)


@pytest.mark.timeout(60)
def test_bursts_of_429_5xx_and_throttling_end_created_without_duplicates(store):
    fake, ctx, shop_id = store
    offers = [planned_offer(ctx, shop_id, i) for i in range(4)]
    faults = [
        lambda: fake.fail_next(3, status=503),
        lambda: fake.fail_next(2, status=429, retry_after="0.2"),
        lambda: fake.throttle_next(3),
        lambda: fake.fail_next(2, status=502),
    ]
    for offer_id, inject in zip(offers, faults, strict=True):
        inject()
        assert create(ctx, offer_id) == "created"
    outcomes = {c.outcome for c in fake.calls}
    assert {"failed", "throttled", "ok"} <= outcomes
    assert len(fake.discounts) == len(offers)
    for offer_id in offers:
        row = offer(ctx, offer_id)
        assert row.status == "created" and fake.discounts[row.code.lower()]["id"] == row.platform_discount_id


@pytest.mark.timeout(90)
def test_a_create_that_times_out_but_succeeded_is_not_duplicated(store):
    fake, ctx, shop_id = store
    offer_id = planned_offer(ctx, shop_id, 10)
    fake.hang = READ_TIMEOUT + 1.5  # the first create is done by the store after the client gave up
    assert create(ctx, offer_id) == "created"  # the client retried: TAKEN by our own earlier try, or new
    time.sleep(2)  # let the late create land
    creates = [c for c in fake.calls if c.operation == "RelanceDiscountCreate"]
    assert len(creates) == 2 and len(fake.discounts) == 1
    row = offer(ctx, offer_id)
    assert row.status == "created" and fake.discounts[row.code.lower()]["id"] == row.platform_discount_id


@pytest.mark.timeout(60)
def test_offers_fail_with_the_reason_when_the_store_keeps_failing(store):
    fake, ctx, shop_id = store
    exhausted = planned_offer(ctx, shop_id, 20, attempts=codes.MAX_STORE_ATTEMPTS - 1)
    fake.fail_next(5, status=502)  # every try of the last attempt
    assert create(ctx, exhausted) == "failed"
    row = offer(ctx, exhausted)
    assert (
        row.status == "failed"
        and row.error.startswith("http_502")
        and row.attempts == codes.MAX_STORE_ATTEMPTS
    )

    retried = planned_offer(ctx, shop_id, 21)
    fake.fail_next(5, status=503)
    assert create(ctx, retried) == "retry"  # transient: RQ tries again later
    assert offer(ctx, retried).status == "planned" and offer(ctx, retried).error.startswith("http_503")
    assert create(ctx, retried) == "created"

    refused = planned_offer(ctx, shop_id, 22)
    fake.fail_next(1, status=403)
    assert create(ctx, refused) == "failed"
    assert offer(ctx, refused).error.startswith("http_403")
    assert len(fake.discounts) == 1  # only the offer that was finally created
