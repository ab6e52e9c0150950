"""An unsubscribe collected by Relance reaches Shopify: after the opt-out commits, a retried job records
UNSUBSCRIBED on the customer (customerEmailMarketingConsentUpdate on the fake store, schema-checked); a
guest checkout has no customer to update, and the audit log says so."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from rq.job import Job

from bridge.db import transaction
from bridge.db.models import AuditLog, Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.outreach import tracking
from tests.integration.connectors.shopify.conftest import SHOP


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()  # the setup job
    with ctx.sessions() as session:
        return int(session.scalar(sa.select(Shop.id).where(Shop.domain == SHOP)))


def sent_offer(ctx, shop_id: int, email: str, customer_id: str | None) -> Offer:
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        lead = Lead(
            shop_id=shop_id,
            email=email,
            external_id=customer_id,
            accepts_marketing=True,
            created_at=now,
            source={},
        )
        session.add(lead)
        session.flush()
        offer = Offer(
            shop_id=shop_id,
            lead_id=lead.id,
            reason="abandoned_cart",
            code=f"BACK-{lead.id}-XYZ",
            kind="percentage",
            value=Decimal(10),
            currency="EUR",
            starts_at=now,
            expires_at=now + timedelta(hours=24),
            status="sent",
            created_at=now,
            sent_at=now,
            recipient=email,
        )
        session.add(offer)
        session.flush()
        session.expunge(offer)
        return offer


def unsubscribe(ctx, client, offer: Offer):
    return client.post(urlsplit(tracking.unsubscribe_url(ctx, offer)).path)


def audits(ctx, action: str) -> list[AuditLog]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def test_an_unsubscribe_is_written_back_to_the_shopify_customer(ctx, client, fake, shop_id, run_jobs):
    fake.seed(
        customers=[{"id": "gid://shopify/Customer/7261", "defaultEmailAddress": {"emailAddress": "a@x.io"}}]
    )
    offer = sent_offer(ctx, shop_id, "ana@example.com", "7261")
    assert unsubscribe(ctx, client, offer).status_code == 200
    assert fake.data.consent_updates == []  # not in the request: after commit, in a job
    run_jobs()
    [update] = fake.data.consent_updates
    assert (
        update["customerId"] == "gid://shopify/Customer/7261" and update["marketingState"] == "UNSUBSCRIBED"
    )
    [synced] = audits(ctx, "consent.synced")
    assert synced.shop_id == shop_id and synced.detail["customer_id"] == "7261"
    assert synced.detail["shopify_state"] == "UNSUBSCRIBED"
    assert "ana@example.com" not in str(synced.detail)  # no email in the audit trail


def test_a_guest_has_no_customer_record_and_the_audit_log_says_so(ctx, client, fake, shop_id, run_jobs):
    offer = sent_offer(ctx, shop_id, "guest@example.com", None)
    assert unsubscribe(ctx, client, offer).status_code == 200
    run_jobs()
    assert fake.data.consent_updates == []
    assert not [c for c in fake.calls if c.operation == "RelanceEmailConsent"]
    [skipped] = audits(ctx, "consent.not_synced")
    assert skipped.detail["lead_id"] == offer.lead_id and "guest" in skipped.detail["reason"]


def test_a_refusal_is_recorded_and_not_retried(ctx, client, fake, shop_id, run_jobs):
    offer = sent_offer(ctx, shop_id, "ana@example.com", "404404")  # no such customer on the store
    unsubscribe(ctx, client, offer)
    run_jobs()
    [refused] = audits(ctx, "consent.sync_refused")
    assert refused.detail["code"] == "consent_rejected"
    assert queue.get_queue(ctx.redis, queue.MAINTENANCE).count == 0


def test_the_sync_job_is_queued_after_commit_with_retries(ctx, client, shop_id):
    offer = sent_offer(ctx, shop_id, "ana@example.com", "7261")
    unsubscribe(ctx, client, offer)
    job = Job.fetch(jobnames.consent_sync_id(offer.lead_id), connection=ctx.redis)
    assert job.func_name == "bridge.jobs.sync_marketing_consent" and job.args == (offer.lead_id,)
    assert job.retries_left == 4  # Shopify down: RQ tries again (5 s, 30 s, 2 min, 10 min)
    with ctx.sessions() as session:
        assert session.get(Lead, offer.lead_id).unsubscribed_at is not None  # committed before


def test_a_customer_who_resubscribed_on_shopify_meanwhile_is_left_alone(ctx, client, fake, shop_id, run_jobs):
    fake.seed(
        customers=[{"id": "gid://shopify/Customer/7261", "defaultEmailAddress": {"emailAddress": "a@x.io"}}]
    )
    offer = sent_offer(ctx, shop_id, "ana@example.com", "7261")
    unsubscribe(ctx, client, offer)
    with transaction(ctx.sessions) as session:  # a newer customers/update said subscribed again
        session.get(Lead, offer.lead_id).accepts_marketing = True
    run_jobs()
    assert fake.data.consent_updates == [] and audits(ctx, "consent.synced") == []
