"""The pure helpers of bridge.leads.rules: document diffs and flattened error paths."""

from __future__ import annotations

from bridge.leads.rules import defaults, diff, flatten_errors, validate


def test_diff_lists_leaf_changes_with_dotted_paths():
    old = defaults()
    new = defaults()
    new["scoring"]["activities"]["product_view"]["cap"] = {"points": 6, "period": "week"}
    new["scoring"]["criteria"][0]["points"] = 8
    new["scoring"]["criteria"].append({"field": "country", "operator": "in", "value": ["FR"], "points": 10})
    new["campaign"]["quiet_hours"] = None
    assert diff(old, new) == [
        {"path": "campaign.quiet_hours", "old": {"start": "21:00", "end": "08:00"}, "new": None},
        {"path": "scoring.activities.product_view.cap.period", "old": "day", "new": "week"},
        {"path": "scoring.activities.product_view.cap.points", "old": 10, "new": 6},
        {"path": "scoring.criteria.0.points", "old": 5, "new": 8},
        {
            "path": "scoring.criteria.2",
            "old": None,
            "new": {"field": "country", "operator": "in", "value": ["FR"], "points": 10},
        },
    ]


def test_diff_treats_equal_numbers_as_equal_but_not_booleans():
    assert diff({"a": 15}, {"a": 15.0}) == []
    assert diff({"a": 1}, {"a": True}) == [{"path": "a", "old": 1, "new": True}]
    assert diff({"v": ["FR", "BE"]}, {"v": ["BE", "FR"]}) == [
        {"path": "v", "old": ["FR", "BE"], "new": ["BE", "FR"]}
    ]


def test_validate_normalizes_and_a_missing_part_keeps_the_base():
    base = defaults()
    base["campaign"]["abandonment_delay_minutes"] = 25
    base["journeys"][0]["steps"][0]["offer"]["value"] = 25
    clean, errors = validate({"scoring": {"tiers": {"warm": 30, "hot": 60}}}, base=base)
    assert errors == {}
    assert clean["campaign"]["abandonment_delay_minutes"] == 25
    assert clean["journeys"][0]["steps"][0]["offer"]["value"] == 25
    assert clean["scoring"]["tiers"] == {"warm": 30, "hot": 60}
    assert clean["scoring"]["decay"] == {"half_life_days": 30}  # a section left out takes its default


def test_flatten_errors_joins_nested_paths_and_keeps_every_message():
    messages = {
        "scoring": {"criteria": {0: {"field": ["Unknown profile field."]}}, "_schema": ["Whole part."]},
        "campaign": {"email": {"body": ["One.", "Two."]}},
        "_schema": ["Top."],
    }
    assert flatten_errors(messages) == {
        "scoring.criteria.0.field": ["Unknown profile field."],
        "scoring": ["Whole part."],
        "campaign.email.body": ["One.", "Two."],
        "_schema": ["Top."],
    }
