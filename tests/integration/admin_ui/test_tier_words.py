"""Words a merchant knows: tiers keep their names and show the guides' words beside them (French too)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Lead
from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import seed

FRENCH = {"Accept-Language": "fr-FR"}
ENGLISH = {"Accept-Language": "en-GB"}


def make_warm(ctx: Context, lead_id: int) -> None:
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(Lead).where(Lead.id == lead_id).values(tier="warm", score=55))


def test_the_leads_pages_show_the_guides_words_beside_the_tier(
    client: Any, ctx: Context, shop_a: dict[str, Any], signed_in: Any
) -> None:
    lead_id = seed(ctx, shop_a["id"])["lead"]
    make_warm(ctx, lead_id)
    english = client.get("/admin/leads", headers=ENGLISH).get_data(as_text=True)
    assert "warm · marketing-qualified (MQL)" in english  # the lead's badge
    assert ">hot · sales-qualified (SQL)</option>" in english and ">cold</option>" in english  # the filter
    french = client.get("/admin/leads", headers=FRENCH).get_data(as_text=True)
    assert "tiède · qualifié marketing (MQL)" in french
    assert ">chaud · qualifié ventes (SQL)</option>" in french and ">froid</option>" in french
    lead = client.get(f"/admin/leads/{lead_id}", headers=FRENCH).get_data(as_text=True)
    assert "tiède · qualifié marketing (MQL)" in lead
    overview = client.get("/admin/", headers=FRENCH).get_data(as_text=True)
    assert "Tiède · MQL" in overview and "Chaud · SQL" in overview  # the tier charts' labels
    filtered = client.get("/admin/leads?tier=warm", headers=ENGLISH).get_data(as_text=True)
    assert "ana@example.com" in filtered  # the tier's name is still what filters


def test_the_api_gives_the_words_beside_the_tier(client: Any, ctx: Context, shop_a: dict[str, Any]) -> None:
    lead_id = seed(ctx, shop_a["id"])["lead"]
    make_warm(ctx, lead_id)
    body = client.get(
        f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {shop_a['api_key']}"}
    ).get_json()
    assert (body["tier"], body["tier_label"]) == ("warm", "warm · marketing-qualified (MQL)")
