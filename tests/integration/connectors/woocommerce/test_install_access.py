"""Who may start a WooCommerce install, and where it may lead: the operator's allow-list and install links,
public store addresses only, an https PUBLIC_URL, and a rate per client address."""

from __future__ import annotations

import functools
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bridge import wiring
from bridge.app import create_app
from bridge.cli import main
from bridge.db.models import Nonce, Shop
from bridge.infra.netguard import Guard
from bridge.shops.woo_access import NOT_INVITED, STARTS_PER_MINUTE, issue_invite
from connectors.woocommerce.client import WooClient
from tests.fakes.woocommerce_store import FakeWooStore
from tests.integration.connectors.woocommerce.conftest import CK, CS, send_keys

LISTED = "https://shop.example.com"
BAD_STORES = [
    ("http://127.0.0.1:{port}", "loopback"),
    ("https://169.254.169.254", "link-local"),
    ("https://10.0.0.1", "private"),
    ("https://[fd00::1]", "private"),
    ("https://metadata.google.internal", "internal host name"),
    ("https://2130706433", "loopback"),
    ("https://0.0.0.0", "unspecified"),
    ("https://localhost:8443", "internal host name"),
]


@pytest.fixture
def prod(ctx):
    """A production-like instance: https PUBLIC_URL, private targets refused, one allow-listed store, and
    a resolver (passed in) that gives every name a public address."""
    ctx.settings = ctx.settings.with_overrides(
        public_url="https://relance.example",
        allow_private_network_urls=False,
        woocommerce_allowed_stores=(LISTED,),
    )
    ctx.guard = Guard(resolve=lambda host, port: ["93.184.215.14"])
    ctx.woo_client = functools.partial(WooClient, sleep=lambda _: None)
    return ctx


def start(client, store_url: str, invite: str | None = None, **environ):
    query = {"store_url": store_url, **({"invite": invite} if invite else {})}
    return client.get("/install/woocommerce", query_string=query, environ_base=environ)


def confirm(client, store_url: str, invite: str):
    """The install link page's button."""
    return client.post("/install/woocommerce", data={"store_url": store_url, "invite": invite})


def token_of(link: str) -> str:
    return link.rsplit("invite=", 1)[1]


def nonces(ctx, purpose: str = "woo_install") -> list[Nonce]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(Nonce).where(Nonce.purpose == purpose)))


@pytest.mark.parametrize(("store_url", "reason"), BAD_STORES)
def test_a_store_outside_the_public_internet_is_refused_with_the_reason(prod, client, store_url, reason):
    with FakeWooStore() as local:
        store_url = store_url.format(port=urlsplit(local.url).port)
        prod.settings = prod.settings.with_overrides(woocommerce_allowed_stores=(store_url,))
        response = start(client, store_url)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "store_url is refused" in response.json["error"] and reason in response.json["error"]
        assert nonces(prod) == [] and local.calls == []  # nothing stored, nothing called


def test_only_an_allow_listed_store_or_a_live_install_link_starts_an_install(prod, client, clock):
    other = "https://other.example.com"
    refused = start(client, other)
    assert refused.status_code == 403 and refused.json["error"] == NOT_INVITED
    assert start(client, other, invite="made-up").status_code == 403
    for_another = token_of(issue_invite(prod, "https://third.example.com"))
    assert start(client, other, invite=for_another).status_code == 403
    assert nonces(prod) == []

    link = issue_invite(prod, other)
    assert link.startswith("https://relance.example/install/woocommerce?store_url=")
    response = confirm(client, other, token_of(link))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{other}/wc-auth/v1/authorize?")  # the store's own page
    assert start(client, other, invite=token_of(link)).status_code == 403  # single use
    assert confirm(client, other, token_of(link)).status_code == 403

    late = issue_invite(prod, other)
    clock.advance(hours=72, seconds=1)
    assert start(client, other, invite=token_of(late)).status_code == 403  # expired
    listed = start(client, LISTED)
    assert listed.status_code == 302 and listed.headers["Location"].startswith(f"{LISTED}/wc-auth/v1/")
    assert [n.subject for n in nonces(prod)] == [LISTED]  # the expired ones are cleared


def test_a_refused_store_does_not_use_the_install_link_up(prod, client):
    link = issue_invite(prod, "https://shop.internal")
    assert start(client, "https://shop.internal", invite=token_of(link)).status_code == 400
    assert len(nonces(prod, "woo_invite")) == 1


def test_the_install_link_command_prints_a_link_that_works_once(prod, client, monkeypatch):
    for name, value in (
        ("DATABASE_URL", prod.settings.database_url),
        ("ENCRYPTION_KEYS", ",".join(prod.settings.encryption_keys)),
        ("INSTANCE_PATH", prod.settings.instance_path),
        ("PUBLIC_URL", "https://relance.example"),
        ("ALLOW_PRIVATE_NETWORK_URLS", "1"),  # no DNS here: the command resolves the store itself
    ):
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "RELANCE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    try:
        made = CliRunner().invoke(main, ["shops", "install-link", "--store-url", "https://New.Example.com/"])
        monkeypatch.delenv("ALLOW_PRIVATE_NETWORK_URLS")
        private = CliRunner().invoke(main, ["shops", "install-link", "--store-url", "https://10.0.0.1"])
        monkeypatch.setenv("PUBLIC_URL", "http://relance.example")
        plain = CliRunner().invoke(main, ["shops", "install-link", "--store-url", f"https://{'9' * 9}"])
    finally:
        wiring.install(prod)  # the commands made their own context the process's
    assert made.exit_code == 0, made.output
    link = made.output.strip()
    assert link.startswith("https://relance.example/install/woocommerce?store_url=https%3A%2F%2Fnew.example")
    assert client.get(link.removeprefix("https://relance.example")).status_code == 200  # its page
    assert confirm(client, "https://new.example.com", token_of(link)).status_code == 302
    assert confirm(client, "https://new.example.com", token_of(link)).status_code == 403
    assert private.exit_code != 0 and "private network address" in private.output
    assert plain.exit_code != 0 and "PUBLIC_URL must be an https" in plain.output


def test_install_starts_are_rate_limited_per_client_address(prod, client):
    for _ in range(STARTS_PER_MINUTE):
        assert start(client, LISTED, REMOTE_ADDR="203.0.113.5").status_code == 302
    slowed = start(client, LISTED, REMOTE_ADDR="203.0.113.5")
    assert slowed.status_code == 429 and "too many" in slowed.json["error"]
    assert start(client, LISTED, REMOTE_ADDR="203.0.113.6").status_code == 302  # another address
    assert len(nonces(prod)) == STARTS_PER_MINUTE + 1


def test_behind_a_proxy_the_rate_is_per_forwarded_address(prod):
    prod.settings = prod.settings.with_overrides(proxy_hops=1)
    proxied = create_app(prod.settings, ctx=prod).test_client()

    def from_(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        query = {"store_url": LISTED}
        return proxied.get("/install/woocommerce", query_string=query, headers=headers).status_code

    assert [from_("198.51.100.7") for _ in range(STARTS_PER_MINUTE + 1)][-1] == 429
    assert from_("198.51.100.8") == 302  # the same proxy, another shopper


def test_an_http_public_url_cannot_start_a_woocommerce_install(prod, client):
    prod.settings = prod.settings.with_overrides(public_url="http://relance.example")
    response = start(client, LISTED)
    assert response.status_code == 400 and "PUBLIC_URL must be an https" in response.json["error"]
    assert "callback_url" in response.json["error"] and nonces(prod) == []
    prod.settings = prod.settings.with_overrides(public_url="http://127.0.0.1:5000")
    assert start(client, LISTED).status_code == 302  # local development on this machine
    prod.settings = prod.settings.with_overrides(
        public_url="http://relance.example", allow_private_network_urls=True
    )
    assert start(client, LISTED).status_code == 302  # ALLOW_PRIVATE_NETWORK_URLS=1


def test_the_callback_never_calls_a_store_that_now_resolves_to_a_private_address(prod, client):
    with FakeWooStore(consumer_key=CK, consumer_secret=CS) as store:
        named = store.url.replace("http://127.0.0.1", "https://shop.example.com")  # and the store's port
        prod.settings = prod.settings.with_overrides(woocommerce_allowed_stores=(named,))
        location = start(client, named).headers["Location"]  # public when the install starts
        user_id = parse_qs(urlsplit(location).query)["user_id"][0]
        prod.guard = Guard(resolve=lambda host, port: ["127.0.0.1"])  # rebound since
        response = send_keys(client, user_id)
        assert response.status_code == 502 and "could not reach" in response.json["error"]
        assert store.calls == []
    with prod.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Shop)) == 0


def test_opening_an_install_link_does_not_use_it_up(prod, client):
    # Mail scanners and chat link previews fetch links: only the page's button (a POST) starts the install.
    other = "https://other.example.com"
    link = issue_invite(prod, other)
    for _ in range(3):
        page = start(client, other, invite=token_of(link))
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert b'action="/install/woocommerce"' in page.data and b"other.example.com" in page.data
    assert nonces(prod) == [] and len(nonces(prod, "woo_invite")) == 1  # nothing started, link still live
    started = confirm(client, other, token_of(link))
    assert started.status_code == 302 and started.headers["Location"].startswith(f"{other}/wc-auth/v1/")
    assert confirm(client, other, token_of(link)).status_code == 403
    assert confirm(client, other, "made-up").status_code == 403
