"""Commands that do now what the worker does by itself: replay stored events, relay the ones whose job was
lost, sweep due carts. Without REDIS_URL they also run the jobs they queue."""

from __future__ import annotations

import click
import sqlalchemy as sa

from bridge.cli.root import build_context, closing_context, main, require_schema
from bridge.db.models import Event
from bridge.events import ingest
from bridge.events import pipeline as event_pipeline
from bridge.infra import queue
from bridge.outreach import sweep as cart_sweep
from bridge.shops import registry


@main.command()
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--failed", is_flag=True, help="Replay every failed event.")
@click.option("--shop-key", default=None, help="With --failed: only this shop's events.")
def replay(event_ids: tuple[int, ...], failed: bool, shop_key: str | None) -> None:
    """Process stored events again (by id, or all failed ones)."""
    ctx = build_context()
    require_schema(ctx)
    ids = list(event_ids)
    if failed:
        with ctx.sessions() as session:
            query = sa.select(Event.id).where(Event.status == "failed")
            if shop_key:
                shop = registry.by_key(session, shop_key)
                if shop is None:
                    raise click.BadParameter("unknown shop key", param_hint="--shop-key")
                query = query.where(Event.shop_id == shop.id)
            ids += list(session.scalars(query))
    if not ids:
        click.echo("nothing to replay")
        return
    event_pipeline.replay(ctx, ids)
    click.echo(f"replaying {len(ids)} event(s)")
    if ctx.settings.embedded_queue:
        queue.thread_worker(ctx.redis).work(burst=True)


@main.command()
def sweep() -> None:
    """Hand due carts to the abandonment jobs now (the worker sweeps every minute too); embedded, run them."""
    with closing_context() as ctx:
        click.echo(f"{cart_sweep.sweep(ctx)} due cart(s) queued to be marked abandoned and offered")
        if ctx.settings.embedded_queue:
            queue.thread_worker(ctx.redis).work(burst=True)


@main.command()
def relay() -> None:
    """Re-enqueue acknowledged events whose job was lost."""
    with closing_context() as ctx:
        relayed = ingest.relay(ctx)
    click.echo(f"re-enqueued {relayed} event(s)")
