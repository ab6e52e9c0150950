"""The journeys pages: the editor's form round trip, errors beside their fields (422), the live preview,
adding, moving, switching and deleting journeys, each change a new rules version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from admin_ui import journeys_form
from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.forms import form_fields

Post = Callable[..., Any]
CART = "/admin/journeys/cart"


@pytest.fixture
def form(client: Any, signed_in: dict[str, Any]) -> dict[str, str]:
    """The cart journey's editor form as the page renders it."""
    return form_fields(client.get(CART).get_data(as_text=True), "journey-form")


def _live(ctx: Context, shop_id: int) -> tuple[int, dict[str, Any]]:
    with ctx.sessions() as session:
        return rules.current(session, shop_id)


def _journey(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(j for j in document["journeys"] if j["key"] == key)


def test_delays_show_in_their_largest_whole_unit() -> None:
    assert journeys_form.friendly_delay(3 * 24 * 60) == ("3", "days")
    assert journeys_form.friendly_delay(120) == ("2", "hours")
    assert journeys_form.friendly_delay(90) == ("90", "minutes")
    assert journeys_form.minutes(1.5, "hours") == 90
    assert journeys_form.minutes("soon", "hours") == "soon"  # the schema says "Not a valid integer."


def test_the_form_parses_steps_locales_offers_and_tiers() -> None:
    live = {"key": "x", "priority": 5, "audience": {"tiers": None, "segment": "vip"}}
    data = MultiDict(
        [
            ("name", " Winback "),
            ("trigger", "signup"),
            ("enabled", "1"),
            ("min_views", "3"),
            ("holdout_share", "0,2"),
            ("audience.tiers.hot", "1"),
            ("audience.tiers.warm", "1"),
            ("steps.0.after_value", "2"),
            ("steps.0.after_unit", "days"),
            ("steps.0.offer.kind", ""),
            ("steps.0.messages.fr.subject", "Bonjour"),
            ("steps.0.messages.fr.body", "a\r\nb"),
            ("steps.0.messages.en.subject", "Hi"),
            ("steps.0.messages.en.body", "x"),
            ("steps.0.messages.en.remove", "1"),
            ("steps.0.add_locale", "fr_ca"),
            ("steps.1.after_value", "3"),
            ("steps.1.after_unit", "days"),
            ("steps.1.remove", "1"),
            ("steps.2.after_value", "5"),
            ("steps.2.after_unit", "days"),
            ("steps.2.max_delay_hours", "12"),
            ("steps.2.offer.kind", "percentage"),
            ("steps.2.offer.value", "15"),
            ("steps.2.offer.expires_hours", "48"),
            ("steps.2.offer.minimum_order", ""),
            ("steps.2.messages.fr.subject", "Code"),
            ("steps.2.messages.fr.body", "{{ code }}"),
        ]
    )
    journey = journeys_form.journey_from_form(data, live)
    assert (journey["key"], journey["priority"], journey["name"]) == ("x", None, "Winback")
    assert journey["audience"] == {"tiers": ["warm", "hot"], "segment": "vip"}
    assert (journey["holdout_share"], journey["min_views"], journey["tier"]) == (0.2, 3, None)
    first, second = journey["steps"]
    assert first == {
        "after_minutes": 2 * 1440,
        "max_delay_hours": None,
        "offer": None,
        "messages": {"fr": {"subject": "Bonjour", "body": "a\nb"}, "fr-CA": {"subject": "", "body": ""}},
    }
    assert second["after_minutes"] == 5 * 1440 and second["max_delay_hours"] == 12
    assert second["offer"] == {"kind": "percentage", "value": 15, "expires_hours": 48}


def test_the_editor_round_trips_the_live_journey(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    assert form["steps.2.after_value"] == "3" and form["steps.2.after_unit"] == "days"
    response = post_form(CART, {**form, "action": "save"}, page=CART)
    assert "done=unchanged" in response.headers["Location"]
    assert _live(ctx, signed_in["id"])[0] == 0


def test_saving_a_step_writes_a_new_version(
    client: Any, ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    edit = {"steps.0.after_value": "2", "steps.0.after_unit": "hours", "note": "sooner"}
    edit |= {"steps.0.messages.fr.subject": "{{ merchant_name }} garde votre panier"}
    edit |= {"steps.2.offer.value": "12", "enabled": "", "priority": "55"}
    response = post_form(CART, {**form, **edit, "action": "save"}, page=CART)
    assert response.status_code == 302 and "done=saved" in response.headers["Location"]
    version, document = _live(ctx, signed_in["id"])
    cart = _journey(document, "cart")
    assert version == 1 and (cart["enabled"], cart["priority"]) == (False, 55)
    assert cart["steps"][0]["after_minutes"] == 120
    assert cart["steps"][0]["messages"]["fr"]["subject"] == "{{ merchant_name }} garde votre panier"
    assert cart["steps"][2]["offer"]["value"] == 12
    assert "Saved as version 1." in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "error_id", "message"),
    [
        ("steps.0.messages.fr.subject", "Hi {{ first_name ", "err-steps-0-messages-fr", "line 1"),
        ("steps.1.messages.en.body", "ok\n{% if %}", "err-steps-1-messages-en", "line 2"),
        ("steps.2.offer.value", "150", "err-steps-2-offer-value", "between 1 and 100"),
        ("steps.0.after_value", "lots", "err-steps-0-after_minutes", "Not a valid integer."),
        ("steps.1.after_value", "10", "err-steps", "later than the one before it"),
        ("holdout_share", "0.9", "err-holdout_share", "0.5"),
        ("priority", "101", "err-priority", "less than or equal to 100"),
        ("trigger", "tier_entered", "err-tier", "Say which tier"),
    ],
)
def test_errors_show_beside_their_field(
    ctx: Context,
    signed_in: dict[str, Any],
    form: dict[str, str],
    post_form: Post,
    field: str,
    value: str,
    error_id: str,
    message: str,
) -> None:
    response = post_form(CART, {**form, field: value, "action": "save"}, page=CART)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    beside = html[html.index(f'id="{error_id}"') :][:400]
    assert message in beside and "Nothing was saved." in html
    assert _live(ctx, signed_in["id"])[0] == 0


def test_an_invalid_template_names_its_locale_and_line(
    signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    broken = {**form, "steps.1.messages.en.body": "Hello\n\n{{ first_name | nope }}", "action": "save"}
    html = post_form(CART, broken, page=CART).get_data(as_text=True)
    beside = html[html.index('id="err-steps-1-messages-en"') :][:300]
    assert "body: line 3" in beside and "nope" in beside
    assert 'aria-describedby="err-steps-1-messages-en"' in html


def test_adding_a_locale_or_a_step_shows_the_form_again_without_saving(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    html = post_form(CART, {**form, "steps.0.add_locale": "pt", "action": "refresh"}, page=CART)
    fields = form_fields(html.get_data(as_text=True), "journey-form")
    assert fields["steps.0.messages.pt.subject"] == "" and "steps.1.messages.pt.subject" not in fields
    added = post_form(CART, {**form, "action": "add_step"}, page=CART).get_data(as_text=True)
    fields = form_fields(added, "journey-form")
    assert (fields["steps.3.after_value"], fields["steps.3.after_unit"]) == ("4", "days")
    assert _live(ctx, signed_in["id"])[0] == 0
    saved = post_form(CART, {**fields, "steps.0.messages.en.remove": "1", "action": "save"}, page=CART)
    assert saved.status_code == 422  # the new step's messages are still blank
    html = saved.get_data(as_text=True)
    assert "Length must be between 1 and 500." in html[html.index('id="err-steps-3-messages-fr"') :][:300]


def test_the_preview_renders_one_locale_of_the_draft_as_text(
    signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    draft = {**form, "steps.2.messages.fr.subject": "<b>{{ first_name }}</b> : {{ discount }}"}
    draft |= {"steps.2.offer.value": "25", "preview_step": "2", "preview_locale": "fr"}
    response = post_form(f"{CART}/preview", draft, page=CART)
    assert response.status_code == 200
    data = response.get_json()
    # the French sample customer; CLDR's French percent (a no-break space); inserted with textContent
    assert data["subject"] == "<b>Camille</b> : 25\u00a0%"
    assert "RL7KQ2M9XW4P" in data["text"] and "25\u00a0%" in data["text"]
    broken = post_form(f"{CART}/preview", {**draft, "steps.2.messages.fr.body": "{% for %}"}, page=CART)
    assert broken.status_code == 422
    assert broken.get_json()["errors"]["steps.2.messages.fr"][0].startswith("fr — body: line 1")


def test_add_move_switch_and_delete_journeys(
    client: Any, ctx: Context, signed_in: dict[str, Any], post_form: Post
) -> None:
    page = "/admin/journeys"
    added = post_form(page, {"key": "winback", "trigger": "signup"}, page=page)
    assert added.status_code == 302 and "/admin/journeys/winback" in added.headers["Location"]
    keys = lambda: [j["key"] for j in _live(ctx, signed_in["id"])[1]["journeys"]]  # noqa: E731
    assert keys() == ["cart-hot", "cart", "hot-lead", "welcome", "browse", "winback"]
    assert _journey(_live(ctx, signed_in["id"])[1], "winback")["enabled"] is False
    post_form(f"{page}/winback/move", {"direction": "up"}, page=page)
    post_form(f"{page}/cart/move", {"direction": "up"}, page=page)
    assert keys() == ["cart", "cart-hot", "hot-lead", "welcome", "winback", "browse"]
    post_form(f"{page}/welcome/toggle", {"enabled": "0"}, page=page)
    assert _journey(_live(ctx, signed_in["id"])[1], "welcome")["enabled"] is False
    assert post_form(f"{page}/browse/delete", {"confirm": "nope"}, page=page).status_code == 400
    deleted = post_form(f"{page}/browse/delete", {"confirm": "browse"}, page=page)
    assert "done=deleted" in deleted.headers["Location"] and "browse" not in keys()
    assert _live(ctx, signed_in["id"])[0] == 5
    assert post_form(f"{page}/nothing/toggle", {"enabled": "1"}, page=page).status_code == 404
    assert client.get(f"{page}/nothing").status_code == 404


def test_a_new_journey_with_a_bad_key_is_refused_beside_the_field(
    ctx: Context, signed_in: dict[str, Any], post_form: Post
) -> None:
    for key, message in (("Bad Key", "lower-case letters"), ("cart", "exists already")):
        response = post_form("/admin/journeys", {"key": key, "trigger": "signup"}, page="/admin/journeys")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html[html.index('id="err-key"') :][:300]
    assert _live(ctx, signed_in["id"])[0] == 0


def test_the_page_escapes_what_it_shows(
    client: Any, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    hostile = {**form, "name": '"><script>alert(1)</script>', "action": "refresh"}
    html = post_form(CART, hostile, page=CART).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
