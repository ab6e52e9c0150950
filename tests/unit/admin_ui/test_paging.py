"""The admin lists' one pagination: a page of PAGE_SIZE rows, the next page's cursor, the link back."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from admin_ui.paging import PAGE_SIZE, before_id, newest_first, page_of
from bridge.db.models import Cart

app = Flask(__name__)


def test_a_full_page_and_one_more_row_names_the_next_page() -> None:
    with app.test_request_context("/admin/carts"):
        page = page_of(list(range(PAGE_SIZE + 1, 0, -1)), str)
    assert page.rows == list(range(PAGE_SIZE + 1, 1, -1))
    assert (page.key, page.next_cursor, page.paged) == ("before", "2", False)


def test_the_last_page_names_none_and_links_back_to_the_first() -> None:
    with app.test_request_context("/admin/leads?after=40.7"):
        page = page_of([(12, 3)], lambda row: f"{row[0]}.{row[1]}", key="after")
    assert (page.rows, page.next_cursor, page.paged) == ([(12, 3)], None, True)


def test_an_empty_list_is_one_empty_page() -> None:
    with app.test_request_context("/admin/events"):
        page = page_of([], str)
    assert (page.rows, page.next_cursor, page.paged) == ([], None, False)


def test_a_cursor_that_names_no_id_is_the_first_page() -> None:
    for raw, expected in (("17", 17), ("0", None), ("-3", None), ("x", None), ("99999999999", None)):
        with app.test_request_context(f"/admin/carts?before={raw}"):
            assert before_id() == expected


def _sql(query: sa.Select[int]) -> str:
    return str(query.compile(compile_kwargs={"literal_binds": True}))


def test_newest_first_asks_for_one_row_more_than_a_page_below_the_cursor() -> None:
    sql = _sql(newest_first(sa.select(Cart.id), Cart.id, 40))
    assert "carts.id < 40" in sql and "ORDER BY carts.id DESC" in sql and f"LIMIT {PAGE_SIZE + 1}" in sql
    assert "WHERE" not in _sql(newest_first(sa.select(Cart.id), Cart.id, None))
