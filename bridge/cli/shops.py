"""`relance shops add`: a shop connected by hand (a Shopify custom app, a WooCommerce store's REST keys)."""

from __future__ import annotations

import click

from bridge.cli.root import migrated_context, shops_group
from bridge.db import transaction
from bridge.shops import registry


@shops_group.command("add")
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
    target = ((domain if platform == "shopify" else url) or "").strip().lower().rstrip("/")
    if not target:
        raise click.UsageError("--domain is required for shopify, --url for woocommerce")
    if platform == "woocommerce" and not webhook_secret:
        raise click.UsageError(
            "--webhook-secret is required for woocommerce (unsigned deliveries are refused)"
        )
    ctx = migrated_context()
    with transaction(ctx.sessions) as session:
        new = registry.create_shop(
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
