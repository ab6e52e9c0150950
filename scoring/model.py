"""Values that go into scoring and the explained score that comes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One thing a lead did; `kind` is one of ACTIVITY_KINDS, `occurred_at` is aware (UTC)."""

    kind: str
    occurred_at: datetime
    ref: str = ""
    storefront: bool = False  # from a storefront event, which anyone can send: capped (scoring.engine)


@dataclass(frozen=True, slots=True)
class ProductTouch:
    """A lead's latest view, add or purchase of one product, with the product's collections and tags."""

    action: str  # "viewed" | "added" | "bought"
    product_id: str
    last_at: datetime  # aware (UTC)
    collections: tuple[str, ...] = ()  # lower-cased handles, as the product store keeps them
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """What we know about a lead, for profile criteria and the customer tier."""

    email: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    accepts_marketing: bool | None = None  # None: unknown
    is_customer: bool = False
    orders_count: int = 0
    first_name: str | None = None
    last_name: str | None = None
    total_spent: float = 0.0
    source: str | None = None  # lead source, e.g. the first visit's utm_source
    products: tuple[ProductTouch, ...] = ()  # what the lead viewed, added and bought (segments' affinity)
    segments: frozenset[str] = frozenset()  # keys of the segments the lead belongs to (scoring.segments)


@dataclass(frozen=True, slots=True)
class BreakdownLine:
    """One reason for a score: an activity kind or a matching profile criterion."""

    rule: str  # "activity:<kind>" or "profile:<slug>"
    label: str
    count: int  # activities of that kind the lead has (1 for a profile criterion)
    points_before: float  # count x points: before decay, caps and first_only
    points: float  # what counts towards the score


@dataclass(frozen=True, slots=True)
class Score:
    """A lead's score: clamped total, tier, unclamped raw sum and its explanation."""

    total: int
    tier: str  # "cold" | "warm" | "hot" | "customer"
    raw: float  # == sum(line.points for line in breakdown)
    breakdown: tuple[BreakdownLine, ...]
