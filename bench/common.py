"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa

from bridge.db import upgrade


def recreate_database(url: str, *, migrate: bool = True, create: bool = True) -> str:
    """Drop the PostgreSQL database at `url` (and, by default, create and migrate it again); returns `url`."""
    server, name = url.rsplit("/", 1)
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if create and migrate:
        upgrade(url)
    return url


GROUPS = ("gunicorn", "postgres", "redis", "rq")


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by the processes of each group, from /proc (Linux only);
    two readings around a run tell where its CPU went."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(GROUPS, 0.0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        group = next((g for g in GROUPS if g in command), None)
        if group is None and "relance" in command and " worker" in command:
            group = "rq"
        if group is not None:
            used[group] += (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> str:
    """ "gunicorn 0.85, postgres 0.18 …" in CPU milliseconds per request."""
    parts = [
        f"{g} {1000 * (after[g] - before[g]) / max(requests, 1):.2f}" for g in GROUPS if after[g] > before[g]
    ]
    return ", ".join(parts) + " ms CPU per request"


# -- process trees: CPU and resident memory of the processes a bench started ------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(root: int) -> list[int]:
    """`root` and every live process below it (gunicorn's workers, RQ's work horses, a pool's children)."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (fields := _stat(int(proc.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(proc.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of the trees under `roots`, reaped children included (a work horse's CPU moves into its
    worker's cutime when it exits): the difference of two readings is the CPU the trees used between them."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for root in roots:
        for pid in descendants(root):
            if (fields := _stat(pid)) is not None:
                total += sum(int(f) for f in fields[11:15]) / tick
    return total


def named_cpu(needle: str) -> dict[int, float]:
    """CPU seconds (user + system) of each live process whose command line contains `needle`."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in command and (fields := _stat(int(proc.name))) is not None:
            out[int(proc.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def rss_kib(pid: int) -> int | None:
    """The resident set size of `pid` in KiB (VmRSS), None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class CpuMeter:
    """CPU seconds by role over an interval: process trees read at both ends (`trees`: role -> root pids), and
    processes matched by command line (`named`: role -> needle, e.g. the PostgreSQL backends of one database)
    sampled every `every` s, since backends come and go (one that lives less than that is missed)."""

    def __init__(self, trees: dict[str, list[int]], named: dict[str, str], every: float = 0.25) -> None:
        self.trees, self.named, self.every = trees, named, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._first: dict[str, dict[int, float]] = {}
        self._last: dict[str, dict[int, float]] = {}

    def start(self) -> None:
        """The first reading."""
        self._start = {role: tree_cpu(roots) for role, roots in self.trees.items()}
        self._first = {role: named_cpu(needle) for role, needle in self.named.items()}
        self._last = {role: dict(seen) for role, seen in self._first.items()}
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            for role, needle in self.named.items():
                self._last[role].update(named_cpu(needle))

    def stop(self) -> dict[str, float]:
        """CPU seconds used by each role since `start`."""
        self._stop.set()
        self._thread.join()
        used = {role: tree_cpu(roots) - self._start[role] for role, roots in self.trees.items()}
        for role, last in self._last.items():
            used[role] = sum(cpu - self._first[role].get(pid, 0.0) for pid, cpu in last.items())
        return used
