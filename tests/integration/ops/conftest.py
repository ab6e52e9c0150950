"""Ops tests run on a PostgreSQL database and a Redis server of their own (see tests/faults/conftest.py)."""

from tests.faults.conftest import clean_pg, pg_url, redis_conn, redis_url, session_redis  # noqa: F401
