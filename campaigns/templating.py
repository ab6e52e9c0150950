"""The sandbox for merchant templates: checked when saved, rendered when sent."""

from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

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
# Filters that cannot turn a short template into a huge output (unlike center, indent, format...).
SAFE_FILTERS = frozenset(
    [
        "capitalize",
        "d",
        "default",
        "first",
        "join",
        "last",
        "length",
        "lower",
        "round",
        "title",
        "trim",
        "upper",
    ]
)
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


class MerchantSandbox(SandboxedEnvironment):
    """Jinja's sandbox minus the cheap ways to exhaust memory or CPU: checks run in a web request."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse powers and sequence repetition ("x" * 10**9); other arithmetic is harmless."""
        if operator == "**" or isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            raise SecurityError(f"the {operator!r} operator is not available in message templates")
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Refuse calls such as code.center(10**9); filters do what a message needs."""
        raise SecurityError("calling methods is not available in message templates; use a filter like |upper")


def _text_environment() -> MerchantSandbox:
    """Return the plain-text sandbox: no globals, a short list of filters, undefined names fail."""
    # Plain text: the HTML layout escapes the rendered text once.
    env = MerchantSandbox(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    return env


TEXT_ENV = _text_environment()


def template_problems(source: str) -> list[str]:
    """Return what is wrong with one template: syntax, unknown placeholders, render errors."""
    if len(source) > MAX_TEMPLATE_CHARS:
        return [f"longer than {MAX_TEMPLATE_CHARS} characters"]
    try:
        ast = TEXT_ENV.parse(source)
        unknown = meta.find_undeclared_variables(ast) - set(PLACEHOLDERS)
        if unknown:
            available = ", ".join(PLACEHOLDERS)
            return [f"unknown placeholder '{name}' (available: {available})" for name in sorted(unknown)]
        render_template(source, SAMPLE_VARIABLES)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    except TemplateProblem as problem:
        return [str(problem)]
    return []


def body_problems(body: str) -> list[str]:
    """Return what is wrong with a message body, which must also offer an unsubscribe link."""
    problems = template_problems(body)
    if not problems and "unsubscribe_url" not in meta.find_undeclared_variables(TEXT_ENV.parse(body)):
        problems.append("must include {{ unsubscribe_url }} so customers can opt out")
    return problems


def check_template(subject: str, body: str) -> list[str]:
    """Return every problem of a subject and body pair; an empty list means they are usable."""
    return [f"subject: {problem}" for problem in template_problems(subject)] + [
        f"body: {problem}" for problem in body_problems(body)
    ]


def render_template(source: str, variables: dict[str, Any]) -> str:
    """Render one merchant template as plain text, or raise TemplateProblem."""
    try:
        return TEXT_ENV.from_string(source).render(variables)
    except TemplateSyntaxError as error:
        raise TemplateProblem(f"line {error.lineno}: {error.message}") from error
    except TemplateError as error:
        raise TemplateProblem(error.message or type(error).__name__) from error
