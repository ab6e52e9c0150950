"""The admin lists' pagination, one way for all: keyset pages of PAGE_SIZE rows, newest (or highest) first,
each page naming the cursor of the next one in the URL (`?before=<id>`, the leads' `?after=<score>.<id>`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, TypeVarTuple

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import InstrumentedAttribute

from bridge.infra.web import MAX_ID, int_or_none

PAGE_SIZE = 50
Row = TypeVar("Row")
Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: its rows, the URL parameter that names the next page (`key`=`next_cursor`, None
    on the last page), and whether this is a later page (the pager then links back to the first)."""

    rows: list[Row]
    key: str
    next_cursor: str | None
    paged: bool


def before_id() -> int | None:
    """The `?before=` cursor of the request: the last id of the previous page (None: the first page, also for
    a value that names no id)."""
    return int_or_none(request.args.get("before"), 1, MAX_ID)


def newest_first(
    query: sa.Select[*Columns], column: InstrumentedAttribute[int], before: int | None
) -> sa.Select[*Columns]:
    """`query` by `column` descending from just below `before`, with one row more than a page (to tell
    whether a next page exists)."""
    if before is not None:
        query = query.where(column < before)
    return query.order_by(column.desc()).limit(PAGE_SIZE + 1)


def page_of(rows: Sequence[Row], cursor_of: Callable[[Row], str], key: str = "before") -> Page[Row]:
    """The page of a query's rows (fetched with one more than PAGE_SIZE): `cursor_of` the last row shown
    names the next page when there is one."""
    shown = list(rows[:PAGE_SIZE])
    more = len(rows) > PAGE_SIZE
    return Page(shown, key, cursor_of(shown[-1]) if more else None, key in request.args)
