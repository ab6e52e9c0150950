"""The prospects page: the queue in English and French with its timer, the overdue count in the navigation,
status and owner changes through CSRF-protected forms, and another shop's prospect out of reach."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, AuditLog, Lead, Prospect
from bridge.infra.context import Context
from bridge.leads import prospects
from bridge.shops import users
from tests.integration.admin_ui.conftest import PASSWORD

PAGE = "/admin/prospects"


def queued(ctx: Context, shop_id: int, email: str, hours: int) -> int:
    """A hot lead (hot because of four checkouts) in the queue, due in `hours`; the prospect's id."""
    with transaction(ctx.sessions) as session:
        lead = Lead(
            shop_id=shop_id,
            email=email,
            created_at=ctx.now(),
            source={},
            score=88,
            tier="hot",
            breakdown={
                "lines": [
                    {
                        "rule": "activity:checkout_started",
                        "label": "Started checkout",
                        "count": 4,
                        "points": 80,
                    },
                    {"rule": "criterion:0", "label": "Accepts marketing", "count": 1, "points": 8},
                ]
            },
        )
        session.add(lead)
        session.flush()
        return prospects.admit(session, shop_id, lead, "tier:hot", timedelta(hours=hours), ctx.now()).id


def nav_count(html: str) -> str | None:
    match = re.search(r'<span class="nav-count"[^>]*><span class="sr-only">[^<]*</span>([^<]+)</span>', html)
    return match.group(1) if match else None


def test_the_queue_in_english_and_french(
    client: Any, ctx: Context, clock: Any, signed_in: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    late = queued(ctx, signed_in["id"], "late@example.com", hours=1)
    queued(ctx, signed_in["id"], "soon@example.com", hours=30)
    queued(ctx, shop_b["id"], "elsewhere@example.com", hours=1)
    clock.advance(hours=3)
    html = client.get(PAGE).get_data(as_text=True)
    assert html.index("late@example.com") < html.index("soon@example.com")
    assert "elsewhere@example.com" not in html
    assert "overdue by 2 hours" in html and "27 hours left" in html
    assert "Started checkout (+80)" in html and "to contact" in html
    assert nav_count(html) == "1"  # one overdue prospect of this shop
    assert f'action="/admin/prospects/{late}/status"' in html and 'value="won"' in html
    french = client.get(PAGE, headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "en retard de 2\xa0heures" in french and "encore 27\xa0heures" in french  # CLDR's spaces
    assert "Paiement commencé (+80)" in french  # the breakdown line in the page's language
    assert "à contacter" in french and "Responsable" in french and nav_count(french) == "1"
    overdue_only = client.get(PAGE + "?overdue=1").get_data(as_text=True)
    assert "late@example.com" in overdue_only and "soon@example.com" not in overdue_only
    assert nav_count(client.get("/admin/").get_data(as_text=True)) == "1"  # on every page


def test_a_status_set_from_the_page_is_scored_and_audited(
    client: Any, ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    prospect = queued(ctx, signed_in["id"], "ana@example.com", hours=24)
    refused = client.post(f"{PAGE}/{prospect}/status", data={"status": "contacted"})
    assert refused.status_code == 400  # no CSRF token
    answer = post_form(f"{PAGE}/{prospect}/status", {"status": "contacted", "overdue": "1"}, page=PAGE)
    assert answer.status_code == 302
    assert "done=updated" in answer.headers["Location"] and "overdue=1" in answer.headers["Location"]
    with ctx.sessions() as session:
        row = session.get(Prospect, prospect)
        kinds = session.scalars(sa.select(Activity.kind).where(Activity.lead_id == row.lead_id)).all()
        audit = session.execute(sa.select(AuditLog.actor, AuditLog.action, AuditLog.detail)).all()
    assert row.status == "contacted" and row.first_contacted_at == ctx.now()
    assert kinds == ["sales_contacted"]
    assert audit == [
        (signed_in["email"], "prospect.changed", {"prospect_id": prospect, "status": "contacted"})
    ]
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "The prospect was updated." in html
    # Contacted: the buttons left are won and not a fit.
    assert f'action="/admin/prospects/{prospect}/status"' in client.get(PAGE).get_data(as_text=True)
    bad = post_form(f"{PAGE}/{prospect}/status", {"status": "to_contact"}, page=PAGE)
    assert "error=status" in bad.headers["Location"]
    assert "cannot take that status" in client.get(bad.headers["Location"]).get_data(as_text=True)


def test_the_owner_is_a_user_of_the_shop(
    client: Any,
    ctx: Context,
    signed_in: dict[str, Any],
    shop_b: dict[str, Any],
    post_form: Callable[..., Any],
) -> None:
    prospect = queued(ctx, signed_in["id"], "ana@example.com", hours=24)
    with transaction(ctx.sessions) as session:
        colleague = users.create_user(
            session, "colleague@shop-a.test", PASSWORD, signed_in["id"], ctx.now()
        ).id
        stranger = users.by_email(session, shop_b["email"]).id
    html = client.get(PAGE).get_data(as_text=True)
    assert "colleague@shop-a.test" in html and shop_b["email"] not in html
    refused = post_form(f"{PAGE}/{prospect}/owner", {"owner_id": str(stranger)}, page=PAGE)
    assert "error=owner_id" in refused.headers["Location"]
    assert post_form(f"{PAGE}/{prospect}/owner", {"owner_id": "x"}, page=PAGE).status_code == 302
    with ctx.sessions() as session:
        assert session.get(Prospect, prospect).owner_id is None
    post_form(f"{PAGE}/{prospect}/owner", {"owner_id": str(colleague)}, page=PAGE)
    with ctx.sessions() as session:
        assert session.get(Prospect, prospect).owner_id == colleague
    mine = client.get(f"{PAGE}?owner={colleague}").get_data(as_text=True)
    assert "ana@example.com" in mine and "ana@example.com" not in client.get(f"{PAGE}?owner=none").get_data(
        as_text=True
    )
    post_form(f"{PAGE}/{prospect}/owner", {"owner_id": ""}, page=PAGE)
    with ctx.sessions() as session:
        assert session.get(Prospect, prospect).owner_id is None


def test_another_shops_prospect_is_out_of_reach(
    ctx: Context, signed_in: dict[str, Any], shop_b: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    theirs = queued(ctx, shop_b["id"], "bob@example.com", hours=24)
    assert post_form(f"{PAGE}/{theirs}/status", {"status": "won"}, page=PAGE).status_code == 404
    with ctx.sessions() as session:
        assert session.get(Prospect, theirs).status == "to_contact"
