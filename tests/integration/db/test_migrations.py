"""The migrations build exactly the models' schema, and go down to nothing and up again, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bridge import db
from bridge.db.models import Base
from tests.conftest import PG_ADMIN_URL, PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = PG_URL.rsplit("/", 1)[0]
    name = sa.engine.make_url(PG_URL).database + "_migrations"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield f"{server}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


POSTGRESQL_ONLY = {"ix_leads_shop_email_prefix"}


def differences(url: str) -> list[object]:
    engine = sa.create_engine(url)

    def include(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return not (engine.dialect.name == "sqlite" and kind == "index" and name in POSTGRESQL_ONLY)

    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_builds_the_models_and_downgrade_undoes_it(empty_url: str) -> None:
    db.upgrade(empty_url)
    assert tables(empty_url) == set(Base.metadata.tables)
    assert differences(empty_url) == []
    command.downgrade(db.alembic_config(empty_url), "base")
    assert tables(empty_url) == set()
    db.upgrade(empty_url)  # and up again: every downgrade left nothing behind
    assert differences(empty_url) == []
