"""Merchant templates: checked when saved (parsed, rendered for a sample customer), rendered when sent."""

from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, meta

from campaigns import sandbox

PLACEHOLDERS = (
    "merchant_name",
    "first_name",
    "items",
    "currency",
    "code",
    "discount",
    "expires_text",
    "recovery_url",
    "unsubscribe_url",
)
MAX_TEMPLATE_CHARS = 10_000
MAX_MESSAGE_CHARS = 200_000  # rendered; the default body for a cart of a thousand lines stays below
SAMPLE_VARIABLES: dict[str, Any] = {
    "merchant_name": "Sample Shop",
    "first_name": "Alex",
    "items": [{"title": "Sample product", "quantity": 1, "price": "€10.00"}],
    "currency": "EUR",
    "code": "SAMPLE2345AB",
    "discount": "10 %",
    "expires_text": "Thursday 26 November at 14:00 (Europe/Paris)",
    "recovery_url": "https://shop.example/cart",
    "unsubscribe_url": "https://relance.example/u/token",
}


class TemplateProblem(ValueError):
    """A merchant template that cannot be parsed or rendered."""


def template_problems(source: str) -> list[str]:
    """Return what is wrong with one template: syntax, refused tags, unknown placeholders, render errors."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return [f"longer than {MAX_TEMPLATE_CHARS} characters"]
    try:
        unknown = meta.find_undeclared_variables(sandbox.parse(source)) - set(PLACEHOLDERS)
        if unknown:
            available = ", ".join(PLACEHOLDERS)
            return [f"unknown placeholder '{name}' (available: {available})" for name in sorted(unknown)]
        render_template(source, SAMPLE_VARIABLES)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    except TemplateError as error:
        return [error.message or type(error).__name__]
    except TemplateProblem as problem:
        return [str(problem)]
    return []


def body_problems(body: str) -> list[str]:
    """Return what is wrong with a message body, which must also offer an unsubscribe link."""
    problems = template_problems(body)
    if not problems and "unsubscribe_url" not in meta.find_undeclared_variables(sandbox.parse(body)):
        problems.append("must include {{ unsubscribe_url }} so customers can opt out")
    return problems


def message_problems(subject: str, body: str) -> list[str]:
    """Return every problem of a journey step's subject and body: the email's layout carries the unsubscribe
    link, so the body need not."""
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
