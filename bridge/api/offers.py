"""JSON API for offers and results."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load

from bridge.api.v1 import status_page
from bridge.db.models import Offer
from bridge.infra.web import context
from bridge.outreach import advice, earnings, economics, results
from bridge.shops.bearer import authenticated
from campaigns.formatting import zone_or_utc
from campaigns.metrics import period_end, period_start

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1")
DEFAULT_DAYS = 30
# In a query string an unencoded "+" means a space: "…T10:00:00+02:00" arrives as "…T10:00:00 02:00".
UNENCODED_OFFSET = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$"
)


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the API shows it."""
    return {
        "id": offer.id,
        "lead_id": offer.lead_id,
        "cart_id": offer.cart_id,
        "reason": offer.reason,
        "code": offer.code,
        "kind": offer.kind,
        "value": str(offer.value),
        "status": offer.status,
        "holdout": offer.holdout,
        "decision": offer.decision,
        "error": offer.error,
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "sent_at": offer.sent_at.isoformat() if offer.sent_at else None,
        "redeemed_at": offer.redeemed_at.isoformat() if offer.redeemed_at else None,
        "order_total": str(offer.order_total) if offer.order_total is not None else None,
    }


@bp.get("/offers")
@authenticated
def offers() -> Response:
    """Offers of the shop, newest first; filter by `status`."""
    return status_page(Offer, Offer.id.desc(), offer_json, "offers")


class _Bound(fields.Field[datetime]):
    """An ISO 8601 date or datetime, turned into a UTC bound by `convert` in the schema's time zone."""

    default_error_messages = {
        "invalid": "Not a date (2026-11-30) or a date and time (2026-11-30T09:00:00+01:00).",
        "range": "Out of range: the period must lie between the years 1 and 9999.",
    }

    def __init__(self, convert: Callable[[date, tzinfo], datetime], **kwargs: Any) -> None:
        super().__init__(load_default=None, **kwargs)
        self.convert = convert

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = UNENCODED_OFFSET.sub(r"\1+\2", value.strip())
        try:
            parsed: date = date.fromisoformat(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise self.make_error("invalid") from None
        try:
            return self.convert(parsed, self.parent.zone)  # type: ignore[union-attr]
        except OverflowError:
            raise self.make_error("range") from None


class PeriodSchema(Schema):
    """`from` and `to` of the metrics, each checked on its own: ISO dates or datetimes; a date is a whole
    day (`to` included) and a value without an offset is read in the shop's time zone. Loads [start, end)
    in UTC; `to` defaults to now, `from` to 30 days before `to`."""

    class Meta:
        unknown = EXCLUDE

    start = _Bound(period_start, data_key="from")
    end = _Bound(period_end, data_key="to")

    def __init__(self, zone: tzinfo, now: datetime) -> None:
        super().__init__()
        self.zone, self.now = zone, now

    @pre_load
    def _drop_blanks(self, data: Any, **_kwargs: Any) -> Any:
        return {key: value for key, value in data.items() if value}  # `from=` is no `from`

    @post_load
    def _period(self, data: dict[str, datetime | None], **_kwargs: Any) -> tuple[datetime, datetime]:
        end = data["end"] or self.now
        start = data["start"]
        if start is None:
            try:
                start = end - timedelta(days=DEFAULT_DAYS)
            except OverflowError:
                message = f"Too early: {DEFAULT_DAYS} days before it (the default `from`) is before year 1."
                raise ValidationError(message, field_name="to") from None
        if start >= end:
            message = f"Must be earlier than `to` (the period ends at {end.isoformat()})."
            raise ValidationError(message, field_name="from")
        return start, end


@bp.get("/metrics")
@authenticated
def shop_metrics() -> Response | tuple[Response, int]:
    """Carts, offers, recovery vs holdout with a 95 % interval, revenue, sources, tiers for a period
    (`from`, `to`: see PeriodSchema); 422 with `{"errors": {"from": [...], "to": [...]}}`."""
    try:
        start, end = PeriodSchema(zone_or_utc(g.shop.timezone), context().now()).load(request.args)
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    figures = results.compute(g.session, g.shop.id, start, end)
    ctx = context()
    figures.update(
        earnings.cached(ctx.redis, g.shop.id, start, end)
        or earnings.measured(g.session, g.shop.id, start, end)
    )
    figures["discount_advice"] = [asdict(found) for found in advice.advice(g.session, g.shop.id, figures)]
    figures["economics"] = economics.compute(
        g.session, g.shop.id, start, end, figures["incremental_net_revenue"]
    )
    return jsonify(figures)
