"""Offer messages: rendering, escaping, tracking, expiry in the customer's time zone, sandboxing."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaigns.formatting import format_discount, format_expiry, format_money
from campaigns.messages import MessageContext, MessageItem, render_offer_message
from campaigns.settings import CampaignSettings, EmailTemplate
from campaigns.templating import PLACEHOLDERS, TemplateProblem, check_template

CONTEXT = MessageContext(
    merchant_name="Atelier <Lune> & Co",
    first_name="Ana",
    items=(
        MessageItem(title="<script>alert('x')</script> Mug", quantity=2, price=Decimal("12.5")),
        MessageItem(title='Tea "Earl" Grey', quantity=1, price=Decimal(8)),
    ),
    currency="EUR",
    code="SPRING-ABCD2345EF",
    discount="10 %",
    expires_at=datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
    timezone="Europe/Paris",
    recovery_url="https://shop.example/cart/c1?key=abc&discount=SPRING-ABCD2345EF",
    unsubscribe_url="https://relance.example/u/tok123",
    open_pixel_url="https://relance.example/o/tok123.gif",
    tracked_recovery_url="https://relance.example/c/tok123?to=cart&sig=9f",
)
SETTINGS = CampaignSettings()


def test_the_default_message_has_everything_the_customer_needs() -> None:
    message = render_offer_message(SETTINGS, CONTEXT)
    assert message.subject == "Atelier <Lune> & Co: your cart is waiting, with 10 % off"
    assert message.text.startswith("Hi Ana,\n\nYou left these items in your cart at Atelier <Lune> & Co:\n")
    assert (
        "- 2 \u00d7 <script>alert('x')</script> Mug (€12.50)\n- 1 \u00d7 Tea \"Earl\" Grey (€8.00)\n"
        in message.text
    )
    assert "Use the code SPRING-ABCD2345EF for 10 % off." in message.text
    assert "expires on Thursday 26 November at 14:00 (Europe/Paris)." in message.text
    assert "Unsubscribe: https://relance.example/u/tok123" in message.text


def test_html_escapes_item_titles_and_the_merchant_name() -> None:
    html = render_offer_message(SETTINGS, CONTEXT).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Mug" in html
    assert "Tea &#34;Earl&#34; Grey" in html
    assert "Atelier &lt;Lune&gt; &amp; Co" in html


def test_html_links_go_through_click_tracking_and_carry_an_open_pixel() -> None:
    message = render_offer_message(SETTINGS, CONTEXT)
    tracked = "https://relance.example/c/tok123?to=cart&amp;sig=9f"
    assert f'<a href="{tracked}">{tracked}</a>' in message.html
    assert "shop.example/cart" not in message.html
    assert '<a href="https://relance.example/u/tok123">' in message.html
    assert '<img src="https://relance.example/o/tok123.gif" width="1" height="1" alt="">' in message.html
    assert "https://relance.example/c/tok123?to=cart&sig=9f" in message.text


def test_without_tracking_the_recovery_link_is_used_as_is() -> None:
    message = render_offer_message(SETTINGS, replace(CONTEXT, tracked_recovery_url=None))
    assert "https://shop.example/cart/c1?key=abc&discount=SPRING-ABCD2345EF" in message.text


def test_html_keeps_paragraphs_and_line_breaks() -> None:
    html = render_offer_message(SETTINGS, CONTEXT).html
    assert "<p>Hi Ana,</p>" in html
    assert "<p>See you soon,<br>\nAtelier &lt;Lune&gt; &amp; Co</p>" in html


def test_a_missing_first_name_falls_back_to_there() -> None:
    assert render_offer_message(SETTINGS, replace(CONTEXT, first_name=None)).text.startswith("Hi there,")


def test_the_subject_is_always_one_line() -> None:
    context = replace(CONTEXT, merchant_name="Shop\r\nBcc: victim@example.com")
    assert render_offer_message(SETTINGS, context).subject == (
        "Shop Bcc: victim@example.com: your cart is waiting, with 10 % off"
    )


def test_a_custom_template() -> None:
    email = EmailTemplate(
        subject="{{ code }} for {{ first_name|upper }}",
        body="{{ items|length }} items, {{ discount }} off until {{ expires_text }}.\n{{ unsubscribe_url }}",
    )
    message = render_offer_message(replace(SETTINGS, email=email), CONTEXT)
    assert message.subject == "SPRING-ABCD2345EF for ANA"
    assert message.text == (
        "2 items, 10 % off until Thursday 26 November at 14:00 (Europe/Paris).\nhttps://relance.example/u/tok123\n"
    )


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        (EmailTemplate(body="{{ nope }} {{ unsubscribe_url }}"), "body: line 1: 'nope' is undefined"),
        (EmailTemplate(subject="{% if %}"), "subject: line 1"),
        (
            EmailTemplate(body="{{ code.lower() }} {{ unsubscribe_url }}"),
            "body: line 1: calling methods is not available",
        ),
    ],
)
def test_a_broken_stored_template_raises_template_problem(email: EmailTemplate, fragment: str) -> None:
    with pytest.raises(TemplateProblem, match=fragment):
        render_offer_message(replace(SETTINGS, email=email), CONTEXT)


def test_template_problem_is_a_value_error() -> None:
    assert issubclass(TemplateProblem, ValueError)


def test_check_template_accepts_the_defaults_and_every_placeholder() -> None:
    assert check_template(EmailTemplate().subject, EmailTemplate().body) == []
    everything = " ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
    assert check_template(everything, everything) == []


@pytest.mark.parametrize(
    ("subject", "body", "problem"),
    [
        ("{{ code }", "{{ unsubscribe_url }}", "subject: line 1: unexpected '}'"),
        ("Hi", "{% for item in items %}{{ unsubscribe_url }}", "body: line 1: Unexpected end of template."),
        ("{{ coupon }}", "{{ unsubscribe_url }}", "subject: unknown placeholder 'coupon'"),
        ("Hi", "No way out", "body: must include {{ unsubscribe_url }}"),
        (
            "{{ ''.__class__.__mro__ }}",
            "{{ unsubscribe_url }}",
            "subject: line 1: access to attribute '__class__'",
        ),
        (
            "Hi",
            '{{ "x" * 1000000000 }} {{ unsubscribe_url }}',
            "body: line 1: the '*' operator only works on numbers",
        ),
        ("Hi", "{{ 9 ** 9 ** 9 }} {{ unsubscribe_url }}", "body: line 1: the '**' operator is not available"),
        (
            "Hi",
            "{{ code|center(1000000000) }} {{ unsubscribe_url }}",
            "body: line 1: No filter named 'center'.",
        ),
        (
            "Hi",
            "{% for n in range(99) %}{% endfor %} {{ unsubscribe_url }}",
            "body: line 1: calling methods is not available",
        ),
        ("x" * 10_001, "{{ unsubscribe_url }}", "subject: longer than 10000 characters"),
    ],
)
def test_check_template_explains_each_problem(subject: str, body: str, problem: str) -> None:
    problems = check_template(subject, body)
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_expiry_text_is_in_the_customer_time_zone() -> None:
    expires = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert format_expiry(expires, "Europe/Paris") == "Thursday 26 November at 14:00 (Europe/Paris)"
    assert format_expiry(expires, "America/New_York") == "Thursday 26 November at 08:00 (America/New_York)"
    assert format_expiry(expires, "Pacific/Auckland") == "Friday 27 November at 02:00 (Pacific/Auckland)"
    assert format_expiry(datetime(2026, 7, 1, 22, 30, tzinfo=UTC), "Europe/Paris") == (
        "Thursday 2 July at 00:30 (Europe/Paris)"
    )


@pytest.mark.parametrize("zone", ["", "Nowhere/Land", "../../etc/passwd"])
def test_an_unknown_customer_time_zone_falls_back_to_utc(zone: str) -> None:
    expires = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert format_expiry(expires, zone) == "Thursday 26 November at 13:00 (UTC)"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal(5), "EUR", "€5.00"),
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("9.999"), "GBP", "£10.00"),
        (Decimal(500), "JPY", "¥500"),
        (Decimal("12.5"), "CHF", "12.50 CHF"),
        (Decimal("12.5"), None, "12.50"),
    ],
)
def test_format_money(amount: Decimal, currency: str | None, text: str) -> None:
    assert format_money(amount, currency) == text


def test_format_discount() -> None:
    assert format_discount("percentage", Decimal(10), "EUR") == "10 %"
    assert format_discount("percentage", Decimal("12.50"), "EUR") == "12.5 %"
    assert format_discount("fixed_amount", Decimal(5), "EUR") == "€5.00"
