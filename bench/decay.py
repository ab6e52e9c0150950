"""Decay that shows, on 1,000,000 leads with 1 % due: finding the due leads, and rescoring them.

Run: `.venv/bin/python -m bench.decay [--leads N] [--due N] [--activities M] [--repeats 3]` (needs
PostgreSQL; `--leads 100000` for a quick run). Seeds the migrated schema of the database
`relance_bench_decay` with one shop and `--leads` leads (default 1,000,000), with server-side
generate_series INSERTs: `--due` leads (default 1 %, spread over the table) are due by now, with
`--activities` activities each (default 50, as in bench.scoring's bulk rescore) of the last 20 days and
of weightier kinds (warm and hot leads, the ones decay moves); the others have `--others` activities each
(default 5) over a year, and half of them a due time in the next 60 days, half none (cold leads whose
points only fall). Then
prints, each figure the median of `--repeats` timed repeats (default 5) after one untimed warm-up, the two
sides of each ratio measured alternately:
(a) the baseline `SELECT id` of the due leads (score_due_at <= now) through psycopg directly, and finding
    them the way the job does (keyset pages of `bridge.leads.decay.due_leads`): ratio target <= 5;
(b) the baseline of the bulk-rescore bench (bench.scoring), applied to the due leads: finding them and
    reading each batch's lead rows and activities as the job does, and nothing else; and the decay job's
    rescoring of them end to end (`bridge.leads.decay.rescore_due`: find, score, next due time, score
    changes, commit): ratio target <= 3. Before each repeat of (b) the due leads are made due again and
    their score reset (untimed), so each repeat writes a score change per lead as a real tick would.
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
from bridge.db.models import Lead, ScoreChange
from bridge.infra.settings import Settings
from bridge.leads import decay, scores
from bridge.shops.registry import create_shop

PG = os.environ.get("RELANCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_bench_decay")
DSN = sa.make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)  # for psycopg
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASELINE = "SELECT id FROM leads WHERE score_due_at IS NOT NULL AND score_due_at <= %s"

# Lead g is due when g is a multiple of :every; of the others, odd ones are due within 60 days, even none.
LEADS_SQL = """
INSERT INTO leads (shop_id, email, country, accepts_marketing, source, created_at, is_customer, orders_count,
                   score, tier, breakdown, score_computed_at, score_due_at)
SELECT :shop, 'lead' || g || '@example.com', (ARRAY['FR', 'BE', 'US', 'DE'])[1 + g % 4], g % 3 <> 0, '{}',
       :now, false, 0, 0, 'cold', '{}', :now - interval '1 day',
       CASE WHEN g % :every = 0 THEN :now - (g % 3600) * interval '1 second'
            WHEN g % 2 = 1 THEN :now + (1 + g % (60 * 86400)) * interval '1 second' END
FROM generate_series(1, :leads) AS g
"""
KINDS = ["product_view", "product_view", "product_view", "email_open", "add_to_cart", "email_click"]
# The due leads did more lately (they are warm or hot, which is why decay moves them).
DUE_KINDS = ["product_view", "add_to_cart", "checkout_started", "email_click", "email_reply"]


def _pick(kinds: list[str]) -> str:
    return f"(ARRAY[{', '.join(f'{kind!r}' for kind in kinds)}])[1 + floor(random() * {len(kinds)})::int]"


ACTIVITIES_SQL = f"""
INSERT INTO activities (shop_id, lead_id, kind, occurred_at, ref)
SELECT :shop, l.id, CASE WHEN l.score_due_at <= :now THEN {_pick(DUE_KINDS)} ELSE {_pick(KINDS)} END,
       :now - random() * CASE WHEN l.score_due_at <= :now THEN 20 ELSE 365 END * interval '1 day', a::text
FROM leads AS l
CROSS JOIN LATERAL generate_series(1, CASE WHEN l.score_due_at <= :now THEN :due_per ELSE :per END) AS a
ORDER BY l.id
"""


def setup(
    instance: str, leads: int, due: int, per_lead: int, due_per_lead: int
) -> tuple[wiring.Context, int]:
    """A migrated bench database with one shop and its seeded leads; (context, shop id)."""
    assert leads % due == 0, "--leads must be a multiple of --due (the due leads are every leads/due-th)"
    recreate_database(PG)
    settings = Settings(
        database_url=PG,
        redis_url="",  # the in-process queue: the decay job enqueues nothing, and no one else's worker runs
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
        instance_path=instance,
    )
    ctx = wiring.build(settings, clock=lambda: NOW)
    with transaction(ctx.sessions) as session:
        shop_id = create_shop(
            session, ctx.vault, platform="shopify", domain="bench.myshopify.com", now=NOW
        ).shop.id
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.17)"))
        params = {"shop": shop_id, "now": NOW}
        conn.execute(sa.text(LEADS_SQL), {**params, "leads": leads, "every": leads // due})
        conn.execute(sa.text(ACTIVITIES_SQL), {**params, "per": per_lead, "due_per": due_per_lead})
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return ctx, shop_id


def interleaved(
    count: int, first: Callable[[], tuple[float, int]], second: Callable[[], tuple[float, int]]
) -> tuple[list[float], int, list[float], int]:
    """One untimed warm-up of each, then `count` timed repeats of both, alternating (so that a shared
    machine's changing load weighs on both alike): their seconds and last row counts."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    rows = [0, 0]
    for _ in range(count):
        for index, measure in enumerate((first, second)):
            took, rows[index] = measure()
            times[index].append(took)
    return times[0], rows[0], times[1], rows[1]


def baseline(raw: psycopg.Connection[Any]) -> tuple[float, int]:
    with raw.cursor() as cur:
        start = time.perf_counter()
        rows = cur.execute(BASELINE, (NOW,)).fetchall()
        return time.perf_counter() - start, len(rows)


def find_due(ctx: wiring.Context, page: int) -> tuple[float, int]:
    """Every due lead, found as the job finds them (keyset pages); no rescoring."""
    start = time.perf_counter()
    after, found = None, 0
    while True:
        with decay.reader(ctx) as conn:
            ids, after = decay.due_leads(conn, NOW, after, page)
        found += len(ids)
        if len(ids) < page:
            return time.perf_counter() - start, found


def load_only(ctx: wiring.Context, due_ids: list[int], page: int, batch: int) -> tuple[float, int]:
    """The bulk-rescore bench's baseline over the due leads: find them as the job does, then read each
    batch's lead rows and activities, nothing else."""
    make_due_again(ctx, due_ids)
    start = time.perf_counter()
    after, loaded = None, 0
    while True:
        with decay.reader(ctx) as conn:
            found, after = decay.due_leads(conn, NOW, after, page)
        for first in range(0, len(found), batch):
            ids = found[first : first + batch]
            with transaction(ctx.sessions) as session:
                session.scalars(sa.select(Lead).where(Lead.id.in_(ids), Lead.redacted_at.is_(None))).all()
                scores.load_activities(session, ids)
        loaded += len(found)
        if len(found) < page:
            return time.perf_counter() - start, loaded


def make_due_again(ctx: wiring.Context, due_ids: list[int]) -> None:
    """Untimed: the due leads as they were seeded (due, score 0, cold), their score changes gone."""
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(ScoreChange))
        conn.execute(
            sa.update(Lead)
            .where(Lead.id.in_(due_ids))
            .values(score=0, tier="cold", score_due_at=NOW, breakdown={})
        )
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE leads"))


def rescore(ctx: wiring.Context, due_ids: list[int], batch: int) -> tuple[float, int]:
    make_due_again(ctx, due_ids)
    start = time.perf_counter()
    taken = decay.rescore_due(ctx, batch_size=batch, max_leads=len(due_ids))
    return time.perf_counter() - start, taken


def ms(times: list[float]) -> str:
    """'12.3 ms (12.1, 12.3, 14.0)': the median, then the repeats."""
    return f"{statistics.median(times) * 1000:.1f} ms ({', '.join(f'{t * 1000:.1f}' for t in times)})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=0, help="leads due (default: 1 %% of --leads)")
    parser.add_argument(
        "--activities", type=int, default=50, help="activities per due lead (as in bench.scoring)"
    )
    parser.add_argument("--others", type=int, default=5, help="activities per lead not due")
    parser.add_argument("--batch", type=int, default=decay.BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relance-bench-decay-") as instance:
        return run(args, instance)


def run(args: argparse.Namespace, instance: str) -> int:
    due = args.due or max(1, args.leads // 100)
    started = time.perf_counter()
    ctx, _ = setup(instance, args.leads, due, args.others, args.activities)
    print(
        f"seeded {args.leads:,} leads, {due:,} due with {args.activities} activities each, the others with "
        f"{args.others}, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    try:
        with psycopg.connect(DSN, autocommit=True) as raw:
            due_ids = [row[0] for row in raw.execute(BASELINE, (NOW,)).fetchall()]
            bases, found, finds, listed = interleaved(
                args.repeats, lambda: baseline(raw), lambda: find_due(ctx, decay.PAGE_SIZE)
            )
        loads, loaded, rescores, taken = interleaved(
            args.repeats,
            lambda: load_only(ctx, due_ids, decay.PAGE_SIZE, args.batch),
            lambda: rescore(ctx, due_ids, args.batch),
        )
        assert found == listed == loaded == taken == due, (found, listed, loaded, taken, due)
        with ctx.sessions() as session:
            changed = session.scalar(sa.select(sa.func.count()).select_from(ScoreChange))
            tiers = dict(
                session.execute(
                    sa.select(Lead.tier, sa.func.count()).where(Lead.id.in_(due_ids)).group_by(Lead.tier)
                ).all()
            )
            later = session.scalar(
                sa.select(sa.func.count()).where(Lead.id.in_(due_ids), Lead.score_due_at > NOW)
            )
        print(
            f"{args.leads:,} leads, {due:,} due (medians of {args.repeats} alternate repeats after a warm-up)"
        )
        print(f"(a) baseline SELECT of the due ids:      {ms(bases)}")
        print(f"    finding them as the job does:         {ms(finds)}")
        ratio = statistics.median(finds) / statistics.median(bases)
        print(f"    ratio find / baseline:                {ratio:.2f} (target <= 5)")
        print(f"(b) load rows and activities (baseline): {ms(loads)}")
        print(f"    decay job, rescoring them:            {ms(rescores)}")
        print(
            f"    ratio rescore / load:                 "
            f"{statistics.median(rescores) / statistics.median(loads):.2f} (target <= 3)"
        )
        print(
            f"    after: {changed:,} score changes, tiers of the due leads {tiers}, {later:,} due again later"
        )
        print(f"    load average of the machine: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        ctx.engine.dispose()
        if not args.keep:
            recreate_database(PG, create=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
