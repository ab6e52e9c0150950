"""The journeys page's A/B tests: per step that holds variants, each variant's runs, orders, net revenue per
run and its always-valid intervals against the others and the step's holdout, and the outcome in plain
words ("Variant b brings €1.20 more per run than a (95 % always-valid interval €0.40 to €2.00): b wins.")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from admin_ui.support import money, number
from bridge.outreach import ab_results
from campaigns.ab_tests import StepTest, Summary, summarize
from campaigns.journeys import Journey
from campaigns.revenue import Estimate, VariantVerdict


def interval(found: Estimate, currency: str | None) -> str:
    """ "€0.40 to €2.00", or an em dash while the data cannot say how sure."""
    if found.low is None or found.high is None:
        return "—"
    return str(_("%(low)s to %(high)s", low=money(found.low, currency), high=money(found.high, currency)))


def verdict_label(verdict: str) -> str:
    labels = {
        "winner": lambda: _("wins"),
        "loser": lambda: _("loses"),
        "undecided": lambda: _("undecided"),
        "not_enough_data": lambda: _("not enough data"),
    }
    return labels[verdict]() if verdict in labels else verdict


def sentence(summary: Summary, currency: str | None) -> str:
    """The test's outcome in plain words, in the page's language."""
    if summary.kind == "not_enough_data":
        return str(
            _(
                "Not enough data yet: %(runs)s of the %(min_runs)s runs and %(orders)s of the %(min_orders)s "
                "orders each variant needs.",
                runs=number(summary.runs),
                min_runs=number(summary.min_runs),
                orders=number(summary.orders),
                min_orders=number(summary.min_orders),
            )
        )
    found = summary.difference
    amount = money(abs(found.value or 0.0), currency)
    low, high = money(found.low, currency), money(found.high, currency)
    if summary.kind == "winner":
        text = _(
            "Variant %(leader)s brings %(amount)s more per run than %(other)s (95 %% always-valid interval "
            "%(low)s to %(high)s): %(leader)s wins.",
            leader=summary.leader,
            amount=amount,
            other=summary.other,
            low=low,
            high=high,
        )
    elif found.value:
        text = _(
            "No winner yet: variant %(leader)s brings %(amount)s more per run than %(other)s so far, but the "
            "95 %% always-valid interval (%(low)s to %(high)s) still holds zero.",
            leader=summary.leader,
            amount=amount,
            other=summary.other,
            low=low,
            high=high,
        )
    else:
        text = _("No winner yet: the variants bring the same per run so far.")
    if summary.losers:
        text += " " + _("Surely behind: %(names)s.", names=", ".join(summary.losers))
    return str(text)


def _row(verdict: VariantVerdict, test: StepTest, currency: str | None) -> dict[str, Any]:
    sample = test.variants[verdict.name]
    return {
        "key": verdict.name,
        "runs": number(sample.runs),
        "orders": number(sample.orders),
        "per_run": money(verdict.per_run, currency),
        "against_others": interval(verdict.against_others, currency),
        "against_holdout": interval(verdict.against_holdout, currency),
        "verdict": verdict.verdict,
        "verdict_label": verdict_label(verdict.verdict),
    }


def block(test: StepTest, currency: str | None) -> dict[str, Any]:
    """One test as the template shows it."""
    verdicts = test.verdicts
    summary = summarize(test, verdicts)
    return {
        "step": test.step,
        "number": test.step + 1,
        "rows": [_row(verdict, test, currency) for verdict in verdicts],
        "holdout": {
            "runs": number(test.holdout.runs),
            "orders": number(test.holdout.orders),
            "per_run": money(test.holdout.mean, currency),
        },
        "sentence": sentence(summary, currency),
        "kind": summary.kind,
    }


def blocks(
    session: Session,
    shop_id: int,
    journeys: Sequence[Journey],
    window_days: int,
    now: datetime,
    days: int,
    currency: str | None,
) -> dict[str, list[dict[str, Any]]]:
    """Per journey key, its steps' A/B tests for the runs started in the last `days` days."""
    found = ab_results.ab_tests(
        session, shop_id, journeys, now - timedelta(days=days), now, window_days, currency
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for (key, _step), test in sorted(found.items()):
        out.setdefault(key, []).append(block(test, currency))
    return out
