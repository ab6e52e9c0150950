"""The rules form: a flat HTML form ⇄ the rules document, with errors keyed by the same dotted paths.

Every input is named by its path in the document (`scoring.tiers.hot`, `campaign.pressure.max_emails`), the
same paths `bridge.leads.rules.flatten_errors` gives errors under, so each message lands beside its
field. Text that does not parse as a number is passed on as text, so the schema's own message
("Not a valid number.") is the one the merchant reads.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext

from campaigns.settings import DEFAULT_CAMPAIGN
from scoring.vocabulary import (
    ACTIVITY_KINDS,
    CAP_PERIODS,
    KIND_LABELS,
    LIST_OPERATORS,
    OPERATORS,
    PROFILE_FIELDS,
)

CAMPAIGN_NUMBERS = ("abandonment_delay_minutes", "attribution_window_days", "monthly_budget", "margin_rate")
CAMPAIGN_TEXTS = (
    "code_prefix",
    "timezone",
    "sender_name",
    "locale",
    "logo_url",
    "brand_color",
    "webhook_url",
)
CAMPAIGN_FLAGS = ("enabled", "require_consent", "drop_unprofitable_codes")
# Blank means "none" for these: the shop's own time zone, no budget, no logo, no outbound webhook, an
# unknown margin.
CAMPAIGN_OPTIONAL = ("timezone", "monthly_budget", "logo_url", "webhook_url", "margin_rate")
PRESSURE_FIELDS = ("max_emails", "window_days", "min_gap_hours")
_ROW = re.compile(r"^scoring\.criteria\.(\d+)\.(field|operator|value|points|label|remove)$")
MAX_ROWS = 100
_KIND_ROW = re.compile(r"^scoring\.custom_kinds\.(\d+)\.(key|label|points|remove)$")
MAX_KIND_ROWS = 50
DEFAULT_PRESSURE: Mapping[str, Any] = DEFAULT_CAMPAIGN["pressure"]
# scoring.vocabulary.KIND_LABELS in the page's language (the same English words as the msgids)
KIND_NAMES: Mapping[str, Any] = {
    "newsletter_signup": lazy_gettext("Signed up to the newsletter"),
    "account_created": lazy_gettext("Created an account"),
    "product_view": lazy_gettext("Viewed a product"),
    "add_to_cart": lazy_gettext("Added to cart"),
    "checkout_started": lazy_gettext("Started checkout"),
    "cart_abandoned": lazy_gettext("Abandoned a cart"),
    "email_open": lazy_gettext("Opened an email"),
    "promo_email_open": lazy_gettext("Opened a promotional email"),
    "email_click": lazy_gettext("Clicked a link in an email"),
    "email_reply": lazy_gettext("Replied to an email"),
    "content_download": lazy_gettext("Downloaded content"),
    "order_placed": lazy_gettext("Placed an order"),
    "sales_contacted": lazy_gettext("Contacted by sales"),
    "sales_won": lazy_gettext("Won by sales"),
    "sales_not_a_fit": lazy_gettext("Not a fit for sales"),
}


def number(text: str | None) -> Any:
    """An int or float from form text; None when blank; the text itself when it is not a number."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return raw
    if not math.isfinite(value):
        return raw
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _scalar(field: str, text: str) -> Any:
    kind = PROFILE_FIELDS.get(field, "string")
    if kind == "boolean":
        lowered = text.strip().lower()
        return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
            lowered, text
        )
    if kind == "number":
        return number(text)
    return text.strip()


def criterion_value(field: str, operator: str, text: str) -> Any:
    """A criterion's value from its text: a comma-separated list for `in`/`not_in`."""
    if operator in LIST_OPERATORS:
        return [_scalar(field, part) for part in re.split(r"[,\n]", text) if part.strip()]
    return _scalar(field, text)


def _activities(form: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ACTIVITY_KINDS:
        base = f"scoring.activities.{kind}"
        points = number(form.get(f"{base}.points"))
        if points is None:
            continue  # a blank kind scores nothing
        rule: dict[str, Any] = {"points": points}
        cap = number(form.get(f"{base}.cap.points"))
        if cap is not None:
            rule["cap"] = {"points": cap, "period": form.get(f"{base}.cap.period", "day")}
        if form.get(f"{base}.first_only"):
            rule["first_only"] = True
        out[kind] = rule
    return out


def _criteria(form: Mapping[str, str]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _ROW.match(name)
        if match and int(match.group(1)) < MAX_ROWS * 2:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    out = []
    for index in sorted(rows):
        row = rows[index]
        if row.get("remove") or not row.get("field", "").strip():
            continue  # removed, or the blank row left for adding one
        field, operator = row.get("field", "").strip(), row.get("operator", "").strip()
        out.append(
            {
                "field": field,
                "operator": operator,
                "value": criterion_value(field, operator, row.get("value", "")),
                "points": number(row.get("points")),
                "label": row.get("label", "").strip(),
            }
        )
    return out


def _custom_kinds(form: Mapping[str, str], live: Sequence[Any]) -> list[dict[str, Any]]:
    """The merchant's own activity kinds from their rows; a kind's cap and "once only" (set through the
    rules API) are kept while its key stays."""
    kept = {k["key"]: k for k in live if isinstance(k, Mapping) and isinstance(k.get("key"), str)}
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _KIND_ROW.match(name)
        if match and int(match.group(1)) < MAX_KIND_ROWS * 2:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    out = []
    for index in sorted(rows):
        row = rows[index]
        key, label = row.get("key", "").strip(), row.get("label", "").strip()
        if row.get("remove") or not (key or label or row.get("points", "").strip()):
            continue  # removed, or the blank row left for adding one
        kind: dict[str, Any] = {"key": key, "label": label, "points": number(row.get("points"))}
        before = kept.get(key) or {}
        kind.update({name: before[name] for name in ("cap", "first_only") if name in before})
        out.append(kind)
    return out


def _campaign(form: Mapping[str, str], live: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(live)
    for name in CAMPAIGN_NUMBERS:
        out[name] = number(form.get(f"campaign.{name}"))
    for name in CAMPAIGN_TEXTS:
        out[name] = form.get(f"campaign.{name}", "").strip()
    for name in CAMPAIGN_OPTIONAL:
        out[name] = None if out[name] in ("", None) else out[name]
    for name in CAMPAIGN_FLAGS:
        out[name] = bool(form.get(f"campaign.{name}"))
    if form.get("campaign.quiet_hours.enabled"):
        out["quiet_hours"] = {
            "start": form.get("campaign.quiet_hours.start", "").strip(),
            "end": form.get("campaign.quiet_hours.end", "").strip(),
        }
    else:
        out["quiet_hours"] = None
    if form.get("campaign.pressure.enabled"):
        out["pressure"] = {name: number(form.get(f"campaign.pressure.{name}")) for name in PRESSURE_FIELDS}
    else:
        out["pressure"] = None
    return out


def document_from_form(form: Mapping[str, str], live: Mapping[str, Any]) -> dict[str, Any]:
    """The candidate document: the live one with every part the form edits taken from the form."""
    document = copy.deepcopy(dict(live))
    scoring = dict(document.get("scoring") or {})
    scoring["activities"] = _activities(form)
    scoring["criteria"] = _criteria(form)
    scoring["custom_kinds"] = _custom_kinds(form, scoring.get("custom_kinds") or [])
    if not scoring["custom_kinds"]:
        del scoring["custom_kinds"]  # as a document without any is stored
    scoring["decay"] = {"half_life_days": number(form.get("scoring.decay.half_life_days"))}
    scoring["tiers"] = {
        "warm": number(form.get("scoring.tiers.warm")),
        "hot": number(form.get("scoring.tiers.hot")),
    }
    document["scoring"] = scoring
    document["campaign"] = _campaign(form, document.get("campaign") or {})
    return document


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _activity_rows(activities: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One form row per activity kind, in scoring's order, with its points and cap as text."""
    rows = []
    for kind in ACTIVITY_KINDS:
        rule = activities.get(kind) or {}
        cap = rule.get("cap") or {}
        rows.append(
            {
                "kind": kind,
                "label": KIND_NAMES.get(kind, KIND_LABELS[kind]),
                "points": _text(rule.get("points")),
                "cap_points": _text(cap.get("points")),
                "cap_period": cap.get("period") or "day",
                "first_only": bool(rule.get("first_only")),
            }
        )
    return rows


def _criterion_rows(criteria: Sequence[Any]) -> list[dict[str, str]]:
    """One form row per profile criterion, each field as text (blank where the entry is no mapping)."""
    return [
        {
            key: (_text(c.get(key)) if isinstance(c, Mapping) else "")
            for key in ("field", "operator", "value", "points", "label")
        }
        for c in criteria
    ]


def _kind_rows(kinds: Sequence[Any]) -> list[dict[str, str]]:
    """One form row per custom activity kind, as text."""
    return [
        {key: (_text(k.get(key)) if isinstance(k, Mapping) else "") for key in ("key", "label", "points")}
        for k in kinds
    ]


def view(document: Mapping[str, Any]) -> dict[str, Any]:
    """What the template shows: activity rows, criterion rows and campaign values as form text."""
    scoring, campaign = document.get("scoring") or {}, document.get("campaign") or {}
    quiet = campaign.get("quiet_hours")
    values: dict[str, Any] = {
        name: _text(campaign.get(name)) for name in (*CAMPAIGN_NUMBERS, *CAMPAIGN_TEXTS)
    }
    values.update({name: bool(campaign.get(name)) for name in CAMPAIGN_FLAGS})
    pressure = campaign.get("pressure")
    return {
        "activities": _activity_rows(scoring.get("activities") or {}),
        "criteria": _criterion_rows(scoring.get("criteria") or []),
        "custom_kinds": _kind_rows(scoring.get("custom_kinds") or []),
        "half_life": _text((scoring.get("decay") or {}).get("half_life_days")),
        "warm": _text((scoring.get("tiers") or {}).get("warm")),
        "hot": _text((scoring.get("tiers") or {}).get("hot")),
        "campaign": values,
        "quiet_enabled": isinstance(quiet, Mapping),
        "quiet_start": (quiet or {}).get("start", "21:00") if isinstance(quiet, Mapping) else "21:00",
        "quiet_end": (quiet or {}).get("end", "08:00") if isinstance(quiet, Mapping) else "08:00",
        "pressure_enabled": isinstance(pressure, Mapping),
        "pressure": {
            name: _text((pressure if isinstance(pressure, Mapping) else DEFAULT_PRESSURE).get(name))
            for name in PRESSURE_FIELDS
        },
        "fields": list(PROFILE_FIELDS),
        "operators": OPERATORS,
        "periods": CAP_PERIODS,
    }


def field_names(shown: Mapping[str, Any]) -> set[str]:
    """Every input path the form shows, so errors on other paths can be listed at the top."""
    names = {
        f"scoring.activities.{row['kind']}.{part}"
        for row in shown["activities"]
        for part in ("points", "cap.points", "cap.period", "first_only", "cap")
    }
    names |= {f"scoring.activities.{row['kind']}" for row in shown["activities"]}
    names |= {
        f"scoring.criteria.{i}.{part}"
        for i in range(len(shown["criteria"]))
        for part in ("field", "operator", "value", "points", "label")
    }
    names |= {
        f"scoring.custom_kinds.{i}.{part}"
        for i in range(len(shown["custom_kinds"]))
        for part in ("key", "label", "points")
    }
    names |= {"scoring.custom_kinds"}
    names |= {"scoring.decay.half_life_days", "scoring.tiers.warm", "scoring.tiers.hot"}
    names |= {f"campaign.{name}" for name in (*CAMPAIGN_NUMBERS, *CAMPAIGN_TEXTS, *CAMPAIGN_FLAGS)}
    names |= {"campaign.quiet_hours", "campaign.quiet_hours.start", "campaign.quiet_hours.end"}
    names |= {"campaign.pressure", *(f"campaign.pressure.{name}" for name in PRESSURE_FIELDS)}
    return names
