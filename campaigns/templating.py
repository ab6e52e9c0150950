"""Merchant templates: checked when saved (parsed, rendered for a sample customer), rendered when sent."""

import functools
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes

from campaigns import sandbox

PLACEHOLDERS = (
    "merchant_name",
    "first_name",
    "items",
    "viewed",
    "currency",
    "code",
    "discount",
    "expires_text",
    "minimum_order",
    "recovery_url",
    "unsubscribe_url",
)
MAX_TEMPLATE_CHARS = 10_000
MAX_MESSAGE_CHARS = 200_000  # rendered; the default body for a cart of a thousand lines stays below
_SAMPLE_ITEMS = [
    {"title": "Linen shirt", "quantity": 1, "price": "€49.00", "variant": "Size M · Sky blue"},
    {"title": "Canvas tote bag", "quantity": 2, "price": "€18.50", "variant": "Natural"},
]
SAMPLE_VARIABLES: dict[str, Any] = {
    "merchant_name": "Atelier Lune",
    "first_name": "Alex",
    "items": _SAMPLE_ITEMS,
    "viewed": _SAMPLE_ITEMS,
    "currency": "EUR",
    "code": "RL7KQ2M9XW4P",
    "discount": "10%",
    "expires_text": "Saturday, December 5, 3:00 PM",
    "minimum_order": "€30.00",
    "recovery_url": "https://shop.example/cart",
    "unsubscribe_url": "https://relance.example/u/token",
}
# The same customer when the step goes out without a code (budget spent, a live code already held) and
# nothing to show (a welcome): a step's template must render both ways.
SAMPLE_WITHOUT_CODE: dict[str, Any] = {
    **SAMPLE_VARIABLES,
    "first_name": "",
    "items": [],
    "viewed": [],
    "code": "",
    "discount": "",
    "expires_text": "",
    "minimum_order": "",
}
# A code for a lead without a cart (a hot lead, a browse): the code is there, the cart is not.
SAMPLE_WITHOUT_CART: dict[str, Any] = {**SAMPLE_VARIABLES, "items": [], "viewed": []}


class TemplateProblem(ValueError):
    """A merchant template that cannot be parsed or rendered."""


def template_problems(source: str) -> list[str]:
    """Return what is wrong with one template (see _template_problems); an empty list means usable."""
    return list(_checked(source))


@functools.lru_cache(maxsize=2048)
def _checked(source: str) -> tuple[str, ...]:
    """A template's problems, remembered by its text: the same templates (the shipped ones above all) are
    checked each time a rules document is validated, and checking one renders it in the sandbox three times.
    Pure (the sample variables never change), so the answer for a text is always the same."""
    return tuple(_template_problems(source))


def _template_problems(source: str) -> list[str]:
    """Return what is wrong with one template: syntax, refused tags, unknown placeholders, render errors."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return [f"longer than {MAX_TEMPLATE_CHARS} characters"]
    try:
        tree = sandbox.parse(source)
        unknown = meta.find_undeclared_variables(tree) - set(PLACEHOLDERS)
        if unknown:
            available = ", ".join(PLACEHOLDERS)
            return [
                f"line {_first_line(tree, name)}: unknown placeholder '{name}' (available: {available})"
                for name in sorted(unknown)
            ]
        render_template(source, SAMPLE_VARIABLES)
        render_template(source, SAMPLE_WITHOUT_CODE)
        render_template(source, SAMPLE_WITHOUT_CART)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    except TemplateError as error:
        return [error.message or type(error).__name__]
    except TemplateProblem as problem:
        return [str(problem)]
    return []


def _first_line(tree: nodes.Template, name: str) -> int:
    """The line where a name is first read."""
    lines = [node.lineno for node in tree.find_all(nodes.Name) if node.name == name and node.ctx == "load"]
    return min(lines, default=1)


def body_problems(body: str) -> list[str]:
    """Return what is wrong with a message body, which must also offer an unsubscribe link."""
    problems = template_problems(body)
    if not problems and "unsubscribe_url" not in meta.find_undeclared_variables(sandbox.parse(body)):
        problems.append("must include {{ unsubscribe_url }} so customers can opt out")
    return problems


def message_problems(subject: str, body: str) -> list[str]:
    """Return every problem of a journey step's subject and body, each naming its part and line: the email's
    layout carries the unsubscribe link, so the body need not. Both must render with a code and without."""
    return [f"subject: {problem}" for problem in template_problems(subject)] + [
        f"body: {problem}" for problem in template_problems(body)
    ]


def check_template(subject: str, body: str) -> list[str]:
    """Return every problem of a subject and body pair; an empty list means they are usable."""
    return [f"subject: {problem}" for problem in template_problems(subject)] + [
        f"body: {problem}" for problem in body_problems(body)
    ]


def render_template(source: str, variables: dict[str, Any]) -> str:
    """Render one merchant template as plain text, or raise TemplateProblem (whatever went wrong in it)."""
    try:
        return sandbox.render(source, variables, MAX_MESSAGE_CHARS)
    except TemplateSyntaxError as error:
        raise TemplateProblem(f"line {error.lineno}: {error.message}") from error
    except TemplateError as error:
        raise TemplateProblem(_located(error, error.message or type(error).__name__)) from error
    except Exception as error:  # the template is the merchant's code: 1/0, "a" - 1... are its own errors
        raise TemplateProblem(_located(error, (str(error) or type(error).__name__)[:300])) from error


def _located(error: BaseException, message: str) -> str:
    """Prefix the message with the template line the error came from (Jinja puts it in the traceback)."""
    line, trace = None, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return message if line is None or message.startswith("line ") else f"line {line}: {message}"
