"""The companion plugin's PHP: it lints, its pure parts pass their tests, and its signatures verify here."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.woocommerce.wordpress import WordPressEvents

ROOT = Path(__file__).resolve().parents[4]
PLUGIN = ROOT / "connectors" / "woocommerce" / "wordpress-plugin"
PHP_TESTS = ROOT / "tests" / "php"
TS = 1795600000


@pytest.fixture(scope="module")
def php() -> str:
    found = shutil.which("php")
    if found is None:
        pytest.fail("php is required for the plugin's tests: apt-get install php-cli")
    return found


def run(php: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([php, *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)


def test_every_php_file_lints(php: str) -> None:
    files = sorted([*PLUGIN.rglob("*.php"), *PHP_TESTS.glob("*.php")])
    assert len(files) >= 8
    for path in files:
        result = run(php, "-l", str(path))
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_plugin_has_a_gpl_header(php: str) -> None:
    main = (PLUGIN / "relance" / "relance.php").read_text()
    assert "Plugin Name:" in main and "License:              GPL-2.0-or-later" in main


def test_the_pure_php_checks_pass(php: str) -> None:
    result = run(php, str(PHP_TESTS / "run.php"))
    assert result.returncode == 0, result.stderr
    assert "checks passed" in result.stdout


def test_the_plugin_retries_deliveries_and_carries_the_email_into_a_restored_cart(php: str) -> None:
    result = run(php, str(PHP_TESTS / "plugin.php"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checks passed" in result.stdout


def test_a_signature_made_in_php_verifies_in_python(php: str) -> None:
    result = run(php, str(PHP_TESTS / "sign_sample.php"), "s3cret-from-relance", str(TS))
    assert result.returncode == 0, result.stderr
    sample = json.loads(result.stdout)
    raw, headers = sample["body"].encode("utf-8"), sample["headers"]
    assert sample["url"] == "https://relance.example.com/webhooks/wordpress/s_shopkey"
    at = datetime.fromtimestamp(TS, UTC)
    events = WordPressEvents(clock=lambda: at)
    assert events.verify(raw, headers, ["s3cret-from-relance"])
    assert not events.verify(raw, headers, ["another-secret"])
    late = WordPressEvents(clock=lambda: datetime.fromtimestamp(TS + 301, UTC))
    assert not late.verify(raw, headers, ["s3cret-from-relance"])
    # The body the plugin builds is the body the bridge reads.
    envelope = events.envelope(raw, headers)
    payload = json.loads(raw, parse_float=Decimal)
    seen, snapshot, started, _visitor = events.normalize(envelope.topic, payload)
    assert envelope.topic == "wordpress/checkout.email" and envelope.triggered_at == at
    assert (seen.email, seen.external_id) == ("Jane@Example.com", "7")
    assert [(i.title, i.quantity, i.price, i.variant_id) for i in snapshot.items] == [
        ("Café « Grain » 1kg", 2, Decimal("12.50"), None),
        ("Mug / blue", 1, Decimal("9.90"), "41"),
    ]
    assert (snapshot.subtotal, snapshot.currency, snapshot.accepts_marketing) == (
        Decimal("34.90"),
        "EUR",
        True,
    )
    assert snapshot.recovery_url == f"https://shop.example.com/cart/?relance_restore={snapshot.token}"
    assert started.kind == "checkout_started"
