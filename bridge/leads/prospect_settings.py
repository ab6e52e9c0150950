"""The `prospects` part of the rules document: which leads enter the sales queue, and how soon someone
should answer them.

    {"enabled": true, "entry": {"tier": "hot"}, "response_hours": 24}

`entry` is `{"tier": "warm"|"hot"}` (a lead whose own activity moves it into that tier or above enters) or
`{"segment": "<key>"}` (a merchant's segment; validated here, entered by the segments' part when it lands).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

ENTRY_TIERS = ("warm", "hot")
SEGMENT_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_RESPONSE_HOURS = 24 * 30
DEFAULT_PROSPECTS: dict[str, Any] = {"enabled": True, "entry": {"tier": "hot"}, "response_hours": 24}


@dataclass(frozen=True)
class ProspectSettings:
    """What the queue takes in and its response target."""

    enabled: bool = True
    entry_tier: str | None = "hot"  # None when the entry is a segment
    entry_segment: str | None = None
    response_hours: int = 24

    @property
    def reason(self) -> str:
        """The entry reason stored on a prospect: "tier:hot", "segment:<key>"."""
        return f"tier:{self.entry_tier}" if self.entry_tier else f"segment:{self.entry_segment}"


class EntrySchema(Schema):
    class Meta:
        unknown = RAISE

    tier = fields.String(validate=validate.OneOf(ENTRY_TIERS))
    segment = fields.String(
        validate=validate.Regexp(SEGMENT_KEY, error="Must be a segment key (a-z, 0-9, - and _).")
    )

    @validates_schema
    def _one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(data) != 1:
            raise ValidationError("Give either 'tier' or 'segment'.", "_schema")


class ProspectsSchema(Schema):
    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=True)
    entry = fields.Nested(EntrySchema, load_default=lambda: {"tier": "hot"})
    response_hours = fields.Integer(
        strict=True, load_default=24, validate=validate.Range(min=1, max=MAX_RESPONSE_HOURS)
    )


def load_prospects(document: Any) -> ProspectSettings:
    """The settings of a `prospects` part (raises marshmallow.ValidationError with per-field messages)."""
    if document is None:
        document = DEFAULT_PROSPECTS
    data = ProspectsSchema().load(document)
    return ProspectSettings(
        enabled=data["enabled"],
        entry_tier=data["entry"].get("tier"),
        entry_segment=data["entry"].get("segment"),
        response_hours=data["response_hours"],
    )


def dump_prospects(settings: ProspectSettings) -> dict[str, Any]:
    """The part as stored in the rules document."""
    entry = {"tier": settings.entry_tier} if settings.entry_tier else {"segment": settings.entry_segment}
    return {"enabled": settings.enabled, "entry": entry, "response_hours": settings.response_hours}
