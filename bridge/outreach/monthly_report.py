"""The monthly report: once a month, each shop's administrators get last month's figures by email (what
Relance earned, net, with its interval; the journeys; the return on the discounts; the leads; the score
calibration), in the merchant's language (campaigns.monthly_report renders it).

An hourly job looks for shops whose last calendar month, in the shop's time zone, has no report yet and
sends it; `Shop.state["monthly_report"]` remembers the month sent, so a second scheduler or a retry never
sends it twice. A shop installed after that month ended gets none for it (there is nothing to report).
Without SMTP the report is not sent and the month is marked skipped, so the job does not try again all month.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import AdminUser, Shop
from bridge.infra.context import Context
from bridge.leads.rules import campaign_settings_for, journeys_for
from bridge.outreach import alert_content, earnings, economics, mailer
from campaigns.formatting import zone_or_utc
from campaigns.monthly_report import Report, render_report

log = logging.getLogger(__name__)
STATE_KEY = "monthly_report"


def last_month(now: datetime, zone_name: str | None) -> tuple[date, datetime, datetime]:
    """The calendar month before `now` in the shop's time zone: its first day and its [start, end) in UTC."""
    zone = zone_or_utc(zone_name)
    local = now.astimezone(zone).date()
    first_this = local.replace(day=1)
    first_last = (first_this - date.resolution).replace(day=1)
    start = datetime.combine(first_last, time(0), zone)
    end = datetime.combine(first_this, time(0), zone)
    return first_last, start, end


def build(ctx: Context, shop_id: int, now: datetime) -> tuple[Report, list[str]] | None:
    """Last month's report of a shop and its administrators' addresses (None: no such shop)."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return None
        month, start, end = last_month(now, shop.timezone)
        figures = earnings.measured(session, shop_id, start, end)
        figures["economics"] = economics.compute(
            session, shop_id, start, end, figures["incremental_net_revenue"]
        )
        names = {journey.key: journey.name or journey.key for journey in journeys_for(session, shop_id)}
        settings = campaign_settings_for(session, shop_id)
        report = render_report(
            figures,
            shop=shop.name or shop.domain,
            month=month,
            locale=alert_content.language(session, shop),
            journey_names=names,
            admin_url=f"{ctx.settings.public_url}/admin/",
            color=settings.brand_color,
        )
        recipients = list(
            session.scalars(
                sa.select(AdminUser.email).where(AdminUser.shop_id == shop_id).order_by(AdminUser.id)
            )
        )
    return report, recipients


def send_monthly_reports(ctx: Context) -> int:
    """Hourly: send last month's report to each shop that has not had it; how many reports went out."""
    now = ctx.now()
    sent = 0
    with ctx.sessions() as session:
        shops = session.execute(
            sa.select(Shop.id, Shop.timezone, Shop.installed_at, Shop.state).where(
                Shop.uninstalled_at.is_(None)
            )
        ).all()
    for shop_id, zone, installed_at, state in shops:
        month, _, end = last_month(now, zone)
        key = month.isoformat()[:7]
        if (state or {}).get(STATE_KEY) == key:
            continue
        if installed_at is not None and installed_at >= end:
            _mark(ctx, shop_id, key)  # installed after the month: nothing to report
            continue
        built = build(ctx, shop_id, now)
        if built is None:
            continue
        report, recipients = built
        delivered = 0
        for to in recipients:
            try:
                mailer.send(ctx, to, _message(report), f"{ctx.settings.public_url}/admin/")
                delivered += 1
            except mailer.MailNotConfigured:
                log.info("monthly report of shop %s not sent: no SMTP", shop_id)
                break
            except (mailer.BadRecipient, mailer.MailNotSent, mailer.MailOutcomeUnknown) as exc:
                log.warning("monthly report of shop %s to %s not sent: %s", shop_id, mailer.mask(to), exc)
        _mark(ctx, shop_id, key)
        sent += delivered > 0
    return sent


def _message(report: Report) -> campaigns.RenderedMessage:
    return campaigns.RenderedMessage(report.subject, report.text, report.html, "Relance", report.locale)


def _mark(ctx: Context, shop_id: int, key: str) -> None:
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id, with_for_update=True)
        if shop is not None:
            shop.state = {**(shop.state or {}), STATE_KEY: key}
