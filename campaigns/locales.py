"""Locales as BCP 47 language tags ("fr", "fr-CA", "en"): normalised, and chosen for a customer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from babel import Locale, UnknownLocaleError

T = TypeVar("T")
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


def normalize_locale(value: str | None) -> str | None:
    """A language tag in its canonical case ("fr_ca" and "FR-CA" are "fr-CA"), or None when it is not one.

    Stores send "fr", "fr-FR", "fr_FR" (WordPress) or "fr-FR.UTF-8"-like values; anything after the region
    (encoding, variants) is dropped.
    """
    if not value:
        return None
    head = value.strip().split(".")[0].split("@")[0]
    match = _TAG.match(head)
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def language_of(tag: str) -> str:
    """The language subtag: "fr-CA" is "fr"."""
    return tag.split("-", 1)[0]


def choose_locale(available: Iterable[str], *wanted: str | None) -> str | None:
    """The first available tag for the first wanted locale that has one (exact, then by language).

    `wanted` is the fallback chain: the customer's locale, then the shop's, then the merchant's setting.
    None when nothing matches (the caller then takes its first available message)."""
    offered = list(available)
    for value in wanted:
        tag = normalize_locale(value)
        if tag is None:
            continue
        if tag in offered:
            return tag
        language = language_of(tag)
        for candidate in offered:
            if language_of(candidate) == language:
                return candidate
    return None


def babel_locale(tag: str | None) -> Locale:
    """The CLDR locale for a tag ("fr-CA" is Canadian French), else its language's, else English."""
    normal = normalize_locale(tag) or "en"
    for candidate in (normal, language_of(normal), "en"):
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("CLDR has English")  # pragma: no cover


def choose_message(messages: Mapping[str, T], customer: str | None, shop: str | None) -> tuple[str, T]:
    """The message a customer gets and the locale to write it in: the customer's language, else the
    shop's, else the first given.

    The locale returned keeps the customer's region when the message is in the customer's language (a
    Canadian reader of the "fr" message gets "fr-CA" dates), else it is the message's own tag, so the
    footer, dates and money speak the message's language.
    """
    if not messages:
        raise ValueError("a step has at least one message")
    tag = choose_locale(messages, customer, shop) or next(iter(messages))
    wanted = normalize_locale(customer)
    if wanted is not None and language_of(wanted) == language_of(tag) and wanted != tag:
        return wanted, messages[tag]
    return tag, messages[tag]
