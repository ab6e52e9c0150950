"""In a real browser: sign in, rules (errors, simulate, save, restore), a lead, replay, screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/admin/",
    "rules": "/admin/rules",
    "history": "/admin/rules/history",
    "journeys": "/admin/journeys",
    "journey": "/admin/journeys/cart",
    "leads": "/admin/leads",
    "lead": "/admin/leads/{lead}",
    "carts": "/admin/carts",
    "offers": "/admin/offers",
    "events": "/admin/events",
    "health": "/admin/health",
}


def test_sign_in_shows_the_overview(tab: Pages, merchant: dict[str, Any]) -> None:
    page = tab.sign_in(merchant["email"], "wrong password!!")
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    tab.errors.clear()  # the browser logs the 401 of the refused sign-in
    page = tab.sign_in(merchant["email"])
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.locator(".card.stat", has_text="Carts abandoned").locator(".big").inner_text() == "1"
    assert "Carts in the period" in page.locator("svg.chart > title").all_text_contents()
    tab.shot("login-overview-desktop")
    assert tab.errors == []


def test_a_rule_error_shows_beside_its_field(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/rules")
    page.get_by_label("Hot from (points)").fill("30")
    page.get_by_role("button", name="Save as a new version").click()
    error = page.locator("#err-scoring-tiers-hot")
    assert error.inner_text() == "Must be greater than warm."
    field = page.locator(".field", has=page.get_by_label("Hot from (points)"))
    assert field.locator(".error").inner_text() == "Must be greater than warm."
    assert page.get_by_label("Hot from (points)").get_attribute("aria-invalid") == "true"
    assert "Nothing was saved." in page.get_by_role("alert").inner_text()
    error.scroll_into_view_if_needed()
    tab.shot("rules-validation-error-desktop")
    assert tab.errors == []


def test_simulate_then_save_then_restore(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/rules")
    page.get_by_label("Warm from (points)").fill("20")
    page.get_by_label("Hot from (points)").fill("30")
    page.get_by_role("button", name="Simulate").click()
    result = page.locator(".simulation")
    assert "What these rules would do" in result.inner_text()
    assert result.locator("tbody tr", has_text="warm").locator("td").nth(1).inner_text() == "1"
    tab.shot("rules-simulation-desktop")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Saved as version 1" in page.get_by_role("status").inner_text()
    page.get_by_label("Hot from (points)").fill("90")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Saved as version 2" in page.get_by_role("status").inner_text()
    page = tab.go("/admin/rules/history")
    tab.shot("rules-history-desktop")
    page.get_by_role("button", name="Restore version 1").click()
    assert "Version 1 is live again, as version 3" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Hot from (points)").input_value() == "30"
    assert tab.errors == []


def test_criteria_rows(tab: Pages, merchant: dict[str, Any]) -> None:
    # The email's live preview moved to the journey editor (tests/browser/test_journeys.py).
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/rules")
    rows = page.locator("#criteria fieldset.criterion")
    before = rows.count()
    page.get_by_role("button", name="Add a criterion").click()
    assert rows.count() == before + 1
    assert tab.errors == []


def test_a_lead_shows_why_it_scores(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/leads")
    page.get_by_label("Email (or its beginning)").fill("ana")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="ana@example.com").click()
    row = page.locator("#breakdown tbody tr", has_text="Added to cart")
    assert [c.strip() for c in row.locator("td").all_inner_texts()] == ["Added to cart", "2", "30.0", "29.3"]
    tab.shot("lead-breakdown-desktop")
    assert tab.errors == []


def test_replay_a_failed_event(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/events?status=failed")
    event = page.locator(f"#event-{merchant['event']}")
    assert "token is missing" in event.inner_text()
    event.get_by_role("button", name="Replay").click()
    assert f"Event {merchant['event']} was queued again" in page.get_by_role("status").inner_text()
    page = tab.go("/admin/events")
    assert page.locator(f"#event-{merchant['event']} .badge").inner_text() == "pending"
    assert tab.errors == []


def test_a_new_api_key_is_shown_once(tab: Pages, merchant: dict[str, Any]) -> None:
    tab.sign_in(merchant["email"])
    page = tab.go("/admin/health")
    page.get_by_role("button", name="New API key").click()
    key = page.locator("#new-api-key").inner_text()
    assert key.startswith("rl_") and "not shown again" in page.get_by_role("status").inner_text()
    tab.shot("health-new-api-key")
    page = tab.go("/admin/health")
    assert page.locator("#new-api-key").count() == 0 and key not in page.content()
    assert tab.errors == []


@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_every_page_fits_and_is_saved_as_a_screenshot(
    request: Any, size: str, merchant: dict[str, Any]
) -> None:
    tab: Pages = request.getfixturevalue("tab" if size == "desktop" else "phone")
    tab.sign_in(merchant["email"])
    for name, path in PAGES.items():
        page = tab.go(path.format(**merchant))
        assert page.locator("h1").count() == 1, name
        if size == "mobile":  # nothing wider than the phone: wide tables scroll inside their own box
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
        tab.shot(f"{name}-{size}")
    tab.go("/admin/leads/{lead}/erase".format(**merchant))
    tab.shot(f"erase-confirmation-{size}")
    assert tab.errors == []
