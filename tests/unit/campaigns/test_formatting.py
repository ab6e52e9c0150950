"""Money, discounts, percentages and expiry times as CLDR writes them, in the reader's language and zone."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from babel import Locale

from campaigns.formatting import format_discount, format_expiry, format_money, format_percent

NBSP, NNBSP = "\u00a0", "\u202f"
EXPIRES = datetime(2026, 12, 5, 14, 43, tzinfo=UTC)  # 15:43 in Paris, a Saturday


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        (Decimal("1234.5"), "EUR", "fr", f"1{NNBSP}234,50{NBSP}€"),
        (Decimal("1234.5"), "EUR", "en", "€1,234.50"),
        (Decimal("1234.5"), "EUR", "de", f"1.234,50{NBSP}€"),
        (Decimal("1234.5"), "EUR", "nl", f"€{NBSP}1.234,50"),
        (Decimal("9.999"), "GBP", "en", "£10.00"),
        (Decimal(500), "JPY", "en", "¥500"),
        (Decimal("12.5"), "CAD", "fr-CA", f"12,50{NBSP}$"),
        (Decimal("12.5"), None, "fr", "12,50"),
        (Decimal("12.5"), "€", "en", "12.50"),  # not an ISO code: the number alone
    ],
)
def test_money_in_the_readers_locale(amount: Decimal, currency: str | None, locale: str, text: str) -> None:
    assert format_money(amount, currency, locale) == text


def test_old_callers_without_a_locale_get_english() -> None:
    assert format_money(Decimal(5), "USD") == "$5.00"
    assert format_discount("percentage", Decimal(10), "EUR") == "10%"
    assert format_expiry(EXPIRES, "Europe/Paris") == f"Saturday, December 5, 3:43{NNBSP}PM"


@pytest.mark.parametrize(
    ("kind", "value", "locale", "text"),
    [
        ("percentage", Decimal(10), "fr", f"10{NBSP}%"),
        ("percentage", Decimal("12.50"), "fr", f"12,5{NBSP}%"),
        ("percentage", Decimal(15), "en", "15%"),
        ("fixed_amount", Decimal(5), "fr", f"5,00{NBSP}€"),
        ("free_shipping", Decimal(0), "fr", "livraison offerte"),
        ("free_shipping", Decimal(0), "fr-CA", "livraison offerte"),
        ("free_shipping", Decimal(0), "en", "free shipping"),
        ("free_shipping", Decimal(0), "de", "kostenloser Versand"),
        ("free_shipping", Decimal(0), "es", "envío gratis"),
        ("free_shipping", Decimal(0), "it", "spedizione gratuita"),
        ("free_shipping", Decimal(0), "nl", "gratis verzending"),
        ("free_shipping", Decimal(0), "pt-BR", "free shipping"),
    ],
)
def test_discounts(kind: str, value: Decimal, locale: str, text: str) -> None:
    assert format_discount(kind, value, "EUR", locale=locale) == text


def test_percentages_keep_their_decimals() -> None:
    assert format_percent(Decimal("12.5"), "fr") == f"12,5{NBSP}%"
    assert format_percent(Decimal(3), "en") == "3%"


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("fr", "samedi 5 décembre, 15:43"),
        ("fr-CA", "samedi 5 décembre, 15 h 43"),
        ("en-GB", "Saturday 5 December, 15:43"),
        ("de", "Samstag, 5. Dezember, 15:43"),
        ("es", "sábado, 5 de diciembre, 15:43"),
        ("it", "sabato 5 dicembre 15:43"),  # Italian joins date and time without a comma (CLDR)
        ("nl", "zaterdag 5 december, 15:43"),
    ],
)
def test_an_expiry_is_a_long_date_with_the_weekday_and_month_in_words(locale: str, text: str) -> None:
    assert format_expiry(EXPIRES, "Europe/Paris", locale=locale) == text


@pytest.mark.parametrize("month", range(1, 13))
def test_month_names_come_from_cldr(month: int) -> None:
    expires = datetime(2027, month, 10, 12, 0, tzinfo=UTC)
    for locale in ("fr", "de", "es", "it", "nl"):
        name = Locale.parse(locale).months["format"]["wide"][month]
        assert name in format_expiry(expires, "Europe/Paris", locale=locale)


def test_the_expiry_is_in_the_customers_time_zone() -> None:
    assert format_expiry(EXPIRES, "America/New_York", locale="fr") == "samedi 5 décembre, 09:43"
    assert format_expiry(EXPIRES, "Pacific/Auckland", locale="fr") == "dimanche 6 décembre, 03:43"


@pytest.mark.parametrize("zone", ["", "Nowhere/Land", "../../etc/passwd", "Europe"])
def test_an_unknown_time_zone_falls_back_to_utc(zone: str) -> None:
    assert format_expiry(EXPIRES, zone, locale="fr") == "samedi 5 décembre, 14:43"


@pytest.mark.parametrize("locale", ["", "zz", "not a tag", "x-private"])
def test_an_unknown_locale_writes_english(locale: str) -> None:
    assert format_expiry(EXPIRES, "UTC", locale=locale) == f"Saturday, December 5, 2:43{NNBSP}PM"
    assert format_money(Decimal(2), "EUR", locale) == "€2.00"
