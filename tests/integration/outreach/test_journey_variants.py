"""A/B variants at run time, on the built-in demo store (codes in Redis) and a real SMTP server: each run
gets the variant its key draws, timed by that variant's delay, sent with its subject and its code (or none),
and recorded on the step's offer row; a run held out at the step gets no variant."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import JourneyRun, Lead, Offer, Shop
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import runs, sweep
from campaigns.journeys import run_step
from tests.fakes.smtp import SMTPServer
from tests.integration.outreach.journeys_helpers import campaign, send_due_steps, write_rules
from tests.integration.outreach.test_journeys import checkout_payload

PLAIN = {"en": {"subject": "Variant A: your cart", "body": "Your cart waits."}}
CODED = {"en": {"subject": "Variant B: a code", "body": "{% if code %}Code {{ code }}{% endif %}"}}


def _tested_journey(holdout: float = 0.0) -> dict:
    """One step an hour after abandonment: "a" a plain reminder, "b" a 10 % code half an hour later."""
    return {
        "key": "cart",
        "trigger": "cart_abandoned",
        "holdout_share": holdout,
        "steps": [
            {
                "after_minutes": 60,
                "messages": PLAIN,
                "weight": 1,
                "variants": [
                    {
                        "key": "b",
                        "weight": 1,
                        "messages": CODED,
                        "offer": {"kind": "percentage", "value": 10, "expires_hours": 48},
                        "after_minutes": 90,
                    }
                ],
            }
        ],
    }


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop(ctx, shopify_shop, smtp):
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
    with transaction(ctx.sessions) as session:
        session.get(Shop, shopify_shop["id"]).state = {"demo": True}
    return shopify_shop


def _abandon(ctx: Context, clock, post_shopify, run_jobs, count: int) -> None:
    for i in range(count):
        assert (
            post_shopify("checkouts/create", checkout_payload(f"p{i}@example.com", f"t{i}")).status_code
            == 200
        )
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == count
    run_jobs()


def _loaded(ctx: Context, shop_id: int) -> campaigns.Journey:
    with ctx.sessions() as session:
        [journey] = rules.journeys_for(session, shop_id)
    return journey


def test_each_run_gets_its_variants_delay_subject_and_code(ctx, clock, shop, smtp, post_shopify, run_jobs):
    write_rules(ctx, shop["id"], {"campaign": campaign(sender_name="Demo"), "journeys": [_tested_journey()]})
    _abandon(ctx, clock, post_shopify, run_jobs, 12)
    journey = _loaded(ctx, shop["id"])
    with ctx.sessions() as session:
        started = list(session.scalars(sa.select(JourneyRun).order_by(JourneyRun.id)))
        emails = {lead.id: lead.email for lead in session.scalars(sa.select(Lead))}
    expected = {run.id: run_step(journey, 0, runs.key_of(run))[0] for run in started}
    assert set(expected.values()) == {"a", "b"}  # both variants among these twelve runs
    for run in started:  # the delay of the run's variant, from the abandonment
        minutes = 90 if expected[run.id] == "b" else 60
        assert run.next_due_at == run.trigger_at + timedelta(minutes=minutes)

    [trigger_at] = {run.trigger_at for run in started}
    wait = (trigger_at + timedelta(minutes=61) - clock.now).total_seconds() / 60
    send_due_steps(ctx, clock, run_jobs, minutes=wait)  # 61 minutes after abandonment: the a runs only
    sent_a = [m["To"] for m in smtp.messages]
    assert sorted(sent_a) == sorted(emails[run.lead_id] for run in started if expected[run.id] == "a")
    send_due_steps(ctx, clock, run_jobs, minutes=30)
    assert len(smtp.messages) == 12

    by_email = {m["To"]: m for m in smtp.messages}
    with ctx.sessions() as session:
        offers = {o.run_id: o for o in session.scalars(sa.select(Offer))}
    for run in started:
        offer, message = offers[run.id], by_email[emails[run.lead_id]]
        assert offer.variant == expected[run.id]
        if expected[run.id] == "b":
            assert message["Subject"] == "Variant B: a code"
            assert offer.code and offer.kind == "percentage" and offer.value == 10
            assert offer.code in message.get_body(("plain",)).get_content()
        else:
            assert message["Subject"] == "Variant A: your cart"
            assert offer.code is None and offer.kind == "reminder"


def test_a_run_held_out_at_the_step_gets_no_variant(ctx, clock, shop, smtp, post_shopify, run_jobs):
    write_rules(ctx, shop["id"], {"campaign": campaign(), "journeys": [_tested_journey(holdout=0.5)]})
    _abandon(ctx, clock, post_shopify, run_jobs, 12)
    send_due_steps(ctx, clock, run_jobs, minutes=200)
    with ctx.sessions() as session:
        started = list(session.scalars(sa.select(JourneyRun)))
        offers = {o.run_id: o for o in session.scalars(sa.select(Offer))}
    held = [run for run in started if run.holdout_stop == 0]
    assert held and len(held) < len(started)
    for run in started:
        offer = offers[run.id]
        if run.holdout_stop == 0:
            assert offer.holdout and offer.variant is None and run.exit_reason == "holdout"
        else:
            assert not offer.holdout and offer.variant in ("a", "b")
