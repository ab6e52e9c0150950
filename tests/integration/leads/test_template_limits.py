"""PUT /api/v1/rules refuses journey step templates that would cost memory, time or a 500, under the step's
locale, naming the part (subject or body)."""

from __future__ import annotations

import tracemalloc

import pytest
import sqlalchemy as sa

from bridge.db.models import Ruleset
from campaigns import default_journeys
from tests.integration.leads.conftest import bearer

LINK = " {{ unsubscribe_url }}"
DOUBLING = "{% set a = code %}" + "{% set a = a ~ a %}" * 24 + "{{ a|length }}" + LINK  # 510 characters
HOSTILE = {
    "doubling": (DOUBLING, "line 1: the template builds too much text or repeats too often"),
    "include": ("{% include 'x' %}" + LINK, "line 1: {% include %} is not available in message templates"),
    "division by zero": ("{{ 1/0 }}" + LINK, "line 1: division by zero"),
    "huge integer": (
        "{% set n = 10 %}" + "{% set n = n * n %}" * 20 + "{{ n }}" + LINK,
        "line 1: a number in the template is larger than 128 bits",
    ),
    "500 nested parentheses": ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}" + LINK, "nested more than 20"),
}


FIELD = "journeys.1.steps.2.messages.en"  # the default cart journey's code step, in English


def journeys_saying(subject: str, body: str) -> list:
    """The default journeys, the cart journey's code step saying this in English."""
    journeys = default_journeys()
    journeys[1]["steps"][2]["messages"]["en"] = {"subject": subject, "body": body}
    return journeys


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_template_is_422_under_its_field_and_nothing_is_saved(ctx, client, shopify_shop, case):
    body, reason = HOSTILE[case]
    assert len(DOUBLING) == 510
    tracemalloc.start()
    try:
        answer = client.put(
            "/api/v1/rules",
            json={"journeys": journeys_saying("Hi", body)},
            headers=bearer(shopify_shop["api_key"]),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == [FIELD]
    [problem] = answer.json["errors"][FIELD]
    assert problem.startswith("body: ") and reason in problem
    assert peak < 64 * 2**20
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ruleset)) == 0


def test_the_subject_is_checked_the_same_way(client, shopify_shop):
    answer = client.put(
        "/api/v1/rules",
        json={"journeys": journeys_saying("{{ 1/0 }}", "Hello")},
        headers=bearer(shopify_shop["api_key"]),
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {FIELD: ["subject: line 1: division by zero"]}
