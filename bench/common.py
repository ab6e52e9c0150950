"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
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
