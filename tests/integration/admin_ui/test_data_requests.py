"""The data requests page: Shopify's customers/data_request results, listed per shop with a JSON export to
send the customer; escaped, in English or French, inside the Shopify admin too."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AuditLog, Lead, PrivacyExport
from bridge.infra.context import Context
from tests.integration.admin_ui.conftest import session_token

HOSTILE = '<script>alert("x")</script>@example.com'


def add_export(ctx: Context, shop_id: int, request_id: str, email: str | None) -> int:
    document: dict[str, Any] = {"found": False}
    if email:
        document = {
            "found": True,
            "lead": {"id": 1, "external_id": "7261", "email": email},
            "activities": [{"kind": "add_to_cart", "at": "2026-11-25T10:00:00+00:00", "ref": "c1"}],
            "carts": [],
            "offers": [{"code": "BACK-1", "status": "sent", "created_at": "2026-11-25T10:00:00+00:00"}],
        }
    with transaction(ctx.sessions) as session:
        export = PrivacyExport(
            shop_id=shop_id, request_id=request_id, created_at=ctx.now(), document=document
        )
        session.add(export)
        session.flush()
        return export.id


def test_the_page_lists_this_shops_requests_escaped(
    ctx: Context, client: Any, signed_in: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    add_export(ctx, signed_in["id"], "dr-111", HOSTILE)
    add_export(ctx, signed_in["id"], "dr-222", None)
    add_export(ctx, shop_b["id"], "dr-999", "other@shop-b.test")
    response = client.get("/admin/data-requests")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "dr-111" in html and "dr-222" in html and "dr-999" not in html and "other@shop-b.test" not in html
    assert (
        "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;@example.com" in html
    )
    assert "1 activity, 0 carts, 1 offer" in html and "Relance held no data about this customer." in html
    assert 'href="/admin/data-requests"' in html  # in the navigation


def test_the_page_speaks_french_when_asked(ctx: Context, client: Any, signed_in: dict[str, Any]) -> None:
    add_export(ctx, signed_in["id"], "dr-111", None)
    add_export(ctx, signed_in["id"], "dr-222", "ana@example.com")
    by_header = client.get("/admin/data-requests", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    by_locale = client.get("/admin/data-requests?locale=fr")
    for response in (by_header, by_locale):
        html = response.get_data(as_text=True)
        assert "Demandes de données" in html and "Télécharger le JSON" in html
        assert "Relance ne détenait aucune donnée sur ce client." in html
        assert "1 activité, 0 panier, 1 offre" in html  # French counts 0 in the singular
    assert "Download JSON" in client.get("/admin/data-requests").get_data(as_text=True)


def test_the_export_downloads_as_json_and_is_audited(
    ctx: Context, client: Any, signed_in: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    mine = add_export(ctx, signed_in["id"], "dr-111", "ana@example.com")
    theirs = add_export(ctx, shop_b["id"], "dr-999", "other@shop-b.test")
    response = client.get(f"/admin/data-requests/{mine}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="relance-data-request-{mine}.json"'
    )
    body = json.loads(response.get_data(as_text=True))
    assert body["request_id"] == "dr-111" and body["lead"]["email"] == "ana@example.com"
    assert body["offers"][0]["code"] == "BACK-1"
    assert client.get(f"/admin/data-requests/{theirs}.json").status_code == 404  # another shop's
    with ctx.sessions() as session:
        [row] = session.scalars(sa.select(AuditLog).where(AuditLog.action == "privacy.export_downloaded"))
    assert row.detail == {"export_id": mine, "request_id": "dr-111"} and row.actor == signed_in["email"]


def test_a_shopify_data_request_webhook_ends_on_the_page_inside_the_admin(
    ctx: Context, client: Any, shop_a: dict[str, Any], post_shopify: Any, run_jobs: Any
) -> None:
    with transaction(ctx.sessions) as session:
        session.add(
            Lead(shop_id=shop_a["id"], email="ana@example.com", external_id="7261", created_at=ctx.now())
        )
    payload = {
        "shop_id": 1,
        "shop_domain": shop_a["domain"],
        "orders_requested": [],
        "customer": {"id": 7261, "email": "ana@example.com"},
        "data_request": {"id": 4242},
    }
    assert post_shopify("customers/data_request", payload, shop=shop_a["domain"]).status_code == 200
    run_jobs()
    token = session_token(ctx, shop_a["domain"])
    response = client.get(
        f"/admin/data-requests?embedded=1&shop={shop_a['domain']}&host=abc&id_token={token}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "4242" in html and "ana@example.com" in html
    assert (
        f"frame-ancestors https://{shop_a['domain']} https://admin.shopify.com"
        in (response.headers["Content-Security-Policy"])
    )
