"""The monthly report's rendering (pure): the headline in the merchant's language with its interval or
what it lacks, the journeys' table, the ROI sentence, the charts as table cells, every merchant word
escaped."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns.monthly_report import render_report, report_language

NBSP, NNBSP = "\u00a0", "\u202f"


def figures(**earned: Any) -> dict[str, Any]:
    headline = {
        "value": "4000.00",
        "low": "1500.50",
        "high": "6500.00",
        "currency": "EUR",
        "treated_runs": 400,
        "holdout_runs": 200,
        "holdout_orders": 25,
        "per_1000_abandoned_carts": {"value": "10000.00"},
        "journeys": {
            "cart": {
                "value": "4000.00",
                "low": "1500.50",
                "high": "6500.00",
                "treated_runs": 400,
                "holdout_runs": 200,
            }
        },
        **earned,
    }
    return {
        "incremental_net_revenue": headline,
        "economics": {
            "return_on_discounts": {
                "margin_rate": "0.5",
                "discount_cost": "1000.00",
                "incremental_margin": {"value": "1500.00"},
                "roi": {"value": 1.5},
            },
            "new_leads": {"total": 120, "customers": 30, "conversion": {"rate": 0.25}},
            "tiers": {"cold": {"rate": 0.1}, "warm": {"rate": 0.3}, "hot": {"rate": 0.6}},
        },
        "calibration": {
            "bands": [
                {"low": 0, "high": 9, "rate": 0.05, "leads": 40},
                {"low": 90, "high": 100, "rate": 0.5, "leads": 10},
            ]
        },
    }


def render(found: dict[str, Any], locale: str, shop: str = "Atelier Lune") -> Any:
    return render_report(
        found,
        shop=shop,
        month=date(2026, 10, 1),
        locale=locale,
        journey_names={"cart": "Panier abandonné"},
        admin_url="https://relance.example/admin/",
        color="#7c3aed",
    )


def test_the_french_report_says_what_was_earned_and_how_sure() -> None:
    report = render(figures(), "fr-FR")
    assert report.locale == "fr"
    assert report.subject == "Atelier Lune : ce que Relance vous a rapporté en octobre 2026"
    assert f"Relance vous a rapporté 4{NNBSP}000,00{NBSP}€ net en octobre 2026" in report.text
    assert f"entre 1{NNBSP}500,50{NBSP}€ et 6{NNBSP}500,00{NBSP}€" in report.text
    assert f"chaque 1,00{NBSP}€ de remise a rapporté 1,50{NBSP}€ de marge en plus" in report.text
    assert "120 nouveaux leads, dont 30 devenus clients à ce jour (25,0" in report.text
    assert '<td style="padding:4px 8px' in report.html and "Panier abandonné" in report.html
    assert "width:60%" in report.html and "width:50%" in report.html  # the hot tier, the top score band


def test_the_english_report_says_what_an_interval_lacks() -> None:
    report = render(figures(low=None, high=None, holdout_orders=7), "en")
    assert report.subject == "Atelier Lune: what Relance earned you in October 2026"
    assert "Relance earned you €4,000.00 net in October 2026" in report.text
    assert "the holdout group had 200 runs and 7 orders" in report.text
    assert "With 95 % confidence" not in report.text


def test_nothing_to_measure_and_no_margin_rate() -> None:
    found = figures(value=None, low=None, high=None, journeys={})
    found["economics"]["return_on_discounts"] = {"margin_rate": None, "roi": {"value": None}}
    report = render(found, "en")
    assert "Nothing to measure this month" in report.text
    assert "Set your margin rate" not in report.text  # nothing earned to weigh it against
    assert "Return on the discounts" not in report.text


def test_merchant_words_are_escaped_and_languages_fall_back_to_english() -> None:
    report = render(figures(), "de", shop='<img src=x onerror="alert(1)">')
    assert report.locale == "en"
    assert "<img src=x" not in report.html and "&lt;img src=x" in report.html
    assert report_language("fr_CA", "en") == "fr" and report_language(None, "es") == "en"
