"""Store upkeep on `relance shops`: reconcile a shop now, register its WooCommerce webhooks now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from bridge.cli.root import build_context, shops_group
from bridge.db.models import Shop
from bridge.events import reconcile_shopify, reconcile_woo, woo_webhooks
from bridge.infra.context import Context
from bridge.shops import registry

SHOP_OPTION = click.option(
    "--shop", "--shop-key", "shop_key", required=True, help="The shop's key (see `shops add`)."
)


@contextmanager
def _shop(shop_key: str) -> Iterator[tuple[Context, Shop]]:
    """The context and the shop with this key (a usage error when unknown or uninstalled)."""
    ctx = build_context()
    try:
        with ctx.sessions() as session:
            shop = registry.by_key(session, shop_key)
            if shop is not None:
                session.expunge(shop)
        if shop is None:
            raise click.BadParameter("unknown shop key", param_hint="--shop")
        if shop.uninstalled_at is not None:
            raise click.ClickException("this shop has uninstalled Relance: install it again first")
        yield ctx, shop
    finally:
        ctx.engine.dispose()


@shops_group.command("reconcile")
@SHOP_OPTION
def shops_reconcile(shop_key: str) -> None:
    """Poll the store now for what webhooks missed (and repair WooCommerce webhooks); print the outcome."""
    with _shop(shop_key) as (ctx, shop):
        if shop.platform == "woocommerce":
            stored = reconcile_woo.reconcile(ctx, shop.id)
            _echo_woo_state(ctx, shop.id)
        elif shop.platform == "shopify":
            stored = reconcile_shopify.reconcile_shop(ctx, shop.id)
        else:
            raise click.ClickException(f"no reconciliation for platform {shop.platform}")
        click.echo(f"{stored} new event(s) stored and queued")


@shops_group.command("register-webhooks")
@SHOP_OPTION
def shops_register_webhooks(shop_key: str) -> None:
    """Register (or repair) a WooCommerce shop's webhooks now; print them."""
    with _shop(shop_key) as (ctx, shop):
        if shop.platform != "woocommerce":
            raise click.ClickException("Shopify webhooks are registered from the admin's health page")
        active = woo_webhooks.register(ctx, shop.id)
        _echo_woo_state(ctx, shop.id)
        click.echo(f"{active} of {len(woo_webhooks.TOPICS)} webhooks active")
        if active < len(woo_webhooks.TOPICS):
            raise SystemExit(1)


def _echo_woo_state(ctx: Context, shop_id: int) -> None:
    """What the last check found: each webhook's status, the error, a disconnection."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        state, disconnected = (shop.state or {}).get(woo_webhooks.STATUS_KEY) or {}, shop.disconnected_at
    for hook in state.get("webhooks") or []:
        click.echo(f"webhook {hook['id']} {hook['topic']}: {hook['status']}")
    if state.get("error"):
        click.echo(f"error: {state['error']}", err=True)
    if disconnected is not None:
        click.echo(
            f"the store refuses the REST keys since {disconnected.isoformat()}: reconnect with "
            f"{ctx.settings.public_url.rstrip('/')}/install/woocommerce?store_url={shop.domain}",
            err=True,
        )
