"""Journeys for the integration tests: small rules documents written straight to the table, and the clock
moved past a due step so the journeys' sweep hands it out (as the one-minute cron does in production)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import JourneyRun, Ruleset
from bridge.infra.context import Context
from bridge.outreach import journey_sweep

# One English message that shows the code, its expiry and the link back when the step has a code, and reads
# as a reminder when it has none (the layout around it may add more; these tests need only this much).
CODE_MESSAGES = {
    "en": {
        "subject": "{{ merchant_name }}: "
        "{% if code %}{{ discount }} off your cart{% else %}your cart{% endif %}",
        "body": "Hello {{ first_name }},\n\n{% if code %}Your code {{ code }} takes {{ discount }} off until "
        "{{ expires_text }}.{% else %}Your cart is still waiting.{% endif %}\n\n{{ recovery_url }}",
    }
}


def code_step(
    after_minutes: int = 1,
    value: float = 10,
    expires_hours: int = 24,
    minimum_order: float = 0,
    kind: str = "percentage",
    messages: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A step that carries a code minted just before it goes out."""
    return {
        "after_minutes": after_minutes,
        "max_delay_hours": None,
        "offer": {
            "kind": kind,
            "value": value,
            "expires_hours": expires_hours,
            "minimum_order": minimum_order,
        },
        "messages": messages or CODE_MESSAGES,
    }


def journey(
    key: str = "cart",
    trigger: str = "cart_abandoned",
    steps: list[dict[str, Any]] | None = None,
    holdout_share: float = 0,
    **fields: Any,
) -> dict[str, Any]:
    """A journey for every tier (one code step a minute after its trigger unless `steps` say otherwise)."""
    return {
        "key": key,
        "trigger": trigger,
        "holdout_share": holdout_share,
        "steps": steps or [code_step()],
        **fields,
    }


def hot_lead_journey(**fields: Any) -> dict[str, Any]:
    """A lead moving up into hot gets one code step a minute later (the single-offer era's hot-lead offer)."""
    return journey(key="hot-lead", trigger="tier_entered", tier="hot", **fields)


def single_offer_journeys(holdout_share: float = 0, **step: Any) -> list[dict[str, Any]]:
    """The single offer as journeys: one code step a minute after abandonment for every tier, and the same
    for a lead that becomes hot."""
    return [
        journey(holdout_share=holdout_share, steps=[code_step(**step)]),
        hot_lead_journey(holdout_share=holdout_share, steps=[code_step(**step)]),
    ]


def campaign(**changes: Any) -> dict[str, Any]:
    """Campaign settings that send at once (no quiet hours), with `changes`."""
    return {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None, **changes}


def write_rules(ctx: Context, shop_id: int, document: dict[str, Any]) -> None:
    """Store `document` as the shop's next rules version, as it is (no validation: like a stored one)."""
    with transaction(ctx.sessions) as session:
        version = session.scalar(sa.select(sa.func.max(Ruleset.version)).where(Ruleset.shop_id == shop_id))
        session.add(
            Ruleset(
                shop_id=shop_id,
                version=(version or 0) + 1,
                document=document,
                created_at=ctx.now(),
                created_by="t",
            )
        )


def live_document(ctx: Context, shop_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        return session.scalars(
            sa.select(Ruleset.document).where(Ruleset.shop_id == shop_id).order_by(Ruleset.version.desc())
        ).first()


def change_rules(ctx: Context, shop_id: int, **parts: Any) -> None:
    """A new version whose parts (`campaign`, `journeys`, `scoring`) are replaced by `parts`."""
    write_rules(ctx, shop_id, {**live_document(ctx, shop_id), **parts})


def send_due_steps(ctx: Context, clock: Any, run_jobs: Any, minutes: float = 1) -> int:
    """Move the clock `minutes` on, then run the journeys' sweep and its jobs; how many runs it handed out.

    The sweep marks a run handed out in Redis for a few real minutes; the test clock runs faster than
    Redis's, so the marks of earlier sweeps are dropped first (as if those minutes had passed)."""
    clock.advance(minutes=minutes)
    marks = list(ctx.redis.scan_iter("relance:run-queued:*"))
    if marks:
        ctx.redis.delete(*marks)
    handed = journey_sweep.sweep_due(ctx)
    run_jobs()
    return handed


def runs(ctx: Context, *where: Any) -> list[JourneyRun]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(JourneyRun).where(*where).order_by(JourneyRun.id)))
