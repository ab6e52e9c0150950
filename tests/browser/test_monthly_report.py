"""The monthly report in a real browser, French and English, at phone and desktop widths: no horizontal
scroll, the charts' bars as wide as their shares, the button to the overview visible; screenshots kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_email_layout import WIDTHS, save_shot
from tests.unit.campaigns.test_monthly_report import figures, render

pytestmark = pytest.mark.browser


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    """Open a report's HTML at a width, with no network at all (the report loads nothing)."""
    contexts: list[Any] = []

    def open_at(html: str, width: int) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.route("**/*", lambda route: route.abort())
        page.set_content(html, wait_until="load")
        return page

    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_report_reads_at_phone_and_desktop_widths(
    open_report: Any, tmp_path: Path, locale: str, width: int
) -> None:
    report = render(figures(), locale)
    page = open_report(report.html, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no horizontal scroll
    assert page.locator("h1").inner_text().startswith("Votre rapport" if locale == "fr" else "Your Relance")
    # The score bands' bars: 5 % and 50 % of the same track, so the second is about ten times the first.
    bars = page.locator("td[style*='height:12px']").evaluate_all("cells => cells.map(c => c.offsetWidth)")
    assert len(bars) == 5  # three tiers, two score bands
    low, high = bars[3], bars[4]
    assert 7 <= high / max(low, 1) <= 13
    button = page.get_by_role("link")
    assert button.is_visible() and button.get_attribute("href") == "https://relance.example/admin/"
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    save_shot(page, tmp_path, f"monthly-report-{locale}-{width}")
