"""Journeys: each journey's steps as a funnel with its holdout comparison; add, reorder, switch and delete
journeys (the editor is admin_ui.journeys_edit). Every change saves a new version of the rules."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from admin_ui import journeys_ab, journeys_stats
from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.journeys_store import Written, index_of, live_journeys, write
from admin_ui.support import db
from bridge.db.models import Shop
from bridge.infra.web import context
from bridge.leads import rules as rulesets
from campaigns.journeys import TRIGGERS, promoted


def trigger_label(trigger: str) -> str:
    """A trigger in words (literal strings, so the message extractor finds them)."""
    labels = {
        "cart_abandoned": lambda: _("Cart abandoned"),
        "signup": lambda: _("Sign-up"),
        "browse_abandoned": lambda: _("Browsing without a cart"),
        "tier_entered": lambda: _("Lead entered a tier"),
    }
    return labels[trigger]() if trigger in labels else trigger


def notice(done: str, version: str) -> str:
    """The message shown after a change (`done=` in the address)."""
    notices = {
        "saved": lambda: _("Saved as version %(v)s.", v=version),
        "unchanged": lambda: _("Nothing changed, so no new version was saved."),
        "conflict": lambda: _("Someone saved a change at the same time. Reload the page and try again."),
        "deleted": lambda: _("Journey deleted, as version %(v)s.", v=version),
        "promoted": lambda: _(
            "Variant promoted: the step keeps its content and its test ends, as version %(v)s. Restore the "
            "version before to bring the test back.",
            v=version,
        ),
    }
    return notices[done]() if done in notices else ""


def _period() -> int:
    days = request.args.get("days", 90, type=int)
    return days if days in journeys_stats.PERIODS else 90


def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
    session, shop_key = db(), shop_id()
    version, _document, journeys = live_journeys()
    shop = session.get(Shop, shop_key)
    days = _period()
    campaign = rulesets.campaign_settings_for(session, shop_key)
    currency = shop.currency if shop is not None else None
    figures = journeys_stats.results(session, shop_key, journeys, campaign, context().now(), days, currency)
    tests = journeys_ab.blocks(
        session,
        shop_key,
        rulesets.journeys_for(session, shop_key),
        campaign.attribution_window_days,
        context().now(),
        days,
        currency,
    )
    html = render_template(
        "admin_ui/journeys.html",
        journeys=journeys,
        figures=figures,
        tests=tests,
        version=version,
        days=days,
        periods=journeys_stats.PERIODS,
        triggers=[(t, trigger_label(t)) for t in TRIGGERS],
        trigger_label=trigger_label,
        notice=notice(request.args.get("done", ""), request.args.get("v", "?")),
        active="journeys",
        add=extra.pop("add", {}),
        errors=extra.pop("errors", {}),
        **extra,
    )
    return html, status


@bp.get("/journeys")
def journeys() -> tuple[str, int]:
    """Every journey in routing order, with its funnel and what each step adds over its holdout group."""
    return _page()


def after_write(written: Written, key: str | None = None, done: str = "saved") -> ResponseReturnValue:
    """Back to the list (or the journey's editor) with what happened; a refused change shows its errors."""
    if written.outcome == "invalid":
        return _page(422, errors=written.errors)
    target = ("admin.journey", {"key": key}) if key else ("admin.journeys", {})
    if written.outcome == "saved":
        return redirect(admin_url(target[0], done=done, v=written.version, **target[1]))
    return redirect(admin_url(target[0], done=written.outcome, **target[1]))


def _blank_journey(key: str, trigger: str, locale: str) -> dict[str, Any]:
    """A new journey, off until the merchant has written its message: one email an hour after the trigger."""
    subject = _("A word from {{ merchant_name }}")
    body = _("Hello {{ first_name }},\n\nWe thought of you.\n\n{{ merchant_name }}")
    return {
        "key": key,
        "name": "",
        "trigger": trigger,
        "enabled": False,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": "hot" if trigger == "tier_entered" else None,
        "min_views": 2,
        "priority": None,
        "steps": [
            {
                "after_minutes": 60,
                "max_delay_hours": None,
                "offer": None,
                "messages": {locale: {"subject": subject, "body": body}},
            }
        ],
    }


@bp.post("/journeys")
def journey_add() -> ResponseReturnValue:
    """Add a journey (switched off) at the end of the list, then open its editor."""
    key = request.form.get("key", "").strip()[:60]
    trigger = request.form.get("trigger", "").strip()
    _v, document, journeys = live_journeys()
    if index_of(journeys, key) is not None:
        errors = {"key": [_("A journey with this key exists already.")]}
        return _page(422, errors=errors, add={"key": key, "trigger": trigger})
    locale = str((document.get("campaign") or {}).get("locale") or "fr")
    journeys.append(_blank_journey(key, trigger, locale))
    written = write(journeys, f"journey {key} added")
    if written.outcome == "invalid":
        prefix = f"journeys.{len(journeys) - 1}."
        errors = {path.removeprefix(prefix): texts for path, texts in written.errors.items()}
        return _page(422, errors=errors, add={"key": key, "trigger": trigger})
    return after_write(written, key if written.outcome == "saved" else None)


def _change(key: str, note: str, change: Any, done: str = "saved") -> ResponseReturnValue:
    """Apply `change(journeys, index)` to the live list and save it; 404 for an unknown journey."""
    _v, _document, journeys = live_journeys()
    index = index_of(journeys, key)
    if index is None:
        abort(404)
    change(journeys, index)
    return after_write(write(journeys, note), done=done)


@bp.post("/journeys/<key>/move")
def journey_move(key: str) -> ResponseReturnValue:
    """Move a journey up or down: the first enabled journey a trigger matches, in list order, starts."""
    direction = -1 if request.form.get("direction") == "up" else 1

    def move(journeys: list[dict[str, Any]], index: int) -> None:
        other = index + direction
        if 0 <= other < len(journeys):
            journeys[index], journeys[other] = journeys[other], journeys[index]

    return _change(key, f"journey {key} moved {'up' if direction < 0 else 'down'}", move)


@bp.post("/journeys/<key>/toggle")
def journey_toggle(key: str) -> ResponseReturnValue:
    """Switch a journey on or off (runs already started finish their steps as the runtime decides)."""
    wanted = request.form.get("enabled") == "1"

    def toggle(journeys: list[dict[str, Any]], index: int) -> None:
        journeys[index]["enabled"] = wanted

    return _change(key, f"journey {key} {'enabled' if wanted else 'disabled'}", toggle)


@bp.post("/journeys/<key>/delete")
def journey_delete(key: str) -> ResponseReturnValue:
    """Delete a journey (its past runs and figures stay in the database)."""
    if request.form.get("confirm") != key:
        abort(400, _("Type the journey's key to confirm its deletion."))

    def delete(journeys: list[dict[str, Any]], index: int) -> None:
        del journeys[index]

    return _change(key, f"journey {key} deleted", delete, done="deleted")


@bp.post("/journeys/<key>/steps/<int:index>/promote")
def journey_promote(key: str, index: int) -> ResponseReturnValue:
    """Promote a variant of a step's A/B test: a new rules version where the step keeps that variant's
    content and has no variants left (restoring the version before brings the test back)."""
    variant = request.form.get("variant", "").strip()[:20]
    _v, _document, journeys = live_journeys()
    try:
        changed = promoted(journeys, key, index, variant)
    except KeyError:
        abort(400, _("This step has no such variant."))
    except LookupError:
        abort(404)
    note = f"journey {key} step {index + 1}: variant {variant} promoted"
    return after_write(write(changed, note), done="promoted")
