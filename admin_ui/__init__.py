"""The merchant's admin page: one blueprint under /admin, plugged in by `bridge.app.create_app`.

Standalone: `relance users add --email … --password …` creates a user of one shop; they sign in at
/admin/login (Flask-Login, werkzeug password hashes; 5 sign-in attempts per email and address, 20 per
email, 30 per address in 15 minutes, then 429; signing out or a new password ends every session). The
session cookie is HttpOnly, SameSite=Lax and Secure unless PUBLIC_URL is plain http on 127.0.0.1/localhost
(override: ADMIN_COOKIE_SECURE=1|0). Every admin form carries a CSRF token; the JSON API and the webhooks
never use cookies, so CSRF checks cover the admin blueprint only.

Inside the Shopify admin: the app URL is /admin/?shop=…&host=…&embedded=1. Without a valid session
token the page is a small "bounce" page that loads App Bridge (https://cdn.shopify.com/shopifycloud/
app-bridge.js, the only external script, and only on embedded loads), asks it for a session token,
posts it once to /auth/shopify/session (token exchange) and reloads with `id_token=`. Every later link
and form carries a fresh token (static/admin_ui/embedded.js); App Bridge adds it to fetch() as a Bearer
header. A verified token names the shop (bridge.shops.sessions); a change still needs a CSRF token, one
signed for the shop and the Shopify user (admin_ui.access), sent as the form's `csrf_token` or as
`X-CSRFToken`. Embedded pages send `frame-ancestors https://{shop} https://admin.shopify.com`; standalone
pages send `frame-ancestors 'none'` (an unknown /admin address: the shop its `shop=` names, else 'none';
never a wildcard). All pages: `script-src 'self'` and `style-src 'self'` (plus https://cdn.shopify.com,
App Bridge's origin, when embedded), no inline scripts or styles.

In French or English (Flask-Babel, admin_ui.i18n): the header's switch remembers the choice; the browser's
Accept-Language is the default. The catalogue is admin_ui/translations (`make translations`).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask

from admin_ui import access, i18n, support, views
from admin_ui.access import csrf, login_manager
from bridge.infra.context import Context

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def cookie_secure(public_url: str, override: bool | None = None) -> bool:
    """`Secure` session cookies, except for a plain-http local address (override: ADMIN_COOKIE_SECURE)."""
    if override is not None:
        return override
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


def init_app(app: Flask) -> None:
    """Register the admin blueprint, sign-in and CSRF protection on `app`."""
    ctx: Context = app.extensions["relance"]
    secure = cookie_secure(ctx.settings.public_url, ctx.settings.admin_cookie_secure)
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        # Only the admin blueprint asks for a check (admin_ui.access.before_request).
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the (12 h) session
    )
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = access.csrf_token  # embedded pages get a cookie-free token
    login_manager.init_app(app)
    access.setup_login(login_manager)
    support.setup_templates(app)
    i18n.init_app(app)
    app.register_blueprint(views.bp)
