"""One shop never sees or touches another's data: every page and action, by guessed ids, answers 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AuditLog, Event, Lead, Offer, Ruleset
from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.conftest import csrf_from, seed, session_token
from tests.integration.admin_ui.forms import form_fields

DETAIL_PAGES = ["/admin/leads/{lead}", "/admin/leads/{lead}/erase"]
ACTIONS = [
    ("/admin/leads/{lead}/export", {}),
    ("/admin/leads/{lead}/erase", {"confirm": "erase"}),
    ("/admin/offers/{offer}/cancel", {}),
    ("/admin/offers/{offer}/resend", {}),
    ("/admin/events/{event}/replay", {}),
]
LISTS = ["/admin/leads", "/admin/carts", "/admin/offers", "/admin/events", "/admin/events?status=failed"]


@pytest.fixture
def other(ctx: Context, signed_in: dict[str, Any], shop_b: dict[str, Any]) -> dict[str, int]:
    """Shop B's rows, with shop A's owner signed in (and A's own rows present too)."""
    seed(ctx, signed_in["id"], "mine@example.com")
    return seed(ctx, shop_b["id"], "theirs@example.com")


def _rows(ctx: Context, shop_id: int) -> list[tuple[Any, ...]]:
    with ctx.sessions() as session:
        leads = session.execute(
            sa.select(Lead.id, Lead.email, Lead.redacted_at).where(Lead.shop_id == shop_id)
        )
        offers = session.execute(sa.select(Offer.id, Offer.status).where(Offer.shop_id == shop_id))
        events = session.execute(sa.select(Event.id, Event.status).where(Event.shop_id == shop_id))
        return [*leads, *offers, *events]


@pytest.mark.parametrize("page", DETAIL_PAGES)
def test_pages_of_another_shop_are_404(client: Any, other: dict[str, int], page: str) -> None:
    assert client.get(page.format(**other)).status_code == 404


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_actions_on_another_shop_are_404_and_change_nothing(
    ctx: Context,
    shop_b: dict[str, Any],
    other: dict[str, int],
    post_form: Callable[..., Any],
    path: str,
    data: dict[str, str],
) -> None:
    before = _rows(ctx, shop_b["id"])
    assert post_form(path.format(**other), data).status_code == 404
    assert _rows(ctx, shop_b["id"]) == before
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


@pytest.mark.parametrize("page", LISTS)
def test_lists_show_only_the_own_shop(client: Any, other: dict[str, int], page: str) -> None:
    html = client.get(page).get_data(as_text=True)
    assert "theirs@example.com" not in html
    assert f"event-{other['event']}" not in html and f"#{other['cart']}<" not in html


def test_overview_and_rules_are_per_shop(
    client: Any, ctx: Context, shop_b: dict[str, Any], other: dict[str, int], post_form: Callable[..., Any]
) -> None:
    assert "theirs@example.com" not in client.get("/admin/leads?email=theirs").get_data(as_text=True)
    form = form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")
    form.update({"action": "save", "scoring.tiers.warm": "30", "scoring.tiers.hot": "70"})
    assert post_form("/admin/rules", form, page="/admin/rules").status_code == 302
    with ctx.sessions() as session:
        assert session.scalar(sa.select(Ruleset.id).where(Ruleset.shop_id == shop_b["id"])) is None
    with transaction(ctx.sessions) as session:
        for hot in (75, 85):
            rules.save(
                session, shop_b["id"], {"scoring": {"tiers": {"warm": 40, "hot": hot}}}, "b", "", ctx.now()
            )
    assert post_form("/admin/rules/versions/2/restore", page="/admin/rules").status_code == 404
    history = client.get("/admin/rules/history").get_data(as_text=True)
    assert "Version 1" in history and "Version 2" not in history


def test_a_session_token_of_shop_b_sees_only_shop_b(
    client: Any, ctx: Context, shop_a: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    mine = seed(ctx, shop_a["id"], "mine@example.com")
    seed(ctx, shop_b["id"], "theirs@example.com")
    token = session_token(ctx, shop_b["domain"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/admin/leads/{mine['lead']}", headers=headers).status_code == 404
    html = client.get("/admin/leads", headers=headers).get_data(as_text=True)
    assert "theirs@example.com" in html and "mine@example.com" not in html
    csrf = csrf_from(client.get("/admin/rules", headers=headers).get_data(as_text=True))
    cancel = client.post(f"/admin/offers/{mine['offer']}/cancel", data={"csrf_token": csrf}, headers=headers)
    assert cancel.status_code == 404
