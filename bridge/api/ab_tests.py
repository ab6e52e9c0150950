"""The A/B tests of journey steps in the API: each test's figures and verdicts, and "promote the winner".

`GET /api/v1/journeys/ab-tests?from=&to=` (the metrics' period rules): every step that holds variants now,
for the runs started in the period, each variant's runs, orders, net revenue per run and its always-valid
95 % intervals against the best other variant and against the step's holdout, with the verdict.

`POST /api/v1/journeys/<key>/steps/<n>/promote {"variant": "b"}` (`n`: the step's index from 0, as in the
rules document's paths): a new rules version where the step takes the variant's content and has no
variants left; restoring the version before brings the test back. Any variant may be promoted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from bridge.api.offers import PeriodSchema
from bridge.api.rules import ACTOR, _committed, _json_body
from bridge.infra.web import context
from bridge.leads import rules
from bridge.outreach import ab_results
from bridge.shops.bearer import authenticated
from campaigns.ab_tests import StepTest, summarize
from campaigns.formatting import zone_or_utc
from campaigns.journeys import promoted
from campaigns.revenue import Estimate

bp = Blueprint("ab_tests_api", __name__, url_prefix="/api/v1")


class PromoteSchema(Schema):
    variant = fields.String(required=True, validate=validate.Length(1, 20))


def _money(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _estimate(found: Estimate) -> dict[str, str | None]:
    return {"value": _money(found.value), "low": _money(found.low), "high": _money(found.high)}


def test_json(test: StepTest, currency: str | None) -> dict[str, Any]:
    """One step's test: its variants' figures and verdicts, the holdout's, and the summary's terms."""
    verdicts = test.verdicts
    summary = summarize(test, verdicts)
    return {
        "journey": test.journey_key,
        "step": test.step,
        "currency": currency,
        "holdout": {
            "runs": test.holdout.runs,
            "orders": test.holdout.orders,
            "net_revenue_per_run": _money(test.holdout.mean),
        },
        "variants": [
            {
                "key": verdict.name,
                "runs": test.variants[verdict.name].runs,
                "orders": test.variants[verdict.name].orders,
                "net_revenue_per_run": _money(verdict.per_run),
                "against_others": _estimate(verdict.against_others),
                "against_holdout": _estimate(verdict.against_holdout),
                "verdict": verdict.verdict,
            }
            for verdict in verdicts
        ],
        "summary": {
            "kind": summary.kind,
            "leader": summary.leader,
            "other": summary.other,
            "difference": _estimate(summary.difference),
            "losers": list(summary.losers),
            "runs": summary.runs,
            "orders": summary.orders,
            "min_runs": summary.min_runs,
            "min_orders": summary.min_orders,
        },
    }


@bp.get("/journeys/ab-tests")
@authenticated
def ab_tests() -> Response | tuple[Response, int]:
    """Every live A/B test with its figures for the runs started in the period (`from`, `to`)."""
    session, shop = g.session, g.shop
    try:
        start, end = PeriodSchema(zone_or_utc(shop.timezone), context().now()).load(request.args)
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    window = rules.campaign_settings_for(session, shop.id).attribution_window_days
    journeys = rules.journeys_for(session, shop.id)
    found = ab_results.ab_tests(session, shop.id, journeys, start, end, window, shop.currency)
    return jsonify(
        period={"from": start.isoformat(), "to": end.isoformat()},
        tests=[test_json(test, shop.currency) for _, test in sorted(found.items())],
    )


@bp.post("/journeys/<key>/steps/<int:index>/promote")
@authenticated
def promote(key: str, index: int) -> tuple[Response, int]:
    """Save a new rules version where the step keeps the variant's content and ends its test."""
    session, shop = g.session, g.shop
    body = _json_body()
    try:
        variant = PromoteSchema().load(body if isinstance(body, dict) else {})["variant"]
    except ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    _, live = rules.current(session, shop.id)
    try:
        journeys = promoted(live["journeys"], key, index, variant)
    except KeyError:
        return jsonify(errors={"variant": [f"The step has no variant {variant!r}."]}), 422
    except LookupError:
        abort(404)
    note = f"journey {key} step {index + 1}: variant {variant} promoted"
    document = {**live, "journeys": journeys}
    return _committed(lambda: rules.save(session, shop.id, document, ACTOR, note, context().now()))
