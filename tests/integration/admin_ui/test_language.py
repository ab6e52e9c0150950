"""The admin in French or English: the browser's default, the switch (CSRF, remembered), Shopify's locale,
numbers and money in the page's language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from admin_ui.i18n import COOKIE
from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import csrf_from, seed, session_token


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-CA,fr;q=0.9", "fr"),
        ("de-DE, fr;q=0.8, en;q=0.5", "fr"),  # French ranks above English
        ("en-GB, fr;q=0.9", "en"),  # a British browser that also reads French
        ("de-DE", "en"),  # neither: English
        ("", "en"),
    ],
)
def test_the_browser_language_is_the_default(client: Any, header: str, lang: str) -> None:
    html = client.get("/admin/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert lang_of(html) == lang
    assert ("Connexion à Relance" in html) is (lang == "fr") and ("Sign in to Relance" in html) is (
        lang == "en"
    )


def test_the_switch_is_remembered_across_pages_and_sign_in(
    client: Any, ctx: Context, shop_a: dict[str, Any], login: Any
) -> None:
    french = {"Accept-Language": "fr-FR"}
    token = csrf_from(client.get("/admin/login", headers=french).get_data(as_text=True))
    switched = client.post(
        "/admin/language", data={"language": "en", "next": "/admin/login", "csrf_token": token}
    )
    assert switched.status_code == 302 and switched.headers["Location"] == "/admin/login"
    cookie = switched.headers["Set-Cookie"]
    assert f"{COOKIE}=en" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    assert lang_of(client.get("/admin/login", headers=french).get_data(as_text=True)) == "en"
    assert login(shop_a["email"]).status_code == 302  # signing in clears the session, not the choice
    seed(ctx, shop_a["id"])
    for path in ("/admin/", "/admin/leads", "/admin/offers", "/admin/events", "/admin/health"):
        html = client.get(path, headers=french).get_data(as_text=True)
        assert lang_of(html) == "en" and ">Overview</a>" in html, path
    page = client.get("/admin/offers?status=sent", headers=french).get_data(as_text=True)
    back = client.post(
        "/admin/language",
        data={"language": "fr", "next": "/admin/offers?status=sent", "csrf_token": csrf_from(page)},
    )
    assert back.headers["Location"] == "/admin/offers?status=sent"
    html = client.get("/admin/offers?status=sent").get_data(as_text=True)  # no Accept-Language at all
    assert lang_of(html) == "fr" and ">Vue d'ensemble</a>" in html and "Offres" in html
    assert "80,00\xa0€" in client.get("/admin/carts").get_data(as_text=True)  # French money


def test_the_switch_needs_csrf_a_known_language_and_goes_back_to_admin_pages_only(client: Any) -> None:
    assert client.post("/admin/language", data={"language": "fr"}).status_code == 400
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    unknown = client.post("/admin/language", data={"language": "de", "csrf_token": token})
    assert unknown.status_code == 302 and COOKIE not in unknown.headers.get("Set-Cookie", "")
    away = client.post(
        "/admin/language", data={"language": "fr", "next": "https://evil.test/", "csrf_token": token}
    )
    assert away.headers["Location"] == "/admin/"


def test_inside_shopify_the_locale_parameter_decides_and_every_link_keeps_it(
    client: Any, ctx: Context, shop_a: dict[str, Any]
) -> None:
    token = session_token(ctx, shop_a["domain"])
    base = f"/admin/leads?embedded=1&shop={shop_a['domain']}&host=abc"
    html = client.get(f"{base}&locale=fr-FR&id_token={token}").get_data(as_text=True)
    assert lang_of(html) == "fr" and "Tous les niveaux" in html
    assert "/admin/offers?embedded=1&amp;shop=shop-a.myshopify.com&amp;host=abc&amp;locale=fr" in html
    assert '<input type="hidden" name="locale" value="fr">' in html  # the search form keeps it too
    switched = client.post(
        f"/admin/language?embedded=1&shop={shop_a['domain']}&host=abc&locale=fr&id_token={token}",
        data={"language": "en", "next": f"{base}&locale=fr", "csrf_token": csrf_from(html)},
    )
    assert switched.status_code == 302
    assert switched.headers["Location"] == f"{base}&locale=en"
    html = client.get(f"{base}&locale=en&id_token={token}").get_data(as_text=True)
    assert lang_of(html) == "en" and "All tiers" in html


def test_numbers_and_dates_follow_the_language(client: Any, ctx: Context, signed_in: dict[str, Any]) -> None:
    seed(ctx, signed_in["id"])
    english = client.get("/admin/offers", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    french = client.get("/admin/offers", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Nov 26, 2026" in english and "26 nov. 2026" in french  # the expiry, 24 h after the seed
    assert ">10%<" in english and ">10\xa0%<" in french
    assert "envoyée" in french and ">sent<" in english  # the status badge
