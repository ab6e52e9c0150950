"""Store upkeep on `relance shops`: reconcile a shop now, register its WooCommerce webhooks now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from bridge import wiring as runtime
from bridge.cli import shops as shops_group
from bridge.db.models import Shop
from bridge.infra import settings as settings_mod

SHOP_OPTION = click.option(
    "--shop", "--shop-key", "shop_key", required=True, help="The shop's key (see `shops add`)."
)


@contextmanager
def _shop(shop_key: str) -> Iterator[tuple[runtime.Context, Shop]]:
    """The context and the shop with this key (a usage error when unknown or uninstalled)."""
    from bridge.shops import registry as shops

    ctx = runtime.build(settings_mod.from_env())
    try:
        with ctx.sessions() as session:
            shop = shops.by_key(session, shop_key)
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
    from bridge.events import reconcile_shopify as reconcile
    from bridge.events import reconcile_woo as woo_reconcile

    with _shop(shop_key) as (ctx, shop):
        if shop.platform == "woocommerce":
            stored = woo_reconcile.reconcile(ctx, shop.id)
            _echo_woo_state(ctx, shop.id)
        elif shop.platform == "shopify":
            stored = reconcile.reconcile_shop(ctx, shop.id)
        else:
            raise click.ClickException(f"no reconciliation for platform {shop.platform}")
        click.echo(f"{stored} new event(s) stored and queued")


@shops_group.command("register-webhooks")
@SHOP_OPTION
def shops_register_webhooks(shop_key: str) -> None:
    """Register (or repair) a WooCommerce shop's webhooks now; print them."""
    from bridge.events import woo_webhooks

    with _shop(shop_key) as (ctx, shop):
        if shop.platform != "woocommerce":
            raise click.ClickException("Shopify webhooks are registered from the admin's health page")
        active = woo_webhooks.register(ctx, shop.id)
        _echo_woo_state(ctx, shop.id)
        click.echo(f"{active} of {len(woo_webhooks.TOPICS)} webhooks active")
        if active < len(woo_webhooks.TOPICS):
            raise SystemExit(1)


def _echo_woo_state(ctx: runtime.Context, shop_id: int) -> None:
    """What the last check found: each webhook's status, the error, a disconnection."""
    from bridge.events.woo_webhooks import STATUS_KEY

    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        state, disconnected = (shop.settings or {}).get(STATUS_KEY) or {}, shop.disconnected_at
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
