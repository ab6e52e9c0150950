"""Every default journey's message, in every language we write, renders as a deliverable email."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from campaigns.email_sample import sample_context
from campaigns.email_strings import STRINGS
from campaigns.journey_defaults import default_journeys
from campaigns.journeys import Journey, StepMessage, load_journeys
from campaigns.messages import Brand, RenderedMessage, render_step_message
from campaigns.templating import message_problems

LANGUAGES = ("fr", "en", "de", "es", "it", "nl")
JOURNEYS = load_journeys(default_journeys())
CASES = [
    pytest.param(
        journey, index, tag, with_code, id=f"{journey.key}-{index}-{tag}-{'code' if with_code else 'none'}"
    )
    for journey in JOURNEYS
    for index, step in enumerate(journey.steps)
    for tag in LANGUAGES
    for with_code in ((True, False) if step.offer else (False,))
]
CDN = "https://cdn.shop.example"
BRAND = Brand(name="Atelier Lune", logo_url=f"{CDN}/logo.png", color="#0f766e")


class Resources(HTMLParser):
    """What an HTML part would fetch or run: images, links, scripts, forms, stylesheets, inline handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.refused: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found)
        elif tag == "a":
            self.links.append(found.get("href") or "")
        elif tag in ("script", "form", "link", "iframe", "object", "embed", "style", "input"):
            self.refused.append(tag)
        self.refused += [name for name in found if name.startswith("on") or name == "background"]


def render(journey: Journey, index: int, tag: str, with_code: bool) -> RenderedMessage:
    message = journey.steps[index].messages[tag]
    context = sample_context(tag, journey.trigger, with_code, brand=BRAND, image_base=CDN)
    return render_step_message(message, context)


def test_every_default_step_speaks_six_languages() -> None:
    for journey in JOURNEYS:
        for step in journey.steps:
            assert sorted(step.messages) == sorted(LANGUAGES)
            for message in step.messages.values():
                assert message_problems(message.subject, message.body) == []
    assert sorted(STRINGS) == sorted(LANGUAGES)


@pytest.mark.parametrize(("journey", "index", "tag", "with_code"), CASES)
def test_a_default_message_is_deliverable(journey: Journey, index: int, tag: str, with_code: bool) -> None:
    rendered = render(journey, index, tag, with_code)
    assert rendered.subject and "{" not in rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "{{" not in rendered.text and "{%" not in rendered.text
    assert len(rendered.html.encode()) < 100_000
    unsubscribe = "https://relance.example/u/example"
    assert unsubscribe in rendered.text and f'href="{unsubscribe}"' in rendered.html

    parser = Resources()
    parser.feed(rendered.html)
    assert parser.refused == []
    allowed = {
        f"{CDN}/logo.png",
        f"{CDN}/shirt.png",
        f"{CDN}/tote.png",
        "https://relance.example/t/o/example.gif",
    }
    assert {image["src"] for image in parser.images} <= allowed
    assert all(
        image.get("alt") is not None and image.get("width") and image.get("height") for image in parser.images
    )
    assert not re.search(r"url\(|@import|src=\"http:", rendered.html)
    assert "max-width:600px" in rendered.html


@pytest.mark.parametrize(("journey", "index", "tag", "with_code"), CASES)
def test_a_default_message_reads_well(journey: Journey, index: int, tag: str, with_code: bool) -> None:
    rendered = render(journey, index, tag, with_code)
    body = rendered.text.split("\n\n")
    assert re.fullmatch(r"\w+ \w+,", body[0])  # "Bonjour Camille,"
    assert not re.search(r" [,.]|\n{3,}|  ", rendered.text.replace("\u00a0", "_"))
    assert ("RL7KQ2M9XW4P" in rendered.text) is with_code
    if with_code:  # the body itself names the discount and the expiry
        assert "10" in body[1] or "10" in body[2]
    if journey.trigger == "signup":
        assert 'width="72"' not in rendered.html


@pytest.mark.parametrize("tag", LANGUAGES)
def test_without_a_first_name_the_greeting_has_no_stray_space(tag: str) -> None:
    message = JOURNEYS[1].steps[0].messages[tag]
    context = sample_context(tag, "cart_abandoned", False)
    text = render_step_message(message, context.__class__(**{**context.__dict__, "first_name": None})).text
    assert re.match(r"\w+,\n\n", text)


def test_a_code_step_names_its_code_and_expiry_in_the_body() -> None:
    cart = next(journey for journey in JOURNEYS if journey.key == "cart")
    fr = render_step_message(cart.steps[2].messages["fr"], sample_context("fr", "cart_abandoned", True)).text
    expected = (
        "10\u00a0% de remise sur votre commande, valable jusqu\u2019au samedi 5 décembre, 15:00.\n\nÀ très"
    )
    assert expected in fr
    de = render_step_message(cart.steps[2].messages["de"], sample_context("de", "cart_abandoned", True)).text
    assert "gültig bis Samstag, 5. Dezember, 15:00.\n\nBis bald," in de


def test_a_merchant_message_is_only_a_subject_and_body() -> None:
    message = StepMessage("Bonjour", "Texte <b>gras</b>")
    html = render_step_message(message, sample_context("fr", "cart_abandoned", False)).html
    assert "Texte &lt;b&gt;gras&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("trigger", "items", "viewed"),
    [("cart_abandoned", 2, 0), ("browse_abandoned", 0, 2), ("tier_entered", 0, 2), ("signup", 0, 0)],
)
def test_sample_context_fits_the_trigger(trigger: str, items: int, viewed: int) -> None:
    context = sample_context("de-AT", trigger, with_code=True)
    assert (len(context.items), len(context.viewed)) == (items, viewed)
    assert context.locale == "de-AT" and context.first_name == "Lena" and context.trigger == trigger
    assert context.code and context.discount == "10\u00a0%" and context.expires_at is not None
    reminder = sample_context("fr", trigger, with_code=False)
    assert (reminder.code, reminder.discount, reminder.expires_at) == (None, None, None)
    assert all(item.image_url is None for item in context.items + context.viewed)  # nothing to fetch
