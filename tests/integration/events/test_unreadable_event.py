"""An authentic delivery the pipeline cannot read is kept, failed with its reason, ready to replay."""

from __future__ import annotations

import sqlalchemy as sa

from bridge.db.models import Event


def test_a_checkout_update_without_a_token_is_stored_and_failed(ctx, shopify_shop, post_shopify, run_jobs):
    at = "2026-11-25T09:30:00Z"
    body = {"email": "no.token@example.com", "created_at": at, "updated_at": at}
    assert post_shopify("checkouts/update", body, event_id="no-token").status_code == 200
    run_jobs()
    with ctx.sessions() as s:
        event = s.scalars(sa.select(Event)).one()
    assert event.topic == "checkouts/update" and event.status == "failed"
    assert event.error == "PayloadError: checkouts/update: token is missing"
    assert "no.token@example.com" not in event.error  # no personal data in the error field
