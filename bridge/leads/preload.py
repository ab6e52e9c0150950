"""The leads, carts and orders a batch of events names, loaded in three queries up front.

A batch transaction (bridge/pipeline.py) applies up to a hundred events; one at a time, each would look its
lead, cart and order up by customer id, email and tokens, a query each (and an autoflush before each). Here
the batch's keys are collected from its facts first and the matching rows loaded at once; lookups of a key
that was preloaded then scan the rows the session holds (the preloaded ones, and those the batch created)
with their current values instead of asking the database. A row another worker commits in between is not
seen: the insert that follows hits a unique constraint and the batch goes one event at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from bridge.db.models import Cart, Lead, Order
from bridge.leads.emails import normalize_email
from connectors import base as facts

_INFO_KEY = "relance.preloaded"
T = TypeVar("T")
Row = TypeVar("Row", Lead, Cart, Order)
Key = tuple[int, str, str]  # shop id, what (e.g. "lead.email"), value


@dataclass
class Preloaded:
    """A batch transaction's preloaded keys, the rows it holds and the values it computed once."""

    keys: set[Key] = field(default_factory=set)
    rows: list[object] = field(default_factory=list)  # strong references: the identity map's are weak
    loaded: dict[int, set[int]] = field(default_factory=dict)  # per shop: the ids of the leads preloaded
    created: set[int] = field(default_factory=set)  # id() of the rows this transaction created (held in rows)
    values: dict[Hashable, object] = field(default_factory=dict)


def begin(session: Session) -> None:
    """Start a preloaded view for this batch transaction (`forget` ends it)."""
    session.info[_INFO_KEY] = Preloaded()


def active(session: Session) -> bool:
    """Whether this is a batch transaction with a preloaded view."""
    return _INFO_KEY in session.info


def once(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, remembered for the rest of a batch transaction (e.g. a shop's rules); outside one, just
    `compute()`."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    if state is None:
        return compute()
    if key not in state.values:
        state.values[key] = compute()
    return cast(T, state.values[key])  # stored by `compute` under this key


def keys_of(shop_id: int, items: Iterable[object]) -> set[Key] | None:
    """The lookup keys of some facts; None for a fact of another kind (privacy requests end a batch before
    they get here; anything new is looked up the ordinary way until it is listed here)."""
    found: set[Key] = set()

    def add(what: str, value: object) -> None:
        if value:
            found.add((shop_id, what, str(value)))

    for fact in items:
        if isinstance(fact, facts.CustomerSeen | facts.ConsentChanged | facts.Activity):
            add("lead.external_id", fact.external_id)
            add("lead.email", normalize_email(fact.email))
        elif isinstance(fact, facts.CartSnapshot):
            add("lead.external_id", fact.customer_external_id)
            add("lead.email", normalize_email(fact.email))
            add("cart.checkout_token", fact.checkout_token)
            add("cart.cart_token", fact.token)
            add("order.checkout_token", fact.checkout_token)
            add("order.cart_token", fact.token)
        elif isinstance(fact, facts.OrderPlaced):
            add("lead.external_id", fact.customer_external_id)
            add("lead.email", normalize_email(fact.email))
            add("order.order_id", fact.order_id)
            for prefix in ("cart", "order"):
                add(f"{prefix}.checkout_token", fact.checkout_token)
                add(f"{prefix}.cart_token", fact.cart_token)
        elif isinstance(fact, facts.OrderCancelled):
            continue
        else:
            return None
    return found


_COLUMNS = {
    "lead.external_id": Lead.external_id,
    "lead.email": Lead.email,
    "cart.checkout_token": Cart.checkout_token,
    "cart.cart_token": Cart.cart_token,
    "order.order_id": Order.order_id,
    "order.checkout_token": Order.checkout_token,
    "order.cart_token": Order.cart_token,
}
_MODELS: dict[str, type[Lead] | type[Cart] | type[Order]] = {"lead": Lead, "cart": Cart, "order": Order}


def lock(session: Session, keys: set[Key]) -> None:
    """On PostgreSQL, wait for the other batches naming any of these shoppers (an email, a customer id, a
    token) to commit, then hold them off until this one does: a transaction-scoped advisory lock per key,
    taken in one statement in ascending order, so two batches never deadlock on them. Two workers then no
    longer apply the same shopper's events side by side (both creating the lead: a unique key fails, and the
    losing batch goes again one event at a time), and the preload that follows sees what the first one
    wrote. SQLite lets one writer in at a time already."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({_lock_id(key) for key in keys})
    session.execute(
        sa.text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(:ids) AS k ORDER BY 1) AS held"),
        {"ids": ids},
    )


def _lock_id(key: Key) -> int:
    """A signed 64-bit id for a key: its kind of row left out, so a cart and an order sharing a token, or
    a lead's email seen on a checkout, are one lock."""
    shop_id, what, value = key
    digest = hashlib.blake2b(f"{shop_id}|{what.split('.')[-1]}|{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def preload(session: Session, keys: set[Key]) -> None:
    """Load every lead, cart and order the keys name (one query per kind and shop) and remember the keys."""
    state: Preloaded = session.info[_INFO_KEY]
    by_model: dict[tuple[int, str], dict[str, list[str]]] = {}
    for shop_id, what, value in sorted(keys - state.keys):
        by_model.setdefault((shop_id, what.split(".")[0]), {}).setdefault(what, []).append(value)
    for (shop_id, kind), values in by_model.items():
        model = _MODELS[kind]
        wanted = [_COLUMNS[what].in_(found) for what, found in values.items()]  # one IN list per column
        found = session.scalars(sa.select(model).where(model.shop_id == shop_id, sa.or_(*wanted))).all()
        state.rows += found
        leads = state.loaded.setdefault(shop_id, set())
        leads.update(row.id for row in found if isinstance(row, Lead))
    state.keys |= keys


def covers(session: Session, shop_id: int, **wanted: object) -> bool:
    """True when every given key (e.g. `lead_email="a@b"`) was preloaded in this transaction."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    if state is None:
        return False
    return all(
        (shop_id, what.replace("_", ".", 1), str(value)) in state.keys
        for what, value in wanted.items()
        if value
    )


def rows(session: Session, model: type[Row], shop_id: int) -> Iterator[Row]:
    """The rows of `model` for a shop that this transaction preloaded or created and has not deleted."""
    state: Preloaded = session.info[_INFO_KEY]
    for row in state.rows:
        if type(row) is model and row.shop_id == shop_id:
            held = instance_state(row)  # what sa.inspect returns, without its dispatch
            if not (held.deleted or held.was_deleted or held.detached):
                yield row


def remember(session: Session, row: Lead | Cart | Order) -> None:
    """A row this transaction created: later lookups in the batch must find it."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    if state is not None:
        state.rows.append(row)
        state.created.add(id(row))


def created_here(session: Session, row: object) -> bool:
    """Whether this batch transaction created the row (nothing else can refer to it yet)."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    return state is not None and id(row) in state.created


def tokens(session: Session, shop_id: int) -> set[str] | None:
    """The cart and checkout tokens this batch transaction preloaded for a shop (None outside a batch)."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    if state is None:
        return None
    return {value for shop, what, value in state.keys if shop == shop_id and what.endswith("_token")}


def loaded_leads(session: Session, shop_id: int) -> set[int] | None:
    """The ids of the shop's leads this batch transaction preloaded (None outside a batch)."""
    state: Preloaded | None = session.info.get(_INFO_KEY)
    return None if state is None else state.loaded.get(shop_id, set())


def unknown_elsewhere(session: Session, lead: Lead, busy: Callable[[set[int]], set[int]]) -> bool:
    """True when nothing outside this batch can refer to the lead: it was created here, or it was preloaded
    and `busy(preloaded ids)` (computed once per shop and batch) does not name it. Outside a batch, False."""
    if created_here(session, lead):
        return True
    ids = loaded_leads(session, lead.shop_id)
    if not ids or lead.id not in ids:
        return False
    return lead.id not in once(session, ("busy leads", lead.shop_id), lambda: busy(ids))


def forget(session: Session) -> None:
    """End the preloaded view (the transaction is over)."""
    session.info.pop(_INFO_KEY, None)
