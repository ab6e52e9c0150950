"""The rules page edits the merchant's own activity kinds: added, renamed, removed, refused by row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.forms import form_fields

Post = Callable[..., Any]


@pytest.fixture
def form(client: Any, signed_in: dict[str, Any]) -> dict[str, str]:
    return form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")


def _live(ctx: Context, shop_id: int) -> tuple[int, dict[str, Any]]:
    with ctx.sessions() as session:
        return rules.current(session, shop_id)


def test_a_kind_is_added_edited_then_removed(
    client: Any, ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    assert form["scoring.custom_kinds.0.key"] == ""  # the blank row for adding one
    added = {"scoring.custom_kinds.0.key": "webinar_attended", "scoring.custom_kinds.0.label": "Webinar"}
    added["scoring.custom_kinds.0.points"] = "15"
    response = post_form("/admin/rules", {**form, **added, "action": "save"}, page="/admin/rules")
    assert response.status_code == 302, response.get_data(as_text=True)
    version, document = _live(ctx, signed_in["id"])
    assert version == 1
    assert document["scoring"]["custom_kinds"] == [
        {"key": "webinar_attended", "label": "Webinar", "points": 15}
    ]
    page = form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")
    assert (page["scoring.custom_kinds.0.key"], page["scoring.custom_kinds.1.key"]) == (
        "webinar_attended",
        "",
    )
    renamed = {**page, "scoring.custom_kinds.0.label": "Attended a webinar", "action": "save"}
    post_form("/admin/rules", renamed, page="/admin/rules")
    assert _live(ctx, signed_in["id"])[1]["scoring"]["custom_kinds"][0]["label"] == "Attended a webinar"
    removed = {**page, "scoring.custom_kinds.0.remove": "1", "action": "save"}
    post_form("/admin/rules", removed, page="/admin/rules")
    version, document = _live(ctx, signed_in["id"])
    assert version == 3 and "custom_kinds" not in document["scoring"]


@pytest.mark.parametrize(
    ("key", "points", "field", "message"),
    [
        ("product_view", "5", "key", "built-in activity kind"),
        ("Webinar!", "5", "key", "lower-case letters"),
        ("webinar", "lots", "points", "Not a valid number."),
    ],
)
def test_a_bad_kind_is_refused_beside_its_row(
    ctx: Context,
    signed_in: dict[str, Any],
    form: dict[str, str],
    post_form: Post,
    key: str,
    points: str,
    field: str,
    message: str,
) -> None:
    row = {"scoring.custom_kinds.0.key": key, "scoring.custom_kinds.0.label": "A kind"}
    row["scoring.custom_kinds.0.points"] = points
    response = post_form("/admin/rules", {**form, **row, "action": "save"}, page="/admin/rules")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error_id = f"err-scoring-custom_kinds-0-{field}"
    assert f'aria-describedby="{error_id}"' in html
    assert message in html[html.index(f'id="{error_id}"') :][:400]
    assert _live(ctx, signed_in["id"])[0] == 0
