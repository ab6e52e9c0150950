"""The Jinja sandbox merchant templates run in, with a work budget so a short template stays cheap.

A template runs in the web request that saves or previews it, then in a worker for every email. Jinja's own
sandbox stops access to Python internals but not a 500-character template that doubles a string twenty times
(200 MB) or nests loops for minutes. Here every operation that builds text or a list, and every loop step,
pays from a budget of MAX_WORK units per render (one unit per character built, list item or template node
run), numbers stay below MAX_INT_BITS, and the template's tree is checked before it is compiled (no include,
no calls, limited nesting). Memory and time of one render are then bounded by the budget, whatever the source.
"""

from collections.abc import Callable, Iterator, Mapping, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_WORK = 1_000_000
MAX_INT_BITS = 128  # about 38 digits: more than any price or count
MAX_DEPTH = 20  # tags and expressions nested in each other; Python refuses 21 nested loops
TEXT_FILTERS = ("capitalize", "lower", "title", "trim", "upper")
OTHER_FILTERS = ("d", "default", "first", "last", "length", "round")
_SEQUENCES = (str, list, tuple)
NO_CALLS = "calling methods is not available in message templates; use a filter like |upper"
_LOOP_FILTER = "relance-loop"  # a dash: templates cannot name it, only _bill_loops puts it in the tree
_REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
}


class _Budget:
    """What one render may still spend."""

    __slots__ = ("left",)

    def __init__(self, units: int) -> None:
        self.left = units


_BUDGET: ContextVar[_Budget] = ContextVar("template_budget")


@contextmanager
def budget(units: int = MAX_WORK) -> Iterator[None]:
    """Give the renders (and compiles) inside the block one shared budget of `units`."""
    token = _BUDGET.set(_Budget(units))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(units: int) -> None:
    """Spend units of the current render's budget, or refuse the template."""
    current = _BUDGET.get()
    current.left -= units
    if current.left < 0:
        raise SecurityError(
            f"the template builds too much text or repeats too often (the limit is {MAX_WORK:,} characters"
            " and loop steps per message)"
        )


def _size(value: Any, limit: int) -> int:
    """About how many characters str(value) has (never fewer), counting no further than `limit`."""
    total, stack = 0, [(value, 1)]
    while stack and total <= limit:
        item, factor = stack.pop()
        if isinstance(item, str):
            total += factor * len(item) + 2  # inside a list, a character's repr takes up to 4 ('\x00')
        elif isinstance(item, Mapping):
            total += 4 * len(item) + 2
            stack.extend((part, 4) for pair in item.items() for part in pair)
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 * len(item) + 2
            stack.extend((part, 4) for part in item)
        else:
            total += 100  # numbers (bounded), None, undefined values, bound methods
    return total


def text(value: Any) -> str:
    """Turn a value into text, paying for its length (shared lists can make str() of a small list huge)."""
    if isinstance(value, str):
        charge(len(value))
        return value
    charge(_size(value, MAX_WORK))
    return str(value)


class _Generator(CodeGenerator):
    """Jinja's code generator, except that `a ~ b` and slices call the environment, to be paid for."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_text((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # Jinja itself runs slices as plain Python
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")


class MerchantSandbox(SandboxedEnvironment):
    """Jinja's sandbox where text, lists, numbers and loops are paid for from the render's budget."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    code_generator_class = _Generator

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Numbers stay small; text joins are paid for; repetition and %-formatting are refused."""
        if operator == "**":
            raise SecurityError("the '**' operator is not available in message templates")
        if operator in ("*", "%") and (isinstance(left, _SEQUENCES) or isinstance(right, _SEQUENCES)):
            raise SecurityError(
                f"the {operator!r} operator only works on numbers in message templates; use ~ to join text"
            )
        if operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            charge(len(left) + len(right))
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise SecurityError(f"a number in the template is larger than {MAX_INT_BITS} bits")
        return result

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Refuse calls such as code.center(10**9) (_check_tree refuses them first); filters do the job."""
        raise SecurityError(NO_CALLS)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Look up an item; a slice is a copy, so it is paid for."""
        value = super().getitem(obj, argument)
        if isinstance(argument, slice) and isinstance(value, Sized):
            charge(len(value))
        return value

    def join_text(self, values: tuple[Any, ...]) -> str:
        """`a ~ b ~ c`: the parts as text, joined (each part paid for)."""
        return "".join([text(value) for value in values])


def _text_filter(original: Callable[..., str]) -> Callable[..., str]:
    """Wrap a filter of one string so its argument is paid for first (pass_context: never run at compile)."""

    @pass_context
    def bounded(context: Context, value: Any, *args: Any) -> str:
        return original(text(value), *args)

    return bounded


def _join_filter(original: Callable[..., str]) -> Callable[..., str]:
    """Wrap |join, whose result (items times the separator) is paid for before it is built."""

    @pass_context
    def bounded(context: Context, value: Any, d: Any = "", attribute: Any = None) -> str:
        items = value if isinstance(value, Sized) else list(value)
        separator = text(d)
        charge(_size(items, MAX_WORK) + len(separator) * len(items))
        return original(context.eval_ctx, items, separator, attribute)

    return bounded


@pass_context
def _loop(context: Context, iterable: Any, step_cost: int) -> Any:
    """The iterable of a {% for %}, once every step of the loop (its body's size) is paid for."""
    if not isinstance(iterable, Sized):
        iterable = list(iterable)
    charge(len(iterable) * step_cost)
    return iterable


def _environment() -> MerchantSandbox:
    """Return the plain-text sandbox: no globals, a short list of paid-for filters, undefined names fail."""
    # Plain text: the HTML layout escapes the rendered text once.
    env = MerchantSandbox(
        autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, finalize=text
    )
    env.globals.clear()
    builtin = env.filters
    env.filters = {name: builtin[name] for name in OTHER_FILTERS}
    env.filters.update({name: _text_filter(builtin[name]) for name in TEXT_FILTERS})
    env.filters["join"] = _join_filter(builtin["join"])
    env.filters[_LOOP_FILTER] = _loop
    return env


ENV = _environment()


def _refuse(node: nodes.Node, message: str) -> SecurityError:
    return SecurityError(f"line {node.lineno}: {message}")


def _check_tree(tree: nodes.Template) -> None:
    """Refuse what a message template must not do, before anything is compiled or run."""
    stack: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, nodes.Call):
            raise _refuse(
                node, "calling methods is not available in message templates; use a filter like |upper"
            )
        if tag := _REFUSED_TAGS.get(type(node)):
            raise _refuse(node, f"{{% {tag} %}} is not available in message templates")
        if (
            isinstance(node, nodes.Const)
            and type(node.value) is int
            and node.value.bit_length() > MAX_INT_BITS
        ):
            raise _refuse(node, f"a number in the template is larger than {MAX_INT_BITS} bits")
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())


def _literal_text(node: nodes.Node) -> str:
    """The text a node carries in the source (template text or a string literal), else ""."""
    if isinstance(node, nodes.TemplateData):
        return node.data
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else ""


def _step_cost(loop: nodes.For) -> int:
    """What one step of a loop costs: the nodes of its body and filter, plus the text they carry."""
    parts = [*loop.body, *([loop.test] if loop.test else [])]
    inside = [node for part in parts for node in (part, *part.find_all(nodes.Node))]
    return 1 + sum(1 + len(_literal_text(node)) for node in inside)


def _bill_loops(tree: nodes.Template) -> None:
    """Make every {% for %} pay for its steps before it starts."""
    for loop in tree.find_all(nodes.For):
        billed = nodes.Filter(
            loop.iter, _LOOP_FILTER, [nodes.Const(_step_cost(loop))], [], None, None, lineno=loop.lineno
        )
        loop.iter = billed.set_environment(ENV)


def parse(source: str) -> nodes.Template:
    """Parse a merchant template and check its tree; raises TemplateSyntaxError or SecurityError."""
    try:
        tree = ENV.parse(source)
    except RecursionError:
        raise SecurityError(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # the lexer's int() of a literal with thousands of digits
        raise SecurityError(f"a number in the template is larger than {MAX_INT_BITS} bits") from None
    _check_tree(tree)
    return tree


def render(source: str, variables: dict[str, Any], max_chars: int) -> str:
    """Render a merchant template within a fresh budget; the output stops at max_chars."""
    with budget():
        tree = parse(source)
        _bill_loops(tree)
        parts, size = [], 0
        for part in ENV.from_string(tree).generate(variables):
            size += len(part)
            if size > max_chars:
                raise SecurityError(f"the message would be longer than {max_chars:,} characters")
            parts.append(part)
        return "".join(parts)
