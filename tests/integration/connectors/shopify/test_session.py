"""The embedded admin: session tokens verified and traded for an offline token once; framing rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g, jsonify

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra import observability
from bridge.shops import sessions
from tests.integration.connectors.shopify.conftest import APP_IN_ADMIN, SHOP, session_token

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def exchanges(fake) -> int:
    return sum(1 for c in fake.calls if c.operation == "oauth" and c.variables.get("grant_type") == EXCHANGE)


def shops(ctx) -> list[Shop]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Shop)))


def test_first_admin_load_trades_the_session_token_once(ctx, client, fake, clock, run_jobs):
    bearer = {"Authorization": f"Bearer {session_token(clock)}"}
    first = client.post("/auth/shopify/session", headers=bearer)
    assert first.status_code == 200 and first.get_json() == {"ok": True, "shop": SHOP, "exchanged": True}
    [shop] = shops(ctx)
    [token] = fake.tokens
    assert ctx.vault.decrypt(shop.access_token_enc) == token and shop.refresh_token_enc is not None
    run_jobs()
    assert shops(ctx)[0].state["webhooks"]["source"] == "app_config"  # the setup job ran
    assert fake.data.webhooks == []  # shopify.app.toml subscribes the shop, not the API
    again = client.post("/auth/shopify/session", headers={"Authorization": f"Bearer {session_token(clock)}"})
    assert again.get_json()["exchanged"] is False
    assert exchanges(fake) == 1 and len(shops(ctx)) == 1


def test_a_document_load_with_id_token_lands_on_the_admin_page(ctx, client, clock):
    response = client.get(
        "/auth/shopify/session", query_string={"id_token": session_token(clock), "host": "h"}
    )
    # The managed install's landing: into the Shopify admin (our own /admin/ would ask for a sign-in).
    assert response.status_code == 302 and response.headers["Location"] == APP_IN_ADMIN
    assert len(shops(ctx)) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda clock: session_token(clock, secret="shpss_not_the_app_secret_0123456789abc"),
        lambda clock: session_token(clock, aud="another-app"),
        lambda clock: session_token(clock, exp=clock() - timedelta(minutes=2)),
        lambda clock: session_token(clock, dest="https://evil.example.com"),
        lambda clock: session_token(clock, iss="https://other.myshopify.com/admin"),
        lambda clock: "not-a-jwt",
    ],
    ids=["wrong-secret", "wrong-audience", "expired", "not-a-shop", "iss-dest-mismatch", "garbage"],
)
def test_an_untrusted_session_token_gets_401_and_the_retry_header(ctx, client, fake, clock, make):
    response = client.post("/auth/shopify/session", headers={"Authorization": f"Bearer {make(clock)}"})
    assert response.status_code == 401
    assert response.headers[sessions.RETRY_HEADER] == "1"
    assert shops(ctx) == [] and exchanges(fake) == 0


def test_shop_from_session_token(ctx, client, clock):
    bearer = f"Bearer {session_token(clock)}"
    assert sessions.shop_from_session_token(ctx, bearer) is None  # not installed yet
    client.post("/auth/shopify/session", headers={"Authorization": f"Bearer {session_token(clock)}"})
    [shop] = shops(ctx)
    assert sessions.shop_from_session_token(ctx, f"Bearer {session_token(clock)}") == shop.id
    assert sessions.shop_from_session_token(ctx, session_token(clock)) == shop.id  # bare token too
    assert sessions.shop_from_session_token(ctx, "Bearer x.y.z") is None
    assert sessions.shop_from_session_token(ctx, None) is None
    with transaction(ctx.sessions) as s:
        s.get(Shop, shop.id).uninstalled_at = ctx.now()
    assert sessions.shop_from_session_token(ctx, f"Bearer {session_token(clock)}") is None


def test_the_admin_decorator_maps_the_token_to_the_shop_and_allows_framing(ctx, app, clock):
    @app.get("/admin-probe")
    @sessions.session_token_required
    def probe():
        return jsonify(shop_id=g.shop_id, domain=g.shop_domain)

    client = app.test_client()
    assert client.get("/admin-probe").status_code == 401
    client.post("/auth/shopify/session", headers={"Authorization": f"Bearer {session_token(clock)}"})
    response = client.get("/admin-probe", headers={"Authorization": f"Bearer {session_token(clock)}"})
    assert response.status_code == 200 and response.get_json()["domain"] == SHOP
    policy = response.headers["Content-Security-Policy"]
    assert policy == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    by_query = client.get("/admin-probe", query_string={"id_token": session_token(clock)})
    assert by_query.status_code == 200


def test_frame_ancestors_only_for_a_real_shop_domain():
    assert observability.frame_ancestors_header("a.myshopify.com") == (
        "frame-ancestors https://a.myshopify.com https://admin.shopify.com;"
    )
    assert observability.frame_ancestors_header("a.myshopify.com; script-src *") == "frame-ancestors 'none';"
