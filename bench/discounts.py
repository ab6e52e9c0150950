"""Benchmark: create N discount codes against a fake Shopify that enforces the GraphQL leaky bucket.

Run `python -m bench.discounts [--codes N]` (or `python bench/discounts.py`). It prints the codes per
second achieved, the bucket's theoretical maximum for the same cost over the same duration
((bucket + restore x T) / cost / T), their ratio and the THROTTLED count. Exit status 1 when the ratio
is below 0.9 or a request was refused twice in a row.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.base import DiscountSpec
from connectors.shopify.client import ShopifyClient
from tests.fakes.shopify_store import FakeShopify

TOKEN = "shpat_bench"


def _spec(i: int, now: datetime) -> DiscountSpec:
    return DiscountSpec(
        code=f"BENCH-{i:06d}-X7Q2",
        title=f"Bench offer {i}",
        kind="percentage" if i % 2 else "fixed_amount",
        value=Decimal(10),
        currency="EUR",
        starts_at=now,
        ends_at=now + timedelta(hours=24),
        customer_external_id=str(7000 + i) if i % 3 else None,
    )


def run(codes: int, bucket: float, restore_rate: float) -> dict[str, float]:
    """Create `codes` discounts through ShopifyClient and measure them against the bucket's limit."""
    with FakeShopify(bucket_size=bucket, restore_rate=restore_rate) as fake:
        fake.require_token(TOKEN)
        client = ShopifyClient(fake.shop, TOKEN, api_origin=fake.url)
        now = datetime.now(UTC)
        start = time.monotonic()
        for i in range(codes):
            client.create_discount(_spec(i, now))
        elapsed = time.monotonic() - start
        cost = max(c.cost for c in fake.calls if c.operation == "RelanceDiscountCreate")
        created = len(fake.discounts)
    achieved = created / elapsed
    theoretical = (bucket + restore_rate * elapsed) / cost / elapsed
    return {
        "codes": created,
        "seconds": elapsed,
        "cost": cost,
        "achieved": achieved,
        "theoretical": theoretical,
        "ratio": achieved / theoretical,
        "throttled": fake.throttled_count,
        "streak": fake.max_throttle_streak,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=300, help="codes to create (default 300)")
    parser.add_argument("--bucket", type=float, default=1000, help="bucket size in points (default 1000)")
    parser.add_argument("--restore-rate", type=float, default=100, help="points per second (default 100)")
    args = parser.parse_args(argv)
    r = run(args.codes, args.bucket, args.restore_rate)
    print(f"bucket {args.bucket:g} points, restore {args.restore_rate:g} points/s", end=", ")
    print(f"{r['cost']:g} points per create")
    print(f"created {r['codes']:g} codes in {r['seconds']:.2f} s")
    print(f"achieved     {r['achieved']:.2f} codes/s")
    print(f"theoretical  {r['theoretical']:.2f} codes/s  ((bucket + restore x T) / cost / T)")
    print(f"ratio        {r['ratio']:.3f}")
    print(f"THROTTLED    {r['throttled']:g} (longest run of refusals in a row: {r['streak']:g})")
    ok = r["ratio"] >= 0.9 and r["streak"] < 2
    print("OK" if ok else "FAIL: below 90% of the bucket's rate or a request was refused twice in a row")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
