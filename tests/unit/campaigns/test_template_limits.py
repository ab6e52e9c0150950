"""Merchant templates cannot exhaust memory or time; every failure is a TemplateProblem, never a crash."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from campaigns.templating import SAMPLE_VARIABLES, TemplateProblem, check_template, render_template

LINK = " {{ unsubscribe_url }}"


def doubling(operator: str, times: int = 24) -> str:
    """A short body that doubles the 12-character code `times` times (24: a 201 MB string)."""
    steps = "".join(f"{{% set a = a {operator} a %}}" for _ in range(times))
    return f"{{% set a = code %}}{steps}{{{{ a|length }}}}{LINK}"


@pytest.mark.parametrize("operator", ["~", "+"])
def test_the_510_character_doubling_template_is_refused_within_64_mb(operator: str) -> None:
    body = doubling(operator)
    assert len(body) == 510
    tracemalloc.start()
    try:
        started = time.monotonic()
        problems = check_template("Hi", body)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == [
        "body: line 1: the template builds too much text or repeats too often"
        " (the limit is 1,000,000 characters and loop steps per message)"
    ]
    assert peak < 64 * 2**20 and elapsed < 5


TOO_LARGE = "a number in the template is larger than 128 bits"
TOO_DEEP = "nested more than 20 levels deep"
TOO_MUCH = "the template builds too much text or repeats too often"
SIXTEEN = "{% set s = code ~ code ~ code ~ code %}"  # 48 characters
HOSTILE = {
    "include": ("{% include 'secrets.txt' %}", "{% include %} is not available"),
    "import": ("{% from 'x' import y %}", "{% from … import %} is not available"),
    "extends": ("{% extends 'base' %}", "{% extends %} is not available"),
    "macro": ("{% macro m() %}x{% endmacro %}", "{% macro %} is not available"),
    "division by zero": ("{{ 1/0 }}", "line 1: division by zero"),
    "modulo by zero": ("{{ 7 % 0 }}", "line 1: integer modulo by zero"),
    "text minus a number": ("{{ code - 1 }}", "line 1: unsupported operand type(s) for -"),
    "a power": ("{{ 10**10**10 }}", "line 1: the '**' operator is not available"),
    "squared twenty times": (
        "{% set n = 10 %}" + "{% set n = n * n %}" * 20 + "{{ n }}",
        "line 1: " + TOO_LARGE,
    ),
    "a 5000-digit literal": ("{{ " + "9" * 5000 + " }}", TOO_LARGE),
    "a 40-digit literal": (
        "{{ " + "9" * 40 + " }}",
        "line 1: " + TOO_LARGE,
    ),
    "500 nested parentheses": (
        "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
        TOO_DEEP,
    ),
    "500 nots": ("{{ " + "not " * 500 + "1 }}", TOO_DEEP),
    "a 500-term sum": ("{{ " + "1 + " * 500 + "1 }}", TOO_DEEP),
    "21 nested loops": ("{% for a in code %}" * 21 + "{% endfor %}" * 21, TOO_DEEP),
    "nested loops": (
        SIXTEEN + "{% for a in s %}" * 5 + "{% endfor %}" * 5,
        TOO_MUCH,
    ),
    "set blocks doubling": (
        "{% set a = code %}" + "{% set a %}{{ a }}{{ a }}{% endset %}" * 24,
        TOO_MUCH,
    ),
    "lists of lists": (
        "{% set a = code %}" + "{% set a = [a, a] %}" * 40 + "{{ a }}",
        TOO_MUCH,
    ),
    "a list doubled": (
        "{% set a = [code] %}" + "{% set a = a + a %}" * 24,
        TOO_MUCH,
    ),
    "a separator joined into itself": (
        "{% set s = code %}" + "{% set s = s|join(s) %}" * 6,
        TOO_MUCH,
    ),
    "slices of a big string": (
        "{% set a = code %}"
        + "{% set a = a ~ a %}" * 15
        + "{% set l = ["
        + ",".join(["a[1:]"] * 40)
        + "] %}",
        TOO_MUCH,
    ),
    "repetition": ("{{ code * 100000000 }}", "line 1: the '*' operator only works on numbers"),
    "%-formatting": ("{{ '%999999999s' % code }}", "line 1: the '%' operator only works on numbers"),
    "a method call": ("{{ code.center(1000000000) }}", "line 1: calling methods is not available"),
    "a long message": (
        SIXTEEN + "{% for a in s %}{% for b in s %}{{ s ~ s ~ s ~ s ~ s ~ s }}{% endfor %}{% endfor %}",
        "the message would be longer than 200,000 characters",
    ),
}


@pytest.mark.parametrize(("source", "expected"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_template_is_refused_quickly_with_a_reason(source: str, expected: str) -> None:
    started = time.monotonic()
    problems = check_template("Hi", source + LINK)
    assert time.monotonic() - started < 5
    assert len(problems) == 1 and expected in problems[0], problems
    with pytest.raises(TemplateProblem, match=r"\w"):
        render_template(source, SAMPLE_VARIABLES)


def test_ordinary_templates_still_work() -> None:
    source = (
        "{% for i in items %}{{ loop.index }}/{{ loop.length }} {{ i.title|upper }}"
        "{% if not loop.last %}, {% endif %}{% endfor %} | {{ items|join(', ', attribute='title') }}"
        " | {{ (code|lower)[:3] }} {{ 3 * 4 }} {{ 7 // 2 }} {{ 10 / 4 }} {{ 'a' + 'b' }} {{ 2 - 5 }}"
        " | {{ [first_name, merchant_name]|join(' at ') }} {{ first_name ~ '!' }}"
    )
    items = [{"title": f"Item {n}", "quantity": 1, "price": "€1.00"} for n in range(3)]
    assert render_template(source, {**SAMPLE_VARIABLES, "items": items}) == (
        "1/3 ITEM 0, 2/3 ITEM 1, 3/3 ITEM 2 | Item 0, Item 1, Item 2 | sam 12 3 2.5 ab -3"
        " | Alex at Sample Shop Alex!"
    )


def test_a_large_cart_renders_with_the_default_template() -> None:
    # The single-offer era's default body (kept by shops converted into journeys) lists the cart's lines.
    from campaigns.journey_upgrade import LEGACY_BODY

    items = [{"title": "T" * 150, "quantity": 2, "price": "€10.00"} for _ in range(500)]
    text = render_template(LEGACY_BODY, {**SAMPLE_VARIABLES, "items": items})
    assert text.count("T" * 150) == 500
