"""End-to-end capacity of one machine: the highest steady webhook rate its workers keep up with.

Run: `.venv/bin/python -m bench.load` (needs PostgreSQL and Redis, as the tests do; about 15 min on 2 cores;
`--steady 10 --runs 1` for a quick look). Each run measures the bare Flask endpoint under the same gunicorn,
then searches the capacity: a trial sends customers, carts, checkouts and orders of distinct shoppers at a
fixed rate for `--steady` s to gunicorn (deploy/gunicorn.conf.py) with `--workers` `relance worker
--worker-class K` running, on a fresh database, and passes when the queue drains within 30 s of the load's
end, webhook -> score p99 (received_at to processed_at) is at most 30 s and nothing is lost (acknowledged,
not stored) or failed. The first run starts at 80 % of the workers' drain rate on a backlog; each trial goes
30 % up after a pass, down after a failure, then halves the bracket (later runs start at the previous
capacity, with 15 % steps). It prints every trial, each run's capacity as a share of the bare rate, the
median of the runs, and the CPU per event of web (gunicorn tree), workers (their trees, work horses
included), PostgreSQL (the backends of the bench database, sampled every 0.25 s) and Redis (the server).
`--fixed RATE` runs one trial; `--soak SECONDS` checks the memory of web and worker processes under a steady
load (bench/soak.py); `--compare` measures gunicorn worker classes and counts for deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time

import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet
from rq import Worker
from rq.registry import FailedJobRegistry

from bench import capacity, httpload, soak
from bench.common import CpuMeter
from bench.ingest import DOMAIN, PG, REDIS, ROOT, SECRET, reset_database, signed_requests
from bench.ingest import start_web as ingest_start_web
from bridge.infra.queue import QUEUES
from bridge.infra.supervisor import DEFAULT_WORKER_CLASS, WORKER_CLASSES

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
    """SIGTERM (a warm shutdown), then SIGKILL after 30 s (a gunicorn that waits on idle keep-alives)."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# -- a client that also copes with servers closing the connection after each response (sync workers) --


async def _one(
    port: int,
    reqs: list[httpload.Request],
    result: httpload.Result,
    pace,
    deadline: float,
    stop: threading.Event,
) -> None:
    reader = writer = None
    while reqs and time.perf_counter() < deadline and not stop.is_set():
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


def run(
    port: int,
    reqs: list[httpload.Request],
    concurrency: int,
    seconds: float,
    rate: float | None = None,
    stop: threading.Event | None = None,
):
    """Send `reqs` (each once) from `concurrency` connections for at most `seconds` (or until `stop` is set),
    paced at `rate`/s."""
    stop = stop or threading.Event()
    result, pending = httpload.Result(0, 0, 0.0, []), list(reversed(reqs))
    start = time.perf_counter()
    slots = iter(range(10**9))
    pace = (lambda: start + next(slots) / rate) if rate else None

    async def main() -> None:
        deadline = start + seconds
        await asyncio.gather(*(_one(port, pending, result, pace, deadline, stop) for _ in range(concurrency)))

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


def drain(engine: sa.Engine, timeout: float) -> float | None:
    """Seconds until no event is pending, None when some still are after `timeout`."""
    start = time.monotonic()
    query = sa.text("SELECT count(*) FROM events WHERE status = 'pending'")
    while time.monotonic() - start < timeout:
        with engine.connect() as conn:
            if conn.scalar(query) == 0:
                return time.monotonic() - start
        time.sleep(0.5)
    return None


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


# -- the stack of one trial: gunicorn and `relance worker` processes on a fresh database ----------------


def start_workers(env: dict[str, str], kind: str, count: int) -> list[subprocess.Popen[bytes]]:
    """`count` `relance worker` processes of `kind` (for a pool: one process with `count` children)."""
    cmd = [sys.executable, "-m", "bridge.cli", "worker", "--no-cron", "--worker-class", kind]
    if kind == "pool":
        return [subprocess.Popen([*cmd, "--processes", str(count)], env=env, cwd=ROOT)]
    return [subprocess.Popen(cmd, env=env, cwd=ROOT) for _ in range(count)]


def wait_for_workers(count: int, timeout: float = 60) -> None:
    """Until `count` RQ workers have registered in Redis (they import the app first)."""
    connection = redis.Redis.from_url(REDIS)
    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=connection)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.2)


@contextlib.contextmanager
def stack(env: dict[str, str], args: argparse.Namespace, workers: bool = True):
    """A fresh database, gunicorn (deploy/gunicorn.conf.py) and, with `workers`, the RQ workers: yields
    (port, the web process, the worker processes, an engine on the bench database); stops them all."""
    reset_database(env)
    web, port = start_web("wsgi:app", env, ["-c", str(CONFIG)])
    procs = start_workers(env, args.worker_class, args.workers) if workers else []
    engine = sa.create_engine(PG)
    try:
        if workers:
            wait_for_workers(args.workers)
        yield port, web, procs, engine
    finally:
        for proc in [web, *procs]:
            stop(proc)
        engine.dispose()


def done_count(engine: sa.Engine) -> int:
    """Events no longer pending."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM events WHERE status != 'pending'")) or 0)


def late_count(engine: sa.Engine) -> int:
    """Events pending for longer than the lag limit already."""
    query = (
        "SELECT count(*) FROM events "
        "WHERE status = 'pending' AND received_at < now() - make_interval(secs => :s)"
    )
    with engine.connect() as conn:
        return int(conn.scalar(sa.text(query), {"s": capacity.LAG_LIMIT}) or 0)


def failed_jobs() -> int:
    """Jobs in RQ's failed registries."""
    connection = redis.Redis.from_url(REDIS)
    return sum(FailedJobRegistry(name, connection=connection).count for name in QUEUES)


# -- the measurements ----------------------------------------------------------------------------------


def bare_rate(env: dict[str, str], args: argparse.Namespace) -> float:
    """Accepted/s of the bare Flask endpoint under the same gunicorn, 32 keep-alive connections."""
    web, port = start_web("bench.bare_app:app", env, ["-c", str(CONFIG)])
    try:
        reqs = signed_requests(int(args.seconds * 6000), 0)
        httpload.run(port, reqs[:300], concurrency=8, duration=2)  # warm-up
        return httpload.run(port, reqs[300:], concurrency=args.concurrency, duration=args.seconds).rate
    finally:
        stop(web)


def drain_rate(env: dict[str, str], args: argparse.Namespace) -> float:
    """Events/s the workers process from a backlog, the web stopped: where the search starts."""
    with stack(env, args, workers=False) as (port, web, _, engine):
        sent = run(port, mixed_requests(args.backlog, 0), 32, 120)
        stop(web)  # the workers get the machine
        procs = start_workers(env, args.worker_class, args.workers)
        try:
            wait_for_workers(args.workers)
            before, start = done_count(engine), time.monotonic()
            while time.monotonic() - start < args.probe and done_count(engine) < sent.ok:
                time.sleep(0.5)
            return (done_count(engine) - before) / (time.monotonic() - start)
        finally:
            for proc in procs:
                stop(proc)


def trial(env: dict[str, str], args: argparse.Namespace, rate: float) -> tuple[capacity.Outcome, dict]:
    """The mixed load at `rate` for `--steady` s, then up to the drain limit: the outcome and CPU by role."""
    planned = int(rate * args.steady)
    reqs = mixed_requests(planned, 0)
    with stack(env, args) as (port, web, procs, engine):
        meter = CpuMeter(
            {"web": [web.pid], "workers": [p.pid for p in procs]},
            {"postgres": f" {PG.rsplit('/', 1)[1]} ", "redis": "redis-server"},
        )
        meter.start()
        halt, box = threading.Event(), []
        sender = threading.Thread(
            target=lambda: box.append(run(port, reqs, 64, args.steady + 10, rate, halt))
        )
        sender.start()
        aborted = False
        while sender.is_alive():
            sender.join(2)
            if not aborted and capacity.hopeless(late_count(engine), planned):
                aborted = True
                halt.set()
        if not box:
            raise RuntimeError("the load sender failed")
        sent = box[0]
        drained = None if aborted else drain(engine, capacity.DRAIN_LIMIT)
        cpu = meter.stop()
        _, p99, statuses, lost = lag_and_loss(engine, sent.ok)
        failed = statuses.get("failed", 0) + failed_jobs()
    outcome = capacity.Outcome(
        rate, sent.ok, drained, p99 / 1000, max(lost, 0), failed, sent.errors, aborted, planned
    )
    return outcome, {role: 1000 * used / max(sent.ok, 1) for role, used in cpu.items()}


def describe(o: capacity.Outcome, cpu: dict[str, float]) -> str:
    """One line per trial."""
    drained = "not drained" if o.drained_after is None else f"drained {o.drained_after:.0f} s"
    verdict = "pass" if capacity.passes(o) else "FAIL (" + "; ".join(capacity.reasons(o)) + ")"
    split = ", ".join(f"{role} {ms:.2f}" for role, ms in cpu.items())
    head = f"  {o.rate:6.0f}/s  {o.accepted:6d} accepted  p99 {o.lag_p99:5.1f} s  {drained}"
    return f"{head}  CPU {split} ms/event  {verdict}"


def search(env: dict[str, str], args: argparse.Namespace, start: float, step: float):
    """`--trials` trials from `start`: the capacity (events/s) and the CPU split of the best passing trial."""
    tried: list[tuple[float, bool]] = []
    best_cpu: dict[str, float] = {}
    rate = start
    for _ in range(args.trials):
        outcome, cpu = trial(env, args, rate)
        print(describe(outcome, cpu), flush=True)
        tried.append((rate, capacity.passes(outcome)))
        if tried[-1][1] and rate >= capacity.capacity(tried):
            best_cpu = cpu
        rate = capacity.next_rate(tried, step)
    if not capacity.bracketed(tried):
        print(f"  (no failing rate above {capacity.capacity(tried):.0f}/s yet: a lower bound; more --trials)")
    return capacity.capacity(tried), best_cpu


def load(args: argparse.Namespace) -> None:
    """The capacity search, `--runs` times; the ratio of each run to the bare endpoint and their median."""
    env = environment()
    print(
        f"workers: {args.workers} x `relance worker --worker-class {args.worker_class}`, "
        f"gunicorn {CONFIG.name}"
    )
    print(
        f"a trial: {args.steady:.0f} s steady, passes when drained within {capacity.DRAIN_LIMIT:.0f} s, "
        f"webhook->score p99 <= {capacity.LAG_LIMIT:.0f} s, nothing lost or failed"
    )
    if args.fixed:
        outcome, cpu = trial(env, args, args.fixed)
        print(describe(outcome, cpu))
        return
    ratios, previous = [], 0.0
    for n in range(1, args.runs + 1):
        bare = bare_rate(env, args)
        if previous:
            start, step = previous, 1.15
        else:
            probed = drain_rate(env, args)
            start, step = max(5.0, 0.8 * probed), 1.3
            print(f"run {n}: drain rate of a {args.backlog}-event backlog {probed:.0f}/s; starting at 80 %")
        print(f"run {n}: bare endpoint {bare:.0f}/s; trials:", flush=True)
        found, cpu = search(env, args, start, step)
        previous = found
        ratios.append(found / bare)
        split = ", ".join(f"{role} {ms:.2f}" for role, ms in cpu.items())
        print(
            f"run {n}: capacity {found:.0f} events/s = {ratios[-1]:.4f} of the bare endpoint; "
            f"CPU {split} ms/event"
        )
    print("capacity / bare, runs: " + ", ".join(f"{r:.4f}" for r in ratios))
    print(f"median of {len(ratios)}: {capacity.median(ratios):.4f}  (target >= 0.08)")


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
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="bare endpoint throughput; --compare's runs"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="bare endpoint throughput connections")
    parser.add_argument("--rate", type=float, default=200.0, help="with --compare: rate of the latency runs")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of steady load per trial")
    parser.add_argument(
        "--runs", type=int, default=3, help="capacity searches; the median ratio is the figure"
    )
    parser.add_argument("--trials", type=int, default=3, help="trials per search")
    parser.add_argument("--backlog", type=int, default=4000, help="events of the drain-rate probe")
    parser.add_argument("--probe", type=float, default=20.0, help="seconds of the drain-rate probe")
    parser.add_argument("--fixed", type=float, default=0.0, help="one trial at this rate instead of a search")
    parser.add_argument(
        "--workers", type=int, default=2, help="`relance worker` processes (a pool's children)"
    )
    parser.add_argument("--worker-class", default=DEFAULT_WORKER_CLASS, choices=WORKER_CLASSES)
    parser.add_argument("--soak", type=float, default=0.0, help="memory check: seconds of steady load")
    parser.add_argument(
        "--soak-rate", type=float, default=0.0, help="its rate (default: half the drain rate)"
    )
    args = parser.parse_args()
    if args.compare:
        compare(args)
    elif args.soak:
        soak.soak(args)
    else:
        load(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
