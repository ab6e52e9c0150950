"""The pages a customer sees from an offer email (unsubscribe; a code that has expired), in their language.

The words live here, in a plain table, rather than in the admin's Flask-Babel catalogue: a customer's page
speaks one of six languages chosen from the offer and the lead (the admin speaks French or English, chosen by
the merchant), the bridge never imports admin_ui, and a dozen sentences need no extraction tooling.
The language: the offer's locale (its email's), the lead's, the shop's campaign setting, else English.
"""

from __future__ import annotations

from typing import Any

from flask import render_template_string
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from bridge.db.models import Lead, Offer
from bridge.leads.rules import campaign_settings_for
from campaigns.locales import choose_locale

FALLBACK = "en"
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_ask": "Stop receiving offers from {shop} by email?",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed_text": "{shop} will not send you offers by email any more.",
        "expired_title": "This code has expired",
        "expired_text": "The discount code {code} from {shop} is no longer valid. "
        "Your cart is still waiting.",
        "continue": "Continue to {shop}",
    },
    "fr": {
        "unsubscribe_title": "Désinscription",
        "unsubscribe_ask": "Ne plus recevoir les offres de {shop} par e-mail ?",
        "unsubscribe_button": "Me désinscrire",
        "unsubscribed_title": "Votre désinscription est enregistrée",
        "unsubscribed_text": "{shop} ne vous enverra plus d'offres par e-mail.",
        "expired_title": "Ce code promo a expiré",
        "expired_text": "Le code promo {code} de {shop} n'est plus valable. "
        "Votre panier vous attend toujours.",
        "continue": "Continuer vers {shop}",
    },
    "de": {
        "unsubscribe_title": "Abmelden",
        "unsubscribe_ask": "Keine Angebote von {shop} mehr per E-Mail erhalten?",
        "unsubscribe_button": "Abmelden",
        "unsubscribed_title": "Sie sind abgemeldet",
        "unsubscribed_text": "{shop} sendet Ihnen keine Angebote mehr per E-Mail.",
        "expired_title": "Dieser Code ist abgelaufen",
        "expired_text": "Der Rabattcode {code} von {shop} ist nicht mehr gültig. "
        "Ihr Warenkorb wartet noch auf Sie.",
        "continue": "Weiter zu {shop}",
    },
    "es": {
        "unsubscribe_title": "Darse de baja",
        "unsubscribe_ask": "¿Dejar de recibir ofertas de {shop} por correo electrónico?",
        "unsubscribe_button": "Darme de baja",
        "unsubscribed_title": "Te has dado de baja",
        "unsubscribed_text": "{shop} ya no te enviará ofertas por correo electrónico.",
        "expired_title": "Este código ha caducado",
        "expired_text": "El código de descuento {code} de {shop} ya no es válido. "
        "Tu carrito te sigue esperando.",
        "continue": "Continuar a {shop}",
    },
    "it": {
        "unsubscribe_title": "Annulla iscrizione",
        "unsubscribe_ask": "Non ricevere più offerte da {shop} via e-mail?",
        "unsubscribe_button": "Annulla iscrizione",
        "unsubscribed_title": "Iscrizione annullata",
        "unsubscribed_text": "{shop} non ti invierà più offerte via e-mail.",
        "expired_title": "Questo codice è scaduto",
        "expired_text": "Il codice sconto {code} di {shop} non è più valido. "
        "Il tuo carrello ti aspetta ancora.",
        "continue": "Continua su {shop}",
    },
    "nl": {
        "unsubscribe_title": "Afmelden",
        "unsubscribe_ask": "Geen aanbiedingen van {shop} meer per e-mail ontvangen?",
        "unsubscribe_button": "Afmelden",
        "unsubscribed_title": "Je bent afgemeld",
        "unsubscribed_text": "{shop} stuurt je geen aanbiedingen meer per e-mail.",
        "expired_title": "Deze code is verlopen",
        "expired_text": "De kortingscode {code} van {shop} is niet meer geldig. "
        "Je winkelwagen wacht nog op je.",
        "continue": "Verder naar {shop}",
    },
}
PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{ title }}</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1>{{ title }}</h1><p>{{ text }}</p>
{% if button %}<form method="post"><button type="submit">{{ button }}</button></form>{% endif %}
{% if link %}<p><a href="{{ link }}" rel="noreferrer">{{ link_text }}</a></p>{% endif %}
</body></html>"""


def page_locale(session: Session, offer: Offer) -> str:
    """The customer's language for this offer's pages: the offer's, the lead's, the shop's, else English."""
    lead = session.get(Lead, offer.lead_id) if offer.lead_id else None
    found = choose_locale(WORDS, offer.locale, lead.locale if lead is not None else None)
    if found is not None:
        return found
    try:
        setting = campaign_settings_for(session, offer.shop_id).locale
    except ValidationError:  # stored rules that no longer load must not keep a customer from unsubscribing
        setting = None
    return choose_locale(WORDS, setting) or FALLBACK


def _render(lang: str, **parts: Any) -> str:
    return render_template_string(PAGE, lang=lang, **parts)


def unsubscribe_page(lang: str, shop: str, done: bool) -> str:
    """The unsubscribe question (a one-button form) or its confirmation, in `lang` (escaped)."""
    words = WORDS[lang]
    if done:
        return _render(
            lang, title=words["unsubscribed_title"], text=words["unsubscribed_text"].format(shop=shop)
        )
    return _render(
        lang,
        title=words["unsubscribe_title"],
        text=words["unsubscribe_ask"].format(shop=shop),
        button=words["unsubscribe_button"],
    )


def expired_page(lang: str, shop: str, code: str, link: str) -> str:
    """The "this code has expired" page, linking on to the store (`link`, already checked as the shop's)."""
    words = WORDS[lang]
    return _render(
        lang,
        title=words["expired_title"],
        text=words["expired_text"].format(code=code, shop=shop),
        link=link,
        link_text=words["continue"].format(shop=shop),
    )
