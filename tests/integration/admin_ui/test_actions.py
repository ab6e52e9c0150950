"""Actions: privacy export and erase, replay of a failed event, cancel and resend of an offer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from rq.job import Job

from bridge.db.models import AuditLog, Cart, Event, Lead, Offer
from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import demo_store, seed


def _audit(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    with ctx.sessions() as session:
        return [
            tuple(r) for r in session.execute(sa.select(AuditLog.actor, AuditLog.action, AuditLog.detail))
        ]


def test_export_downloads_everything_and_is_audited(
    ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    ids = seed(ctx, signed_in["id"])
    response = post_form(f"/admin/leads/{ids['lead']}/export")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="relance-lead-{ids["lead"]}.json"'
    )
    document = json.loads(response.get_data(as_text=True))
    assert document["lead"]["email"] == "ana@example.com"
    assert [a["kind"] for a in document["activities"]] == ["add_to_cart"]
    assert document["offers"][0]["code"].startswith("RL")
    assert _audit(ctx) == [(signed_in["email"], "lead.exported", {"lead_id": ids["lead"]})]


def test_erase_needs_confirmation_then_erases(
    client: Any, ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    ids = seed(ctx, signed_in["id"])
    page = f"/admin/leads/{ids['lead']}/erase"
    assert "cannot be undone" in client.get(page).get_data(as_text=True)
    assert post_form(page, {}, page=page).status_code == 400
    with ctx.sessions() as session:
        assert session.get(Lead, ids["lead"]).email == "ana@example.com"
    response = post_form(page, {"confirm": "erase"}, page=page)
    assert response.status_code == 302
    with ctx.sessions() as session:
        lead, cart = session.get(Lead, ids["lead"]), session.get(Cart, ids["cart"])
        assert lead.email is None and lead.first_name is None and lead.redacted_at is not None
        assert cart.email is None and cart.subtotal == 80
    assert _audit(ctx) == [(signed_in["email"], "lead.erased", {"lead_id": ids["lead"]})]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ana@example.com" not in html and "personal data was erased" in html


def test_replay_puts_a_failed_event_back_through_the_pipeline(
    ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any], run_jobs: Callable[[], None]
) -> None:
    ids = seed(ctx, signed_in["id"])
    response = post_form(f"/admin/events/{ids['event']}/replay", page="/admin/events")
    assert response.status_code == 302 and "done=replayed" in response.headers["Location"]
    with ctx.sessions() as session:
        event = session.get(Event, ids["event"])
        assert (event.status, event.attempts, event.error) == ("pending", 0, None)
    assert Job.exists(f"event-{ids['event']}", connection=ctx.redis)
    run_jobs()
    with ctx.sessions() as session:
        assert session.get(Event, ids["event"]).status in ("ignored", "failed", "processed")
    assert ("event.replayed", {"event_id": ids["event"]}) in [(a, d) for _, a, d in _audit(ctx)]


def test_cancel_removes_the_code_from_the_store(
    ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    demo_store(ctx, signed_in["id"])
    ids = seed(ctx, signed_in["id"])
    book = f"relance:demo:{signed_in['id']}:codes"
    with ctx.sessions() as session:
        code = session.get(Offer, ids["offer"]).code
    ctx.redis.hset(book, code, json.dumps({"id": f"demo-{code}"}))
    response = post_form(f"/admin/offers/{ids['offer']}/cancel", page="/admin/offers")
    assert response.status_code == 302 and "done=cancelled" in response.headers["Location"]
    with ctx.sessions() as session:
        offer = session.get(Offer, ids["offer"])
        assert (offer.status, offer.decision) == ("cancelled", "cancelled_by_merchant")
    assert ctx.redis.hget(book, code) is None
    again = post_form(f"/admin/offers/{ids['offer']}/cancel", page="/admin/offers")
    assert "done=not_cancellable" in again.headers["Location"]


def test_resend_goes_back_through_the_delivery_job(
    ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    ids = seed(ctx, signed_in["id"])
    response = post_form(f"/admin/offers/{ids['offer']}/resend", page="/admin/offers")
    assert "done=resent" in response.headers["Location"]
    with ctx.sessions() as session:
        assert session.get(Offer, ids["offer"]).status == "created"
    assert Job.exists(f"deliver-{ids['offer']}", connection=ctx.redis)
    again = post_form(f"/admin/offers/{ids['offer']}/resend", page="/admin/offers")
    assert "done=not_resendable" in again.headers["Location"]  # only sent offers are resent


def test_resend_refuses_a_cart_that_ordered(
    ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    ids = seed(ctx, signed_in["id"])
    with ctx.sessions() as session:
        session.execute(sa.update(Cart).where(Cart.id == ids["cart"]).values(status="recovered"))
        session.commit()
    response = post_form(f"/admin/offers/{ids['offer']}/resend", page="/admin/offers")
    assert "done=not_resendable" in response.headers["Location"]
    with ctx.sessions() as session:
        assert session.get(Offer, ids["offer"]).status == "sent"


def test_reregister_webhooks_queues_the_setup_job(
    client: Any, ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    response = post_form("/admin/health/webhooks", page="/admin/health")
    assert "done=queued" in response.headers["Location"]
    assert Job.exists(f"shopify-setup-{signed_in['id']}", connection=ctx.redis)
    demo_store(ctx, signed_in["id"])
    html = client.get("/admin/health").get_data(as_text=True)
    assert "disabled" in html and "demo store has no webhooks" in html
    assert "done=unavailable" in post_form("/admin/health/webhooks", page="/admin/health").headers["Location"]


def test_a_new_api_key_is_shown_once_and_replaces_the_old_one(
    client: Any, ctx: Context, signed_in: dict[str, Any], post_form: Callable[..., Any]
) -> None:
    old = {"Authorization": f"Bearer {signed_in['api_key']}"}
    assert client.get("/api/v1/events", headers=old).status_code == 200
    response = post_form("/admin/health/api-key", page="/admin/health")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    key = re.search(r'id="new-api-key">(rl_[^<]+)<', html).group(1)
    assert key != signed_in["api_key"]
    assert client.get("/api/v1/events", headers=old).status_code == 401
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert key not in client.get("/admin/health").get_data(as_text=True)  # shown once
    with ctx.sessions() as session:
        assert key not in json.dumps([list(r) for r in session.execute(sa.select(AuditLog.detail))])
    assert (signed_in["email"], "api_key.replaced") in [(actor, a) for actor, a, _ in _audit(ctx)]
    assert client.post("/admin/health/api-key").status_code == 400  # no CSRF token, no new key
