"""A step's template is checked at save time: every problem names its part and line, and it must render
with a code and without one, for a customer with or without a name and a cart."""

import pytest
from marshmallow import ValidationError

from campaigns.journey_defaults import default_journeys
from campaigns.journeys import load_journeys
from campaigns.templating import PLACEHOLDERS, SAMPLE_VARIABLES, message_problems, template_problems


def test_the_journeys_placeholders_are_available() -> None:
    assert {"viewed", "minimum_order", "code", "expires_text", "items"} <= set(PLACEHOLDERS)
    assert set(SAMPLE_VARIABLES) == set(PLACEHOLDERS)
    everything = " ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
    assert message_problems(everything, everything) == []


def test_items_and_viewed_carry_a_variant() -> None:
    body = "{% for item in viewed %}{{ item.title }} ({{ item.variant }}) {{ item.price }}\n{% endfor %}"
    assert message_problems("Hi", body) == []


@pytest.mark.parametrize(
    ("subject", "body", "problem"),
    [
        ("Hi", "Hello,\n\n{{ coupon }}", "body: line 3: unknown placeholder 'coupon'"),
        ("{{ first }}", "Hello", "subject: line 1: unknown placeholder 'first'"),
        ("Hi", "a\n{% if code %}\n{{ code }", "body: line 3: unexpected '}'"),
        ("Hi", "a\nb\n{{ code.lower() }}", "body: line 3: calling methods is not available"),
        ("Hi", "a\n{{ 1 / 0 }}", "body: line 2: division by zero"),
        (
            "Hi",
            "{% for n in items %}\n{{ n.nope }}{% endfor %}",
            "body: line 2: 'dict object' has no attribute",
        ),
    ],
)
def test_every_problem_names_its_part_and_line(subject: str, body: str, problem: str) -> None:
    problems = message_problems(subject, body)
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_a_template_that_only_works_with_a_code_or_a_cart_is_refused() -> None:
    assert message_problems("Hi", "Hello\n{{ items[0].title }}") == [
        "body: line 2: list object has no element 0"
    ]
    assert message_problems("{{ first_name[0] }}", "Hi") == ["subject: line 1: str object has no element 0"]
    assert message_problems("Hi", "{% if code %}{{ items[0].title }}{% endif %}") != []
    assert template_problems("{% if items %}{{ items[0].title }}{% endif %}") == []


def test_a_journey_with_a_broken_message_is_refused_naming_the_locale_and_line() -> None:
    document = default_journeys()
    document[1]["steps"][2]["messages"]["de"]["body"] = "Hallo,\n\n{{ rabatt }}"
    with pytest.raises(ValidationError) as raised:
        load_journeys(document)
    problems = raised.value.messages[1]["steps"][2]["messages"][0]["de"]  # type: ignore[index]
    assert problems == [f"body: line 3: unknown placeholder 'rabatt' (available: {', '.join(PLACEHOLDERS)})"]


def test_a_journey_message_must_use_a_language_tag() -> None:
    document = default_journeys()
    messages = document[0]["steps"][0]["messages"]
    messages["fr_FR"] = messages.pop("fr")
    with pytest.raises(ValidationError, match="BCP 47"):
        load_journeys(document)
