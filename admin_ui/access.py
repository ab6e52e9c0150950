"""Who is asking: a signed-in user (Flask-Login) or, inside the Shopify admin, an App Bridge session token.

Every view reads the shop from `principal()`; nothing else decides which shop's rows a page shows.
Every state-changing request needs a CSRF token: Flask-WTF's (kept in the session cookie) standalone; inside
the Shopify admin, where the iframe cannot count on cookies, a signed token naming the shop and the Shopify
user of the session token (an `id_token` in a URL can leak through logs and referrers; the CSRF token only
lives in the page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer

from bridge.db.models import AdminUser
from bridge.infra.web import context
from bridge.shops import sessions
from connectors.shopify import oauth

csrf = CSRFProtect()
login_manager = LoginManager()


@dataclass(frozen=True)
class Principal:
    """The shop a request acts for and who acts (for the audit log)."""

    shop_id: int
    actor: str
    embedded: bool = False
    shop_domain: str = ""
    host: str = ""


class AdminIdentity(UserMixin):  # type: ignore[misc]  # flask_login ships no types
    """The Flask-Login user: an AdminUser row reduced to what a request needs."""

    def __init__(self, user_id: int, email: str, shop_id: int | None, session_version: int = 0) -> None:
        self.id, self.email, self.shop_id = user_id, email, shop_id
        self.session_version = session_version

    @classmethod
    def of(cls, user: AdminUser) -> AdminIdentity:
        """The identity of a user row."""
        return cls(user.id, user.email, user.shop_id, user.session_version)

    def get_id(self) -> str:
        """What the session cookie keeps: the user's id and session version ("7.3")."""
        return f"{self.id}.{self.session_version}"


def setup_login(manager: LoginManager) -> None:
    """Load users by the cookie's id and session version; send anonymous visitors to the sign-in page."""

    def load(cookie_id: str) -> AdminIdentity | None:
        user_id, _, version = cookie_id.partition(".")
        if not (user_id.isdigit() and version.isdigit()):
            return None  # also a cookie from before session versions: sign in again
        with context().sessions() as session:
            user = session.get(AdminUser, int(user_id))
            if user is None or user.session_version != int(version):
                return None  # signed out, or the password changed, since this cookie was issued
            return AdminIdentity.of(user)

    def unauthorized() -> ResponseReturnValue:
        return redirect(url_for("admin.login", next=_safe_next(request.full_path)))

    manager.user_loader(load)  # registered by call: Flask-Login's decorators are untyped
    manager.unauthorized_handler(unauthorized)


def _safe_next(path: str | None) -> str | None:
    """Only our own admin paths are followed after sign-in (no open redirect)."""
    if path and path.startswith("/admin/") and not path.startswith("//"):
        return path.rstrip("?")
    return None


def safe_next(path: str | None) -> str:
    """Where to go after signing in."""
    return _safe_next(path) or url_for("admin.overview")


def presented_token() -> str | None:
    """An App Bridge session token from the Authorization header or the `id_token` parameter."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header
    return request.args.get("id_token") or None


def before_request(public: bool) -> ResponseReturnValue | None:
    """Set `g.principal`; answer 401, the sign-in redirect or App Bridge's bounce page otherwise."""
    token = presented_token()
    if token is not None or request.args.get("embedded") == "1":
        return _embedded(token)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if public:
        return None
    if not current_user.is_authenticated:
        return _unauthorized()
    if current_user.shop_id is None:
        abort(403, gettext("This user belongs to no shop."))
    g.principal = Principal(shop_id=current_user.shop_id, actor=current_user.email)
    return None


def _embedded(token: str | None) -> ResponseReturnValue | None:
    ctx = context()
    claims = sessions.session_claims(ctx, token) if token else None
    shop_id = sessions.shop_from_session_token(ctx, token) if claims else None
    if claims is None or shop_id is None:
        if token is None or (request.method == "GET" and not request.headers.get("Authorization")):
            return bounce_page()  # App Bridge fetches a fresh token and loads the page again
        response = Response('{"error": "invalid or expired Shopify session token"}', 401)
        response.headers[sessions.RETRY_HEADER] = "1"
        response.mimetype = "application/json"
        return response
    domain = sessions.shop_domain(claims)
    g.embedded_domain = domain
    g.principal = Principal(
        shop_id=shop_id,
        actor=f"shopify-user:{claims.get('sub') or 'unknown'}@{domain}",
        embedded=True,
        shop_domain=domain,
        host=request.args.get("host", ""),
    )
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _check_embedded_csrf(g.principal)
    return None


EMBEDDED_CSRF_MAX_AGE = 12 * 3600  # as long as a standalone session


def _embedded_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="relance-embedded-csrf")


def csrf_token() -> str:
    """The CSRF token for this page's forms: signed for the shop and Shopify user when embedded."""
    found: Principal | None = g.get("principal")
    if found is not None and found.embedded:
        return str(_embedded_signer().dumps([found.shop_id, found.actor]))
    return str(generate_csrf())


def _check_embedded_csrf(found: Principal) -> None:
    """Refuse (400, as Flask-WTF does) an embedded change without the token of this shop and user."""
    given = request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or ""
    try:
        signed = _embedded_signer().loads(given, max_age=EMBEDDED_CSRF_MAX_AGE)
    except BadData:
        raise CSRFError("The CSRF token is missing or invalid.") from None
    if signed != [found.shop_id, found.actor]:
        raise CSRFError("The CSRF token belongs to another shop or user.")


def bounce_page() -> ResponseReturnValue:
    """A page that only loads App Bridge, which hands our script a session token to reload with."""
    ctx = context()
    shop = request.args.get("shop", "")
    domain = oauth.valid_shop_domain(shop)
    if domain is None:
        abort(400, gettext("shop must be a shop domain such as example.myshopify.com"))
    g.embedded_domain = domain
    html = render_template("admin_ui/bounce.html", api_key=ctx.settings.shopify_api_key)
    return Response(html, 200)


def _unauthorized() -> ResponseReturnValue:
    if request.method == "GET":
        return redirect(url_for("admin.login", next=_safe_next(request.full_path)))
    abort(401)


def principal() -> Principal:
    """The principal of the current admin request."""
    found: Principal | None = g.get("principal")
    if found is None:
        abort(401)
    return found


def shop_id() -> int:
    """The id of the shop the current request acts for."""
    return principal().shop_id


def embedded_values() -> dict[str, str]:
    """The parameters every embedded address keeps (shop, host, the page's language); none standalone.

    The language travels in the address because the Shopify admin's iframe cannot count on cookies."""
    found: Principal | None = g.get("principal")
    if found is None or not found.embedded:
        return {}
    values = {"embedded": "1", "shop": found.shop_domain, **({"host": found.host} if found.host else {})}
    return {**values, "locale": str(get_locale() or "en")}


def admin_url(endpoint: str, **values: Any) -> str:
    """`url_for` that keeps the embedded parameters (shop, host, language) inside the Shopify admin."""
    for key, value in embedded_values().items():
        values.setdefault(key, value)
    return url_for(endpoint, **values)


def embedded_query() -> str:
    """The embedded parameters as a query string ('' standalone), for links built by hand."""
    return urlencode(embedded_values())
