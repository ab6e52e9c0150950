"""Scoring throughput: the pure engine alone, then the bulk rescore job on PostgreSQL vs merely loading.

Run from the repository root: `.venv/bin/python -m bench.scoring [--leads 100000] [--activities 50]`.
(a) scores N synthetic leads with M activities each through `scoring.score` on one core (target
    >= 20,000 leads/s); (b) creates the database `relance_bench_scoring`, stores N leads with M
    activities each, times loading them the way the job does (same queries, same batch size) and
    then the bulk rescore job end to end through an RQ worker, and prints the ratio (target <= 3x).
The queue is the in-process one of embedded mode unless `--redis URL` names a private Redis database.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet

import scoring
from bench.common import recreate_database
from bridge import wiring
from bridge.db import transaction
from bridge.db.models import Lead, RescoreRun, ScoreChange
from bridge.infra import queue
from bridge.infra.settings import Settings
from bridge.leads import rescore, scores
from bridge.leads import rules as rulesets
from bridge.shops.registry import create_shop

PG_SERVER = os.environ.get("RELANCE_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "relance_bench_scoring"
# Product views dominate real traffic; every kind appears.
KIND_WEIGHTS = {"product_view": 8, "email_open": 3, "add_to_cart": 2, "email_click": 2}
KINDS = [kind for kind in scoring.ACTIVITY_KINDS for _ in range(KIND_WEIGHTS.get(kind, 1))]
# A year of history: with a 30-day half-life most leads are cold or warm and a minority hot, as in a
# store; squeezing 50 activities into a few weeks would make nearly every lead hot at once.
SPAN_DAYS = 365
CHUNK = 2_000
INSERT_LEADS = """
INSERT INTO leads (shop_id, email, country, accepts_marketing, source, created_at, is_customer,
                   orders_count, score, tier, breakdown)
SELECT :shop, 'lead' || g || CASE WHEN g % 50 = 0 THEN '@mailinator.com' ELSE '@example.com' END,
       (ARRAY['FR', 'BE', 'US', 'DE'])[1 + g % 4], g % 3 <> 0, '{}'::jsonb, now(), g % 20 = 0,
       (g % 20 = 0)::int, 0, 'cold', '{}'::jsonb
FROM generate_series(1, :n) AS g
"""
INSERT_ACTIVITIES = f"""
INSERT INTO activities (shop_id, lead_id, kind, occurred_at, ref)
SELECT :shop, l.id, (ARRAY[{", ".join(f"'{kind}'" for kind in KINDS)}])[1 + floor(random() * :kinds)::int],
       now() - random() * :span * interval '1 day', a::text
FROM leads AS l CROSS JOIN generate_series(1, :per) AS a
WHERE l.shop_id = :shop
ORDER BY l.id
"""


def synthetic_leads(
    count: int, per_lead: int, now: datetime, seed: int = 7
) -> Iterator[list[tuple[scoring.Profile, list[scoring.ActivityRecord]]]]:
    """Chunks of (profile, activities) spread over the last SPAN_DAYS days."""
    rng = random.Random(seed)
    span = SPAN_DAYS * 86_400
    for start in range(0, count, CHUNK):
        chunk = []
        for i in range(start, min(start + CHUNK, count)):
            profile = scoring.Profile(
                email=f"lead{i}@{'mailinator.com' if i % 50 == 0 else 'example.com'}",
                country=("FR", "BE", "US", "DE")[i % 4],
                accepts_marketing=i % 3 != 0,
                is_customer=i % 20 == 0,
            )
            stamps = [now - timedelta(seconds=rng.randrange(span)) for _ in range(per_lead)]
            chunk.append((profile, [scoring.ActivityRecord(rng.choice(KINDS), at) for at in stamps]))
        yield chunk


def bench_engine(count: int, per_lead: int) -> float:
    """Leads per second through the pure engine (generation not timed)."""
    rules, now = scoring.default_rules(), datetime.now(UTC)
    elapsed = 0.0
    for chunk in synthetic_leads(count, per_lead, now):
        started = time.perf_counter()
        for profile, activities in chunk:
            scoring.score(rules, profile, activities, now)
        elapsed += time.perf_counter() - started
    return count / elapsed


def fresh_database() -> str:
    """Drop and create the bench database; returns its URL."""
    return recreate_database(f"{PG_SERVER}/{DATABASE}")


def drop_database() -> None:
    recreate_database(f"{PG_SERVER}/{DATABASE}", create=False)


def populate(ctx: wiring.Context, count: int, per_lead: int) -> int:
    """One shop with `count` leads and `per_lead` activities each, generated inside PostgreSQL."""
    with transaction(ctx.sessions) as session:
        shop_id = create_shop(
            session, ctx.vault, platform="shopify", domain="bench.myshopify.com", now=ctx.now()
        ).shop.id
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.7)"))
        conn.execute(sa.text(INSERT_LEADS), {"shop": shop_id, "n": count})
        conn.execute(
            sa.text(INSERT_ACTIVITIES),
            {"shop": shop_id, "per": per_lead, "kinds": len(KINDS), "span": SPAN_DAYS},
        )
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return shop_id


def load_only(ctx: wiring.Context, shop_id: int, batch: int) -> int:
    """The baseline: read every batch exactly as the job does (ids, lead rows, activities), nothing else."""
    after = loaded = 0
    while True:
        with transaction(ctx.sessions) as session:
            ids = list(
                session.scalars(
                    sa.select(Lead.id)
                    .where(Lead.shop_id == shop_id, Lead.id > after, Lead.redacted_at.is_(None))
                    .order_by(Lead.id)
                    .limit(batch)
                )
            )
            if not ids:
                return loaded
            session.scalars(sa.select(Lead).where(Lead.id.in_(ids), Lead.redacted_at.is_(None))).all()
            activities = scores.load_activities(session, ids)
        loaded += sum(map(len, activities.values()))
        after = ids[-1]


def rescore_job(ctx: wiring.Context, shop_id: int) -> tuple[int, int]:
    """Save a rules change, queue its rescore as the API does, and run it with an RQ worker."""
    document = {
        "scoring": {"activities": {**scoring.DEFAULT_SCORING["activities"], "add_to_cart": {"points": 20}}}
    }
    with transaction(ctx.sessions) as session:
        version = rulesets.save(session, shop_id, document, "bench", "", ctx.now()).version
    assert rescore.enqueue_rescore(ctx, shop_id, version)
    worker = queue.ThreadWorker([queue.get_queue(ctx.redis, queue.MAINTENANCE)], connection=ctx.redis)
    worker.work(burst=True, logging_level="WARNING")
    with ctx.sessions() as session:
        run = session.scalars(sa.select(RescoreRun).where(RescoreRun.version == version)).one()
        assert run.status == "done", run.status
        return run.processed, run.tier_changes


def bench_database(count: int, per_lead: int, batch: int, keep: bool, redis_url: str) -> None:
    started = time.perf_counter()
    url = fresh_database()
    settings = Settings(
        database_url=url,
        redis_url=redis_url,
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
    )
    ctx = wiring.build(settings)
    ctx.redis.flushdb()
    try:
        shop_id = populate(ctx, count, per_lead)
        print(f"stored {count:,} leads x {per_lead} activities in {time.perf_counter() - started:.1f} s")
        t0 = time.perf_counter()
        rows = load_only(ctx, shop_id, batch)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        processed, moved = rescore_job(ctx, shop_id)
        job_s = time.perf_counter() - t0
        with ctx.sessions() as session:
            changed = session.scalar(sa.select(sa.func.count()).select_from(ScoreChange))
            tiers = dict(session.execute(sa.select(Lead.tier, sa.func.count()).group_by(Lead.tier)).all())
        print(f"load only (baseline): {load_s:7.2f} s {count / load_s:>8,.0f} leads/s ({rows:,} activities)")
        print(f"bulk rescore job:     {job_s:7.2f} s {processed / job_s:>8,.0f} leads/s")
        print(f"  score changes written: {changed:,}; tier changes: {moved:,}; tiers after: {tiers}")
        print(f"ratio job/load: {job_s / load_s:.2f}  (target <= 3.00)")
    finally:
        ctx.redis.flushdb()
        ctx.engine.dispose()
        if not keep:
            drop_database()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=50, help="activities per lead")
    parser.add_argument("--batch", type=int, default=rescore.BATCH_SIZE)
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--skip-database", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--redis",
        default="",
        help="a PRIVATE Redis database for the job queue (it is flushed); "
        "default: the in-process queue of embedded mode, so no one else's worker can take the job",
    )
    args = parser.parse_args()
    if not args.skip_engine:
        rate = bench_engine(args.leads, args.activities)
        print(
            f"pure engine: {rate:,.0f} leads/s with {args.activities} activities each, one core "
            "(target >= 20,000)"
        )
    if not args.skip_database:
        bench_database(args.leads, args.activities, args.batch, args.keep, args.redis)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
