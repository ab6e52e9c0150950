"""Sign-in limits hold under parallel guesses (a real threaded server): per email+address, email, address."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from werkzeug.serving import make_server

from bridge.app import create_app
from bridge.infra.context import Context
from bridge.shops import users
from tests.integration.admin_ui.conftest import PASSWORD, csrf_from


@pytest.fixture
def server(ctx: Context) -> Iterator[str]:
    """The app on a real threaded HTTP server, trusting one proxy (X-Forwarded-For names the client)."""
    ctx.settings = ctx.settings.with_overrides(
        proxy_hops=1, public_url="http://127.0.0.1"
    )  # plain-http cookie
    httpd = make_server("127.0.0.1", 0, create_app(ctx.settings, ctx=ctx), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


def guesser(server: str) -> Callable[..., int]:
    """A browser that loaded the sign-in page; each call posts one sign-in and returns the status."""
    browser = requests.Session()
    browser.mount("http://", HTTPAdapter(pool_maxsize=60))
    token = csrf_from(browser.get(f"{server}/admin/login", timeout=30).text)

    def guess(email: str, password: str = "a wrong guess", client: str = "203.0.113.7") -> int:
        data = {"email": email, "password": password, "csrf_token": token}
        headers = {"X-Forwarded-For": client}
        response = browser.post(
            f"{server}/admin/login", data=data, headers=headers, allow_redirects=False, timeout=60
        )
        return response.status_code

    return guess


def test_sixty_parallel_guesses_get_five_password_checks(server: str, shop_a: dict[str, Any]) -> None:
    guess = guesser(server)
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = Counter(pool.map(lambda _: guess(shop_a["email"]), range(60)))
    # 401: the password was checked (and wrong); 429: refused before any check.
    assert answers == Counter({401: users.MAX_FAILURES, 429: 60 - users.MAX_FAILURES})
    assert guess(shop_a["email"], PASSWORD) == 429  # even the right password waits out the window
    assert guess(shop_a["email"], PASSWORD, client="198.51.100.4") == 302  # another client is not blocked


def test_one_address_trying_many_accounts_is_capped(server: str, shop_a: dict[str, Any]) -> None:
    guess = guesser(server)
    emails = [f"user{n}@example.com" for n in range(users.MAX_ADDRESS_FAILURES + 10)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = Counter(pool.map(guess, emails))
    assert answers == Counter({401: users.MAX_ADDRESS_FAILURES, 429: 10})
    assert guess(shop_a["email"], PASSWORD) == 429
    assert guess(shop_a["email"], PASSWORD, client="198.51.100.4") == 302


def test_one_account_guessed_from_many_addresses_is_capped(server: str, shop_a: dict[str, Any]) -> None:
    guess = guesser(server)
    clients = [f"198.18.0.{n}" for n in range(users.MAX_ACCOUNT_FAILURES + 10)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = Counter(pool.map(lambda client: guess(shop_a["email"], client=client), clients))
    assert answers == Counter({401: users.MAX_ACCOUNT_FAILURES, 429: 10})
    assert guess(shop_a["email"], PASSWORD, client="198.18.1.1") == 429
