"""Sign in and sign out (standalone access; inside Shopify the session token is the credential)."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user

from admin_ui.access import AdminIdentity, safe_next
from admin_ui.blueprint import bp
from bridge.db import transaction
from bridge.infra.web import context
from bridge.shops import users

TOO_MANY = lazy_gettext(
    "Too many failed sign-ins for this email from your network. "
    "For your safety, sign-in is paused for 15 minutes; try again later."
)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; 401 on a wrong email or password, 429 after repeated failures."""
    if request.method == "GET":
        return render_template("admin_ui/login.html", email="", next=request.args.get("next", ""))
    ctx = context()
    email = request.form.get("email", "").strip()[:320]
    password = request.form.get("password", "")[:1024]
    address = request.remote_addr or "unknown"  # the client's, behind PROXY_HOPS proxies (bridge.app)
    target = request.form.get("next", "")
    if not users.reserve_attempt(ctx.redis, email, address):
        return render_template("admin_ui/login.html", email=email, next=target, error=str(TOO_MANY)), 429
    with transaction(ctx.sessions) as db:
        user = users.authenticate(db, email, password, ctx.now())
        identity = None if user is None else AdminIdentity.of(user)
    if identity is None:
        error = gettext("Wrong email or password.")
        return render_template("admin_ui/login.html", email=email, next=target, error=error), 401
    users.release_attempt(ctx.redis, email, address)
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    login_user(identity)
    return redirect(safe_next(target))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: end every cookie of this user (a copy of this one too) and forget the session."""
    if current_user.is_authenticated:
        with transaction(context().sessions) as db:
            users.end_sessions(db, current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))
