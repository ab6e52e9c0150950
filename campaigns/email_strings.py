"""The words of the email's layout (button, product table, code block, footer) in each language we write.

Ours, not the merchant's: the merchant edits the subject and body; these frame them. `{merchant}`,
`{quantity}` and `{date}` are filled in by the layout (and escaped there).
"""

# Customer-facing text keeps its typography: curly apostrophes and en dashes are meant.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass

from campaigns.locales import language_of, normalize_locale


@dataclass(frozen=True)
class LayoutStrings:
    """One language's layout words."""

    button_cart: str  # cart_abandoned: back to the cart
    button_products: str  # browse_abandoned, tier_entered: back to what was viewed
    button_shop: str  # signup: to the shop
    cart_heading: str
    viewed_heading: str
    quantity: str
    code_label: str
    code_expiry: str
    code_hint: str
    sent_by: str
    why_cart: str
    why_signup: str
    why_browse: str
    why_lead: str
    unsubscribe_intro: str
    unsubscribe: str
    more: str  # under the products shown, when a cart has more lines
    colon: str = ": "  # French puts a no-break space before it

    def why(self, trigger: str) -> str:
        """Why this customer gets this email, by the journey's trigger."""
        return {
            "cart_abandoned": self.why_cart,
            "signup": self.why_signup,
            "browse_abandoned": self.why_browse,
            "tier_entered": self.why_lead,
        }.get(trigger, self.why_cart)

    def button(self, trigger: str) -> str:
        """The button's words, by the journey's trigger."""
        if trigger == "signup":
            return self.button_shop
        return self.button_cart if trigger == "cart_abandoned" else self.button_products


STRINGS: dict[str, LayoutStrings] = {
    "fr": LayoutStrings(
        button_cart="Finaliser ma commande",
        button_products="Revoir les produits",
        button_shop="Découvrir la boutique",
        cart_heading="Votre panier",
        viewed_heading="Les produits que vous avez consultés",
        quantity="Quantité : {quantity}",
        code_label="Votre code personnel",
        code_expiry="Valable jusqu’au {date}",
        code_hint="Le bouton l’applique pour vous ; sinon, saisissez-le au moment du paiement.",
        sent_by="E-mail envoyé par {merchant}.",
        why_cart="Vous le recevez car vous avez laissé des articles dans votre panier sur sa boutique.",
        why_signup="Vous le recevez suite à votre inscription sur sa boutique.",
        why_browse="Vous le recevez car vous avez consulté des produits sur sa boutique.",
        why_lead="Vous le recevez car plusieurs de ses produits ont retenu votre attention.",
        unsubscribe_intro="Vous ne souhaitez plus recevoir ces e-mails ?",
        more="Et {count} de plus",
        unsubscribe="Se désinscrire en un clic",
        colon="\u00a0: ",
    ),
    "en": LayoutStrings(
        button_cart="Complete my order",
        button_products="See the products again",
        button_shop="Visit the shop",
        cart_heading="Your cart",
        viewed_heading="The products you looked at",
        quantity="Quantity: {quantity}",
        code_label="Your personal code",
        code_expiry="Valid until {date}",
        code_hint="The button applies it for you; otherwise, enter it at checkout.",
        sent_by="Email sent by {merchant}.",
        why_cart="You are receiving it because you left items in your cart at their shop.",
        why_signup="You are receiving it because you signed up at their shop.",
        why_browse="You are receiving it because you looked at products at their shop.",
        why_lead="You are receiving it because you showed interest in several of their products.",
        unsubscribe_intro="No longer want these emails?",
        more="And {count} more",
        unsubscribe="Unsubscribe in one click",
    ),
    "de": LayoutStrings(
        button_cart="Bestellung abschließen",
        button_products="Zu den Produkten",
        button_shop="Zum Shop",
        cart_heading="Ihr Warenkorb",
        viewed_heading="Die Produkte, die Sie sich angesehen haben",
        quantity="Menge: {quantity}",
        code_label="Ihr persönlicher Code",
        code_expiry="Gültig bis {date}",
        code_hint="Über den Button wird er automatisch eingelöst; sonst geben Sie ihn an der Kasse ein.",
        sent_by="Diese E-Mail kommt von {merchant}.",
        why_cart="Sie erhalten sie, weil Sie Artikel in Ihrem Warenkorb in diesem Shop gelassen haben.",
        why_signup="Sie erhalten sie, weil Sie sich in diesem Shop angemeldet haben.",
        why_browse="Sie erhalten sie, weil Sie sich Produkte in diesem Shop angesehen haben.",
        why_lead="Sie erhalten sie, weil Sie sich für mehrere Produkte dieses Shops interessiert haben.",
        unsubscribe_intro="Sie möchten diese E-Mails nicht mehr erhalten?",
        more="Und {count} weitere",
        unsubscribe="Mit einem Klick abmelden",
    ),
    "es": LayoutStrings(
        button_cart="Finalizar mi pedido",
        button_products="Volver a ver los productos",
        button_shop="Visitar la tienda",
        cart_heading="Tu carrito",
        viewed_heading="Los productos que has visto",
        quantity="Cantidad: {quantity}",
        code_label="Tu código personal",
        code_expiry="Válido hasta el {date}",
        code_hint="El botón lo aplica por ti; si no, introdúcelo al pagar.",
        sent_by="Correo enviado por {merchant}.",
        why_cart="Lo recibes porque dejaste artículos en tu carrito en su tienda.",
        why_signup="Lo recibes porque te registraste en su tienda.",
        why_browse="Lo recibes porque viste productos en su tienda.",
        why_lead="Lo recibes porque mostraste interés por varios de sus productos.",
        unsubscribe_intro="¿Ya no quieres recibir estos correos?",
        more="Y {count} más",
        unsubscribe="Darse de baja con un clic",
    ),
    "it": LayoutStrings(
        button_cart="Completa il mio ordine",
        button_products="Rivedi i prodotti",
        button_shop="Visita il negozio",
        cart_heading="Il tuo carrello",
        viewed_heading="I prodotti che hai guardato",
        quantity="Quantità: {quantity}",
        code_label="Il tuo codice personale",
        code_expiry="Valido fino a {date}",
        code_hint="Il pulsante lo applica per te; altrimenti inseriscilo al momento del pagamento.",
        sent_by="Email inviata da {merchant}.",
        why_cart="La ricevi perché hai lasciato degli articoli nel carrello del suo negozio.",
        why_signup="La ricevi in seguito alla tua iscrizione al suo negozio.",
        why_browse="La ricevi perché hai guardato alcuni prodotti del suo negozio.",
        why_lead="La ricevi perché hai mostrato interesse per diversi suoi prodotti.",
        unsubscribe_intro="Non vuoi più ricevere queste email?",
        more="E altri {count}",
        unsubscribe="Annulla l’iscrizione con un clic",
    ),
    "nl": LayoutStrings(
        button_cart="Bestelling afronden",
        button_products="Producten opnieuw bekijken",
        button_shop="Naar de winkel",
        cart_heading="Je winkelwagen",
        viewed_heading="De producten die je hebt bekeken",
        quantity="Aantal: {quantity}",
        code_label="Je persoonlijke code",
        code_expiry="Geldig tot {date}",
        code_hint="De knop past hem voor je toe; anders vul je hem in bij het afrekenen.",
        sent_by="Verstuurd door {merchant}.",
        why_cart="Je ontvangt deze e-mail omdat je artikelen in je winkelwagen hebt laten liggen.",
        why_signup="Je ontvangt deze e-mail omdat je je hebt aangemeld in hun winkel.",
        why_browse="Je ontvangt deze e-mail omdat je producten hebt bekeken in hun winkel.",
        why_lead="Je ontvangt deze e-mail omdat je interesse hebt getoond in meerdere van hun producten.",
        unsubscribe_intro="Wil je deze e-mails niet meer ontvangen?",
        more="En nog {count}",
        unsubscribe="Met één klik afmelden",
    ),
}


def strings_for(locale: str | None) -> LayoutStrings:
    """The layout words for a locale's language, else English."""
    tag = normalize_locale(locale) or "en"
    return STRINGS.get(language_of(tag), STRINGS["en"])


GREETINGS = {"fr": "Bonjour", "en": "Hello", "de": "Hallo", "es": "Hola", "it": "Ciao", "nl": "Hallo"}


def hello(language: str) -> str:
    """The opening of our default bodies: "Bonjour Camille," or, without a first name, "Bonjour,"."""
    return f"{GREETINGS[language]}{{% if first_name %}} {{{{ first_name }}}}{{% endif %}},\n\n"
