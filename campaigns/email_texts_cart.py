"""Our default words for the abandoned-cart journeys, in French, English, German, Spanish, Italian and Dutch.

Plain text with placeholders; the layout adds the cart, the button, the code block and the footer. A block
tag at the end of a line eats that line break (the sandbox trims blocks), so a conditional paragraph carries
its own blank line inside the tag: `{% if code %}…\n\n{% else %}…\n\n{% endif %}Next`.
"""

# Customer-facing text keeps its typography: curly apostrophes and en dashes are meant.
# ruff: noqa: RUF001

from __future__ import annotations

from campaigns.email_strings import hello

CART_1 = {
    "fr": {
        "subject": "{{ merchant_name }} : votre panier vous attend",
        "body": hello("fr") + "Vous avez laissé quelques articles dans votre panier. Il est toujours "
        "enregistré : vous pouvez reprendre votre commande là où vous l’aviez laissée.\n\n"
        "Une question sur un produit, la livraison ou le paiement ? Répondez simplement à cet e-mail.",
    },
    "en": {
        "subject": "{{ merchant_name }}: your cart is waiting for you",
        "body": hello("en") + "You left a few things in your cart. It is still saved, so you can pick up "
        "your order right where you left off.\n\n"
        "A question about a product, delivery or payment? Just reply to this email.",
    },
    "de": {
        "subject": "{{ merchant_name }}: Ihr Warenkorb wartet auf Sie",
        "body": hello("de") + "Sie haben ein paar Artikel in Ihrem Warenkorb gelassen. Er ist noch "
        "gespeichert – Sie können Ihre Bestellung genau dort fortsetzen, wo Sie aufgehört haben.\n\n"
        "Haben Sie eine Frage zu einem Produkt, zum Versand oder zur Zahlung? Antworten Sie einfach auf "
        "diese E-Mail.",
    },
    "es": {
        "subject": "{{ merchant_name }}: tu carrito te espera",
        "body": hello("es") + "Has dejado algunos artículos en tu carrito. Sigue guardado, así que puedes "
        "retomar tu pedido justo donde lo dejaste.\n\n"
        "¿Tienes alguna duda sobre un producto, el envío o el pago? Responde a este correo y te ayudamos.",
    },
    "it": {
        "subject": "{{ merchant_name }}: il tuo carrello ti aspetta",
        "body": hello("it") + "Hai lasciato alcuni articoli nel carrello. È ancora salvato: puoi "
        "riprendere l’ordine esattamente da dove l’avevi lasciato.\n\n"
        "Hai una domanda su un prodotto, sulla spedizione o sul pagamento? Rispondi semplicemente a "
        "questa email.",
    },
    "nl": {
        "subject": "{{ merchant_name }}: je winkelwagen wacht op je",
        "body": hello("nl") + "Je hebt een paar artikelen in je winkelwagen laten liggen. Die is nog "
        "bewaard, dus je kunt je bestelling precies daar afronden waar je was gebleven.\n\n"
        "Een vraag over een product, de verzending of de betaling? Beantwoord gewoon deze e-mail.",
    },
}
CART_2 = {
    "fr": {
        "subject": "Vous hésitez encore ? Votre panier est toujours là",
        "body": hello("fr") + "Votre panier chez {{ merchant_name }} est toujours là. Nous ne pouvons pas "
        "vous promettre que chaque article restera disponible longtemps : si l’un d’eux vous plaît, "
        "c’est le bon moment.\n\nVotre commande se reprend en un clic.",
    },
    "en": {
        "subject": "Still deciding? Your cart is still here",
        "body": hello("en") + "Your cart at {{ merchant_name }} is still here. We cannot promise every "
        "item will stay in stock for long, so if something caught your eye, now is a good time.\n\n"
        "Your order is one click away.",
    },
    "de": {
        "subject": "Noch unentschlossen? Ihr Warenkorb ist noch da",
        "body": hello("de") + "Ihr Warenkorb bei {{ merchant_name }} ist noch da. Wir können nicht "
        "versprechen, dass jeder Artikel lange vorrätig bleibt – wenn Ihnen etwas gefällt, ist jetzt ein "
        "guter Moment.\n\nIhre Bestellung ist nur einen Klick entfernt.",
    },
    "es": {
        "subject": "¿Aún lo estás pensando? Tu carrito sigue aquí",
        "body": hello("es") + "Tu carrito en {{ merchant_name }} sigue aquí. No podemos prometerte que "
        "todos los artículos vayan a seguir disponibles mucho tiempo: si alguno te gusta, este es un buen "
        "momento.\n\nTu pedido está a un solo clic.",
    },
    "it": {
        "subject": "Ci stai ancora pensando? Il tuo carrello è ancora qui",
        "body": hello("it") + "Il tuo carrello su {{ merchant_name }} è ancora qui. Non possiamo "
        "prometterti che ogni articolo resti disponibile a lungo: se qualcosa ti piace, questo è il "
        "momento giusto.\n\nIl tuo ordine è a un clic di distanza.",
    },
    "nl": {
        "subject": "Twijfel je nog? Je winkelwagen staat er nog",
        "body": hello("nl") + "Je winkelwagen bij {{ merchant_name }} staat er nog. We kunnen niet "
        "beloven dat elk artikel lang op voorraad blijft: zie je iets wat je mooi vindt, dan is dit een "
        "goed moment.\n\nJe bestelling is maar één klik verwijderd.",
    },
}
CART_CODE = {
    "fr": {
        "subject": "{% if code %}{{ discount }} de remise sur votre panier{% else %}Votre panier chez "
        "{{ merchant_name }}{% endif %}",
        "body": hello("fr") + "{% if code %}Pour vous aider à vous décider, voici un code rien que pour "
        "vous : {{ discount }} de remise sur votre commande, valable jusqu’au {{ expires_text }}.\n\n"
        "{% else %}Votre panier vous attend toujours : c’est le bon moment pour finaliser votre "
        "commande.\n\n{% endif %}À très bientôt,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}{{ discount }} off your cart{% else %}Your cart at {{ merchant_name }}"
        "{% endif %}",
        "body": hello("en") + "{% if code %}To help you decide, here is a code just for you: "
        "{{ discount }} off your order, valid until {{ expires_text }}.\n\n{% else %}Your cart is still "
        "waiting: now is a good time to complete your order.\n\n{% endif %}See you soon,\n"
        "{{ merchant_name }}",
    },
    "de": {
        "subject": "{% if code %}{{ discount }} Rabatt auf Ihren Warenkorb{% else %}Ihr Warenkorb bei "
        "{{ merchant_name }}{% endif %}",
        "body": hello("de") + "{% if code %}Damit Ihnen die Entscheidung leichter fällt, haben wir einen "
        "Code nur für Sie: {{ discount }} Rabatt auf Ihre Bestellung, gültig bis {{ expires_text }}.\n\n"
        "{% else %}Ihr Warenkorb wartet noch auf Sie – jetzt ist ein guter Moment, Ihre Bestellung "
        "abzuschließen.\n\n{% endif %}Bis bald,\n{{ merchant_name }}",
    },
    "es": {
        "subject": "{% if code %}{{ discount }} de descuento en tu carrito{% else %}Tu carrito en "
        "{{ merchant_name }}{% endif %}",
        "body": hello("es") + "{% if code %}Para ayudarte a decidir, aquí tienes un código solo para ti: "
        "{{ discount }} de descuento en tu pedido, válido hasta el {{ expires_text }}.\n\n{% else %}Tu "
        "carrito te sigue esperando: es un buen momento para finalizar tu pedido.\n\n{% endif %}"
        "¡Hasta pronto!\n{{ merchant_name }}",
    },
    "it": {
        "subject": "{% if code %}{{ discount }} di sconto sul tuo carrello{% else %}Il tuo carrello su "
        "{{ merchant_name }}{% endif %}",
        "body": hello("it") + "{% if code %}Per aiutarti a decidere, ecco un codice solo per te: "
        "{{ discount }} di sconto sul tuo ordine, valido fino a {{ expires_text }}.\n\n{% else %}Il tuo "
        "carrello ti aspetta ancora: è il momento giusto per completare l’ordine.\n\n{% endif %}"
        "A presto,\n{{ merchant_name }}",
    },
    "nl": {
        "subject": "{% if code %}{{ discount }} korting op je winkelwagen{% else %}Je winkelwagen bij "
        "{{ merchant_name }}{% endif %}",
        "body": hello("nl") + "{% if code %}Om je te helpen kiezen, hebben we een code speciaal voor jou: "
        "{{ discount }} korting op je bestelling, geldig tot {{ expires_text }}.\n\n{% else %}Je "
        "winkelwagen wacht nog op je: een goed moment om je bestelling af te ronden.\n\n{% endif %}"
        "Tot snel,\n{{ merchant_name }}",
    },
}
HOT_CART = {
    "fr": {
        "subject": "{% if code %}Rien que pour vous : {{ discount }} sur votre panier{% else %}Votre "
        "panier vous attend{% endif %}",
        "body": hello("fr") + "{% if code %}Merci de l’intérêt que vous portez à nos produits. Pour "
        "finaliser votre commande, ce code est à votre nom : {{ discount }} de remise, jusqu’au "
        "{{ expires_text }}.\n\n{% else %}Vous avez laissé des articles dans votre panier ; ils vous "
        "attendent.\n\n{% endif %}Merci de votre confiance,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}Just for you: {{ discount }} off your cart{% else %}Your cart is "
        "waiting{% endif %}",
        "body": hello("en") + "{% if code %}Thank you for your interest in our products. To complete your "
        "order, this code is in your name: {{ discount }} off, until {{ expires_text }}.\n\n{% else %}You "
        "left a few things in your cart; they are waiting for you.\n\n{% endif %}Thank you for your "
        "trust,\n{{ merchant_name }}",
    },
    "de": {
        "subject": "{% if code %}Nur für Sie: {{ discount }} auf Ihren Warenkorb{% else %}Ihr Warenkorb "
        "wartet auf Sie{% endif %}",
        "body": hello("de") + "{% if code %}Danke für Ihr Interesse an unseren Produkten. Für Ihre "
        "Bestellung gibt es einen Code auf Ihren Namen: {{ discount }} Rabatt, gültig bis "
        "{{ expires_text }}.\n\n{% else %}Sie haben Artikel in Ihrem Warenkorb gelassen – sie warten auf "
        "Sie.\n\n{% endif %}Vielen Dank für Ihr Vertrauen,\n{{ merchant_name }}",
    },
    "es": {
        "subject": "{% if code %}Solo para ti: {{ discount }} en tu carrito{% else %}Tu carrito te "
        "espera{% endif %}",
        "body": hello("es") + "{% if code %}Gracias por tu interés en nuestros productos. Para finalizar "
        "tu pedido, este código está a tu nombre: {{ discount }} de descuento, hasta el "
        "{{ expires_text }}.\n\n{% else %}Has dejado artículos en tu carrito y te están esperando.\n\n"
        "{% endif %}Gracias por tu confianza,\n{{ merchant_name }}",
    },
    "it": {
        "subject": "{% if code %}Solo per te: {{ discount }} sul tuo carrello{% else %}Il tuo carrello "
        "ti aspetta{% endif %}",
        "body": hello("it") + "{% if code %}Grazie per l’interesse verso i nostri prodotti. Per completare "
        "l’ordine, questo codice è a tuo nome: {{ discount }} di sconto, fino a {{ expires_text }}.\n\n"
        "{% else %}Hai lasciato alcuni articoli nel carrello: ti stanno aspettando.\n\n{% endif %}"
        "Grazie per la fiducia,\n{{ merchant_name }}",
    },
    "nl": {
        "subject": "{% if code %}Speciaal voor jou: {{ discount }} op je winkelwagen{% else %}Je "
        "winkelwagen wacht op je{% endif %}",
        "body": hello("nl") + "{% if code %}Bedankt voor je interesse in onze producten. Om je bestelling "
        "af te ronden, staat deze code op jouw naam: {{ discount }} korting, geldig tot "
        "{{ expires_text }}.\n\n{% else %}Je hebt artikelen in je winkelwagen laten liggen; ze wachten op "
        "je.\n\n{% endif %}Bedankt voor je vertrouwen,\n{{ merchant_name }}",
    },
}
