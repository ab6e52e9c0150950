"""Revenue & costs: the page in English and French with its figures and charts, the spend form (saved,
removed, refused beside its field), and the margin rate in the rules form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AuditLog, Lead, Order, Shop, SourceSpend
from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.forms import form_fields

DAY = timedelta(days=1)
Post = Callable[..., Any]


def _seed(ctx: Context, shop_id: int) -> None:
    """Two google leads (one a customer) and 200 EUR of google spend in November."""
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).currency = "EUR"
        for n, bought in enumerate((True, False)):
            lead = Lead(
                shop_id=shop_id,
                email=f"g{n}@example.com",
                created_at=ctx.now() - 3 * DAY,
                source={"utm_source": "google"},
            )
            session.add(lead)
            session.flush()
            if bought:
                session.add(
                    Order(
                        shop_id=shop_id,
                        order_id=f"g{n}",
                        lead_id=lead.id,
                        total=Decimal(80),
                        currency="EUR",
                        created_at=ctx.now() - 2 * DAY,
                    )
                )
        session.add(_november_spend(ctx, shop_id, "google", 200))


def _november_spend(ctx: Context, shop_id: int, source: str, amount: int) -> SourceSpend:
    """A source's spend in euros for November 2026."""
    return SourceSpend(
        shop_id=shop_id,
        source=source,
        month=date(2026, 11, 1),
        amount=Decimal(amount),
        currency="EUR",
        updated_at=ctx.now(),
    )


def _spend(ctx: Context, shop_id: int) -> list[tuple[str, date, Decimal]]:
    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(SourceSpend.source, SourceSpend.month, SourceSpend.amount)
            .where(SourceSpend.shop_id == shop_id)
            .order_by(SourceSpend.source)
        )
        return [(s, m, Decimal(a)) for s, m, a in rows]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            ("Revenue & costs", "Return on the discounts", "Cost per lead", "Set your gross margin rate"),
        ),
        ("fr", ("Revenus et coûts", "Retour sur les remises", "Coût par prospect", "Indiquez votre taux")),
    ],
)
def test_the_page_shows_the_figures_and_charts_in_both_languages(
    ctx: Context, client: Any, signed_in: dict[str, Any], language: str, words: tuple[str, ...]
) -> None:
    _seed(ctx, signed_in["id"])
    response = client.get("/admin/money?days=7", headers={"Accept-Language": language})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in words:
        assert text in html
    # 7 days of November's 200 over 30 days = 46.67; 2 leads: 23.335, to the even cent 23.34; 1 buyer: 46.67
    row = html[html.index('<th scope="row">google</th>') :][:600]
    if language == "en":
        assert "€46.67" in row and "€23.34" in row and "50%" in row
    else:
        assert "46,67\xa0€" in row and "23,34\xa0€" in row and "50\xa0%" in row
    assert html.count('<svg class="chart"') >= 3  # new leads, conversion by source and tier, lifetime
    assert 'href="/admin/money"' in html or "/admin/money?" in html  # in the navigation


def test_the_spend_form_saves_removes_and_refuses_beside_the_field(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    shop_id = signed_in["id"]
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).currency = "EUR"
    saved = post_form(
        "/admin/money/spend",
        {"source": "Newsletter", "month": "2026-10", "amount": "45,50"},
        page="/admin/money",
    )
    assert saved.status_code == 302 and "done=saved" in saved.headers["Location"]
    assert _spend(ctx, shop_id) == [("newsletter", date(2026, 10, 1), Decimal("45.5"))]
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Spend saved." in page and "newsletter" in page
    refused = post_form(
        "/admin/money/spend", {"source": "google", "month": "2026-13", "amount": "10"}, page="/admin/money"
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'aria-describedby="err-spend-month"' in html
    assert "Use a month such as 2026-11." in html[html.index('id="err-spend-month"') :][:200]
    assert 'value="google"' in html  # what was typed stays
    removed = post_form(
        "/admin/money/spend",
        {"source": "newsletter", "month": "2026-10", "amount": "45.50", "action": "remove"},
        page="/admin/money",
    )
    assert removed.status_code == 302 and _spend(ctx, shop_id) == []
    with ctx.sessions() as session:
        actions = session.scalars(sa.select(AuditLog.action).where(AuditLog.shop_id == shop_id)).all()
    assert "spend.saved" in actions and "spend.removed" in actions


def test_the_margin_rate_is_set_in_the_rules_form_and_checked(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    form = form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")
    assert form["campaign.margin_rate"] == ""
    refused = post_form(
        "/admin/rules", {**form, "campaign.margin_rate": "1.2", "action": "save"}, page="/admin/rules"
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Use a share between 0 and 1" in html[html.index('id="err-campaign-margin_rate"') :][:300]
    saved = post_form(
        "/admin/rules", {**form, "campaign.margin_rate": "0,35", "action": "save"}, page="/admin/rules"
    )
    assert saved.status_code == 302
    with ctx.sessions() as session:
        assert rules.campaign_settings_for(session, signed_in["id"]).margin_rate == Decimal("0.35")
    page = client.get("/admin/money").get_data(as_text=True)
    assert "35%" in page and "Set your gross margin rate" not in page


def test_the_page_needs_a_sign_in(client: Any, shop_a: dict[str, Any]) -> None:
    response = client.get("/admin/money")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_shop_sees_only_its_own_figures_and_spend_and_forms_need_their_token(
    ctx: Context, client: Any, signed_in: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    _seed(ctx, shop_b["id"])
    with transaction(ctx.sessions) as session:
        session.add(
            SourceSpend(
                shop_id=shop_b["id"],
                source="secret-source",
                month=date(2026, 11, 1),
                amount=Decimal(1),
                currency="EUR",
                updated_at=ctx.now(),
            )
        )
    page = client.get("/admin/money").get_data(as_text=True)
    assert "secret-source" not in page and '<th scope="row">google</th>' not in page
    refused = client.post("/admin/money/spend", data={"source": "x", "month": "2026-11", "amount": "1"})
    assert refused.status_code == 400
    assert _spend(ctx, signed_in["id"]) == []


def _new_leads(html: str) -> str:
    start = html.index("New leads</h2>")
    return html[start : start + 200].split('<p class="big">')[1].split("<")[0]


def test_the_figures_are_kept_and_worked_out_again_in_a_job_once_old(
    ctx: Context, client: Any, signed_in: dict[str, Any], clock: Any, run_jobs: Callable[[], None]
) -> None:
    """A large shop's figures take longer than a page may: the page shows the kept ones, queues a job once
    they are five minutes old, and shows the job's on the next view; spend saved shows at once."""
    shop_id = signed_in["id"]
    _seed(ctx, shop_id)
    assert _new_leads(client.get("/admin/money?days=7").get_data(as_text=True)) == "2"
    with transaction(ctx.sessions) as session:  # a third lead: the kept figures do not show it yet
        session.add(Lead(shop_id=shop_id, email="late@example.com", created_at=ctx.now() - DAY, source={}))
    html = client.get("/admin/money?days=7").get_data(as_text=True)
    assert _new_leads(html) == "2" and "Figures as of" in html
    clock.advance(minutes=6)
    assert _new_leads(client.get("/admin/money?days=7").get_data(as_text=True)) == "2"  # old, job queued
    run_jobs()
    assert _new_leads(client.get("/admin/money?days=7").get_data(as_text=True)) == "3"
    with transaction(ctx.sessions) as session:  # spend changes the key: worked out on the spot
        session.add(Lead(shop_id=shop_id, email="later@example.com", created_at=ctx.now() - DAY, source={}))
        session.add(_november_spend(ctx, shop_id, "meta", 50))
    assert _new_leads(client.get("/admin/money?days=7").get_data(as_text=True)) == "4"
