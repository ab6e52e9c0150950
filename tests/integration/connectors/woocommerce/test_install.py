"""WooCommerce install: store URL checks, the /wc-auth key exchange, encrypted keys, webhook registration."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Nonce, Shop
from bridge.events import woo_webhooks
from bridge.infra.crypto import hash_key
from bridge.shops.registry import create_shop
from bridge.shops.woo_access import normalize_store_url
from tests.fakes.woocommerce_store import FakeWooStore
from tests.integration.connectors.woocommerce.conftest import CK, CS, authorize, send_keys

TOPICS = {"order.created", "order.updated", "customer.created", "customer.updated"}


def shops(ctx) -> list[Shop]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(Shop)))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Shop.Example.com/", "https://shop.example.com"),
        ("  https://shop.example.com  ", "https://shop.example.com"),
        ("shop.example.com", "https://shop.example.com"),
        ("https://example.com/store/", "https://example.com/store"),
        ("https://shop.example.com:8443", "https://shop.example.com:8443"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_store_urls_are_normalized(given: str, expected: str) -> None:
    assert normalize_store_url(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "required"),
        (None, "required"),
        ("http://shop.example.com", "https"),
        ("http://10.0.0.5", "https"),
        ("ftp://shop.example.com", "https"),
        ("javascript:alert(1)", "https"),
        ("mailto:shop@example.com", "https"),
        ("https://shop.example.com/?page=1", "query"),
        ("https://shop.example.com/#top", "fragment"),
        ("https://shop.example.com?", "query"),
        ("https://admin:pw@shop.example.com", "password"),
        ("https://", "host"),
        ("https://shop .example.com", "spaces"),
        ("https://shop.example.com\\evil.com", "spaces"),
        ("https://shop.example.com:99999", "port"),
        ("https://exa_mple.com", "host"),
        ("https://" + "a" * 250 + ".com", "200 characters"),
    ],
)
def test_bad_store_urls_are_refused_with_the_reason(given: str | None, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_store_url(given)


def test_install_redirects_to_the_store_with_a_one_time_user_id(woo, client, clock) -> None:
    response = client.get("/install/woocommerce?store_url=https://Shop.Example.com/")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://shop.example.com/wc-auth/v1/authorize"
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["app_name"] == "Relance" and query["scope"] == "read_write"
    assert query["return_url"] == "http://relance.test/install/woocommerce/done"
    assert query["callback_url"] == "http://relance.test/auth/woocommerce/callback"
    with woo.sessions() as session:
        nonce = session.get(Nonce, query["user_id"])
        assert nonce is not None and len(nonce.value) >= 40
        assert (nonce.purpose, nonce.subject) == ("woo_install", "https://shop.example.com")
        assert nonce.expires_at == clock.now + timedelta(hours=1)


def test_install_with_a_bad_url_says_why(woo, client) -> None:
    response = client.get("/install/woocommerce?store_url=http://shop.example.com")
    assert response.status_code == 400
    assert "https" in response.json["error"]
    with woo.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Nonce)) == 0


def test_callback_refuses_unknown_reused_and_expired_user_ids(woo, client, store, clock) -> None:
    assert send_keys(client, "made-up-user-id").status_code == 401
    user_id = authorize(client, store.url)
    assert send_keys(client, user_id).status_code == 200
    again = send_keys(client, user_id)
    assert again.status_code == 401 and "start again" in again.json["error"]
    late = authorize(client, store.url)
    clock.advance(minutes=61)
    assert send_keys(client, late).status_code == 401
    assert len(shops(woo)) == 1  # only the one accepted install


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "x", "consumer_key": CK},
        {"user_id": "x", "consumer_key": CK, "consumer_secret": ""},
        {"user_id": 5, "consumer_key": CK, "consumer_secret": CS},
        {"user_id": "x", "consumer_key": CK, "consumer_secret": CS, "key_permissions": "read"},
        ["not", "an", "object"],
    ],
)
def test_callback_refuses_malformed_bodies(woo, client, store, body) -> None:
    user_id = authorize(client, store.url)
    if isinstance(body, dict) and body.get("user_id") == "x":
        body = {**body, "user_id": user_id}
    response = client.post("/auth/woocommerce/callback", json=body)
    assert response.status_code == 400 and response.json["error"]
    assert send_keys(client, user_id).status_code == 200  # a refused body does not use the nonce up


def test_keys_the_store_rejects_store_nothing_and_say_so(woo, client, store) -> None:
    user_id = authorize(client, store.url)
    response = send_keys(client, user_id, key="ck_wrong", secret="cs_wrong")
    assert response.status_code == 401  # not 200: WooCommerce then deletes the keys
    assert "refused the API keys" in response.json["error"]
    assert shops(woo) == [] and store.webhooks == {}
    page = client.get(f"/install/woocommerce/done?success=1&user_id={user_id}")
    assert "refused the API keys" in page.get_data(as_text=True)


def test_an_unreachable_store_stores_nothing_and_says_so(woo, client) -> None:
    with FakeWooStore() as gone:
        url = gone.url
    user_id = authorize(client, url)
    response = send_keys(client, user_id)
    assert response.status_code == 502 and "could not reach" in response.json["error"]
    assert shops(woo) == []


def test_install_stores_keys_encrypted_and_registers_signed_webhooks(woo, client, store, install) -> None:
    shop = install()
    with woo.sessions() as session:
        row = session.get(Shop, shop["id"])
        assert (row.platform, row.domain) == ("woocommerce", store.url)
        for column, plain in (("consumer_key_enc", CK), ("consumer_secret_enc", CS)):
            stored = getattr(row, column)
            assert plain not in stored and woo.vault.decrypt(stored) == plain
        assert shop["secret"] not in row.webhook_secret_enc and len(shop["secret"]) >= 64
    delivery_url = f"http://relance.test/webhooks/woocommerce/{shop['shop_key']}"
    hooks = list(store.webhooks.values())
    assert {h["topic"] for h in hooks} == TOPICS and len(hooks) == 4
    assert all(
        (h["delivery_url"], h["secret"], h["status"]) == (delivery_url, shop["secret"], "active")
        for h in hooks
    )
    with woo.sessions() as session:
        status = session.get(Shop, shop["id"]).state["woo_webhooks"]
    assert {w["topic"] for w in status["webhooks"]} == TOPICS and status["error"] is None


def test_the_done_page_shows_the_plugin_settings_to_the_installing_browser_only(
    woo, client, app, install
) -> None:
    shop = install()
    page = client.get(f"/install/woocommerce/done?success=1&user_id={shop['user_id']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert shop["shop_key"] in text and shop["secret"] in text and "http://relance.test" in text
    api_key = text.split("rl_", 1)[1].split("<", 1)[0]
    listed = client.get("/api/v1/leads", headers={"Authorization": f"Bearer rl_{api_key}"})
    assert listed.status_code == 200  # the API key shown works
    elsewhere = app.test_client().get(f"/install/woocommerce/done?success=1&user_id={shop['user_id']}")
    assert "is connected" in elsewhere.get_data(as_text=True)
    assert shop["secret"] not in elsewhere.get_data(as_text=True)


def test_a_declined_or_unknown_install_gets_a_clear_page(woo, client) -> None:
    declined = client.get("/install/woocommerce/done?success=0&user_id=abc")
    assert declined.status_code == 200 and "declined" in declined.get_data(as_text=True)
    unknown = client.get("/install/woocommerce/done?success=1&user_id=abc")
    assert unknown.status_code == 400 and "unknown or expired" in unknown.get_data(as_text=True)


def test_reinstall_keeps_the_shop_its_keys_and_its_webhooks(woo, client, store, install) -> None:
    first = install()
    with woo.sessions() as session:
        api_key_hash = session.get(Shop, first["id"]).api_key_hash
    store.consumer_key, store.consumer_secret = "ck_" + "c" * 40, "cs_" + "d" * 40  # a new key pair
    second = install()
    assert (second["id"], second["shop_key"], second["secret"]) == (
        first["id"],
        first["shop_key"],
        first["secret"],
    )
    with woo.sessions() as session:
        row = session.get(Shop, first["id"])
        assert row.api_key_hash == api_key_hash
        assert woo.vault.decrypt(row.consumer_secret_enc) == "cs_" + "d" * 40
    assert len(store.webhooks) == 4
    page = client.get(f"/install/woocommerce/done?success=1&user_id={second['user_id']}")
    assert "API key" not in page.get_data(as_text=True)  # shown once, at the first install


def test_webhooks_are_not_registered_without_a_secret(woo, store) -> None:
    with transaction(woo.sessions) as session:
        new = create_shop(
            session, woo.vault, platform="woocommerce", domain=store.url, now=woo.now(), consumer_key=CK,
            consumer_secret=CS,
        )  # fmt: skip
        shop_id = new.shop.id
        assert new.shop.api_key_hash == hash_key(new.api_key)
    assert woo_webhooks.register(woo, shop_id) == 0
    assert store.webhooks == {}
    with woo.sessions() as session:
        status = session.get(Shop, shop_id).state["woo_webhooks"]
    assert "refusing" in status["error"]
