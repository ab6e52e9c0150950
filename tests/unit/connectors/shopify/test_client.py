"""ShopifyClient at the HTTP boundary: requests sent, throttling, retries and typed errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from connectors.base import FOREIGN_CODE, CodeTaken, DiscountRef, DiscountSpec, StoreError
from connectors.shopify import graphql as gql
from connectors.shopify.client import ShopifyClient

SHOP = "demo.myshopify.com"
URL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NODE_ID = "gid://shopify/DiscountCodeNode/9"
TITLE = "Relance abandoned cart BACK-7Q2M9XK4PZ"  # as bridge.outreach.codes.spec_of makes it
NODE: dict[str, Any] = {"id": NODE_ID, "codeDiscount": {"title": TITLE, "status": "ACTIVE"}}


class FakeTime:
    """A clock that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def client(time_: FakeTime, **kwargs: Any) -> ShopifyClient:
    return ShopifyClient(SHOP, "shpat_one", sleep=time_.sleep, clock=time_.clock, **kwargs)


def answer(
    data: Any = None, errors: Any = None, available: float = 990, requested: float = 10
) -> dict[str, Any]:
    status = {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 50.0}
    body: dict[str, Any] = {
        "extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus": status}}
    }
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return body


def created(
    node: dict[str, Any] | None = NODE, user_errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return answer({"discountCodeBasicCreate": {"codeDiscountNode": node, "userErrors": user_errors or []}})


def spec(**changes: Any) -> DiscountSpec:
    base: dict[str, Any] = {
        "code": "BACK-7Q2M9XK4PZ",
        "title": TITLE,
        "kind": "percentage",
        "value": Decimal(10),
        "currency": "EUR",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=24),
    }
    return DiscountSpec(**{**base, **changes})


def sent(http: responses.RequestsMock, index: int = 0) -> dict[str, Any]:
    body = http.calls[index].request.body
    assert body is not None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


THROTTLED = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]
TAKEN = [{"field": ["basicCodeDiscount", "code"], "code": "TAKEN", "message": "Code must be unique."}]


def test_create_sends_a_single_use_code_for_the_customer(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=created())
    ref = client(time_).create_discount(spec(customer_external_id="7261"))
    assert ref == DiscountRef("BACK-7Q2M9XK4PZ", "gid://shopify/DiscountCodeNode/9", True)
    data = sent(http)["variables"]["input"]
    assert data["context"] == {"customers": {"add": ["gid://shopify/Customer/7261"]}}
    assert data["customerGets"]["value"] == {"percentage": 0.1}
    assert (data["code"], data["usageLimit"], data["appliesOncePerCustomer"]) == ("BACK-7Q2M9XK4PZ", 1, True)
    headers = http.calls[0].request.headers
    assert headers["X-Shopify-Access-Token"] == "shpat_one"
    assert "X-Shopify-Shop-Domain" not in headers
    assert time_.sleeps == []


def test_create_fixed_amount_for_anyone(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, json=created())
    client(time_).create_discount(spec(kind="fixed_amount", value=Decimal("10.00")))
    data = sent(http)["variables"]["input"]
    assert data["customerGets"]["value"] == {
        "discountAmount": {"amount": "10.00", "appliesOnEachItem": False}
    }
    assert data["context"] == {"all": "ALL"}


def test_api_origin_keeps_the_admin_path_and_names_the_shop(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post("http://127.0.0.1:8765/admin/api/2026-07/graphql.json", json=created())
    shopify = client(time_, api_origin="http://127.0.0.1:8765/", api_version="2026-07")
    shopify.create_discount(spec())
    assert http.calls[0].request.headers["X-Shopify-Shop-Domain"] == SHOP


def test_throttled_waits_what_the_bucket_needs_then_succeeds(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=answer(errors=THROTTLED, available=2, requested=10))
    http.post(URL, json=created())
    client(time_).create_discount(spec())
    assert len(http.calls) == 2
    [wait] = time_.sleeps
    assert 0.16 < wait <= 0.16 + 0.02  # (10 - 2) / 50 points per second, plus a little jitter


def test_paces_before_sending_when_the_bucket_cannot_pay(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=answer({"codeDiscountNodeByCode": None}, available=4, requested=10))
    shopify = client(time_)
    shopify.find_discount("A")
    shopify.find_discount("B")
    [wait] = time_.sleeps
    assert 0.12 < wait <= 0.12 + 0.02  # never sent a request the bucket would refuse


def test_no_pacing_when_the_bucket_has_refilled(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, json=answer({"codeDiscountNodeByCode": None}, available=4, requested=10))
    shopify = client(time_)
    shopify.find_discount("A")
    time_.now += 1  # 50 points restored meanwhile
    shopify.find_discount("B")
    assert time_.sleeps == []


def test_429_honours_retry_after(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, status=429, headers={"Retry-After": "2.0"}, json={"errors": "Exceeded 2 calls per second"})
    http.post(URL, json=created())
    client(time_).create_discount(spec())
    assert time_.sleeps == [2.0]


def test_503_is_retried_with_growing_backoff_then_transient_error(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, status=503, body="unavailable")
    with pytest.raises(StoreError) as raised:
        client(time_, max_attempts=4).create_discount(spec())
    assert raised.value.transient and raised.value.code == "http_503"
    assert len(http.calls) == 4
    for attempt, wait in enumerate(time_.sleeps):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt


def test_timeouts_and_connection_errors_are_retried(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, body=requests.ReadTimeout("slow"))
    http.post(URL, body=requests.ConnectionError("reset"))
    http.post(URL, json=created())
    assert client(time_).create_discount(spec()).platform_id == NODE_ID
    assert len(time_.sleeps) == 2


def test_taken_code_that_is_ours_returns_the_existing_discount(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=created(None, TAKEN))
    ours = {"id": NODE_ID, "codeDiscount": {"__typename": "DiscountCodeBasic", "title": TITLE}}
    http.post(URL, json=answer({"codeDiscountNodeByCode": ours}))
    ref = client(time_).create_discount(spec())
    assert ref == DiscountRef("BACK-7Q2M9XK4PZ", NODE_ID, True)
    assert sent(http, 1)["variables"] == {"code": "BACK-7Q2M9XK4PZ"}


def test_taken_code_of_another_discount_raises_code_taken(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=created(None, TAKEN))
    sale = {"__typename": "DiscountCodeBasic", "title": "Summer sale", "status": "ACTIVE"}
    http.post(
        URL,
        json=answer(
            {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/1", "codeDiscount": sale}}
        ),
    )
    with pytest.raises(CodeTaken) as raised:
        client(time_).create_discount(spec())
    assert raised.value.code == FOREIGN_CODE and not raised.value.transient
    assert "Summer sale" in str(raised.value)


def test_taken_code_of_another_relance_offer_is_not_adopted_by_create(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=created(None, TAKEN))
    other = {"__typename": "DiscountCodeBasic", "title": "Relance win back BACK-7Q2M9XK4PZ"}
    http.post(URL, json=answer({"codeDiscountNodeByCode": {"id": NODE_ID, "codeDiscount": other}}))
    with pytest.raises(CodeTaken) as raised:
        client(time_).create_discount(spec())
    assert raised.value.code == FOREIGN_CODE


def test_taken_code_that_vanished_before_the_look_up_stays_code_taken(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.post(URL, json=created(None, TAKEN))
    http.post(URL, json=answer({"codeDiscountNodeByCode": None}))
    with pytest.raises(CodeTaken) as raised:
        client(time_).create_discount(spec())
    assert raised.value.code == "taken"


@pytest.mark.parametrize(
    "discount",
    [
        {"__typename": "DiscountCodeBasic", "title": "Summer sale", "status": "ACTIVE"},
        {"__typename": "DiscountCodeBasic", "title": "Relance abandoned cart OTHER-CODE", "status": "ACTIVE"},
        {"__typename": "DiscountCodeBxgy", "title": TITLE, "status": "ACTIVE"},
        {"__typename": "DiscountCodeBasic", "status": "ACTIVE"},
    ],
)
def test_find_discount_ignores_a_discount_that_is_not_ours(
    http: responses.RequestsMock, time_: FakeTime, discount: dict[str, Any]
) -> None:
    http.post(URL, json=answer({"codeDiscountNodeByCode": {"id": NODE_ID, "codeDiscount": discount}}))
    assert client(time_).find_discount("back-7q2m9xk4pz") is None


def test_other_user_errors_are_permanent_store_errors(http: responses.RequestsMock, time_: FakeTime) -> None:
    invalid = [
        {"field": ["basicCodeDiscount", "endsAt"], "code": "INVALID", "message": "Ends before it starts"}
    ]
    http.post(URL, json=created(None, invalid))
    with pytest.raises(StoreError) as raised:
        client(time_).create_discount(spec())
    assert not isinstance(raised.value, CodeTaken)
    assert (raised.value.code, raised.value.transient) == ("invalid", False)
    assert "basicCodeDiscount.endsAt: Ends before it starts" in str(raised.value)


def test_top_level_errors_are_store_errors(http: responses.RequestsMock, time_: FakeTime) -> None:
    denied = [
        {"message": "Access denied for codeDiscountNodeByCode", "extensions": {"code": "ACCESS_DENIED"}}
    ]
    http.post(URL, json=answer(errors=denied))
    with pytest.raises(StoreError) as raised:
        client(time_).find_discount("X")
    assert (raised.value.code, raised.value.transient) == ("access_denied", False)


def test_401_without_provider_is_unauthorized(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(StoreError) as raised:
        client(time_).find_discount("X")
    assert (raised.value.code, raised.value.transient) == ("unauthorized", False)
    assert len(http.calls) == 1


class Tokens:
    """A token provider that hands out a new token when forced."""

    def __init__(self) -> None:
        self.current, self.forced = "shpat_old", 0

    def __call__(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.forced += 1
            self.current = f"shpat_new{self.forced}"
        return self.current


def test_401_refreshes_the_token_once_and_retries(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, status=401, json={"errors": "expired"})
    http.post(URL, json=answer({"codeDiscountNodeByCode": None}))
    tokens = Tokens()
    assert client(time_, token_provider=tokens).find_discount("X") is None
    assert tokens.forced == 1
    used = [call.request.headers["X-Shopify-Access-Token"] for call in http.calls]
    assert used == ["shpat_old", "shpat_new1"]


def test_a_second_401_after_refresh_is_unauthorized(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, status=401, json={"errors": "revoked"})
    tokens = Tokens()
    with pytest.raises(StoreError, match="access token"):
        client(time_, token_provider=tokens).find_discount("X")
    assert tokens.forced == 1 and len(http.calls) == 2


def webhooks(*nodes: dict[str, str]) -> dict[str, Any]:
    page = {"nodes": list(nodes), "pageInfo": {"hasNextPage": False, "endCursor": None}}
    return answer({"webhookSubscriptions": page}, requested=202)


def test_register_webhooks_creates_only_missing_ones(http: responses.RequestsMock, time_: FakeTime) -> None:
    address = "https://relance.test/webhooks/shopify"
    existing = {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": address}
    stale = {
        "id": "gid://shopify/WebhookSubscription/2",
        "topic": "CHECKOUTS_UPDATE",
        "uri": "https://old.test/x",
    }
    http.post(URL, json=webhooks(existing, stale))
    new = {"id": "gid://shopify/WebhookSubscription/3", "topic": "CHECKOUTS_UPDATE", "uri": address}
    http.post(URL, json=answer({"webhookSubscriptionCreate": {"webhookSubscription": new, "userErrors": []}}))
    ids = client(time_).register_webhooks(address, ["orders/create", "checkouts/update", "ORDERS_CREATE"])
    assert ids == [existing["id"], new["id"]]
    assert len(http.calls) == 2
    assert sent(http, 1)["variables"] == {
        "topic": "CHECKOUTS_UPDATE",
        "sub": {"uri": address, "format": "JSON"},
    }


def test_register_webhooks_surfaces_user_errors(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.post(URL, json=webhooks())
    refused = {"webhookSubscription": None, "userErrors": [{"field": ["uri"], "message": "is not HTTPS"}]}
    http.post(URL, json=answer({"webhookSubscriptionCreate": refused}))
    with pytest.raises(StoreError) as raised:
        client(time_).register_webhooks("http://insecure.test/x", ["orders/create"])
    assert raised.value.code == "webhook_rejected"


def test_find_discount_reads_status(http: responses.RequestsMock, time_: FakeTime) -> None:
    discount = {"__typename": "DiscountCodeBasic", "title": TITLE, "status": "EXPIRED"}
    expired = {"id": NODE_ID, "codeDiscount": discount}
    http.post(URL, json=answer({"codeDiscountNodeByCode": expired}))
    assert client(time_).find_discount("back-7q2m9xk4pz") == DiscountRef("back-7q2m9xk4pz", NODE_ID, False)


def test_deleting_a_discount_that_is_already_gone_is_fine(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    gone = [{"field": ["id"], "code": "INVALID", "message": "Discount does not exist"}]
    http.post(URL, json=answer({"discountCodeDelete": {"deletedCodeDiscountId": None, "userErrors": gone}}))
    http.post(URL, json=answer({"codeDiscountNodeByCode": None}))
    client(time_).delete_discount(DiscountRef("BACK-7Q2M9XK4PZ", NODE_ID))
    assert sent(http)["variables"] == {"id": NODE_ID}


def order_node(n: int) -> dict[str, Any]:
    money = {"shopMoney": {"amount": "59.90", "currencyCode": "EUR"}}
    return {
        "id": f"gid://shopify/Order/{n}",
        "name": f"#{n}",
        "email": None,
        "cartToken": "c1-abc",
        "checkoutToken": "tok",
        "currencyCode": "EUR",
        "discountCodes": ["BACK-7Q2M9XK4PZ"],
        "customerAcceptsMarketing": True,
        "createdAt": "2026-11-25T09:00:00Z",
        "updatedAt": "2026-11-25T09:30:00Z",
        "totalPriceSet": money,
        "subtotalPriceSet": money,
        "customer": {
            "id": "gid://shopify/Customer/7261",
            "defaultEmailAddress": {"emailAddress": "j@x.test"},
        },
        "lineItems": {"nodes": [{"title": "Mug", "quantity": 2, "originalUnitPriceSet": money}]},
    }


def test_recent_orders_pages_through_and_rebuilds_rest_payloads(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    first = {"nodes": [order_node(1)], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}
    second = {"nodes": [order_node(2)], "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}
    http.post(URL, json=answer({"orders": first}))
    http.post(URL, json=answer({"orders": second}))
    orders = client(time_).recent_orders(NOW - timedelta(hours=1))
    assert [o["id"] for o in orders] == [1, 2]
    assert sent(http, 0)["variables"]["query"] == "updated_at:>='2026-11-25T09:00:00Z'"
    assert sent(http, 1)["variables"]["after"] == "c1"
    order = orders[0]
    assert order["email"] == "j@x.test" and order["customer"]["id"] == 7261
    assert (order["total_price"], order["currency"], order["checkout_token"]) == ("59.90", "EUR", "tok")
    assert order["discount_codes"] == [{"code": "BACK-7Q2M9XK4PZ"}]
    assert order["line_items"][0]["price"] == "59.90"


def test_a_new_web_pixel_is_created_with_our_settings(http: responses.RequestsMock, time_: FakeTime) -> None:
    pixel = {"id": "gid://shopify/WebPixel/9", "settings": "{}"}
    http.post(URL, json=answer({"webPixelCreate": {"webPixel": pixel, "userErrors": []}}))
    assert client(time_).save_web_pixel({"publicKey": "pk_1"}) == {"webPixel": pixel, "userErrors": []}
    assert sent(http)["variables"] == {"webPixel": {"settings": '{"publicKey": "pk_1"}'}}


def test_a_shop_that_has_our_pixel_gets_it_updated(http: responses.RequestsMock, time_: FakeTime) -> None:
    taken = {"field": ["webPixel"], "code": "TAKEN", "message": "already exists"}
    updated = {"webPixel": {"id": "gid://shopify/WebPixel/9", "settings": "{}"}, "userErrors": []}
    http.post(URL, json=answer({"webPixelCreate": {"webPixel": None, "userErrors": [taken]}}))
    http.post(URL, json=answer({"webPixel": {"id": "gid://shopify/WebPixel/9"}}))
    http.post(URL, json=answer({"webPixelUpdate": updated}))
    assert client(time_).save_web_pixel({"publicKey": "pk_1"}) == updated
    assert [sent(http, i)["query"] for i in range(3)] == [gql.PIXEL_CREATE, gql.PIXEL_FIND, gql.PIXEL_UPDATE]
    assert sent(http, 2)["variables"] == {
        "id": "gid://shopify/WebPixel/9",
        "webPixel": {"settings": '{"publicKey": "pk_1"}'},
    }


def test_a_refused_pixel_comes_back_with_its_errors(http: responses.RequestsMock, time_: FakeTime) -> None:
    refused = {"webPixel": None, "userErrors": [{"field": ["settings"], "code": "INVALID", "message": "no"}]}
    http.post(URL, json=answer({"webPixelCreate": refused}))
    assert client(time_).save_web_pixel({}) == refused
