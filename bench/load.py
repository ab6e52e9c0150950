"""Sustained mixed webhook load through gunicorn + RQ workers, then drained; gunicorn settings compared.

Run: `.venv/bin/python -m bench.load` (needs PostgreSQL and Redis, as the tests do). In one run it prints the
bare-endpoint baseline of bench/ingest.py (bare Flask vs Relance ingest under the same gunicorn), then sends
customers, carts, checkouts and orders at 80% of the measured Relance ingest throughput for `--seconds`
with `--workers` `relance worker` processes running, waits for the queue to drain, and prints accepted/s,
ingest latency p50/p99, webhook-to-score lag p50/p99 (received_at to processed_at) and events lost.
`--compare` instead measures gunicorn worker classes and counts (sync vs gthread) for deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bench import httpload
from bench.ingest import DOMAIN, PG, REDIS, ROOT, SECRET, measure, reset_database
from bench.ingest import start_web as ingest_start_web

CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
TOPICS = ("customers/create", "carts/create", "checkouts/create", "checkouts/update", "orders/create")


def environment() -> dict[str, str]:
    """The environment of every process of the run."""
    return {
        **os.environ,
        "DATABASE_URL": PG,
        "REDIS_URL": REDIS,
        "SHOPIFY_API_SECRET": SECRET,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def start_web(app: str, env: dict[str, str], flags: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn serving `app` with `flags` (warnings only), once /healthz answers."""
    return ingest_start_web(app, env, [*flags, "--log-level", "warning"])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


# -- a client that also copes with servers closing the connection after each response (sync workers) --


async def _one(
    port: int, reqs: list[httpload.Request], result: httpload.Result, pace, deadline: float
) -> None:
    reader = writer = None
    while reqs and time.perf_counter() < deadline:
        head, body = reqs.pop()
        if pace is not None and (delay := pace() - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        start = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + body)
            status, close = await _response(reader)  # type: ignore[arg-type]
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            writer = None
            continue
        result.latencies.append(time.perf_counter() - start)
        result.ok += 200 <= status < 300
        result.errors += not 200 <= status < 300
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.startswith(b"content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return int(head.split(b" ", 2)[1]), b"connection: close" in head


def run(port: int, reqs: list[httpload.Request], concurrency: int, seconds: float, rate: float | None = None):
    """Send `reqs` (each once) from `concurrency` connections for at most `seconds`, paced at `rate`/s."""
    result, pending = httpload.Result(0, 0, 0.0, []), list(reversed(reqs))
    start = time.perf_counter()
    slots = iter(range(10**9))
    pace = (lambda: start + next(slots) / rate) if rate else None

    async def main() -> None:
        deadline = start + seconds
        await asyncio.gather(*(_one(port, pending, result, pace, deadline) for _ in range(concurrency)))

    asyncio.run(main())
    result.seconds = time.perf_counter() - start
    return result


# -- the mixed load ------------------------------------------------------------------------------------


def mixed_requests(n: int, offset: int) -> list[httpload.Request]:
    """Signed deliveries cycling through customers, carts, checkouts and orders of distinct shoppers."""
    return [httpload.build_request("/webhooks/shopify", raw, headers) for raw, headers in mixed(n, offset)]


def mixed(n: int, offset: int) -> list[tuple[bytes, dict[str, str]]]:
    """Bodies and signed headers of `n` deliveries: each shopper's customer, cart, checkouts and order."""
    from tests.conftest import FIXTURES, shopify_sign

    samples = {
        t: json.loads((FIXTURES / "shopify" / f"{t.replace('/', '__')}.json").read_bytes()) for t in TOPICS
    }
    out = []
    for i in range(offset, offset + n):
        topic, shopper = TOPICS[i % len(TOPICS)], i // len(TOPICS)
        body = dict(samples[topic])
        body.update(email=f"s{shopper}@example.com", token=f"tok-{shopper}", id=10**6 + shopper)
        body.update(checkout_token=f"chk-{shopper}", cart_token=f"cart-{shopper}")
        if isinstance(body.get("customer"), dict):  # the shopper's own account, not the sample's for everyone
            body["customer"] = {**body["customer"], "id": 10**6 + shopper, "email": body["email"]}
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": DOMAIN,
            "X-Shopify-Event-Id": f"load-{i}",
            "X-Shopify-Hmac-Sha256": shopify_sign(raw, SECRET),
        }
        out.append((raw, headers))
    return out


def drain(engine: sa.Engine, timeout: float) -> float:
    """Seconds until no event is pending (or `timeout`)."""
    start = time.monotonic()
    query = sa.text("SELECT count(*) FROM events WHERE status = 'pending'")
    while time.monotonic() - start < timeout:
        with engine.connect() as conn:
            if conn.scalar(query) == 0:
                break
        time.sleep(0.5)
    return time.monotonic() - start


def lag_and_loss(engine: sa.Engine, accepted: int) -> tuple[float, float, dict[str, int], int]:
    """Webhook-to-score lag p50/p99 in ms, events by status, and accepted events not stored (lost)."""
    with engine.connect() as conn:
        lags = sorted(
            conn.scalars(
                sa.text(
                    "SELECT EXTRACT(EPOCH FROM processed_at - received_at) FROM events "
                    "WHERE processed_at IS NOT NULL AND topic != 'unknown'"
                )
            )
        )
        statuses = dict(conn.execute(sa.text("SELECT status, count(*) FROM events GROUP BY status")).all())

    def pct(p: float) -> float:
        return (
            float(lags[min(len(lags) - 1, round(p / 100 * (len(lags) - 1)))]) * 1000 if lags else float("nan")
        )

    return pct(50), pct(99), statuses, accepted - sum(statuses.values())


def load(args: argparse.Namespace) -> None:
    env = environment()
    reset_database(env)
    flags = ["-c", str(CONFIG)]
    results = {}
    for label, app in (("bare", "bench.bare_app:app"), ("relance", "wsgi:app")):
        proc, port = start_web(app, env, flags)
        try:
            results[label] = measure(port, args, offset=0)
        finally:
            stop(proc)
    bare, relance = results["bare"][0].rate, results["relance"][0].rate
    print(f"baseline (bench/ingest.py, {CONFIG.name}): bare {bare:.0f}/s, relance ingest {relance:.0f}/s")
    reset_database(env)
    rate = args.share * relance
    web, port = start_web("wsgi:app", env, flags)
    cmd = [sys.executable, "-m", "bridge.cli", "worker", "--no-cron", *(["--simple"] if args.simple else [])]
    workers = [subprocess.Popen(cmd, env=env, cwd=ROOT) for _ in range(args.workers)]
    engine = sa.create_engine(PG)
    try:
        sent = run(port, mixed_requests(int(rate * args.seconds) + 100, 0), 32, args.seconds, rate)
        queued = redis.Redis.from_url(REDIS).llen("rq:queue:events")
        drained = drain(engine, args.drain_timeout)
    finally:
        stop(web)
        for w in workers:
            stop(w)  # type: ignore[arg-type]
    p50, p99, statuses, lost = lag_and_loss(engine, sent.ok)
    engine.dispose()
    print(f"mixed load at {args.share:.0%} of relance ingest = {rate:.0f}/s for {args.seconds:.0f}s,")
    kind = "relance worker --simple" if args.simple else "relance worker"
    print(f"  {args.workers} `{kind}` processes, gunicorn {CONFIG.name}")
    print(f"accepted/s       {sent.rate:.0f}   (errors {sent.errors})")
    print(f"ingest latency   p50 {sent.percentile(50):.2f} ms   p99 {sent.percentile(99):.2f} ms")
    done = statuses.get("processed", 0) + statuses.get("ignored", 0)
    print(f"queue at the end {queued} job(s); {drained:.1f}s more to drain (limit {args.drain_timeout:.0f}s)")
    print(f"workers          {done / (args.seconds + drained):.0f} events/s processed over the run")
    print(f"webhook->score   p50 {p50:.0f} ms   p99 {p99:.0f} ms")
    print(f"events           {statuses}; lost (acknowledged, not stored) {lost}")


def compare(args: argparse.Namespace) -> None:
    env = environment()
    reset_database(env)
    configs = [("sync", w, 1) for w in (2, 3, 4)] + [("gthread", w, t) for w in (2, 3, 4) for t in (4, 8, 16)]
    if args.configs:  # e.g. "gthread:4:16,sync:3:1"
        configs = [(k, int(w), int(t)) for k, w, t in (c.split(":") for c in args.configs.split(","))]
    head = f"{'class':<8} {'workers':>7} {'threads':>7} {'accepted/s':>10} {'errors':>6}"
    print(f"{head} {'p50 ms':>7} {'p99 ms':>7}")
    for n, (kind, workers, threads) in enumerate(configs):
        redis.Redis.from_url(REDIS).flushdb()
        flags = ["-k", kind, "--workers", str(workers), "--threads", str(threads), "--keep-alive", "30"]
        proc, port = start_web("wsgi:app", env, flags)
        try:
            offset = n * 10**6
            run(port, mixed_requests(300, offset), 8, 2)  # warm-up
            tp = run(port, mixed_requests(int(args.seconds * 3000), offset + 1000), 32, args.seconds)
            lat = run(
                port,
                mixed_requests(int(args.rate * args.seconds) + 10, offset + 500_000),
                16,
                args.seconds,
                args.rate,
            )
        finally:
            stop(proc)
        print(
            f"{kind:<8} {workers:>7} {threads:>7} {tp.rate:>10.0f} {tp.errors + lat.errors:>6} "
            f"{lat.percentile(50):>7.2f} {lat.percentile(99):>7.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--compare", action="store_true", help="compare gunicorn settings instead")
    parser.add_argument("--configs", default="", help="with --compare: class:workers:threads,...")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=32, help="baseline throughput connections")
    parser.add_argument("--rate", type=float, default=200.0, help="rate of the latency measurements")
    parser.add_argument("--share", type=float, default=0.8, help="load as a share of the ingest throughput")
    parser.add_argument("--workers", type=int, default=2, help="`relance worker` processes")
    parser.add_argument("--simple", action="store_true", help="workers run jobs without forking")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    args = parser.parse_args()
    compare(args) if args.compare else load(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
