"""The demo plays signed webhooks through the real pipeline; users have hashed passwords; the CLI."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bridge import demo
from bridge.cli import admin as cli_admin
from bridge.cli import main
from bridge.db import transaction
from bridge.db.models import AdminUser, Event, Offer, Shop
from bridge.demo import history
from bridge.infra.context import Context
from bridge.outreach import earnings
from bridge.shops import users


def test_the_demo_plays_a_day_through_the_pipeline(
    ctx: Context, client: Any, login: Callable[..., Any]
) -> None:
    started = ctx.now()
    result = demo.seed_if_empty(ctx)
    assert result is not None
    with ctx.sessions() as session:
        shop = session.get(Shop, result.shop_id)
        assert shop.domain == demo.DOMAIN and shop.state["demo"] is True
        statuses = dict(
            session.execute(
                sa.select(Event.status, sa.func.count())
                .where(Event.shop_id == shop.id)
                .group_by(Event.status)
            ).all()
        )
        offers = dict(
            session.execute(
                sa.select(Offer.status, sa.func.count())
                .where(Offer.shop_id == shop.id, Offer.created_at >= started)  # the day's, not history's
                .group_by(Offer.status)
            ).all()
        )
    assert statuses["processed"] > 100 and set(statuses) == {"processed"}  # a clean first run
    assert offers["sent"] > 0 and offers["redeemed"] > 0
    assert result.counts["abandoned"] > 0 and result.counts["redeemed"] == offers["redeemed"]
    assert ctx.redis.llen(demo.OUTBOX_KEY.format(shop_id=shop.id)) == result.counts["offers_sent"]
    assert demo.seed_if_empty(ctx) is None  # never twice, never beside real shops
    assert login(demo.EMAIL, result.password).status_code == 302
    assert "Demo Store" in client.get("/admin/").get_data(as_text=True)


def test_the_demo_s_past_shows_its_known_effect_with_an_interval_and_a_rising_calibration(
    ctx: Context,
) -> None:
    result = demo.seed_if_empty(ctx)
    assert result is not None and result.counts["past_runs"] == history.DAYS * history.RUNS_PER_DAY
    now = ctx.now()
    with ctx.sessions() as session:
        found = earnings.measured(session, result.shop_id, now - timedelta(days=30), now)
    cart = found["incremental_net_revenue"]["journeys"]["cart"]
    # the past's effect is 10 more orders per 100 carts, at about 55 EUR each: a sure positive lift
    assert cart["low"] is not None and Decimal(cart["low"]) > 0
    assert Decimal(cart["per_run"]["low"]) < Decimal("5.5") < Decimal(cart["per_run"]["high"]) + 3
    bands = {band["low"]: band for band in found["calibration"]["bands"]}
    assert bands[0]["rate"] < bands[40]["rate"] < bands[80]["rate"]


def test_the_outbox_never_touches_a_real_shop(ctx: Context, shopify_shop: dict[str, Any]) -> None:
    assert demo.deliver_to_outbox(ctx, shopify_shop["id"]) == 0


def test_the_story_is_reproducible() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    first = demo.Story(random.Random(3), now, 10).day()
    assert first == demo.Story(random.Random(3), now, 10).day()
    topics = {topic for topic, _ in first}
    assert {"customers/create", "carts/create", "checkouts/create"} <= topics


def test_passwords_are_hashed_and_checked(ctx: Context, shopify_shop: dict[str, Any]) -> None:
    with transaction(ctx.sessions) as session:
        user = users.create_user(
            session, " Owner@Example.COM ", "long enough password", shopify_shop["id"], ctx.now()
        )
        assert user.email == "owner@example.com"
        assert "long enough password" not in user.password_hash and user.password_hash.startswith("scrypt:")
        with pytest.raises(users.UserError, match="already exists"):
            users.create_user(session, "owner@example.com", "another password", shopify_shop["id"], ctx.now())
        with pytest.raises(users.UserError, match="at least 10"):
            users.create_user(session, "short@example.com", "short", shopify_shop["id"], ctx.now())
        assert users.authenticate(session, "OWNER@example.com", "long enough password", ctx.now()) is not None
        assert users.authenticate(session, "owner@example.com", "wrong password!", ctx.now()) is None
        assert users.authenticate(session, "ghost@example.com", "long enough password", ctx.now()) is None


def test_cli_users_add(ctx: Context, shopify_shop: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(cli_admin, "migrated_context", lambda: ctx)  # the test database, and no second engine
    env: dict[str, str] = {}
    runner = CliRunner()
    args = ["users", "add", "--email", "cli@example.com", "--password", "cli password 123"]
    out = runner.invoke(main, [*args, "--shop-key", shopify_shop["shop_key"]], env=env)
    assert out.exit_code == 0, out.output
    assert "created cli@example.com for demo.myshopify.com" in out.output
    again = runner.invoke(main, args, env=env)
    assert again.exit_code != 0 and "already exists" in again.output
    assert runner.invoke(main, [*args, "--update"], env=env).exit_code == 0
    wrong = runner.invoke(main, [*args, "--shop-key", "nope"], env=env)
    assert wrong.exit_code != 0 and "unknown shop key" in wrong.output
    with ctx.sessions() as session:
        assert (
            session.scalar(sa.select(AdminUser.shop_id).where(AdminUser.email == "cli@example.com"))
            == (shopify_shop["id"])
        )
