"""The journey editor's form ⇄ one journey of the rules document, errors keyed by the same paths.

Inputs are named by their path inside the journey (`steps.0.offer.value`, `steps.1.messages.fr.subject`),
the paths `bridge.leads.rules.flatten_errors` gives under `journeys.<index>.`, so each message lands beside
its field. A step's delay is typed as a number and a unit (minutes, hours, days) and stored in minutes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from admin_ui.rules_form import number
from campaigns.locales import normalize_locale

UNITS = {"minutes": 1, "hours": 60, "days": 60 * 24}
TIERS = ("cold", "warm", "hot", "customer")
OFFER_FIELDS = ("value", "expires_hours", "minimum_order")
_STEP = re.compile(r"^steps\.(\d+)\.")
_MESSAGE = re.compile(r"^steps\.(\d+)\.messages\.([A-Za-z0-9-]{1,35})\.(subject|body|remove)$")
MAX_INDEX = 60  # the schema allows 15 steps; a bigger index is not from our page


class Form:
    """The posted fields (a werkzeug MultiDict), each read once by name."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def get(self, name: str) -> str:
        return str(self.data.get(name, "") or "")

    def tiers(self) -> list[str]:
        return [tier for tier in TIERS if self.data.get(f"audience.tiers.{tier}")]


def minutes(value: Any, unit: str) -> Any:
    """The delay in minutes, or the typed text itself (for the schema to refuse) when it is no number."""
    if isinstance(value, int | float) and not isinstance(value, bool) and unit in UNITS:
        total = value * UNITS[unit]
        return int(total) if float(total).is_integer() else total
    return value


def _offer(form: Form, base: str) -> dict[str, Any] | None:
    kind = form.get(f"{base}.offer.kind").strip()
    if not kind:
        return None
    offer: dict[str, Any] = {"kind": kind}
    for name in OFFER_FIELDS:
        value = number(form.get(f"{base}.offer.{name}"))
        if value is not None:
            offer[name] = value
    offer.setdefault("expires_hours", None)  # required: the schema says so beside the field
    return offer


def _messages(form: Form, index: int) -> dict[str, dict[str, str]]:
    """The step's locales in the order posted, without those ticked for removal, plus one being added."""
    found: dict[str, dict[str, str]] = {}
    for name in form.data:
        match = _MESSAGE.match(name)
        if match and int(match.group(1)) == index:
            found.setdefault(match.group(2), {})[match.group(3)] = form.get(name).replace("\r\n", "\n")
    messages = {
        tag: {"subject": parts.get("subject", ""), "body": parts.get("body", "")}
        for tag, parts in found.items()
        if not parts.get("remove")
    }
    added = form.get(f"steps.{index}.add_locale").strip()
    if added:
        messages.setdefault(normalize_locale(added) or added[:35], {"subject": "", "body": ""})
    return messages


def _step(form: Form, index: int) -> dict[str, Any]:
    base = f"steps.{index}"
    return {
        "after_minutes": minutes(number(form.get(f"{base}.after_value")), form.get(f"{base}.after_unit")),
        "max_delay_hours": number(form.get(f"{base}.max_delay_hours")),
        "offer": _offer(form, base),
        "messages": _messages(form, index),
    }


def step_from_form(data: Any, index: int) -> dict[str, Any]:
    """One step as the form has it, by its index in the form (the live preview's)."""
    return _step(Form(data), index)


def step_indexes(form: Form) -> list[int]:
    """The step indexes the form posted, in order."""
    found = {int(m.group(1)) for name in form.data if (m := _STEP.match(name))}
    return sorted(index for index in found if index < MAX_INDEX)


def journey_from_form(data: Any, live: Mapping[str, Any]) -> dict[str, Any]:
    """The candidate journey: the live one (key and audience segment kept) with what the form edits."""
    form = Form(data)
    live_steps = list(live.get("steps") or [])
    steps = [
        _keep_test(_step(form, index), live_steps, index)
        for index in step_indexes(form)
        if not form.get(f"steps.{index}.remove")
    ]
    if form.get("action") == "add_step":
        steps.append(new_step(steps))
    tiers = form.tiers()
    audience = {**(live.get("audience") or {}), "tiers": tiers or None}
    if "audience.segment" in form.data:  # the editor shows the choice only when the shop has segments
        audience["segment"] = form.get("audience.segment").strip() or None
    return {
        **live,
        "name": form.get("name").strip(),
        "trigger": form.get("trigger").strip(),
        "enabled": bool(form.get("enabled")),
        "audience": audience,
        "tier": form.get("tier").strip() or None,
        "min_views": number(form.get("min_views")),
        "holdout_share": number(form.get("holdout_share")),
        "priority": number(form.get("priority")),
        "steps": steps,
    }


def _keep_test(step: dict[str, Any], live_steps: list[Any], index: int) -> dict[str, Any]:
    """The form does not edit A/B variants: a step keeps the live step's (the form's index is the live
    step's index, as `view` lists them)."""
    live = live_steps[index] if index < len(live_steps) and isinstance(live_steps[index], Mapping) else {}
    if live.get("variants"):
        step["weight"], step["variants"] = live.get("weight"), live["variants"]
    return step


def new_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A step a day after the last one, with the last one's locales left blank to fill in."""
    last = steps[-1] if steps else {}
    after = last.get("after_minutes")
    tags = list((last.get("messages") or {}) or {"fr": None})
    return {
        "after_minutes": after + 24 * 60 if isinstance(after, int) else 60,
        "max_delay_hours": None,
        "offer": None,
        "messages": {tag: {"subject": "", "body": ""} for tag in tags},
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def friendly_delay(after: Any) -> tuple[str, str]:
    """A delay in minutes as the largest whole unit: 1440 is ("1", "days"), 90 is ("90", "minutes")."""
    if not isinstance(after, int) or isinstance(after, bool) or after <= 0:
        return _text(after), "minutes"
    for unit in ("days", "hours"):
        if after % UNITS[unit] == 0:
            return str(after // UNITS[unit]), unit
    return str(after), "minutes"


def _step_view(step: Mapping[str, Any]) -> dict[str, Any]:
    offer = step.get("offer") if isinstance(step.get("offer"), Mapping) else None
    value, unit = friendly_delay(step.get("after_minutes"))
    found = step.get("messages")
    messages: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    return {
        "after_value": value,
        "after_unit": unit,
        "max_delay_hours": _text(step.get("max_delay_hours")),
        "offer_kind": (offer or {}).get("kind") or "",
        "variants": [str(v.get("key")) for v in step.get("variants") or [] if isinstance(v, Mapping)],
        "offer": {name: _text((offer or {}).get(name)) for name in OFFER_FIELDS},
        "messages": [
            {"tag": tag, "subject": _text((m or {}).get("subject")), "body": _text((m or {}).get("body"))}
            for tag, m in messages.items()
        ],
    }


def view(journey: Mapping[str, Any]) -> dict[str, Any]:
    """What the editor shows: every value as form text, steps with their delay in a friendly unit."""
    audience = journey.get("audience") or {}
    return {
        "key": journey.get("key", ""),
        "name": _text(journey.get("name")),
        "trigger": journey.get("trigger") or "",
        "enabled": bool(journey.get("enabled")),
        "tiers": list(audience.get("tiers") or []),
        "segment": audience.get("segment") or "",
        "tier": journey.get("tier") or "",
        "min_views": _text(journey.get("min_views")),
        "holdout_share": _text(journey.get("holdout_share")),
        "priority": _text(journey.get("priority")),
        "steps": [_step_view(step) for step in journey.get("steps") or [] if isinstance(step, Mapping)],
    }


def local_errors(
    flat: Mapping[str, list[str]], index: int
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Split flattened document errors into this journey's (paths inside it) and the others."""
    prefix = f"journeys.{index}."
    mine = {path.removeprefix(prefix): texts for path, texts in flat.items() if path.startswith(prefix)}
    if f"journeys.{index}" in flat:
        mine.setdefault("_schema", []).extend(flat[f"journeys.{index}"])
    others = {p: t for p, t in flat.items() if not p.startswith(prefix) and p != f"journeys.{index}"}
    return mine, others


def errors_under(errors: Mapping[str, list[str]], prefix: str) -> list[str]:
    """Every message at `prefix` or below it (a locale's subject and body problems, say)."""
    return [
        text
        for path, texts in errors.items()
        if path == prefix or path.startswith(prefix + ".")
        for text in texts
    ]
