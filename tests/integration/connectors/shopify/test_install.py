"""Installing from the Shopify admin: code grant, state, signatures, stored tokens, webhooks, reinstall."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Nonce, Shop
from bridge.shops import shopify_setup
from connectors.shopify import graphql as gql
from connectors.shopify.client import ShopifyClient
from tests.conftest import APP_SECRET
from tests.integration.connectors.shopify.conftest import APP_IN_ADMIN, SHOP, sign_query


def shops(ctx) -> list[Shop]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Shop)))


def nonces(ctx) -> list[Nonce]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Nonce)))


def test_install_redirects_to_the_shop_with_scopes_and_a_one_time_state(ctx, client, clock):
    response = client.get("/install/shopify", query_string=sign_query({"shop": SHOP, "host": "abc"}, clock))
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == "test-api-key"
    assert {"read_customers", "write_customers", "read_orders", "write_discounts"} <= set(
        query["scope"].split(",")
    )
    assert query["redirect_uri"] == "http://relance.test/auth/shopify/callback"
    assert "grant_options[]" not in query  # offline token: no per-user grant
    [nonce] = nonces(ctx)
    assert (nonce.value, nonce.purpose, nonce.subject) == (query["state"], "shopify_state", SHOP)


def test_install_without_hmac_is_allowed_for_an_install_link(ctx, client):
    assert client.get("/install/shopify", query_string={"shop": SHOP}).status_code == 302


@pytest.mark.parametrize(
    "shop", ["evil.com", "", "relance-test.myshopify.com.evil.com", "-x.myshopify.com", "a b.myshopify.com"]
)
def test_install_refuses_what_is_not_a_shop_domain(ctx, client, shop):
    response = client.get("/install/shopify", query_string={"shop": shop})
    assert response.status_code == 400
    assert "myshopify.com" in response.get_data(as_text=True)
    assert nonces(ctx) == []


def test_install_refuses_a_wrong_or_stale_signature(ctx, client, clock):
    wrong = sign_query({"shop": SHOP}, clock, secret="shpss_someone_else_0123456789abcdef")
    assert client.get("/install/shopify", query_string=wrong).status_code == 401
    stale = sign_query({"shop": SHOP}, clock)
    clock.advance(minutes=10)
    response = client.get("/install/shopify", query_string=stale)
    assert response.status_code == 401 and "hmac" in response.get_data(as_text=True)
    assert nonces(ctx) == []


def test_callback_stores_encrypted_expiring_tokens_and_sends_to_the_admin(ctx, fake, install, clock):
    response = install()
    assert response.status_code == 302
    assert response.headers["Location"] == APP_IN_ADMIN  # Relance inside the Shopify admin, not /admin/
    [shop] = shops(ctx)
    [token] = fake.tokens
    [refresh] = fake.refresh_tokens
    assert shop.domain == SHOP and shop.platform == "shopify" and shop.installed_at == clock()
    assert token not in shop.access_token_enc and refresh not in shop.refresh_token_enc  # encrypted at rest
    assert ctx.vault.decrypt(shop.access_token_enc) == token
    assert ctx.vault.decrypt(shop.refresh_token_enc) == refresh
    assert 3590 <= (shop.token_expires_at - clock()).total_seconds() <= 3600
    assert shop.refresh_expires_at > shop.token_expires_at
    assert nonces(ctx) == []  # the state was used up
    with ctx.engine.connect() as conn:  # not in any column, in any form
        row = conn.execute(sa.text("SELECT * FROM shops")).one()
    assert not any(token in str(v) or refresh in str(v) for v in row)


def test_setup_job_leaves_webhooks_to_the_app_config_and_reads_the_shop(ctx, fake, install, run_jobs):
    install()
    run_jobs()
    assert fake.data.webhooks == []  # shopify.app.toml subscribes every shop: nothing per shop to lose
    assert not [c for c in fake.calls if c.outcome == "invalid"]  # every document valid for 2026-10
    [shop] = shops(ctx)
    assert (shop.name, shop.currency, shop.timezone) == ("Relance Test", "EUR", "Europe/Paris")
    hooks = shop.state["webhooks"]
    assert hooks["source"] == "app_config" and "ids" not in hooks
    assert hooks["address"] == "http://relance.test/webhooks/shopify"
    assert not shopify_setup.per_shop_webhooks(shop)
    assert "RelancePixelCreate" in {c.operation for c in fake.calls}


def test_setup_keeps_an_older_install_subscribed_per_shop(ctx, fake, install, run_jobs):
    install()
    run_jobs()
    [shop] = shops(ctx)
    with transaction(ctx.sessions) as s:  # as an install made before the app config declared the topics
        row = s.get(Shop, shop.id)
        row.state = {**row.state, "webhooks": {"ids": ["gid://shopify/WebhookSubscription/1"]}}
    assert len(shopify_setup.set_up(ctx, shop.id)) == len(shopify_setup.WEBHOOK_TOPICS) == 13
    registered = {(w["topic"], w["uri"]) for w in fake.data.webhooks}
    address = "http://relance.test/webhooks/shopify"
    assert registered == {(topic, address) for topic in shopify_setup.WEBHOOK_TOPICS}
    assert {"SHOP_UPDATE", "APP_SCOPES_UPDATE"} <= {topic for topic, _ in registered}


def test_state_is_single_use_and_expires(ctx, client, fake, clock):
    started = client.get("/install/shopify", query_string={"shop": SHOP})
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    params = {"code": fake.new_auth_code(), "shop": SHOP, "state": state}
    assert client.get("/auth/shopify/callback", query_string=sign_query(params, clock)).status_code == 302
    again = {**params, "code": fake.new_auth_code()}
    replayed = client.get("/auth/shopify/callback", query_string=sign_query(again, clock))
    assert replayed.status_code == 400 and "state" in replayed.get_data(as_text=True)
    started = client.get("/install/shopify", query_string={"shop": SHOP})
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    clock.advance(minutes=11)
    late = {**params, "code": fake.new_auth_code(), "state": state}
    assert client.get("/auth/shopify/callback", query_string=sign_query(late, clock)).status_code == 400


@pytest.mark.parametrize(
    "overrides, status",
    [
        ({"state": "made-up"}, 400),
        ({"shop": "other-shop.myshopify.com"}, 400),  # state issued for another shop
        ({"shop": "evil.com"}, 400),
        ({"code": "not-issued"}, 400),
    ],
)
def test_a_failed_callback_check_stores_nothing(ctx, install, fake, overrides, status):
    response = install(**overrides)
    assert response.status_code == status
    assert shops(ctx) == [] and fake.tokens == set()


def test_a_callback_with_a_bad_signature_stores_nothing(ctx, client, fake, clock):
    started = client.get("/install/shopify", query_string={"shop": SHOP})
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    params = sign_query({"code": fake.new_auth_code(), "shop": SHOP, "state": state}, clock)
    params["code"] = fake.new_auth_code()  # changed after signing
    assert client.get("/auth/shopify/callback", query_string=params).status_code == 401
    assert shops(ctx) == [] and len(nonces(ctx)) == 1  # the state survives: the real callback may follow


def test_reinstall_keeps_the_shop_and_its_keys(ctx, install, run_jobs, post_shopify, fake, clock):
    install()
    run_jobs()
    [first] = shops(ctx)
    post_shopify("app/uninstalled", {"id": 1, "domain": SHOP}, shop=SHOP, secret=APP_SECRET)
    run_jobs()
    [gone] = shops(ctx)
    assert gone.uninstalled_at is not None and gone.access_token_enc is None
    clock.advance(minutes=5)
    assert install().status_code == 302
    run_jobs()
    [again] = shops(ctx)
    assert again.id == first.id
    assert (again.shop_key, again.public_key, again.api_key_hash) == (
        first.shop_key, first.public_key, first.api_key_hash,
    )  # fmt: skip
    assert again.uninstalled_at is None and again.installed_at == clock()
    assert ctx.vault.decrypt(again.access_token_enc) != ctx.vault.decrypt(first.access_token_enc)
    assert fake.data.webhooks == []  # nothing subscribed per shop


def test_unconfigured_app_says_so(ctx, client, app):
    ctx.settings = ctx.settings.with_overrides(shopify_api_key="")
    response = client.get("/install/shopify", query_string={"shop": SHOP})
    assert response.status_code == 503 and "SHOPIFY_API_KEY" in response.get_data(as_text=True)


class PixelStore(ShopifyClient):
    """The real client over a transport that answers like a shop that already has our pixel."""

    def __init__(self) -> None:
        super().__init__("pixel.myshopify.com", "shpat_pixel")
        self.sent: list[tuple[str, dict]] = []

    def execute(self, query: str, variables: dict | None = None) -> dict:
        self.sent.append((query, variables or {}))
        if query == gql.PIXEL_CREATE:
            taken = {"field": ["webPixel"], "code": "TAKEN", "message": "already exists"}
            return {"webPixelCreate": {"webPixel": None, "userErrors": [taken]}}
        if query == gql.PIXEL_FIND:
            return {"webPixel": {"id": "gid://shopify/WebPixel/9"}}
        return {"webPixelUpdate": {"webPixel": {"id": variables["id"], "settings": "{}"}, "userErrors": []}}


def test_an_existing_pixel_is_updated_with_our_settings():
    store = PixelStore()
    settings = {"bridgeUrl": "https://relance.example.com", "publicKey": "pk_1"}
    assert shopify_setup.activate_pixel(store, settings) == "gid://shopify/WebPixel/9"
    assert [q for q, _ in store.sent] == [
        gql.PIXEL_CREATE,
        gql.PIXEL_FIND,
        gql.PIXEL_UPDATE,
    ]
    assert (
        store.sent[-1][1]["webPixel"]["settings"]
        == '{"bridgeUrl": "https://relance.example.com", "publicKey": "pk_1"}'
    )


@pytest.mark.parametrize(
    ("host", "location"),
    [
        (None, APP_IN_ADMIN),  # no host: the shop's page on admin.shopify.com, built from its name
        (base64.b64encode(f"{SHOP}/admin".encode()).decode(), f"https://{SHOP}/admin/apps/test-api-key"),
        (base64.b64encode(b"admin.shopify.com/store/another-shop").decode(), APP_IN_ADMIN),
        (base64.b64encode(b"evil.example.com/store/relance-test").decode(), APP_IN_ADMIN),
        ("not base64!", APP_IN_ADMIN),
    ],
    ids=["no-host", "legacy-admin", "another-shop", "foreign-site", "garbage"],
)
def test_the_callback_lands_inside_the_shops_admin_whatever_the_host(install, host, location):
    response = install(host=host or "")
    assert response.status_code == 302 and response.headers["Location"] == location
