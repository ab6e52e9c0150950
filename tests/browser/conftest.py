"""Browser tests: Debian's Chromium driven by Playwright against a live server running the test context."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from bridge.app import create_app
from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import PASSWORD, make_shop, seed

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (skipped when Playwright or Chromium is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(ctx: Context) -> Iterator[str]:
    """The app on 127.0.0.1 (a free port) in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, create_app(ctx.settings, ctx=ctx), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def merchant(ctx: Context) -> dict[str, Any]:
    """A shop with an admin user and a little of everything (lead, cart, offer, failed event)."""
    shop = make_shop(ctx, "browser-shop.myshopify.com", "owner@browser.test")
    return {**shop, **seed(ctx, shop["id"])}


# What the sign-in form says in each language the admin speaks (the browser's language picks it).
SIGN_IN = {
    "en": {"email": "Email", "password": "Password", "button": "Sign in"},
    "fr": {"email": "E-mail", "password": "Mot de passe", "button": "Se connecter"},
}
BROWSER_LOCALES = {"en": "en-US", "fr": "fr-FR"}


class Pages:
    """A browser tab (speaking `lang`) that signs in, follows console errors and saves screenshots."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int], lang: str = "en") -> None:
        self.context = browser.new_context(viewport=viewport, locale=BROWSER_LOCALES[lang])
        self.page = self.context.new_page()
        self.base, self.errors, self.lang = base, [], lang
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # A page answered 401 or 422 on purpose logs "Failed to load resource"; failed sub-resources
        # (scripts, styles) are caught by `_response` instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.url}")

    def go(self, path: str) -> Any:
        """Open an admin path."""
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, email: str, password: str = PASSWORD, lang: str | None = None) -> Any:
        """Sign in through the form (in `lang` when the page speaks another language than the browser)."""
        words = SIGN_IN[lang or self.lang]
        page = self.go("/admin/login")
        page.get_by_label(words["email"], exact=True).fill(email)
        page.get_by_label(words["password"], exact=True).fill(password)
        page.get_by_role("button", name=words["button"], exact=True).click()
        page.wait_for_load_state()
        return page

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot under test-artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Pages]:
    """A fresh desktop tab (no cookies), its browser in English or, parametrized indirectly, "fr"."""
    pages = Pages(browser, live_server, DESKTOP, getattr(request, "param", "en"))
    yield pages
    pages.close()


@pytest.fixture
def phone(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Pages]:
    """A fresh 360 px wide tab, in English or (parametrized indirectly) French."""
    pages = Pages(browser, live_server, MOBILE, getattr(request, "param", "en"))
    yield pages
    pages.close()
