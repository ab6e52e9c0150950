"""Helpers shared by the benchmarks."""

from __future__ import annotations

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
