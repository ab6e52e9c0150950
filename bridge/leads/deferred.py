"""Activities and product occurrences written as sets: a few statements per transaction, not a few per fact.

Applying an event (bridge.events.apply) records activities and product occurrences; one at a time that is an
INSERT per activity and four statements per product (the product's row, its details, the occurrence's claim,
the lead's count), each preceded by an autoflush. Inside a transaction that called `begin`, they are kept
here instead and written by `flush` in a handful of multi-row statements:

- activities: one `INSERT … ON CONFLICT` per kind of source (store or storefront), duplicates merged first;
- products: one `INSERT … ON CONFLICT DO NOTHING` for the shop's products (the new ones are returned for the
  store lookup), one SELECT for the known ones whose missing title, picture or price the payload can fill;
- occurrences: one `INSERT … ON CONFLICT DO NOTHING RETURNING` claims them (a replayed one is not returned),
  then the claimed ones are counted per lead, product and action in Python and written with one upsert
  (count added, first and latest time moved) and one UPDATE for the latest variant of known rows.

The outcome is the one of the facts applied one at a time in the same order (the batch equivalence tests
check it): the inserts commute, the counts add, and the variant rule ("the latest occurrence's, when it has
one") is decided from the batch's own order plus the row's latest time before the batch.

Whoever reads activities or products in the transaction (the scoring, the segments, an erasure) calls
`flush` first. Without `begin`, `add_activity` and `record` write at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from redis import Redis
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.models import PRODUCT_ACTIONS, Activity, Base, Lead, LeadProduct, LeadProductRef, Product, Shop
from bridge.leads import people, products

_INFO_KEY = "relance.deferred"
_ACTIVITIES = Activity.__table__.c
Row = dict[str, Any]


@dataclass
class _Occurrence:
    shop: Shop
    lead_id: int
    action: str
    ref: str
    at: datetime
    seen: Sequence[products.Seen]


@dataclass
class Deferred:
    """What a transaction has yet to write."""

    activities: list[Row] = field(default_factory=list)
    leads: dict[int, Lead] = field(default_factory=dict)  # the leads of the activities
    occurrences: list[_Occurrence] = field(default_factory=list)


def begin(session: Session) -> None:
    """Defer this transaction's activities and product occurrences until `flush`."""
    session.info[_INFO_KEY] = Deferred()


def end(session: Session) -> None:
    """Stop deferring (the transaction is over; whatever was not flushed is dropped with it)."""
    session.info.pop(_INFO_KEY, None)


def add_activity(
    session: Session,
    lead: Lead,
    kind: str,
    occurred_at: datetime,
    ref: str,
    event_id: int | None,
    storefront: bool = False,
) -> None:
    """`people.add_activity`, written at the next `flush` when deferring."""
    state: Deferred | None = session.info.get(_INFO_KEY)
    if state is None:
        people.add_activity(session, lead, kind, occurred_at, ref, event_id, storefront)
        return
    state.activities.append(people.activity_row(lead, kind, occurred_at, ref, event_id, storefront))
    state.leads[lead.id] = lead


def record(
    session: Session,
    shop: Shop,
    lead_id: int,
    action: str,
    ref: str,
    at: datetime,
    seen: Sequence[products.Seen],
) -> list[str] | None:
    """`products.record` at the next `flush` when deferring (None: the new products are known then);
    otherwise at once, with the ids of the products new to the shop."""
    if action not in PRODUCT_ACTIONS:
        raise ValueError(f"unknown product action {action!r}")
    state: Deferred | None = session.info.get(_INFO_KEY)
    if state is None:
        return products.record(session, shop.id, lead_id, action, ref, at, seen)
    if seen:
        state.occurrences.append(_Occurrence(shop, lead_id, action, ref[:255], at, list(seen)))
    return None


def flush(session: Session) -> dict[int, list[str]]:
    """Write what was deferred; the products new to each shop (by shop id), to look up after the commit."""
    state: Deferred | None = session.info.get(_INFO_KEY)
    if state is None:
        return {}
    activities, occurrences = state.activities, state.occurrences
    state.activities, state.occurrences = [], []
    if activities:
        _write_activities(session, activities, state.leads)
    new: dict[int, list[str]] = {}
    if occurrences:
        for shop_id in dict.fromkeys(o.shop.id for o in occurrences):
            found = _upsert_products(session, shop_id, [o for o in occurrences if o.shop.id == shop_id])
            if found:
                new[shop_id] = found
        _count(session, _claim(session, occurrences))
    return new


def lookups(redis: Redis, shops: dict[int, Shop], new: dict[int, list[str]]) -> list[Callable[[], None]]:
    """The after-commit steps that look the new products up on the stores that can describe them."""
    steps: list[Callable[[], None]] = []
    for shop_id, ids in new.items():
        shop = shops.get(shop_id)
        if shop is None or not products.can_look_up(shop):
            continue

        def look_up(shop_id: int = shop_id, ids: list[str] = ids) -> None:
            products.queue_lookups(redis, shop_id, ids)

        steps.append(look_up)
    return steps


def _insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """A Core INSERT into the model's table: set-based writes need none of the ORM's bulk machinery."""
    table = cast(sa.Table, model.__table__)
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def _write_activities(session: Session, rows: list[Row], leads: dict[int, Lead]) -> None:
    """Store activities first, then storefront ones: a store activity also seen on the storefront ends as a
    store activity whichever came first, as one at a time. A lead's latest activity moves to the ones
    inserted (or made store activities), as `people.add_activity` moves it. A transaction that mixes both
    (an event's facts never do) writes them one at a time, in order: which came first decides the time."""
    if len({row["storefront"] for row in rows}) > 1:
        for row in rows:
            people.add_activity(
                session,
                leads[row["lead_id"]],
                row["kind"],
                row["occurred_at"],
                row["ref"],
                row["source_event_id"],
                row["storefront"],
            )
        return
    for storefront in (False, True):
        unique: dict[tuple[int, str, str], Row] = {}
        for row in rows:
            if row["storefront"] is storefront:
                unique.setdefault((row["lead_id"], row["kind"], row["ref"]), row)
        if not unique:
            continue
        insert = _insert(session, Activity)
        if storefront:
            stmt = insert.on_conflict_do_nothing(index_elements=["lead_id", "kind", "ref"])
        else:
            stmt = insert.on_conflict_do_update(
                index_elements=["lead_id", "kind", "ref"],
                set_={"storefront": False},
                where=_ACTIVITIES.storefront.is_(True),
            )
        returning = stmt.returning(_ACTIVITIES.lead_id, _ACTIVITIES.kind, _ACTIVITIES.ref)
        written = session.connection().execute(returning, list(unique.values()))
        for key in written:
            lead, at = leads[key[0]], unique[(key[0], key[1], key[2])]["occurred_at"]
            if lead.last_activity_at is None or at > lead.last_activity_at:
                lead.last_activity_at = at


def _upsert_products(session: Session, shop_id: int, occurrences: list[_Occurrence]) -> list[str]:
    """The shop's products the occurrences name: missing rows made (with the first title, picture and price
    the payloads give), missing details of known rows filled in; the ids of the new ones."""
    merged: dict[str, dict[str, Any]] = {}
    for o in occurrences:
        for s in o.seen:
            row = merged.get(s.product_id)
            if row is None:
                merged[s.product_id] = products.product_row(shop_id, s, o.at)
                continue
            if row["title"] is None and s.title:
                row["title"], row["updated_at"] = s.title, o.at
            if row["image_url"] is None and s.image_url:
                row["image_url"], row["updated_at"] = s.image_url, o.at
            if row["price"] is None and s.price is not None:
                row["price"], row["currency"], row["updated_at"] = s.price, s.currency, o.at
    stmt = (
        _insert(session, Product)
        .on_conflict_do_nothing(index_elements=["shop_id", "product_id"])
        .returning(Product.__table__.c.product_id)
    )
    new = [str(pid) for pid in session.connection().execute(stmt, list(merged.values())).scalars()]
    fresh = set(new)
    lacking = {
        pid: row
        for pid, row in merged.items()
        if pid not in fresh and (row["title"] or row["image_url"] or row["price"] is not None)
    }
    if lacking:
        known = session.scalars(
            sa.select(Product).where(Product.shop_id == shop_id, Product.product_id.in_(list(lacking)))
        ).all()
        for product in known:
            row = lacking[product.product_id]
            if product.title is None and row["title"]:
                product.title, product.updated_at = row["title"], row["updated_at"]
            if product.image_url is None and row["image_url"]:
                product.image_url, product.updated_at = row["image_url"], row["updated_at"]
            if product.price is None and row["price"] is not None:
                product.price, product.currency = row["price"], row["currency"]
                product.updated_at = row["updated_at"]
    return new


_Key = tuple[int, str, str]  # lead, product, action


_Claimed = list[tuple[int, _Key, products.Seen, datetime]]  # shop, key, the product as seen, when


def _claim(session: Session, occurrences: list[_Occurrence]) -> _Claimed:
    """Remember the occurrences in one statement; those not counted before, in order, each once."""
    wanted: dict[tuple[int, str, str, str], tuple[int, products.Seen, datetime]] = {}
    for o in occurrences:
        for s in o.seen:
            wanted.setdefault((o.lead_id, s.product_id, o.action, o.ref), (o.shop.id, s, o.at))
    rows = [{"lead_id": k[0], "product_id": k[1], "action": k[2], "ref": k[3]} for k in wanted]
    stmt = (
        _insert(session, LeadProductRef)
        .on_conflict_do_nothing()
        .returning(*(LeadProductRef.__table__.c[name] for name in ("lead_id", "product_id", "action", "ref")))
    )
    claimed = {tuple(r) for r in session.connection().execute(stmt, rows)}
    return [
        (shop_id, (key[0], key[1], key[2]), s, at)
        for key, (shop_id, s, at) in wanted.items()
        if key in claimed
    ]


@dataclass
class _Count:
    shop_id: int
    count: int
    first_at: datetime
    last_at: datetime
    variant: tuple[str, datetime] | None  # the batch's latest occurrence with a variant, and its time


def _count(session: Session, claimed: _Claimed) -> None:
    """Add the claimed occurrences to their leads' counts, in two statements."""
    if not claimed:
        return
    counts: dict[_Key, _Count] = {}
    for shop_id, key, s, at in claimed:
        c = counts.get(key)
        if c is None:
            variant = (s.variant_id, at) if s.variant_id else None
            counts[key] = _Count(shop_id, 1, at, at, variant)
            continue
        if s.variant_id and at >= c.last_at:  # one at a time: the variant of an occurrence not older
            c.variant = (s.variant_id, at)
        c.count, c.first_at, c.last_at = c.count + 1, min(c.first_at, at), max(c.last_at, at)
    table = LeadProduct.__table__.c
    # A Core table: an executemany, not the ORM's bulk update by primary key.
    table_ = sa.table("lead_products", *(sa.column(c.name, c.type) for c in table))
    changed = [
        {"k_lead": k[0], "k_product": k[1], "k_action": k[2], "k_variant": c.variant[0], "k_at": c.variant[1]}
        for k, c in counts.items()
        if c.variant is not None
    ]
    if changed:  # rows stored before the batch: the variant moves when its occurrence is not older
        session.connection().execute(
            sa.update(table_)
            .where(
                table_.c.lead_id == sa.bindparam("k_lead"),
                table_.c.product_id == sa.bindparam("k_product"),
                table_.c.action == sa.bindparam("k_action"),
                table_.c.last_at <= sa.bindparam("k_at"),
            )
            .values(variant_id=sa.bindparam("k_variant")),
            changed,
        )
    rows = [
        {
            "shop_id": c.shop_id,
            "lead_id": k[0],
            "product_id": k[1],
            "action": k[2],
            "variant_id": c.variant[0] if c.variant else None,
            "count": c.count,
            "first_at": c.first_at,
            "last_at": c.last_at,
        }
        for k, c in counts.items()
    ]
    stmt = _insert(session, LeadProduct)
    new = stmt.excluded
    session.connection().execute(
        stmt.on_conflict_do_update(
            index_elements=["lead_id", "product_id", "action"],
            set_={
                "count": table.count + new.count,
                "first_at": sa.case((new.first_at < table.first_at, new.first_at), else_=table.first_at),
                "last_at": sa.case((new.last_at > table.last_at, new.last_at), else_=table.last_at),
            },
        ),
        rows,
    )
