"""The overview: what Relance brought back over a period, with charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template, request

from admin_ui import charts
from admin_ui.access import shop_id
from admin_ui.blueprint import bp
from admin_ui.support import db
from bridge.infra.web import context
from bridge.outreach import results

PERIODS = (7, 30, 90)
TIERS = ("cold", "warm", "hot", "customer")


def explain_recovery(recovery: dict[str, Any]) -> str:
    """The treated-vs-holdout comparison and its 95 % interval, in plain words."""
    diff, low, high = recovery.get("difference"), recovery.get("ci_low"), recovery.get("ci_high")
    if diff is None or low is None or high is None:
        return (
            "Not enough data yet to measure the effect of the offers: this needs abandoned carts both among "
            "those chosen for an offer and in the holdout group (carts deliberately left without one)."
        )
    points = f"{abs(diff) * 100:.1f} percentage points"
    span = f"between {low * 100:+.1f} and {high * 100:+.1f} points"
    direction = "more" if diff >= 0 else "less"
    first = (
        f"Carts chosen for an offer were recovered {points} {direction} often than comparable carts that got "
        "nothing (the holdout group). A chosen cart counts even when its offer never went out (an order came "
        "first, the store refused the code), so the two groups stay alike."
    )
    if low > 0:
        return f"{first} With 95 % confidence the true effect is {span}: the offers do bring carts back."
    if high < 0:
        return f"{first} With 95 % confidence the true effect is {span}: the offers seem to do harm."
    return (
        f"{first} But the 95 % confidence interval ({span}) includes zero, so we cannot yet tell this apart "
        "from chance. It narrows as more carts are abandoned."
    )


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    carts, recovery = figures["carts"], figures["recovery"]
    over_time = figures["tiers_over_time"]
    sources = figures["sources"][:8]
    return {
        "carts": charts.bars(
            "Carts in the period",
            [
                ("Created", carts["created"]),
                ("Abandoned", carts["abandoned"]),
                ("Recovered", carts["recovered"]),
            ],
        ),
        "recovery": charts.bars(
            "Recovery rate: carts chosen for an offer vs the holdout group",
            [
                ("Chosen", round((recovery["treated_rate"] or 0) * 100, 1)),
                ("Holdout", round((recovery["holdout_rate"] or 0) * 100, 1)),
            ],
            unit=" %",
            series=1,
        ),
        "tiers": charts.bars(
            "Leads per tier now", [(t.title(), figures["tiers"][t]) for t in TIERS], series=2
        ),
        "tiers_over_time": charts.lines(
            "Leads per tier over time",
            [row["day"][5:] for row in over_time],
            [(t.title(), [row.get(t, 0) for row in over_time]) for t in TIERS],
        ),
        "sources": charts.bars(
            "Conversion by lead source",
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
