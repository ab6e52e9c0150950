"""The admin blueprint: who is asking (before each request) and the security headers (after it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from admin_ui import access
from admin_ui.support import db
from bridge.db.models import Shop
from bridge.infra.observability import frame_ancestors_header
from bridge.infra.web import context
from bridge.leads import prospects

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
PUBLIC_ENDPOINTS = {"admin.login", "admin.static", "admin.set_language"}
NAV = (
    ("admin.overview", "overview", lazy_gettext("Overview")),
    ("admin.money_page", "money", lazy_gettext("Revenue & costs")),
    ("admin.rules", "rules", lazy_gettext("Rules")),
    ("admin.journeys", "journeys", lazy_gettext("Journeys")),
    ("admin.segments_list", "segments", lazy_gettext("Segments")),
    ("admin.leads", "leads", lazy_gettext("Leads")),
    ("admin.prospects_page", "prospects", lazy_gettext("Prospects")),
    ("admin.alerts_page", "alerts", lazy_gettext("Alerts")),
    ("admin.carts", "carts", lazy_gettext("Carts")),
    ("admin.offers", "offers", lazy_gettext("Offers")),
    ("admin.events", "events", lazy_gettext("Events")),
    ("admin.data_requests", "data_requests", lazy_gettext("Data requests")),
    ("admin.health", "health", lazy_gettext("Health")),
)
ERROR_TITLES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Not found"),
    429: lazy_gettext("Too many requests"),
}
SHOPIFY_CDN = "https://cdn.shopify.com"  # App Bridge: https://cdn.shopify.com/shopifycloud/app-bridge.js


@bp.before_request
def identify() -> ResponseReturnValue | None:
    """Resolve the shop of the request (session token or signed-in user) and check CSRF on forms."""
    return access.before_request(public=request.endpoint in PUBLIC_ENDPOINTS)


@bp.errorhandler(HTTPException)
def error_page(exc: HTTPException) -> tuple[str, int]:
    """Admin errors as a page of the admin (CSRF failures explained in plain words)."""
    code = exc.code or 500
    message = exc.description or ""
    if isinstance(exc, CSRFError):
        message = gettext("This form expired or did not come from this page. Reload the page and try again.")
    elif code in ERROR_TITLES and message == type(exc).description:
        message = ""  # Werkzeug's stock English sentence; the title says it in the page's language
    title = str(ERROR_TITLES.get(code, exc.name))
    return render_template("admin_ui/error.html", code=code, title=title, message=message), code


@bp.context_processor
def page_context() -> dict[str, Any]:
    """The navigation, the shop's name and who is signed in, for the layout."""
    principal = g.get("principal")
    shop = db().get(Shop, principal.shop_id) if principal is not None else None
    disconnected = shop is not None and shop.disconnected_at is not None and shop.uninstalled_at is None
    return {
        "principal": principal,
        "disconnected": disconnected,
        "nav": NAV,
        "shop_label": (shop.name or shop.domain) if shop is not None else "",
        "shopify_api_key": context().settings.shopify_api_key,
        "prospects_overdue": prospects.overdue_count(db(), shop.id, context().now()) if shop else 0,
    }


@bp.after_request
def security_headers(response: Response) -> ResponseReturnValue:
    """CSP (framing only by the shop's Shopify admin when embedded), no caching of merchant data."""
    principal = g.get("principal")
    embedded_domain = g.get("embedded_domain")
    shopify = "'self'"
    if embedded_domain:
        shopify = f"'self' {SHOPIFY_CDN}"  # App Bridge's script and the styles it loads
        frame = frame_ancestors_header(embedded_domain).rstrip(";")
        connect = "'self' https://*.shopify.com"
    else:
        frame, connect = "frame-ancestors 'none'", "'self'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {shopify}; style-src {shopify}; img-src 'self' data:; "
        f"connect-src {connect}; form-action 'self'; base-uri 'none'; object-src 'none'; {frame}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not embedded_domain:
        response.headers["X-Frame-Options"] = "DENY"
    if principal is not None or request.endpoint == "admin.login":
        response.headers["Cache-Control"] = "no-store"
    return response
