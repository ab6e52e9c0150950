"""Segments over the database: the conditions of scoring.segments compiled to SQL (SQLAlchemy Core), for
counting, sampling, filtering and exporting a shop's leads at scale, and the same leads' facts loaded for the
pure evaluator (scoring criteria on segments, one lead's membership).

The SQL keeps the pure evaluator's rules (scoring/segments.py): NULL plays "unknown" (three-valued logic
never turns an unknown into a match, and nothing here negates a nullable expression), text is trimmed and
folded A-Z only, empty text is NULL. Product conditions are EXISTS over lead_products (joined to products for
collections and tags, whose JSON lists are searched with json_each on SQLite, jsonb_array_elements_text on
PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import scoring
from bridge.db.models import Lead, LeadProduct, Product
from bridge.infra.logs import mask
from bridge.leads import rules
from scoring import segments as pure
from scoring.segments import Condition, LeadFacts, Segment

SAMPLE_SIZE = 10
EXPORT_BATCH = 1000
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_DAYS_AS_TIME = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
Expr = sa.ColumnElement[Any]


def shop_segments(session: Session, shop_id: int) -> dict[str, Segment]:
    """The live segments of a shop by key (none until the merchant saves some)."""
    document = rules.live_rules(session, shop_id) or {}
    loaded = rules.parsed("segments", document.get("segments") or [], pure.load_segments)
    return {segment.key: segment for segment in loaded}


def referenced(rules_: scoring.Rules) -> set[str]:
    """The segment keys that the scoring criteria name."""
    keys: set[str] = set()
    for criterion in rules_.criteria:
        if criterion.field == "segment":
            value = criterion.value
            keys.update(map(str, value) if isinstance(value, tuple) else [str(value)])
    return keys


def where(segment: Segment, now: datetime, dialect: str) -> Expr:
    """The segment as a condition on `leads` (correlated: use it in a query of Lead)."""
    parts = [condition_sql(condition, now, dialect) for condition in segment.conditions]
    return sa.and_(*parts) if segment.match == "all" else sa.or_(*parts)


def members(session: Session, shop_id: int, segment: Segment, now: datetime) -> sa.Select[Any]:
    """The query of the shop's (not erased) leads in the segment."""
    return sa.select(Lead).where(
        Lead.shop_id == shop_id, Lead.redacted_at.is_(None), where(segment, now, dialect_of(session))
    )


def count(session: Session, shop_id: int, segment: Segment, now: datetime) -> int:
    """How many of the shop's leads are in the segment."""
    query = members(session, shop_id, segment, now).with_only_columns(sa.func.count(Lead.id))
    return int(session.scalar(query) or 0)


def preview(session: Session, shop_id: int, segment: Segment, now: datetime) -> dict[str, Any]:
    """The count and a sample (highest scores first, emails masked): what the merchant sees before saving."""
    rows = session.scalars(
        members(session, shop_id, segment, now).order_by(Lead.score.desc(), Lead.id).limit(SAMPLE_SIZE)
    ).all()
    sample = [
        {
            "id": lead.id,
            "email": mask(lead.email) if lead.email else None,
            "score": lead.score,
            "tier": lead.tier,
        }
        for lead in rows
    ]
    return {"count": count(session, shop_id, segment, now), "sample": sample}


def is_member(session: Session, shop_id: int, segment: Segment, lead_id: int, now: datetime) -> bool:
    """Whether one lead is in the segment now."""
    query = members(session, shop_id, segment, now).where(Lead.id == lead_id)
    return session.scalar(sa.select(query.exists())) is True


def member_keys(session: Session, shop_id: int, lead_id: int, now: datetime) -> list[str]:
    """The keys of the shop's segments that one lead belongs to now, in the document's order."""
    return [
        key
        for key, segment in shop_segments(session, shop_id).items()
        if is_member(session, shop_id, segment, lead_id, now)
    ]


def export_batches(
    session: Session, shop_id: int, segment: Segment, now: datetime, batch: int = EXPORT_BATCH
) -> Iterator[Sequence[Lead]]:
    """The segment's leads in id order, a batch at a time (keyset pages: memory stays flat)."""
    after = 0
    while True:
        rows = session.scalars(
            members(session, shop_id, segment, now).where(Lead.id > after).order_by(Lead.id).limit(batch)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


# --- conditions -------------------------------------------------------------------------------------------


def condition_sql(condition: Condition, now: datetime, dialect: str) -> Expr:
    """One condition as SQL over `leads`."""
    kind = pure.SEGMENT_FIELDS[condition.field]
    if kind == "product":
        return _product_sql(condition, now, dialect)
    column: Expr = _column(condition.field, dialect)
    op, value = condition.operator, condition.value
    if kind == "days":
        assert isinstance(value, float)
        compared: Expr = _COMPARE[_DAYS_AS_TIME[op]](column, now - timedelta(days=value))
        return compared
    if op in ("in", "not_in"):
        assert isinstance(value, tuple)
        return column.in_(value) if op == "in" else column.not_in(value)
    if op == "contains":
        return column.contains(value, autoescape=True)
    matched: Expr = _COMPARE[op](column, value)
    return matched


def _column(name: str, dialect: str) -> Any:
    columns: dict[str, Any] = {
        "email_domain": _fold(_after_at(Lead.email, dialect), dialect),
        "country": _fold(Lead.country, dialect),
        "source": sa.func.coalesce(
            _fold(Lead.source["utm_source"].as_string(), dialect),
            _fold(Lead.source["referrer"].as_string(), dialect),
        ),
        "accepts_marketing": Lead.accepts_marketing,
        "unsubscribed": Lead.unsubscribed_at.is_not(None),
        "is_customer": Lead.is_customer,
        "orders_count": Lead.orders_count,
        "total_spent": sa.cast(Lead.total_spent, sa.Float),  # text on SQLite: compare as a number
        "score": Lead.score,
        "tier": Lead.tier,
        "locale": _fold(Lead.locale, dialect),
        "last_activity_days": Lead.last_activity_at,
    }
    if name in columns:
        return columns[name]
    return _fold(Lead.source[name].as_string(), dialect)


def _fold(column: Any, dialect: str) -> Any:
    """Trimmed of spaces, A-Z lower-cased (SQLite's lower() folds ASCII only; translate does the same on
    PostgreSQL, whose lower() would fold more), empty as NULL."""
    trimmed = sa.func.trim(column)
    folded = sa.func.lower(trimmed) if dialect == "sqlite" else sa.func.translate(trimmed, _UPPER, _LOWER)
    return sa.func.nullif(folded, "")


def _after_at(email: Any, dialect: str) -> Any:
    at = sa.func.instr(email, "@") if dialect == "sqlite" else sa.func.strpos(email, "@")
    return sa.case((at > 0, sa.func.substr(email, at + 1)), else_=None)


def _product_sql(condition: Condition, now: datetime, dialect: str) -> Expr:
    wanted = condition.value
    assert isinstance(wanted, tuple)
    touched = (
        sa.select(sa.literal(1))
        .select_from(LeadProduct)
        .where(LeadProduct.lead_id == Lead.id, LeadProduct.action == condition.field)
    )
    if condition.within_days is not None:
        touched = touched.where(LeadProduct.last_at >= now - timedelta(days=condition.within_days))
    if condition.of == "product":
        touched = touched.where(LeadProduct.product_id.in_(wanted))
    else:
        listed = Product.collections if condition.of == "collection" else Product.tags
        touched = touched.join(
            Product,
            sa.and_(Product.shop_id == LeadProduct.shop_id, Product.product_id == LeadProduct.product_id),
        ).where(json_list_has_any(listed, wanted, dialect))
    found = touched.exists()
    return found if condition.operator == "in" else ~found


def json_list_has_any(column: Any, values: Iterable[str], dialect: str) -> Expr:
    """Whether a JSON list column holds any of `values` (json_each on SQLite, jsonb on PostgreSQL)."""
    each = sa.func.jsonb_array_elements_text if dialect == "postgresql" else sa.func.json_each
    items = each(column).table_valued("value")
    return sa.select(sa.literal(1)).select_from(items).where(items.c.value.in_(list(values))).exists()


def dialect_of(session: Session) -> str:
    """The database's dialect name ("sqlite", "postgresql"): some conditions compile differently."""
    return session.get_bind().dialect.name


# --- facts for the pure evaluator -------------------------------------------------------------------------


def load_products(session: Session, lead_ids: Iterable[int]) -> dict[int, tuple[scoring.ProductTouch, ...]]:
    """The product touches of several leads (with collections and tags) in one query."""
    ids = list(lead_ids)
    found: dict[int, list[scoring.ProductTouch]] = defaultdict(list)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            LeadProduct.lead_id,
            LeadProduct.action,
            LeadProduct.product_id,
            LeadProduct.last_at,
            Product.collections,
            Product.tags,
        )
        .outerjoin(
            Product,
            sa.and_(Product.shop_id == LeadProduct.shop_id, Product.product_id == LeadProduct.product_id),
        )
        .where(LeadProduct.lead_id.in_(ids))
    )
    for lead_id, action, product_id, last_at, collections, tags in rows:
        touch = scoring.ProductTouch(action, product_id, last_at, tuple(collections or ()), tuple(tags or ()))
        found[lead_id].append(touch)
    return {lead_id: tuple(touches) for lead_id, touches in found.items()}


def facts_of(lead: Lead, profile: scoring.Profile) -> LeadFacts:
    """What segments can test about a lead row, around its scoring profile (with its products)."""
    return LeadFacts(
        profile=profile,
        tier=lead.tier,
        score=lead.score,
        locale=lead.locale,
        unsubscribed=lead.unsubscribed_at is not None,
        last_activity_at=lead.last_activity_at,
        source=lead.source or {},
    )
