"""The declarative base every model shares: naming conventions and the column types of our annotations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from bridge.db.types import JSONDoc, Money, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSONDoc}


def cascade_fk(target: str, **kw: Any) -> sa.ForeignKey:
    """A foreign key whose rows go with the row they point to (a shop's, a lead's)."""
    return sa.ForeignKey(target, ondelete="CASCADE", **kw)
