"""The designed email in a real browser: it holds at 360 px and 1024 px, its button shows, its images carry
alt text, its code block holds exactly the code; screenshots for a look by eye."""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaigns.email_sample import sample_context
from campaigns.email_texts_cart import CART_1, CART_CODE
from campaigns.email_texts_lead import HOT_LEAD
from campaigns.journeys import StepMessage
from campaigns.messages import Brand, RenderedMessage, render_step_message

pytestmark = pytest.mark.browser

CDN = "https://cdn.shop.example"
BRAND = Brand(
    name="Atelier Lune", logo_url=f"{CDN}/logo.png", color="#7c3aed", logo_width=160, logo_height=48
)
WIDTHS = (360, 1024)
# A copy of every screenshot where the team can open it (the system's temporary folder).
SHARED_SHOTS = Path(tempfile.gettempdir()) / "relance-shots"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-colour PNG, made here so the test needs no image files and no network."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


IMAGES = {
    f"{CDN}/logo.png": png(320, 96, (124, 58, 237)),
    f"{CDN}/shirt.png": png(144, 144, (125, 170, 220)),
    f"{CDN}/tote.png": png(144, 144, (214, 196, 160)),
}


def rendered(
    locale: str, steps: dict[str, dict[str, str]], with_code: bool, trigger: str = "cart_abandoned"
) -> RenderedMessage:
    context = sample_context(locale, trigger, with_code, brand=BRAND, image_base=CDN)
    return render_step_message(StepMessage(**steps[locale]), context)


CODE = "RL7KQ2M9XW4P"
# name: (message, its code or None, the button's address)
EMAILS = {
    "fr-cart-code": (rendered("fr", CART_CODE, with_code=True), CODE, "https://shop.example/cart"),
    "en-cart-code": (rendered("en", CART_CODE, with_code=True), CODE, "https://shop.example/cart"),
    "fr-reminder": (rendered("fr", CART_1, with_code=False), None, "https://shop.example/cart"),
    "de-hot-lead-code": (
        rendered("de", HOT_LEAD, with_code=True, trigger="tier_entered"),
        CODE,
        "https://shop.example",
    ),
}


@pytest.fixture
def open_email(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """Open an email's HTML at a width; the sample images are served here, every other request fails."""
    contexts: list[Any] = []
    requested: list[str] = []

    def serve(route: Any) -> None:
        url = route.request.url
        requested.append(url)
        if url in IMAGES:
            route.fulfill(status=200, content_type="image/png", body=IMAGES[url])
        else:
            route.fulfill(status=204, body=b"")  # the open pixel: answered, counted

    def open_at(html: str, width: int) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.route("**/*", serve)
        page.set_content(html, wait_until="load")
        return page

    open_at.requested = requested  # type: ignore[attr-defined]
    yield open_at
    for context in contexts:
        context.close()


def save_shot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot under the test's tmp folder, copied to the shared folder."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHARED_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHARED_SHOTS / path.name)
    return path


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(EMAILS))
def test_the_email_holds_at_phone_and_desktop_widths(
    open_email: Any, tmp_path: Path, name: str, width: int
) -> None:
    message, code, button_url = EMAILS[name]
    page = open_email(message.html, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no horizontal scroll
    card = page.locator("table[role=presentation] table[role=presentation]").first.bounding_box()
    assert card["width"] <= 600 and card["x"] >= 0 and card["x"] + card["width"] <= width

    button = page.locator("a.button")
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 40
    assert button.get_attribute("href") == button_url

    images = page.locator("img")
    for index in range(images.count()):
        image = images.nth(index)
        assert image.get_attribute("alt") is not None
        assert image.get_attribute("width") and image.get_attribute("height")
    titles = page.locator("img[width='72']").evaluate_all(
        "images => images.map(i => [i.alt, i.naturalWidth])"
    )
    assert [alt for alt, _ in titles] == [row.title for row in sample_items(name)]
    assert all(natural == 144 for _, natural in titles)  # the images did load

    if code is None:
        assert page.locator(".code").count() == 0
    else:
        assert page.locator(".code").inner_text() == code
        block = page.locator(".code").bounding_box()
        assert block["x"] >= 0 and block["x"] + block["width"] <= width
    shot = save_shot(page, tmp_path, f"email-{name}-{width}")
    assert shot.stat().st_size > 5_000


def sample_items(name: str) -> tuple[Any, ...]:
    """The products the email shows: the cart's, or those the hot lead viewed."""
    context = sample_context(name[:2], "tier_entered" if "lead" in name else "cart_abandoned", False)
    return context.items or context.viewed


def test_only_the_pixel_the_logo_and_product_images_are_fetched(open_email: Any) -> None:
    message, _, _ = EMAILS["fr-cart-code"]
    open_email(message.html, 360)
    requested = set(open_email.requested)
    assert requested == {*IMAGES, "https://relance.example/t/o/example.gif"}
