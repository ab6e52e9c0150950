"""The abandonment sweep on 1,000,000 carts, 1 % of them due, beside one indexed SELECT of the due carts.

Run: `.venv/bin/python -m bench.sweep [--carts N] [--due-share 0.01]` (needs PostgreSQL and Redis).
Prints the sweep time (claiming the shop's window plus enqueueing its carts), the baseline SELECT, their
ratio, the time the queued jobs then spend marking the carts (on the workers, in batches), and the same sweep
after the not-due carts were multiplied, to show the sweep does not depend on them.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.common import recreate_database
from bridge import wiring
from bridge.db import transaction
from bridge.db.models import Cart, Shop
from bridge.infra.queue import CAMPAIGNS, get_queue
from bridge.infra.settings import Settings
from bridge.outreach.sweep import mark_abandoned, sweep
from bridge.shops.registry import create_shop

PG = os.environ.get("RELANCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_bench_sweep")
REDIS = os.environ.get("RELANCE_BENCH_REDIS", "redis://127.0.0.1:6379/11")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def fresh_database() -> None:
    """Drop and recreate the bench database, then migrate it."""
    recreate_database(PG)


def copy_carts(
    ctx: wiring.Context, shop_id: int, start: int, count: int, due_every: int, lead_id: int
) -> None:
    """COPY `count` carts; every `due_every`-th is idle for two hours, the others for five minutes."""
    buf = io.StringIO()
    for i in range(start, start + count):
        due = due_every and i % due_every == 0
        at = NOW - (timedelta(hours=2) if due else timedelta(minutes=5))
        buf.write(
            f"{shop_id}\t{lead_id}\tc{i}\tb{i}@example.com\t12.50\t{{}}\t{{}}\t{at.isoformat()}\t"
            f"{at.isoformat()}\tactive\n"
        )
    raw = ctx.engine.raw_connection()
    try:
        with (
            raw.cursor() as cur,
            cur.copy(  # type: ignore[attr-defined]
                "COPY carts (shop_id, lead_id, cart_token, email, subtotal, items, source, created_at, "
                "last_activity_at, status) FROM STDIN"
            ) as copy,
        ):
            copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    with ctx.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE carts"))


def baseline(ctx: wiring.Context, shop_id: int) -> tuple[float, int]:
    """One indexed SELECT of the due carts: its time and row count."""
    cutoff = NOW - timedelta(minutes=60)
    query = sa.select(Cart.id).where(
        Cart.shop_id == shop_id,
        Cart.status == "active",
        Cart.last_activity_at < cutoff,
        Cart.email.is_not(None),
    )
    with ctx.engine.connect() as conn:
        conn.execute(query).all()  # warm the cache like the sweep's own first batch does
        start = time.perf_counter()
        rows = conn.execute(query).all()
        return time.perf_counter() - start, len(rows)


def timed_sweep(ctx: wiring.Context) -> tuple[float, int]:
    start = time.perf_counter()
    done = sweep(ctx)
    return time.perf_counter() - start, done


def steady_sweep(ctx: wiring.Context, clock: list[datetime]) -> tuple[float, int]:
    """The sweep as it runs in production: a minute-by-minute job whose previous run set the watermark (an
    hour earlier here, so the whole 1 % falls due at once) and warmed the process like the baseline's."""
    clock[0] = NOW - timedelta(hours=1)
    assert sweep(ctx) == 0
    clock[0] = NOW
    return timed_sweep(ctx)


def rounds(
    ctx: wiring.Context, clock: list[datetime], shop_id: int, count: int
) -> tuple[float, float, int, int]:
    """Median baseline and sweep times over `count` rounds (the machine is noisy), each from one state."""
    bases, sweeps = [], []
    for _ in range(count):
        reset_due(ctx)
        base, due = baseline(ctx, shop_id)
        took, swept = steady_sweep(ctx, clock)
        bases.append(base)
        sweeps.append(took)
    return statistics.median(bases), statistics.median(sweeps), due, swept


def timed_marking(ctx: wiring.Context) -> tuple[float, int]:
    """What the queued abandonment jobs then do first, one batch after the other: mark their carts."""
    jobs = get_queue(ctx.redis, CAMPAIGNS).get_jobs()
    start = time.perf_counter()
    marked = 0
    for job in jobs:
        shop_id, cart_ids, cutoff = job.args
        marked += len(mark_abandoned(ctx, shop_id, cart_ids, datetime.fromisoformat(cutoff)))
    return time.perf_counter() - start, marked


def reset_due(ctx: wiring.Context) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(
            sa.update(Cart).where(Cart.status == "abandoned").values(status="active", abandoned_at=None)
        )
        conn.execute(sa.update(Shop).values(swept_until=None))
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE carts"))
    ctx.redis.flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--carts", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relance-bench-sweep-") as instance:
        return run(args, instance)


def run(args: argparse.Namespace, instance: str) -> int:
    """Load the carts, time the sweeps and print the figures (`instance`: a temporary instance folder)."""
    fresh_database()
    settings = Settings(
        database_url=PG,
        redis_url=REDIS,
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
        instance_path=instance,
    )
    clock = [NOW]
    ctx = wiring.build(settings, clock=lambda: clock[0])
    ctx.redis.flushdb()
    with transaction(ctx.sessions) as session:
        shop_id = create_shop(
            session, ctx.vault, platform="shopify", domain="bench.myshopify.com", now=NOW
        ).shop.id
        session.execute(
            sa.text(
                "INSERT INTO leads (shop_id, email, created_at, source, is_customer, orders_count, "
                "score, tier, breakdown) VALUES (:s, 'lead@example.com', now(), '{}', false, 0, 0, "
                "'cold', '{}')"
            ),
            {"s": shop_id},
        )
        lead_id = session.scalar(sa.text("SELECT max(id) FROM leads"))
    due_every = round(1 / args.due_share)
    t0 = time.perf_counter()
    copy_carts(ctx, shop_id, 0, args.carts, due_every, lead_id)
    print(f"loaded {args.carts:,} carts in {time.perf_counter() - t0:.1f} s")
    base, took, due, swept = rounds(ctx, clock, shop_id, args.rounds)
    print(
        f"due carts: {due:,}; baseline SELECT {base * 1000:.1f} ms; sweep (claim + enqueue) "
        f"{took * 1000:.1f} ms; ratio {took / base:.2f} (target <= 5; medians of {args.rounds} rounds)"
    )
    marking, marked = timed_marking(ctx)
    print(
        f"then the queued jobs mark {marked:,} carts: {marking * 1000:.1f} ms in all (x{marking / base:.1f})"
    )
    clock[0] += timedelta(minutes=1)
    idle, none = timed_sweep(ctx)
    clock[0] += timedelta(minutes=1)
    idle2, _ = timed_sweep(ctx)
    print(
        f"sweeps 1 and 2 minutes later (nothing newly due): {idle * 1000:.1f} ms, {idle2 * 1000:.1f} ms, "
        f"{none} carts (the first meets the marked carts' stale index entries, which it then flags dead)"
    )
    reset_due(ctx)
    copy_carts(ctx, shop_id, args.carts, args.carts, 0, lead_id)  # as many again, none due
    base2, took2, _, swept2 = rounds(ctx, clock, shop_id, args.rounds)
    print(
        f"with {2 * args.carts:,} carts (same due count): baseline {base2 * 1000:.1f} ms; "
        f"sweep {took2 * 1000:.1f} ms; ratio {took2 / base2:.2f}; sweep time x{took2 / took:.2f} for x2 carts"
    )
    assert swept == swept2 == due, (swept, swept2, due)
    ctx.redis.flushdb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
