"""bench.load --soak: resident memory of every web and worker process under a long steady load (a leak check).

Each second it reads VmRSS of the gunicorn tree (master and workers) and of each `relance worker` tree (the
worker, its work horses, a pool's children), and prints each process's peak during the first minute and its
peak after; a process whose later peak exceeds its first minute's by more than `TOLERANCE` is flagged.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field

from bench import load
from bench.common import descendants, rss_kib

WARM_UP = 60.0  # seconds: the reference window
TOLERANCE = 0.02  # growth allowed above the first minute's peak (allocator noise)


@dataclass
class Peaks:
    """One process's peaks, in KiB."""

    role: str
    first: int = 0  # during the first minute
    after: int = 0  # after it
    minutes: list[int] = field(default_factory=list)  # the peak of each minute: a plateau or a slope


def soak(args: argparse.Namespace) -> None:
    """A steady load for `--soak` s while sampling the resident sizes."""
    env = load.environment()
    rate = args.soak_rate or max(5.0, 0.5 * load.drain_rate(env, args))
    reqs = load.mixed_requests(int(rate * args.soak), 0)
    print(
        f"soak: {rate:.0f}/s for {args.soak:.0f} s, {args.workers} x {args.worker_class} workers", flush=True
    )
    peaks: dict[int, Peaks] = {}
    with load.stack(env, args) as (port, web, procs, _):
        halt, box = threading.Event(), []
        sender = threading.Thread(target=lambda: box.append(load.run(port, reqs, 64, args.soak, rate, halt)))
        start = time.monotonic()
        sender.start()
        while sender.is_alive():
            sample(peaks, {"web": [web.pid], "worker": [p.pid for p in procs]}, time.monotonic() - start)
            sender.join(1.0)
    print(f"sent {box[0].ok} accepted, {box[0].errors} errors")
    report(peaks)


def sample(peaks: dict[int, Peaks], roots: dict[str, list[int]], elapsed: float) -> None:
    """One reading of every process under `roots`."""
    for role, pids in roots.items():
        for root in pids:
            for pid in descendants(root):
                if (kib := rss_kib(pid)) is None:
                    continue
                p = peaks.setdefault(pid, Peaks(role))
                minute = int(elapsed // 60)
                p.minutes.extend([0] * (minute + 1 - len(p.minutes)))
                p.minutes[minute] = max(p.minutes[minute], kib)
                if elapsed < WARM_UP:
                    p.first = max(p.first, kib)
                else:
                    p.after = max(p.after, kib)


def grew(p: Peaks) -> bool:
    """The later peak exceeds the first minute's beyond the tolerance (a process born later: never)."""
    return bool(p.first and p.after > p.first * (1 + TOLERANCE))


def report(peaks: dict[int, Peaks]) -> None:
    """A line per process seen in both windows, then a count of the short-lived ones (work horses)."""
    print(f"{'role':<7} {'pid':>8} {'first min MiB':>13} {'after MiB':>10}  verdict, then each minute's peak")
    short = 0
    for pid, p in sorted(peaks.items(), key=lambda item: (item[1].role, item[0])):
        if not (p.first and p.after):
            short += 1
            continue
        verdict = f"GREW {100 * (p.after / p.first - 1):+.1f} %" if grew(p) else "ok"
        trend = " ".join(f"{kib / 1024:.1f}" for kib in p.minutes)
        print(f"{p.role:<7} {pid:>8} {p.first / 1024:>13.1f} {p.after / 1024:>10.1f}  {verdict}; {trend}")
    print(f"{short} process(es) seen in one window only (work horses, recycled web workers): not compared")
    flagged = sum(grew(p) for p in peaks.values())
    print(f"memory: {flagged} process(es) grew beyond the first minute's peak (+{TOLERANCE:.0%} tolerance)")
