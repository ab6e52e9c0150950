"""The `relance` command group, its `shops` group, and the context a command runs with."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bridge import db, wiring
from bridge.infra import logs
from bridge.infra.context import Context
from bridge.infra.settings import complete, from_env


def build_context() -> Context:
    """The context of a command, from the environment (and `.env`)."""
    return wiring.build(from_env())


def migrated_context() -> Context:
    """The context of a command that writes rows, on a database brought up to date first."""
    settings = complete(from_env())
    db.upgrade(settings.database_url)
    return wiring.build(settings)


def require_schema(ctx: Context) -> None:
    """Stop with a clear message when the database was never migrated or lags behind this code."""
    script = ScriptDirectory.from_config(db.alembic_config(ctx.settings.database_url))
    quiet = logging.getLogger("alembic.runtime.migration")  # its "Context impl …" line is no command output
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with ctx.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        quiet.setLevel(level)
    if not current:
        raise click.ClickException("the database has no tables yet: run `relance db upgrade` first")
    known = {rev.revision for rev in script.walk_revisions()}
    if current <= known and current != set(script.get_heads()):
        raise click.ClickException("the database schema is out of date: run `relance db upgrade` first")


@contextmanager
def closing_context() -> Iterator[Context]:
    """The context of one command on a migrated database, whose connections close after it (a command may
    run inside another process: the tests, a shell)."""
    ctx = build_context()
    try:
        require_schema(ctx)
        yield ctx
    finally:
        ctx.engine.dispose()


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default from LOG_LEVEL).")
def main(log_level: str | None) -> None:
    """Relance: lead scoring and cart recovery for Shopify and WooCommerce."""
    settings = from_env()
    logs.configure_logging(
        log_level or settings.log_level, json_logs=settings.log_format == "json", settings=settings
    )


@main.group("shops")
def shops_group() -> None:
    """Shops connected to this Relance."""
