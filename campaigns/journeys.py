"""Journeys: the rules document's `journeys` list, validated into frozen values, and the pure decisions
about them: which journey a trigger starts, which control group a run falls in, when its next step is due.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from campaigns.holdout import holdout_position
from campaigns.locales import normalize_locale
from campaigns.settings import Amount
from campaigns.templating import message_problems

TRIGGERS = ("cart_abandoned", "signup", "browse_abandoned", "tier_entered")
TIERS = ("cold", "warm", "hot", "customer")
OFFER_KINDS = ("percentage", "fixed_amount", "free_shipping")
# Pressure priorities by default: a cart before a hot lead's offer, before browsing, before a welcome.
DEFAULT_PRIORITY = {"cart_abandoned": 40, "tier_entered": 30, "browse_abandoned": 20, "signup": 10}
MAX_STEPS = 15
MAX_JOURNEYS = 30
MAX_AFTER_MINUTES = 60 * 24 * 90  # a step at most 90 days after its trigger


@dataclass(frozen=True)
class StepOffer:
    """The code a step carries: minted just before the step goes out, valid `expires_hours` from the send."""

    kind: str
    value: Decimal
    expires_hours: int
    minimum_order: Decimal = Decimal(0)


@dataclass(frozen=True)
class StepMessage:
    """One locale's subject and body (plain text with {{ placeholders }}; the layout does the design)."""

    subject: str
    body: str


@dataclass(frozen=True)
class Step:
    after_minutes: int
    messages: Mapping[str, StepMessage]
    offer: StepOffer | None = None
    max_delay_hours: int | None = None


@dataclass(frozen=True)
class Audience:
    """Which leads may enter: tiers (None: any) and a segment key of the rules document (None: any)."""

    tiers: tuple[str, ...] | None = None
    segment: str | None = None

    def admits(self, tier: str) -> bool:
        return self.tiers is None or tier in self.tiers


@dataclass(frozen=True)
class Journey:
    key: str
    trigger: str
    steps: tuple[Step, ...]
    enabled: bool = True
    audience: Audience = Audience()
    holdout_share: float = 0.1
    tier: str | None = None  # tier_entered: the tier whose entry starts the journey
    min_views: int = 2  # browse_abandoned: products viewed before the browse counts
    priority: int | None = None  # None: DEFAULT_PRIORITY of the trigger
    name: str = ""

    @property
    def rank(self) -> int:
        return self.priority if self.priority is not None else DEFAULT_PRIORITY[self.trigger]


class StepOfferSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(OFFER_KINDS))
    value = Amount(load_default=Decimal(0), validate=validate.Range(min=0))
    expires_hours = fields.Integer(strict=True, required=True, validate=validate.Range(1, 720))
    minimum_order = Amount(load_default=Decimal(0), validate=validate.Range(min=0))

    @validates_schema
    def _check_value(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, value = data.get("kind"), data.get("value", Decimal(0))
        if kind == "percentage" and not 1 <= value <= 100:
            raise ValidationError("A percentage discount must be between 1 and 100.", "value")
        if kind == "fixed_amount" and value <= 0:
            raise ValidationError("A fixed discount must be more than 0.", "value")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> StepOffer:
        return StepOffer(**data)


class StepMessageSchema(Schema):
    subject = fields.String(required=True, validate=validate.Length(1, 500))
    body = fields.String(required=True, validate=validate.Length(1, 10_000))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> StepMessage:
        return StepMessage(**data)


def _check_messages(value: Mapping[str, Any]) -> None:
    """Locales are BCP 47 tags; each locale's subject and body must render (the locale and line named)."""
    if not value:
        raise ValidationError("Give at least one locale's subject and body.")
    problems: dict[str, Any] = {}
    for tag, message in value.items():
        if normalize_locale(tag) != tag:
            problems[tag] = [f"Use a BCP 47 language tag such as 'fr' or 'fr-CA', not {tag!r}."]
        elif found := message_problems(message.subject, message.body):
            problems[tag] = found
    if problems:
        raise ValidationError(problems)


class StepSchema(Schema):
    after_minutes = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_AFTER_MINUTES))
    max_delay_hours = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, 24 * 30)
    )
    offer = fields.Nested(StepOfferSchema, allow_none=True, load_default=None)
    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), required=True, validate=_check_messages
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Step:
        return Step(**data)


class AudienceSchema(Schema):
    tiers = fields.List(
        fields.String(validate=validate.OneOf(TIERS)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1),
    )
    segment = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 40))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Audience:
        tiers = data["tiers"]
        return Audience(tiers=tuple(dict.fromkeys(tiers)) if tiers else None, segment=data["segment"])


class JourneySchema(Schema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9_-]{0,39}\Z", error="Use 1 to 40 lower-case letters, digits, '-' or '_'."
        ),
    )
    name = fields.String(load_default="", validate=validate.Length(max=100))
    trigger = fields.String(required=True, validate=validate.OneOf(TRIGGERS))
    enabled = fields.Boolean(load_default=True)
    audience = fields.Nested(AudienceSchema, load_default=lambda: {})
    holdout_share = fields.Float(load_default=0.1, validate=validate.Range(0, 0.5))
    tier = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(TIERS[1:3]))
    min_views = fields.Integer(strict=True, load_default=2, validate=validate.Range(1, 50))
    priority = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(0, 100)
    )
    steps = fields.List(fields.Nested(StepSchema), required=True, validate=validate.Length(1, MAX_STEPS))

    @validates_schema(skip_on_field_errors=True)
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        offsets = [step.after_minutes for step in data["steps"]]
        if any(later <= earlier for earlier, later in itertools.pairwise(offsets)):
            raise ValidationError("Each step must come later than the one before it.", "steps")
        if data["trigger"] == "tier_entered" and data.get("tier") is None:
            raise ValidationError("Say which tier's entry starts the journey: 'warm' or 'hot'.", "tier")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Journey:
        if isinstance(data["audience"], Mapping):
            data["audience"] = Audience()
        data["steps"] = tuple(data["steps"])
        return Journey(**data)


def _check_tags(value: Mapping[str, Any]) -> None:
    """A stored step's locales: only the tags are checked (see StoredStepSchema)."""
    if not value:
        raise ValidationError("Give at least one locale's subject and body.")
    if bad := [tag for tag in value if normalize_locale(tag) != tag]:
        raise ValidationError(f"Not BCP 47 language tags: {', '.join(map(repr, bad))}.")


class StoredStepSchema(StepSchema):
    """A step saved earlier: its templates are not checked again. Every job reads the journeys, and a
    template that a check added since refuses must not stop them all; it still never renders unbounded
    (the sandbox's limits apply when it renders, which fails that one send with the reason)."""

    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), required=True, validate=_check_tags
    )


class StoredJourneySchema(JourneySchema):
    steps = fields.List(
        fields.Nested(StoredStepSchema), required=True, validate=validate.Length(1, MAX_STEPS)
    )


def load_journeys(document: Any, stored: bool = False) -> tuple[Journey, ...]:
    """Validate the `journeys` list; raises ValidationError with messages per index and field. `stored`:
    a list saved earlier, whose templates are not checked again (StoredStepSchema)."""
    if not isinstance(document, list):
        raise ValidationError(["Must be a list of journeys."])
    if len(document) > MAX_JOURNEYS:
        raise ValidationError([f"At most {MAX_JOURNEYS} journeys."])
    schema = StoredJourneySchema(many=True) if stored else JourneySchema(many=True)
    loaded: list[Journey] = schema.load(document)
    keys = [journey.key for journey in loaded]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise ValidationError({keys.index(duplicates[0]): {"key": [f"{duplicates[0]!r} is used twice."]}})
    return tuple(loaded)


def dump_journeys(journeys: Sequence[Journey]) -> list[dict[str, Any]]:
    """The JSON list of the journeys (the inverse of load_journeys)."""
    return [dump_journey(journey) for journey in journeys]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def dump_journey(journey: Journey) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": journey.key,
        "name": journey.name,
        "trigger": journey.trigger,
        "enabled": journey.enabled,
        "audience": {
            "tiers": list(journey.audience.tiers) if journey.audience.tiers else None,
            "segment": journey.audience.segment,
        },
        "holdout_share": journey.holdout_share,
        "tier": journey.tier,
        "min_views": journey.min_views,
        "priority": journey.priority,
        "steps": [],
    }
    for step in journey.steps:
        offer = step.offer
        doc["steps"].append(
            {
                "after_minutes": step.after_minutes,
                "max_delay_hours": step.max_delay_hours,
                "offer": None
                if offer is None
                else {
                    "kind": offer.kind,
                    "value": _number(offer.value),
                    "expires_hours": offer.expires_hours,
                    "minimum_order": _number(offer.minimum_order),
                },
                "messages": {tag: {"subject": m.subject, "body": m.body} for tag, m in step.messages.items()},
            }
        )
    return doc


def route(
    journeys: Sequence[Journey],
    trigger: str,
    tier: str,
    entered: str | None = None,
    in_segment: Callable[[str], bool] | None = None,
) -> Journey | None:
    """The first enabled journey, in list order, that this trigger starts for a lead of this tier.
    `in_segment(key)` tells whether the lead belongs to a segment (None: unknown, as in a forecast over
    past triggers, and a journey restricted to a segment is not ruled out)."""
    for journey in journeys:
        if not journey.enabled or journey.trigger != trigger or not journey.audience.admits(tier):
            continue
        segment = journey.audience.segment
        if segment is not None and in_segment is not None and not in_segment(segment):
            continue
        if trigger == "tier_entered" and journey.tier != entered:
            continue
        return journey
    return None


def holdout_stop(run_key: str, share: float, steps: int) -> int | None:
    """The run's control group: "stop before step k" (k in 0..steps-1), or None (it gets every step).

    The holdout share is split evenly across the steps, so each step has a control group of runs that
    reached it and were not sent it: step k's increment is what it adds over steps 0..k-1.
    """
    position = holdout_position(f"journey:{run_key}")
    if share <= 0 or steps <= 0 or position >= share:
        return None
    return min(int(position / share * steps), steps - 1)


def first_due(journey: Journey, trigger_at: datetime) -> datetime:
    return trigger_at + timedelta(minutes=journey.steps[0].after_minutes)


def next_due(journey: Journey, trigger_at: datetime, sent_step: int, sent_at: datetime) -> datetime | None:
    """When the step after `sent_step` is due: its offset from the trigger, and never sooner after the
    previous step's real send than the difference of their offsets (a late run sends one step at a time).
    None when `sent_step` was the last."""
    following = sent_step + 1
    if following >= len(journey.steps):
        return None
    offset = journey.steps[following].after_minutes
    gap = offset - journey.steps[sent_step].after_minutes
    return max(trigger_at + timedelta(minutes=offset), sent_at + timedelta(minutes=gap))
