"""Event processing throughput: what one worker does with a batch of stored webhooks.

Run: `.venv/bin/python -m bench.process` (needs PostgreSQL, as the tests do). It stores `--events` signed
Shopify deliveries (customers, carts, checkouts and orders of distinct shoppers, the mix of bench/load.py)
as pending events, then measures in one process:
  baseline    read each batch's payloads, parse them and normalize them into facts (the floor any
              processing pays), and
  processing  the job body `handle_events` on the same batches: facts applied, leads rescored, events
              marked processed,
and prints events/s of both, their ratio, CPU per event of this process and of PostgreSQL, and the SQL
statements and commits per event. `--profile` adds the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from datetime import UTC, datetime
from decimal import Decimal

import redis
import sqlalchemy as sa

from bench.common import cpu_seconds, recreate_database
from bench.ingest import DOMAIN, PG, REDIS
from bench.load import mixed
from bridge import wiring
from bridge.db.models import Event, Shop
from bridge.events.payloads import adapter_for
from bridge.events.pipeline import handle_events
from bridge.infra.settings import from_env


def store(ctx: wiring.Context, n: int) -> list[int]:
    """`n` pending events of the mixed load; their ids in delivery order."""
    now = datetime.now(UTC)
    with ctx.sessions.begin() as session:
        shop = Shop(
            platform="shopify",
            domain=DOMAIN,
            shop_key="bench",
            public_key="bench",
            api_key_hash="bench",
            installed_at=now,
        )
        session.add(shop)
        session.flush()
        rows = [
            Event(
                shop_id=shop.id,
                topic=headers["X-Shopify-Topic"],
                delivery_key=headers["X-Shopify-Event-Id"],
                received_at=now,
                payload=raw.decode(),
                available_at=now,
            )
            for raw, headers in mixed(n, 0)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def baseline(ctx: wiring.Context, batches: list[list[int]]) -> None:
    """Read, parse and normalize every event of the batches."""
    for ids in batches:
        with ctx.engine.connect() as conn:
            rows = conn.execute(sa.select(Event.topic, Event.payload).where(Event.id.in_(ids))).all()
        for topic, payload in rows:
            adapter_for(ctx, "shopify", topic).normalize(topic, json.loads(payload, parse_float=Decimal))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=128, help="events per job (the ingest group commit)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="with --profile: pstats sort key")
    args = parser.parse_args()

    recreate_database(PG)
    redis.Redis.from_url(REDIS).flushdb()
    ctx = wiring.build(from_env({"DATABASE_URL": PG, "REDIS_URL": REDIS}, dotenv=False))
    ids = store(ctx, args.events)
    batches = [ids[at : at + args.batch] for at in range(0, len(ids), args.batch)]

    started = time.perf_counter()
    baseline(ctx, batches)
    floor = time.perf_counter() - started

    statements = commits = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    def commit(*_: object) -> None:
        nonlocal commits
        commits += 1

    sa.event.listen(ctx.engine, "before_cursor_execute", count)
    sa.event.listen(ctx.engine, "commit", commit)
    profiler = cProfile.Profile() if args.profile else None
    cpu_before, own_before = cpu_seconds(), os.times()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    outcome: dict[str, int] = {}
    for ids_ in batches:
        for status, n in handle_events(ctx, ids_).items():
            outcome[status] = outcome.get(status, 0) + n
    if profiler:
        profiler.disable()
    spent = time.perf_counter() - started
    own_after, cpu_after = os.times(), cpu_seconds()
    user, system = own_after.user - own_before.user, own_after.system - own_before.system
    n = len(ids)
    print(f"{n} events in batches of {args.batch}: {outcome}")
    print(f"baseline (read + parse + normalize) {n / floor:>8.0f} events/s")
    print(f"processing (handle_events)          {n / spent:>8.0f} events/s   ratio {floor / spent:.3f}")
    pg = cpu_after["postgres"] - cpu_before["postgres"]
    print(
        f"CPU per event: worker {1000 * (user + system) / n:.2f} ms ({1000 * system / n:.2f} in the kernel), "
        f"PostgreSQL {1000 * pg / n:.2f} ms"
    )
    print(f"per event: {statements / n:.1f} SQL statements, {commits / n:.2f} commits")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
    ctx.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
