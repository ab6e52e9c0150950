"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, the app, signed deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from redis import Redis

from bridge import db, wiring
from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Base
from bridge.infra.queue import QUEUES, ThreadWorker, get_queue
from bridge.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Our own webhook payloads, in the platforms' documented shapes (tests/fixtures/README.md).
FIXTURES = ROOT / "tests" / "fixtures"
PG_ADMIN_URL = os.environ.get(
    "RELANCE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_URL = os.environ.get("RELANCE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/relance_test")
REDIS_URL = os.environ.get("RELANCE_TEST_REDIS", "redis://127.0.0.1:6379/13")
APP_SECRET = "shpss_test_app_secret_0123456789abcdef"
KEY = Fernet.generate_key().decode()

# The property tests assert results, never speed: on a shared, loaded machine Hypothesis's own timing checks
# (a per-example deadline, "input generation is slow") fail runs whose results are right. Explicit per-test
# settings still win for what they name.
hypothesis_settings.register_profile(
    "relance", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("relance")


def fixture(platform: str, name: str) -> bytes:
    """The raw bytes of one of our payload fixtures, e.g. fixture("shopify", "orders__create.json")."""
    return (FIXTURES / platform / name).read_bytes()


def shopify_sign(raw: bytes, secret: str = APP_SECRET) -> str:
    """The X-Shopify-Hmac-Sha256 header Shopify would send."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A migrated PostgreSQL test database (created if missing)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = sa.engine.make_url(PG_URL).database
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    db.upgrade(PG_URL)
    return PG_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    db.upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    """Empty the tables a test wrote to and restart every id sequence. TRUNCATE costs file operations per
    table (about 0.1 s for all of them, twice a test); most tests touch a few, so only the tables holding
    rows are truncated (CASCADE takes the tables that point to them) and the sequences are reset one by
    one."""
    engine = sa.create_engine(url)
    names = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in names)
    with engine.begin() as conn:
        full = list(conn.scalars(sa.text(probe)))
        if full:
            conn.execute(sa.text(f"TRUNCATE {', '.join(full)} CASCADE"))
        conn.execute(
            sa.text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs once on SQLite and once on PostgreSQL, on a clean database."""
    if request.param == "sqlite":
        path = tmp_path / "relance.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    _truncate(url)
    yield url
    _truncate(url)


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """The real Redis, on a database of its own, flushed before and after each test."""
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        secret_key="test-secret-key",
        encryption_keys=(KEY,),
        shopify_api_key="test-api-key",
        shopify_api_secret=APP_SECRET,
        instance_path=str(tmp_path / "instance"),
        public_url="http://relance.test",
        testing=True,
        # Each commit's job queued before the answer (DESIGN §2 as written), so a test sees it at once;
        # events/test_event_batches.py opens the window, subprocess tests run with the default.
        ingest_job_window_ms=0,
    )


@pytest.fixture
def ctx(settings: Settings, redis_conn: Redis, clock: Clock) -> Iterator[wiring.Context]:
    context = wiring.build(settings, redis=redis_conn, clock=clock)
    yield context
    context.engine.dispose()


@pytest.fixture
def build_context() -> Iterator[Callable[..., wiring.Context]]:
    """`wiring.build` for tests that need their own context; every engine is closed at teardown, however
    the test ends (a pool left open is collected, and warned about, in some later test)."""
    made: list[wiring.Context] = []

    def build(settings: Settings, **kwargs: Any) -> wiring.Context:
        made.append(wiring.build(settings, **kwargs))
        return made[-1]

    yield build
    for context in made:
        context.engine.dispose()


@pytest.fixture
def app(ctx: wiring.Context) -> Any:
    return create_app(ctx.settings, ctx=ctx)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def run_jobs(ctx: wiring.Context) -> Callable[[], None]:
    """Drain the queues with a real RQ worker (in this process, so the test clock applies)."""

    def drain() -> None:
        from rq.scheduler import RQScheduler

        ctx.writer.flush()  # the ingest job still open in its window (INGEST_JOB_WINDOW_MS)

        scheduler = RQScheduler(list(QUEUES), connection=ctx.redis)
        scheduler.acquire_locks()
        scheduler.enqueue_scheduled_jobs()
        scheduler.release_locks()
        worker = ThreadWorker([get_queue(ctx.redis, q) for q in QUEUES], connection=ctx.redis)
        worker.work(burst=True, logging_level="WARNING")

    return drain


@pytest.fixture
def shopify_shop(ctx: wiring.Context) -> dict[str, Any]:
    """An installed Shopify shop and its API key."""
    from bridge.shops.registry import create_shop

    with transaction(ctx.sessions) as session:
        new = create_shop(
            session,
            ctx.vault,
            platform="shopify",
            domain="demo.myshopify.com",
            now=ctx.now(),
            access_token="shpat_test",
        )
        return {
            "id": new.shop.id,
            "domain": "demo.myshopify.com",
            "api_key": new.api_key,
            "shop_key": new.shop.shop_key,
        }


@pytest.fixture
def woo_shop(ctx: wiring.Context) -> dict[str, Any]:
    """A WooCommerce shop with its webhook secret and API key."""
    from bridge.shops.registry import create_shop

    with transaction(ctx.sessions) as session:
        new = create_shop(
            session,
            ctx.vault,
            platform="woocommerce",
            domain="https://shop.example.com",
            now=ctx.now(),
            webhook_secret="wc_secret_" + "x" * 20,
            consumer_key="ck_1",
            consumer_secret="cs_1",
        )
        return {
            "id": new.shop.id,
            "shop_key": new.shop.shop_key,
            "api_key": new.api_key,
            "secret": "wc_secret_" + "x" * 20,
        }


@pytest.fixture
def post_shopify(client: Any) -> Callable[..., Any]:
    """POST a Shopify delivery, signed for real unless told otherwise."""
    counter = iter(range(1, 1_000_000))

    def post(
        topic: str,
        body: bytes | dict[str, Any],
        *,
        shop: str = "demo.myshopify.com",
        event_id: str | None = None,
        secret: str = APP_SECRET,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        h = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Hmac-Sha256": signature if signature is not None else shopify_sign(raw, secret),
            "X-Shopify-Webhook-Id": f"wh-{next(counter)}",
            "X-Shopify-Event-Id": event_id or f"ev-{next(counter)}",
            "X-Shopify-Triggered-At": "2026-11-25T10:00:00Z",
            "Content-Type": "application/json",
        }
        h.update(headers or {})
        return client.post("/webhooks/shopify", data=raw, headers=h)

    return post


# The markers pyproject declares, put on each test by what it uses, so a loop can leave out what it lacks:
# `pytest -m "not postgres and not redis and not browser"` runs on SQLite alone.
POSTGRES_FIXTURES = {"pg_url", "clean_pg"}  # the session's database; the fault suite's (tests/faults)
REDIS_FIXTURES = {"redis_conn", "redis_url", "session_redis", "redis_server"}  # the real server, or our own
BROWSER_FIXTURES = {"browser"}
TESTS = ROOT / "tests"
SLOW_FOLDERS = {"e2e", "faults", "browser"}  # real processes, killed servers, Chromium
SLOW_MODULES = {"integration/ops/test_scale_out.py"}  # gunicorn and three workers: about 100 s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark postgres, redis, browser and slow from each test's fixtures and folder."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        # database_url (and test_migrations' empty_url) ask for PostgreSQL only on their "postgresql" param
        params = list(callspec.params.values()) if callspec is not None else []
        if used & POSTGRES_FIXTURES or "postgresql" in params:
            item.add_marker(pytest.mark.postgres)
        if used & REDIS_FIXTURES:
            item.add_marker(pytest.mark.redis)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        where = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
        if where.split("/")[0] in SLOW_FOLDERS or where in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
