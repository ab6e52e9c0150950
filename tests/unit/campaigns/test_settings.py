"""Campaign settings: defaults, round trips, a clear message per invalid field, and the moved offer fields."""

import json
from dataclasses import replace
from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from campaigns.settings import (
    DEFAULT_CAMPAIGN,
    MOVED_FIELDS,
    CampaignSettings,
    Pressure,
    QuietHours,
    dump_campaign,
    load_campaign,
    load_stored_campaign,
)


def errors_of(doc: Any) -> dict[str, Any]:
    """Return the per-field messages of an invalid document."""
    with pytest.raises(ValidationError) as caught:
        load_campaign(doc)
    messages = caught.value.messages
    assert isinstance(messages, dict)
    return messages


def test_the_default_document_is_the_default_settings() -> None:
    assert load_campaign(DEFAULT_CAMPAIGN) == CampaignSettings()
    assert dump_campaign(CampaignSettings()) == DEFAULT_CAMPAIGN
    assert json.loads(json.dumps(DEFAULT_CAMPAIGN)) == DEFAULT_CAMPAIGN


def test_missing_fields_take_their_defaults() -> None:
    assert load_campaign({}) == CampaignSettings()
    loaded = load_campaign({"sender_name": "Ana's", "quiet_hours": {"start": "22:30", "end": "07:00"}})
    assert loaded == replace(
        CampaignSettings(), sender_name="Ana's", quiet_hours=QuietHours(time(22, 30), time(7))
    )


def test_the_budget_is_a_decimal_read_from_a_number_or_a_string() -> None:
    assert load_campaign({"monthly_budget": "12.50"}).monthly_budget == Decimal("12.50")
    assert load_campaign({"monthly_budget": 0.1}).monthly_budget == Decimal("0.1")  # not the float's noise
    loaded = load_campaign({"monthly_budget": 300})
    assert loaded.monthly_budget == Decimal(300)
    assert json.loads(json.dumps(dump_campaign(loaded)))["monthly_budget"] == 300
    assert load_campaign(dump_campaign(loaded)) == loaded


def test_the_prefix_is_stored_in_capitals() -> None:
    assert load_campaign({"code_prefix": "spring-"}).code_prefix == "SPRING-"


def test_pressure_missing_fields_take_their_defaults_and_none_turns_it_off() -> None:
    assert load_campaign({"pressure": {"max_emails": 2}}).pressure == Pressure(2, 7, 12)
    assert load_campaign({"pressure": {}}).pressure == Pressure()
    assert load_campaign({"pressure": None}).pressure is None
    assert dump_campaign(load_campaign({"pressure": None}))["pressure"] is None


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ({"enabled": "maybe"}, "enabled", "boolean"),
        ({"abandonment_delay_minutes": 4}, "abandonment_delay_minutes", "greater than or equal to 5"),
        ({"abandonment_delay_minutes": 10081}, "abandonment_delay_minutes", "less than or equal to 10080"),
        ({"abandonment_delay_minutes": "60"}, "abandonment_delay_minutes", "integer"),
        ({"abandonment_delay_minutes": 60.5}, "abandonment_delay_minutes", "integer"),
        ({"code_prefix": "TOOLONGPREFIX"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_prefix": "A B"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_prefix": "-"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_prefix": "AB\n"}, "code_prefix", "up to 8 letters or digits"),
        ({"require_consent": None}, "require_consent", "null"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Unknown time zone"),
        ({"monthly_budget": -5}, "monthly_budget", "greater than or equal to 0"),
        ({"monthly_budget": "1E+999999999"}, "monthly_budget", "too large"),
        ({"monthly_budget": "Infinity"}, "monthly_budget", "not permitted"),
        ({"monthly_budget": "ten"}, "monthly_budget", "not a valid number"),
        ({"monthly_budget": True}, "monthly_budget", "not a valid number"),
        ({"attribution_window_days": 0}, "attribution_window_days", "greater than or equal to 1"),
        ({"attribution_window_days": 91}, "attribution_window_days", "less than or equal to 90"),
        ({"sender_name": "Shop\r\nBcc: victim@example.com"}, "sender_name", "single line"),
        ({"sender_name": "Shop\n"}, "sender_name", "single line"),
        ({"sender_name": "x" * 101}, "sender_name", "Longer than maximum length 100"),
        ({"webhook_url": "http://hooks.example.com/relance"}, "webhook_url", "https://"),
        ({"webhook_url": "ftp://hooks.example.com"}, "webhook_url", "https://"),
        ({"webhook_url": "not a url"}, "webhook_url", "https://"),
        ({"webhook_url": "https://[::1"}, "webhook_url", "https://"),
        ({"webhook_url": "https://hooks.example.com/\nX-Injected: 1"}, "webhook_url", "https://"),
        ({"locale": "FR"}, "locale", "language tag such as fr or fr-CA"),
        ({"locale": "fr_FR"}, "locale", "language tag such as fr or fr-CA"),
        ({"locale": "french"}, "locale", "language tag such as fr or fr-CA"),
        ({"locale": "fr-ca"}, "locale", "language tag such as fr or fr-CA"),
        ({"locale": ""}, "locale", "language tag such as fr or fr-CA"),
        ({"locale": "fr\n"}, "locale", "language tag such as fr or fr-CA"),
        ({"brand_color": "red"}, "brand_color", "colour such as #1f2937"),
        ({"brand_color": "#fff"}, "brand_color", "colour such as #1f2937"),
        ({"brand_color": "#1f2937ff"}, "brand_color", "colour such as #1f2937"),
        ({"brand_color": "#12345g"}, "brand_color", "colour such as #1f2937"),
        ({"brand_color": "#123456\n"}, "brand_color", "colour such as #1f2937"),
        ({"brand_color": None}, "brand_color", "null"),
        ({"logo_url": "http://cdn.example.com/logo.png"}, "logo_url", "https://"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url", "https://"),
        ({"logo_url": "https://"}, "logo_url", "https://"),
        ({"logo_url": "https://cdn.example.com/a logo.png"}, "logo_url", "https://"),
        ({"logo_url": "https://cdn.example.com/\nX: 1"}, "logo_url", "https://"),
        ({"logo_url": "https://cdn.example.com/" + "x" * 2000}, "logo_url", "maximum length 2000"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_each_invalid_field_is_named_with_a_message(doc: dict[str, Any], field: str, fragment: str) -> None:
    messages = errors_of(doc)
    assert list(messages) == [field]
    assert fragment.lower() in " ".join(messages[field]).lower()


@pytest.mark.parametrize(
    ("pressure", "field", "fragment"),
    [
        ({"max_emails": 0}, "max_emails", "greater than or equal to 1"),
        ({"max_emails": 51}, "max_emails", "less than or equal to 50"),
        ({"max_emails": "3"}, "max_emails", "integer"),
        ({"max_emails": 2.5}, "max_emails", "integer"),
        ({"max_emails": None}, "max_emails", "null"),
        ({"window_days": 0}, "window_days", "greater than or equal to 1"),
        ({"window_days": 91}, "window_days", "less than or equal to 90"),
        ({"min_gap_hours": -1}, "min_gap_hours", "greater than or equal to 0"),
        ({"min_gap_hours": 24 * 14 + 1}, "min_gap_hours", "less than or equal to 336"),
        ({"per_day": 1}, "per_day", "Unknown field"),
    ],
)
def test_pressure_errors_name_the_field(pressure: dict[str, Any], field: str, fragment: str) -> None:
    messages = errors_of({"pressure": pressure})
    assert list(messages) == ["pressure"]
    assert list(messages["pressure"]) == [field]
    assert fragment.lower() in " ".join(messages["pressure"][field]).lower()


def test_pressure_must_be_an_object() -> None:
    assert "pressure" in errors_of({"pressure": 3})


@pytest.mark.parametrize(
    "doc",
    [
        {"code_prefix": "SHOP2026-"},
        {"code_prefix": ""},
        {"timezone": "Europe/Paris"},
        {"timezone": None},
        {"monthly_budget": None},
        {"monthly_budget": 0},
        {"quiet_hours": None},
        {"webhook_url": "https://hooks.example.com/relance"},
        {"webhook_url": "http://localhost:8080/hook"},
        {"webhook_url": "http://127.0.0.1/hook"},
        {"webhook_url": None},
        {"pressure": {"max_emails": 1, "window_days": 1, "min_gap_hours": 0}},
        {"pressure": {"max_emails": 50, "window_days": 90, "min_gap_hours": 336}},
        {"locale": "en"},
        {"locale": "fr-CA"},
        {"locale": "es-419"},
        {"locale": "zh-Hant-TW"},
        {"locale": "ast"},
        {"brand_color": "#ABCDEF"},
        {"logo_url": "https://cdn.example.com/logo.png"},
        {"logo_url": None},
        {"sender_name": ""},
        {"sender_name": "x" * 100},
        {"attribution_window_days": 90},
    ],
)
def test_valid_edges_are_accepted(doc: dict[str, Any]) -> None:
    loaded = load_campaign(doc)
    assert load_campaign(dump_campaign(loaded)) == loaded


def test_every_problem_is_reported_at_once() -> None:
    messages = errors_of({"brand_color": "blue", "timezone": "Nowhere", "pressure": {"window_days": 0}})
    assert set(messages) == {"brand_color", "timezone", "pressure"}


@pytest.mark.parametrize(
    ("quiet_hours", "field", "fragment"),
    [
        ({"start": "25:00", "end": "08:00"}, "start", "24-hour time"),
        ({"start": "21:00", "end": "8h"}, "end", "24-hour time"),
        ({"start": "21:00"}, "end", "required"),
        ({"start": "08:00", "end": "08:00"}, "end", "another time"),
    ],
)
def test_quiet_hours_errors(quiet_hours: dict[str, str], field: str, fragment: str) -> None:
    messages = errors_of({"quiet_hours": quiet_hours})
    assert fragment in " ".join(messages["quiet_hours"][field])


# The single-offer era's campaign fields: a PUT naming one is told where it lives now.
OLD_VALUES: dict[str, Any] = {
    "discount_kind": "percentage",
    "discount_value": 10,
    "code_expiry_hours": 24,
    "minimum_cart_value": 0,
    "holdout_share": 0.1,
    "hot_lead_offers": True,
    "frequency_cap_days": 7,
    "email": {"subject": "Hi", "body": "Hello {{ unsubscribe_url }}"},
}


def test_every_moved_field_has_an_old_value_here() -> None:
    assert set(OLD_VALUES) == set(MOVED_FIELDS)


@pytest.mark.parametrize("name", sorted(MOVED_FIELDS))
def test_a_moved_field_names_its_new_place(name: str) -> None:
    assert errors_of({name: OLD_VALUES[name]}) == {name: [f"Moved: set it in {MOVED_FIELDS[name]}."]}


def test_the_moved_messages_say_where() -> None:
    assert errors_of({"discount_value": 15})["discount_value"] == [
        "Moved: set it in journeys[].steps[].offer.value."
    ]
    assert "campaign.pressure" in errors_of({"frequency_cap_days": 3})["frequency_cap_days"][0]
    assert "tier_entered" in errors_of({"hot_lead_offers": False})["hot_lead_offers"][0]
    assert "messages" in errors_of({"email": None})["email"][0]


def test_moved_fields_are_reported_with_the_other_problems() -> None:
    messages = errors_of({"holdout_share": 0.2, "discount_kind": "x", "timezone": "Nowhere", "surprise": 1})
    assert messages == {
        "holdout_share": ["Moved: set it in journeys[].holdout_share."],
        "discount_kind": ["Moved: set it in journeys[].steps[].offer.kind."],
        "timezone": ["Unknown time zone 'Nowhere'; use a name such as Europe/Paris."],
        "surprise": ["Unknown field."],
    }


def test_a_stored_document_with_moved_fields_still_loads() -> None:
    stored = {**OLD_VALUES, "sender_name": "Ana", "timezone": "Europe/Paris"}
    assert load_stored_campaign(stored) == replace(
        CampaignSettings(), sender_name="Ana", timezone="Europe/Paris"
    )
    with pytest.raises(ValidationError):
        load_stored_campaign({**OLD_VALUES, "timezone": "Nowhere"})


settings_documents = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "abandonment_delay_minutes": st.integers(5, 10080),
        "code_prefix": st.from_regex(r"[A-Z0-9]{1,8}-?", fullmatch=True),
        "quiet_hours": st.none() | st.just({"start": "22:00", "end": "06:30"}),
        "timezone": st.sampled_from(["UTC", "Europe/Paris", "Pacific/Chatham"]),
        "monthly_budget": st.none() | st.integers(0, 100_000) | st.decimals(0, 10_000, places=2).map(float),
        "pressure": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "max_emails": st.integers(1, 50),
                "window_days": st.integers(1, 90),
                "min_gap_hours": st.integers(0, 336),
            },
        ),
        "locale": st.sampled_from(["fr", "en", "fr-CA", "pt-BR", "es-419"]),
        "brand_color": st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True),
        "sender_name": st.text(max_size=100).filter(lambda s: "\r" not in s and "\n" not in s),
    },
)


@given(settings_documents)
def test_load_and_dump_round_trip(doc: dict[str, Any]) -> None:
    settings = load_campaign(doc)
    dumped = dump_campaign(settings)
    assert load_campaign(json.loads(json.dumps(dumped))) == settings
