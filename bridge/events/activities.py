"""Activities from the merchant's other tools (`POST /api/v1/activities`): the stored event and its facts.

The endpoint (bridge.api.activities) stores each activity as an event of topic `api/activity`, keyed
`api:<the caller's id>`, so a repeat is the same delivery and adds nothing; the pipeline turns it into one
`Activity` fact here. The caller is the merchant, authenticated by the shop's API key: unlike storefront
events, an activity may create the lead its e-mail names. It never changes consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import Activity, Envelope, Fact, PayloadError

TOPIC = "api/activity"
PREFIX = "api/"
REF_PREFIX = "api:"


def delivery_key(caller_id: str) -> str:
    """The event's de-duplication key: the caller's own id."""
    return f"{REF_PREFIX}{caller_id}"


def envelope(document: Mapping[str, Any]) -> Envelope:
    """The identity of one stored activity."""
    return Envelope(
        topic=TOPIC,
        delivery_key=delivery_key(str(document["id"])),
        triggered_at=datetime.fromisoformat(str(document["occurred_at"])),
    )


def activity_ref(document: Mapping[str, Any]) -> str:
    """What makes the activity one: the caller's `ref` (the thing it is about: the same webinar, the same
    white paper counts once per kind), else the caller's id."""
    ref = document.get("ref") or document.get("id")
    return f"{REF_PREFIX}{ref}"


class ApiActivities:
    """FactReader of `api/activity` events."""

    platform = "api"

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """One activity for the lead named by the e-mail."""
        if topic != TOPIC:
            raise PayloadError(f"not an API activity: {topic[:60]!r}")
        kind, email = payload.get("kind"), payload.get("email")
        if not isinstance(kind, str) or not kind or not isinstance(email, str) or not email:
            raise PayloadError("an API activity without a kind or an e-mail")
        try:
            occurred = datetime.fromisoformat(str(payload["occurred_at"]))
        except (KeyError, ValueError) as exc:
            raise PayloadError("occurred_at is missing or not a time") from exc
        occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
        return [Activity(kind, occurred, activity_ref(payload)[:255], None, email)]


API_ACTIVITIES = ApiActivities()
