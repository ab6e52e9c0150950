"""The journey editor and its live preview refuse hostile templates: a 422 beside the locale, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.forms import form_fields

LINK = " {{ unsubscribe_url }}"
HOSTILE = {
    "doubling": (
        "{% set a = code %}" + "{% set a = a + a %}" * 24 + "{{ a|length }}" + LINK,
        "the template builds too much text or repeats too often",
    ),
    "include": ("{% include 'x' %}" + LINK, "{% include %} is not available"),
    "division by zero": ("{{ 1/0 }}" + LINK, "division by zero"),
    "huge integer": ("{{ " + "9" * 5000 + " }}" + LINK, "larger than 128 bits"),
    "500 nested parentheses": ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}" + LINK, "nested more than 20"),
}


BODY = "steps.0.messages.fr.body"


@pytest.fixture
def form(client: Any, signed_in: dict[str, Any]) -> dict[str, str]:
    return form_fields(client.get("/admin/journeys/cart").get_data(as_text=True), "journey-form")


@pytest.mark.parametrize("case", HOSTILE)
def test_saving_a_hostile_template_is_422_beside_the_body(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Callable[..., Any], case: str
) -> None:
    body, reason = HOSTILE[case]
    draft = {**form, BODY: body}
    page = "/admin/journeys/cart"
    response = post_form(page, {**draft, "action": "save"}, page=page)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    beside = html[html.index('id="err-steps-0-messages-fr"') :][:400]
    assert reason in beside
    with ctx.sessions() as session:
        assert rules.current(session, signed_in["id"])[0] == 0
    where = {"preview_step": "0", "preview_locale": "fr"}
    preview = post_form(f"{page}/preview", {**draft, **where}, page=page)
    assert preview.status_code == 422
    assert reason in preview.get_json()["errors"]["steps.0.messages.fr"][0]
