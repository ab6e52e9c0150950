"""The database: engine, sessions and transactions, schema migrations (Alembic, in `migrations/`); the
models in `bridge.db.models`, portable column types in `bridge.db.types`. Imports nothing of ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with sane pool settings for both SQLite and PostgreSQL."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: a connection that died with the server fails one request with 503 (the store retries)
    # and SQLAlchemy then discards the whole pool.
    return sa.create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (safe to run on every deploy)."""
    command.upgrade(alembic_config(url), revision)


def money_sum(session: Session, column: Any) -> Any:
    """SUM of a money column, exact on both databases (read it back with money_value): PostgreSQL sums
    NUMERIC; SQLite keeps money as text and would sum binary floats, so there it sums whole ten-thousandths
    (money has four decimals at most)."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.sum(sa.func.round(sa.cast(column, sa.Float) * 10_000))
    return sa.func.sum(column)


def money_value(session: Session, total: Any) -> Decimal | None:
    """The Decimal of a money_sum() result (None for the sum of no rows)."""
    if total is None:
        return None
    if session.get_bind().dialect.name == "sqlite":
        return Decimal(int(total)) / 10_000
    return Decimal(total)


Row = TypeVar("Row")


def locked(session: Session, model: type[Row], row_id: int, touch: Any) -> Row | None:
    """The row, locked for the rest of the transaction and read fresh. SQLite has no row locks: there a
    no-op write of the column `touch` takes the database's write lock before anything is read."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.update(model).where(model.id == row_id).values({touch: touch}))  # type: ignore[attr-defined]
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


_INSERTS: dict[sa.Table, sa.Insert] = {}


def insert_now(session: Session, model: type[Row], values: dict[str, Any]) -> Row:
    """Insert one row at once with a Core statement and hold it in the session as if loaded: its id is known
    without flushing the session's other changes (which then go out together, in fewer statements) and
    without the ORM's bulk insert machinery. Every column comes back, so nothing is left to load."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    stmt = _INSERTS.get(table)
    if stmt is None:  # one statement per table: compiled once per set of columns given
        stmt = _INSERTS[table] = sa.insert(table).returning(*table.c)
    written = session.connection().execute(stmt, values).one()
    mapper = sa.inspect(model)
    keys = [mapper.get_property_by_column(column).key for column in table.c]
    row = model(**dict(zip(keys, written, strict=True)))
    make_transient_to_detached(row)
    session.add(row)
    return row
