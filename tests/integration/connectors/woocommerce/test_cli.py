"""`relance shops reconcile` and `relance shops register-webhooks` against the fake store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from bridge.cli import main
from tests.conftest import KEY, REDIS_URL
from tests.integration.connectors.woocommerce.conftest import order


def environment(woo, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", woo.settings.database_url)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY)
    monkeypatch.setenv("PUBLIC_URL", woo.settings.public_url)
    monkeypatch.setenv("INSTANCE_PATH", woo.settings.instance_path)
    # The fake store's name resolves nowhere: like the woo fixture, allow it (the address guard's own tests
    # are in tests/integration/infra/test_netguard.py).
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORK_URLS", "1")


def test_register_webhooks_repairs_a_deleted_webhook(woo, store, install, monkeypatch):
    shop = install()
    environment(woo, monkeypatch)
    del store.webhooks[next(iter(store.webhooks))]  # deleted in WooCommerce
    done = CliRunner().invoke(main, ["shops", "register-webhooks", "--shop", shop["shop_key"]])
    assert done.exit_code == 0, done.output
    assert "4 of 4 webhooks active" in done.output and len(store.webhooks) == 4
    unknown = CliRunner().invoke(main, ["shops", "register-webhooks", "--shop", "s_nope"])
    assert unknown.exit_code == 2 and "unknown shop key" in unknown.output


def test_reconcile_stores_what_the_webhooks_missed(woo, store, install, monkeypatch):
    shop = install()
    environment(woo, monkeypatch)
    recent = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")  # the CLI's real clock
    store.seed(orders=[order(611, "processing", modified=recent, created=recent)])
    done = CliRunner().invoke(main, ["shops", "reconcile", "--shop", shop["shop_key"]])
    assert done.exit_code == 0, done.output
    assert "1 new event(s) stored" in done.output and "order.updated: active" in done.output
    store.consumer_secret = "cs_revoked"
    refused = CliRunner().invoke(main, ["shops", "reconcile", "--shop", shop["shop_key"]])
    assert "refuses the REST keys" in refused.output and "/install/woocommerce?store_url=" in refused.output
