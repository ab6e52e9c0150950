"""Decay that shows: stored scores and tiers follow decay on schedule, with no journey or email for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bridge import jobs, schedule
from bridge.db import transaction
from bridge.db.models import JourneyRun, Lead, Offer, ScoreChange, TierSnapshot
from bridge.infra import queue
from bridge.leads import decay, rescore, scores
from bridge.leads import rules as rulesets
from bridge.outreach import results
from scoring import DEFAULT_SCORING


def lead_row(ctx, lead_id: int) -> Lead:
    with ctx.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead


def reasons(ctx, lead_id: int) -> list[tuple[str, str, str]]:
    with ctx.sessions() as session:
        return [
            (row.old_tier, row.new_tier, row.reason)
            for row in session.scalars(
                sa.select(ScoreChange).where(ScoreChange.lead_id == lead_id).order_by(ScoreChange.id)
            )
        ]


def count(ctx, model) -> int:
    with ctx.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def queued(ctx) -> int:
    return sum(len(queue.get_queue(ctx.redis, name)) for name in queue.QUEUES)


def tick(ctx, run_jobs) -> None:
    """The scheduler's tick for the decay job, then a real RQ worker drains the queues."""
    [periodic] = [p for p in schedule.periodic_jobs() if p.func is jobs.rescore_decayed]
    assert periodic.every_seconds == decay.EVERY_SECONDS
    schedule.enqueue_now(ctx.redis, periodic)()
    run_jobs()


def test_a_warm_lead_with_no_new_activity_cools_on_schedule_and_gets_nothing_for_it(
    ctx, clock, shopify_shop, add_lead, run_jobs
):
    shop = shopify_shop["id"]
    # three checkouts today: 60 points, warm; at a 30-day half-life it falls under 39.5 after ~18.1 days
    lead_id = add_lead(shop, "warm@example.com", [("checkout_started", clock.now)] * 3)
    scores.score_and_commit(ctx, shop, [lead_id], "event checkouts/create")
    lead = lead_row(ctx, lead_id)
    assert (lead.score, lead.tier) == (60, "warm")
    due = lead.score_due_at
    assert due is not None and timedelta(days=18) < due - clock.now < timedelta(days=18.2)

    clock.advance(days=10)
    tick(ctx, run_jobs)
    assert lead_row(ctx, lead_id).tier == "warm"  # not due yet: not even rescored
    assert reasons(ctx, lead_id) == [("cold", "warm", "event checkouts/create")]

    clock.now = due + timedelta(minutes=3)  # the next tick after the due second
    tick(ctx, run_jobs)
    lead = lead_row(ctx, lead_id)
    assert (lead.score, lead.tier) == (39, "cold")
    assert lead.score_due_at is None  # cold, and its points only fall: nothing more is due
    assert reasons(ctx, lead_id)[-1] == ("warm", "cold", "decay")
    assert count(ctx, JourneyRun) == count(ctx, Offer) == queued(ctx) == 0

    results.snapshot_tiers(ctx)  # the tier charts follow
    with ctx.sessions() as session:
        snapshot = session.scalars(sa.select(TierSnapshot)).one()
    assert snapshot.counts.get("cold") == 1 and not snapshot.counts.get("warm")

    tick(ctx, run_jobs)  # idempotent: nothing is due any more
    assert len(reasons(ctx, lead_id)) == 2


def test_fading_negative_points_lift_a_lead_into_hot_without_starting_the_hot_journey(
    ctx, clock, shopify_shop, add_lead, run_jobs
):
    shop = shopify_shop["id"]
    document = {
        "scoring": {
            "activities": {**DEFAULT_SCORING["activities"], "email_click": {"points": -40}},
            "criteria": [
                {
                    "field": "accepts_marketing",
                    "operator": "eq",
                    "value": True,
                    "points": 95,
                    "label": "Opt-in",
                }
            ],
        }
    }
    with transaction(ctx.sessions) as session:
        rulesets.save(session, shop, document, "test", "", clock.now)
    lead_id = add_lead(shop, "rises@example.com", [("email_click", clock.now)], accepts_marketing=True)
    scores.score_and_commit(ctx, shop, [lead_id], "event")
    lead = lead_row(ctx, lead_id)
    assert (lead.score, lead.tier) == (55, "warm")
    assert lead.score_due_at is not None

    clock.now = lead.score_due_at + timedelta(seconds=1)
    tick(ctx, run_jobs)
    assert lead_row(ctx, lead_id).tier == "hot"
    assert reasons(ctx, lead_id)[-1] == ("warm", "hot", "decay")
    assert count(ctx, JourneyRun) == count(ctx, Offer) == queued(ctx) == 0


def test_tier_entries_never_come_from_decay() -> None:
    up = scores.TierChange(1, "warm", "hot", scores.DECAY)
    down = scores.TierChange(2, "hot", "warm", scores.DECAY)
    by_event = scores.TierChange(3, "warm", "hot", "event orders/create")
    assert scores.tier_entries([up, down, by_event]) == [(3, "hot")]


def test_due_leads_go_in_batches_in_due_order_and_a_tick_is_bounded(ctx, clock, shopify_shop, add_lead):
    shop = shopify_shop["id"]
    ids = [add_lead(shop, f"l{i}@example.com", [("checkout_started", clock.now)] * 3) for i in range(7)]
    scores.score_and_commit(ctx, shop, ids, "event")
    with transaction(ctx.sessions) as session:  # staggered due times, in reverse id order
        for offset, lead_id in enumerate(reversed(ids)):
            session.get(Lead, lead_id).score_due_at = clock.now + timedelta(minutes=offset)
        erased = session.get(Lead, ids[0])
        erased.redacted_at, erased.email = clock.now, None
    clock.advance(hours=1)
    assert decay.rescore_due(ctx, batch_size=2, page_size=2, max_leads=3) == 3
    # the three due first (the last ids) were rescored: nothing else decayed in an hour, so no score change,
    # but each now has its true due time, days away
    taken = [lead_row(ctx, i).score_due_at for i in ids]
    assert all(at > clock.now + timedelta(days=18) for at in taken[4:])
    assert all(at < clock.now for at in taken[:4])
    assert decay.rescore_due(ctx, batch_size=3, page_size=2) == 4
    assert lead_row(ctx, ids[0]).score_due_at is None  # erased: not scored, nothing due
    assert all(lead_row(ctx, i).score_due_at > clock.now for i in ids[1:])
    assert decay.rescore_due(ctx, batch_size=3) == 0


def test_every_scoring_path_keeps_the_due_time(ctx, clock, shopify_shop, add_lead):
    shop = shopify_shop["id"]
    lead_id = add_lead(shop, "a@example.com", [("checkout_started", clock.now)] * 3)
    scores.score_and_commit(ctx, shop, [lead_id], "event")
    before = lead_row(ctx, lead_id).score_due_at
    document = {
        "scoring": {"activities": {**DEFAULT_SCORING["activities"], "checkout_started": {"points": 40}}}
    }
    with transaction(ctx.sessions) as session:
        version = rulesets.save(session, shop, document, "test", "", clock.now).version
    rescore.rescore_shop(ctx, shop, version)  # the bulk rescore after a rules change
    lead = lead_row(ctx, lead_id)
    assert (lead.score, lead.tier) == (100, "hot")
    assert lead.score_due_at is not None and lead.score_due_at != before


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no row locks
def test_a_lead_another_tick_holds_is_skipped_then_taken_once(ctx, clock, shopify_shop, add_lead):
    shop = shopify_shop["id"]
    ids = [add_lead(shop, f"l{i}@example.com", [("checkout_started", clock.now)] * 3) for i in range(3)]
    scores.score_and_commit(ctx, shop, ids, "event")
    clock.now = lead_row(ctx, ids[0]).score_due_at + timedelta(seconds=1)
    with transaction(ctx.sessions) as other:  # the other scheduler's tick, in the middle of its batch
        other.get(Lead, ids[1], with_for_update=True)
        assert decay.rescore_due(ctx) == 2
    assert [r[2] for r in reasons(ctx, ids[1])] == ["event"]  # left to the tick that held it
    assert decay.rescore_due(ctx) == 1  # still due once released
    assert decay.rescore_due(ctx) == 0
    assert [len(reasons(ctx, i)) for i in ids] == [2, 2, 2]  # one decay change each, none twice


def test_decay_s_tier_changes_reach_the_merchant_s_alerts_but_never_as_a_hot_lead(
    ctx, clock, client, shopify_shop, add_lead, run_jobs
):
    from bridge.db.models import AlertDelivery
    from bridge.infra.netguard import Guard
    from tests.fakes.alert_receiver import AlertReceiver
    from tests.integration.alerts.helpers import put_alerts

    shop = shopify_shop["id"]
    ctx.guard = Guard(allow_private=True)  # the receiver listens on this machine
    with AlertReceiver() as receiver:
        document = {
            "subscriptions": [
                {"key": "crm", "url": receiver.url, "events": ["lead.tier_changed", "lead.hot"]}
            ]
        }
        assert put_alerts(client, shopify_shop["api_key"], document).status_code == 200
        cooling = add_lead(shop, "cools@example.com", [("checkout_started", clock.now)] * 3)
        scores.score_and_commit(ctx, shop, [cooling], "event checkouts/create")
        run_jobs()
        with ctx.sessions() as session:
            before = {row.id for row in session.scalars(sa.select(AlertDelivery))}
        clock.now = lead_row(ctx, cooling).score_due_at + timedelta(minutes=1)
        tick(ctx, run_jobs)
        with ctx.sessions() as session:
            rows = [row for row in session.scalars(sa.select(AlertDelivery)) if row.id not in before]
        assert [(row.event_type, row.refs.get("old_tier"), row.refs.get("new_tier")) for row in rows] == [
            ("lead.tier_changed", "warm", "cold")
        ]
        assert rows[0].status == "sent"
