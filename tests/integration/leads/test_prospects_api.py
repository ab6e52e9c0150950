"""The prospects queue over the JSON API: the list and its filters, changes, and a 422 naming each field
for bad input (an unknown status, an owner who is no user of the shop)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Lead, Prospect, ProspectEvent
from bridge.infra.context import Context
from bridge.leads import prospects
from bridge.shops import users
from tests.integration.leads.conftest import AddLead, bearer

PASSWORD = "long enough password"


def queued(ctx: Context, add_lead: AddLead, shop_id: int, email: str, hours: int = 24) -> int:
    """A hot lead in the queue, due in `hours`; the prospect's id."""
    lead_id = add_lead(shop_id, email, score=85, tier="hot")
    breakdown = {
        "lines": [
            {"rule": "activity:checkout_started", "label": "Started checkout", "count": 4, "points": 70},
            {"rule": "activity:product_view", "label": "Viewed a product", "count": 2, "points": 4},
            {"rule": "criterion:0", "label": "Disposable email", "count": 1, "points": -20},
        ]
    }
    with transaction(ctx.sessions) as session:
        lead = session.get(Lead, lead_id)
        lead.breakdown = breakdown
        return prospects.admit(session, shop_id, lead, "tier:hot", timedelta(hours=hours), ctx.now()).id


def test_the_list_soonest_due_first_with_why_and_timer(
    client: Any, ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop, auth = shopify_shop["id"], bearer(shopify_shop["api_key"])
    late = queued(ctx, add_lead, shop, "late@example.com", hours=2)
    later = queued(ctx, add_lead, shop, "later@example.com", hours=48)
    clock.advance(hours=3)
    answer = client.get("/api/v1/prospects", headers=auth)
    assert answer.status_code == 200
    items = answer.json["prospects"]
    assert [p["id"] for p in items] == [late, later]
    first = items[0]
    assert (first["status"], first["overdue"], first["seconds_left"], first["owner"]) == (
        "to_contact",
        True,
        -3600,
        None,
    )
    assert first["lead"]["email"] == "late@example.com" and first["lead"]["score"] == 85
    assert [line["rule"] for line in first["why"]] == ["activity:checkout_started", "activity:product_view"]
    assert items[1]["overdue"] is False and items[1]["seconds_left"] == 45 * 3600
    overdue = client.get("/api/v1/prospects?overdue=true", headers=auth).json["prospects"]
    assert [p["id"] for p in overdue] == [late]
    assert client.get("/api/v1/prospects?status=won", headers=auth).json["prospects"] == []
    assert client.get("/api/v1/prospects?owner_id=0&limit=1", headers=auth).json["prospects"][0]["id"] == late


def test_a_change_of_status_and_owner(
    client: Any, ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop, auth = shopify_shop["id"], bearer(shopify_shop["api_key"])
    prospect = queued(ctx, add_lead, shop, "ana@example.com")
    with transaction(ctx.sessions) as session:
        user = users.create_user(session, "sales@shop.test", PASSWORD, shop, ctx.now()).id
    answer = client.patch(
        f"/api/v1/prospects/{prospect}", headers=auth, json={"status": "contacted", "owner_id": user}
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "contacted" and answer.json["owner"] == {
        "id": user,
        "email": "sales@shop.test",
    }
    assert answer.json["time_to_first_contact_seconds"] == 0 and answer.json["seconds_left"] is None
    assert (
        client.get(f"/api/v1/prospects?owner_id={user}", headers=auth).json["prospects"][0]["id"] == prospect
    )
    unassigned = client.patch(f"/api/v1/prospects/{prospect}", headers=auth, json={"owner_id": None})
    assert unassigned.status_code == 200 and unassigned.json["owner"] is None
    with ctx.sessions() as session:
        row = session.get(Prospect, prospect)
        kinds = session.scalars(sa.select(Activity.kind).where(Activity.lead_id == row.lead_id)).all()
        assert row.status == "contacted" and kinds == ["sales_contacted"]
        history = session.execute(
            sa.select(ProspectEvent.kind, ProspectEvent.new_value, ProspectEvent.actor).order_by(
                ProspectEvent.id
            )
        ).all()
        assert history == [
            ("entered", "to_contact", "relance"),
            ("owner", str(user), "api"),
            ("status", "contacted", "api"),
            ("owner", None, "api"),
        ]


def test_bad_input_is_a_422_per_field(
    client: Any, ctx: Context, shopify_shop: dict[str, Any], woo_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop, auth = shopify_shop["id"], bearer(shopify_shop["api_key"])
    prospect = queued(ctx, add_lead, shop, "ana@example.com")
    with transaction(ctx.sessions) as session:
        stranger = users.create_user(session, "x@other.test", PASSWORD, woo_shop["id"], ctx.now()).id
    url = f"/api/v1/prospects/{prospect}"

    def errors(body: Any) -> dict[str, Any]:
        answer = client.patch(url, headers=auth, json=body)
        assert answer.status_code == 422, answer.json
        return answer.json["errors"]

    assert list(errors({"status": "called"})) == ["status"]
    assert errors({"owner_id": stranger}) == {"owner_id": ["Must be a user of this shop."]}
    assert list(errors({"owner_id": "me"})) == ["owner_id"]
    assert list(errors({"status": "won", "colour": "red"})) == ["colour"]
    assert list(errors(["won"])) == ["_schema"]
    assert client.patch(url, headers=auth, json={"status": "won"}).status_code == 200
    assert errors({"status": "contacted"}) == {"status": ["A prospect marked won cannot become contacted."]}
    listing = client.get("/api/v1/prospects?status=hot&owner_id=x&limit=0", headers=auth)
    assert listing.status_code == 422 and set(listing.json["errors"]) == {"status", "owner_id", "limit"}
    with ctx.sessions() as session:
        assert session.get(Prospect, prospect).owner_id is None


def test_another_shop_cannot_see_or_change_a_prospect(
    client: Any, ctx: Context, shopify_shop: dict[str, Any], woo_shop: dict[str, Any], add_lead: AddLead
) -> None:
    prospect = queued(ctx, add_lead, shopify_shop["id"], "ana@example.com")
    other = bearer(woo_shop["api_key"])
    assert client.get("/api/v1/prospects", headers=other).json["prospects"] == []
    answer = client.patch(f"/api/v1/prospects/{prospect}", headers=other, json={"status": "won"})
    assert answer.status_code == 404
    assert client.get("/api/v1/prospects").status_code == 401
    with ctx.sessions() as session:
        assert session.get(Prospect, prospect).status == "to_contact"
