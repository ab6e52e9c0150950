"""Revenue & costs: the return on the discounts, cost per lead and per customer by source, conversion by
tier and by source, new leads over time, the lifetime value of recovered customers, and the spend table
(bridge.outreach.economics says what each figure counts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date, gettext, lazy_gettext
from marshmallow import ValidationError

from admin_ui import charts
from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.support import audit, db, number
from bridge.db.models import Shop
from bridge.infra.web import context
from bridge.outreach import earnings, economics_cache, spend

PERIODS = (7, 30, 90)
TIER_NAMES = {"cold": lazy_gettext("Cold"), "warm": lazy_gettext("Warm"), "hot": lazy_gettext("Hot")}
GROUP_NAMES = {"recovered": lazy_gettext("Recovered customers"), "others": lazy_gettext("Other customers")}
SPEND_FIELDS = ("source", "month", "amount")


def explain_roi(block: dict[str, Any], earned: dict[str, Any] | None) -> str:
    """The return on the discounts in plain words."""
    roi = block["roi"]
    if block["margin_rate"] is None:
        return str(
            gettext(
                "Set your gross margin rate on the rules page to see what the discounts return: without it "
                "we would have to guess."
            )
        )
    if earned is None:
        return str(gettext("Being computed: reload the page in a moment."))
    if roi["value"] is None:
        return str(
            gettext(
                "No return to measure yet: it needs journey runs with a holdout group and at least one "
                "redeemed code in the period."
            )
        )
    figures = {"value": number(roi["value"]), "low": number(roi["low"]), "high": number(roi["high"])}
    if roi["low"] is None or roi["high"] is None:
        return str(
            gettext(
                "Best estimate: each unit of discount came back with %(value)s of margin on top, but not "
                "enough data yet to say how sure that is.",
                **figures,
            )
        )
    if roi["low"] > 0:
        words = gettext(
            "With 95 %% confidence, each unit of discount came back with between %(low)s and %(high)s of "
            "margin on top (best estimate %(value)s): the discounts pay.",
            **figures,
        )
    elif roi["high"] < 0:
        words = gettext(
            "With 95 %% confidence, the discounts lose money: between %(low)s and %(high)s per unit of "
            "discount (best estimate %(value)s).",
            **figures,
        )
    else:
        words = gettext(
            "Best estimate %(value)s per unit of discount, but the 95 %% interval (%(low)s to %(high)s) "
            "includes zero: we cannot yet tell whether the discounts pay.",
            **figures,
        )
    return str(words)


def _earned(start: Any, end: Any) -> dict[str, Any] | None:
    """The period's cached incremental net revenue; None (and the job queued) while it is computed."""
    ctx = context()
    found = earnings.cached(ctx.redis, shop_id(), start, end)
    if found is None:
        earnings.request_refresh(ctx, shop_id(), start, end)
    return found


def _charts(found: dict[str, Any]) -> dict[str, Any]:
    new = found["new_leads"]["series"]
    sources = [s for s in found["sources"] if s["leads"]][:8]
    lifetime = found["lifetime_value"]

    def day(text: str) -> str:
        return str(format_date(date.fromisoformat(text), "d MMM"))

    def revenue(group: str) -> list[float]:
        return [float(v["revenue_per_customer"] or 0) for v in lifetime[group]]

    return {
        "new_leads": charts.lines(
            gettext("New leads per day")
            if found["new_leads"]["per"] == "day"
            else gettext("New leads per week"),
            [day(row["start"]) for row in new],
            [(gettext("New leads"), [row["leads"] for row in new])],
            empty=gettext("Not enough days in this period for a chart."),
        ),
        "sources": charts.bars(
            gettext("Lead to customer conversion by source"),
            [(s["source"][:22], round((s["conversion"]["rate"] or 0) * 100, 1)) for s in sources],
            unit=" %",
            series=3,
        ),
        "tiers": charts.bars(
            gettext("Lead to customer conversion by tier reached"),
            [(str(TIER_NAMES[t]), round((v["rate"] or 0) * 100, 1)) for t, v in found["tiers"].items()],
            unit=" %",
            series=2,
        ),
        "lifetime": charts.grouped_bars(
            gettext("Revenue per customer after their first order"),
            [gettext("%(days)s days", days=v["horizon_days"]) for v in lifetime["recovered"]],
            [(str(GROUP_NAMES[g]), revenue(g)) for g in ("recovered", "others")],
        ),
    }


def _page(status: int = 200, errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else 30
    now = context().now().replace(second=0, microsecond=0)  # one cache entry per minute, as the overview
    start = now - timedelta(days=days)
    earned = _earned(start, now)
    found, computed_at = economics_cache.figures(context(), db(), shop_id(), days, earned)
    rows = spend.listed(db(), shop_id())
    shop = db().get(Shop, shop_id())
    html = render_template(
        "admin_ui/money.html",
        days=days,
        periods=PERIODS,
        e=found,
        computed_at=computed_at,
        currency=found["currency"],
        roi_words=explain_roi(found["return_on_discounts"], earned),
        charts=_charts(found),
        tier_names=TIER_NAMES,
        group_names=GROUP_NAMES,
        spend_rows=[spend.as_json(row) for row in rows],
        shop_currency=shop.currency if shop is not None else None,
        errors=errors or {},
        form=request.form if errors else {},
        notice=gettext("Spend saved.") if request.args.get("done") == "saved" else None,
        active="money",
    )
    return html, status


@bp.get("/money")
def money_page() -> tuple[str, int]:
    """The figures of the last 7, 30 or 90 days and the spend table."""
    return _page()


@bp.post("/money/spend")
def money_spend() -> ResponseReturnValue:
    """Save one source's spend for a month (a blank amount, or the remove button, removes it)."""
    removing = request.form.get("action") == "remove"
    amount = "" if removing else request.form.get("amount", "").strip()
    row = {
        "source": request.form.get("source", ""),
        "month": request.form.get("month", ""),
        "amount": amount or None,
    }
    try:
        rows = spend.load_rows({"spend": [row]})
    except ValidationError as exc:
        messages: Any = exc.messages
        found = (messages.get("spend") or {}).get(0, {}) if isinstance(messages, dict) else {}
        errors = {f"spend.{name}": list(texts) for name, texts in found.items() if name in SPEND_FIELDS}
        return _page(422, errors or {"spend.source": [gettext("Check the fields.")]})
    shop = db().get(Shop, shop_id())
    spend.save(db(), shop_id(), rows, shop.currency if shop is not None else None, context().now())
    saved = rows[0]
    audit(
        "spend.removed" if saved["amount"] is None else "spend.saved",
        source=saved["source"],
        month=saved["month"].isoformat(),
        amount=None if saved["amount"] is None else str(saved["amount"]),
    )
    db().commit()
    return redirect(admin_url("admin.money_page", days=request.args.get("days", 30), done="saved"))
