"""Step messages: the merchant's words in the designed email, escaped, tracked, in the message's locale."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaigns.journeys import StepMessage
from campaigns.messages import Brand, MessageContext, MessageItem, render_step_message

NBSP = "\u00a0"
CONTEXT = MessageContext(
    merchant_name="Atelier <Lune> & Co",
    first_name="Ana",
    items=(
        MessageItem(
            title="<script>alert('x')</script> Mug",
            quantity=2,
            price=Decimal("12.5"),
            variant='Bleu "nuit"',
            image_url="https://cdn.shop.example/mug.png",
        ),
        MessageItem(title='Tea "Earl" Grey', quantity=1, price=Decimal(8)),
    ),
    currency="EUR",
    code="SPRING-ABCD2345EF",
    discount=f"10{NBSP}%",
    expires_at=datetime(2026, 12, 5, 14, 43, tzinfo=UTC),
    timezone="Europe/Paris",
    recovery_url="https://shop.example/cart/c1?key=abc&discount=SPRING-ABCD2345EF",
    unsubscribe_url="https://relance.example/u/tok123",
    open_pixel_url="https://relance.example/o/tok123.gif",
    tracked_recovery_url="https://relance.example/c/tok123?to=cart&sig=9f",
    locale="fr",
)
MESSAGE = StepMessage(
    subject="{{ merchant_name }} : {{ discount }} de remise",
    body="Bonjour {{ first_name }},\n\nVotre code : {{ code }}, jusqu'au {{ expires_text }}.\n\n"
    "À bientôt,\n{{ merchant_name }}",
)
TRACKED = "https://relance.example/c/tok123?to=cart&amp;sig=9f"


def render(context: MessageContext = CONTEXT, message: StepMessage = MESSAGE):  # type: ignore[no-untyped-def]
    return render_step_message(message, context)


def test_subject_and_text_are_in_the_messages_locale() -> None:
    rendered = render()
    assert rendered.subject == f"Atelier <Lune> & Co : 10{NBSP}% de remise"
    assert rendered.text.startswith(
        "Bonjour Ana,\n\nVotre code : SPRING-ABCD2345EF, jusqu'au samedi 5 décembre, 15:43.\n\n"
    )
    assert "Votre panier\u00a0:\n- <script>alert('x')</script> Mug (Bleu \"nuit\", Quantité : 2, " in (
        rendered.text
    )
    code_block = (
        f"Votre code personnel{NBSP}: SPRING-ABCD2345EF\nValable jusqu\u2019au samedi 5 décembre, 15:43\n"
    )
    assert code_block in rendered.text
    assert "https://relance.example/c/tok123?to=cart&sig=9f" in rendered.text


def test_the_html_escapes_every_payload_value() -> None:
    html = render().html
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Mug" in html
    assert "Tea &#34;Earl&#34; Grey" in html and "Bleu &#34;nuit&#34;" in html
    assert "Atelier &lt;Lune&gt; &amp; Co" in html
    assert 'alt="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Mug"' in html


def test_the_button_and_links_go_through_click_tracking() -> None:
    html = render().html
    assert f'<a class="button" href="{TRACKED}"' in html
    assert "shop.example/cart" not in html
    assert '<a href="https://relance.example/u/tok123"' in html
    assert '<img src="https://relance.example/o/tok123.gif" width="1" height="1" alt=""' in html


def test_without_tracking_the_recovery_link_is_used_as_is() -> None:
    rendered = render(replace(CONTEXT, tracked_recovery_url=None))
    assert "Finaliser ma commande : https://shop.example/cart/c1?key=abc&discount=SPRING-ABCD2345EF" in (
        rendered.text.replace(NBSP, " ")
    )
    assert 'href="https://shop.example/cart/c1?key=abc&amp;discount=SPRING-ABCD2345EF"' in rendered.html


def test_paragraphs_and_line_breaks_are_kept() -> None:
    html = render().html
    assert '<p style="margin:0 0 16px;">Bonjour Ana,</p>' in html
    assert "À bientôt,<br>\nAtelier &lt;Lune&gt; &amp; Co</p>" in html


def test_the_subject_is_always_one_line() -> None:
    context = replace(CONTEXT, merchant_name="Shop\r\nBcc: victim@example.com")
    assert render(context).subject == f"Shop Bcc: victim@example.com : 10{NBSP}% de remise"


def test_the_code_block_shows_only_with_a_code() -> None:
    html = render().html
    assert '">SPRING-ABCD2345EF</div>' in html and "Valable jusqu\u2019au samedi 5 décembre, 15:43" in html
    reminder = render(
        replace(CONTEXT, code=None, discount=None, expires_at=None),
        StepMessage("Votre panier", "Bonjour{% if first_name %} {{ first_name }}{% endif %},"),
    )
    assert 'class="code"' not in reminder.html and "Votre code personnel" not in reminder.html
    assert "Votre code" not in reminder.text


def test_the_products_show_image_variant_quantity_and_price() -> None:
    html = render().html
    assert (
        '<img src="https://cdn.shop.example/mug.png" width="72" height="72" '
        'alt="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Mug"'
    ) in html
    assert "Quantité : 2" in html and f"12,50{NBSP}€" in html and f"8,00{NBSP}€" in html
    assert ">Votre panier</div>" in html


@pytest.mark.parametrize("url", ["http://cdn.shop.example/a.png", "javascript:alert(1)", "data:image/png,x"])
def test_an_image_that_is_not_https_is_left_out(url: str) -> None:
    item = replace(CONTEXT.items[0], image_url=url)
    html = render(replace(CONTEXT, items=(item,))).html
    assert url not in html and 'width="72" height="72"' not in html


@pytest.mark.parametrize("trigger", ["browse_abandoned", "tier_entered"])
def test_a_lead_sees_the_products_it_viewed(trigger: str) -> None:
    viewed = (MessageItem("Lampe Opaline", 1, Decimal(89), image_url="https://cdn.shop.example/l.png"),)
    rendered = render(replace(CONTEXT, trigger=trigger, items=(), viewed=viewed))
    assert ">Les produits que vous avez consultés</div>" in rendered.html
    assert 'alt="Lampe Opaline"' in rendered.html and "Quantité" not in rendered.html
    assert "Les produits que vous avez consultés\u00a0:\n- Lampe Opaline (89,00\u00a0€)" in rendered.text
    assert "Revoir les produits" in rendered.html


def test_a_welcome_without_products_has_no_product_block() -> None:
    rendered = render(replace(CONTEXT, trigger="signup", items=(), code=None, expires_at=None))
    assert 'width="72"' not in rendered.html and "Votre panier" not in rendered.html
    assert "suite à votre inscription" in rendered.html and "Découvrir la boutique" in rendered.html


@pytest.mark.parametrize(
    ("trigger", "why"),
    [
        ("cart_abandoned", "laissé des articles dans votre panier"),
        ("signup", "suite à votre inscription"),
        ("browse_abandoned", "vous avez consulté des produits"),
        ("tier_entered", "plusieurs de ses produits ont retenu votre attention"),
    ],
)
def test_the_footer_says_who_sends_and_why(trigger: str, why: str) -> None:
    rendered = render(replace(CONTEXT, trigger=trigger))
    for part in (rendered.html, rendered.text):
        assert "envoyé par Atelier" in part and why in part
    assert "Se désinscrire en un clic</a>" in rendered.html


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ("Your cart", "Complete my order", "Unsubscribe in one click", "Quantity: 2")),
        ("de", ("Ihr Warenkorb", "Bestellung abschließen", "Mit einem Klick abmelden", "Menge: 2")),
        ("es", ("Tu carrito", "Finalizar mi pedido", "Darse de baja con un clic", "Cantidad: 2")),
        ("it", ("Il tuo carrello", "Completa il mio ordine", "Annulla l\u2019iscrizione", "Quantità: 2")),
        ("nl", ("Je winkelwagen", "Bestelling afronden", "Met één klik afmelden", "Aantal: 2")),
        ("pt", ("Your cart", "Complete my order", "Unsubscribe in one click", "Quantity: 2")),
    ],
)
def test_the_layout_speaks_the_messages_language(locale: str, words: tuple[str, ...]) -> None:
    html = render(replace(CONTEXT, locale=locale)).html
    assert all(word in html for word in words)
    assert f'<html lang="{locale}" dir="ltr">' in html


def test_the_brand_gives_logo_colour_and_sender_name() -> None:
    brand = Brand(name="Lune & Fils", logo_url="https://cdn.shop.example/logo.png", color="#fde047")
    html = render(replace(CONTEXT, brand=brand)).html
    assert (
        '<img src="https://cdn.shop.example/logo.png" width="160" height="48" alt="Lune &amp; Fils"' in html
    )
    assert 'bgcolor="#fde047"' in html and "color:#111827; text-decoration:none" in html  # dark on yellow
    assert "E-mail envoyé par Lune &amp; Fils." in html


@pytest.mark.parametrize("color", ["red; background:url(https://x.example/t)", "#12345", "", "#fff\n"])
def test_a_brand_colour_that_is_not_hex_falls_back(color: str) -> None:
    html = render(replace(CONTEXT, brand=Brand(name="Lune", color=color))).html
    assert 'bgcolor="#1f2937"' in html and "x.example" not in html
    assert "color:#ffffff; text-decoration:none" in html  # white on the dark default


def test_a_missing_first_name_leaves_no_stray_space_in_the_defaults() -> None:
    message = StepMessage("Hi", "Bonjour{% if first_name %} {{ first_name }}{% endif %},\n\nTexte")
    assert render(replace(CONTEXT, first_name=None), message).text.startswith("Bonjour,\n\nTexte")


def test_a_long_cart_shows_its_first_lines_and_how_many_more() -> None:
    items = tuple(
        MessageItem(f"Article {n}", 1, Decimal(1), image_url=f"https://cdn.shop.example/{n}.png")
        for n in range(1000)
    )
    rendered = render(replace(CONTEXT, items=items))
    assert rendered.html.count('width="72" height="72"') == 8 and "Article 7<" in rendered.html
    assert (
        "Et 992 de plus" in rendered.html
        and "- Article 7 (" in rendered.text
        and "Et 992 de plus\n" in rendered.text
    )
    assert len(rendered.html.encode()) < 100_000
