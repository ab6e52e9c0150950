"""Rules documents of the single-offer era, converted into journeys: untouched shops get the defaults,
edited ones an equivalent journey, and the campaign block loses its moved fields."""

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.journey_defaults import default_journeys
from campaigns.journey_upgrade import LEGACY_BODY, LEGACY_DEFAULTS, LEGACY_SUBJECT, upgrade_document
from campaigns.journeys import StepOffer, load_journeys, route
from campaigns.settings import DEFAULT_CAMPAIGN, MOVED_FIELDS, CampaignSettings, Pressure, load_campaign

# The campaign block every shop of the single-offer era had stored (its defaults).
OLD_CAMPAIGN: dict[str, Any] = {
    "enabled": True,
    "abandonment_delay_minutes": 60,
    "discount_kind": "percentage",
    "discount_value": 10,
    "code_prefix": "",
    "code_expiry_hours": 24,
    "frequency_cap_days": 7,
    "minimum_cart_value": 0,
    "require_consent": True,
    "holdout_share": 0.1,
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "timezone": None,
    "monthly_budget": None,
    "hot_lead_offers": True,
    "attribution_window_days": 7,
    "email": {"subject": LEGACY_SUBJECT, "body": LEGACY_BODY},
    "sender_name": "",
    "webhook_url": None,
}
SCORING = {"tiers": {"hot": 80, "warm": 40}}  # another block of the document, left alone


def upgraded(**changes: Any) -> dict[str, Any]:
    """The upgrade of an old document whose campaign block has `changes`."""
    return upgrade_document({"scoring": SCORING, "campaign": {**OLD_CAMPAIGN, **changes}})


def by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {journey["key"]: journey for journey in document["journeys"]}


def test_the_old_defaults_are_the_old_campaign_defaults() -> None:
    assert {name: OLD_CAMPAIGN[name] for name in LEGACY_DEFAULTS} == LEGACY_DEFAULTS
    assert set(OLD_CAMPAIGN) - set(MOVED_FIELDS) == set(DEFAULT_CAMPAIGN) - {
        "pressure",
        "locale",
        "logo_url",
        "brand_color",
        "drop_unprofitable_codes",
        "margin_rate",
    }


@pytest.mark.parametrize(
    "campaign",
    [
        OLD_CAMPAIGN,
        {},
        {"sender_name": "Ana"},  # a change outside the offer fields keeps the defaults too
        {"discount_value": 10.0, "holdout_share": 0.10},
        {"email": {"subject": LEGACY_SUBJECT}},
    ],
)
def test_a_never_edited_offer_gets_the_default_journeys(campaign: dict[str, Any]) -> None:
    document = upgrade_document({"scoring": SCORING, "campaign": campaign})
    assert document["journeys"] == default_journeys()
    assert document["scoring"] == SCORING
    assert not set(document["campaign"]) & set(MOVED_FIELDS)
    assert "pressure" not in document["campaign"]  # the new default pressure applies
    assert load_campaign(document["campaign"]).pressure == Pressure()


def test_a_document_without_a_campaign_block_gets_the_defaults() -> None:
    assert upgrade_document({}) == {"journeys": default_journeys()}
    assert upgrade_document({"scoring": SCORING}) == {"scoring": SCORING, "journeys": default_journeys()}


@pytest.mark.parametrize(
    ("changes", "offer"),
    [
        ({"discount_value": 15}, StepOffer("percentage", Decimal(15), 24)),
        (
            {"discount_kind": "fixed_amount", "discount_value": 5.5},
            StepOffer("fixed_amount", Decimal("5.5"), 24),
        ),
        ({"code_expiry_hours": 72}, StepOffer("percentage", Decimal(10), 72)),
        ({"minimum_cart_value": 40}, StepOffer("percentage", Decimal(10), 24, Decimal(40))),
        ({"holdout_share": 0.25}, StepOffer("percentage", Decimal(10), 24)),
        ({"hot_lead_offers": False}, StepOffer("percentage", Decimal(10), 24)),
        ({"frequency_cap_days": 3}, StepOffer("percentage", Decimal(10), 24)),
    ],
)
def test_an_edited_offer_becomes_an_equivalent_journey(changes: dict[str, Any], offer: StepOffer) -> None:
    document = upgraded(**changes)
    cart, hot_lead, welcome, browse = load_journeys(document["journeys"])
    assert (cart.key, cart.trigger, cart.enabled, cart.audience.tiers) == (
        "cart",
        "cart_abandoned",
        True,
        None,
    )
    assert len(cart.steps) == 1 and cart.steps[0].after_minutes == 1
    assert cart.steps[0].offer == offer
    assert (hot_lead.trigger, hot_lead.tier, hot_lead.steps[0].offer) == ("tier_entered", "hot", offer)
    assert hot_lead.enabled == changes.get("hot_lead_offers", True)
    share = changes.get("holdout_share", 0.1)
    assert cart.holdout_share == hot_lead.holdout_share == share
    # Welcome and browse journeys are there to be switched on, but send nothing on their own.
    assert (welcome.trigger, welcome.enabled, browse.trigger, browse.enabled) == (
        "signup",
        False,
        "browse_abandoned",
        False,
    )
    # The single offer reached every tier's cart: so does its journey.
    assert route((cart, hot_lead, welcome, browse), "cart_abandoned", "hot") is cart
    assert route((cart, hot_lead, welcome, browse), "signup", "cold") is None


def test_the_old_template_becomes_the_steps_english_message() -> None:
    email = {
        "subject": "{{ merchant_name }}: {{ discount }} for you",
        "body": "Hi! {{ code }} {{ unsubscribe_url }}",
    }
    cart = load_journeys(upgraded(email=email)["journeys"])[0]
    assert {tag: (m.subject, m.body) for tag, m in cart.steps[0].messages.items()} == {
        "en": (email["subject"], email["body"])
    }


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ({"subject": "Your cart, {{ first_name }}"}, ("Your cart, {{ first_name }}", LEGACY_BODY)),
        (
            {"body": "Just {{ code }}. {{ unsubscribe_url }}"},
            (LEGACY_SUBJECT, "Just {{ code }}. {{ unsubscribe_url }}"),
        ),
        (
            {"subject": LEGACY_SUBJECT, "body": "Just {{ code }}. {{ unsubscribe_url }}"},
            (LEGACY_SUBJECT, "Just {{ code }}. {{ unsubscribe_url }}"),
        ),
    ],
)
def test_a_template_edited_in_part_keeps_its_edit(email: dict[str, str], expected: tuple[str, str]) -> None:
    document = upgrade_document({"campaign": {**OLD_CAMPAIGN, "email": email}})
    cart = load_journeys(document["journeys"])[0]
    assert len(cart.steps) == 1
    message = cart.steps[0].messages["en"]
    assert (message.subject, message.body) == expected


def test_without_its_own_template_the_converted_step_takes_the_shipped_code_messages() -> None:
    document = upgrade_document({"campaign": {"discount_value": 20}})
    shipped = by_key({"journeys": default_journeys()})["cart"]["steps"][-1]["messages"]
    assert by_key(document)["cart"]["steps"][0]["messages"] == shipped
    assert {"fr", "en"} <= set(shipped)


@pytest.mark.parametrize(
    ("days", "pressure"),
    [
        (3, Pressure(max_emails=1, window_days=3, min_gap_hours=0)),
        (1, Pressure(max_emails=1, window_days=1, min_gap_hours=0)),
        (90, Pressure(max_emails=1, window_days=90, min_gap_hours=0)),
        (365, Pressure(max_emails=1, window_days=90, min_gap_hours=0)),  # the longest window pressure has
        (0, None),  # no cap: no limit
        (7, Pressure()),  # the old default: the new default pressure
    ],
)
def test_the_frequency_cap_becomes_pressure(days: int, pressure: Pressure | None) -> None:
    document = upgraded(frequency_cap_days=days)
    assert load_campaign(document["campaign"]).pressure == pressure
    load_journeys(document["journeys"])


def test_a_current_document_is_returned_unchanged() -> None:
    current = {
        "scoring": SCORING,
        "campaign": {**DEFAULT_CAMPAIGN, "pressure": None, "sender_name": "Ana"},
        "journeys": [by_key({"journeys": default_journeys()})["welcome"]],
    }
    before = copy.deepcopy(current)
    assert upgrade_document(current) == before
    assert current == before  # not changed in place either
    assert upgrade_document({"journeys": []}) == {"journeys": []}


def test_a_current_document_still_holding_moved_fields_loses_them() -> None:
    document = upgrade_document({"campaign": {"holdout_share": 0.3, "sender_name": "Ana"}, "journeys": []})
    assert document == {"campaign": {"sender_name": "Ana"}, "journeys": []}


def test_the_old_document_is_not_changed_in_place() -> None:
    old = {"campaign": {**OLD_CAMPAIGN, "discount_value": 20, "frequency_cap_days": 3}}
    before = copy.deepcopy(old)
    upgrade_document(old)
    assert old == before


def test_the_upgraded_campaign_is_accepted_as_it_is() -> None:
    document = upgraded(discount_value=20, sender_name="Ana", timezone="Europe/Paris", frequency_cap_days=0)
    settings = load_campaign(document["campaign"])
    assert (settings.sender_name, settings.timezone, settings.pressure) == ("Ana", "Europe/Paris", None)
    assert settings == load_campaign(json.loads(json.dumps(document["campaign"])))
    assert isinstance(settings, CampaignSettings)


old_campaigns = st.fixed_dictionaries(
    {},
    optional={
        "discount_kind": st.sampled_from(["percentage", "fixed_amount"]),
        "discount_value": st.integers(1, 100),
        "code_expiry_hours": st.integers(1, 720),
        "frequency_cap_days": st.integers(0, 365),
        "minimum_cart_value": st.integers(0, 10_000) | st.decimals(0, 1000, places=2).map(str),
        "holdout_share": st.floats(0, 0.5),
        "hot_lead_offers": st.booleans(),
        "email": st.fixed_dictionaries(
            {},
            optional={
                "subject": st.sampled_from([LEGACY_SUBJECT, "Hello {{ first_name }}"]),
                "body": st.sampled_from([LEGACY_BODY, "Code {{ code }} {{ unsubscribe_url }}"]),
            },
        ),
        "sender_name": st.just("Ana"),
        "monthly_budget": st.none() | st.integers(0, 1000),
    },
)


@settings(max_examples=40)
@given(old_campaigns)
def test_every_old_document_upgrades_into_valid_rules(campaign: dict[str, Any]) -> None:
    document = upgrade_document({"campaign": campaign})
    journeys = load_journeys(document["journeys"])
    load_campaign(document["campaign"])
    assert upgrade_document(document) == document  # upgrading twice changes nothing
    if campaign.get("hot_lead_offers") is False:
        assert not any(journey.trigger == "tier_entered" and journey.enabled for journey in journeys)
