"""Rules: edit scoring and campaign settings, simulate before saving, restore versions (messages and offers
are the journeys' own: admin_ui.journeys)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc

from admin_ui import charts, rules_form
from admin_ui.access import admin_url, principal, shop_id
from admin_ui.blueprint import bp
from admin_ui.labels import label
from admin_ui.support import db
from bridge.db.models import Ruleset
from bridge.infra.web import context
from bridge.leads import rescore
from bridge.leads import rules as rulesets
from bridge.leads.simulate import simulate


def _notice(done: str) -> str:
    """The message after a redirect (`done=`), in the page's language."""
    v, from_v = request.args.get("v", "?"), request.args.get("from", "?")
    notices = {
        "saved": lambda: _("Saved as version %(v)s. Every lead is being rescored with the new rules.", v=v),
        "restored": lambda: _(
            "Version %(from_v)s is live again, as version %(v)s. Every lead is being rescored.",
            from_v=from_v,
            v=v,
        ),
        "unchanged": lambda: _("Nothing changed, so no new version was saved."),
        "conflict": lambda: _("Someone saved a change at the same time. Reload the page and try again."),
    }
    return notices[done]() if done in notices else ""


def _render(document: dict[str, Any], status: int = 200, **extra: Any) -> tuple[str, int]:
    session, shop = db(), shop_id()
    row = rulesets.latest(session, shop)
    shown = rules_form.view(document)
    errors: dict[str, list[str]] = extra.pop("errors", {})
    known = rules_form.field_names(shown)
    html = render_template(
        "admin_ui/rules.html",
        f=shown,
        errors=errors,
        other_errors={k: v for k, v in errors.items() if k not in known},
        live=rulesets.describe(row),
        live_version=row.version if row is not None else 0,
        progress=rescore.progress(session, shop, row.version) if row is not None else None,
        history=rulesets.history(session, shop, limit=5),
        notice=_notice(request.args.get("done", "")),
        active="rules",
        **extra,
    )
    return html, status


@bp.get("/rules")
def rules() -> tuple[str, int]:
    """The live rules in the form."""
    _, document = rulesets.current(db(), shop_id())
    return _render(document)


@bp.post("/rules")
def rules_submit() -> ResponseReturnValue:
    """Save or simulate the submitted form; 422 with every error beside its field."""
    session, shop = db(), shop_id()
    _, live = rulesets.current(session, shop)
    candidate = rules_form.document_from_form(request.form, live)
    clean, errors = rulesets.validate(candidate, base=live)
    if clean is None:
        return _render(candidate, 422, errors=rulesets.flatten_errors(errors))
    action = request.form.get("action", "save")
    if action == "simulate":
        result = simulate(session, shop, clean, context().now())
        session.rollback()
        return _render(candidate, simulation=_simulation_view(result))
    if not rulesets.diff(live, clean):
        return redirect(admin_url("admin.rules", done="unchanged"))
    note = request.form.get("note", "").strip()[:255]
    return _commit(
        lambda: rulesets.save(session, shop, clean, principal().actor, note, context().now()), "saved"
    )


@bp.get("/rules/history")
def rules_history() -> str:
    """Every version, newest first, with what changed and a restore button."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session, shop = db(), shop_id()
    items = rulesets.history(session, shop, limit=21, offset=(page - 1) * 20)
    live, _ = rulesets.current(session, shop)
    return render_template(
        "admin_ui/history.html",
        versions=items[:20],
        more=len(items) > 20,
        page=page,
        live_version=live,
        active="rules",
    )


@bp.post("/rules/versions/<int:version>/restore")
def rules_restore(version: int) -> ResponseReturnValue:
    """Make an old version live again (as a new version) and rescore."""
    session, shop = db(), shop_id()
    if rulesets.version_document(session, shop, version) is None:
        abort(404)
    change = lambda: rulesets.restore(session, shop, version, principal().actor, context().now())  # noqa: E731
    return _commit(change, "restored", **{"from": version})


def _commit(change: Callable[[], Ruleset], done: str, **params: object) -> ResponseReturnValue:
    session, shop = db(), shop_id()
    try:
        row = change()
        session.commit()
    except rulesets.InvalidRules as exc:
        session.rollback()
        _, live = rulesets.current(session, shop)
        return _render(live, 422, errors=rulesets.flatten_errors(exc.errors))
    except sa_exc.IntegrityError:
        session.rollback()
        return redirect(admin_url("admin.rules", done="conflict"))
    rescore.enqueue_rescore(context(), shop, row.version)
    return redirect(admin_url("admin.rules", done=done, v=row.version, **params))


def _simulation_view(result: dict[str, Any]) -> dict[str, Any]:
    tiers = list(result["current"])
    return {
        **result,
        "chart": charts.grouped_bars(
            _("Leads per tier: now and with these rules"),
            [label(t).capitalize() for t in tiers],
            [
                (_("Now"), [result["current"][t] for t in tiers]),
                (_("With these rules"), [result["candidate"][t] for t in tiers]),
            ],
        ),
    }
