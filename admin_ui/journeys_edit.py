"""One journey's editor: trigger, audience, holdout, steps (delay, offer, messages per locale) with a live
preview per locale; saving writes a new rules version, a refused one shows each error beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from admin_ui import journeys_form, preview
from admin_ui.access import shop_id
from admin_ui.blueprint import bp
from admin_ui.journeys import after_write, notice, trigger_label
from admin_ui.journeys_store import index_of, live_journeys, write
from admin_ui.support import db
from campaigns.journeys import OFFER_KINDS, TRIGGERS

ACTIONS = ("save", "refresh", "add_step")


def _live(key: str) -> tuple[int, dict[str, Any], list[dict[str, Any]], int]:
    """The live version, document, journeys and this journey's index (404 when there is none)."""
    version, document, journeys = live_journeys()
    index = index_of(journeys, key)
    if index is None:
        abort(404)
    return version, document, journeys, index


def _previews(document: Mapping[str, Any], journey: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each step's locale rendered for the sample customer, by the locale's form path."""
    out = {}
    for index, step in enumerate(journey.get("steps") or []):
        if not isinstance(step, Mapping) or not isinstance(step.get("messages"), Mapping):
            continue
        for tag in step["messages"]:
            where = f"steps.{index}.messages.{tag}"
            out[where] = preview.step_preview(db(), shop_id(), document, step, where, str(tag))
    return out


def _render(key: str, journey: Mapping[str, Any], status: int = 200, **extra: Any) -> tuple[str, int]:
    version, document, _journeys, _index = _live(key)
    errors: dict[str, list[str]] = extra.pop("errors", {})
    shown = journeys_form.view(journey)
    html = render_template(
        "admin_ui/journeys_edit.html",
        key=key,
        j=shown,
        errors=errors,
        errors_under=journeys_form.errors_under,
        previews=_previews(document, journey),
        version=version,
        triggers=[(t, trigger_label(t)) for t in TRIGGERS],
        offer_kinds=OFFER_KINDS,
        units=tuple(journeys_form.UNITS),
        tiers=journeys_form.TIERS,
        segments=[(s["key"], s.get("name") or s["key"]) for s in document.get("segments") or []],
        notice=notice(request.args.get("done", ""), request.args.get("v", "?")),
        active="journeys",
        **extra,
    )
    return html, status


@bp.get("/journeys/<key>")
def journey(key: str) -> tuple[str, int]:
    """The live journey in the editor."""
    _version, _document, journeys, index = _live(key)
    return _render(key, journeys[index])


@bp.post("/journeys/<key>")
def journey_submit(key: str) -> ResponseReturnValue:
    """Save the journey, or show the form again with a step or a locale added (nothing saved)."""
    _version, _document, journeys, index = _live(key)
    candidate = journeys_form.journey_from_form(request.form, journeys[index])
    if request.form.get("action", "save") != "save":
        return _render(key, candidate)
    journeys[index] = candidate
    written = write(journeys, request.form.get("note", "").strip() or f"journey {key} edited")
    if written.outcome == "invalid":
        mine, others = journeys_form.local_errors(written.errors, index)
        return _render(key, candidate, 422, errors=mine, other_errors=others)
    return after_write(written, key)


@bp.post("/journeys/<key>/preview")
def journey_preview(key: str) -> Response:
    """One step's message in one locale rendered from the draft (JSON for the live preview)."""
    _version, document, _journeys, _index = _live(key)
    step_index = request.form.get("preview_step", -1, type=int)
    locale = request.form.get("preview_locale", "")
    if step_index is None or not 0 <= step_index < journeys_form.MAX_INDEX:
        abort(404)
    step = journeys_form.step_from_form(request.form, step_index)
    where = f"steps.{step_index}.messages.{locale}"
    found = preview.step_preview(db(), shop_id(), document, step, where, locale)
    return Response(preview.as_json(found), 200 if found.get("ok") else 422, mimetype="application/json")
