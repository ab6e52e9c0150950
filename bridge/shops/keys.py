"""Encryption-key rotation: re-encrypt every stored credential under the newest key of ENCRYPTION_KEYS.

Put the new key first (`ENCRYPTION_KEYS="new,old"`), deploy, run `relance keys rotate`, check with
`relance keys status`, then drop the old key. Until then both keys decrypt, so nothing stops working.
Rows are handled in batches, each locked for its transaction: a token refresh on the same shop waits
and is never overwritten by an older value. Running it twice re-encrypts nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra.context import Context

COLUMNS = (
    "access_token_enc",
    "refresh_token_enc",
    "consumer_key_enc",
    "consumer_secret_enc",
    "webhook_secret_enc",
)
SETTINGS_KEYS = ("outbound_secret_enc",)  # encrypted values kept in shop.state


@dataclass
class Report:
    """What one rotation (or check) found."""

    shops: int = 0
    values: int = 0
    rotated: int = 0  # re-encrypted under the newest key (a check counts those still to do)
    unreadable: int = 0  # decrypt with none of the configured keys


def _newest(ctx: Context) -> Fernet:
    return Fernet(ctx.settings.encryption_keys[0].encode())


def _is_current(newest: Fernet, token: str) -> bool:
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _values(shop: Shop) -> Iterator[tuple[str, str]]:
    """(name, ciphertext) of every encrypted value of the shop."""
    for column in COLUMNS:
        value = getattr(shop, column)
        if value:
            yield column, value
    for key in SETTINGS_KEYS:
        value = (shop.state or {}).get(key)
        if value:
            yield f"settings.{key}", value


def _batch(session: Session, after: int, size: int) -> list[Shop]:
    """The next shops by id, locked for this transaction (SQLite: the database write lock)."""
    ids = sa.select(Shop.id).where(Shop.id > after).order_by(Shop.id).limit(size)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.update(Shop).where(Shop.id.in_(ids.scalar_subquery())).values(name=Shop.name))
    query = sa.select(Shop).where(Shop.id.in_(ids.scalar_subquery())).order_by(Shop.id)
    return list(session.scalars(query.with_for_update()).all())


def _rotate_shop(ctx: Context, newest: Fernet, shop: Shop, report: Report, write: bool) -> None:
    settings = dict(shop.state or {})
    for name, token in _values(shop):
        report.values += 1
        if _is_current(newest, token):
            continue
        try:
            fresh = ctx.vault.rotate(token)
        except InvalidToken:
            report.unreadable += 1
            continue
        report.rotated += 1
        if not write:
            continue
        if name.startswith("settings."):
            settings[name.removeprefix("settings.")] = fresh
        else:
            setattr(shop, name, fresh)
    if write and settings != (shop.state or {}):
        shop.state = settings


def rotate(ctx: Context, batch_size: int = 100, write: bool = True) -> Report:
    """Re-encrypt every value not yet under the newest key (with write=False: only count them)."""
    newest, report, after = _newest(ctx), Report(), 0
    while True:
        with transaction(ctx.sessions) as session:
            shops = _batch(session, after, batch_size)
            for shop in shops:
                _rotate_shop(ctx, newest, shop, report, write)
        if not shops:
            break
        report.shops += len(shops)
        after = shops[-1].id
    if write and report.rotated and ctx.signers is not None:
        ctx.signers.forget()
    return report


def status(ctx: Context) -> Report:
    """Count the values still under an older key (0 and 0 unreadable: the old keys can go)."""
    return rotate(ctx, write=False)
