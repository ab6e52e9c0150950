"""The bulk rescore job: batches, a checkpoint per batch, crash and resume, superseded runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bridge import jobs
from bridge.db import transaction
from bridge.db.models import Lead, RescoreRun, ScoreChange
from bridge.infra.queue import MAINTENANCE, get_queue
from bridge.leads import rescore
from bridge.leads import rules as rulesets
from scoring import DEFAULT_SCORING


class WorkerKilled(RuntimeError):
    """Stands for a worker dying between rescoring a batch and committing it."""


def rules(add_to_cart: int) -> dict:
    return {
        "scoring": {"activities": {**DEFAULT_SCORING["activities"], "add_to_cart": {"points": add_to_cart}}}
    }


def save(ctx, shop_id: int, document: dict) -> int:
    with transaction(ctx.sessions) as session:
        return rulesets.save(session, shop_id, document, "test", "", ctx.now()).version


@pytest.fixture
def ten_leads(ctx, shopify_shop, add_lead) -> list[int]:
    """Ten leads with one add_to_cart now: under add_to_cart = 30 each scores 30, up from 0."""
    return [
        add_lead(shopify_shop["id"], f"l{i}@example.com", [("add_to_cart", ctx.now())]) for i in range(10)
    ]


def changes_per_lead(ctx, reason: str) -> dict[int, int]:
    with ctx.sessions() as s:
        rows = s.execute(
            sa.select(ScoreChange.lead_id, sa.func.count())
            .where(ScoreChange.reason == reason)
            .group_by(ScoreChange.lead_id)
        )
        return dict(rows.all())


def run_row(ctx, shop_id: int, version: int) -> RescoreRun:
    with ctx.sessions() as s:
        return s.scalars(
            sa.select(RescoreRun).where(RescoreRun.shop_id == shop_id, RescoreRun.version == version)
        ).one()


def test_a_crash_half_way_resumes_without_skipping_or_repeating_a_lead(
    ctx, shopify_shop, ten_leads, run_jobs
):
    shop = shopify_shop["id"]
    version = save(ctx, shop, rules(add_to_cart=30))
    assert rescore.rescore_shop(ctx, shop, version, batch_size=3, max_batches=2) == 6  # part of it
    assert run_row(ctx, shop, version).last_lead_id == ten_leads[5]

    def die(session):
        raise WorkerKilled

    sa.event.listen(ctx.sessions, "before_commit", die)
    try:
        with pytest.raises(WorkerKilled):
            # dies inside the third batch, before its commit
            rescore.rescore_shop(ctx, shop, version, batch_size=3)
    finally:
        sa.event.remove(ctx.sessions, "before_commit", die)
    crashed = run_row(ctx, shop, version)
    assert (crashed.status, crashed.last_lead_id, crashed.processed) == ("running", ten_leads[5], 6)
    assert set(changes_per_lead(ctx, f"rules v{version}")) == set(ten_leads[:6])

    assert jobs.requeue_rescores() == 1  # the periodic relay queues the unfinished run again
    assert jobs.requeue_rescores() == 0  # ... once
    run_jobs()
    assert changes_per_lead(ctx, f"rules v{version}") == dict.fromkeys(ten_leads, 1)
    with ctx.sessions() as s:
        assert set(s.scalars(sa.select(Lead.score))) == {30}
    done = run_row(ctx, shop, version)
    assert (done.status, done.processed, done.last_lead_id) == ("done", 10, ten_leads[-1])
    assert done.finished_at == ctx.now()


def test_a_newer_version_stops_the_older_run(ctx, shopify_shop, ten_leads):
    shop = shopify_shop["id"]
    old = save(ctx, shop, rules(add_to_cart=30))
    assert rescore.rescore_shop(ctx, shop, old, batch_size=4, max_batches=1) == 4
    new = save(ctx, shop, rules(add_to_cart=35))
    assert rescore.rescore_shop(ctx, shop, old, batch_size=4) == 0
    assert run_row(ctx, shop, old).status == "superseded"
    assert rescore.rescore_shop(ctx, shop, new, batch_size=4) == 10
    assert changes_per_lead(ctx, f"rules v{new}") == dict.fromkeys(ten_leads, 1)
    assert len(changes_per_lead(ctx, f"rules v{old}")) == 4
    with ctx.sessions() as s:
        assert set(s.scalars(sa.select(Lead.score))) == {35}


def test_the_same_version_is_queued_once(ctx, shopify_shop):
    shop = shopify_shop["id"]
    version = save(ctx, shop, rules(add_to_cart=30))
    assert rescore.enqueue_rescore(ctx, shop, version) is True
    assert rescore.enqueue_rescore(ctx, shop, version) is False
    assert get_queue(ctx.redis, MAINTENANCE).job_ids == [f"rescore-{shop}-{version}"]


def test_a_finished_run_does_nothing_when_run_again(ctx, shopify_shop, ten_leads):
    shop = shopify_shop["id"]
    version = save(ctx, shop, rules(add_to_cart=30))
    assert rescore.rescore_shop(ctx, shop, version) == 10
    assert rescore.rescore_shop(ctx, shop, version) == 0
    assert jobs.requeue_rescores() == 0
    assert changes_per_lead(ctx, f"rules v{version}") == dict.fromkeys(ten_leads, 1)


def test_redacted_leads_are_not_rescored(ctx, shopify_shop, add_lead):
    shop = shopify_shop["id"]
    kept = add_lead(shop, "kept@example.com", [("add_to_cart", ctx.now())])
    add_lead(shop, None, [("add_to_cart", ctx.now())], redacted_at=ctx.now())
    version = save(ctx, shop, rules(add_to_cart=30))
    assert rescore.rescore_shop(ctx, shop, version) == 1
    assert changes_per_lead(ctx, f"rules v{version}") == {kept: 1}
