"""CLI commands for the admin page: `relance users add` and `relance demo`."""

from __future__ import annotations

import click
import sqlalchemy as sa

from bridge import demo as demo_store
from bridge.cli.root import main, migrated_context
from bridge.db import transaction
from bridge.db.models import Shop
from bridge.demo import DemoResult
from bridge.infra.context import Context
from bridge.shops import registry, users


@main.group("users")
def users_group() -> None:
    """People who sign in to the admin page."""


@users_group.command("add")
@click.option("--email", required=True, help="The address the merchant signs in with.")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."
)
@click.option("--shop-key", default=None, help="The shop this user manages (needed when there are several).")
@click.option("--update", is_flag=True, help="Change the password (and shop) of an existing user.")
def users_add(email: str, password: str, shop_key: str | None, update: bool) -> None:
    """Create an admin user for one shop (the password is stored hashed)."""
    ctx = migrated_context()
    with transaction(ctx.sessions) as session:
        if shop_key:
            shop = registry.by_key(session, shop_key)
            if shop is None:
                raise click.BadParameter("unknown shop key", param_hint="--shop-key")
        else:
            found = session.scalars(sa.select(Shop).limit(2)).all()
            if len(found) != 1:
                raise click.UsageError("give --shop-key (there is no shop, or more than one)")
            shop = found[0]
        try:
            user = users.create_user(session, email, password, shop.id, ctx.now(), update=update)
        except users.UserError as exc:
            raise click.UsageError(str(exc)) from exc
        email, domain = user.email, shop.domain
    verb = "updated" if update else "created"
    click.echo(f"{verb} {email} for {domain}; sign in at {ctx.settings.public_url}/admin/")


@main.command()
def demo() -> None:
    """Create a demo shop on the built-in demo store and play a day of signed webhooks through Relance."""
    ctx = migrated_context()
    with ctx.sessions() as session:
        exists = session.scalar(sa.select(Shop.id).where(Shop.domain == demo_store.DOMAIN)) is not None
    if exists:
        raise click.UsageError(
            f"the demo shop already exists; sign in as {demo_store.EMAIL} (new password: "
            f"relance users add --email {demo_store.EMAIL} --update)"
        )
    click.echo("playing a day of signed webhooks through the pipeline…")
    result = demo_store.seed(ctx)
    echo_result(ctx, result)
    if ctx.settings.embedded_queue:
        click.echo("note: without REDIS_URL the demo store's codes lived in this process only.")


def echo_result(ctx: Context, result: DemoResult) -> None:
    """Print what the demo created and how to sign in (the password is shown only here)."""
    figures = ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in result.counts.items())
    click.echo(f"demo ready: {figures}")
    click.echo(f"admin page: {ctx.settings.public_url}/admin/")
    click.echo(f"  email:    {result.email}")
    click.echo(f"  password: {result.password}   (shown once; stored hashed)")
