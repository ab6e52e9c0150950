"""`POST /api/v1/activities`: the merchant's other tools add activities, scored once per id, through the
durable path (stored event, real RQ worker, the normal pipeline)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Event, Lead
from bridge.leads import rules as rulebook


def post(client: Any, shop: dict[str, Any], body: Any, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key or shop['api_key']}"}
    return client.post("/api/v1/activities", json=body, headers=headers)


def activities(ctx: Any) -> list[tuple[str, str, str, bool]]:
    with ctx.sessions() as s:
        rows = s.execute(
            sa.select(Lead.email, Activity.kind, Activity.ref, Activity.storefront)
            .join(Lead, Lead.id == Activity.lead_id)
            .order_by(Activity.id)
        ).all()
    return [tuple(row) for row in rows]


def lead(ctx: Any, email: str) -> Lead:
    with ctx.sessions() as s:
        return s.scalars(sa.select(Lead).where(Lead.email == email)).one()


def test_an_activity_is_stored_queued_and_scored_once_per_id(ctx, client, shopify_shop, run_jobs) -> None:
    body = {"email": " Ana@Example.com ", "kind": "content_download", "id": "dl-1", "ref": "guide-2026"}
    first = post(client, shopify_shop, body)
    assert first.status_code == 202, first.get_data(as_text=True)
    assert first.get_json() == {"ok": True, "id": "dl-1", "duplicate": False}
    run_jobs()
    # The merchant's API may name a new lead; its consent stays unknown.
    found = lead(ctx, "ana@example.com")
    assert found.accepts_marketing is None
    assert found.score == 10 and found.breakdown["lines"][0]["rule"] == "activity:content_download"
    assert activities(ctx) == [("ana@example.com", "content_download", "api:guide-2026", False)]
    # A repeat of the same id answers 2xx and adds nothing, even after processing.
    again = post(client, shopify_shop, body)
    assert again.status_code == 202 and again.get_json()["duplicate"] is True
    run_jobs()
    assert len(activities(ctx)) == 1 and lead(ctx, "ana@example.com").score == 10
    with ctx.sessions() as s:
        assert s.scalars(sa.select(Event.status)).all() == ["processed"]
        assert s.scalar(sa.select(Event.topic)) == "api/activity"


def test_a_future_time_is_taken_as_now_and_a_past_one_kept(ctx, client, shopify_shop, run_jobs) -> None:
    now = ctx.now()
    later = (now + timedelta(days=3)).isoformat()
    earlier = (now - timedelta(days=2)).isoformat()
    post(
        client, shopify_shop, {"email": "a@example.com", "kind": "email_open", "id": 1, "occurred_at": later}
    )
    post(
        client,
        shopify_shop,
        {"email": "b@example.com", "kind": "email_open", "id": 2, "occurred_at": earlier},
    )
    run_jobs()
    with ctx.sessions() as s:
        times = dict(s.execute(sa.select(Activity.ref, Activity.occurred_at).order_by(Activity.ref)).all())
    assert times["api:1"].replace(tzinfo=now.tzinfo) == now
    assert times["api:2"].replace(tzinfo=now.tzinfo) == now - timedelta(days=2)


def test_bad_input_is_a_422_per_field_and_nothing_is_stored(ctx, client, shopify_shop) -> None:
    answer = post(
        client, shopify_shop, {"email": "nope", "kind": "webinar_attended", "occurred_at": "2026-01-01"}
    )
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert set(errors) == {"email", "kind", "id", "occurred_at"}
    assert "Unknown activity kind" in errors["kind"][0]
    # Kinds the store owns (an order, a cart) are not the API's to add.
    answer = post(client, shopify_shop, {"email": "a@example.com", "kind": "order_placed", "id": "x"})
    assert answer.status_code == 422 and set(answer.get_json()["errors"]) == {"kind"}
    batch = {
        "activities": [{"email": "a@example.com", "kind": "email_open", "id": "ok"}, {"kind": "email_open"}]
    }
    answer = post(client, shopify_shop, batch)
    assert answer.status_code == 422
    assert set(answer.get_json()["errors"]["activities"]) == {"1"}
    too_many = {"activities": [{"email": "a@example.com", "kind": "email_open", "id": i} for i in range(101)]}
    assert post(client, shopify_shop, too_many).status_code == 422
    assert (
        post(
            client, shopify_shop, {"email": "a@example.com", "kind": "email_open", "id": "k"}, "bad"
        ).status_code
        == 401
    )
    assert client.post("/api/v1/activities", json={}).status_code == 401
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_merchant_kind_is_accepted_and_scored_with_its_points(ctx, client, shopify_shop, run_jobs) -> None:
    own = {"key": "webinar_attended", "label": "Attended a webinar", "points": 25}
    with transaction(ctx.sessions) as session:
        _, live = rulebook.current(session, shopify_shop["id"])
        document = {**live, "scoring": {**live["scoring"], "custom_kinds": [own]}}
        rulebook.save(session, shopify_shop["id"], document, "test", "webinars", ctx.now())
    batch = {
        "activities": [
            {"email": "lea@example.com", "kind": "webinar_attended", "id": "w-1", "ref": "launch"},
            {"email": "lea@example.com", "kind": "webinar_attended", "id": "w-2", "ref": "launch"},
            {"email": "lea@example.com", "kind": "email_click", "id": "c-1"},
            {"email": "lea@example.com", "kind": "email_click", "id": "c-1"},
        ]
    }
    answer = post(client, shopify_shop, batch)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert (answer.get_json()["accepted"], answer.get_json()["duplicates"]) == (3, 1)
    run_jobs()
    # The same ref is one activity (the same webinar counts once); the same id is one event.
    assert sorted(a[1:3] for a in activities(ctx)) == [
        ("email_click", "api:c-1"),
        ("webinar_attended", "api:launch"),
    ]
    found = lead(ctx, "lea@example.com")
    labels = {line["label"]: line["points"] for line in found.breakdown["lines"]}
    assert round(labels["Attended a webinar"]) == 25 and found.score == 30
