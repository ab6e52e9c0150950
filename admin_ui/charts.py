"""Tiny server-rendered SVG charts: horizontal bars and lines, each with an accessible <title>.

Colours come from CSS classes (`series-0`, `series-1`, ...) so the stylesheet owns them; every
text is escaped; the SVG scales to its container through its viewBox.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from flask_babel import format_decimal, gettext
from markupsafe import Markup, escape

_ids = itertools.count(1)
WIDTH = 420
LABEL_WIDTH = 110
ROW = 26


def _number(value: float) -> str:
    """A value with the page's separators, one decimal at most."""
    return str(format_decimal(value, "#,##0.#"))


def _no_data() -> str:
    return str(gettext("No data for this period yet."))


def _frame(title: str, height: float, body: list[str], desc: str = "") -> Markup:
    uid = f"chart-{next(_ids)}"
    description = f'<desc id="{uid}-d">{escape(desc)}</desc>' if desc else ""
    labelled = f"{uid}-t {uid}-d" if desc else f"{uid}-t"
    # Every piece of text in `body` was escaped where it was built; numbers are formatted by us.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:g}" role="img" aria-labelledby="{labelled}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{uid}-t">{escape(title)}</title>{description}{"".join(body)}</svg>'
    )


def bars(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    series: int = 0,
    empty: str | None = None,
) -> Markup:
    """One horizontal bar per (label, value)."""
    return grouped_bars(
        title,
        [label for label, _ in items],
        [("", [v for _, v in items])],
        unit=unit,
        first_series=series,
        empty=empty,
    )


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    first_series: int = 0,
    empty: str | None = None,
) -> Markup:
    """Bars per category, one per series (e.g. tiers now vs with the candidate rules)."""
    values = [float(v) for _, vals in series for v in vals]
    if not categories or not values:
        return Markup('<p class="empty">{}</p>').format(empty or _no_data())
    top = max(values) or 1.0
    bar_h = (ROW - 6) if len(series) == 1 else 16
    row_h = bar_h * len(series) + 6
    legend = [name for name, _ in series if name]
    y0 = 22 if legend else 4
    body = _legend(legend, first_series)
    for row, label in enumerate(categories):
        y = y0 + row * row_h
        body.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + row_h / 2 + 4:g}">{escape(label)}</text>'
        )
        for s, (name, vals) in enumerate(series):
            value = float(vals[row]) if row < len(vals) else 0.0
            tip = f"{label}{' — ' + name if name else ''}: {_number(value)}{unit}"
            body.append(_bar(value, top, unit, tip, y + 3 + s * bar_h, bar_h, first_series + s))
    desc = "; ".join(
        f"{label}: "
        + ", ".join(f"{name + ' ' if name else ''}{_number(vals[i])}{unit}" for name, vals in series)
        for i, label in enumerate(categories)
    )
    return _frame(title, y0 + len(categories) * row_h + 4, body, desc)


def _legend(names: Sequence[str], first_series: int) -> list[str]:
    """A colour swatch and a name per series, in one row above the bars."""
    return [
        f'<rect class="series-{first_series + i}" x="{LABEL_WIDTH + i * 130}" y="4" width="12" '
        f'height="12"/><text x="{LABEL_WIDTH + 18 + i * 130}" y="14">{escape(name)}</text>'
        for i, name in enumerate(names)
    ]


def _bar(value: float, top: float, unit: str, tip: str, y: float, height: float, series: int) -> str:
    """A bar as long against the full width as `value` against `top`, its value after it, `tip` on hover."""
    width = max((WIDTH - LABEL_WIDTH - 62) * value / top, 1 if value else 0)
    return (
        f'<g><title>{escape(tip)}</title><rect class="series-{series}" x="{LABEL_WIDTH}" '
        f'y="{y:g}" width="{width:g}" height="{height - 2:g}" rx="2"/>'
        f'<text x="{LABEL_WIDTH + width + 6:g}" y="{y + height / 2 + 3:g}">{escape(_number(value))}'
        f"{escape(unit)}</text></g>"
    )


def lines(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    empty: str | None = None,
) -> Markup:
    """A line per series over `x_labels` (a single point is drawn as a dot)."""
    if len(x_labels) < 2 or not series:
        empty = empty or gettext(
            "The history builds up one point a day; it shows once two days are recorded."
        )
        return Markup('<p class="empty">{}</p>').format(empty)
    height, left, bottom, top_pad = 220, 44, 30, 30
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top_pad
    top = max((float(v) for _, vals in series for v in vals), default=0.0) or 1.0
    step = plot_w / max(len(x_labels) - 1, 1)
    body: list[str] = [
        f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - 12}" y2="{top_pad + plot_h}"/>',
        f'<text class="label" x="{left - 6}" y="{top_pad + 4}">{escape(_number(top))}</text>',
        f'<text class="label" x="{left - 6}" y="{top_pad + plot_h}">0</text>',
    ]
    for i, (name, _) in enumerate(series):
        body.append(
            f'<rect class="series-{i}" x="{left + i * 92}" y="6" width="12" height="12"/>'
            f'<text x="{left + 18 + i * 92}" y="16">{escape(name)}</text>'
        )
    for i, label in enumerate(x_labels):
        if len(x_labels) <= 8 or i in (0, len(x_labels) - 1) or i % max(len(x_labels) // 6, 1) == 0:
            body.append(f'<text class="tick" x="{left + i * step:g}" y="{height - 8}">{escape(label)}</text>')
    for s, (name, vals) in enumerate(series):
        points = [(left + i * step, top_pad + plot_h - plot_h * float(v) / top) for i, v in enumerate(vals)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line series-{s}" points="{path}"/>')
        for (x, y), label, v in zip(points, x_labels, vals, strict=False):
            tip = f"{name}, {label}: {_number(float(v))}"
            dot = f'<circle class="series-{s}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            body.append(f"{dot}<title>{escape(tip)}</title></circle>")
    last = ", ".join(f"{name} {_number(float(vals[-1]))}" for name, vals in series if vals)
    return _frame(title, height, body, gettext("Latest (%(day)s): %(values)s", day=x_labels[-1], values=last))
