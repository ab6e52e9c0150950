"""Our default words for the hot-lead, welcome and browse journeys, in French, English, German, Spanish,
Italian and Dutch (see email_texts_cart for how a conditional paragraph keeps its blank line).

The hot-lead and browse emails show the products the lead viewed under the text; a welcome shows none.
"""

# Customer-facing text keeps its typography: curly apostrophes and en dashes are meant.
# ruff: noqa: RUF001

from __future__ import annotations

from campaigns.email_strings import hello

HOT_LEAD = {
    "fr": {
        "subject": "{% if code %}Un cadeau pour vous : {{ discount }} chez {{ merchant_name }}{% else %}"
        "Ces produits vous attendent chez {{ merchant_name }}{% endif %}",
        "body": hello("fr") + "Merci de l’intérêt que vous portez à nos produits : les voici, si vous "
        "souhaitez y revenir.\n\n{% if code %}Et pour vous y aider, ce code est à votre nom : "
        "{{ discount }} de remise sur votre prochaine commande, jusqu’au {{ expires_text }}.\n\n"
        "{% endif %}À très bientôt,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "{% if code %}A gift for you: {{ discount }} at {{ merchant_name }}{% else %}"
        "These products are waiting for you at {{ merchant_name }}{% endif %}",
        "body": hello("en") + "Thank you for your interest in our products: here they are, in case you "
        "want another look.\n\n{% if code %}And to help you decide, this code is in your name: "
        "{{ discount }} off your next order, until {{ expires_text }}.\n\n{% endif %}See you soon,\n"
        "{{ merchant_name }}",
    },
    "de": {
        "subject": "{% if code %}Ein Geschenk für Sie: {{ discount }} bei {{ merchant_name }}{% else %}"
        "Diese Produkte warten bei {{ merchant_name }} auf Sie{% endif %}",
        "body": hello("de") + "Danke für Ihr Interesse an unseren Produkten – hier sind sie noch einmal, "
        "falls Sie sie sich erneut ansehen möchten.\n\n{% if code %}Und damit Ihnen die Entscheidung "
        "leichter fällt, gibt es einen Code auf Ihren Namen: {{ discount }} Rabatt auf Ihre nächste "
        "Bestellung, gültig bis {{ expires_text }}.\n\n{% endif %}Bis bald,\n{{ merchant_name }}",
    },
    "es": {
        "subject": "{% if code %}Un regalo para ti: {{ discount }} en {{ merchant_name }}{% else %}"
        "Estos productos te esperan en {{ merchant_name }}{% endif %}",
        "body": hello("es") + "Gracias por tu interés en nuestros productos: aquí los tienes, por si "
        "quieres volver a verlos.\n\n{% if code %}Y para ayudarte a decidir, este código está a tu "
        "nombre: {{ discount }} de descuento en tu próximo pedido, hasta el {{ expires_text }}.\n\n"
        "{% endif %}¡Hasta pronto!\n{{ merchant_name }}",
    },
    "it": {
        "subject": "{% if code %}Un regalo per te: {{ discount }} da {{ merchant_name }}{% else %}"
        "Questi prodotti ti aspettano da {{ merchant_name }}{% endif %}",
        "body": hello("it") + "Grazie per l’interesse verso i nostri prodotti: eccoli qui, se vuoi dare "
        "un’altra occhiata.\n\n{% if code %}E per aiutarti a decidere, questo codice è a tuo nome: "
        "{{ discount }} di sconto sul tuo prossimo ordine, fino a {{ expires_text }}.\n\n{% endif %}"
        "A presto,\n{{ merchant_name }}",
    },
    "nl": {
        "subject": "{% if code %}Een cadeautje voor jou: {{ discount }} bij {{ merchant_name }}{% else %}"
        "Deze producten wachten op je bij {{ merchant_name }}{% endif %}",
        "body": hello("nl") + "Bedankt voor je interesse in onze producten: hier zijn ze nog eens, voor "
        "als je ze opnieuw wilt bekijken.\n\n{% if code %}En om je te helpen kiezen, staat deze code op "
        "jouw naam: {{ discount }} korting op je volgende bestelling, geldig tot {{ expires_text }}.\n\n"
        "{% endif %}Tot snel,\n{{ merchant_name }}",
    },
}
WELCOME_1 = {
    "fr": {
        "subject": "Bienvenue chez {{ merchant_name }}",
        "body": hello("fr") + "Merci pour votre inscription ! Vous recevrez de temps en temps nos "
        "nouveautés et nos bons plans, jamais trop souvent.\n\n"
        "Une question, une envie particulière ? Répondez à cet e-mail : nous sommes là pour vous aider.",
    },
    "en": {
        "subject": "Welcome to {{ merchant_name }}",
        "body": hello("en") + "Thank you for signing up! Now and then you will hear about what is new and "
        "our best deals, never too often.\n\n"
        "A question, or looking for something in particular? Reply to this email: we are here to help.",
    },
    "de": {
        "subject": "Willkommen bei {{ merchant_name }}",
        "body": hello("de") + "Danke für Ihre Anmeldung! Ab und zu erfahren Sie von unseren Neuheiten und "
        "besten Angeboten – nie zu oft.\n\n"
        "Haben Sie eine Frage oder suchen Sie etwas Bestimmtes? Antworten Sie auf diese E-Mail, wir helfen "
        "Ihnen gern.",
    },
    "es": {
        "subject": "Te damos la bienvenida a {{ merchant_name }}",
        "body": hello("es") + "¡Gracias por registrarte! De vez en cuando te contaremos nuestras novedades "
        "y mejores ofertas, sin agobiarte.\n\n"
        "¿Tienes una pregunta o buscas algo en concreto? Responde a este correo: estamos aquí para "
        "ayudarte.",
    },
    "it": {
        "subject": "Ti diamo il benvenuto da {{ merchant_name }}",
        "body": hello("it") + "Grazie per l’iscrizione! Ogni tanto riceverai le nostre novità e le offerte "
        "migliori, mai troppo spesso.\n\n"
        "Hai una domanda o cerchi qualcosa in particolare? Rispondi a questa email: siamo qui per aiutarti.",
    },
    "nl": {
        "subject": "Welkom bij {{ merchant_name }}",
        "body": hello("nl") + "Bedankt voor je aanmelding! Af en toe hoor je van ons over nieuwe producten "
        "en onze beste aanbiedingen, nooit te vaak.\n\n"
        "Een vraag, of zoek je iets speciaals? Beantwoord deze e-mail: we helpen je graag.",
    },
}
WELCOME_2 = {
    "fr": {
        "subject": "{{ merchant_name }} : faites le tour de la boutique",
        "body": hello("fr") + "Quelques jours se sont écoulés depuis votre inscription : c’est le bon "
        "moment pour découvrir la boutique, nos nouveautés et ce que nos clients apprécient le plus.\n\n"
        "À très bientôt,\n{{ merchant_name }}",
    },
    "en": {
        "subject": "Take a look around {{ merchant_name }}",
        "body": hello("en") + "It has been a few days since you signed up: a good moment to explore the "
        "shop, what is new and what our customers like best.\n\nSee you soon,\n{{ merchant_name }}",
    },
    "de": {
        "subject": "Schauen Sie sich bei {{ merchant_name }} um",
        "body": hello("de") + "Seit Ihrer Anmeldung sind ein paar Tage vergangen – ein guter Moment, den "
        "Shop zu entdecken: unsere Neuheiten und die Lieblinge unserer Kundschaft.\n\n"
        "Bis bald,\n{{ merchant_name }}",
    },
    "es": {
        "subject": "Descubre {{ merchant_name }}",
        "body": hello("es") + "Han pasado unos días desde que te registraste: es un buen momento para "
        "descubrir la tienda, nuestras novedades y lo que más gusta a nuestros clientes.\n\n"
        "¡Hasta pronto!\n{{ merchant_name }}",
    },
    "it": {
        "subject": "Fai un giro da {{ merchant_name }}",
        "body": hello("it") + "Sono passati alcuni giorni dalla tua iscrizione: è il momento giusto per "
        "scoprire il negozio, le novità e i prodotti preferiti dai nostri clienti.\n\n"
        "A presto,\n{{ merchant_name }}",
    },
    "nl": {
        "subject": "Kijk eens rond bij {{ merchant_name }}",
        "body": hello("nl") + "Je hebt je een paar dagen geleden aangemeld: een mooi moment om de winkel te "
        "ontdekken, met onze nieuwste producten en de favorieten van onze klanten.\n\n"
        "Tot snel,\n{{ merchant_name }}",
    },
}
BROWSE = {
    "fr": {
        "subject": "Ces produits vous ont tapé dans l’œil ?",
        "body": hello("fr") + "Vous avez consulté quelques-uns de nos produits. Les voici, si vous voulez "
        "y revenir ; et si vous hésitez, nous répondons volontiers à vos questions.",
    },
    "en": {
        "subject": "Still thinking about these?",
        "body": hello("en") + "You looked at a few of our products. Here they are if you want another "
        "look, and if you are unsure, we are happy to answer any question.",
    },
    "de": {
        "subject": "Denken Sie noch an diese Produkte?",
        "body": hello("de") + "Sie haben sich einige unserer Produkte angesehen. Hier sind sie noch einmal – "
        "und falls Sie unsicher sind, beantworten wir gern Ihre Fragen.",
    },
    "es": {
        "subject": "¿Sigues pensando en estos productos?",
        "body": hello("es") + "Has estado viendo algunos de nuestros productos. Aquí los tienes por si "
        "quieres volver a verlos; y si tienes dudas, te respondemos encantados.",
    },
    "it": {
        "subject": "Stai ancora pensando a questi prodotti?",
        "body": hello("it") + "Hai guardato alcuni dei nostri prodotti. Eccoli qui, se vuoi rivederli; e se "
        "hai qualche dubbio, rispondiamo volentieri alle tue domande.",
    },
    "nl": {
        "subject": "Denk je nog aan deze producten?",
        "body": hello("nl") + "Je hebt een paar van onze producten bekeken. Hier zijn ze nog eens, voor als "
        "je ze opnieuw wilt zien; en twijfel je, dan beantwoorden we graag je vragen.",
    },
}
