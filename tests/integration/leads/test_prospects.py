"""The prospects queue on stored data: entry when a lead's own activity makes it hot (once while open, anew
after closure), none on a rules change or decay; statuses, owners, the response timer, and outcomes written
once as scored activities."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, AdminUser, Lead, Prospect, ProspectEvent, ScoreChange, Shop
from bridge.infra.context import Context
from bridge.infra.queue import CAMPAIGNS, get_queue
from bridge.leads import prospects, rescore, scores
from bridge.leads import rules as rulesets
from bridge.outreach import triggers
from bridge.shops import users
from scoring import DEFAULT_SCORING
from tests.integration.leads.conftest import AddLead

HOT_BY_ITSELF = "event checkouts/update"  # a reason of the lead's own doing (not "rules v…")


def hot_activities(ctx: Context, count: int = 4) -> list[tuple[str, Any]]:
    """Four checkouts started now: 80 points under the default rules, hot."""
    return [("checkout_started", ctx.now())] * count


def save_rules(ctx: Context, shop_id: int, document: dict[str, Any]) -> int:
    with transaction(ctx.sessions) as session:
        return rulesets.save(session, shop_id, document, "test", "", ctx.now()).version


def outcome_points(**points: int) -> dict[str, Any]:
    activities = {**DEFAULT_SCORING["activities"], **{k: {"points": v} for k, v in points.items()}}
    return {"scoring": {"activities": activities}}


def all_prospects(ctx: Context, lead_id: int | None = None) -> list[Prospect]:
    with ctx.sessions() as session:
        query = sa.select(Prospect).order_by(Prospect.id)
        if lead_id is not None:
            query = query.where(Prospect.lead_id == lead_id)
        return list(session.scalars(query))


def make_hot(ctx: Context, run_jobs: Any, shop_id: int, lead_id: int) -> None:
    """Score the lead after its own activity (queues the tier-entered job) and run the queued jobs."""
    scores.score_and_commit(ctx, shop_id, [lead_id], HOT_BY_ITSELF)
    run_jobs()


def change(ctx: Context, prospect_id: int, **fields: Any) -> dict[str, list[str]]:
    with transaction(ctx.sessions) as session:
        prospect = session.get(Prospect, prospect_id)
        shop = session.get(Shop, prospect.shop_id)
        return prospects.change(session, shop, prospect, "sales@shop.test", ctx.now(), **fields)


def test_a_lead_whose_own_activity_makes_it_hot_enters_once(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    [prospect] = all_prospects(ctx)
    assert (prospect.lead_id, prospect.status, prospect.reason, prospect.owner_id) == (
        lead,
        "to_contact",
        "tier:hot",
        None,
    )
    assert prospect.entered_at == ctx.now() and prospect.due_at == ctx.now() + timedelta(hours=24)
    assert prospect.score_at_entry == 80 and prospect.closed_at is None
    # The job again (a retry, or the next day's entry of the same lead): still one prospect, one entry.
    assert triggers.enter_tier(ctx, lead, "hot") in ("started", "not_started")
    assert len(all_prospects(ctx)) == 1
    with ctx.sessions() as session:
        events = session.execute(sa.select(ProspectEvent.kind, ProspectEvent.new_value, ProspectEvent.score))
        assert events.all() == [("entered", "to_contact", 80)]


def test_warm_is_not_enough_under_the_default_entry(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "warm@example.com", hot_activities(ctx, 2))  # 40 points: warm
    make_hot(ctx, run_jobs, shop, lead)
    with ctx.sessions() as session:
        assert session.get(Lead, lead).tier == "warm"
    assert all_prospects(ctx) == []
    save_rules(ctx, shop, {"prospects": {"entry": {"tier": "warm"}, "response_hours": 4}})
    with transaction(ctx.sessions) as session:  # the merchant chose warm: the next warm entry counts
        session.get(Lead, lead).tier = "cold"
    make_hot(ctx, run_jobs, shop, lead)
    [prospect] = all_prospects(ctx)
    assert prospect.reason == "tier:warm" and prospect.due_at == ctx.now() + timedelta(hours=4)


def test_no_entry_on_a_rules_change(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx, 2))
    scores.score_and_commit(ctx, shop, [lead], HOT_BY_ITSELF)  # warm, 40
    version = save_rules(ctx, shop, {"scoring": {"tiers": {"warm": 20, "hot": 30}}})
    assert rescore.enqueue_rescore(ctx, shop, version)
    run_jobs()
    with ctx.sessions() as session:
        assert session.get(Lead, lead).tier == "hot"  # hot by the merchant's new rules, not by itself
    assert all_prospects(ctx) == []


def test_no_entry_on_decay(
    ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx), score=80, tier="hot")
    clock.advance(days=90)
    scores.score_and_commit(ctx, shop, [lead], HOT_BY_ITSELF)
    assert len(get_queue(ctx.redis, CAMPAIGNS)) == 0  # no tier-entered job for a drop
    run_jobs()
    with ctx.sessions() as session:
        assert session.get(Lead, lead).tier == "cold"
    assert all_prospects(ctx) == []


def test_statuses_move_forward_and_close(
    ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    [prospect] = all_prospects(ctx)
    assert change(ctx, prospect.id, status="called") == {
        "status": ["Must be one of: to_contact, contacted, won, not_a_fit."]
    }
    clock.advance(hours=3)
    assert change(ctx, prospect.id, status="contacted") == {}
    assert change(ctx, prospect.id, status="contacted") == {}  # the same status again: nothing new
    assert change(ctx, prospect.id, status="to_contact") == {
        "status": ["A prospect marked contacted cannot become to_contact."]
    }
    clock.advance(hours=1)
    assert change(ctx, prospect.id, status="won") == {}
    assert change(ctx, prospect.id, status="not_a_fit") == {
        "status": ["A prospect marked won cannot become not_a_fit."]
    }
    [done] = all_prospects(ctx)
    assert done.status == "won" and done.closed_at == clock.now
    assert done.first_contacted_at == done.entered_at + timedelta(hours=3)
    assert prospects.timer(done, clock.now)["time_to_first_contact"] == 3 * 3600
    with ctx.sessions() as session:
        history = session.execute(
            sa.select(
                ProspectEvent.kind, ProspectEvent.old_value, ProspectEvent.new_value, ProspectEvent.actor
            ).order_by(ProspectEvent.id)
        ).all()
    assert history == [
        ("entered", None, "to_contact", "relance"),
        ("status", "to_contact", "contacted", "sales@shop.test"),
        ("status", "contacted", "won", "sales@shop.test"),
    ]


def test_a_closed_prospect_enters_anew_when_the_lead_becomes_hot_again(
    ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    [first] = all_prospects(ctx)
    assert change(ctx, first.id, status="not_a_fit") == {}
    clock.advance(days=60)  # decays out of hot
    scores.score_and_commit(ctx, shop, [lead], "time passes")
    with transaction(ctx.sessions) as session:
        row = session.get(Lead, lead)
        assert row.tier != "hot"
        for index in range(4):
            session.add(
                Activity(
                    shop_id=shop,
                    lead_id=lead,
                    kind="checkout_started",
                    occurred_at=clock.now,
                    ref=f"n{index}",
                )
            )
    make_hot(ctx, run_jobs, shop, lead)
    old, new = all_prospects(ctx, lead)
    assert (old.id, old.status) == (first.id, "not_a_fit")
    assert (new.status, new.closed_at, new.entered_at) == ("to_contact", None, clock.now)


def test_one_open_prospect_per_lead_even_when_admitted_twice(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop = shopify_shop["id"]
    lead_id = add_lead(shop, "ana@example.com", score=85, tier="hot")
    with transaction(ctx.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=24), ctx.now()) is not None
        assert prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=24), ctx.now()) is None
    with pytest.raises(sa.exc.IntegrityError), transaction(ctx.sessions) as session:  # the index holds
        now = ctx.now()
        session.add(
            Prospect(
                shop_id=shop,
                lead_id=lead_id,
                status="to_contact",
                reason="x",
                score_at_entry=0,
                entered_at=now,
                due_at=now,
            )
        )
    assert len(all_prospects(ctx)) == 1


def test_the_timer_against_the_response_target(
    ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    [prospect] = all_prospects(ctx)
    clock.advance(hours=23)
    timer = prospects.timer(prospect, clock.now)
    assert (timer["overdue"], timer["seconds_left"], timer["time_to_first_contact"]) == (False, 3600, None)
    overdue = prospects.QueueFilter(overdue=True)
    with ctx.sessions() as session:
        assert prospects.overdue_count(session, shop, clock.now) == 0
        assert prospects.queue(session, shop, clock.now, overdue, 50) == []
    clock.advance(hours=2)
    assert prospects.timer(prospect, clock.now)["overdue"] is True
    assert prospects.timer(prospect, clock.now)["seconds_left"] == -3600
    with ctx.sessions() as session:
        assert prospects.overdue_count(session, shop, clock.now) == 1
        assert [p.id for p, _ in prospects.queue(session, shop, clock.now, overdue, 50)] == [prospect.id]
    assert change(ctx, prospect.id, status="contacted") == {}  # late, but contacted: the timer stops
    [contacted] = all_prospects(ctx)
    timer = prospects.timer(contacted, clock.now)
    assert (timer["overdue"], timer["seconds_left"], timer["time_to_first_contact"]) == (
        False,
        None,
        25 * 3600,
    )
    with ctx.sessions() as session:
        assert prospects.overdue_count(session, shop, clock.now) == 0


def test_the_queue_is_sorted_by_due_time_and_filtered(
    ctx: Context, clock: Any, shopify_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop = shopify_shop["id"]
    with transaction(ctx.sessions) as session:
        user = users.create_user(session, "sales@shop.test", "long enough password", shop, ctx.now())
        user_id = user.id
    ids = []
    for index, hours in enumerate((30, 10, 20)):
        lead_id = add_lead(shop, f"l{index}@example.com", score=85, tier="hot")
        with transaction(ctx.sessions) as session:
            lead = session.get(Lead, lead_id)
            ids.append(prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=hours), ctx.now()).id)
    assert change(ctx, ids[0], owner_id=user_id) == {}
    assert change(ctx, ids[2], status="won") == {}
    with ctx.sessions() as session:

        def shown(**where: Any) -> list[int]:
            rows = prospects.queue(session, shop, ctx.now(), prospects.QueueFilter(**where), 50)
            return [p.id for p, _ in rows]

        assert shown() == [ids[1], ids[0]]  # open ones, soonest due first
        assert shown(statuses=("won",)) == [ids[2]]
        assert shown(owner_id=user_id) == [ids[0]]
        assert shown(owner_id=0) == [ids[1]]


def test_the_owner_must_be_a_user_of_the_shop(
    ctx: Context, shopify_shop: dict[str, Any], woo_shop: dict[str, Any], add_lead: AddLead
) -> None:
    shop = shopify_shop["id"]
    lead_id = add_lead(shop, "ana@example.com", score=85, tier="hot")
    with transaction(ctx.sessions) as session:
        mine = users.create_user(session, "sales@shop.test", "long enough password", shop, ctx.now()).id
        other = woo_shop["id"]
        theirs = users.create_user(session, "x@other.test", "long enough password", other, ctx.now()).id
        lead = session.get(Lead, lead_id)
        prospect_id = prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=24), ctx.now()).id
    assert change(ctx, prospect_id, owner_id=theirs) == {"owner_id": ["Must be a user of this shop."]}
    assert change(ctx, prospect_id, owner_id=10**6) == {"owner_id": ["Must be a user of this shop."]}
    assert change(ctx, prospect_id, owner_id=mine, status="nope") == {
        "status": ["Must be one of: to_contact, contacted, won, not_a_fit."]
    }
    assert all_prospects(ctx)[0].owner_id is None  # a refused change changes nothing
    assert change(ctx, prospect_id, owner_id=mine) == {}
    assert all_prospects(ctx)[0].owner_id == mine
    with transaction(ctx.sessions) as session:  # the user leaves: the prospect is nobody's again
        session.delete(session.get(AdminUser, mine))
    assert all_prospects(ctx)[0].owner_id is None
    assert change(ctx, prospect_id, owner_id=None) == {}


def test_outcomes_are_scored_activities_written_once(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    save_rules(ctx, shop, outcome_points(sales_contacted=5, sales_won=10, sales_not_a_fit=-30))
    seen = ctx.now() - timedelta(hours=1)
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx), last_activity_at=seen)
    make_hot(ctx, run_jobs, shop, lead)
    [prospect] = all_prospects(ctx)
    assert change(ctx, prospect.id, status="won") == {}  # straight to won: contacted meanwhile
    with ctx.sessions() as session:
        kinds = session.scalars(
            sa.select(Activity.kind).where(
                Activity.lead_id == lead, Activity.ref == f"prospect:{prospect.id}"
            )
        ).all()
        row = session.get(Lead, lead)
        lines = {line["rule"]: line["points"] for line in row.breakdown["lines"]}
        reasons = session.scalars(sa.select(ScoreChange.reason).where(ScoreChange.lead_id == lead)).all()
        won = session.execute(
            sa.select(ProspectEvent.score, ProspectEvent.tier).where(ProspectEvent.new_value == "won")
        ).one()
    assert tuple(won) == (80, "hot")  # the score the outcome met, before the outcome's own points
    assert row.last_activity_at == seen  # the lead's own last activity, not the salesperson's click
    assert sorted(kinds) == ["sales_contacted", "sales_won"]
    assert row.score == 95 and lines["activity:sales_won"] == 10 and lines["activity:sales_contacted"] == 5
    assert "sales: won" in reasons
    # Again (a double click, a retry): nothing added, the score unchanged after a rescore.
    assert change(ctx, prospect.id, status="won") == {}
    scores.score_and_commit(ctx, shop, [lead], "again")
    with ctx.sessions() as session:
        count = session.scalar(
            sa.select(sa.func.count()).select_from(Activity).where(Activity.lead_id == lead)
        )
        assert count == 4 + 2 and session.get(Lead, lead).score == 95


def test_an_outcome_that_moves_a_tier_starts_no_journey_and_no_entry(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    save_rules(ctx, shop, outcome_points(sales_contacted=50))
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx, 2), score=40, tier="warm")
    with transaction(ctx.sessions) as session:
        prospect_id = prospects.admit(
            session, shop, session.get(Lead, lead), "segment:vip", timedelta(hours=24), ctx.now()
        ).id
    assert change(ctx, prospect_id, status="contacted") == {}
    with ctx.sessions() as session:
        assert session.get(Lead, lead).tier == "hot"
    assert len(get_queue(ctx.redis, CAMPAIGNS)) == 0
    assert len(all_prospects(ctx)) == 1


def test_a_segment_entry_is_kept_but_enters_nobody_through_tiers(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    save_rules(ctx, shop, {"prospects": {"entry": {"segment": "big-spenders"}}})
    with ctx.sessions() as session:
        settings = rulesets.prospect_settings_for(session, shop)
    assert (settings.entry_tier, settings.entry_segment, settings.reason) == (
        None,
        "big-spenders",
        "segment:big-spenders",
    )
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    assert all_prospects(ctx) == []
    with transaction(ctx.sessions) as session:  # what the segments' part will call when a lead joins
        shop_row, row = session.get(Shop, shop), session.get(Lead, lead)
        assert prospects.enter_segment(session, shop_row, row, "other-segment", ctx.now()) is None
        assert prospects.enter_segment(session, shop_row, row, "big-spenders", ctx.now()) is not None
    [prospect] = all_prospects(ctx)
    assert prospect.reason == "segment:big-spenders"


def test_a_disabled_queue_takes_nobody(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead, run_jobs: Any
) -> None:
    shop = shopify_shop["id"]
    save_rules(ctx, shop, {"prospects": {"enabled": False}})
    lead = add_lead(shop, "ana@example.com", hot_activities(ctx))
    make_hot(ctx, run_jobs, shop, lead)
    with ctx.sessions() as session:
        assert session.get(Lead, lead).tier == "hot"
    assert all_prospects(ctx) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # concurrent writers need PostgreSQL
def test_two_entries_at_once_make_one_prospect(
    ctx: Context, shopify_shop: dict[str, Any], add_lead: AddLead
) -> None:
    """Two entries racing past the "already open?" check: the partial unique index lets one in, and the
    other gives way quietly (no error, no second prospect)."""
    shop = shopify_shop["id"]
    lead_id = add_lead(shop, "ana@example.com", score=85, tier="hot")
    results: list[Prospect | None] = []

    def second_entry() -> None:
        with transaction(ctx.sessions) as session:
            lead = session.get(Lead, lead_id)
            results.append(prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=24), ctx.now()))

    racer = threading.Thread(target=second_entry)
    with transaction(ctx.sessions) as session:
        lead = session.get(Lead, lead_id)
        assert prospects.admit(session, shop, lead, "tier:hot", timedelta(hours=24), ctx.now()) is not None
        racer.start()
        racer.join(1.5)
        assert racer.is_alive() and results == []  # its insert waits on the index for this transaction
    racer.join(30)
    assert results == [None] and len(all_prospects(ctx)) == 1


def test_a_segment_entry_takes_the_members_an_event_touches(
    ctx: Context, shopify_shop: dict[str, Any], post_shopify: Any, run_jobs: Any
) -> None:
    from tests.conftest import fixture

    shop = shopify_shop["id"]
    segment = {
        "key": "net-customers",
        "name": "example.net shoppers",
        "match": "all",
        "conditions": [{"field": "email_domain", "operator": "eq", "value": "example.net"}],
    }
    save_rules(ctx, shop, {"segments": [segment], "prospects": {"entry": {"segment": "net-customers"}}})
    assert post_shopify("customers/create", fixture("shopify", "customers__create.json")).status_code == 200
    run_jobs()
    [prospect] = all_prospects(ctx)  # odile.brandt@example.net is in the segment: she enters at once
    assert prospect.reason == "segment:net-customers" and prospect.status == "to_contact"
    assert post_shopify("customers/update", fixture("shopify", "customers__create.json")).status_code == 200
    run_jobs()
    assert len(all_prospects(ctx)) == 1  # open already: nothing more
