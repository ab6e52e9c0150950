"""The journeys every new shop starts with, with French and English messages written by us.

The bodies are plain text with placeholders; the email layout adds the products, the button to the cart,
the code block with its expiry and the legal footer. A code step's text reads well without a code too:
when the code cannot be issued (budget spent, a live code already held) the step goes out as a reminder.
"""

from __future__ import annotations

import copy
from typing import Any

_CART_1 = {
    "fr": {
        "subject": "{{ merchant_name }} : votre panier vous attend",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Vous avez laissé quelques articles dans votre panier. Nous les avons mis de côté pour vous : "
        "il ne vous reste qu'à finaliser votre commande.\n\n"
        "Une question sur un produit, la livraison ou le paiement ? Répondez simplement à cet e-mail.",
    },
    "en": {
        "subject": "{{ merchant_name }}: your cart is waiting for you",
        "body": "Hello {{ first_name or '' }},\n\n"
        "You left a few things in your cart. We have kept them aside for you: all that is left is to "
        "complete your order.\n\n"
        "A question about a product, delivery or payment? Just reply to this email.",
    },
}
_CART_2 = {
    "fr": {
        "subject": "Toujours partant ? Votre panier est encore là",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Les articles de votre panier sont toujours disponibles, mais nous ne pouvons pas les garder "
        "indéfiniment.\n\nReprenez votre commande là où vous l'aviez laissée, en un clic.",
    },
    "en": {
        "subject": "Still interested? Your cart is still here",
        "body": "Hello {{ first_name or '' }},\n\n"
        "The items in your cart are still available, but we cannot hold them forever.\n\n"
        "Pick up your order where you left it, in one click.",
    },
}
_CART_CODE = {
    "fr": {
        "subject": "{% if code %}{{ discount }} de remise sur votre panier{% else %}Votre panier "
        "chez {{ merchant_name }}{% endif %}",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "{% if code %}Pour vous aider à vous décider, voici un code personnel : {{ discount }} de remise "
        "sur votre commande, valable jusqu'au {{ expires_text }}.{% else %}Votre panier vous attend "
        "toujours : c'est le bon moment pour finaliser votre commande.{% endif %}\n\n"
        "À très bientôt,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}{{ discount }} off your cart{% else %}Your cart at {{ merchant_name }}"
        "{% endif %}",
        "body": "Hello {{ first_name or '' }},\n\n"
        "{% if code %}To help you decide, here is a personal code: {{ discount }} off your order, valid "
        "until {{ expires_text }}.{% else %}Your cart is still waiting: now is a good time to complete "
        "your order.{% endif %}\n\nSee you soon,\n{{ merchant_name }}",
    },
}
_HOT_CART = {
    "fr": {
        "subject": "{% if code %}Rien que pour vous : {{ discount }} sur votre panier{% else %}Votre "
        "panier vous attend{% endif %}",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "{% if code %}Vous êtes l'un de nos clients les plus fidèles. Ce code est à votre nom : "
        "{{ discount }} de remise, jusqu'au {{ expires_text }}.{% else %}Vous avez laissé des articles "
        "dans votre panier ; ils vous attendent.{% endif %}\n\nMerci de votre confiance,\n"
        "{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}Just for you: {{ discount }} off your cart{% else %}Your cart is "
        "waiting{% endif %}",
        "body": "Hello {{ first_name or '' }},\n\n"
        "{% if code %}You are one of our most loyal customers. This code is in your name: {{ discount }} "
        "off, until {{ expires_text }}.{% else %}You left a few things in your cart; they are waiting "
        "for you.{% endif %}\n\nThank you for your trust,\n{{ merchant_name }}",
    },
}
_HOT_LEAD = {
    "fr": {
        "subject": "{% if code %}Un cadeau pour vous : {{ discount }} chez {{ merchant_name }}{% else %}"
        "Une sélection pour vous chez {{ merchant_name }}{% endif %}",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Nous avons remarqué votre intérêt pour nos produits.{% if code %} Ce code est à votre nom : "
        "{{ discount }} de remise sur votre prochaine commande, jusqu'au {{ expires_text }}.{% endif %}"
        "\n\nÀ très bientôt,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}A gift for you: {{ discount }} at {{ merchant_name }}{% else %}"
        "Picked for you at {{ merchant_name }}{% endif %}",
        "body": "Hello {{ first_name or '' }},\n\n"
        "We noticed your interest in our products.{% if code %} This code is in your name: {{ discount }} "
        "off your next order, until {{ expires_text }}.{% endif %}\n\nSee you soon,\n{{ merchant_name }}",
    },
}
_WELCOME_1 = {
    "fr": {
        "subject": "Bienvenue chez {{ merchant_name }}",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Merci de nous avoir rejoints ! Vous recevrez nos nouveautés et nos bons plans, sans excès.\n\n"
        "Nous sommes là pour vous aider : une question, une envie ? Répondez à cet e-mail.",
    },
    "en": {
        "subject": "Welcome to {{ merchant_name }}",
        "body": "Hello {{ first_name or '' }},\n\n"
        "Thank you for joining us! You will hear about what is new and our best deals, never too often.\n\n"
        "We are here to help: a question, a wish? Reply to this email.",
    },
}
_WELCOME_2 = {
    "fr": {
        "subject": "Ce que nos clients préfèrent chez {{ merchant_name }}",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Quelques jours ont passé depuis votre inscription. Jetez un œil à ce que nos clients aiment le "
        "plus : notre boutique vous attend.",
    },
    "en": {
        "subject": "What our customers love at {{ merchant_name }}",
        "body": "Hello {{ first_name or '' }},\n\n"
        "A few days have passed since you joined. Have a look at what our customers love most: the shop "
        "is waiting for you.",
    },
}
_BROWSE = {
    "fr": {
        "subject": "Vous regardiez ces produits ?",
        "body": "Bonjour {{ first_name or '' }},\n\n"
        "Vous avez regardé quelques-uns de nos produits. Ils sont toujours là si vous voulez y revenir, "
        "et nous répondons volontiers à vos questions.",
    },
    "en": {
        "subject": "Still thinking about these?",
        "body": "Hello {{ first_name or '' }},\n\n"
        "You looked at a few of our products. They are still here if you want another look, and we are "
        "happy to answer any question.",
    },
}


def _step(after: int, messages: dict[str, Any], offer: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"after_minutes": after, "max_delay_hours": None, "offer": offer, "messages": messages}


def _offer(value: int, hours: int) -> dict[str, Any]:
    return {"kind": "percentage", "value": value, "expires_hours": hours, "minimum_order": 0}


DEFAULT_JOURNEYS: list[dict[str, Any]] = [
    {
        "key": "cart-hot",
        "name": "Panier abandonné, lead chaud",
        "trigger": "cart_abandoned",
        "enabled": True,
        "audience": {"tiers": ["hot"], "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(30, _HOT_CART, _offer(15, 6))],
    },
    {
        "key": "cart",
        "name": "Panier abandonné",
        "trigger": "cart_abandoned",
        "enabled": True,
        "audience": {"tiers": ["cold", "warm", "customer"], "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(60, _CART_1), _step(24 * 60, _CART_2), _step(72 * 60, _CART_CODE, _offer(10, 48))],
    },
    {
        "key": "hot-lead",
        "name": "Lead devenu chaud",
        "trigger": "tier_entered",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": "hot",
        "min_views": 2,
        "priority": None,
        "steps": [_step(1, _HOT_LEAD, _offer(10, 6))],
    },
    {
        "key": "welcome",
        "name": "Bienvenue",
        "trigger": "signup",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(1, _WELCOME_1), _step(3 * 24 * 60, _WELCOME_2)],
    },
    {
        "key": "browse",
        "name": "Navigation sans ajout au panier",
        "trigger": "browse_abandoned",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(120, _BROWSE)],
    },
]


def default_journeys() -> list[dict[str, Any]]:
    """A fresh copy of the shipped journeys (callers may change it)."""
    return copy.deepcopy(DEFAULT_JOURNEYS)
