"""The merchant's alert emails (a hot lead now, the day's digest) and Slack lines, in French or English.

Written for the merchant (their sales address, their Slack), so they name the lead; they are never sent to
a customer.
"""

# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.locales import choose_locale

LANGUAGES = ("en", "fr")
TOP_LINES = 5


@dataclass(frozen=True)
class HotLead:
    """What the sales team needs to act on one hot lead, already formatted for the merchant's language."""

    lead_id: int
    email: str
    name: str
    score: int
    reasons: tuple[tuple[str, str], ...]  # (label, points) of the breakdown's top lines
    products: tuple[str, ...]  # titles of products viewed, newest first
    cart_value: str | None
    expected_value: str | None
    expected_basis: str | None  # "cart": the open cart's subtotal; "average": the shop's average order
    admin_url: str


@dataclass(frozen=True)
class AlertEmail:
    """Subject and bodies of one alert email."""

    subject: str
    text: str
    html: str
    locale: str


_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Hot lead: {who} (score {score})",
        "intro": "{who} just became a hot lead on {shop}, with a score of {score}/100.",
        "why": "Why",
        "points": "{points} pts",
        "viewed": "Products viewed",
        "cart": "Cart value",
        "expected": "Expected order value",
        "basis_cart": "the open cart's subtotal",
        "basis_average": "the shop's average order value",
        "none": "none recorded",
        "open": "Open the lead",
        "answer": "Leads answered within 24 hours convert best.",
        "digest_subject": "{count} new hot lead(s) on {shop}",
        "digest_intro": "New hot leads on {shop} on {day}:",
        "footer": "Sent by Relance to the sales address set in the alerts settings.",
        "colon": ": ",
    },
    "fr": {
        "subject": "Lead chaud : {who} (score {score})",
        "intro": "{who} vient de devenir un lead chaud sur {shop}, avec un score de {score}/100.",
        "why": "Pourquoi",
        "points": "{points} pts",
        "viewed": "Produits consultés",
        "cart": "Valeur du panier",
        "expected": "Valeur de commande attendue",
        "basis_cart": "le sous-total du panier ouvert",
        "basis_average": "la valeur moyenne des commandes de la boutique",
        "none": "aucun enregistré",
        "open": "Ouvrir le lead",
        "answer": "Les leads contactés sous 24 heures convertissent le mieux.",
        "digest_subject": "{count} nouveau(x) lead(s) chaud(s) sur {shop}",
        "digest_intro": "Nouveaux leads chauds sur {shop} le {day}\u00a0:",
        "footer": "Envoyé par Relance à l’adresse commerciale définie dans les réglages des alertes.",
        "colon": "\u00a0: ",
    },
}


def merchant_language(*wanted: str | None) -> str:
    """French or English, by the shop's primary locale then the merchant's campaign language."""
    return choose_locale(LANGUAGES, *wanted) or "en"


def _who(lead: HotLead) -> str:
    return f"{lead.name} <{lead.email}>" if lead.name else lead.email


def _lines(lead: HotLead, words: Mapping[str, str]) -> list[str]:
    colon = words["colon"]
    lines = [f"{words['why']}{colon.rstrip()}"] if lead.reasons else []
    lines += [f"  - {label}{colon}{words['points'].format(points=pts)}" for label, pts in lead.reasons]
    lines.append(f"{words['viewed']}{colon}{', '.join(lead.products) or words['none']}")
    lines.append(f"{words['cart']}{colon}{lead.cart_value or words['none']}")
    if lead.expected_value:
        basis = words["basis_cart"] if lead.expected_basis == "cart" else words["basis_average"]
        lines.append(f"{words['expected']}{colon}{lead.expected_value} ({basis})")
    lines.append(f"{words['open']}{colon}{lead.admin_url}")
    return lines


def hot_lead_email(lead: HotLead, shop: str, language: str) -> AlertEmail:
    """The email to the sales address when a lead becomes hot, saying why."""
    words = _WORDS[language if language in _WORDS else "en"]
    who = _who(lead)
    intro = words["intro"].format(who=who, shop=shop, score=lead.score)
    text = "\n".join([intro, "", *_lines(lead, words), "", words["answer"], "", words["footer"]])
    return AlertEmail(
        subject=words["subject"].format(who=who, score=lead.score),
        text=text,
        html=_html(text),
        locale=language,
    )


def digest_email(leads: Sequence[HotLead], shop: str, day: str, language: str) -> AlertEmail:
    """The daily email listing one day's new hot leads, each with its reasons."""
    words = _WORDS[language if language in _WORDS else "en"]
    parts = [words["digest_intro"].format(shop=shop, day=day), ""]
    for lead in leads:
        parts += [f"{_who(lead)} — {lead.score}/100", *_lines(lead, words), ""]
    parts.append(words["footer"])
    text = "\n".join(parts)
    return AlertEmail(
        subject=words["digest_subject"].format(count=len(leads), shop=shop),
        text=text,
        html=_html(text),
        locale=language,
    )


def _html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<pre style="font-family:system-ui,sans-serif;white-space:pre-wrap">{escaped}</pre>'


_SLACK: dict[str, str] = {
    "lead.tier_changed": "Lead {lead} moved from {old_tier} to {new_tier} (score {score})",
    "lead.hot": ":fire: Hot lead {lead} (score {score})",
    "cart.abandoned": ":shopping_trolley: Cart abandoned by {lead}: {subtotal} {currency}",
    "cart.recovered": ":tada: Cart recovered: order {order_id}, {order_total} {currency}",
    "offer.sent": ":envelope: Offer sent to {lead} ({reason})",
    "offer.redeemed": ":moneybag: Offer redeemed by {lead}: order total {order_total} {currency}",
    "journey.exited": "Journey {journey} ended for {lead} ({exit_reason})",
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def slack_text(event: Mapping[str, Any]) -> str:
    """A Slack incoming webhook's `text` for one event envelope (English: Slack channels are shared)."""
    data = event.get("data") or {}
    lead = data.get("email") or (f"#{data['lead_id']}" if data.get("lead_id") else "?")
    values = _Blank({key: value for key, value in data.items() if value is not None})
    values.update(lead=lead, type=event.get("type"))
    line = _SLACK.get(str(event.get("type")), "{type}").format_map(values)
    prefix = "[test] " if data.get("test") else ""
    return f"{prefix}{line} — {event.get('shop')}"
