"""What every admin view shares: the request's database session, shop-scoped look-ups, audit, filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from sqlalchemy.orm import Session

from admin_ui.access import admin_url, embedded_query, principal
from bridge.db.models import AuditLog, Event, Lead, Offer, PrivacyExport
from bridge.infra.web import context

Owned = TypeVar("Owned", Event, Lead, Offer, PrivacyExport)  # rows a merchant names in a URL


def db() -> Session:
    """The database session of this request (closed when the request ends)."""
    session: Session | None = g.get("admin_session")
    if session is None:
        session = g.admin_session = context().sessions()
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Teardown: close the request's session, if one was opened."""
    session: Session | None = g.pop("admin_session", None)
    if session is not None:
        session.close()


def owned(model: type[Owned], row_id: int) -> Owned:
    """The row of `model` with this id when it belongs to the request's shop; 404 otherwise."""
    row = db().get(model, row_id)
    if row is None or row.shop_id != principal().shop_id:
        abort(404)
    return row


def audit(action: str, **detail: Any) -> None:
    """Add an audit-log row for the current actor (committed with the change it describes)."""
    who = principal()
    db().add(
        AuditLog(shop_id=who.shop_id, actor=who.actor[:320], action=action, detail=detail, at=context().now())
    )


def when(value: datetime | None, missing: str = "—") -> str:
    """A UTC timestamp as `2026-11-25 10:00 UTC`."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else missing


def ago(value: datetime | None, missing: str = "—") -> str:
    """How long ago (or until), in words: `5 min ago`, `in 20 h`, `2 days ago`."""
    if value is None:
        return missing
    seconds = (context().now() - value).total_seconds()
    text = _span(abs(seconds))
    return f"in {text}" if seconds < 0 else f"{text} ago"


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def money(value: Decimal | str | float | None, currency: str | None = None) -> str:
    """An amount with two decimals and its currency."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return f"{amount:,} {currency or ''}".replace(",", " ").strip()


def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage (`12.5 %`), or an em dash when unknown."""
    return "—" if value is None else f"{value * 100:.{digits}f} %"


CURSOR_AND_EMBEDDING = ("after", "before", "embedded", "shop", "host", "id_token", "done")


def page_url(endpoint: str, **changes: Any) -> str:
    """This list's address with its filters kept and its cursor replaced by `changes`."""
    values = {k: v for k, v in request.args.items() if k not in CURSOR_AND_EMBEDDING and v}
    values.update(changes)
    return admin_url(endpoint, **values)


def setup_templates(app: Flask) -> None:
    """Filters and globals the admin templates use."""
    app.jinja_env.filters.update(when=when, ago=ago, money=money, percent=percent)
    app.jinja_env.globals.update(admin_url=admin_url, embedded_query=embedded_query, page_url=page_url)
    app.teardown_appcontext(close_session)
