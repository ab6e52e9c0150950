"""A/B tests of journey steps from real rows on SQLite and PostgreSQL: each variant's net revenue per run
(orders after the step came due, less what the run's code took off), the verdict and its plain-words summary
on the journeys page in English and French and in the API, and "promote" as a new rules version that a
restore undoes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AuditLog, JourneyRun, Lead, Offer, Order, Ruleset, Shop
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import ab_results
from campaigns.ab_tests import summarize
from tests.integration.leads.conftest import bearer

DAY = timedelta(days=1)
PLAIN = {"en": {"subject": "Your cart", "body": "It waits."}}
CODED = {"en": {"subject": "A code", "body": "{% if code %}Code {{ code }}{% endif %}"}}
CODE_OFFER = {"kind": "percentage", "value": 10, "expires_hours": 48}


def _journeys() -> list[dict[str, Any]]:
    return [
        {
            "key": "cart",
            "trigger": "cart_abandoned",
            "holdout_share": 0.1,
            "steps": [
                {
                    "after_minutes": 60,
                    "messages": PLAIN,
                    "weight": 1,
                    "variants": [{"key": "b", "weight": 1, "messages": CODED, "offer": CODE_OFFER}],
                },
                {"after_minutes": 24 * 60, "messages": PLAIN},
            ],
        }
    ]


class Runs:
    """Writes runs of the cart journey 20 days ago, each with its step-0 offer row and its lead's orders."""

    def __init__(self, session: Any, shop_id: int, now: Any) -> None:
        self.session, self.shop_id, self.start, self.count = session, shop_id, now - 20 * DAY, 0

    def add(
        self, variant: str | None, total: str | None = None, discount: str | None = None, late: bool = False
    ) -> None:
        self.count += 1
        n, due = self.count, self.start + timedelta(hours=1)
        lead = Lead(
            shop_id=self.shop_id,
            email=f"p{n}@example.com",
            created_at=self.start,
            source={},
            score=1,
            tier="cold",
        )
        self.session.add(lead)
        self.session.flush()
        run = JourneyRun(
            shop_id=self.shop_id,
            lead_id=lead.id,
            journey_key="cart",
            trigger="cart_abandoned",
            instance=f"cart:{n}",
            trigger_at=self.start,
            created_at=self.start,
            status="ended",
            step=1,
            holdout_stop=0 if variant is None else None,
        )
        self.session.add(run)
        self.session.flush()
        placed = due + (10 * DAY if late else DAY)
        if total is not None:
            self.session.add(
                Order(
                    shop_id=self.shop_id,
                    order_id=f"o{n}",
                    lead_id=lead.id,
                    total=Decimal(total),
                    currency="EUR",
                    created_at=placed,
                )
            )
        self.session.add(
            Offer(
                shop_id=self.shop_id,
                lead_id=lead.id,
                run_id=run.id,
                step=0,
                journey_key="cart",
                variant=variant,
                reason="abandoned_cart",
                kind="percentage" if discount else "reminder",
                value=Decimal(10 if discount else 0),
                currency="EUR",
                code=f"CODE{n}" if discount else None,
                created_at=due,
                holdout=variant is None,
                status="redeemed" if discount else "suppressed" if variant is None else "sent",
                order_id=f"o{n}" if discount else None,
                cost=Decimal(discount) if discount else None,
                redeemed_at=placed if discount else None,
            )
        )


def _setup(ctx: Context, shop_id: int, fill: Callable[[Runs], None]) -> None:
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).currency = "EUR"
        rules.save(session, shop_id, {"journeys": _journeys()}, "t", "a/b test", ctx.now())
        fill(Runs(session, shop_id, ctx.now()))


def _clear_winner(runs: Runs) -> None:
    """a: 200 runs, 40 orders of €50; b: 200 runs, 100 orders of €60 with €6 off by its code (€54 paid);
    holdout: 50 runs, 5 orders of €40; one order of b's after the 7-day window, which does not count."""
    for i in range(200):
        runs.add("a", "50" if i < 40 else None)
    for i in range(200):
        runs.add("b", "54" if i < 100 else None, "6" if i < 100 else None)
    runs.add("b", "500", late=True)
    for i in range(50):
        runs.add(None, "40" if i < 5 else None)


@pytest.fixture
def winner(ctx: Context, signed_in: dict[str, Any]) -> dict[str, Any]:
    _setup(ctx, signed_in["id"], _clear_winner)
    return signed_in


def test_each_variant_has_its_net_revenue_per_run_and_b_wins(ctx: Context, winner: dict[str, Any]) -> None:
    now = ctx.now()
    with ctx.sessions() as session:
        journeys = rules.journeys_for(session, winner["id"])
        found = ab_results.ab_tests(session, winner["id"], journeys, now - 90 * DAY, now, 7, "EUR")
    assert list(found) == [("cart", 0)]
    test = found[("cart", 0)]
    a, b, held = test.variants["a"], test.variants["b"], test.holdout
    assert (a.runs, a.orders, a.total) == (200, 40, 2000.0)
    assert (b.runs, b.orders, b.total) == (201, 100, 5400.0)  # 100 x 54 paid; the late order left out
    assert (held.runs, held.orders, held.total) == (50, 5, 200.0)
    summary = summarize(test)
    assert (summary.kind, summary.leader, summary.other) == ("winner", "b", "a")
    assert {v.name: v.verdict for v in test.verdicts} == {"a": "loser", "b": "winner"}


def _test_block(html: str) -> str:
    start = html.index('id="ab-cart-1"')
    return html[start : html.index("</table>", start)]


def test_the_page_says_who_wins_in_english(client: Any, winner: dict[str, Any]) -> None:
    block = _test_block(client.get("/admin/journeys").get_data(as_text=True))
    assert "Variant b brings €16.87 more per run than a (95 % always-valid interval €" in block
    assert "): b wins." in block
    row = block[block.index('data-variant="b"') :][:900]
    assert ">201</td>" in row and ">100</td>" in row and ">€26.87</td>" in row and ">wins<" in row
    assert ">€10.00</td>" in block[block.index('data-variant="a"') :][:600]
    assert ">€4.00</td>" in block[block.index('data-variant="holdout"') :]  # 200 / 50 runs


def test_the_page_says_who_wins_in_french(client: Any, winner: dict[str, Any]) -> None:
    block = _test_block(client.get("/admin/journeys?locale=fr").get_data(as_text=True))
    assert (
        "La variante b rapporte 16,87\xa0€ de plus par entrée que a (intervalle toujours valide à 95 %"
        in block
    )
    assert ") : b gagne." in block
    assert "26,87\xa0€" in block and "Adopter b" in block


def test_too_few_runs_give_no_verdict(ctx: Context, client: Any, signed_in: dict[str, Any]) -> None:
    def few(runs: Runs) -> None:
        for i in range(37):
            runs.add("a", "30" if i < 20 else None)
        for i in range(45):
            runs.add("b", "30" if i < 12 else None, "3" if i < 12 else None)

    _setup(ctx, signed_in["id"], few)
    block = _test_block(client.get("/admin/journeys").get_data(as_text=True))
    assert "Not enough data yet: 37 of the 100 runs and 12 of the 20 orders each variant needs." in block
    assert ">not enough data<" in block
    french = _test_block(client.get("/admin/journeys?locale=fr").get_data(as_text=True))
    assert "Pas encore assez de données : 37 des 100 entrées et 12 des 20 commandes" in french


def _live_step(ctx: Context, shop_id: int) -> tuple[int, dict[str, Any]]:
    with ctx.sessions() as session:
        version, document = rules.current(session, shop_id)
    return version, document["journeys"][0]["steps"][0]


def test_promote_from_the_page_writes_a_version_that_a_restore_undoes(
    ctx: Context, client: Any, winner: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    before, _ = _live_step(ctx, winner["id"])
    answer = post_form("/admin/journeys/cart/steps/0/promote", {"variant": "b"}, page="/admin/journeys")
    assert answer.status_code == 302 and "done=promoted" in answer.headers["Location"]
    version, step = _live_step(ctx, winner["id"])
    assert version == before + 1
    assert step["messages"] == CODED and step["offer"]["value"] == 10
    assert "variants" not in step and "weight" not in step
    with ctx.sessions() as session:
        audit = session.scalars(
            sa.select(AuditLog).where(AuditLog.shop_id == winner["id"]).order_by(AuditLog.id.desc())
        ).first()
    assert audit.action == "rules.saved" and audit.detail["note"] == "journey cart step 1: variant b promoted"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Variant promoted" in page and 'id="ab-cart-1"' not in page  # the test is over

    assert post_form(f"/admin/rules/versions/{before}/restore", page="/admin/rules/history").status_code in (
        200,
        302,
    )
    _, restored = _live_step(ctx, winner["id"])
    assert restored["variants"][0]["key"] == "b" and restored["weight"] == 1 and restored["messages"] == PLAIN
    missing = post_form("/admin/journeys/cart/steps/0/promote", {"variant": "z"}, page="/admin/journeys")
    assert missing.status_code == 400
    assert (
        post_form(
            "/admin/journeys/cart/steps/1/promote", {"variant": "b"}, page="/admin/journeys"
        ).status_code
        == 404
    )


def test_the_api_shows_the_tests_and_promotes(ctx: Context, client: Any, winner: dict[str, Any]) -> None:
    headers = bearer(winner["api_key"])
    answer = client.get("/api/v1/journeys/ab-tests", headers=headers)
    assert answer.status_code == 200
    [test] = answer.json["tests"]
    assert (test["journey"], test["step"], test["currency"]) == ("cart", 0, "EUR")
    b = next(v for v in test["variants"] if v["key"] == "b")
    assert (b["runs"], b["orders"], b["net_revenue_per_run"], b["verdict"]) == (201, 100, "26.87", "winner")
    assert float(b["against_others"]["low"]) > 0
    assert test["holdout"] == {"runs": 50, "orders": 5, "net_revenue_per_run": "4.00"}
    assert test["summary"]["kind"] == "winner" and test["summary"]["leader"] == "b"
    bad = client.get("/api/v1/journeys/ab-tests?from=nope", headers=headers)
    assert bad.status_code == 422 and "from" in bad.json["errors"]

    path = "/api/v1/journeys/cart/steps/0/promote"
    assert client.post(path, json={}, headers=headers).status_code == 422
    unknown = client.post(path, json={"variant": "z"}, headers=headers)
    assert unknown.status_code == 422 and "variant" in unknown.json["errors"]
    assert (
        client.post(
            "/api/v1/journeys/nope/steps/0/promote", json={"variant": "b"}, headers=headers
        ).status_code
        == 404
    )
    before, _ = _live_step(ctx, winner["id"])
    done = client.post(path, json={"variant": "a"}, headers=headers)
    assert done.status_code == 200 and done.json["version"] == before + 1
    _, step = _live_step(ctx, winner["id"])
    assert step["messages"] == PLAIN and step["offer"] is None and "variants" not in step
    assert client.get("/api/v1/journeys/ab-tests", headers=headers).json["tests"] == []
    restored = client.post(f"/api/v1/rules/versions/{before}/restore", headers=headers)
    assert restored.status_code == 200
    _, step = _live_step(ctx, winner["id"])
    assert [v["key"] for v in step["variants"]] == ["b"]
    with ctx.sessions() as session:
        notes = session.scalars(sa.select(Ruleset.note).where(Ruleset.shop_id == winner["id"])).all()
    assert "journey cart step 1: variant a promoted" in notes


def test_the_editor_says_the_step_runs_a_test(client: Any, winner: dict[str, Any]) -> None:
    html = client.get("/admin/journeys/cart").get_data(as_text=True)
    assert html.count("data-ab-test") == 1 and "variants b keep theirs" in html
