"""The spend table: what a shop spends per traffic source and month, entered in the admin or through the API
(`PUT /api/v1/spend`). One schema checks both, field by field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy.orm import Session

from bridge.db.models import SourceSpend
from campaigns.economics import month_start

MAX_ROWS = 500  # per request
MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


class _Month(fields.Field[date]):
    """A calendar month, `2026-11` (a full date is accepted and stands for its month)."""

    default_error_messages = {"invalid": "Use a month such as 2026-11."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        match = MONTH.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
        except ValueError:
            raise self.make_error("invalid") from None
        if day.year < 2000:
            raise self.make_error("invalid")
        return month_start(day)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%Y-%m")


class _Amount(fields.Field[Decimal | None]):
    """A non-negative amount with at most two decimals, from a JSON number or string; null removes the row."""

    default_error_messages = {
        "invalid": "Not an amount: use a number such as 120.50.",
        "range": "Must be between 0 and 999999999999.99, with at most two decimals.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.make_error("invalid")
        try:
            amount = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if amount < 0 or amount >= Decimal("1e12") or amount != amount.quantize(Decimal("0.01")):
            raise self.make_error("range")
        return amount.quantize(Decimal("0.01"))


class SpendRowSchema(Schema):
    """One row: {"source": "google", "month": "2026-11", "amount": "120.50", "currency": "EUR"}."""

    source = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=100, error="Use 1 to 100 characters."),
            validate.Regexp(r"^[^\x00-\x1f\x7f]*\Z", error="Use printable characters only."),
        ],
    )
    month = _Month(required=True)
    amount = _Amount(required=True, allow_none=True)
    currency = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{3}\Z", error="Use a three-letter currency code such as EUR."),
    )

    @post_load
    def _tidy(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["source"] = data["source"].strip().lower()
        if data.get("currency"):
            data["currency"] = data["currency"].upper()
        return data

    @validates_schema
    def _not_blank(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "source" in data and not data["source"].strip():
            raise ValidationError("Use 1 to 100 characters.", "source")


class SpendSchema(Schema):
    """`{"spend": [row, ...]}`: each (source, month) at most once."""

    spend = fields.List(
        fields.Nested(SpendRowSchema),
        required=True,
        validate=validate.Length(max=MAX_ROWS, error=f"At most {MAX_ROWS} rows at a time."),
    )

    @validates_schema
    def _once_each(self, data: dict[str, Any], **_kwargs: Any) -> None:
        seen: dict[tuple[str, date], int] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for index, row in enumerate(data.get("spend") or []):
            key = (row["source"], row["month"])
            if key in seen:
                errors[index] = {"month": [f"This source and month are already in row {seen[key]}."]}
            seen.setdefault(key, index)
        if errors:
            raise ValidationError({"spend": errors})


def load_rows(body: Any) -> list[dict[str, Any]]:
    """The rows of a request body; raises marshmallow.ValidationError with per-field messages."""
    if not isinstance(body, Mapping):
        raise ValidationError({"_schema": ['Send a JSON object such as {"spend": [...]}.']})
    rows: list[dict[str, Any]] = SpendSchema().load(body)["spend"]
    return rows


def save(
    session: Session, shop_id: int, rows: Sequence[Mapping[str, Any]], currency: str | None, now: datetime
) -> None:
    """Write each (source, month)'s amount (the shop's currency unless a row names one); a null amount
    removes the row. Other rows stay as they were."""
    for row in rows:
        existing = session.scalar(
            sa.select(SourceSpend).where(
                SourceSpend.shop_id == shop_id,
                SourceSpend.source == row["source"],
                SourceSpend.month == row["month"],
            )
        )
        if row["amount"] is None:
            if existing is not None:
                session.delete(existing)
            continue
        if existing is None:
            existing = SourceSpend(shop_id=shop_id, source=row["source"], month=row["month"])
            session.add(existing)
        existing.amount = row["amount"]
        existing.currency = row.get("currency") or currency
        existing.updated_at = now
    session.flush()


def listed(session: Session, shop_id: int) -> list[SourceSpend]:
    """The shop's spend rows, newest month first, then by source."""
    return list(
        session.scalars(
            sa.select(SourceSpend)
            .where(SourceSpend.shop_id == shop_id)
            .order_by(SourceSpend.month.desc(), SourceSpend.source)
        )
    )


def as_json(row: SourceSpend) -> dict[str, Any]:
    """A spend row as the API shows it."""
    return {
        "source": row.source,
        "month": row.month.strftime("%Y-%m"),
        "amount": str(row.amount.quantize(Decimal("0.01"))),
        "currency": row.currency,
        "updated_at": row.updated_at.isoformat(),
    }
