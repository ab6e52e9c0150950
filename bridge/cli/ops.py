"""Operations commands on `relance`: key rotation, data retention, outbound webhook secrets, install links."""

from __future__ import annotations

from datetime import timedelta

import click

from bridge.cli.root import closing_context, main, shops_group
from bridge.infra import netguard
from bridge.leads import retention
from bridge.outreach import outbound
from bridge.shops import keys, registry, woo_access


@main.group("keys")
def keys_group() -> None:
    """Encryption keys of stored store credentials (ENCRYPTION_KEYS, newest first)."""


@keys_group.command("rotate")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10_000))
def keys_rotate(batch_size: int) -> None:
    """Re-encrypt every stored credential under the first key of ENCRYPTION_KEYS."""
    with closing_context() as ctx:
        if len(ctx.settings.encryption_keys) < 2:
            click.echo("only one key configured: put the new key first, e.g. ENCRYPTION_KEYS=new,old")
        report = keys.rotate(ctx, batch_size=batch_size)
    click.echo(f"{report.shops} shop(s), {report.values} value(s), {report.rotated} re-encrypted")
    if report.unreadable:
        raise click.ClickException(f"{report.unreadable} value(s) decrypt with none of the configured keys")


@keys_group.command("status")
def keys_status() -> None:
    """Count values still under an older key; exit 1 while the old key is still needed."""
    with closing_context() as ctx:
        report = keys.status(ctx)
    click.echo(
        f"{report.values} value(s); {report.rotated} under an older key; {report.unreadable} unreadable"
    )
    if report.rotated or report.unreadable:
        raise SystemExit(1)
    click.echo("every value is under the newest key: the older keys can be removed")


@main.group("retention")
def retention_group() -> None:
    """Erasure of personal data of inactive leads (RETENTION_MONTHS, default 24; 0 = off)."""


@retention_group.command("run")
@click.option("--months", type=int, default=None, help="Override RETENTION_MONTHS for this run.")
def retention_run(months: int | None) -> None:
    """Erase now what is older than the retention period."""
    with closing_context() as ctx:
        outcome = retention.run(ctx, months)
    click.echo(
        f"{outcome.leads} lead(s) erased, {outcome.carts} cart(s) scrubbed, {outcome.events} event(s) deleted"
    )


@shops_group.command("webhook-secret")
@click.option("--shop-key", "--shop", "shop_key", required=True, help="The shop's key (see `shops add`).")
@click.option(
    "--rotate", is_flag=True, help="Replace the secret; webhooks are signed with the new one at once."
)
def shops_webhook_secret(shop_key: str, rotate: bool) -> None:
    """Print the secret that signs the shop's outbound webhooks (X-Relance-Signature)."""
    with closing_context() as ctx:
        with ctx.sessions() as session:
            shop = registry.by_key(session, shop_key)
            shop_id = shop.id if shop is not None else None
        if shop_id is None:
            raise click.BadParameter("unknown shop key", param_hint="--shop-key")
        secret = (
            outbound.rotate_secret(ctx, shop_id, "cli") if rotate else outbound.ensure_secret(ctx, shop_id)
        )
    click.echo(secret)


@shops_group.command("install-link")
@click.option("--store-url", required=True, help="The WooCommerce store's address, https://…")
@click.option(
    "--hours", default=72, show_default=True, type=click.IntRange(1, 720), help="How long the link works."
)
def shops_install_link(store_url: str, hours: int) -> None:
    """Print a single-use, expiring link that lets this WooCommerce store install Relance."""
    with closing_context() as ctx:
        try:
            store = woo_access.normalize_store_url(store_url)
            netguard.guard_for(ctx).check_url(store)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--store-url") from None
        problem = woo_access.public_url_problem(ctx.settings)
        if problem is not None:
            raise click.ClickException(problem)
        link = woo_access.issue_invite(ctx, store, timedelta(hours=hours))
    click.echo(link)
