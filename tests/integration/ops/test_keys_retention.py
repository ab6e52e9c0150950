"""Key rotation over every encrypted value, and the retention job, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.fernet import Fernet, InvalidToken

from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, Lead, Offer, Shop, Visitor
from bridge.infra.crypto import Vault
from bridge.infra.settings import from_env
from bridge.leads import retention
from bridge.shops import keys
from bridge.shops.registry import create_shop
from tests.conftest import KEY

NEW = Fernet.generate_key().decode()


def add_shops(ctx, n: int) -> list[int]:
    ids = []
    with transaction(ctx.sessions) as s:
        for i in range(n):
            shop = create_shop(
                s,
                ctx.vault,
                platform="woocommerce",
                domain=f"https://shop{i}.example.com",
                now=ctx.now(),
                webhook_secret=f"whs-{i}",
                consumer_key=f"ck_{i}",
                consumer_secret=f"cs_{i}",
            ).shop
            shop.refresh_token_enc = ctx.vault.encrypt(f"refresh-{i}")
            shop.state = {"outbound_secret_enc": ctx.vault.encrypt(f"outbound-{i}"), "demo": False}
            s.flush()
            ids.append(shop.id)
    return ids


def plain(ctx, shop_id: int) -> dict[str, str | None]:
    with ctx.sessions() as s:
        shop = s.get(Shop, shop_id)
        values = {c: ctx.vault.decrypt(getattr(shop, c)) for c in keys.COLUMNS}
        values["outbound"] = ctx.vault.decrypt(shop.state["outbound_secret_enc"])
        return values


def test_rotation_reencrypts_everything_in_batches_and_is_idempotent(ctx):
    ids = add_shops(ctx, 5)
    before = {i: plain(ctx, i) for i in ids}
    ctx.settings = ctx.settings.with_overrides(encryption_keys=(NEW, KEY))
    ctx.vault = Vault(ctx.settings.encryption_keys)
    assert keys.status(ctx).rotated == 25  # 4 columns + 1 settings value per shop (no access token)
    assert {i: plain(ctx, i) for i in ids} == before  # old key still readable before rotation

    report = keys.rotate(ctx, batch_size=2)
    assert (report.shops, report.values, report.rotated, report.unreadable) == (5, 25, 25, 0)
    assert keys.rotate(ctx).rotated == 0 and keys.status(ctx).rotated == 0
    only_new = Vault([NEW])
    with ctx.sessions() as s:
        for shop in s.scalars(sa.select(Shop)):
            assert only_new.decrypt(shop.consumer_secret_enc).startswith("cs_")
            assert only_new.decrypt(shop.state["outbound_secret_enc"]).startswith("outbound-")
            assert shop.state["demo"] is False
            with pytest.raises(InvalidToken):
                Vault([KEY]).decrypt(shop.webhook_secret_enc)
    ctx.vault = only_new
    assert {i: plain(ctx, i) for i in ids} == before


def test_unreadable_values_are_reported_not_destroyed(ctx):
    [shop_id] = add_shops(ctx, 1)
    stray = Fernet(Fernet.generate_key()).encrypt(b"lost").decode()
    with transaction(ctx.sessions) as s:
        s.get(Shop, shop_id).access_token_enc = stray
    ctx.settings = ctx.settings.with_overrides(encryption_keys=(NEW, KEY))
    ctx.vault = Vault(ctx.settings.encryption_keys)
    report = keys.rotate(ctx)
    assert report.unreadable == 1 and report.rotated == 5
    with ctx.sessions() as s:
        assert s.get(Shop, shop_id).access_token_enc == stray


def test_cli_rotate_and_status(ctx, monkeypatch):
    from bridge.cli import (
        main,
        ops,  # noqa: F401  (registers the commands)
    )

    add_shops(ctx, 2)
    monkeypatch.setenv("DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{NEW},{KEY}")
    monkeypatch.setenv("INSTANCE_PATH", ctx.settings.instance_path)
    runner = CliRunner()
    assert runner.invoke(main, ["keys", "status"]).exit_code == 1
    done = runner.invoke(main, ["keys", "rotate", "--batch-size", "1"])
    assert done.exit_code == 0 and "10 re-encrypted" in done.output
    status = runner.invoke(main, ["keys", "status"])
    assert status.exit_code == 0 and "can be removed" in status.output


def lead_with_history(ctx, email: str, last_seen: datetime, shop_id: int) -> int:
    with transaction(ctx.sessions) as s:
        lead = Lead(
            shop_id=shop_id, email=email, first_name="Ann", created_at=last_seen, last_activity_at=last_seen
        )
        s.add(lead)
        s.flush()
        s.add(
            Activity(shop_id=shop_id, lead_id=lead.id, kind="add_to_cart", occurred_at=last_seen, ref=email)
        )
        s.add(
            Cart(
                shop_id=shop_id,
                lead_id=lead.id,
                cart_token=f"t-{email}",
                email=email,
                items={"lines": [1]},
                created_at=last_seen,
                last_activity_at=last_seen,
            )
        )
        s.add(
            Offer(shop_id=shop_id, lead_id=lead.id, reason="hot_lead", created_at=last_seen, recipient=email)
        )
        return lead.id


def test_retention_erases_only_inactive_leads(ctx, shopify_shop):
    now = ctx.now()
    old = lead_with_history(ctx, "old@example.com", now - timedelta(days=800), shopify_shop["id"])
    recent = lead_with_history(ctx, "recent@example.com", now - timedelta(days=300), shopify_shop["id"])
    with transaction(ctx.sessions) as s:
        s.add(
            Cart(
                shop_id=shopify_shop["id"],
                email="anon@example.com",
                created_at=now - timedelta(days=900),
                last_activity_at=now - timedelta(days=900),
                checkout_token="anon",
            )
        )
        for age, status in ((900, "processed"), (900, "pending"), (10, "processed")):
            s.add(
                Event(
                    shop_id=shopify_shop["id"],
                    topic="t",
                    delivery_key=f"k{age}{status}",
                    payload="{}",
                    received_at=now - timedelta(days=age),
                    available_at=now,
                    status=status,
                )
            )
        for client_id, age in (("gone-browser", 800), ("recent-browser", 300)):
            at = now - timedelta(days=age)
            s.add(Visitor(shop_id=shopify_shop["id"], client_id=client_id, first_seen_at=at, last_seen_at=at))
    assert retention.run(ctx, months=0) == retention.Outcome()
    outcome = retention.run(ctx, months=24)
    assert (outcome.leads, outcome.carts, outcome.events, outcome.visitors) == (1, 1, 1, 1)
    with ctx.sessions() as s:
        gone, kept = s.get(Lead, old), s.get(Lead, recent)
        assert gone.email is None and gone.first_name is None and gone.redacted_at == now
        assert kept.email == "recent@example.com" and kept.redacted_at is None
        assert s.scalar(sa.select(Cart.email).where(Cart.lead_id == old)) is None
        assert s.scalar(sa.select(Offer.recipient).where(Offer.lead_id == old)) is None
        assert s.scalar(sa.select(Offer.recipient).where(Offer.lead_id == recent)) == "recent@example.com"
        assert s.scalar(sa.select(Activity.ref).where(Activity.lead_id == old)) != "old@example.com"
        assert sorted(s.scalars(sa.select(Event.status))) == ["pending", "processed"]
        assert s.scalars(sa.select(Visitor.client_id)).all() == ["recent-browser"]
    assert retention.run(ctx, months=24) == retention.Outcome()  # nothing left to do


def test_months_before_clamps_to_the_end_of_month():
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert retention.months_before(at, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert retention.months_before(at, 24) == datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
    assert retention.months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def test_retention_setting():
    assert from_env({}, dotenv=False).retention_months == 24
    assert from_env({"RETENTION_MONTHS": "0"}, dotenv=False).retention_months == 0
    assert from_env({"RELANCE_RETENTION_MONTHS": "6", "RETENTION_MONTHS": "0"}).retention_months == 6
