"""The journeys page's figures: each step's funnel as table cells, and its effect over its holdout group said
in plain words ("Step 3's code: +4.1 points of recovery, 95 % interval -1.2 to +9.4, not yet conclusive",
with a true minus sign)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from admin_ui.support import money, percent
from bridge.outreach import journey_results
from campaigns.journey_metrics import StepFunnel, effect, total_revenue
from campaigns.settings import CampaignSettings

PERIODS = (30, 90, 365)


def _what(index: int, step: Mapping[str, Any] | None) -> str:
    """ "Step 3's code" for a step with an offer, "Step 1's email" for a reminder."""
    if isinstance(step, Mapping) and step.get("offer"):
        return str(_("Step %(n)s's code", n=index + 1))
    return str(_("Step %(n)s's email", n=index + 1))


def effect_sentence(funnel: StepFunnel, step: Mapping[str, Any] | None, trigger: str) -> tuple[str, str]:
    """The step's effect in words, and its verdict ("helps", "hurts", "unclear", "no_data")."""
    found = effect(funnel.comparison)
    what = _what(funnel.step, step)
    if found.points is None or found.low is None or found.high is None:
        if not funnel.entered:
            return _("%(what)s: no run reached this step yet.", what=what), "no_data"
        if not funnel.held_out:
            return _(
                "%(what)s: no run held out at this step yet, nothing to compare with.", what=what
            ), "no_data"
        return _("%(what)s: no run sent this step yet, nothing to compare with.", what=what), "no_data"
    measure = _("points of recovery") if trigger == "cart_abandoned" else _("points of conversion")
    verdict = {
        "helps": _("conclusive: it brings orders"),
        "hurts": _("conclusive: it costs orders"),
        "unclear": _("not yet conclusive"),
    }[found.verdict]
    text = _(
        "%(what)s: %(points)s %(measure)s, 95 %% interval %(low)s to %(high)s, %(verdict)s",
        what=what,
        points=signed(found.points),
        measure=measure,
        low=signed(found.low),
        high=signed(found.high),
        verdict=verdict,
    )
    return text, found.verdict


def signed(points: float) -> str:
    """Percentage points with their sign in the page's number format (`+4.1`, `+4,1`; a true minus sign)."""
    rounded = round(points, 1)
    return str(format_decimal(rounded, "+#,##0.0;\u2212#,##0.0" if rounded else "0.0"))


def _revenue(amounts: Mapping[str | None, Decimal], currency: str | None) -> str:
    if not amounts:
        return money(Decimal(0), currency)
    return " + ".join(money(amount, code or currency) for code, amount in sorted(amounts.items(), key=str))


def step_rows(
    funnels: Sequence[StepFunnel], journey: Mapping[str, Any], currency: str | None
) -> list[dict[str, Any]]:
    """One table row per step: the counts, the groups' ordered shares and the effect sentence."""
    steps = journey.get("steps") or []
    rows = []
    for funnel in funnels:
        step = steps[funnel.step] if funnel.step < len(steps) else None
        sentence, verdict = effect_sentence(funnel, step, str(journey.get("trigger", "")))
        comparison = funnel.comparison
        rows.append(
            {
                "number": funnel.step + 1,
                "funnel": funnel,
                "revenue": _revenue(funnel.revenue, currency),
                "treated_share": percent(comparison.treated_rate),
                "holdout_share": percent(comparison.holdout_rate),
                "sentence": sentence,
                "verdict": verdict,
                "gone": step is None,
            }
        )
    return rows


def results(
    session: Session,
    shop_id: int,
    journeys: Sequence[Mapping[str, Any]],
    campaign: CampaignSettings,
    now: datetime,
    days: int,
    currency: str | None,
) -> dict[str, dict[str, Any]]:
    """Per journey key: runs started in the last `days` days, step rows and total revenue."""
    start = now - timedelta(days=days)
    window = campaign.attribution_window_days
    counts = {str(j.get("key")): len(j.get("steps") or []) for j in journeys}
    funnels = journey_results.funnels(session, shop_id, start, now, window, counts)
    started = journey_results.runs_started(session, shop_id, start, now)
    out = {}
    for journey in journeys:
        key = str(journey.get("key"))
        mine = funnels.get(key, [])
        out[key] = {
            "runs": started.get(key, 0),
            "rows": step_rows(mine, journey, currency),
            "revenue": _revenue(total_revenue(mine), currency),
        }
    return out
