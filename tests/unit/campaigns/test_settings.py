"""Campaign settings: defaults, round trips, and a clear message per invalid field."""

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
    CampaignSettings,
    EmailTemplate,
    QuietHours,
    dump_campaign,
    load_campaign,
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
    loaded = load_campaign({"holdout_share": 0.2, "quiet_hours": {"start": "22:30", "end": "07:00"}})
    assert loaded == replace(
        CampaignSettings(), holdout_share=0.2, quiet_hours=QuietHours(time(22, 30), time(7))
    )
    assert load_campaign({"email": {"subject": "Hello {{ first_name }}"}}).email.body == EmailTemplate().body


def test_amounts_are_decimals_read_from_numbers_or_strings() -> None:
    loaded = load_campaign(
        {
            "discount_kind": "fixed_amount",
            "discount_value": "5.50",
            "minimum_cart_value": 0.1,
            "monthly_budget": 300,
        }
    )
    assert loaded.discount_value == Decimal("5.50")
    assert loaded.minimum_cart_value == Decimal("0.1")  # not the float's 0.1000000000000000055...
    assert loaded.monthly_budget == Decimal(300)
    assert json.dumps(dump_campaign(loaded))  # still a JSON document
    assert load_campaign(dump_campaign(loaded)) == loaded


def test_the_prefix_is_stored_in_capitals() -> None:
    assert load_campaign({"code_prefix": "spring-"}).code_prefix == "SPRING-"


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ({"enabled": "maybe"}, "enabled", "boolean"),
        ({"abandonment_delay_minutes": 4}, "abandonment_delay_minutes", "greater than or equal to 5"),
        ({"abandonment_delay_minutes": 10081}, "abandonment_delay_minutes", "less than or equal to 10080"),
        ({"abandonment_delay_minutes": "60"}, "abandonment_delay_minutes", "integer"),
        ({"abandonment_delay_minutes": 60.5}, "abandonment_delay_minutes", "integer"),
        ({"discount_kind": "free_shipping"}, "discount_kind", "percentage, fixed_amount"),
        ({"discount_value": 0}, "discount_value", "between 1 and 100"),
        ({"discount_value": 101}, "discount_value", "between 1 and 100"),
        ({"discount_kind": "fixed_amount", "discount_value": 0}, "discount_value", "more than 0"),
        ({"discount_kind": "fixed_amount", "discount_value": "Infinity"}, "discount_value", "not permitted"),
        ({"discount_value": "ten"}, "discount_value", "not a valid number"),
        ({"discount_value": True}, "discount_value", "not a valid number"),
        ({"code_prefix": "TOOLONGPREFIX"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_prefix": "A B"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_prefix": "-"}, "code_prefix", "up to 8 letters or digits"),
        ({"code_expiry_hours": 0}, "code_expiry_hours", "greater than or equal to 1"),
        ({"code_expiry_hours": 721}, "code_expiry_hours", "less than or equal to 720"),
        ({"frequency_cap_days": -1}, "frequency_cap_days", "greater than or equal to 0"),
        ({"frequency_cap_days": 366}, "frequency_cap_days", "less than or equal to 365"),
        ({"minimum_cart_value": -1}, "minimum_cart_value", "greater than or equal to 0"),
        ({"require_consent": None}, "require_consent", "null"),
        ({"holdout_share": 0.6}, "holdout_share", "less than or equal to 0.5"),
        ({"holdout_share": -0.1}, "holdout_share", "greater than or equal to 0"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Unknown time zone"),
        ({"monthly_budget": -5}, "monthly_budget", "greater than or equal to 0"),
        ({"monthly_budget": "1E+999999999"}, "monthly_budget", "too large"),
        ({"attribution_window_days": 0}, "attribution_window_days", "greater than or equal to 1"),
        ({"sender_name": "Shop\r\nBcc: victim@example.com"}, "sender_name", "single line"),
        ({"sender_name": "Shop\n"}, "sender_name", "single line"),
        ({"code_prefix": "AB\n"}, "code_prefix", "up to 8 letters or digits"),
        ({"sender_name": "x" * 101}, "sender_name", "Longer than maximum length 100"),
        ({"webhook_url": "http://hooks.example.com/relance"}, "webhook_url", "https://"),
        ({"webhook_url": "ftp://hooks.example.com"}, "webhook_url", "https://"),
        ({"webhook_url": "not a url"}, "webhook_url", "https://"),
        ({"webhook_url": "https://[::1"}, "webhook_url", "https://"),
        ({"webhook_url": "https://hooks.example.com/\nX-Injected: 1"}, "webhook_url", "https://"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_each_invalid_field_is_named_with_a_message(doc: dict[str, Any], field: str, fragment: str) -> None:
    messages = errors_of(doc)
    assert list(messages) == [field]
    assert fragment.lower() in " ".join(messages[field]).lower()


@pytest.mark.parametrize(
    "doc",
    [
        {"discount_value": 1},
        {"discount_value": 100},
        {"discount_value": "12.5"},
        {"discount_kind": "fixed_amount", "discount_value": "0.01"},
        {"discount_kind": "fixed_amount", "discount_value": 500},
        {"code_prefix": "SHOP2026-"},
        {"frequency_cap_days": 0},
        {"holdout_share": 0},
        {"holdout_share": 0.5},
        {"timezone": "Europe/Paris"},
        {"monthly_budget": None},
        {"monthly_budget": 0},
        {"quiet_hours": None},
        {"webhook_url": "https://hooks.example.com/relance"},
        {"webhook_url": "http://localhost:8080/hook"},
        {"webhook_url": "http://127.0.0.1/hook"},
        {"webhook_url": None},
    ],
)
def test_valid_edges_are_accepted(doc: dict[str, Any]) -> None:
    load_campaign(doc)


def test_a_wrong_discount_kind_is_not_also_blamed_on_the_value() -> None:
    assert errors_of({"discount_kind": "bogus", "discount_value": 500}) == {
        "discount_kind": ["Must be one of: percentage, fixed_amount."]
    }


def test_every_problem_is_reported_at_once() -> None:
    messages = errors_of({"holdout_share": 2, "timezone": "Nowhere", "discount_value": 0})
    assert set(messages) == {"holdout_share", "timezone", "discount_value"}


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


def test_a_broken_template_is_refused_on_email_body() -> None:
    messages = errors_of({"email": {"body": "Hi {{ first_name }, {{ unsubscribe_url }}"}})
    assert list(messages["email"]) == ["body"]
    assert "line 1" in messages["email"]["body"][0]


@pytest.mark.parametrize(
    ("email", "part", "fragment"),
    [
        ({"body": "Hi {{ frist_name }} {{ unsubscribe_url }}"}, "body", "unknown placeholder 'frist_name'"),
        ({"body": "Hi {{ first_name }}, see you soon."}, "body", "unsubscribe_url"),
        ({"body": "{{ code.__class__ }} {{ unsubscribe_url }}"}, "body", "unsafe"),
        ({"body": ""}, "body", "Length must be between 1"),
        ({"subject": "Your {{ discount }"}, "subject", "line 1"),
        ({"subject": "{{ items.missing }}"}, "subject", "no attribute 'missing'"),
    ],
)
def test_template_errors_are_per_field(email: dict[str, str], part: str, fragment: str) -> None:
    messages = errors_of({"email": email})
    assert list(messages["email"]) == [part]
    assert fragment in " ".join(messages["email"][part])


settings_documents = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "abandonment_delay_minutes": st.integers(5, 10080),
        "discount_value": st.decimals(1, 100, places=2).map(str),
        "code_prefix": st.from_regex(r"[A-Z0-9]{1,8}-?", fullmatch=True),
        "frequency_cap_days": st.integers(0, 365),
        "minimum_cart_value": st.decimals(0, 10_000, places=2).map(float),
        "holdout_share": st.floats(0, 0.5),
        "quiet_hours": st.none() | st.just({"start": "22:00", "end": "06:30"}),
        "timezone": st.sampled_from(["UTC", "Europe/Paris", "Pacific/Chatham"]),
        "monthly_budget": st.none() | st.integers(0, 100_000),
    },
)


@given(settings_documents)
def test_load_and_dump_round_trip(doc: dict[str, Any]) -> None:
    settings = load_campaign(doc)
    dumped = dump_campaign(settings)
    assert load_campaign(json.loads(json.dumps(dumped))) == settings
