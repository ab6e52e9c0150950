"""The `relance` command line."""

from __future__ import annotations

import ipaddress
import logging
import threading

import click
import sqlalchemy as sa

from bridge import db
from bridge import wiring as runtime
from bridge.infra import logs, observability
from bridge.infra import settings as settings_mod


def _ctx() -> runtime.Context:
    return runtime.build(settings_mod.from_env())


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default from LOG_LEVEL).")
def main(log_level: str | None) -> None:
    """Relance: lead scoring and cart recovery for Shopify and WooCommerce."""
    settings = settings_mod.from_env()
    logs.configure_logging(
        log_level or settings.log_level, json_logs=settings.log_format == "json", settings=settings
    )


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema (safe to run on every deploy)."""
    s = settings_mod.complete(settings_mod.from_env())
    db.upgrade(s.database_url)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--demo", is_flag=True, help="On an empty database, create the demo shop and play a day of webhooks."
)
def serve(host: str, port: int, demo: bool) -> None:
    """Run the web app (and, without REDIS_URL, the jobs in this process)."""
    from werkzeug.serving import run_simple

    from bridge.app import create_app

    s = settings_mod.complete(settings_mod.from_env())
    local = local_url(host, port)
    if not settings_mod.is_set("PUBLIC_URL"):
        s = s.with_overrides(public_url=local)  # links and the printed admin page use the real address
    db.upgrade(s.database_url)
    ctx = runtime.build(s)
    app = create_app(s, ctx=ctx)
    if demo:
        from bridge.cli.admin import echo_result
        from bridge.demo import seed_if_empty

        result = seed_if_empty(ctx)
        if result is not None:
            echo_result(ctx, result)
    if s.embedded_queue:
        start_embedded(ctx)
        click.echo("jobs run in this process (no REDIS_URL set)")
    click.echo(f"Relance on {local}/  (admin page: {local}/admin/)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def local_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for `serve --host H --port P`."""
    try:
        everywhere = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        everywhere = not host  # a host name
    if everywhere:
        host = "127.0.0.1"  # listening on every address: this machine's own one works
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start_embedded(ctx: runtime.Context) -> object:
    """Start the in-process worker and ticker for embedded mode."""
    from bridge import schedule
    from bridge.infra import queue

    ticks = [(schedule.enqueue_now(ctx.redis, p), p.every_seconds) for p in schedule.periodic_jobs()]
    embedded = queue.Embedded(ctx.redis, periodic=ticks)
    embedded.start()
    return embedded


@main.command()
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then exit.")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic-job scheduler in this worker.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a forked work horse.")
@click.option(
    "--worker-ttl",
    envvar=["RELANCE_WORKER_TTL", "WORKER_TTL"],
    default=420,
    show_default=True,
    type=click.IntRange(min=20),
    help="RQ's worker TTL (env WORKER_TTL): it waits on the queues for this minus 15 s between heartbeats.",
)
def worker(burst: bool, no_cron: bool, simple: bool, worker_ttl: int) -> None:
    """Run an RQ worker on REDIS_URL, with RQ's scheduler for retries and periodic jobs."""
    from rq import SimpleWorker, Worker

    from bridge import schedule
    from bridge.events import ingest
    from bridge.infra import queue, supervisor

    ctx = _ctx()
    if ctx.settings.embedded_queue:
        raise click.UsageError(
            "set REDIS_URL for a separate worker; `relance serve` alone runs jobs in-process"
        )
    require_schema(ctx)
    ingest.relay(ctx)  # events left pending while no worker ran
    stop = threading.Event()
    if not no_cron and not burst:
        schedule.start_cron(ctx.redis, stop)
    try:
        supervisor.work_until_stopped(
            observability.metered(SimpleWorker if simple else Worker),
            queue.connect_worker(ctx.settings.redis_url),
            burst=burst,
            logging_level=logging.getLevelName(logging.root.level),
            worker_ttl=worker_ttl,
        )
    finally:
        stop.set()


def require_schema(ctx: runtime.Context) -> None:
    """Stop with a clear message when the database was never migrated or lags behind this code."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config(ctx.settings.database_url))
    with ctx.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        raise click.ClickException("the database has no tables yet: run `relance db upgrade` first")
    known = {rev.revision for rev in script.walk_revisions()}
    if current <= known and current != set(script.get_heads()):
        raise click.ClickException("the database schema is out of date: run `relance db upgrade` first")


@main.command()
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Replay every failed event.")
@click.option("--shop-key", default=None, help="With --failed: only this shop's events.")
def replay(event_ids: tuple[int, ...], failed: bool, shop_key: str | None) -> None:
    """Process stored events again (by id, or all failed ones)."""
    from bridge.db.models import Event
    from bridge.events import pipeline
    from bridge.shops import registry as shops

    ctx = _ctx()
    ids = list(event_ids)
    if failed:
        with ctx.sessions() as session:
            query = sa.select(Event.id).where(Event.status == "failed")
            if shop_key:
                shop = shops.by_key(session, shop_key)
                if shop is None:
                    raise click.BadParameter("unknown shop key", param_hint="--shop-key")
                query = query.where(Event.shop_id == shop.id)
            ids += list(session.scalars(query))
    if not ids:
        click.echo("nothing to replay")
        return
    pipeline.replay(ctx, ids)
    click.echo(f"replaying {len(ids)} event(s)")
    if ctx.settings.embedded_queue:
        from bridge.infra.queue import QUEUES, ThreadWorker, get_queue

        ThreadWorker([get_queue(ctx.redis, q) for q in QUEUES], connection=ctx.redis).work(burst=True)


@main.group()
def shops() -> None:
    """Shops connected to this Relance."""


@shops.command("add")
@click.option("--platform", type=click.Choice(["shopify", "woocommerce"]), required=True)
@click.option("--domain", help="Shopify: the shop's x.myshopify.com domain.")
@click.option("--url", help="WooCommerce: the store's URL.")
@click.option("--token", help="Shopify: an Admin API access token (custom app).")
@click.option("--webhook-secret", help="The secret that signs this shop's webhooks.")
@click.option("--consumer-key", help="WooCommerce REST consumer key.")
@click.option("--consumer-secret", help="WooCommerce REST consumer secret.")
def shops_add(
    platform: str,
    domain: str | None,
    url: str | None,
    token: str | None,
    webhook_secret: str | None,
    consumer_key: str | None,
    consumer_secret: str | None,
) -> None:
    """Add a shop by hand; prints its shop key and API key (shown once)."""
    from bridge.db import transaction
    from bridge.shops import registry as shops_mod

    target = (domain if platform == "shopify" else url) or ""
    target = target.strip().lower().rstrip("/")
    if not target:
        raise click.UsageError("--domain is required for shopify, --url for woocommerce")
    if platform == "woocommerce" and not webhook_secret:
        raise click.UsageError(
            "--webhook-secret is required for woocommerce (unsigned deliveries are refused)"
        )
    ctx = _ctx()
    db.upgrade(ctx.settings.database_url)
    with transaction(ctx.sessions) as session:
        new = shops_mod.create_shop(
            session,
            ctx.vault,
            platform=platform,
            domain=target,
            now=ctx.now(),
            access_token=token,
            webhook_secret=webhook_secret,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
        )
        shop_key, public_key = new.shop.shop_key, new.shop.public_key
    click.echo(f"shop_key: {shop_key}")
    click.echo(f"public_key: {public_key}")
    click.echo(f"api_key: {new.api_key}")
    if platform == "woocommerce":
        click.echo(f"webhook delivery URL: {ctx.settings.public_url}/webhooks/woocommerce/{shop_key}")


@main.command()
def sweep() -> None:
    """Hand due carts to the abandonment jobs now (the worker sweeps every minute too); embedded, run them."""
    from bridge.outreach import sweep as campaign

    ctx = _ctx()
    try:
        click.echo(f"{campaign.sweep(ctx)} due cart(s) queued to be marked abandoned and offered")
        if ctx.settings.embedded_queue:
            from bridge.infra.queue import QUEUES, ThreadWorker, get_queue

            ThreadWorker([get_queue(ctx.redis, q) for q in QUEUES], connection=ctx.redis).work(burst=True)
    finally:
        ctx.engine.dispose()  # close the database connections (the command may run inside another process)


@main.command()
def relay() -> None:
    """Re-enqueue acknowledged events whose job was lost."""
    click.echo(f"re-enqueued {ingest_relay()} event(s)")


def ingest_relay() -> int:
    from bridge.events import ingest

    ctx = _ctx()
    try:
        return ingest.relay(ctx)
    finally:
        ctx.engine.dispose()


from bridge.cli import admin, ops, woo  # noqa: E402,F401  (they register their commands on `main`)
