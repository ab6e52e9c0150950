"""Versioned rules of a shop: one document holding the scoring rules and the campaign settings.

Every accepted change is a new version (who, when, diff); the newest is live; restoring an
old version writes it again as a new one. Saving also records a pending bulk rescore run
(`rescore_runs`), so the rescore is durable before any job is queued: the caller enqueues
`bridge.leads.rescore.enqueue_rescore` after commit, and `bridge.leads.rescore.requeue_rescores` catches
a lost enqueue.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

import scoring
from bridge.db.models import AuditLog, RescoreRun, Ruleset, Shop
from bridge.leads import preload
from bridge.leads.prospect_settings import (
    DEFAULT_PROSPECTS,
    ProspectSettings,
    dump_prospects,
    load_prospects,
)
from campaigns import (
    CampaignSettings,
    Journey,
    default_journeys,
    dump_journeys,
    load_journeys,
    load_stored_campaign,
    upgrade_document,
    zone_or_utc,
)
from campaigns.alerts import DEFAULT_ALERTS, AlertSettings, dump_alerts, load_alerts
from campaigns.settings import DEFAULT_CAMPAIGN, dump_campaign, load_campaign
from scoring.segments import dump_segments, load_segments

PARTS: dict[str, Callable[[Any], Any]] = {
    "scoring": lambda doc: scoring.dump_rules(scoring.load_rules(doc)),
    "campaign": lambda doc: dump_campaign(load_campaign(doc)),
    "journeys": lambda doc: dump_journeys(load_journeys(doc)),
    "prospects": lambda doc: dump_prospects(load_prospects(doc)),
    "segments": lambda doc: dump_segments(load_segments(doc)),
    "alerts": lambda doc: dump_alerts(load_alerts(doc)),
}


class InvalidRules(ValueError):
    """A rules document was refused; `errors` holds marshmallow messages per part and field."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("invalid rules")
        self.errors = errors


def defaults() -> dict[str, Any]:
    """The rules of a shop that never changed them (version 0)."""
    return {
        "scoring": copy.deepcopy(scoring.DEFAULT_SCORING),
        "campaign": copy.deepcopy(DEFAULT_CAMPAIGN),
        "journeys": default_journeys(),
        "prospects": copy.deepcopy(DEFAULT_PROSPECTS),
        "segments": [],
        "alerts": copy.deepcopy(DEFAULT_ALERTS),
    }


def stored(document: Mapping[str, Any]) -> dict[str, Any]:
    """A stored version as today's schema reads it: parts it lacks take the defaults, and a document of the
    single-offer era has its campaign converted into journeys (campaigns.upgrade_document)."""
    return {**defaults(), **upgrade_document(document)}


def latest(session: Session, shop_id: int) -> Ruleset | None:
    """The live ruleset row of a shop, or None while it runs on the defaults."""
    return session.scalar(
        sa.select(Ruleset).where(Ruleset.shop_id == shop_id).order_by(Ruleset.version.desc()).limit(1)
    )


def current(session: Session, shop_id: int) -> tuple[int, dict[str, Any]]:
    """The live version and document of a shop (0 and the defaults when it has none)."""
    row = latest(session, shop_id)
    return (0, defaults()) if row is None else (row.version, stored(row.document))


def version_document(session: Session, shop_id: int, version: int) -> dict[str, Any] | None:
    """The document of one version (0: the defaults), or None when the shop has no such version."""
    if version == 0:
        return defaults()
    document = session.scalar(
        sa.select(Ruleset.document).where(Ruleset.shop_id == shop_id, Ruleset.version == version)
    )
    return None if document is None else stored(document)


SHOPIFY_CONSENT = (
    "Shopify requires marketing consent for discount offers: on a Shopify shop, offers go only to "
    "customers who accept marketing emails."
)


def validate(
    document: Any, base: Mapping[str, Any] | None = None, platform: str | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Check both parts; returns (clean document, {}) or (None, errors). A missing part keeps `base`'s.
    With the shop's `platform`, also what that platform's terms require."""
    base = base if base is not None else defaults()
    if not isinstance(document, Mapping):
        return None, {"_schema": ["Must be a JSON object with 'scoring', 'campaign' and/or 'journeys'."]}
    errors: dict[str, Any] = {key: ["Unknown field."] for key in document if key not in PARTS}
    clean: dict[str, Any] = {}
    for part, normalize in PARTS.items():
        try:
            clean[part] = normalize(document.get(part, base[part]))
        except ValidationError as exc:
            errors[part] = exc.messages
    if platform == "shopify" and "campaign" in clean and clean["campaign"].get("require_consent") is False:
        errors["campaign"] = {"require_consent": [SHOPIFY_CONSENT]}  # every offer carries a discount code
    for part, problems in segment_reference_errors(clean).items():
        errors.setdefault(part, problems)
    return (None, errors) if errors else (clean, {})


def segment_reference_errors(clean: Mapping[str, Any]) -> dict[str, Any]:
    """Journeys' audiences and scoring criteria that name a segment the document lacks (and criteria on a
    segment that tests the score or the tier, which scoring cannot depend on), per part, index and field."""
    if "segments" not in clean:
        return {}
    defined = {segment["key"]: segment for segment in clean["segments"]}
    errors: dict[str, Any] = {}
    for index, journey in enumerate(clean.get("journeys") or []):
        key = (journey.get("audience") or {}).get("segment")
        if key is not None and key not in defined:
            audience = {"audience": {"segment": [f"No segment {key!r} in this document."]}}
            errors.setdefault("journeys", {})[index] = audience
    for index, criterion in enumerate((clean.get("scoring") or {}).get("criteria") or []):
        if criterion.get("field") != "segment":
            continue
        value = criterion.get("value")
        for key in value if isinstance(value, list) else [value]:
            segment = defined.get(key)
            problem = None
            if segment is None:
                problem = f"No segment {key!r} in this document."
            elif any(c["field"] in ("score", "tier") for c in segment["conditions"]):
                problem = f"Segment {key!r} tests the score or the tier: it cannot add points to the score."
            if problem:
                errors.setdefault("scoring", {"criteria": {}})["criteria"][index] = {"value": [problem]}
                break
    return errors


def _platform(session: Session, shop_id: int) -> str | None:
    return session.scalar(sa.select(Shop.platform).where(Shop.id == shop_id))


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow messages as {"scoring.tiers.hot": ["..."]}; "_schema" names the object itself."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = prefix if key == "_schema" and prefix else f"{prefix}.{key}" if prefix else str(key)
            for name, texts in flatten_errors(value, path).items():
                flat.setdefault(name, []).extend(texts)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for name, texts in flatten_errors(item, prefix).items():
                flat.setdefault(name, []).extend(texts)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Leaf changes between two documents: [{"path": "scoring.tiers.hot", "old": 80, "new": 75}]."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = sorted({*old, *new}, key=str)  # JSONB does not keep key order: sort for a stable diff
        return [change for key in keys for change in diff(old.get(key), new.get(key), _join(path, key))]
    if isinstance(old, list) and isinstance(new, list) and any(isinstance(x, Mapping) for x in old + new):
        return [
            change
            for index in range(max(len(old), len(new)))
            for change in diff(_at(old, index), _at(new, index), _join(path, index))
        ]
    same = old == new and isinstance(old, bool) == isinstance(new, bool)  # 15 == 15.0, but not True == 1
    return [] if same else [{"path": path, "old": old, "new": new}]


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _at(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else None


def save(session: Session, shop_id: int, document: Any, actor: str, note: str, now: datetime) -> Ruleset:
    """Validate and store a new live version (raises InvalidRules); commit, then enqueue its rescore."""
    lock_shop(session, shop_id)
    _, live = current(session, shop_id)
    clean, errors = validate(document, base=live, platform=_platform(session, shop_id))
    if clean is None:
        raise InvalidRules(errors)
    return _store(session, shop_id, clean, actor, note, now, action="rules.saved")


def restore(session: Session, shop_id: int, version: int, actor: str, now: datetime) -> Ruleset:
    """Make an old version (0: the defaults) live again as a new version; LookupError if unknown."""
    lock_shop(session, shop_id)
    document = version_document(session, shop_id, version)
    if document is None:
        raise LookupError(f"no version {version}")
    clean, errors = validate(document, platform=_platform(session, shop_id))
    if clean is None:  # an old document that today's schema (or the platform's terms) refuses
        raise InvalidRules(errors)
    return _store(session, shop_id, clean, actor, f"restored v{version}", now, action="rules.restored")


def history(session: Session, shop_id: int, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Versions newest first, each with who, when, note and its diff from the version before."""
    rows = session.scalars(
        sa.select(Ruleset)
        .where(Ruleset.shop_id == shop_id)
        .order_by(Ruleset.version.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    out = []
    for index, row in enumerate(rows[:limit]):
        before = rows[index + 1].document if index + 1 < len(rows) else defaults()
        out.append({**describe(row), "diff": diff(stored(before), stored(row.document))})
    return out


def describe(row: Ruleset | None) -> dict[str, Any]:
    """Version, who and when of a ruleset row (None: the defaults)."""
    if row is None:
        return {"version": 0, "created_at": None, "created_by": None, "note": "defaults"}
    return {
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "note": row.note,
    }


def lock_shop(session: Session, shop_id: int) -> None:
    """Hold the shop's row until the transaction ends, so two saves never take the same version number."""
    # Serializes version numbering per shop on PostgreSQL; SQLite serializes writers itself and the
    # unique (shop_id, version) constraint refuses a racing duplicate either way.
    session.execute(sa.select(Shop.id).where(Shop.id == shop_id).with_for_update())


def _store(
    session: Session, shop_id: int, clean: dict[str, Any], actor: str, note: str, now: datetime, action: str
) -> Ruleset:
    version, live = current(session, shop_id)
    row = Ruleset(
        shop_id=shop_id,
        version=version + 1,
        document=clean,
        created_at=now,
        created_by=actor[:320],
        note=note[:255],
    )
    session.add(row)
    changes = diff(live, clean)
    detail = {"version": row.version, "from_version": version, "note": note[:255], "diff": changes}
    session.add(AuditLog(shop_id=shop_id, actor=actor[:320], action=action, detail=detail, at=now))
    # An older run still going is now pointless: the newer version rescores every lead anyway.
    session.execute(
        sa.update(RescoreRun)
        .where(RescoreRun.shop_id == shop_id, RescoreRun.status == "running")
        .values(status="superseded", finished_at=now, updated_at=now)
    )
    session.add(
        RescoreRun(
            shop_id=shop_id,
            version=row.version,
            status="running",
            last_lead_id=0,
            processed=0,
            tier_changes=0,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return row


def live_rules(session: Session, shop_id: int) -> dict[str, Any] | None:
    """The newest ruleset document of a shop, or None for the defaults (read once per batch transaction)."""

    def newest() -> dict[str, Any] | None:
        row = session.scalar(
            sa.select(Ruleset).where(Ruleset.shop_id == shop_id).order_by(Ruleset.version.desc()).limit(1)
        )
        return None if row is None else row.document

    return preload.once(session, ("rules", shop_id), newest)


T = TypeVar("T")
_parsed: OrderedDict[tuple[str, str], object] = OrderedDict()
_parsed_lock = threading.Lock()


def parsed(kind: str, document: Any, load: Callable[[Any], T], keep: int = 512) -> T:
    """`load(document)`, remembered by the document's content: validating a ruleset with marshmallow costs
    milliseconds and every event needs one, while a shop's rules change rarely (and never in place)."""
    key = (kind, json.dumps(document, sort_keys=True, default=str))
    with _parsed_lock:
        if key in _parsed:
            _parsed.move_to_end(key)
            return cast(T, _parsed[key])  # what `load` returned for this kind and document
    value = load(document)
    with _parsed_lock:
        _parsed[key] = value
        while len(_parsed) > keep:
            _parsed.popitem(last=False)
    return value


def scoring_rules_for(session: Session, shop_id: int) -> scoring.Rules:
    """The live scoring rules of a shop (the defaults until the merchant changes them)."""
    document = live_rules(session, shop_id)
    if document is None or "scoring" not in document:
        return scoring.default_rules()
    return parsed("scoring", document["scoring"], scoring.load_rules)


def campaign_settings_for(session: Session, shop_id: int) -> CampaignSettings:
    """The live campaign settings of a shop (the defaults until the merchant changes them); without a time
    zone of their own they take the shop's (from the store), so quiet hours, the budget month and the
    expiry in the email follow the merchant's clock."""
    document = upgrade_document(live_rules(session, shop_id) or {})
    settings = parsed("campaign", document.get("campaign") or DEFAULT_CAMPAIGN, load_stored_campaign)
    shop = session.get(Shop, shop_id)  # usually in the session already: no query
    if settings.timezone is None:
        zone = shop.timezone if shop is not None else None
        settings = dataclasses.replace(settings, timezone=zone_or_utc(zone).key)
    if shop is not None and shop.platform == "shopify" and not settings.require_consent:
        # Saving refuses it on Shopify (`save`); rules stored before that rule still never mail a
        # discount to a customer who did not accept marketing emails.
        settings = dataclasses.replace(settings, require_consent=True)
    return settings


def journeys_for(session: Session, shop_id: int) -> tuple[Journey, ...]:
    """The live journeys of a shop, in routing order (the defaults until the merchant changes them)."""
    document = live_rules(session, shop_id)
    if document is None:
        return parsed("journeys", None, lambda _: load_journeys(default_journeys()))
    return parsed(
        "journeys", document, lambda doc: load_journeys(upgrade_document(doc)["journeys"], stored=True)
    )


def prospect_settings_for(session: Session, shop_id: int) -> ProspectSettings:
    """The live settings of the prospects queue (the defaults until the merchant changes them)."""
    document = live_rules(session, shop_id) or {}
    return parsed("prospects", document.get("prospects"), load_prospects)


def alerts_for(session: Session, shop_id: int) -> AlertSettings:
    """The live alert settings of a shop (none until the merchant sets some)."""
    document = live_rules(session, shop_id)
    return parsed("alerts", (document or {}).get("alerts") or DEFAULT_ALERTS, load_alerts)
