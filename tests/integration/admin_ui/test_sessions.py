"""A session cookie ends with its sign-out and with a password change, copies of it included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.db import transaction
from bridge.infra.context import Context
from bridge.shops import users
from tests.integration.admin_ui.conftest import csrf_from


def copy_of_cookie(client: Any, app: Any) -> Any:
    """Another browser holding a copy of this browser's session cookie."""
    other = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    other.set_cookie(cookie.key, cookie.value)
    return other


def test_a_copied_cookie_dies_with_the_sign_out(
    client: Any, app: Any, shop_a: dict[str, Any], login: Callable[..., Any]
) -> None:
    assert login(shop_a["email"]).status_code == 302
    copy = copy_of_cookie(client, app)
    assert copy.get("/admin/leads").status_code == 200
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    answer = copy.get("/admin/leads")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/admin/login")
    assert login(shop_a["email"]).status_code == 302  # signing in again works
    assert client.get("/admin/leads").status_code == 200
    assert copy.get("/admin/leads").status_code == 302  # the old copy stays dead


def test_a_new_password_signs_every_browser_out(
    client: Any, app: Any, ctx: Context, shop_a: dict[str, Any], login: Callable[..., Any]
) -> None:
    assert login(shop_a["email"]).status_code == 302
    copy = copy_of_cookie(client, app)
    with transaction(ctx.sessions) as session:  # what `relance users add --update` does
        users.create_user(
            session, shop_a["email"], "a brand new password", shop_a["id"], ctx.now(), update=True
        )
    for browser in (client, copy):
        answer = browser.get("/admin/leads")
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/admin/login")
    assert login(shop_a["email"], "a brand new password").status_code == 302
    assert client.get("/admin/leads").status_code == 200
