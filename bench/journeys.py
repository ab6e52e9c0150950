"""The journeys' sweep on 1,000,000 runs, 1 % of them due, beside one bare indexed SELECT of the due runs.

Run: `.venv/bin/python -m bench.journeys [--runs N] [--due N] [--small N] [--repeats 3]` (needs PostgreSQL
and Redis). Seeds the migrated schema with one shop, its leads and `--runs` journey runs (default 1,000,000):
`--due` of them active and due (default 1 %), of the others about 60 % active but due later and the rest
ended, with server-side generate_series INSERTs. Then prints, each figure the median of `--repeats` timed
repeats (after one untimed warm-up) with the repeats listed:
- the baseline: `SELECT id` of the due runs (the WHERE of `due_runs`), through psycopg directly;
- `due_runs` alone, and `sweep_due` end to end (read the due runs, mark them in Redis, enqueue their step
  jobs; the jobs are not run), with the bench's Redis DB flushed, untimed, before each repeat;
- the ratio sweep / baseline (target <= 5) and the EXPLAIN ANALYZE of the query `due_runs` sends;
- the same after reseeding `--small` runs (default 100,000) with the same number due: the ratio of the two
  sweep times tells whether the sweep depends on the runs not due (it should be about 1).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.common import recreate_database
from bridge import wiring
from bridge.db import transaction
from bridge.infra.queue import CAMPAIGNS, get_queue
from bridge.infra.settings import Settings
from bridge.outreach import journey_sweep
from bridge.shops.registry import create_shop

PG = os.environ.get("RELANCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_bench_journeys")
REDIS = os.environ.get("RELANCE_BENCH_REDIS", "redis://127.0.0.1:6379/11")
DSN = sa.make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)  # for psycopg
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASELINE = "SELECT id FROM journey_runs WHERE status = 'active' AND next_due_at <= %s"
# For reference: the query `due_runs` sends (its due times too, in order), through psycopg directly.
DUE_QUERY = BASELINE.replace("SELECT id", "SELECT id, next_due_at") + " ORDER BY next_due_at LIMIT 20000"

LEADS_SQL = """
INSERT INTO leads (shop_id, email, created_at, source, is_customer, orders_count, score, tier, breakdown)
SELECT :shop, 'lead' || g || '@example.com', :now, '{}', false, 0, 0, 'cold', '{}'
FROM generate_series(1, :leads) AS g
"""
# Row g is due when g is a multiple of :every (so the due runs are spread over the whole table); of the
# others, those with g % 100 in 1..60 are active and due within the next day, the rest ended.
RUNS_SQL = """
INSERT INTO journey_runs (shop_id, lead_id, journey_key, "trigger", instance, trigger_at, status, step,
                          next_due_at, created_at, ended_at, exit_reason)
SELECT :shop, :first_lead + g % :leads, 'cart_default', 'cart_abandoned', 'cart:' || g,
       :now - interval '1 day', CASE WHEN kind = 'ended' THEN 'ended' ELSE 'active' END, 1,
       CASE kind WHEN 'due' THEN :now - (g % 3600) * interval '1 second'
                 WHEN 'later' THEN :now + (1 + g % 86400) * interval '1 second' END,
       :now - interval '1 day',
       CASE WHEN kind = 'ended' THEN :now - interval '1 hour' END,
       CASE WHEN kind = 'ended' THEN 'converted' END
FROM (SELECT g, CASE WHEN g % :every = 0 THEN 'due' WHEN g % 100 BETWEEN 1 AND 60 THEN 'later'
                     ELSE 'ended' END AS kind
      FROM generate_series(1, :runs) AS g) AS seeded
"""


def setup(instance: str, leads: int) -> tuple[wiring.Context, int, int]:
    """A migrated bench database with one shop and its leads: (context, shop id, first lead id)."""
    recreate_database(PG)
    settings = Settings(
        database_url=PG,
        redis_url=REDIS,
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
        instance_path=instance,
    )
    ctx = wiring.build(settings, clock=lambda: NOW)
    ctx.redis.flushdb()
    with transaction(ctx.sessions) as session:
        shop_id = create_shop(
            session, ctx.vault, platform="shopify", domain="bench.myshopify.com", now=NOW
        ).shop.id
        session.execute(sa.text(LEADS_SQL), {"shop": shop_id, "now": NOW, "leads": leads})
        first_lead = session.scalar(sa.text("SELECT min(id) FROM leads"))
    return ctx, shop_id, first_lead


def seed_runs(ctx: wiring.Context, shop_id: int, first_lead: int, runs: int, due: int) -> float:
    """Replace the journey runs by `runs` new ones, `due` of them due; the seconds it took (with VACUUM
    ANALYZE, so every measurement starts from a settled table)."""
    assert runs % due == 0, "--runs must be a multiple of --due (the due runs are every runs/due-th row)"
    with ctx.engine.connect() as conn:
        leads = conn.execute(sa.text("SELECT count(*) FROM leads")).scalar_one()
    start = time.perf_counter()
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE journey_runs RESTART IDENTITY CASCADE"))
        params = {"shop": shop_id, "first_lead": first_lead, "leads": leads, "now": NOW}
        conn.execute(sa.text(RUNS_SQL), {**params, "runs": runs, "every": runs // due})
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE journey_runs"))
    return time.perf_counter() - start


def repeat(count: int, measure: Callable[[], tuple[float, int]]) -> tuple[list[float], int]:
    """One untimed warm-up, then `count` timed repeats: their seconds and the last row count."""
    measure()
    times, rows = [], 0
    for _ in range(count):
        took, rows = measure()
        times.append(took)
    return times, rows


def baseline(raw: psycopg.Connection[Any], query: str = BASELINE) -> tuple[float, int]:
    with raw.cursor() as cur:
        start = time.perf_counter()
        rows = cur.execute(query, (NOW,)).fetchall()
        return time.perf_counter() - start, len(rows)


def due_alone(ctx: wiring.Context) -> tuple[float, int]:
    start = time.perf_counter()
    with ctx.sessions() as session:
        found = journey_sweep.due_runs(session, ctx.now())
    return time.perf_counter() - start, len(found)


def sweep(ctx: wiring.Context) -> tuple[float, int]:
    ctx.redis.flushdb()  # the marks of the previous repeat would make this one a no-op
    start = time.perf_counter()
    queued = journey_sweep.sweep_due(ctx)
    return time.perf_counter() - start, queued


def explain_due(ctx: wiring.Context) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement `due_runs` sends, caught on its way to PostgreSQL."""
    sent: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    sa.event.listen(ctx.engine, "before_cursor_execute", catch)
    try:
        due_alone(ctx)
    finally:
        sa.event.remove(ctx.engine, "before_cursor_execute", catch)
    statement, parameters = next((s, p) for s, p in sent if "journey_runs" in s)
    with psycopg.connect(DSN) as raw:
        plan = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
    return "\n".join("    " + row[0] for row in plan)


def ms(times: list[float]) -> str:
    """'12.3 ms (12.1, 12.3, 14.0)': the median, then the repeats."""
    return f"{statistics.median(times) * 1000:.1f} ms ({', '.join(f'{t * 1000:.1f}' for t in times)})"


def measure(ctx: wiring.Context, runs: int, due: int, count: int) -> float:
    """Time the baseline, `due_runs` and `sweep_due`, print them; the sweep's median."""
    with psycopg.connect(DSN) as raw:
        bases, found = repeat(count, lambda: baseline(raw))
        fulls, _ = repeat(count, lambda: baseline(raw, DUE_QUERY))
    dues, listed = repeat(count, lambda: due_alone(ctx))
    sweeps, queued = repeat(count, lambda: sweep(ctx))
    jobs = get_queue(ctx.redis, CAMPAIGNS).count
    ctx.redis.flushdb()
    assert found == listed == queued == due, (found, listed, queued, due)
    base, took = statistics.median(bases), statistics.median(sweeps)
    print(f"{runs:,} runs, {due:,} due (medians of {count} repeats after a warm-up; the repeats in brackets)")
    print(f"  baseline SELECT of the due ids:   {ms(bases)}")
    print(f"  (the same with due times, sorted: {ms(fulls)}  x{statistics.median(fulls) / base:.2f})")
    print(f"  due_runs alone:                   {ms(dues)}  x{statistics.median(dues) / base:.2f}")
    print(f"  sweep_due (read, mark, enqueue):  {ms(sweeps)}  -> {jobs} step jobs of <= 200 runs")
    print(f"  ratio sweep / baseline:           {took / base:.2f} (target <= 5)")
    print(f"  load average of the machine:      {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000, help="journey runs in the big table")
    parser.add_argument("--due", type=int, default=0, help="runs due (default: 1 %% of --runs)")
    parser.add_argument("--small", type=int, default=0, help="runs in the small table (default: --runs / 10)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relance-bench-journeys-") as instance:
        return run(args, instance)


def run(args: argparse.Namespace, instance: str) -> int:
    due = args.due or max(1, args.runs // 100)
    small = args.small or max(due, args.runs // 10)
    ctx, shop_id, first_lead = setup(instance, leads=max(1, args.runs // 10))
    seeded = seed_runs(ctx, shop_id, first_lead, args.runs, due)
    print(f"seeded {args.runs:,} journey runs in {seeded:.1f} s (INSERT ... generate_series, VACUUM ANALYZE)")
    big = measure(ctx, args.runs, due, args.repeats)
    print(f"  EXPLAIN ANALYZE of the query due_runs sends:\n{explain_due(ctx)}")
    seeded = seed_runs(ctx, shop_id, first_lead, small, due)
    print(f"seeded {small:,} journey runs in {seeded:.1f} s, the same {due:,} due")
    little = measure(ctx, small, due, args.repeats)
    print(
        f"independence of the runs not due: sweep with {args.runs:,} runs / with {small:,} runs = "
        f"{big / little:.2f} (about 1 when the sweep reads the due runs only)"
    )
    ctx.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
