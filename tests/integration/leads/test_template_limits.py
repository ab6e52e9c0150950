"""PUT /api/v1/rules refuses templates that would cost memory, time or a 500, under the template's field."""

from __future__ import annotations

import tracemalloc

import pytest
import sqlalchemy as sa

from bridge.db.models import Ruleset
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


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_template_is_422_under_its_field_and_nothing_is_saved(ctx, client, shopify_shop, case):
    body, reason = HOSTILE[case]
    assert len(DOUBLING) == 510
    tracemalloc.start()
    try:
        answer = client.put(
            "/api/v1/rules",
            json={"campaign": {"email": {"body": body}}},
            headers=bearer(shopify_shop["api_key"]),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == ["campaign.email.body"]
    assert reason in answer.json["errors"]["campaign.email.body"][0]
    assert peak < 64 * 2**20
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ruleset)) == 0


def test_the_subject_is_checked_the_same_way(client, shopify_shop):
    answer = client.put(
        "/api/v1/rules",
        json={"campaign": {"email": {"subject": "{{ 1/0 }}"}}},
        headers=bearer(shopify_shop["api_key"]),
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {"campaign.email.subject": ["line 1: division by zero"]}
