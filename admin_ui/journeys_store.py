"""Writing the journeys: every change (an edit, a move, a switch, a new or deleted journey) is a new version
of the shop's rules, through `bridge.leads.rules.save`, exactly as the rules page saves."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc

from admin_ui.access import principal, shop_id
from admin_ui.support import db
from bridge.infra.web import context
from bridge.leads import rescore
from bridge.leads import rules as rulesets


@dataclass(frozen=True)
class Written:
    """What a write did: "saved" (and the version), "unchanged", "invalid" (errors by path), "conflict"."""

    outcome: str
    version: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def live_journeys() -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """The live version, its whole document and a copy of its journeys list (safe to change)."""
    version, document = rulesets.current(db(), shop_id())
    return version, document, copy.deepcopy(list(document.get("journeys") or []))


def index_of(journeys: list[dict[str, Any]], key: str) -> int | None:
    """Where the journey with this key is in the list, or None."""
    return next((i for i, journey in enumerate(journeys) if journey.get("key") == key), None)


def check(journeys: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The errors the rules would refuse this journeys list with, by flattened path ({} when it is fine)."""
    _, live, _ = live_journeys()
    clean, errors = rulesets.validate({**live, "journeys": journeys}, base=live)
    return {} if clean is not None else rulesets.flatten_errors(errors)


def write(journeys: list[dict[str, Any]], note: str) -> Written:
    """Save the journeys as a new rules version (the other parts kept), commit, then queue its rescore."""
    session, shop = db(), shop_id()
    _, live = rulesets.current(session, shop)
    clean, errors = rulesets.validate({**live, "journeys": journeys}, base=live)
    if clean is None:
        return Written("invalid", errors=rulesets.flatten_errors(errors))
    if not rulesets.diff(live, clean):
        return Written("unchanged")
    try:
        row = rulesets.save(session, shop, clean, principal().actor, note[:255], context().now())
        session.commit()
    except rulesets.InvalidRules as exc:  # the platform's terms (consent on Shopify), checked on save
        session.rollback()
        return Written("invalid", errors=rulesets.flatten_errors(exc.errors))
    except sa_exc.IntegrityError:  # someone else took this version number
        session.rollback()
        return Written("conflict")
    rescore.enqueue_rescore(context(), shop, row.version)
    return Written("saved", version=row.version)
