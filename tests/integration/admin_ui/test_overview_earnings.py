"""The overview answers "what did Relance earn me, net, and how sure are we?" first: from the cache the job
fills (queued by the first visit), in English and in French."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.leads import rules as rulesets
from tests.integration.leads.test_calibration import seed_calibration
from tests.integration.outreach.earnings_helpers import Group, seed_runs
from tests.integration.outreach.test_discount_advice import seed_losing_code

DAY = timedelta(days=1)


def _seed(ctx: Context, shop_id: int, treated: int, holdout: int) -> None:
    """Runs of the cart journey: every 4th treated run orders 100 with a 10 code (90 paid), every 8th
    held-out one orders 100."""
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).currency = "EUR"
        due = ctx.now() - 5 * DAY
        seed_runs(session, shop_id, due, Group(treated, 4, "90", code="10"), Group(holdout, 8, "100"))


def _headline(html: str) -> str:
    return html[html.index('id="earned-title"') :][:1500]


def test_the_first_visit_queues_the_job_and_the_next_shows_the_interval(
    ctx: Context, client: Any, signed_in: dict[str, Any], run_jobs: Callable[[], None]
) -> None:
    _seed(ctx, signed_in["id"], 400, 200)
    first = client.get("/admin/").get_data(as_text=True)
    assert "Being computed" in _headline(first)
    run_jobs()
    page = _headline(client.get("/admin/").get_data(as_text=True))
    # 400 x (100 x 90 / 400 - 25 x 100 / 200) = 4,000
    assert "€4,000.00" in page
    assert "With 95 % confidence, Relance earned you between €" in page
    french = _headline(client.get("/admin/?locale=fr").get_data(as_text=True))
    assert "4\u202f000,00\u00a0€" in french
    assert "Avec 95 % de confiance, Relance vous a rapporté entre" in french


def test_with_few_orders_the_page_says_what_an_interval_needs(
    ctx: Context, client: Any, signed_in: dict[str, Any], run_jobs: Callable[[], None]
) -> None:
    _seed(ctx, signed_in["id"], 20, 10)
    client.get("/admin/")
    run_jobs()
    page = _headline(client.get("/admin/").get_data(as_text=True))
    assert "not enough data yet to say how sure" in page
    assert "the holdout group so far: runs 10, orders 2" in page


def test_the_overview_shows_the_chart_and_a_suggestion(
    ctx: Context, client: Any, signed_in: dict[str, Any], run_jobs: Callable[[], None]
) -> None:
    seed_calibration(ctx, signed_in["id"])
    client.get("/admin/")
    run_jobs()
    page = client.get("/admin/").get_data(as_text=True)
    section = page[page.index('id="calibration"') :]
    assert '<tr data-band="80"><th scope="row">80\u201389</th><td>40</td><td>30</td>' in section
    assert "Buyers had “Started checkout” in the 30 days before" in section
    french = client.get("/admin/?locale=fr").get_data(as_text=True)
    assert "Les acheteurs avaient « Paiement commencé » dans les 30 jours précédents" in french
    assert "Les scores annoncent-ils qui achète ?" in french


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_overview_offers_the_advice_and_its_button_applies_it(
    ctx: Context, client: Any, signed_in: dict[str, Any], run_jobs: Callable[[], None], locale: str
) -> None:
    seed_losing_code(ctx, signed_in["id"])
    client.get("/admin/")
    run_jobs()
    page = client.get(f"/admin/?locale={locale}").get_data(as_text=True)
    section = page[page.index('id="advice"') :][:3000]
    if locale == "en":
        assert "Step 3 of “Panier abandonné” loses money: its code brings -€12.50 per run" in section
        assert "would have saved €5,000.00 of discounts" in section
    else:
        assert (
            "L\u2019\u00e9tape 3 de \u00ab Panier abandonn\u00e9 \u00bb fait perdre de l\u2019argent"
            in section
        )
        assert "5\u202f000,00\u00a0€" in section
    token = section[section.index('name="csrf_token" value="') + 25 :].split('"', 1)[0]
    answer = client.post(
        "/admin/advice/drop-code", data={"journey": "cart", "step": "2", "csrf_token": token}
    )
    assert answer.status_code == 302
    with ctx.sessions() as session:
        cart = next(j for j in rulesets.journeys_for(session, signed_in["id"]) if j.key == "cart")
    assert cart.steps[2].offer is None
