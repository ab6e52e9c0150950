"""Only the URLs Relance put in a message become links in its HTML; customers' text never does."""

from dataclasses import replace

from campaigns.journeys import StepMessage
from campaigns.messages import MessageItem, render_step_message
from tests.unit.campaigns.test_messages import CONTEXT, TRACKED

BODY = StepMessage("Hi", "Hi {{ first_name }}, {% for item in items %}{{ item.title }} {% endfor %}")


def test_a_url_in_a_first_name_or_an_item_title_stays_plain_text() -> None:
    context = replace(
        CONTEXT,
        first_name="https://evil.example/claim?x=1",
        items=(MessageItem("Free gift at http://phish.example/login", 1, CONTEXT.items[0].price),),
    )
    html = render_step_message(BODY, context).html
    assert "https://evil.example/claim?x=1" in html and "http://phish.example/login" in html
    assert 'href="https://evil' not in html and 'href="http://phish' not in html
    assert html.count("<a ") == 2  # the button and the unsubscribe link


def test_our_links_stay_links_wherever_the_template_puts_them() -> None:
    message = StepMessage("Hi", "Back to your cart ({{ recovery_url }}).\n{{ unsubscribe_url }}")
    html = render_step_message(message, CONTEXT).html
    assert f'(<a href="{TRACKED}">{TRACKED}</a>).' in html
    assert '<a href="https://relance.example/u/tok123">https://relance.example/u/tok123</a>' in html


def test_a_customer_string_that_contains_our_url_cannot_stretch_the_link() -> None:
    context = replace(CONTEXT, first_name="https://relance.example/u/tok123/../../evil")
    html = render_step_message(StepMessage("Hi", "Hi {{ first_name }} {{ unsubscribe_url }}"), context).html
    assert 'href="https://relance.example/u/tok123"' in html
    assert 'href="https://relance.example/u/tok123/' not in html
