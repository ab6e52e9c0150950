"""The WooCommerce REST client at the HTTP boundary (`responses`): payloads, errors and retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from connectors.base import FOREIGN_CODE, CodeTaken, DiscountRef, DiscountSpec, StoreError
from connectors.woocommerce.client import WebhookStatus, WooClient

STORE = "https://shop.example.com"
API = f"{STORE}/wp-json/wc/v3"
TITLE = "Relance abandoned cart BACK-7Q2M9XK4"  # as bridge.outreach.codes.spec_of makes it
SPEC = DiscountSpec(
    code="BACK-7Q2M9XK4",
    title=TITLE,
    kind="percentage",
    value=Decimal("10"),
    currency="EUR",
    starts_at=datetime(2026, 5, 7, 10, 0, tzinfo=UTC),
    ends_at=datetime(2026, 5, 8, 12, 30, tzinfo=timezone(timedelta(hours=2))),
    customer_external_id="7",
    email="Jane@Example.com",
    minimum_subtotal=Decimal("50.00"),
)
COUPON = {
    "id": 55,
    "code": "back-7q2m9xk4",
    "amount": "10.00",
    "status": "publish",
    "usage_count": 0,
    "description": TITLE,
    "email_restrictions": ["jane@example.com"],
}
TAKEN = {
    "code": "woocommerce_rest_coupon_code_already_exists",
    "message": "The coupon code already exists",
    "data": {"status": 400, "resource_id": 55},
}
BY_CODE = [matchers.query_param_matcher({"code": "back-7q2m9xk4"})]


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def naps() -> list[float]:
    return []


@pytest.fixture
def client(naps: list[float]) -> WooClient:
    return WooClient(STORE, "ck_live", "cs_live", sleep=naps.append)


def sent(http: responses.RequestsMock, index: int = -1) -> Any:
    body = http.calls[index].request.body
    return json.loads(body) if body else None


def test_a_coupon_is_created_with_woocommerce_fields(http: responses.RequestsMock, client: WooClient) -> None:
    http.post(f"{API}/coupons", json=COUPON, status=201)
    assert client.create_discount(SPEC) == DiscountRef(code="back-7q2m9xk4", platform_id="55", active=True)
    assert sent(http) == {
        "code": "back-7q2m9xk4",
        "discount_type": "percent",
        "amount": "10",
        "description": TITLE,
        "date_expires": "2026-05-08T10:30:00+00:00",
        "individual_use": True,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": ["jane@example.com"],
        "minimum_amount": "50.00",
        "free_shipping": False,
    }
    request = http.calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")  # https: Basic auth, keys not in the URL
    assert "consumer_secret" not in (request.url or "")


def test_a_fixed_amount_without_email_or_minimum(http: responses.RequestsMock, client: WooClient) -> None:
    http.post(f"{API}/coupons", json=COUPON, status=201)
    spec = DiscountSpec("Save5", "t", "fixed_amount", Decimal("5.50"), "EUR", SPEC.starts_at, SPEC.ends_at)
    client.create_discount(spec)
    body = sent(http)
    assert (body["code"], body["discount_type"], body["amount"]) == ("save5", "fixed_cart", "5.50")
    assert "email_restrictions" not in body and "minimum_amount" not in body


@pytest.mark.parametrize(
    ("kind", "value"),
    [("buy_one_get_one", Decimal(1)), ("percentage", Decimal(0)), ("fixed_amount", Decimal(-1))],
)
def test_impossible_discounts_are_refused_before_any_call(
    http: responses.RequestsMock, client: WooClient, kind: str, value: Decimal
) -> None:
    with pytest.raises(ValueError):
        client.create_discount(DiscountSpec("x", "t", kind, value, None, SPEC.starts_at, SPEC.ends_at))
    assert len(http.calls) == 0


def test_a_code_taken_by_our_own_coupon_returns_it(http: responses.RequestsMock, client: WooClient) -> None:
    # A retried job: its first POST created the coupon but the answer was lost.
    http.post(f"{API}/coupons", json=TAKEN, status=400)
    http.get(f"{API}/coupons", json=[COUPON], match=BY_CODE)
    assert client.create_discount(SPEC) == DiscountRef("back-7q2m9xk4", "55", True)


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "Summer sale"},
        {"description": ""},
        {"description": "Relance win back BACK-7Q2M9XK4"},  # another offer's title
        {"email_restrictions": ["someone@example.com"]},
        {"email_restrictions": []},
        {"email_restrictions": ["jane@example.com", "joe@example.com"]},
    ],
)
def test_a_code_taken_by_another_coupon_is_a_permanent_error(
    http: responses.RequestsMock, client: WooClient, changes: dict[str, Any]
) -> None:
    http.post(f"{API}/coupons", json=TAKEN, status=400)
    http.get(f"{API}/coupons", json=[{**COUPON, **changes}], match=BY_CODE)
    with pytest.raises(CodeTaken) as raised:
        client.create_discount(SPEC)
    assert raised.value.code == FOREIGN_CODE and not raised.value.transient


def test_a_taken_code_the_look_up_cannot_see_stays_code_taken(
    http: responses.RequestsMock, client: WooClient
) -> None:
    http.post(f"{API}/coupons", json=TAKEN, status=400)
    http.get(f"{API}/coupons", json=[], match=BY_CODE)
    with pytest.raises(CodeTaken) as raised:
        client.create_discount(SPEC)
    assert raised.value.code == "woocommerce_rest_coupon_code_already_exists"
    assert not raised.value.transient


def test_a_code_for_anyone_is_ours_without_an_email_restriction(
    http: responses.RequestsMock, client: WooClient
) -> None:
    http.post(f"{API}/coupons", json=TAKEN, status=400)
    http.get(f"{API}/coupons", json=[{**COUPON, "email_restrictions": []}], match=BY_CODE)
    assert client.create_discount(replace(SPEC, email=None)).platform_id == "55"


def test_a_503_is_retried_with_backoff(
    http: responses.RequestsMock, client: WooClient, naps: list[float]
) -> None:
    http.post(f"{API}/coupons", body="<html>Briefly unavailable</html>", status=503)
    http.post(f"{API}/coupons", status=503)
    http.post(f"{API}/coupons", json=COUPON, status=201)
    assert client.create_discount(SPEC).platform_id == "55"
    assert len(naps) == 2
    assert 0 <= naps[0] <= 1.0 and 0 <= naps[1] <= 2.0


def test_code_taken_after_a_lost_answer_is_our_own_coupon(
    http: responses.RequestsMock, client: WooClient
) -> None:
    http.post(f"{API}/coupons", body=requests.ConnectionError("reset"))
    http.post(f"{API}/coupons", json=TAKEN, status=400)
    http.get(f"{API}/coupons", json=[COUPON], match=BY_CODE)
    assert client.create_discount(SPEC) == DiscountRef("back-7q2m9xk4", "55", True)


def test_retries_end_in_a_transient_store_error(
    http: responses.RequestsMock, client: WooClient, naps: list[float]
) -> None:
    http.get(f"{API}/coupons", json={"code": "internal_server_error", "message": "boom"}, status=500)
    with pytest.raises(StoreError) as raised:
        client.find_discount("x")
    assert raised.value.transient and raised.value.code == "internal_server_error"
    assert len(http.calls) == 4 and len(naps) == 3
    assert all(0 <= nap <= 8 for nap in naps)


def test_timeouts_are_retried_then_transient(http: responses.RequestsMock, naps: list[float]) -> None:
    http.get(f"{API}/coupons", body=requests.ReadTimeout("slow"))
    client = WooClient(STORE, "ck", "cs", sleep=naps.append, attempts=2)
    with pytest.raises(StoreError) as raised:
        client.find_discount("x")
    assert (raised.value.transient, raised.value.code, len(http.calls), len(naps)) == (True, "network", 2, 1)


def test_too_many_requests_waits_as_asked(
    http: responses.RequestsMock, client: WooClient, naps: list[float]
) -> None:
    http.get(f"{API}/coupons", status=429, headers={"Retry-After": "7"})
    http.get(f"{API}/coupons", json=[])
    assert client.find_discount("x") is None
    assert naps == [7.0]


@pytest.mark.parametrize("status", [401, 403])
def test_refused_keys_are_unauthorized(http: responses.RequestsMock, client: WooClient, status: int) -> None:
    error = {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."}
    http.get(f"{API}/webhooks", json={**error, "data": {"status": status}}, status=status)
    with pytest.raises(StoreError) as raised:
        client.check_credentials()
    assert (raised.value.code, raised.value.transient, len(http.calls)) == ("unauthorized", False, 1)
    assert "cs_live" not in str(raised.value)


def test_credentials_are_checked_with_one_light_call(http: responses.RequestsMock, client: WooClient) -> None:
    http.get(f"{API}/webhooks", json=[], match=[matchers.query_param_matcher({"per_page": "1"})])
    client.check_credentials()


def test_other_client_errors_keep_the_woocommerce_code(
    http: responses.RequestsMock, client: WooClient
) -> None:
    error = {"code": "rest_invalid_param", "message": "Invalid parameter(s): amount", "data": {"status": 400}}
    http.post(f"{API}/coupons", json=error, status=400)
    with pytest.raises(StoreError) as raised:
        client.create_discount(SPEC)
    assert (type(raised.value), raised.value.code, raised.value.transient) == (
        StoreError,
        "rest_invalid_param",
        False,
    )


def test_an_answer_that_is_not_json_is_a_bad_response(
    http: responses.RequestsMock, client: WooClient
) -> None:
    http.get(f"{API}/coupons", body="<html>Welcome to WordPress</html>", status=200)
    with pytest.raises(StoreError) as raised:
        client.find_discount("x")
    assert raised.value.code == "bad_response"


def test_find_matches_codes_case_insensitively(http: responses.RequestsMock, client: WooClient) -> None:
    other = {"id": 9, "code": "summer", "status": "publish"}
    http.get(
        f"{API}/coupons",
        json=[other, COUPON],
        match=[matchers.query_param_matcher({"code": "back-7q2m9xk4"})],
    )
    assert client.find_discount(" BACK-7q2m9xk4 ") == DiscountRef("back-7q2m9xk4", "55", True)


def test_find_skips_coupons_with_our_code_that_are_not_ours(
    http: responses.RequestsMock, client: WooClient
) -> None:
    merchant = {**COUPON, "id": 9, "description": "Black Friday"}
    http.get(f"{API}/coupons", json=[merchant], match=BY_CODE)
    http.get(f"{API}/coupons", json=[merchant, COUPON], match=BY_CODE)
    assert client.find_discount("back-7q2m9xk4") is None
    assert client.find_discount("back-7q2m9xk4") == DiscountRef("back-7q2m9xk4", "55", True)


@pytest.mark.parametrize(
    "coupon", [{**COUPON, "usage_limit": 1, "usage_count": 1}, {**COUPON, "status": "draft"}]
)
def test_used_or_unpublished_coupons_are_inactive(
    http: responses.RequestsMock, client: WooClient, coupon: dict[str, Any]
) -> None:
    http.get(f"{API}/coupons", json=[coupon])
    found = client.find_discount("back-7q2m9xk4")
    assert found is not None and not found.active


def test_delete_is_for_good_and_tolerates_a_missing_coupon(
    http: responses.RequestsMock, client: WooClient
) -> None:
    gone = {
        "code": "woocommerce_rest_shop_coupon_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    force = [matchers.query_param_matcher({"force": "true"})]
    http.delete(f"{API}/coupons/55", json=COUPON, match=force)
    http.delete(f"{API}/coupons/56", json=gone, status=404, match=force)
    client.delete_discount(DiscountRef("back-7q2m9xk4", "55"))
    client.delete_discount(DiscountRef("gone", "56"))


@pytest.mark.parametrize("secret", ["", None])
def test_webhooks_are_never_registered_without_a_secret(
    http: responses.RequestsMock, client: WooClient, secret: Any
) -> None:
    with pytest.raises(ValueError):
        client.register_webhooks("https://relance.example/webhooks/woocommerce/k", secret, ["order.updated"])
    assert len(http.calls) == 0


def test_register_creates_missing_and_recreates_disabled(
    http: responses.RequestsMock, client: WooClient
) -> None:
    url = "https://relance.example/webhooks/woocommerce/k"
    hooks = [
        {"id": 3, "topic": "order.updated", "delivery_url": url, "status": "disabled"},
        {"id": 4, "topic": "order.created", "delivery_url": "https://elsewhere.example/", "status": "active"},
    ]
    http.get(f"{API}/webhooks", json=hooks)
    # A disabled webhook is replaced: WooCommerce keeps its failure count through a re-activation.
    http.delete(f"{API}/webhooks/3", json=hooks[0])
    http.post(f"{API}/webhooks", json={"id": 7, "topic": "order.updated", "status": "active"}, status=201)
    http.post(f"{API}/webhooks", json={"id": 8, "topic": "order.created", "status": "active"}, status=201)
    assert client.register_webhooks(url, "s3cret", ["order.updated", "order.created"]) == ["7", "8"]
    assert http.calls[1].request.method == "DELETE"
    assert sent(http, 2)["topic"] == "order.updated" and sent(http, 2)["status"] == "active"
    assert sent(http, 3) == {
        "name": "Relance order.created",
        "topic": "order.created",
        "delivery_url": url,
        "secret": "s3cret",
        "status": "active",
    }


def test_webhook_statuses_read_every_page(http: responses.RequestsMock, client: WooClient) -> None:
    page = [{"id": n, "topic": "order.updated", "delivery_url": "u", "status": "active"} for n in range(100)]
    http.get(
        f"{API}/webhooks", json=page, match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)]
    )
    http.get(
        f"{API}/webhooks",
        json=page[:1],
        match=[matchers.query_param_matcher({"page": "2"}, strict_match=False)],
    )
    statuses = client.webhook_statuses()
    assert len(statuses) == 101 and statuses[0] == WebhookStatus("0", "order.updated", "u", "active")


def test_recent_orders_ask_for_gmt_modification_dates(
    http: responses.RequestsMock, client: WooClient
) -> None:
    query = {
        "modified_after": "2026-05-01T08:00:00",
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "desc",
        "per_page": "100",
        "page": "1",
    }
    http.get(f"{API}/orders", json=[{"id": 1}], match=[matchers.query_param_matcher(query)])
    since = datetime(2026, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert client.recent_orders(since) == [{"id": 1}]


def test_recent_customers_stop_at_older_registrations(
    http: responses.RequestsMock, client: WooClient
) -> None:
    customers = [
        {"id": 3, "date_created_gmt": "2026-05-02T00:00:00"},
        {"id": 2, "date_created_gmt": "2026-04-30T00:00:00"},
    ]
    http.get(
        f"{API}/customers",
        json=customers,
        match=[matchers.query_param_matcher({"orderby": "registered_date"}, strict_match=False)],
    )
    assert client.recent_customers(datetime(2026, 5, 1, tzinfo=UTC)) == customers[:1]
