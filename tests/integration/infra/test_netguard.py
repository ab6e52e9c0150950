"""No server-side request forgery: merchant-supplied URLs reach public internet addresses only, checked when
given and again on the address each connection opens (real sockets on 127.0.0.1, resolvers passed in)."""

from __future__ import annotations

import functools
import socket

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Ruleset, Shop
from bridge.events import reconcile_woo, woo_webhooks
from bridge.infra.netguard import Guard, RefusedAddress, UnsafeTarget, refused
from bridge.infra.settings import from_env
from bridge.shops import stores
from bridge.shops.registry import create_shop
from connectors.base import StoreError
from connectors.woocommerce.client import WooClient
from tests.fakes.http_recorder import HTTPRecorder
from tests.fakes.woocommerce_store import FakeWooStore
from tests.integration.connectors.woocommerce.conftest import CK, CS

PUBLIC_IP = "93.184.215.14"
REFUSED = [
    ("http://127.0.0.1:8080", "loopback"),
    ("https://169.254.169.254", "link-local"),
    ("https://10.0.0.1", "private"),
    ("https://[fd00::1]", "private"),
    ("https://metadata.google.internal", "internal host name"),
    ("https://2130706433", "loopback"),  # 127.0.0.1 as one decimal number
    ("https://0x7f.1", "loopback"),
    ("https://0177.0.0.1", "loopback"),  # octal
    ("https://0.0.0.0", "unspecified"),
    ("https://[::]", "unspecified"),
    ("https://[::ffff:10.0.0.1]", "private"),  # IPv4-mapped IPv6
    ("https://[2002:a00:1::]", "private"),  # 6to4 of 10.0.0.1
    ("https://224.0.0.1", "multicast"),
    ("https://100.64.0.1", "outside the public internet"),  # carrier-grade NAT
    ("https://localhost", "internal host name"),
    ("https://db", "internal host name"),
]


def public(host: str, port: int) -> list[str]:
    return [PUBLIC_IP]


def unresolvable(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_urls_outside_the_public_internet_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget, match=reason):
        Guard(resolve=public).check_url(url)


def test_a_name_is_refused_when_any_of_its_addresses_is_private_or_when_it_does_not_resolve() -> None:
    with pytest.raises(UnsafeTarget, match=r"hooks\.example\.com resolves to a private network address"):
        Guard(resolve=lambda host, port: [PUBLIC_IP, "10.0.0.7"]).check_url("https://hooks.example.com/x")
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        Guard(resolve=unresolvable).check_url("https://hooks.example.com/x")
    Guard(resolve=public).check_url("https://hooks.example.com/x")  # public: accepted
    Guard(resolve=unresolvable).check_url(f"https://{PUBLIC_IP}/x")  # a public literal needs no lookup
    Guard(allow_private=True, resolve=unresolvable).check_url("http://127.0.0.1:8080/x")  # the setting


def test_a_name_that_resolves_to_a_private_address_when_connecting_is_refused() -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])  # public when checked, loopback by the time we connect
    guard = Guard(resolve=lambda host, port: next(answers))
    with HTTPRecorder() as server:
        url = f"http://rebind.example.com:{server.port}/hook"
        guard.check_url(url)
        with pytest.raises(RefusedAddress, match="resolves to a loopback address") as caught:
            guard.session().post(url, data=b"{}", timeout=5)
        with pytest.raises(RefusedAddress, match="is a loopback address"):
            Guard().session().get(f"http://127.0.0.1:{server.port}/", timeout=5)  # a literal, too
        assert server.requests == []
        Guard(allow_private=True).session().post(f"http://localhost:{server.port}/hook", timeout=5)
        assert server.requests == [("POST", "/hook", f"localhost:{server.port}")]  # the setting lets it
    assert refused(caught.value)


@pytest.mark.parametrize("rebinds", [False, True])
def test_the_woocommerce_client_never_calls_a_store_at_a_private_address(ctx, rebinds: bool) -> None:
    ctx.woo_client = functools.partial(WooClient, sleep=lambda _: None)
    with FakeWooStore(consumer_key=CK, consumer_secret=CS) as store:
        domain = store.url
        if rebinds:  # a public-looking name that now resolves to the store's loopback address
            domain = store.url.replace("127.0.0.1", "store.example.com")
            ctx.guard = Guard(resolve=lambda host, port: ["127.0.0.1"])
        with transaction(ctx.sessions) as session:
            new = create_shop(
                session, ctx.vault, platform="woocommerce", domain=domain, now=ctx.now(),
                webhook_secret="s" * 32, consumer_key=CK, consumer_secret=CS,
            )  # fmt: skip
            shop_id = new.shop.id
        assert reconcile_woo.reconcile(ctx, shop_id) == 0  # the 15-minute reconciliation
        assert woo_webhooks.register(ctx, shop_id) == 0  # webhook registration: refused, not retried
        with ctx.sessions() as session:
            shop = session.get(Shop, shop_id)
            assert "RefusedAddress" in shop.state["woo_webhooks"]["error"]  # what the admin page shows
            with pytest.raises(StoreError, match="RefusedAddress"):
                stores.client_for(ctx, shop).find_discount("BACK-1234567890")  # the offers' coupons
        assert store.calls == [] and store.webhooks == {}


def test_put_rules_refuses_a_webhook_url_outside_the_public_internet(ctx, client, shopify_shop) -> None:
    auth = {"Authorization": f"Bearer {shopify_shop['api_key']}"}
    for url in (
        "http://localhost:8080/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/hook",
        "https://metadata.google.internal/hook",
        "https://2130706433/hook",
        "https://0.0.0.0/hook",
    ):
        response = client.put("/api/v1/rules", json={"campaign": {"webhook_url": url}}, headers=auth)
        assert response.status_code == 422, url
        assert list(response.json["errors"]) == ["campaign.webhook_url"], url
        assert "Use a public internet address" in response.json["errors"]["campaign.webhook_url"][0]
    ctx.guard = Guard(resolve=lambda host, port: ["10.1.2.3"])
    private = client.put(
        "/api/v1/rules", json={"campaign": {"webhook_url": "https://hooks.example.com/r"}}, headers=auth
    )
    assert private.status_code == 422
    assert "resolves to a private network address" in private.json["errors"]["campaign.webhook_url"][0]
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ruleset)) == 0
    ctx.guard = Guard(resolve=public)
    hook = {"campaign": {"webhook_url": "https://hooks.example.com/r"}}
    assert client.put("/api/v1/rules", json=hook, headers=auth).status_code == 200
    ctx.guard = None
    ctx.settings = ctx.settings.with_overrides(allow_private_network_urls=True)
    local = {"campaign": {"webhook_url": "http://localhost:8080/hook"}}
    assert client.put("/api/v1/rules", json=local, headers=auth).status_code == 200


def test_the_settings_are_off_and_empty_unless_set() -> None:
    assert not from_env({}, dotenv=False).allow_private_network_urls
    assert not from_env({"ALLOW_PRIVATE_NETWORK_URLS": "yes"}, dotenv=False).allow_private_network_urls
    given = {
        "RELANCE_ALLOW_PRIVATE_NETWORK_URLS": "1",
        "WOOCOMMERCE_ALLOWED_STORES": " https://a.example, b.example,",
    }
    read = from_env(given, dotenv=False)
    assert read.allow_private_network_urls
    assert read.woocommerce_allowed_stores == ("https://a.example", "b.example")
    assert Guard(read.allow_private_network_urls).allow_private
