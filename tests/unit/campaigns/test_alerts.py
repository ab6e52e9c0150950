"""The alerts part of the rules document, the events' envelope and signature, and what alerts say."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from campaigns.alert_texts import HotLead, digest_email, hot_lead_email, merchant_language, slack_text
from campaigns.alerts import (
    DEFAULT_ALERTS,
    EVENT_TYPES,
    TOLERANCE_SECONDS,
    dump_alerts,
    envelope,
    load_alerts,
    sign,
    verify,
)

SUB = {"key": "crm", "url": "https://crm.example.com/in", "events": ["lead.hot", "lead.hot", "offer.sent"]}


def test_the_defaults_alert_nobody() -> None:
    settings = load_alerts(DEFAULT_ALERTS)
    assert settings.subscriptions == () and settings.sales_email is None
    assert all(settings.targets(t) == () for t in EVENT_TYPES)
    assert dump_alerts(settings) == DEFAULT_ALERTS


def test_a_document_round_trips_and_targets_enabled_subscriptions_only() -> None:
    document = {
        "sales_email": "sales@shop.example",
        "subscriptions": [
            SUB,
            {**SUB, "key": "off", "enabled": False},
            {**SUB, "key": "s", "format": "slack"},
        ],
    }
    settings = load_alerts(document)
    assert [s.key for s in settings.targets("lead.hot")] == ["crm", "s"]
    assert settings.subscription("crm").events == ("lead.hot", "offer.sent")  # duplicates dropped
    assert load_alerts(dump_alerts(settings)) == settings


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://crm.example.com"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"events": ["lead.cold"]}, "events"),
        ({"key": "-starts-with-dash"}, "key"),
        ({"key": "x" * 41}, "key"),
        ({"format": "teams"}, "format"),
        ({"secret": "whsec_x"}, "secret"),  # a secret never lives in the document
    ],
)
def test_a_bad_subscription_field_is_named(change: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_alerts({"subscriptions": [{**SUB, **change}]})
    assert list(caught.value.messages["subscriptions"][0]) == [field]


def test_http_is_allowed_for_this_machine_only() -> None:
    assert load_alerts({"subscriptions": [{**SUB, "url": "http://127.0.0.1:9000/hook"}]}).subscriptions


def test_the_envelope_is_versioned() -> None:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    event = envelope("cart.abandoned", "e-1", at, "demo.myshopify.com", {"cart_id": 3})
    assert event == {
        "type": "cart.abandoned",
        "version": 1,
        "id": "e-1",
        "occurred_at": "2026-11-25T10:00:00+00:00",
        "shop": "demo.myshopify.com",
        "data": {"cart_id": 3},
    }


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200), stamp=st.integers(0, 2**31))
def test_a_signature_verifies_its_body_only_while_fresh(secret: str, body: bytes, stamp: int) -> None:
    signature = sign(secret, stamp, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(secret, str(stamp), body, signature, now=stamp + TOLERANCE_SECONDS)
    assert not verify(secret, str(stamp), body + b"x", signature, now=stamp)
    assert not verify(secret, str(stamp + 1), body, signature, now=stamp)  # the timestamp is signed too
    assert not verify(secret + "x", str(stamp), body, signature, now=stamp)
    assert not verify(secret, str(stamp), body, signature, now=stamp + TOLERANCE_SECONDS + 1)  # a replay


LEAD = HotLead(
    lead_id=7,
    email="ana@example.com",
    name="Ana Lopez",
    score=92,
    reasons=(("Started checkout", "+40"), ("Added to cart", "+30")),
    products=("Linen shirt", "Straw hat"),
    cart_value=None,
    expected_value="€64.00",
    expected_basis="average",
    admin_url="https://relance.example/admin/leads/7",
)


def test_the_hot_lead_email_says_why_and_what_to_expect() -> None:
    mail = hot_lead_email(LEAD, "Demo", "en")
    assert mail.subject == "Hot lead: Ana Lopez <ana@example.com> (score 92)"
    assert "  - Started checkout: +40 pts\n  - Added to cart: +30 pts" in mail.text
    assert "Products viewed: Linen shirt, Straw hat" in mail.text
    assert "Cart value: none recorded" in mail.text
    assert "Expected order value: €64.00 (the shop's average order value)" in mail.text
    assert "&lt;ana@example.com&gt;" in mail.html and "<ana@" not in mail.html


def test_the_french_email_and_digest() -> None:
    mail = hot_lead_email(LEAD, "Demo", "fr")
    assert mail.subject.startswith("Lead chaud : ") and mail.locale == "fr"
    assert "la valeur moyenne des commandes de la boutique" in mail.text
    digest = digest_email([LEAD, LEAD], "Demo", "2026-11-24", "fr")
    assert digest.subject == "2 nouveau(x) lead(s) chaud(s) sur Demo"
    assert digest.text.count("Ana Lopez <ana@example.com> — 92/100") == 2


@pytest.mark.parametrize(
    ("wanted", "language"),
    [
        (("fr-CA", "en"), "fr"),
        (("en-GB", "fr"), "en"),
        ((None, "fr"), "fr"),
        ((None, "de"), "en"),
        (("es", None), "en"),
    ],
)
def test_the_merchants_language_is_french_or_english(wanted: tuple, language: str) -> None:
    assert merchant_language(*wanted) == language


def test_slack_text_for_each_event_type() -> None:
    for event_type in EVENT_TYPES:
        text = slack_text({"type": event_type, "shop": "demo", "data": {"lead_id": 3}})
        assert text.endswith(" — demo") and "{" not in text
    hot = {"type": "lead.hot", "shop": "demo", "data": {"email": "a@b.c", "score": 88, "test": True}}
    assert slack_text(hot) == "[test] :fire: Hot lead a@b.c (score 88) — demo"
    assert json.dumps({"text": slack_text(hot)})
