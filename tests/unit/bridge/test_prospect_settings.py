"""The `prospects` part of the rules document: its defaults, a tier or a segment as the entry, and the
per-field messages of a refused part (as the rules API and the admin show them)."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from bridge.leads import rules
from bridge.leads.prospect_settings import DEFAULT_PROSPECTS, dump_prospects, load_prospects


def test_the_defaults_take_hot_leads_with_a_day_to_answer() -> None:
    settings = load_prospects(None)
    assert (settings.enabled, settings.entry_tier, settings.response_hours) == (True, "hot", 24)
    assert settings.reason == "tier:hot"
    assert dump_prospects(settings) == DEFAULT_PROSPECTS == rules.defaults()["prospects"]
    assert load_prospects({}) == settings  # every field has its default


@pytest.mark.parametrize(
    "document",
    [
        {"entry": {"tier": "warm"}, "response_hours": 4},
        {"entry": {"segment": "big-spenders"}, "response_hours": 48, "enabled": False},
    ],
)
def test_a_valid_part_round_trips(document: dict[str, Any]) -> None:
    clean = dump_prospects(load_prospects(document))
    assert clean == {"enabled": True, **document}
    assert load_prospects(clean) == load_prospects(document)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"entry": {"tier": "cold"}}, "prospects.entry.tier"),
        ({"entry": {"tier": "hot", "segment": "vip"}}, "prospects.entry"),
        ({"entry": {}}, "prospects.entry"),
        ({"entry": {"segment": "Not A Key!"}}, "prospects.entry.segment"),
        ({"entry": {"list": "vip"}}, "prospects.entry.list"),
        ({"response_hours": 0}, "prospects.response_hours"),
        ({"response_hours": 24.5}, "prospects.response_hours"),
        ({"response_hours": 24 * 31}, "prospects.response_hours"),
        ({"owner": "x"}, "prospects.owner"),
    ],
)
def test_a_refused_part_names_its_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError):
        load_prospects(document)
    clean, errors = rules.validate({"prospects": document})
    assert clean is None and list(rules.flatten_errors(errors)) == [field]


def test_a_document_without_the_part_keeps_the_defaults() -> None:
    clean, errors = rules.validate({"scoring": rules.defaults()["scoring"]})
    assert errors == {} and clean is not None and clean["prospects"] == DEFAULT_PROSPECTS
    assert rules.stored({"scoring": rules.defaults()["scoring"]})["prospects"] == DEFAULT_PROSPECTS
