"""The merchant's own activity kinds: validated, scored with their points and label, round-tripped."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from scoring import ActivityRecord, Profile, default_rules, dump_rules, load_rules, score

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WEBINAR = {"key": "webinar_attended", "label": "Attended a webinar", "points": 15}


def test_a_custom_kind_scores_with_its_points_and_label() -> None:
    rules = load_rules(
        {"custom_kinds": [WEBINAR, {"key": "demo_booked", "label": "Booked a demo", "points": 30}]}
    )
    assert rules.kinds()[-2:] == ("webinar_attended", "demo_booked")
    assert rules.kind_label("webinar_attended") == "Attended a webinar"
    assert rules.kind_label("product_view") == "Viewed a product"
    result = score(
        rules, Profile(), [ActivityRecord("webinar_attended", NOW), ActivityRecord("demo_booked", NOW)], NOW
    )
    assert result.total == 45
    assert {line.rule: line.label for line in result.breakdown} == {
        "activity:webinar_attended": "Attended a webinar",
        "activity:demo_booked": "Booked a demo",
    }
    # Decayed like any activity.
    later = score(rules, Profile(), [ActivityRecord("webinar_attended", NOW - timedelta(days=30))], NOW)
    assert later.total == 8  # 15 halved by the default 30-day half-life


def test_round_trip_and_pickle() -> None:
    doc = {"custom_kinds": [{**WEBINAR, "cap": {"points": 30, "period": "month"}, "first_only": True}]}
    rules = load_rules(doc)
    dumped = dump_rules(rules)
    assert dumped["custom_kinds"] == [
        {**WEBINAR, "cap": {"points": 30, "period": "month"}, "first_only": True}
    ]
    assert "webinar_attended" not in dumped["activities"]
    assert load_rules(dumped) == rules and pickle.loads(pickle.dumps(rules)) == rules
    assert "custom_kinds" not in dump_rules(default_rules())  # documents without any stay as they were


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (
            [{**WEBINAR, "key": "product_view"}],
            {0: {"key": ["Is a built-in activity kind: pick another key."]}},
        ),
        (
            [{**WEBINAR, "key": "Web inar"}],
            {
                0: {
                    "key": [
                        "Must be 3 to 40 lower-case letters, digits or underscores, starting with a letter."
                    ]
                }
            },
        ),
        ([{**WEBINAR, "label": "  "}], {0: {"label": ["Length must be between 1 and 80."]}}),
        ([{**WEBINAR, "points": "15"}], {0: {"points": ["Not a valid number."]}}),
        ([WEBINAR, WEBINAR], ["Each custom activity kind needs its own key."]),
        ([{**WEBINAR, "key": f"kind_{i}"} for i in range(51)], ["Longer than maximum length 50."]),
    ],
)
def test_bad_kinds_are_refused_per_field(kinds: list[dict[str, object]], expected: object) -> None:
    with pytest.raises(ValidationError) as caught:
        load_rules({"custom_kinds": kinds})
    assert caught.value.messages == {"custom_kinds": expected}


def test_a_custom_key_in_activities_is_still_an_unknown_kind() -> None:
    with pytest.raises(ValidationError) as caught:
        load_rules({"activities": {"webinar_attended": {"points": 5}}, "custom_kinds": [WEBINAR]})
    assert caught.value.messages == {"activities": {"webinar_attended": ["Unknown activity kind."]}}
