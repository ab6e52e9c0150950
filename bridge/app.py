"""The app factory: the one place the web side is wired together."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence

from flask import Flask, Request, Response, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge import wiring
from bridge.api import ab_tests, activities, alerts, health, offers, prospects, rules, segments, v1
from bridge.api import spend as spend_api
from bridge.events import collect, ingest
from bridge.infra import observability
from bridge.infra.context import Context
from bridge.infra.settings import Settings
from bridge.infra.web import IdConverter, JSONProvider
from bridge.outreach import tracking
from bridge.shops import shopify_install, woo_install

log = logging.getLogger(__name__)
# Every blueprint of the bridge, registered in this order.
BLUEPRINTS = (
    ingest.bp,
    v1.bp,
    offers.bp,
    health.bp,
    rules.bp,
    collect.bp,
    tracking.bp,
    shopify_install.bp,
    woo_install.bp,
    prospects.bp,
    ab_tests.bp,
    spend_api.bp,
    segments.bp,
    activities.bp,
    alerts.bp,
)


def create_app(
    settings: Settings, *, ctx: Context | None = None, extensions: Sequence[str] = ("admin_ui",)
) -> Flask:
    """Build the Flask app for `settings` (or an already built context)."""
    ctx = ctx or wiring.build(settings)
    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=ctx.settings.secret_key,
        MAX_CONTENT_LENGTH=ctx.settings.max_body_bytes,
        TESTING=ctx.settings.testing,
        JSON_SORT_KEYS=False,
    )
    app.extensions["relance"] = ctx
    app.session_interface = CookielessMachines()
    app.url_map.converters["int"] = IdConverter  # before any route: every <int:…> id is bounded
    app.json = JSONProvider(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    observability.register(app)
    for name in extensions:
        _load_extension(app, name)
    _error_handlers(app)
    if ctx.settings.proxy_hops > 0:  # the client's address and scheme as the proxies saw them
        hops = ctx.settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


class CookielessMachines(SecureCookieSessionInterface):
    """Stores and storefronts send no cookies: their requests get the null session without signing work."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(("/webhooks/", "/collect/")):
            return None  # Flask then uses its null session, and saves nothing
        return super().open_session(app, request)


def _load_extension(app: Flask, name: str) -> None:
    """Plug in an optional package (the admin page) that the bridge itself never imports."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return
    init = getattr(module, "init_app", None)
    if init is not None:
        init(app)


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(sa_exc.OperationalError)
    def database_down(exc: Exception) -> tuple[Response, int, dict[str, str]]:
        # The store will retry a 503; nothing was acknowledged, so nothing is lost.
        log.error("database unavailable: %s", type(exc).__name__)
        return jsonify(error="database unavailable, retry later"), 503, {"Retry-After": "5"}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith(("/api/", "/webhooks/", "/collect/")):
            response = jsonify(error=exc.description or exc.name)
            response.status_code = exc.code or 500
            return response
        return exc
