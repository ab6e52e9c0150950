"""Only the URLs Relance put in a message become links in its HTML; customers' text never does."""

from dataclasses import replace

from campaigns.messages import MessageItem, render_offer_message
from campaigns.settings import CampaignSettings, EmailTemplate
from tests.unit.campaigns.test_messages import CONTEXT

SETTINGS = CampaignSettings()


def test_a_url_in_a_first_name_or_an_item_title_stays_plain_text() -> None:
    context = replace(
        CONTEXT,
        first_name="https://evil.example/claim?x=1",
        items=(
            MessageItem(
                title="Free gift at http://phish.example/login", quantity=1, price=CONTEXT.items[0].price
            ),
        ),
    )
    html = render_offer_message(SETTINGS, context).html
    assert "https://evil.example/claim?x=1" in html and "http://phish.example/login" in html
    assert 'evil.example/claim?x=1"' not in html and 'href="https://evil' not in html
    assert 'href="http://phish' not in html
    assert html.count("<a href=") == 2  # the tracked recovery link and the unsubscribe link


def test_our_links_stay_links_wherever_the_template_puts_them() -> None:
    email = EmailTemplate(body="Back to your cart ({{ recovery_url }}).\n{{ unsubscribe_url }}")
    html = render_offer_message(replace(SETTINGS, email=email), CONTEXT).html
    tracked = "https://relance.example/c/tok123?to=cart&amp;sig=9f"
    assert f'(<a href="{tracked}">{tracked}</a>).' in html
    assert '<a href="https://relance.example/u/tok123">https://relance.example/u/tok123</a>' in html


def test_a_customer_string_that_contains_our_url_cannot_stretch_the_link() -> None:
    context = replace(CONTEXT, first_name="https://relance.example/u/tok123/../../evil")
    html = render_offer_message(
        replace(SETTINGS, email=EmailTemplate(body="Hi {{ first_name }} {{ unsubscribe_url }}")), context
    ).html
    assert 'href="https://relance.example/u/tok123"' in html
    assert 'href="https://relance.example/u/tok123/' not in html
