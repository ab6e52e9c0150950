"""The overview: what Relance brought back over a period, with charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template, request
from flask_babel import format_decimal, gettext, lazy_gettext

from admin_ui import charts
from admin_ui.access import shop_id
from admin_ui.blueprint import bp
from admin_ui.support import db
from bridge.infra.web import context
from bridge.outreach import results

PERIODS = (7, 30, 90)
TIERS = ("cold", "warm", "hot", "customer")
TIER_NAMES = {
    "cold": lazy_gettext("Cold"),
    "warm": lazy_gettext("Warm"),
    "hot": lazy_gettext("Hot"),
    "customer": lazy_gettext("Customer"),
}
# The guides' words beside the tiers, short enough for a chart's labels (the same in French).
TIER_ABBREVIATIONS = {"warm": "MQL", "hot": "SQL"}


def tier_name(tier: str) -> str:
    """A tier as the charts name it: "Warm · MQL"."""
    short = TIER_ABBREVIATIONS.get(tier)
    return f"{TIER_NAMES[tier]} · {short}" if short else str(TIER_NAMES[tier])


def explain_recovery(recovery: dict[str, Any]) -> str:
    """The treated-vs-holdout comparison and its 95 % interval, in plain words."""
    diff, low, high = recovery.get("difference"), recovery.get("ci_low"), recovery.get("ci_high")
    if diff is None or low is None or high is None:
        return str(
            gettext(
                "Not enough data yet to measure the effect of the offers: this needs abandoned carts both "
                "among those chosen for an offer and in the holdout group (carts deliberately left without "
                "one)."
            )
        )
    signed = "+#,##0.0;-#,##0.0"
    figures = {
        "points": format_decimal(abs(diff) * 100, "#,##0.0"),
        "low": format_decimal(low * 100, signed),
        "high": format_decimal(high * 100, signed),
    }
    if diff >= 0:
        first = gettext(
            "Carts chosen for an offer were recovered %(points)s percentage points more often than "
            "comparable carts that got nothing (the holdout group).",
            **figures,
        )
    else:
        first = gettext(
            "Carts chosen for an offer were recovered %(points)s percentage points less often than "
            "comparable carts that got nothing (the holdout group).",
            **figures,
        )
    first += " " + gettext(
        "A chosen cart counts even when its offer never went out (an order came first, the store refused the "
        "code), so the two groups stay alike."
    )
    return f"{first} {_verdict(low, high, figures)}"


def _verdict(low: float, high: float, figures: dict[str, str]) -> str:
    """What the 95 % interval says: the offers help, harm, or cannot be told apart from chance yet."""
    if low > 0:
        verdict = gettext(
            "With 95 %% confidence the true effect is between %(low)s and %(high)s points: the offers do "
            "bring carts back.",
            **figures,
        )
    elif high < 0:
        verdict = gettext(
            "With 95 %% confidence the true effect is between %(low)s and %(high)s points: the offers seem "
            "to do harm.",
            **figures,
        )
    else:
        verdict = gettext(
            "But the 95 %% confidence interval (between %(low)s and %(high)s points) includes zero, so we "
            "cannot yet tell this apart from chance. It narrows as more carts are abandoned.",
            **figures,
        )
    return str(verdict)


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    carts, recovery = figures["carts"], figures["recovery"]
    over_time = figures["tiers_over_time"]
    sources = figures["sources"][:8]
    return {
        "carts": charts.bars(
            gettext("Carts in the period"),
            [
                (gettext("Created"), carts["created"]),
                (gettext("Abandoned"), carts["abandoned"]),
                (gettext("Recovered"), carts["recovered"]),
            ],
        ),
        "recovery": charts.bars(
            gettext("Recovery rate: carts chosen for an offer vs the holdout group"),
            [
                (gettext("Chosen"), round((recovery["treated_rate"] or 0) * 100, 1)),
                (gettext("Holdout"), round((recovery["holdout_rate"] or 0) * 100, 1)),
            ],
            unit=" %",
            series=1,
        ),
        "tiers": charts.bars(
            gettext("Leads per tier now"),
            [(tier_name(t), figures["tiers"][t]) for t in TIERS],
            series=2,
        ),
        "tiers_over_time": charts.lines(
            gettext("Leads per tier over time"),
            [row["day"][5:] for row in over_time],
            [(tier_name(t), [row.get(t, 0) for row in over_time]) for t in TIERS],
        ),
        "sources": charts.bars(
            gettext("Conversion by lead source"),
            [(s["source"][:22], round(s["conversion"] * 100, 1)) for s in sources],
            unit=" %",
            series=3,
        ),
    }


@bp.get("/")
def overview() -> str:
    """Cards and charts for the last 7, 30 or 90 days."""
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else 30
    now = context().now()
    figures = results.compute(db(), shop_id(), now - timedelta(days=days), now, by_source_field=False)
    revenue = figures["revenue"]
    return render_template(
        "admin_ui/overview.html",
        days=days,
        periods=PERIODS,
        m=figures,
        currency=revenue["currency"],
        # Never added to the shop's currency: shown beside it, each in its own.
        other_currencies={c: f for c, f in revenue["by_currency"].items() if c != revenue["currency"]},
        explanation=explain_recovery(figures["recovery"]),
        charts=_charts(figures),
        active="overview",
    )
