"""The abandonment sweep on 1,000,000 carts, 1 % of them due, beside one indexed SELECT of the due carts.

Run: `.venv/bin/python -m bench.sweep [--carts N] [--due-share 0.01]` (needs PostgreSQL and Redis).
Prints the sweep time (marking plus enqueueing), the baseline SELECT, their ratio, and the same sweep after
the not-due carts were multiplied, to show the sweep does not depend on them.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench.common import recreate_database
from bridge import runtime
from bridge.campaign import sweep
from bridge.db import transaction
from bridge.models import Cart
from bridge.settings import Settings
from bridge.shops import create_shop

PG = os.environ.get("RELANCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_bench_sweep")
REDIS = os.environ.get("RELANCE_BENCH_REDIS", "redis://127.0.0.1:6379/11")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def fresh_database() -> None:
    """Drop and recreate the bench database, then migrate it."""
    recreate_database(PG)


def copy_carts(
    ctx: runtime.Context, shop_id: int, start: int, count: int, due_every: int, lead_id: int
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


def baseline(ctx: runtime.Context, shop_id: int) -> tuple[float, int]:
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


def timed_sweep(ctx: runtime.Context) -> tuple[float, int]:
    start = time.perf_counter()
    done = sweep(ctx)
    return time.perf_counter() - start, done


def reset_due(ctx: runtime.Context) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(
            sa.update(Cart).where(Cart.status == "abandoned").values(status="active", abandoned_at=None)
        )
        conn.execute(sa.text("ANALYZE carts"))
    ctx.redis.flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--carts", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    args = parser.parse_args()
    fresh_database()
    settings = Settings(
        database_url=PG,
        redis_url=REDIS,
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
        instance_path="/tmp/relance-bench",
    )
    ctx = runtime.build(settings, clock=lambda: NOW)
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
    base, due = baseline(ctx, shop_id)
    took, swept = timed_sweep(ctx)
    print(
        f"due carts: {due:,}; baseline SELECT {base * 1000:.1f} ms; "
        f"sweep (mark + enqueue) {took * 1000:.1f} ms; ratio {took / base:.2f} (target <= 5)"
    )
    reset_due(ctx)
    copy_carts(ctx, shop_id, args.carts, args.carts, 0, lead_id)  # as many again, none due
    base2, _ = baseline(ctx, shop_id)
    took2, swept2 = timed_sweep(ctx)
    print(
        f"with {2 * args.carts:,} carts (same due count): baseline {base2 * 1000:.1f} ms; "
        f"sweep {took2 * 1000:.1f} ms; ratio {took2 / base2:.2f}; sweep time x{took2 / took:.2f} for x2 carts"
    )
    assert swept == swept2 == due, (swept, swept2, due)
    ctx.redis.flushdb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
