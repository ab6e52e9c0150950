"""The email's design: a 600 px table layout with inline styles, around the merchant's words.

Our own template, compiled once with autoescape: every value from a payload (names, product titles,
variants, the code) and every merchant word is escaped. Only https images and Relance's own links make it
into attributes; the brand colour must be a hex colour. No script, no form, no stylesheet to fetch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

DEFAULT_COLOR = "#1f2937"
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
FONT = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

_HTML = """\
<!doctype html>
<html lang="{{ lang }}" dir="{{ dir }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>{{ subject }}</title>
</head>
<body style="margin:0; padding:0; background-color:#f3f4f6; -webkit-text-size-adjust:100%;">
<div style="display:none; max-height:0; overflow:hidden; mso-hide:all;">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0">\
<tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="width:100%; max-width:600px; background-color:#ffffff; border-radius:8px; \
font-family:{{ font }}; font-size:16px; line-height:1.5; color:#1f2937;">
<tr><td class="header" style="padding:24px 24px 8px; border-top:4px solid {{ color }}; \
border-radius:8px 8px 0 0;">
{%- if logo_url %}<img src="{{ logo_url }}" width="{{ logo_width }}" height="{{ logo_height }}" \
alt="{{ sender }}" style="display:block; border:0; max-width:100%; height:auto;">
{%- else %}<div style="font-size:20px; font-weight:bold; color:{{ color }};">{{ sender }}</div>{% endif %}
</td></tr>
<tr><td class="body" style="padding:8px 24px; word-break:break-word;">
{% for paragraph in paragraphs %}<p style="margin:0 0 16px;">{{ paragraph | linkify(links) }}</p>
{% endfor %}</td></tr>
{% if code %}<tr><td style="padding:8px 24px 16px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="border:2px dashed {{ color }}; border-radius:8px; background-color:#f9fafb;">
<tr><td align="center" style="padding:16px 12px;">
<div style="font-size:14px; color:#4b5563;">{{ code_label }}</div>
<div class="code" style="font-family:Menlo, Consolas, 'Courier New', monospace; font-size:22px; \
font-weight:bold; letter-spacing:1px; padding:8px 0; word-break:break-all; color:#111827; \
user-select:all; -webkit-user-select:all;">{{ code }}</div>
{% if expiry %}<div style="font-size:14px; color:#4b5563;">{{ expiry }}</div>{% endif %}
<div style="font-size:13px; color:#6b7280; padding-top:4px;">{{ code_hint }}</div>
</td></tr></table>
</td></tr>
{% endif %}<tr><td align="center" style="padding:8px 24px 24px;">
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td align="center" bgcolor="{{ color }}" style="border-radius:6px; background-color:{{ color }};">
<a class="button" href="{{ button_url }}" style="display:inline-block; padding:14px 28px; \
font-size:16px; font-weight:bold; color:{{ button_text }}; text-decoration:none; border-radius:6px;">\
{{ button_label }}</a></td></tr></table>
</td></tr>
{% if products %}<tr><td style="padding:0 24px 16px;">
<div style="font-size:18px; font-weight:bold; padding-bottom:8px;">{{ products_heading }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
{% for product in products %}<tr>
<td width="72" valign="top" style="padding:8px 12px 8px 0; border-top:1px solid #e5e7eb; width:72px;">
{%- if product.image_url %}<img src="{{ product.image_url }}" width="72" height="72" \
alt="{{ product.title }}" style="display:block; border:0; width:72px; height:72px; border-radius:4px;">
{%- else %}<div style="width:72px; height:72px; background-color:#f3f4f6; border-radius:4px;"></div>
{%- endif %}
</td>
<td valign="top" style="padding:8px 0; border-top:1px solid #e5e7eb; word-break:break-word;">
<div style="font-weight:bold;">{{ product.title }}</div>
{% if product.variant %}<div style="font-size:14px; color:#4b5563;">{{ product.variant }}</div>{% endif %}
{% if product.quantity %}<div style="font-size:14px; color:#4b5563;">{{ product.quantity }}</div>{% endif %}
</td>
<td valign="top" align="right" style="padding:8px 0 8px 12px; border-top:1px solid #e5e7eb; \
white-space:nowrap;">{{ product.price }}</td>
</tr>
{% endfor %}</table>
{% if products_more %}<div style="font-size:14px; color:#4b5563; padding-top:8px;">{{ products_more }}</div>\
{% endif %}
</td></tr>
{% endif %}<tr><td class="footer" style="padding:16px 24px 24px; border-top:1px solid #e5e7eb; \
font-size:12px; line-height:1.5; color:#6b7280;">
<p style="margin:0 0 8px;">{{ sent_by }} {{ why }}</p>
<p style="margin:0;">{{ unsubscribe_intro }} <a href="{{ unsubscribe_url }}" style="color:#4b5563; \
text-decoration:underline;">{{ unsubscribe }}</a></p>
</td></tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
<img src="{{ open_pixel_url }}" width="1" height="1" alt="" \
style="display:block; border:0; width:1px; height:1px;">
</body>
</html>
"""


@dataclass(frozen=True)
class ProductRow:
    """One product line as the layout shows it (text already formatted in the message's locale)."""

    title: str
    price: str
    variant: str | None = None
    quantity: str | None = None
    image_url: str | None = None


def linkify(text: str, links: tuple[str, ...] = ()) -> Markup:
    """Escape text, turn the given URLs (ours, never a customer's) into links and line breaks into <br>.

    Customers control parts of the text (their first name, cart item titles), so a URL that merely appears in
    it stays plain text; only the exact addresses Relance put in the message become links.
    """
    wanted = sorted(
        {link for link in links if link.startswith(("https://", "http://"))}, key=len, reverse=True
    )
    pattern = re.compile("|".join(re.escape(link) for link in wanted)) if wanted else None
    lines = []
    for line in text.splitlines():
        parts, position = [], 0
        for match in pattern.finditer(line) if pattern else ():
            parts.append(escape(line[position : match.start()]))
            parts.append(Markup('<a href="{0}">{0}</a>').format(match.group(0)))
            position = match.end()
        parts.append(escape(line[position:]))
        lines.append(Markup("").join(parts))
    return Markup("<br>\n").join(lines)


def safe_image(url: str | None) -> str | None:
    """An image address fit for an email: https only (no tracking scheme, no mixed content), else None."""
    return url if url and url.startswith("https://") and not any(c.isspace() for c in url) else None


def safe_color(value: str | None) -> str:
    """The brand colour when it is a hex colour, else our default (it goes into style attributes)."""
    return value if value and _HEX_COLOR.fullmatch(value) else DEFAULT_COLOR


def text_color_on(background: str) -> str:
    """White or near-black, whichever reads better on the background (WCAG relative luminance)."""
    digits = background.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111827" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def _environment() -> Any:
    env = SandboxedEnvironment(autoescape=True, trim_blocks=False)
    env.filters["linkify"] = linkify
    return env.from_string(_HTML)


_LAYOUT = _environment()


def render_html(view: dict[str, Any]) -> str:
    """The HTML part from the layout's view (see messages._html_view for its keys)."""
    return str(_LAYOUT.render(font=FONT, **view))
