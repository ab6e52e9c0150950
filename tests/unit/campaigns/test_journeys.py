"""The journeys schema: the defaults round-trip, each invalid field is named at its path."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from campaigns.journey_defaults import default_journeys
from campaigns.journeys import (
    MAX_STEPS,
    Audience,
    Journey,
    Step,
    StepOffer,
    dump_journeys,
    load_journeys,
)

Document = list[dict[str, Any]]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEYS = {journey["key"]: index for index, journey in enumerate(default_journeys())}


def flat(messages: Any, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"1.steps.0.after_minutes": [...]} (lists are passed through)."""
    if isinstance(messages, dict):
        found: dict[str, list[str]] = {}
        for key, value in messages.items():
            for name, texts in flat(value, f"{path}.{key}" if path else str(key)).items():
                found.setdefault(name, []).extend(texts)
        return found
    if isinstance(messages, list) and any(not isinstance(item, str) for item in messages):
        merged: dict[str, list[str]] = {}
        for item in messages:
            for name, texts in flat(item, path).items():
                merged.setdefault(name, []).extend(texts)
        return merged
    return {path or "_schema": list(messages) if isinstance(messages, list) else [str(messages)]}


def problems(change: Callable[[Document], Any]) -> dict[str, list[str]]:
    """The flattened errors of the default journeys after `change`."""
    document = default_journeys()
    change(document)
    with pytest.raises(ValidationError) as caught:
        load_journeys(document)
    return flat(caught.value.messages)


def step(document: Document, key: str, index: int = 0) -> dict[str, Any]:
    step_doc: dict[str, Any] = document[KEYS[key]]["steps"][index]
    return step_doc


def test_the_default_journeys_load_and_round_trip() -> None:
    document = default_journeys()
    loaded = load_journeys(document)
    assert [journey.key for journey in loaded] == ["cart-hot", "cart", "hot-lead", "welcome", "browse"]
    assert dump_journeys(loaded) == document
    assert load_journeys(json.loads(json.dumps(dump_journeys(loaded)))) == loaded


def test_the_loaded_values() -> None:
    cart_hot, cart, hot_lead, welcome, browse = load_journeys(default_journeys())
    assert cart_hot.audience == Audience(tiers=("hot",))
    assert cart_hot.steps[0].offer == StepOffer("percentage", Decimal(15), 6, Decimal(0))
    assert [s.after_minutes for s in cart.steps] == [60, 24 * 60, 72 * 60]
    assert cart.steps[0].offer is None and cart.steps[2].offer is not None
    assert {"fr", "en"} <= set(cart.steps[0].messages)  # French and English at least
    assert hot_lead.tier == "hot" and hot_lead.audience == Audience()
    # The default priorities: a cart before a hot lead's offer, before browsing, before a welcome.
    assert cart.rank > hot_lead.rank > browse.rank > welcome.rank


def test_missing_fields_take_their_defaults() -> None:
    message = {"en": {"subject": "Hi", "body": "Hello"}}
    (journey,) = load_journeys(
        [{"key": "k", "trigger": "signup", "steps": [{"after_minutes": 5, "messages": message}]}]
    )
    assert journey == Journey(key="k", trigger="signup", steps=(Step(5, journey.steps[0].messages),))
    assert (journey.enabled, journey.audience, journey.holdout_share, journey.priority) == (
        True,
        Audience(),
        0.1,
        None,
    )
    assert journey.steps[0].offer is None and journey.steps[0].max_delay_hours is None


def test_amounts_are_decimals_and_duplicate_tiers_are_merged() -> None:
    def change(document: Document) -> None:
        step(document, "cart-hot")["offer"].update(kind="fixed_amount", value="5.50", minimum_order=0.1)
        document[KEYS["cart-hot"]]["audience"]["tiers"] = ["hot", "warm", "hot"]

    document = default_journeys()
    change(document)
    journey = load_journeys(document)[0]
    offer = journey.steps[0].offer
    assert offer is not None and (offer.value, offer.minimum_order) == (Decimal("5.50"), Decimal("0.1"))
    assert journey.audience.tiers == ("hot", "warm")
    assert dump_journeys([journey])[0]["steps"][0]["offer"]["value"] == 5.5


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (lambda d: d[0].update(trigger="purchase"), "0.trigger", "Must be one of: cart_abandoned"),
        (
            lambda d: step(d, "cart").update(after_minutes=0),
            "1.steps.0.after_minutes",
            "greater than or equal to 1",
        ),
        (lambda d: step(d, "cart").update(after_minutes="60"), "1.steps.0.after_minutes", "integer"),
        (
            lambda d: step(d, "cart").update(after_minutes=60 * 24 * 90 + 1),
            "1.steps.0.after_minutes",
            "less than",
        ),
        (lambda d: step(d, "cart", 1).update(after_minutes=60), "1.steps", "later than the one before"),
        (lambda d: step(d, "cart", 2).update(after_minutes=59), "1.steps", "later than the one before"),
        (lambda d: step(d, "cart", 1).update(max_delay_hours=0), "1.steps.1.max_delay_hours", "greater than"),
        (
            lambda d: step(d, "cart-hot")["offer"].update(value=0),
            "0.steps.0.offer.value",
            "between 1 and 100",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(value=101),
            "0.steps.0.offer.value",
            "between 1 and 100",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(kind="fixed_amount", value=0),
            "0.steps.0.offer.value",
            "more than 0",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(kind="gift"),
            "0.steps.0.offer.kind",
            "Must be one of",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(expires_hours=0),
            "0.steps.0.offer.expires_hours",
            "greater",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(expires_hours=721),
            "0.steps.0.offer.expires_hours",
            "less",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].pop("expires_hours"),
            "0.steps.0.offer.expires_hours",
            "required",
        ),
        (
            lambda d: step(d, "cart-hot")["offer"].update(minimum_order=-1),
            "0.steps.0.offer.minimum_order",
            "greater",
        ),
        (
            lambda d: d[KEYS["hot-lead"]].update(tier=None),
            "2.tier",
            "Say which tier's entry starts the journey",
        ),
        (lambda d: d[KEYS["hot-lead"]].update(tier="cold"), "2.tier", "Must be one of: warm, hot"),
        (lambda d: d[KEYS["browse"]].update(key="cart"), "1.key", "'cart' is used twice"),
        (lambda d: d[0].update(key="Cart Hot"), "0.key", "lower-case letters"),
        (lambda d: d[0].update(key=""), "0.key", "lower-case letters"),
        (lambda d: d[0].update(holdout_share=0.6), "0.holdout_share", "less than or equal to 0.5"),
        (lambda d: d[0].update(priority=101), "0.priority", "less than or equal to 100"),
        (lambda d: d[0]["audience"].update(tiers=[]), "0.audience.tiers", "Shorter than minimum length 1"),
        (lambda d: d[0]["audience"].update(tiers=["vip"]), "0.audience.tiers.0", "Must be one of"),
        (lambda d: d[0].update(steps=[]), "0.steps", "between 1 and 15"),
        (lambda d: d[0].pop("steps"), "0.steps", "required"),
        (lambda d: d[0].update(surprise=1), "0.surprise", "Unknown field"),
        (lambda d: step(d, "cart").update(messages={}), "1.steps.0.messages", "at least one locale"),
        (
            lambda d: step(d, "cart").update(messages={"FR_fr": step(d, "cart")["messages"]["fr"]}),
            "1.steps.0.messages.FR_fr",
            "BCP 47 language tag such as 'fr' or 'fr-CA', not 'FR_fr'",
        ),
        (
            lambda d: step(d, "cart").update(messages={"french": step(d, "cart")["messages"]["fr"]}),
            "1.steps.0.messages.french",
            "not 'french'",
        ),
        (
            lambda d: step(d, "cart")["messages"]["en"].update(body="Hello\n{{ first_name }"),
            "1.steps.0.messages.en",
            "body: line 2:",
        ),
        (
            lambda d: step(d, "cart")["messages"]["fr"].update(subject="{{ frist_name }}"),
            "1.steps.0.messages.fr",
            "subject: line 1: unknown placeholder 'frist_name'",
        ),
        (
            lambda d: step(d, "cart")["messages"]["fr"].update(subject=""),
            "1.steps.0.messages.fr.value.subject",
            "Length",
        ),
        (
            lambda d: step(d, "cart")["messages"]["fr"].pop("body"),
            "1.steps.0.messages.fr.value.body",
            "required",
        ),
    ],
)
def test_each_invalid_field_is_named_at_its_path(
    change: Callable[[Document], Any], path: str, fragment: str
) -> None:
    found = problems(change)
    assert list(found) == [path]
    assert fragment in " ".join(found[path])


def test_a_template_error_names_the_locale_and_the_line() -> None:
    def change(document: Document) -> None:
        step(document, "cart", 1)["messages"]["fr"]["body"] = "Bonjour,\n\n{% if code %}sans fin"

    found = problems(change)
    assert list(found) == ["1.steps.1.messages.fr"]
    assert found["1.steps.1.messages.fr"][0].startswith("body: line 3:")


def test_at_most_fifteen_steps() -> None:
    def steps(count: int) -> Callable[[Document], None]:
        def change(document: Document) -> None:
            first = step(document, "cart")
            document[KEYS["cart"]]["steps"] = [{**first, "after_minutes": n + 1} for n in range(count)]

        return change

    assert problems(steps(MAX_STEPS + 1)) == {"1.steps": ["Length must be between 1 and 15."]}
    document = default_journeys()
    steps(MAX_STEPS)(document)
    assert len(load_journeys(document)[KEYS["cart"]].steps) == MAX_STEPS


def test_the_document_must_be_a_list_of_at_most_thirty_journeys() -> None:
    with pytest.raises(ValidationError, match="list of journeys"):
        load_journeys({"key": "cart"})
    many = [{**default_journeys()[KEYS["browse"]], "key": f"browse-{n}"} for n in range(31)]
    with pytest.raises(ValidationError, match="At most 30"):
        load_journeys(many)
    assert len(load_journeys(many[:30])) == 30
    assert load_journeys([]) == ()


def test_every_journey_is_checked_at_once() -> None:
    def change(document: Document) -> None:
        document[0]["trigger"] = "nope"
        step(document, "browse")["after_minutes"] = 0

    assert set(problems(change)) == {"0.trigger", "4.steps.0.after_minutes"}


def test_a_free_shipping_step_is_accepted_and_its_value_ignored():
    document = default_journeys()
    document[0]["steps"][0]["offer"] = {"kind": "free_shipping", "value": 0, "expires_hours": 6}
    [offer] = [s.offer for s in load_journeys(document)[0].steps]
    assert offer is not None and offer.kind == "free_shipping"
