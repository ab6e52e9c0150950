"""The long-running commands, `relance serve` (the web app, and the jobs too without REDIS_URL) and
`relance worker`, and `relance db upgrade`, which a deploy runs before them."""

from __future__ import annotations

import ipaddress
import logging
import threading

import click
from werkzeug.serving import make_server

from bridge import db, schedule, wiring
from bridge.app import create_app
from bridge.cli.admin import echo_result
from bridge.cli.root import build_context, main, require_schema
from bridge.demo import seed_if_empty
from bridge.events import ingest
from bridge.infra import observability, queue, supervisor
from bridge.infra.context import Context
from bridge.infra.settings import complete, from_env, is_set


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema (safe to run on every deploy)."""
    db.upgrade(complete(from_env()).database_url)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--demo", is_flag=True, help="On an empty database, create the demo shop and play a day of webhooks."
)
def serve(host: str, port: int, demo: bool) -> None:
    """Run the web app (and, without REDIS_URL, the jobs in this process)."""
    settings = complete(from_env())
    local = local_url(host, port)
    if not is_set("PUBLIC_URL"):
        settings = settings.with_overrides(public_url=local)  # links and the printed admin page use it
    db.upgrade(settings.database_url)
    ctx = wiring.build(settings)
    app = create_app(settings, ctx=ctx)
    if demo and (result := seed_if_empty(ctx)) is not None:
        echo_result(ctx, result)
    if settings.embedded_queue:
        start_embedded(ctx)
        click.echo("jobs run in this process (no REDIS_URL set)")
    server = make_server(host, port, app, threaded=True)  # listening before the address is printed
    click.echo(f"Relance on {local}/  (admin page: {local}/admin/)")
    server.serve_forever()


def local_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for `serve --host H --port P`."""
    try:
        everywhere = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        everywhere = not host  # a host name
    if everywhere:
        host = "127.0.0.1"  # listening on every address: this machine's own one works
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start_embedded(ctx: Context) -> queue.Embedded:
    """Start the in-process worker and ticker for embedded mode."""
    ticks = [(schedule.enqueue_now(ctx.redis, p), p.every_seconds) for p in schedule.periodic_jobs()]
    embedded = queue.Embedded(ctx.redis, periodic=ticks)
    embedded.start()
    return embedded


@main.command()
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then exit.")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic-job scheduler in this worker.")
@click.option(
    "--worker-class",
    "kind",
    envvar="RELANCE_WORKER_CLASS",
    type=click.Choice(supervisor.WORKER_CLASSES),
    default=supervisor.DEFAULT_WORKER_CLASS,
    show_default=True,
    help="split: the events queue's jobs in this process, a forked work horse for the other queues' (they "
    "call stores and mail providers); fork: a work horse per job; simple: every job in this process; pool: "
    "--processes split workers forked and restarted by one parent (RQ's WorkerPool).",
)
@click.option("--simple", is_flag=True, help="Same as --worker-class simple.")
@click.option(
    "--processes",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Workers of a --worker-class pool.",
)
@click.option(
    "--worker-ttl",
    envvar=["RELANCE_WORKER_TTL", "WORKER_TTL"],
    default=420,
    show_default=True,
    type=click.IntRange(min=20),
    help="RQ's worker TTL (env WORKER_TTL): it waits on the queues for this minus 15 s between heartbeats.",
)
def worker(burst: bool, no_cron: bool, kind: str, simple: bool, processes: int, worker_ttl: int) -> None:
    """Run an RQ worker on REDIS_URL, with RQ's scheduler for retries and periodic jobs."""
    ctx = build_context()
    if ctx.settings.embedded_queue:
        raise click.UsageError(
            "set REDIS_URL for a separate worker; `relance serve` alone runs jobs in-process"
        )
    require_schema(ctx)
    ingest.relay(ctx)  # events left pending while no worker ran
    stop = threading.Event()
    if not no_cron and not burst:
        schedule.start_cron(ctx.redis, stop)
    kind = "simple" if simple else kind
    level = logging.getLevelName(logging.root.level)
    worker_class = observability.metered(supervisor.worker_class(kind))
    try:
        if kind == "pool":
            supervisor.work_in_pool(
                worker_class,
                ctx.settings.redis_url,
                processes,
                burst=burst,
                logging_level=level,
                worker_ttl=worker_ttl,
            )
        else:
            supervisor.work_until_stopped(
                worker_class,
                queue.connect_worker(ctx.settings.redis_url),
                burst=burst,
                logging_level=level,
                worker_ttl=worker_ttl,
            )
    finally:
        stop.set()
