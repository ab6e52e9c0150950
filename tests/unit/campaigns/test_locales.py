"""Locales are BCP 47 tags; a customer gets their language's message, else the shop's, else the first."""

import pytest

from campaigns.journeys import StepMessage
from campaigns.locales import babel_locale, choose_locale, choose_message, normalize_locale

FR, EN, DE = StepMessage("fr", "fr"), StepMessage("en", "en"), StepMessage("de", "de")


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("fr", "fr"),
        ("FR-ca", "fr-CA"),
        ("fr_FR", "fr-FR"),
        ("fr_FR.UTF-8", "fr-FR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("", None),
        (None, None),
        ("français", None),
        ("f", None),
    ],
)
def test_normalize_locale(value: str | None, tag: str | None) -> None:
    assert normalize_locale(value) == tag


def test_a_regional_tag_falls_back_to_its_language() -> None:
    assert choose_locale(["fr", "en"], "fr-CA") == "fr"
    assert choose_locale(["fr-CA", "en"], "fr-FR") == "fr-CA"
    assert choose_locale(["fr", "fr-CA"], "fr-CA") == "fr-CA"
    assert choose_locale(["fr", "en"], "de-AT", "en-GB") == "en"
    assert choose_locale(["fr", "en"], "de", None) is None


def test_a_customer_gets_their_message_else_the_shops_else_the_first() -> None:
    messages = {"fr": FR, "en": EN}
    assert choose_message(messages, "en-US", "fr") == ("en-US", EN)
    assert choose_message(messages, "de", "fr-FR") == ("fr", FR)
    assert choose_message({"en": EN, "de": DE}, "it", "fr") == ("en", EN)
    assert choose_message(messages, None, None) == ("fr", FR)


def test_the_locale_keeps_the_customers_region_only_in_the_customers_language() -> None:
    assert choose_message({"fr": FR, "en": EN}, "fr_CA", "en")[0] == "fr-CA"
    assert choose_message({"fr": FR, "en": EN}, "de-CH", "fr")[0] == "fr"  # the message's own tag


def test_a_step_without_messages_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        choose_message({}, "fr", "fr")


@pytest.mark.parametrize(
    ("tag", "cldr"),
    [("fr-CA", "fr_CA"), ("fr", "fr"), ("de-XX", "de"), ("zz", "en"), (None, "en"), ("bogus tag", "en")],
)
def test_babel_locale_falls_back_to_the_language_then_english(tag: str | None, cldr: str) -> None:
    assert str(babel_locale(tag)) == cldr
