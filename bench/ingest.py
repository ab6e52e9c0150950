"""Webhook ingest vs a bare Flask endpoint, both under the same gunicorn, loaded by the same client.

Run: `.venv/bin/python -m bench.ingest` (needs PostgreSQL and Redis, as the tests do).
Prints accepted webhooks/s for each, their ratio, and p50/p99 latency at a fixed moderate rate.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from bench import httpload
from bench.common import cpu_per_request, cpu_seconds, recreate_database

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("RELANCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_bench")
REDIS = os.environ.get("RELANCE_BENCH_REDIS", "redis://127.0.0.1:6379/12")
SECRET = "bench-secret"
DOMAIN = "bench.myshopify.com"


def gunicorn_args(workers: int, threads: int) -> list[str]:
    """The same gunicorn settings for both apps."""
    return [
        "-k",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_database(env: dict[str, str]) -> None:
    """A fresh bench database with one Shopify shop."""
    recreate_database(PG, migrate=False)
    relance = [sys.executable, "-m", "bridge.cli"]
    subprocess.run([*relance, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*relance, "shops", "add", "--platform", "shopify", "--domain", DOMAIN],
        env=env,
        check=True,
        capture_output=True,
    )
    import redis

    redis.Redis.from_url(REDIS).flushdb()


def start(app: str, env: dict[str, str], args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    return start_web(app, env, gunicorn_args(args.workers, args.threads))


def start_web(app: str, env: dict[str, str], flags: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn serving `app` with `flags` on a free loopback port, once /healthz answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *flags, "-b", f"127.0.0.1:{port}", app], env=env, cwd=ROOT
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


def signed_requests(n: int, start_at: int) -> list[httpload.Request]:
    """Distinct, really signed checkout deliveries (each a new event)."""
    from tests.conftest import FIXTURES, shopify_sign

    sample = json.loads((FIXTURES / "shopify" / "checkouts__update.json").read_bytes())
    out = []
    for i in range(start_at, start_at + n):
        sample["token"] = f"tok-{i}"
        sample["email"] = f"buyer{i % 5000}@example.com"
        raw = json.dumps(sample).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "checkouts/update",
            "X-Shopify-Shop-Domain": DOMAIN,
            "X-Shopify-Event-Id": f"bench-{i}",
            "X-Shopify-Hmac-Sha256": shopify_sign(raw, SECRET),
        }
        out.append(httpload.build_request("/webhooks/shopify", raw, headers))
    return out


def measure(port: int, args: argparse.Namespace, offset: int) -> tuple[httpload.Result, httpload.Result]:
    load = signed_requests(int(args.seconds * 4000), offset)
    httpload.run(port, load[:300], concurrency=8, duration=2)  # warm-up
    before = cpu_seconds()
    throughput = httpload.run(port, load[300:], concurrency=args.concurrency, duration=args.seconds)
    throughput.note = cpu_per_request(before, cpu_seconds(), throughput.ok)
    paced = signed_requests(int(args.rate * args.seconds) + 10, offset + 10**6)
    latency = httpload.run(port, paced, concurrency=16, duration=args.seconds, rate=args.rate)
    return throughput, latency


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": PG,
        "REDIS_URL": REDIS,
        "SHOPIFY_API_SECRET": SECRET,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    reset_database(env)
    results = {}
    for label, app in (("bare", "bench.bare_app:app"), ("relance", "wsgi:app")):
        proc, port = start(app, env, args)
        try:
            results[label] = measure(port, args, offset=0)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    head = f"{'endpoint':<10} {'accepted/s':>11} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"{head}  (latency at {args.rate:.0f}/s)")
    for label, (tp, lat) in results.items():
        print(
            f"{label:<10} {tp.rate:>11.0f} {tp.errors + lat.errors:>7} {lat.percentile(50):>8.2f} "
            f"{lat.percentile(99):>8.2f}"
        )
    for label, (tp, _) in results.items():
        print(f"{label:<10} at full load: {tp.note}")
    ratio = results["relance"][0].rate / results["bare"][0].rate
    print(f"ratio relance/bare throughput: {ratio:.2f}  (target >= 0.50; p99 target < 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
