"""The admin page in French or English (Flask-Babel): the language of a request, and the switch that keeps it.

Which language: `?locale=` (Shopify adds the merchant's admin language to an embedded page's address; the
switch does the same inside Shopify, where the iframe cannot count on cookies), then the merchant's choice in
the `relance_lang` cookie (a year; it outlives signing out, which clears the session), then the browser's
Accept-Language: French when it ranks any French above any English, English otherwise.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask, current_app, g, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale

from admin_ui.access import Principal, safe_next
from admin_ui.blueprint import bp

LANGUAGES = ("fr", "en")
DEFAULT = "en"
COOKIE = "relance_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
NAMES = {"fr": "Français", "en": "English"}  # each in its own language, as language switches show them
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def supported(value: str | None) -> str | None:
    """ "fr" for any French tag ("fr", "fr-CA", "FR_be"), "en" for any English one, else None."""
    language = (value or "").strip().replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


def from_browser() -> str:
    """French when the browser ranks a French variant above every English one; English otherwise."""
    for tag, _quality in request.accept_languages:  # best first
        if found := supported(tag):
            return found
    return DEFAULT


def select_locale() -> str | None:
    """Flask-Babel's locale selector: the admin's language on admin pages; the default (English) elsewhere."""
    if request.blueprint != bp.name:
        return None
    found = g.get("admin_language")
    if found is None:
        found = g.admin_language = (
            supported(request.args.get("locale")) or supported(request.cookies.get(COOKIE)) or from_browser()
        )
    return str(found)


def language() -> str:
    """The language this page is written in ("fr" or "en"), for `<html lang>` and the switch."""
    return str(get_locale() or DEFAULT)


def init_app(app: Flask) -> None:
    """Flask-Babel with the admin's catalogue (admin_ui/translations) and its language selector."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks may wrap (babel.cfg: trimmed)
    app.jinja_env.globals.update(admin_language=language, admin_languages=NAMES, this_page=this_page)


def _without(target: str, *dropped: str) -> str:
    """`target` (a path and query) without the `dropped` parameters."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in dropped]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def this_page() -> str:
    """The switch's way back: this page's path and query, never its session token (`id_token`)."""
    return _without(request.full_path, "id_token")


def _back_to(target: str | None, chosen: str, embedded: bool) -> str:
    """The page the switch was used on (our own admin paths only); inside Shopify with `locale=` set to the
    choice, which every later link keeps."""
    back = _without(safe_next(target), "id_token", "locale")
    if not embedded:
        return back
    return f"{back}{'&' if '?' in back else '?'}{urlencode({'locale': chosen})}"


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Remember the merchant's language (a year-long cookie) and go back to the page they were on."""
    chosen = supported(request.form.get("language"))
    if chosen is None:
        return redirect(safe_next(request.form.get("next")))
    found: Principal | None = g.get("principal")
    embedded = found is not None and found.embedded
    response = redirect(_back_to(request.form.get("next"), chosen, embedded))
    response.set_cookie(
        COOKIE,
        chosen,
        max_age=COOKIE_MAX_AGE,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),  # as the session's (admin_ui.init_app)
        httponly=True,
        samesite="Lax",
    )
    return response
