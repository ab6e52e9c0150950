"""Fault-suite fixtures: a database and a Redis db of its own, a Redis server to kill, a TCP proxy to cut."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis

from bridge import db
from tests.conftest import KEY, PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
RELANCE = [sys.executable, "-m", "bridge.cli"]
PG_SERVER = os.environ.get("RELANCE_FAULTS_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def create_database(url: str) -> str:
    """A clean, migrated PostgreSQL database at `url` (created if missing)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = sa.engine.make_url(url).database
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own: the first free slot, held by an advisory lock,
    so another run of the suite beside this one never shares it (and no database is dropped afterwards)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    holder = admin.connect()
    slot = next(
        n
        for n in range(64)
        if holder.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": 0x52454C00 + n})
    )
    try:
        yield create_database(f"{PG_SERVER.rstrip('/')}/relance_faults_{slot}")
    finally:
        holder.close()
        admin.dispose()


@pytest.fixture(scope="session")
def session_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test session's own (the machine's shared one is left alone)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.kill()


@pytest.fixture
def redis_url(session_redis: RedisServer) -> str:
    return session_redis.url


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Redis]:
    """This session's Redis, flushed before and after each test."""
    conn = Redis.from_url(redis_url)
    conn.flushall()
    yield conn
    conn.flushall()
    conn.close()


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `relance` subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELANCE_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        ENCRYPTION_KEYS=KEY,
        SECRET_KEY="faults",
        INSTANCE_PATH=str(tmp_path / "instance"),
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence, that can be killed."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp, self.proc = free_port(), tmp, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (or restart, empty) the server on the same port."""
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen(
            [*cmd, "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        probe = Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: _pings(probe), timeout=10)
        probe.close()
        return self

    def kill(self) -> None:
        """SIGKILL: everything the server held in memory is gone."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(conn: Redis) -> bool:
    try:
        return bool(conn.ping())
    except Exception:
        return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


class TcpProxy:
    """A TCP proxy to a real server that a test can cut (drop every connection, refuse new ones), restore."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = threading.Event()
        self.closed = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            source.close()

    def cut(self) -> None:
        """The server is 'down': live connections drop, new ones are closed at once."""
        self.cut_off.set()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        """The server is back."""
        self.cut_off.clear()

    def close(self) -> None:
        self.cut()
        self.closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(5432)
    yield proxy
    proxy.close()


def settings_for(database_url: str, redis_url: str, tmp_path: Path, **overrides: Any) -> Any:
    """Settings of an app under test on real services."""
    from bridge.infra.settings import Settings
    from tests.conftest import APP_SECRET

    base = Settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key="faults",
        encryption_keys=(KEY,),
        shopify_api_key="test-api-key",
        shopify_api_secret=APP_SECRET,
        instance_path=str(tmp_path / "instance"),
        public_url="http://relance.test",
        testing=True,
        # In this process each commit's job is queued before the answer, so a test can look at the queue
        # at once; the processes the suite starts run with the production window.
        ingest_job_window_ms=0,
    )
    return base.with_overrides(**overrides)


@pytest.fixture
def clean_pg(pg_url: str) -> Iterator[str]:
    """The fault suite's database, emptied before and after the test."""
    from tests.conftest import _truncate

    _truncate(pg_url)
    yield pg_url
    _truncate(pg_url)
