"""Journeys: the rules document's `journeys` list, validated into frozen values, and the pure decisions
about them: which journey a trigger starts, which control group a run falls in, when its next step is due.

**A/B tests.** A step may hold variants: the step's own content is variant "a" (its `weight` says how
often it goes out), and `variants` lists one to three others, each with a `key` (a slug other than "a"),
a `weight`, and what it changes: `messages` (every locale's subject and body), `offer` (a code of its own,
or null for no code) and `after_minutes` (its delay); what a variant leaves out is the step's own. A run's
variant at a step is drawn from the weights by a hash of the shop, the run's trigger instance and the step
(`assign_variant`): the same run always gets the same variant, and a run held out at a step gets none.
"""

from __future__ import annotations

import copy
import dataclasses
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
OWN_VARIANT = "a"  # the step's own content, in an A/B test
MAX_VARIANTS = 3  # besides the step's own: at most four versions of a step
MAX_WEIGHT = 1000


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
class Variant:
    """One of a step's other versions: what it leaves None (messages, after_minutes) is the step's own; its
    offer is its own only when `own_offer` (then None means no code)."""

    key: str
    weight: int
    messages: Mapping[str, StepMessage] | None = None
    offer: StepOffer | None = None
    own_offer: bool = False
    after_minutes: int | None = None


@dataclass(frozen=True)
class Step:
    after_minutes: int
    messages: Mapping[str, StepMessage]
    offer: StepOffer | None = None
    max_delay_hours: int | None = None
    weight: int | None = None  # variant "a"'s weight, when the step has variants
    variants: tuple[Variant, ...] = ()

    @property
    def offsets(self) -> tuple[int, ...]:
        """Every delay this step may have: its own and its variants'."""
        return (self.after_minutes, *(v.after_minutes for v in self.variants if v.after_minutes is not None))


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


class VariantSchema(Schema):
    key = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9_-]{0,19}\Z", error="Use 1 to 20 lower-case letters, digits, '-' or '_'."
        ),
    )
    weight = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_WEIGHT))
    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), validate=_check_messages
    )
    offer = fields.Nested(StepOfferSchema, allow_none=True)  # absent: the step's; null: no code
    after_minutes = fields.Integer(strict=True, validate=validate.Range(1, MAX_AFTER_MINUTES))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Variant:
        return Variant(**data, own_offer="offer" in data)


class StepSchema(Schema):
    after_minutes = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_AFTER_MINUTES))
    max_delay_hours = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, 24 * 30)
    )
    offer = fields.Nested(StepOfferSchema, allow_none=True, load_default=None)
    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), required=True, validate=_check_messages
    )
    weight = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, MAX_WEIGHT)
    )
    variants = fields.List(
        fields.Nested(VariantSchema), load_default=list, validate=validate.Length(max=MAX_VARIANTS)
    )

    @validates_schema(skip_on_field_errors=True)
    def _check_variants(self, data: dict[str, Any], **kwargs: Any) -> None:
        variants = data.get("variants") or []
        if not variants:
            return
        if data.get("weight") is None:
            raise ValidationError("Give the step's own weight (it is variant 'a' of the test).", "weight")
        seen = {OWN_VARIANT}
        for index, variant in enumerate(variants):
            if variant.key in seen:
                taken = "is the step's own" if variant.key == OWN_VARIANT else "is used twice"
                raise ValidationError({index: {"key": [f"{variant.key!r} {taken}."]}}, "variants")
            seen.add(variant.key)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Step:
        data["variants"] = tuple(data.get("variants") or ())
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
        if late := _variant_offsets(data["steps"]):
            raise ValidationError(late, "steps")
        if data["trigger"] == "tier_entered" and data.get("tier") is None:
            raise ValidationError("Say which tier's entry starts the journey: 'warm' or 'hot'.", "tier")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Journey:
        if isinstance(data["audience"], Mapping):
            data["audience"] = Audience()
        data["steps"] = tuple(data["steps"])
        return Journey(**data)


def _variant_offsets(steps: Sequence[Step]) -> dict[int, Any]:
    """Errors for variants whose delay is not strictly between every delay of the steps around them."""
    errors: dict[int, Any] = {}
    for index, step in enumerate(steps):
        after = max(steps[index - 1].offsets) if index else 0
        before = min(steps[index + 1].offsets) if index + 1 < len(steps) else MAX_AFTER_MINUTES + 1
        for number, variant in enumerate(step.variants):
            if variant.after_minutes is not None and not after < variant.after_minutes < before:
                message = (
                    f"Must be later than {after} and earlier than {before} minutes, so the steps stay in "
                    "order whichever variant a run gets."
                )
                errors.setdefault(index, {"variants": {}})["variants"][number] = {"after_minutes": [message]}
    return errors


def _check_tags(value: Mapping[str, Any]) -> None:
    """A stored step's locales: only the tags are checked (see StoredStepSchema)."""
    if not value:
        raise ValidationError("Give at least one locale's subject and body.")
    if bad := [tag for tag in value if normalize_locale(tag) != tag]:
        raise ValidationError(f"Not BCP 47 language tags: {', '.join(map(repr, bad))}.")


class StoredVariantSchema(VariantSchema):
    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), validate=_check_tags
    )


class StoredStepSchema(StepSchema):
    """A step saved earlier: its templates are not checked again. Every job reads the journeys, and a
    template that a check added since refuses must not stop them all; it still never renders unbounded
    (the sandbox's limits apply when it renders, which fails that one send with the reason)."""

    messages = fields.Dict(
        keys=fields.String(), values=fields.Nested(StepMessageSchema), required=True, validate=_check_tags
    )
    variants = fields.List(
        fields.Nested(StoredVariantSchema), load_default=list, validate=validate.Length(max=MAX_VARIANTS)
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
        out: dict[str, Any] = {
            "after_minutes": step.after_minutes,
            "max_delay_hours": step.max_delay_hours,
            "offer": _dump_offer(step.offer),
            "messages": _dump_messages(step.messages),
        }
        if step.variants:
            out["weight"] = step.weight
            out["variants"] = [_dump_variant(variant) for variant in step.variants]
        doc["steps"].append(out)
    return doc


def _dump_offer(offer: StepOffer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {
        "kind": offer.kind,
        "value": _number(offer.value),
        "expires_hours": offer.expires_hours,
        "minimum_order": _number(offer.minimum_order),
    }


def _dump_messages(messages: Mapping[str, StepMessage]) -> dict[str, Any]:
    return {tag: {"subject": m.subject, "body": m.body} for tag, m in messages.items()}


def _dump_variant(variant: Variant) -> dict[str, Any]:
    """A variant as written: only what it changes (an absent offer is the step's, a null one no code)."""
    out: dict[str, Any] = {"key": variant.key, "weight": variant.weight}
    if variant.messages is not None:
        out["messages"] = _dump_messages(variant.messages)
    if variant.own_offer:
        out["offer"] = _dump_offer(variant.offer)
    if variant.after_minutes is not None:
        out["after_minutes"] = variant.after_minutes
    return out


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


def variant_position(run_key: str, index: int) -> float:
    """The run's uniform number in [0, 1) for the A/B test of step `index` (independent of its holdout's)."""
    return holdout_position(f"{run_key}:{index}:variants")


def assign_variant(step: Step, position: float) -> str | None:
    """The variant a position in [0, 1) falls on, the weights laid end to end ("a" first, then the
    variants in order); None for a step without variants."""
    if not step.variants:
        return None
    choices = [(OWN_VARIANT, step.weight or 1), *((v.key, v.weight) for v in step.variants)]
    point = position * sum(weight for _, weight in choices)
    for key, weight in choices:
        if point < weight:
            return key
        point -= weight
    return choices[-1][0]  # a rounding at the very end of the range


def with_variant(step: Step, key: str | None) -> Step:
    """The step as variant `key` has it (the step's own for "a", None or a key it no longer has), without
    its variants."""
    variant = next((v for v in step.variants if v.key == key), None)
    if variant is None:
        return dataclasses.replace(step, variants=())
    return dataclasses.replace(
        step,
        after_minutes=variant.after_minutes if variant.after_minutes is not None else step.after_minutes,
        messages=variant.messages if variant.messages is not None else step.messages,
        offer=variant.offer if variant.own_offer else step.offer,
        variants=(),
    )


def run_step(
    journey: Journey, index: int, run_key: str | None = None, holdout_stop: int | None = None
) -> tuple[str | None, Step]:
    """(the run's variant, the step as the run gets it) at step `index`: no variant without a run key, for
    a step without variants, or for a run held out at that step (it gets nothing, and is timed as "a")."""
    step = journey.steps[index]
    if run_key is None or holdout_stop == index or not step.variants:
        return None, with_variant(step, None)
    key = assign_variant(step, variant_position(run_key, index))
    return key, with_variant(step, key)


def first_due(
    journey: Journey, trigger_at: datetime, run_key: str | None = None, holdout_stop: int | None = None
) -> datetime:
    """When the first step is due (with its variant's delay for the run `run_key`)."""
    _, step = run_step(journey, 0, run_key, holdout_stop)
    return trigger_at + timedelta(minutes=step.after_minutes)


def next_due(
    journey: Journey,
    trigger_at: datetime,
    sent_step: int,
    sent_at: datetime,
    run_key: str | None = None,
    holdout_stop: int | None = None,
) -> datetime | None:
    """When the step after `sent_step` is due: its offset from the trigger, and never sooner after the
    previous step's real send than the difference of their offsets (a late run sends one step at a time).
    With `run_key`, each step's offset is the run's variant's. None when `sent_step` was the last."""
    following = sent_step + 1
    if following >= len(journey.steps):
        return None
    offset = run_step(journey, following, run_key, holdout_stop)[1].after_minutes
    gap = offset - run_step(journey, sent_step, run_key, holdout_stop)[1].after_minutes
    return max(trigger_at + timedelta(minutes=offset), sent_at + timedelta(minutes=gap))


def promote_variant(step: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A step document (as `dump_journey` writes it) with variant `key`'s content as its own and no
    variants left: the A/B test ends on that variant. KeyError for a variant the step does not have."""
    variants = list(step.get("variants") or [])
    out = {name: value for name, value in step.items() if name not in ("weight", "variants")}
    if key == OWN_VARIANT and variants:
        return out
    variant = next((v for v in variants if v.get("key") == key), None)
    if variant is None:
        raise KeyError(key)
    for name in ("messages", "offer", "after_minutes"):
        if name in variant:
            out[name] = copy.deepcopy(variant[name])
    return out


def promoted(
    journeys: Sequence[Mapping[str, Any]], key: str, index: int, variant: str
) -> list[dict[str, Any]]:
    """A copy of the journeys list (documents) where step `index` of journey `key` takes variant `variant`
    for good (`promote_variant`). LookupError: no such journey or step, or a step without variants;
    KeyError: the step has no such variant."""
    out = copy.deepcopy([dict(journey) for journey in journeys])
    journey = next((j for j in out if j.get("key") == key), None)
    steps = list(journey.get("steps") or []) if journey is not None else []
    if journey is None or not 0 <= index < len(steps):
        raise LookupError(f"no step {index} in journey {key!r}")
    if not steps[index].get("variants"):
        raise LookupError(f"step {index} of journey {key!r} holds no A/B test")
    steps[index] = promote_variant(steps[index], variant)
    journey["steps"] = steps
    return out
