"""In a real browser: edit a journey step (delay, French subject) with its live preview, save a version,
see a broken template's locale and line, reorder journeys and switch one off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser


def field(page: Any, path: str) -> Any:
    """An editor field by its name (ids hold dots, so no CSS id selector)."""
    return page.locator(f'[id="{path}"]')


def test_edit_a_step_with_its_live_preview_and_save(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/journeys")
    page.get_by_role("link", name="Edit Panier abandonné", exact=True).click()
    assert page.get_by_role("heading", name="Panier abandonné", exact=True).is_visible()
    assert field(page, "steps.0.after_value").input_value() == "1"
    assert field(page, "steps.0.after_unit").input_value() == "hours"
    field(page, "steps.0.after_value").fill("45")
    field(page, "steps.0.after_unit").select_option("minutes")
    field(page, "steps.0.messages.fr.subject").fill("<b>{{ first_name }}</b>, votre panier vous attend")
    panel = page.locator('.preview[data-step="0"][data-locale="fr"]')
    panel.locator("[data-subject]").filter(has_text="<b>Camille</b>, votre panier vous attend").wait_for()
    assert panel.locator("b").count() == 0  # shown as text, never as HTML
    english = page.locator('.preview[data-step="0"][data-locale="en"] [data-subject]')
    assert "your cart is waiting" in english.inner_text()  # the other locale's panel is left alone
    tab.shot("journey-editor-preview-desktop")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Saved as version 1." in page.get_by_role("status").inner_text()
    assert "Rules version 1" in page.locator(".heading").inner_text()
    assert field(page, "steps.0.after_value").input_value() == "45"
    assert field(page, "steps.0.after_unit").input_value() == "minutes"
    saved = field(page, "steps.0.messages.fr.subject").input_value()
    assert saved == "<b>{{ first_name }}</b>, votre panier vous attend"
    assert tab.errors == []


def test_a_broken_template_names_its_locale_and_line(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/journeys/cart")
    field(page, "steps.1.messages.fr.body").fill("Bonjour,\n\n{{ first_name ")
    errors = page.locator('.preview[data-step="1"][data-locale="fr"] [data-errors]')
    errors.filter(has_text="fr — body: line 3").wait_for()
    tab.errors.clear()  # the preview's 422 answer is logged by the browser
    page.get_by_role("button", name="Save as a new version").click()
    beside = page.locator("#err-steps-1-messages-fr")
    assert "fr — body: line 3" in beside.inner_text()
    assert field(page, "steps.1.messages.fr.body").get_attribute("aria-invalid") == "true"
    assert "Nothing was saved." in page.get_by_role("alert").inner_text()
    beside.scroll_into_view_if_needed()
    tab.shot("journey-editor-error-desktop")
    page = tab.go("/admin/journeys")
    assert "Rules version 0" in page.locator(".heading").inner_text()
    assert tab.errors == []


def test_reorder_two_journeys_and_disable_one(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/journeys")
    titles = page.locator("section.journey h2 code")
    assert titles.all_inner_texts()[:2] == ["cart-hot", "cart"]
    page.get_by_role("button", name="Move Panier abandonné down", exact=True).click()
    assert "Saved as version 1." in page.get_by_role("status").inner_text()
    assert titles.all_inner_texts()[:3] == ["cart-hot", "hot-lead", "cart"]
    welcome = page.locator("#journey-welcome")
    assert welcome.locator("[data-state]").inner_text() == "on"
    welcome.get_by_role("button", name="Disable Bienvenue").click()
    assert "Saved as version 2." in page.get_by_role("status").inner_text()
    welcome = page.locator("#journey-welcome")
    assert welcome.locator("[data-state]").inner_text() == "off"
    assert welcome.get_by_role("button", name="Enable Bienvenue").is_visible()
    tab.shot("journeys-desktop")
    assert tab.errors == []
