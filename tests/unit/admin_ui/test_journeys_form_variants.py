"""The journey editor (admin_ui.journeys_form) and A/B variants: the form edits no variant, and keeps them."""

from __future__ import annotations

from admin_ui.journeys_form import journey_from_form
from campaigns.journeys import load_journeys
from tests.unit.campaigns.test_journey_variants import TESTED, journey


def test_the_journey_editor_keeps_a_steps_variants() -> None:
    """The editor's form has no fields for variants: saving a journey there keeps the live step's test."""
    [live] = journey(**TESTED)
    form = {
        "name": "Cart",
        "trigger": "cart_abandoned",
        "holdout_share": "0.1",
        **{f"steps.{i}.after_value": str(v) for i, v in enumerate((1, 20, 72))},
        **{f"steps.{i}.after_unit": "hours" for i in range(3)},
        **{f"steps.{i}.messages.en.subject": "S" for i in range(3)},
        **{f"steps.{i}.messages.en.body": "B" for i in range(3)},
    }
    steps = journey_from_form(form, live)["steps"]
    assert steps[1]["variants"] == TESTED["variants"] and steps[1]["weight"] == 50
    assert steps[1]["after_minutes"] == 20 * 60 and "variants" not in steps[0]
    assert load_journeys([{**live, "steps": steps}])  # still valid with the edited delay
