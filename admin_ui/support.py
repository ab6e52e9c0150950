"""What every admin view shares: the request's database session, shop-scoped look-ups, audit, filters."""

from __future__ import annotations

import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from babel import numbers
from babel.numbers import UnknownCurrencyError
from flask import Flask, abort, g, request
from flask_babel import (
    format_currency,
    format_date,
    format_decimal,
    format_time,
    format_timedelta,
    get_locale,
)
from sqlalchemy.orm import Session

from admin_ui.access import admin_url, embedded_query, embedded_values, principal
from admin_ui.labels import label, tier_label
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
    """A UTC timestamp in the page's language: `Nov 25, 2026 10:00 AM UTC`, `25 nov. 2026 10:00 UTC`."""
    if value is None:
        return missing
    # Flask-Babel reads a naive datetime as UTC (our columns) and shows it in BABEL_DEFAULT_TIMEZONE (UTC).
    return f"{format_date(value, 'medium')} {format_time(value, 'short')} UTC"


def ago(value: datetime | None, missing: str = "—") -> str:
    """How long ago (or until), in words and in the page's language: `5 minutes ago`, `dans 20 heures`."""
    if value is None:
        return missing
    return str(format_timedelta(value - context().now(), threshold=1.5, add_direction=True))


def money(value: Decimal | str | float | None, currency: str | None = None) -> str:
    """An amount in its currency, written as the page's language writes money (`€1,234.50`, `1 234,50 €`)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    if currency:
        with contextlib.suppress(UnknownCurrencyError, ValueError):
            return str(format_currency(amount, currency.upper()))
    return " ".join((str(format_decimal(amount, "#,##0.00")), currency or "")).strip()


def number(value: float | int | Decimal | None) -> str:
    """A number with the page's separators (`1,234.5`, `1 234,5`)."""
    return "—" if value is None else str(format_decimal(value, "#,##0.#"))


def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage in the page's language (`12.5%`, `12,5 %`), or an em dash when unknown."""
    if value is None:
        return "—"
    # The locale's own pattern (its spacing: `12,5 %`), with at most `digits` decimals, none when whole.
    share = round(Decimal(str(value)), digits + 2)
    return numbers.format_percent(share, locale=get_locale() or "en", decimal_quantization=False)


def points(value: float | None) -> str:
    """A difference of two rates in percentage points, signed (`+3.2`, `-1,5`)."""
    return "—" if value is None else str(format_decimal(value * 100, "+#,##0.0;-#,##0.0"))


CURSOR_AND_EMBEDDING = ("after", "before", "embedded", "shop", "host", "locale", "id_token", "done")


def page_url(endpoint: str, **changes: Any) -> str:
    """This list's address with its filters kept and its cursor replaced by `changes`."""
    values = {k: v for k, v in request.args.items() if k not in CURSOR_AND_EMBEDDING and v}
    values.update(changes)
    return admin_url(endpoint, **values)


def setup_templates(app: Flask) -> None:
    """Filters and globals the admin templates use."""
    app.jinja_env.filters.update(
        when=when,
        ago=ago,
        money=money,
        percent=percent,
        number=number,
        points=points,
        label=label,
        tier=tier_label,
    )
    app.jinja_env.globals.update(
        admin_url=admin_url, embedded_query=embedded_query, embedded_values=embedded_values, page_url=page_url
    )
    app.teardown_appcontext(close_session)
