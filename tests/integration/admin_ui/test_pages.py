"""Every admin page renders for a signed-in merchant, with the shop's own data on it."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import seed

PAGES = [
    "/admin/",
    "/admin/?days=7",
    "/admin/?days=90",
    "/admin/rules",
    "/admin/rules/history",
    "/admin/leads",
    "/admin/leads?tier=cold",
    "/admin/leads?email=ana",
    "/admin/leads?email=ana@example.com",
    "/admin/carts",
    "/admin/carts?status=abandoned",
    "/admin/offers",
    "/admin/offers?status=holdout",
    "/admin/events",
    "/admin/events?status=failed",
    "/admin/health",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders(client: Any, ctx: Context, signed_in: dict[str, Any], path: str) -> None:
    seed(ctx, signed_in["id"])
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_lead_page_shows_breakdown(client: Any, ctx: Context, signed_in: dict[str, Any]) -> None:
    ids = seed(ctx, signed_in["id"])
    html = client.get(f"/admin/leads/{ids['lead']}").get_data(as_text=True)
    assert "Added to cart" in html and "29.3" in html
    assert "ana@example.com" in html


def test_lists_show_seeded_rows(client: Any, ctx: Context, signed_in: dict[str, Any]) -> None:
    ids = seed(ctx, signed_in["id"])
    assert "ana@example.com" in client.get("/admin/leads?email=ana").get_data(as_text=True)
    assert f"RL{signed_in['id']}CODE{ids['lead']}" in client.get("/admin/offers").get_data(as_text=True)
    assert "token is missing" in client.get("/admin/events?status=failed").get_data(as_text=True)
    assert f"#{ids['cart']}" in client.get("/admin/carts").get_data(as_text=True)
