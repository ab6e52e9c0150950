"""The monthly report emailed to the merchant: what Relance earned last month, net, and how sure we are; the
journeys' figures, the return on the discounts, the leads, and whether the scores tell who buys. French or
English (our own words), numbers and money written by Babel, charts drawn as table cells (email clients drop
SVG and scripts; a table with a coloured cell of a given width shows everywhere). Pure: the bridge gathers
the figures (bridge.outreach.monthly_report) as GET /api/v1/metrics gives them.
"""

# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_percent
from jinja2.sandbox import SandboxedEnvironment

from campaigns.email_layout import FONT, safe_color, text_color_on
from campaigns.formatting import format_money
from campaigns.locales import babel_locale

LANGUAGES = ("en", "fr")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{shop}: what Relance earned you in {month}",
        "title": "Your Relance report for {month}",
        "earned": "Relance earned you {value} net in {month}, discounts deducted.",
        "sure": "With 95 % confidence, between {low} and {high}.",
        "loss": "With 95 % confidence the journeys cost you between {high} and {low}: review your offers.",
        "unclear": "The 95 % interval ({low} to {high}) includes zero: not yet distinguishable from chance.",
        "unsure": "Not enough data yet to say how sure (an interval needs {runs} runs and {orders} orders in "
        "each group; the holdout group had {holdout_runs} runs and {holdout_orders} orders).",
        "nothing": "Nothing to measure this month: no journey run had a holdout group to compare with.",
        "per_1000": "{value} per 1,000 abandoned carts.",
        "journeys": "Journeys",
        "journey": "Journey",
        "runs": "Runs (held out)",
        "net": "Net earned (95 % interval)",
        "roi": "Return on the discounts: each {unit} of discount brought back {roi} of margin on top "
        "({margin} incremental margin for {cost} of codes).",
        "roi_unknown": "Set your margin rate in the rules to see the return on the discounts.",
        "leads": "Leads",
        "new_leads": "{leads} new leads, {customers} of them customers by now ({rate}).",
        "tier": "Tier",
        "conversion": "Became customers",
        "scores": "Do the scores tell who buys?",
        "band": "Score",
        "bought": "Bought within 14 days",
        "open": "Open the overview",
        "footer": "You receive this report as an administrator of {shop} on Relance.",
        "cold": "cold",
        "warm": "warm (marketing-qualified)",
        "hot": "hot (sales-qualified)",
    },
    "fr": {
        "subject": "{shop} : ce que Relance vous a rapporté en {month}",
        "title": "Votre rapport Relance de {month}",
        "earned": "Relance vous a rapporté {value} net en {month}, remises déduites.",
        "sure": "Avec 95 % de confiance, entre {low} et {high}.",
        "loss": "Avec 95 % de confiance, les parcours vous ont coûté entre {high} et {low} : "
        "revoyez vos offres.",
        "unclear": "L’intervalle à 95 % ({low} à {high}) contient zéro : pas encore distinguable du hasard.",
        "unsure": "Pas encore assez de données pour dire avec quelle certitude (un intervalle demande {runs} "
        "parcours et {orders} commandes par groupe ; le groupe témoin comptait {holdout_runs} parcours et "
        "{holdout_orders} commandes).",
        "nothing": "Rien à mesurer ce mois-ci : aucun parcours n’avait de groupe témoin auquel se comparer.",
        "per_1000": "{value} pour 1 000 paniers abandonnés.",
        "journeys": "Parcours",
        "journey": "Parcours",
        "runs": "Entrées (témoins)",
        "net": "Gain net (intervalle à 95 %)",
        "roi": "Rendement des remises : chaque {unit} de remise a rapporté {roi} de marge en plus "
        "({margin} de marge supplémentaire pour {cost} de codes).",
        "roi_unknown": "Indiquez votre taux de marge dans les règles pour voir le rendement des remises.",
        "leads": "Leads",
        "new_leads": "{leads} nouveaux leads, dont {customers} devenus clients à ce jour ({rate}).",
        "tier": "Niveau",
        "conversion": "Devenus clients",
        "scores": "Les scores annoncent-ils qui achète ?",
        "band": "Score",
        "bought": "Ont acheté sous 14 jours",
        "open": "Ouvrir la vue d’ensemble",
        "footer": "Vous recevez ce rapport en tant qu’administrateur de {shop} sur Relance.",
        "cold": "froid",
        "warm": "tiède (qualifié marketing)",
        "hot": "chaud (qualifié ventes)",
    },
}


@dataclass(frozen=True)
class Report:
    """A rendered report: subject, plain text and HTML, and its language."""

    subject: str
    text: str
    html: str
    locale: str


def report_language(*wanted: str | None) -> str:
    """The first of the wanted languages we write the report in (French or English), else English."""
    for tag in wanted:
        base = (tag or "").replace("_", "-").split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return "en"


def _money(value: str | None, currency: str | None, locale: str) -> str:
    return "—" if value is None else format_money(Decimal(value), currency, locale)


def render_report(
    figures: Mapping[str, Any],
    *,
    shop: str,
    month: date,
    locale: str,
    journey_names: Mapping[str, str],
    admin_url: str,
    color: str | None = None,
    min_runs: int = 100,
    min_orders: int = 20,
) -> Report:
    """The report of one month from GET /api/v1/metrics' figures (`incremental_net_revenue`, `economics`,
    `calibration`)."""
    language = report_language(locale)
    words = _WORDS[language]
    where = babel_locale(language)
    month_name = format_date(month, "LLLL yyyy", locale=where)
    brand = safe_color(color)
    earned = figures["incremental_net_revenue"]
    currency = earned.get("currency")

    def cash(value: str | None) -> str:
        return _money(value, currency, language)

    def share(value: float | None) -> str:
        return "—" if value is None else str(format_percent(value, "#,##0.0 %", locale=where))

    paragraphs: list[str] = []
    if earned.get("value") is None:
        paragraphs.append(words["nothing"])
    else:
        paragraphs.append(words["earned"].format(value=cash(earned["value"]), month=month_name))
        low, high = earned.get("low"), earned.get("high")
        if low is None or high is None:
            paragraphs.append(
                words["unsure"].format(
                    runs=min_runs,
                    orders=min_orders,
                    holdout_runs=earned.get("holdout_runs", 0),
                    holdout_orders=earned.get("holdout_orders", 0),
                )
            )
        elif Decimal(low) > 0:
            paragraphs.append(words["sure"].format(low=cash(low), high=cash(high)))
        elif Decimal(high) < 0:
            paragraphs.append(words["loss"].format(low=cash(low), high=cash(high)))
        else:
            paragraphs.append(words["unclear"].format(low=cash(low), high=cash(high)))
        per_1000 = (earned.get("per_1000_abandoned_carts") or {}).get("value")
        if per_1000 is not None:
            paragraphs.append(words["per_1000"].format(value=cash(per_1000)))
    economics = figures.get("economics") or {}
    returns = economics.get("return_on_discounts") or {}
    roi = (returns.get("roi") or {}).get("value")
    if roi is not None:
        paragraphs.append(
            words["roi"].format(
                unit=format_money(Decimal(1), currency, language),
                roi=format_money(Decimal(str(roi)), currency, language),
                margin=cash((returns.get("incremental_margin") or {}).get("value")),
                cost=cash(returns.get("discount_cost")),
            )
        )
    elif returns.get("margin_rate") is None and earned.get("value") is not None:
        paragraphs.append(words["roi_unknown"])

    journeys = [
        (
            journey_names.get(key, key),
            f"{row.get('treated_runs', 0) + row.get('holdout_runs', 0)} ({row.get('holdout_runs', 0)})",
            cash(row.get("value")),
            "—" if row.get("low") is None else f"{cash(row.get('low'))} – {cash(row.get('high'))}",
        )
        for key, row in sorted((earned.get("journeys") or {}).items())
    ]
    leads = economics.get("new_leads") or {}
    lead_line = (
        words["new_leads"].format(
            leads=leads.get("total", 0),
            customers=leads.get("customers", 0),
            rate=share((leads.get("conversion") or {}).get("rate")),
        )
        if leads
        else ""
    )
    tiers = [
        (words.get(tier, tier), share((row or {}).get("rate")), float((row or {}).get("rate") or 0))
        for tier, row in (economics.get("tiers") or {}).items()
    ]
    calibration = figures.get("calibration") or {}
    bands = [
        (
            f"{band['low']}–{band['high']}",
            share(band.get("rate")),
            float(band.get("rate") or 0),
            band["leads"],
        )
        for band in calibration.get("bands", [])
    ]
    subject = words["subject"].format(shop=shop, month=month_name)
    text = "\n\n".join(
        [words["title"].format(month=month_name), *paragraphs]
        + ([words["journeys"] + "\n" + "\n".join(" · ".join(row) for row in journeys)] if journeys else [])
        + ([lead_line] if lead_line else [])
        + (
            [words["scores"] + "\n" + "\n".join(f"{b[0]}: {b[1]} ({b[3]})" for b in bands if b[3])]
            if any(b[3] for b in bands)
            else []
        )
        + [f"{words['open']}: {admin_url}", words["footer"].format(shop=shop)]
    )
    html = _TEMPLATE.render(
        lang=language,
        title=words["title"].format(month=month_name),
        font=FONT,
        color=brand,
        ink=text_color_on(brand),
        cell=_CELL,
        words=words,
        paragraphs=paragraphs,
        journeys=journeys,
        lead_line=lead_line,
        tiers=[(name, value, _width(fraction)) for name, value, fraction in tiers],
        bands=[(name, value, _width(fraction)) for name, value, fraction, _ in bands]
        if any(leads for *_, leads in bands)
        else [],
        admin_url=admin_url,
        footer=words["footer"].format(shop=shop),
    )
    return Report(subject, text, html, language)


_HTML = """\
{%- macro bars(rows) %}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
{% for label, value, width in rows %}<tr>
<td style="padding:2px 8px 2px 0; white-space:nowrap; font-size:13px;">{{ label }}</td>
<td style="width:100%; padding:2px 0;"><table role="presentation" width="100%" cellpadding="0" \
cellspacing="0" border="0"><tr><td style="width:{{ width }}%; background:{{ color }}; height:12px; \
font-size:0;">&nbsp;</td><td style="font-size:0;">&nbsp;</td></tr></table></td>
<td style="padding:2px 0 2px 8px; white-space:nowrap; font-size:13px;">{{ value }}</td></tr>
{% endfor %}</table>
{%- endmacro -%}
<!doctype html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title></head>
<body style="margin:0; padding:24px 12px; background:#f3f4f6; font-family:{{ font }}; color:#1f2937;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="max-width:640px; margin:0 auto; background:#ffffff; border-radius:8px; \
border-top:4px solid {{ color }};">
<tr><td style="padding:24px;">
<h1 style="font-size:20px; margin:0 0 16px;">{{ title }}</h1>
{% for paragraph in paragraphs %}<p style="margin:0 0 12px; line-height:1.5;">{{ paragraph }}</p>
{% endfor %}
{%- if journeys %}
<h2 style="font-size:16px; margin:20px 0 8px;">{{ words.journeys }}</h2>
<table width="100%" cellpadding="0" cellspacing="0" border="0">
<tr>{% for name in (words.journey, words.runs, words.net) %}<th style="{{ cell }}">{{ name }}</th>\
{% endfor %}</tr>
{% for name, runs, net, interval in journeys %}<tr><td style="{{ cell }}">{{ name }}</td>\
<td style="{{ cell }}">{{ runs }}</td><td style="{{ cell }}">{{ net }}\
{% if interval != "—" %}<br><span style="font-size:12px; color:#6b7280;">{{ interval }}</span>{% endif %}\
</td></tr>
{% endfor %}</table>
{%- endif %}
{%- if lead_line or tiers %}
<h2 style="font-size:16px; margin:20px 0 8px;">{{ words.leads }}</h2>
{% if lead_line %}<p style="margin:0 0 8px;">{{ lead_line }}</p>{% endif %}
{% if tiers %}<p style="margin:8px 0 4px; font-size:13px;">{{ words.conversion }}</p>
{{ bars(tiers) }}{% endif %}
{%- endif %}
{%- if bands %}
<h2 style="font-size:16px; margin:20px 0 8px;">{{ words.scores }}</h2>
<p style="margin:0 0 4px; font-size:13px;">{{ words.bought }}</p>
{{ bars(bands) }}
{%- endif %}
<p style="margin:24px 0 0;"><a href="{{ admin_url }}" style="background:{{ color }}; color:{{ ink }}; \
padding:10px 16px; border-radius:6px; text-decoration:none; display:inline-block;">{{ words.open }}</a></p>
<p style="margin:24px 0 0; font-size:12px; color:#6b7280;">{{ footer }}</p>
</td></tr></table>
</body>
</html>
"""
_TEMPLATE = SandboxedEnvironment(autoescape=True).from_string(_HTML)
_CELL = "padding:4px 8px; border-bottom:1px solid #e5e7eb; text-align:left; font-size:14px;"


def _width(fraction: float) -> int:
    """A chart bar's width in percent: at least 1 so an empty row still shows its track."""
    return max(1, min(100, round(fraction * 100)))
