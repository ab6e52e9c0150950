"""Ids and integers from URLs and query strings: out-of-range values get 404 or 400, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Lead, Shop

HUGE = "99999999999999999999"
OFFSET = "9223372036854775808"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", f"/api/v1/leads/{HUGE}", 404),
        ("get", "/api/v1/leads/2147483648", 404),
        ("post", f"/api/v1/events/{HUGE}/replay", 404),
        ("get", f"/api/v1/rules/versions/{HUGE}", 404),
        ("get", f"/api/v1/leads?offset={OFFSET}", 400),
        ("get", f"/api/v1/events?offset={OFFSET}", 400),
        ("get", f"/api/v1/carts?offset={OFFSET}", 400),
        ("get", f"/api/v1/offers?offset={OFFSET}", 400),
        ("get", f"/api/v1/leads?limit={HUGE}", 200),  # a limit above the page size is the page size
        ("get", "/api/v1/leads?offset=%C2%B2", 400),  # a superscript two: a digit, not a number
    ],
)
def test_the_api_answers_huge_ids_and_numbers_without_a_500(client, shopify_shop, method, path, expected):
    response = getattr(client, method)(path, headers=bearer(shopify_shop["api_key"]))
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/admin/leads/{HUGE}", 404),
        (f"/admin/leads?after=1.{HUGE}", 200),  # an unusable cursor is the first page
        (f"/admin/events?before={HUGE}", 200),
        ("/admin/events?before=%C2%B2", 200),
        (f"/admin/carts?before={HUGE}", 200),
        (f"/admin/offers?before={HUGE}", 200),
        (f"/admin/?days={HUGE}", 200),
    ],
)
def test_the_admin_pages_answer_huge_ids_and_numbers_without_a_500(client, signed_in, path, expected):
    response = client.get(path)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


NESTED = b"[" * 5000 + b"]" * 5000


def test_deeply_nested_json_is_a_400_on_collect_and_the_api(ctx, client, shopify_shop):
    with ctx.sessions() as s:
        key = s.get(Shop, shopify_shop["id"]).public_key
    assert client.post(f"/collect/{key}", data=NESTED).status_code == 400
    auth = bearer(shopify_shop["api_key"]) | {"Content-Type": "application/json"}
    assert client.put("/api/v1/rules", data=NESTED, headers=auth).status_code == 400
    assert client.post("/api/v1/rules/simulate", data=NESTED, headers=auth).status_code == 400
    assert client.post("/api/v1/email-replies", data=NESTED, headers=auth).status_code == 422


@pytest.mark.parametrize("message_id", ["<CAF1234@mail.gmail.com>", "<x y/z:{}>", "a" * 500])
def test_an_email_reply_with_a_real_message_id_is_recorded(ctx, client, shopify_shop, run_jobs, message_id):
    with transaction(ctx.sessions) as s:
        s.add(Lead(shop_id=shopify_shop["id"], email="ana@example.com", created_at=ctx.now(), source={},
                   breakdown={}))  # fmt: skip
    body = {"email": "Ana@Example.com", "message_id": message_id}
    response = client.post("/api/v1/email-replies", json=body, headers=bearer(shopify_shop["api_key"]))
    assert response.status_code == 202 and response.json == {"recorded": True}
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalars(sa.select(Activity.kind)).all() == ["email_reply"]
        assert s.scalar(sa.select(Lead.score)) == 10  # rescored by the job
