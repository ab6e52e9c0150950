"""The overview: what Relance brought back over a period, with charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, gettext, lazy_gettext

from admin_ui import charts
from admin_ui.access import admin_url, principal, shop_id
from admin_ui.blueprint import bp
from admin_ui.labels import label
from admin_ui.rules_form import KIND_NAMES
from admin_ui.support import db, money, percent
from bridge.infra.web import context
from bridge.leads import rescore
from bridge.leads import rules as rulesets
from bridge.outreach import advice, earnings, results
from campaigns.revenue import MIN_ORDERS, MIN_RUNS

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


def explain_earnings(found: dict[str, Any] | None) -> str:
    """What Relance earned in the period, net of discounts, and how sure we are, in plain words."""
    if found is None:
        return str(gettext("Being computed: reload the page in a moment."))
    currency = found.get("currency")
    value, low, high = found.get("value"), found.get("low"), found.get("high")
    if value is None:
        return str(
            gettext(
                "Nothing to measure yet: no journey run of this period has a holdout group (runs "
                "deliberately left without messages) to compare with."
            )
        )
    figures = {"value": money(value, currency), "low": money(low, currency), "high": money(high, currency)}
    if low is None or high is None:
        return str(
            gettext(
                "Best estimate so far: %(value)s more net revenue than without Relance, but not enough data "
                "yet to say how sure that is. An interval needs %(runs)s runs and %(orders)s orders in each "
                "group (the holdout group so far: runs %(holdout_runs)s, orders %(holdout_orders)s).",
                value=figures["value"],
                runs=MIN_RUNS,
                orders=MIN_ORDERS,
                holdout_runs=found.get("holdout_runs", 0),
                holdout_orders=found.get("holdout_orders", 0),
            )
        )
    if float(low) > 0:
        text = gettext(
            "With 95 %% confidence, Relance earned you between %(low)s and %(high)s net in this period (best "
            "estimate %(value)s), discounts already deducted.",
            **figures,
        )
    elif float(high) < 0:
        text = gettext(
            "With 95 %% confidence, the journeys cost you between %(high)s and %(low)s in this period (best "
            "estimate %(value)s): their discounts take more than they bring. Review the offers.",
            **figures,
        )
    else:
        text = gettext(
            "Best estimate %(value)s net, but the 95 %% interval (%(low)s to %(high)s) includes zero: we "
            "cannot yet tell it apart from chance. It narrows as more runs end.",
            **figures,
        )
    return str(text)


def calibration_view(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """The calibration chart, its table rows and the rule suggestions, in the page's language."""
    if found is None:
        return None
    bands = found["bands"]
    chart = charts.bars(
        gettext("Share of leads who bought within %(days)s days, by score", days=found["window_days"]),
        [(f"{b['low']}\u2013{b['high']}", round((b["rate"] or 0) * 100, 1)) for b in bands],
        unit=" %",
        series=1,
    )
    suggestions = []
    for signal in found["signals"]:
        low, high = signal["low"], signal["high"]
        if low is None or high is None or not (low > 0 or high < 0):
            continue  # the difference cannot be told apart from chance: nothing to suggest
        kind = signal["signal"].removeprefix("activity:")
        name = str(KIND_NAMES.get(kind, kind))
        figures = {
            "signal": name,
            "buyers": percent(signal["buyers_with"] / signal["buyers"]),
            "others": percent(signal["others_with"] / signal["others"]),
        }
        if low > 0:
            text = gettext(
                "Buyers had “%(signal)s” in the 30 days before %(buyers)s of the time, other leads "
                "%(others)s: a sign of intent worth points in your rules.",
                **figures,
            )
        else:
            text = gettext(
                "Buyers had “%(signal)s” less often than other leads (%(buyers)s against %(others)s): its "
                "points may be too high.",
                **figures,
            )
        suggestions.append(str(text))
    return {"chart": chart, "bands": bands, "suggestions": suggestions[:5], **found}


def _measured(start: Any, end: Any) -> dict[str, Any] | None:
    """The period's cached incremental net revenue and calibration; None (and the job queued) while it is
    computed."""
    ctx = context()
    found = earnings.cached(ctx.redis, shop_id(), start, end)
    if found is None:
        earnings.request_refresh(ctx, shop_id(), start, end)
    return found


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


def advice_view(session: Any, measured: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The code steps that do not pay, in words, each with what dropping its code would save."""
    if measured is None:
        return []
    names = {
        journey.key: journey.name or journey.key for journey in rulesets.journeys_for(session, shop_id())
    }
    currency = measured["incremental_net_revenue"].get("currency")
    out = []
    for found in advice.advice(session, shop_id(), measured):
        figures = {
            "step": found.step + 1,
            "journey": names.get(found.journey_key, found.journey_key),
            "value": money(found.per_run.get("value"), currency),
            "low": money(found.per_run.get("low"), currency),
            "high": money(found.per_run.get("high"), currency),
            "tier": label(found.tier),
        }
        if found.tier is None and found.verdict == "loses":
            text = gettext(
                "Step %(step)s of “%(journey)s” loses money: its code brings %(value)s per run over the "
                "steps before it (95 %% interval %(low)s to %(high)s), discounts deducted.",
                **figures,
            )
        elif found.tier is None:
            text = gettext(
                "Step %(step)s of “%(journey)s” shows no lift over the steps before it: %(value)s per run "
                "(95 %% interval %(low)s to %(high)s), discounts deducted.",
                **figures,
            )
        else:
            text = gettext(
                "For %(tier)s leads, step %(step)s of “%(journey)s” shows no lift: %(value)s per run (95 %% "
                "interval %(low)s to %(high)s).",
                **figures,
            )
        saved = found.discount_saved
        out.append(
            {
                "text": str(text),
                "journey": found.journey_key,
                "step": found.step,
                "whole": found.tier is None,
                "saved": money(saved, currency) if saved is not None else None,
            }
        )
    return out


@bp.post("/advice/drop-code")
def drop_code() -> ResponseReturnValue:
    """Apply an advice: the step goes out without its code, as a new rules version."""
    session, shop = db(), shop_id()
    journey, step = request.form.get("journey", ""), request.form.get("step", type=int)
    if step is None or step not in advice.code_steps(session, shop).get(journey, []):
        abort(404)
    row = advice.drop_code(session, shop, journey, step, principal().actor, context().now())
    session.commit()
    rescore.enqueue_rescore(context(), shop, row.version)
    return redirect(admin_url("admin.rules_history", done="saved", v=row.version))


@bp.get("/")
def overview() -> str:
    """Cards and charts for the last 7, 30 or 90 days."""
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else 30
    # Whole minutes: one cache entry (and one job) per period and minute, not per request.
    now = context().now().replace(second=0, microsecond=0)
    start = now - timedelta(days=days)
    figures = results.compute(db(), shop_id(), start, now, by_source_field=False)
    measured = _measured(start, now)
    earned = measured["incremental_net_revenue"] if measured else None
    calibration = calibration_view(measured["calibration"] if measured else None)
    advices = advice_view(db(), measured)
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
        earned=earned,
        earned_words=explain_earnings(earned),
        calibration=calibration,
        advices=advices,
        charts=_charts(figures),
        active="overview",
    )
