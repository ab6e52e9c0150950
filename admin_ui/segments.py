"""Segments: the live ones with their counts, an editor with a live count and sample before saving (saved as
a new version of the rules), and each segment's CSV export."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc

from admin_ui.access import admin_url, principal, shop_id
from admin_ui.blueprint import bp
from admin_ui.support import audit, db
from bridge.api.segments import csv_response
from bridge.infra.web import context
from bridge.leads import rescore, segments
from bridge.leads import rules as rulesets
from scoring.segments import PRODUCT_SCOPES, SEGMENT_FIELDS, dump_segment, load_segment

EXAMPLE = [
    {"field": "viewed", "operator": "in", "of": "collection", "value": ["shirts"], "within_days": 30},
    {"field": "accepts_marketing", "operator": "eq", "value": True},
]


def _notice(done: str) -> str:
    notices = {
        "saved": lambda: _("Saved as version %(v)s of the rules.", v=request.args.get("v", "?")),
        "deleted": lambda: _("Segment deleted (version %(v)s of the rules).", v=request.args.get("v", "?")),
        "conflict": lambda: _("Someone saved a change at the same time. Reload the page and try again."),
    }
    return notices[done]() if done in notices else ""


@bp.get("/segments")
def segments_list() -> str:
    """The live segments, with how many leads each holds now."""
    session, shop, now = db(), shop_id(), context().now()
    found = segments.shop_segments(session, shop)
    counts = {key: segments.count(session, shop, segment, now) for key, segment in found.items()}
    return render_template(
        "admin_ui/segments.html",
        segments=list(found.values()),
        counts=counts,
        notice=_notice(request.args.get("done", "")),
        active="segments",
    )


@bp.get("/segments/edit")
def segment_edit() -> tuple[str, int]:
    """The editor: a live segment (`?key=`) or a new one."""
    key = request.args.get("key", "")
    segment = segments.shop_segments(db(), shop_id()).get(key) if key else None
    if key and segment is None:
        abort(404)
    shown = (
        dump_segment(segment) if segment else {"key": "", "name": "", "match": "all", "conditions": EXAMPLE}
    )
    return _editor(shown, original=key)


@bp.post("/segments/edit")
def segment_submit() -> ResponseReturnValue:
    """Preview (count and sample) or save the submitted segment; 422 with each problem beside its field."""
    original = request.form.get("original", "")
    shown, errors = _from_form()
    if errors:
        return _editor(shown, original, errors=errors, status=422)
    try:
        segment = load_segment(shown)
    except ValidationError as exc:
        return _editor(shown, original, errors=rulesets.flatten_errors(exc.messages), status=422)
    session, shop = db(), shop_id()
    if request.form.get("action") == "preview":
        result = segments.preview(session, shop, segment, context().now())
        return _editor(dump_segment(segment), original, preview=result)
    live = rulesets.current(session, shop)[1]
    kept = [s for s in live["segments"] if s["key"] not in (original, segment.key)]
    if segment.key != original and any(s["key"] == segment.key for s in live["segments"]):
        return _editor(shown, original, errors={"key": [_("Another segment has this key.")]}, status=422)
    position = next((i for i, s in enumerate(live["segments"]) if s["key"] == original), len(kept))
    kept.insert(position, dump_segment(segment))
    return _save(live, kept, shown, original, deleting=False)


@bp.post("/segments/<key>/delete")
def segment_delete(key: str) -> ResponseReturnValue:
    """Remove a segment (a new rules version); refused while a journey or a criterion uses it."""
    live = rulesets.current(db(), shop_id())[1]
    if all(s["key"] != key for s in live["segments"]):
        abort(404)
    kept = [s for s in live["segments"] if s["key"] != key]
    shown = next(s for s in live["segments"] if s["key"] == key)
    return _save(live, kept, shown, key, deleting=True)


@bp.get("/segments/<key>/export.csv")
def segment_export(key: str) -> Response:
    """The segment's leads as CSV (logged in the audit log)."""
    session, shop = db(), shop_id()
    segment = segments.shop_segments(session, shop).get(key)
    if segment is None:
        abort(404)
    audit("segment.exported", key=key)
    session.commit()
    return csv_response(shop, segment)


def _save(
    live: dict[str, Any],
    kept: list[dict[str, Any]],
    shown: dict[str, Any],
    original: str,
    deleting: bool,
) -> ResponseReturnValue:
    session, shop = db(), shop_id()
    note = f"segment {shown.get('key') or original} {'deleted' if deleting else 'saved'}"
    try:
        row = rulesets.save(
            session, shop, {**live, "segments": kept}, principal().actor, note, context().now()
        )
        session.commit()
    except rulesets.InvalidRules as exc:
        session.rollback()
        return _editor(shown, original, errors=rulesets.flatten_errors(exc.errors), status=422)
    except sa_exc.IntegrityError:
        session.rollback()
        return redirect(admin_url("admin.segments_list", done="conflict"))
    rescore.enqueue_rescore(context(), shop, row.version)
    done = "deleted" if deleting else "saved"
    return redirect(admin_url("admin.segments_list", done=done, v=row.version))


def _from_form() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The segment the form describes; its conditions are JSON (a list of conditions)."""
    form = request.form
    text = form.get("conditions", "")
    shown: dict[str, Any] = {
        "key": form.get("key", "").strip(),
        "name": form.get("name", "").strip(),
        "match": form.get("match", "all"),
        "conditions": text,
    }
    try:
        shown["conditions"] = json.loads(text)
    except ValueError:
        return shown, {"conditions": [_("Not valid JSON: write a list of conditions as in the example.")]}
    return shown, {}


def _editor(
    shown: dict[str, Any],
    original: str,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    **extra: Any,
) -> tuple[str, int]:
    conditions = shown.get("conditions")
    text = conditions if isinstance(conditions, str) else json.dumps(conditions, indent=2, ensure_ascii=False)
    html = render_template(
        "admin_ui/segment_edit.html",
        s=shown,
        conditions_text=text,
        original=original,
        errors=errors or {},
        fields=SEGMENT_FIELDS,
        scopes=PRODUCT_SCOPES,
        active="segments",
        **extra,
    )
    return html, status
