"""Access: sign-in and sign-out, wrong passwords, the rate limit, CSRF, cookies, Shopify session tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from admin_ui import cookie_secure
from bridge.infra.context import Context
from bridge.shops import users
from tests.integration.admin_ui.conftest import PASSWORD, csrf_from, session_token


def test_pages_need_a_signed_in_user(client: Any, shop_a: dict[str, Any]) -> None:
    response = client.get("/admin/leads")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=/admin/leads")
    assert client.post("/admin/journeys/cart/preview").status_code in (400, 401)


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(
    client: Any, shop_a: dict[str, Any], login: Callable[..., Any]
) -> None:
    response = login(shop_a["email"])
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/admin/").status_code == 200
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_wrong_password_is_refused(client: Any, shop_a: dict[str, Any], login: Callable[..., Any]) -> None:
    response = login(shop_a["email"], "not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert login("nobody@example.com").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_repeated_failures_are_rate_limited(
    client: Any, ctx: Context, shop_a: dict[str, Any], login: Callable[..., Any]
) -> None:
    for _ in range(users.MAX_FAILURES):
        assert login(shop_a["email"], "guess").status_code == 401
    blocked = login(shop_a["email"])  # even the right password waits out the window
    assert blocked.status_code == 429
    assert "try again later" in blocked.get_data(as_text=True)
    assert not users.login_blocked(ctx.redis, shop_a["email"], "10.9.9.9")  # another address is not blocked


def test_success_clears_the_failure_count(
    ctx: Context, shop_a: dict[str, Any], login: Callable[..., Any]
) -> None:
    for _ in range(users.MAX_FAILURES - 1):
        login(shop_a["email"], "guess")
    assert login(shop_a["email"]).status_code == 302
    assert not users.login_blocked(ctx.redis, shop_a["email"], "127.0.0.1")


def test_missing_csrf_token_is_a_400(client: Any, signed_in: dict[str, Any], shop_a: dict[str, Any]) -> None:
    assert (
        client.post("/admin/login", data={"email": shop_a["email"], "password": PASSWORD}).status_code == 400
    )
    response = client.post("/admin/rules", data={"action": "save"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.post("/admin/logout").status_code == 400


def test_the_api_and_webhooks_need_no_csrf_token(client: Any, signed_in: dict[str, Any]) -> None:
    response = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {signed_in['api_key']}"})
    assert response.status_code == 200
    assert client.post("/webhooks/shopify", data=b"{}").status_code == 401  # refused for its signature only


def test_next_only_leads_to_admin_pages(client: Any, shop_a: dict[str, Any]) -> None:
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    data = {"email": shop_a["email"], "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/admin/login", data=data).headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("url", "override", "secure"),
    [
        ("http://127.0.0.1:5000", None, False),
        ("http://localhost:5000", None, False),
        ("https://relance.example.com", None, True),
        ("http://relance.example.com", None, True),
        ("http://127.0.0.1:5000", True, True),
        ("https://relance.example.com", False, False),
    ],
)
def test_cookie_secure_follows_the_public_url(url: str, override: bool | None, secure: bool) -> None:
    assert cookie_secure(url, override) is secure


def test_standalone_pages_cannot_be_framed(client: Any, signed_in: dict[str, Any]) -> None:
    response = client.get("/admin/")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    assert "cdn.shopify.com" not in response.get_data(as_text=True)


def test_a_session_token_opens_the_embedded_page(client: Any, ctx: Context, shop_a: dict[str, Any]) -> None:
    token = session_token(ctx, shop_a["domain"])
    response = client.get(f"/admin/?embedded=1&shop={shop_a['domain']}&host=abc&id_token={token}")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors https://{shop_a['domain']} https://admin.shopify.com" in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self' https://cdn.shopify.com"  # App Bridge, from Shopify's CDN
    assert directives["style-src"] == "'self' https://cdn.shopify.com"
    html = response.get_data(as_text=True)
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert 'name="shopify-api-key" content="test-api-key"' in html
    assert "embedded=1" in html and "host=abc" in html  # links keep the embedded parameters


def embedded_csrf(client: Any, ctx: Context, domain: str, **claims: Any) -> str:
    """The CSRF token an embedded page of `domain` (for the session token's user) puts in its forms."""
    token = session_token(ctx, domain, **claims)
    page = client.get(f"/admin/rules?embedded=1&shop={domain}&id_token={token}")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def test_embedded_forms_need_the_csrf_token_of_their_page(
    client: Any, ctx: Context, shop_a: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    bearer = {"Authorization": f"Bearer {session_token(ctx, shop_a['domain'])}"}
    draft = {
        "steps.0.messages.fr.subject": "Hi {{ first_name }}",
        "steps.0.messages.fr.body": "Code {{ code }}. Stop: {{ unsubscribe_url }}",
        "preview_step": "0",
        "preview_locale": "fr",
    }
    assert client.post("/admin/journeys/cart/preview", data=draft, headers=bearer).status_code == 400
    csrf = embedded_csrf(client, ctx, shop_a["domain"])
    in_form = client.post("/admin/journeys/cart/preview", data={**draft, "csrf_token": csrf}, headers=bearer)
    assert in_form.status_code == 200 and in_form.get_json()["subject"] == "Hi Camille"
    in_header = client.post(
        "/admin/journeys/cart/preview", data=draft, headers={**bearer, "X-CSRFToken": csrf}
    )
    assert in_header.status_code == 200
    preview = lambda token: client.post(  # noqa: E731
        "/admin/journeys/cart/preview", data={**draft, "csrf_token": token}, headers=bearer
    )
    assert preview(embedded_csrf(client, ctx, shop_b["domain"])).status_code == 400  # another shop's page
    assert preview(embedded_csrf(client, ctx, shop_a["domain"], sub="7")).status_code == 400  # another user's


def test_an_id_token_in_the_url_does_not_rotate_the_api_key_without_csrf(
    client: Any, ctx: Context, shop_a: dict[str, Any]
) -> None:
    token = session_token(ctx, shop_a["domain"])
    url = f"/admin/health/api-key?embedded=1&shop={shop_a['domain']}&id_token={token}"
    assert client.post(url).status_code == 400  # what a cross-site form holding a leaked id_token would send
    api = {"Authorization": f"Bearer {shop_a['api_key']}"}
    assert client.get("/api/v1/leads", headers=api).status_code == 200  # the key still works
    rotated = client.post(url, data={"csrf_token": embedded_csrf(client, ctx, shop_a["domain"])})
    assert rotated.status_code == 200
    assert client.get("/api/v1/leads", headers=api).status_code == 401


def test_a_bad_session_token_gets_the_bounce_page_or_401(
    client: Any, ctx: Context, shop_a: dict[str, Any]
) -> None:
    forged = session_token(ctx, shop_a["domain"], secret="not-the-app-secret-but-long-enough-0123456789")
    page = client.get(f"/admin/?embedded=1&shop={shop_a['domain']}&id_token={forged}")
    assert page.status_code == 200 and 'data-bounce="1"' in page.get_data(as_text=True)
    assert "Demo" not in page.get_data(as_text=True)
    api = client.post("/admin/journeys/cart/preview", headers={"Authorization": f"Bearer {forged}"})
    assert api.status_code == 401
    assert api.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert client.get("/admin/?embedded=1&shop=not a shop").status_code == 400


def test_the_bounce_page_may_load_app_bridge_and_its_styles(client: Any, shop_a: dict[str, Any]) -> None:
    response = client.get(f"/admin/?embedded=1&shop={shop_a['domain']}&host=abc")
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200 and "data-bounce" in response.get_data(as_text=True)
    assert "script-src 'self' https://cdn.shopify.com;" in policy
    assert "style-src 'self' https://cdn.shopify.com;" in policy


@pytest.mark.parametrize(
    ("query", "frame"),
    [
        ("", "frame-ancestors 'none';"),
        (
            "?shop=shop-a.myshopify.com",
            "frame-ancestors https://shop-a.myshopify.com https://admin.shopify.com;",
        ),
        ("?embedded=1&shop=evil.example.com", "frame-ancestors 'none';"),
        ("?shop=x.myshopify.com%20https://evil.example.com", "frame-ancestors 'none';"),
    ],
)
def test_an_unknown_admin_page_is_framed_by_its_shop_only_never_a_wildcard(
    client: Any, query: str, frame: str
) -> None:
    response = client.get(f"/admin/no-such-page{query}")
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 404
    assert "*" not in policy
    assert policy.endswith(frame) and policy.count("frame-ancestors") == 1
