"""The monthly report through real SMTP, on SQLite and PostgreSQL: last month's figures (October, the test
clock being in November) go once to each of the shop's administrators, in the merchant's language; a second
run sends nothing; a shop installed after the month gets none; without SMTP nothing is sent and the month is
marked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.outreach import monthly_report
from bridge.shops import users
from tests.fakes.smtp import SMTPServer
from tests.integration.outreach.earnings_helpers import Group, seed_runs

OCTOBER = datetime(2026, 10, 10, 12, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def mailing(ctx: Context, smtp: SMTPServer) -> Context:
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url, mail_from="Relance <reports@relance.test>")
    return ctx


def seed_october(ctx: Context, shop_id: int) -> None:
    """400 treated cart runs (1 in 4 pays 90 after a 10 code) and 200 held out (1 in 8 pays 100) in
    October; two administrators."""
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        shop.currency, shop.timezone, shop.name = "EUR", "Europe/Paris", "Atelier Lune"
        shop.installed_at = OCTOBER - timedelta(days=30)
        shop.state = {**(shop.state or {}), "primary_locale": "fr"}
        for email in ("owner@atelier.test", "sales@atelier.test"):
            users.create_user(session, email, "a long password 123", shop_id, ctx.now())
        seed_runs(session, shop_id, OCTOBER, Group(400, 4, "90", code="10"), Group(200, 8, "100"))


def test_the_report_goes_once_to_each_administrator_in_french(
    mailing: Context, smtp: SMTPServer, shopify_shop: dict[str, Any]
) -> None:
    seed_october(mailing, shopify_shop["id"])
    assert monthly_report.send_monthly_reports(mailing) == 1
    messages = smtp.messages
    assert sorted(m["To"] for m in messages) == ["owner@atelier.test", "sales@atelier.test"]
    mail = messages[0]
    assert mail["Subject"] == "Atelier Lune : ce que Relance vous a rapporté en octobre 2026"
    assert mail["Content-Language"] == "fr"
    text = mail.get_body(("plain",)).get_content()
    # (100 x 90 / 400 - 25 x 100 / 200) x 400 = 4,000
    assert "Relance vous a rapporté 4\u202f000,00\u00a0€ net en octobre 2026" in text
    assert "Avec 95 % de confiance, entre" in text
    html = mail.get_body(("html",)).get_content()
    assert ("Panier abandonné" in html and "https://relance.test/admin/" in html) or "/admin/" in html
    assert monthly_report.send_monthly_reports(mailing) == 0  # October is done
    assert len(smtp.messages) == 2
    with mailing.sessions() as session:
        assert session.get(Shop, shopify_shop["id"]).state["monthly_report"] == "2026-10"


def test_a_shop_installed_after_the_month_gets_none(
    mailing: Context, smtp: SMTPServer, shopify_shop: dict[str, Any]
) -> None:
    seed_october(mailing, shopify_shop["id"])
    with transaction(mailing.sessions) as session:
        session.get(Shop, shopify_shop["id"]).installed_at = datetime(2026, 11, 3, tzinfo=UTC)
    assert monthly_report.send_monthly_reports(mailing) == 0
    assert smtp.messages == []


def test_without_smtp_nothing_is_sent_and_the_month_is_marked(
    ctx: Context, shopify_shop: dict[str, Any]
) -> None:
    seed_october(ctx, shopify_shop["id"])
    assert monthly_report.send_monthly_reports(ctx) == 0
    with ctx.sessions() as session:
        assert session.get(Shop, shopify_shop["id"]).state["monthly_report"] == "2026-10"


def test_last_month_is_read_in_the_shop_s_time_zone() -> None:
    # 1 November 00:30 in Paris is still 31 October in UTC: Paris's last month is October.
    month, start, end = monthly_report.last_month(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "Europe/Paris")
    assert month.isoformat() == "2026-10-01"
    assert start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC) and end == datetime(
        2026, 10, 31, 23, 0, tzinfo=UTC
    )
    assert (
        monthly_report.last_month(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "UTC")[0].isoformat()
        == "2026-09-01"
    )
