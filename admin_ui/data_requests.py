"""Data requests: what Relance held about a customer when Shopify asked (customers/data_request), listed
for the merchant with the export to send the customer, as a JSON download. In the admin's language
(admin_ui.i18n: Shopify's `locale` parameter inside the Shopify admin, else the merchant's choice or
browser)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext

from admin_ui.access import shop_id
from admin_ui.blueprint import bp
from admin_ui.support import audit, db, owned
from bridge.db.models import PrivacyExport

LIMIT = 200


def _summary(document: dict[str, Any]) -> str:
    """What the export holds, counted: `1 activity, 0 carts, 2 offers`."""
    activities = len(document.get("activities") or [])
    carts = len(document.get("carts") or [])
    offers = len(document.get("offers") or [])
    return ", ".join(
        (
            ngettext("%(num)d activity", "%(num)d activities", activities),
            ngettext("%(num)d cart", "%(num)d carts", carts),
            ngettext("%(num)d offer", "%(num)d offers", offers),
        )
    )


def _row(export: PrivacyExport) -> dict[str, object]:
    document = export.document or {}
    lead = document.get("lead") or {}
    found = bool(document.get("found"))
    return {
        "id": export.id,
        "received": export.created_at,
        "request_id": export.request_id or gettext("unknown"),
        "customer": lead.get("email") or lead.get("external_id") or "—",
        "contents": _summary(document) if found else gettext("Relance held no data about this customer."),
    }


@bp.get("/data-requests")
def data_requests() -> str:
    """The shop's data requests, newest first, each with its export (in the admin's language)."""
    rows = db().scalars(
        sa.select(PrivacyExport)
        .where(PrivacyExport.shop_id == shop_id())
        .order_by(PrivacyExport.created_at.desc(), PrivacyExport.id.desc())
        .limit(LIMIT)
    )
    items = [_row(export) for export in rows]
    return render_template("admin_ui/data_requests.html", items=items, active="data_requests")


@bp.get("/data-requests/<int:export_id>.json")
def data_request_export(export_id: int) -> ResponseReturnValue:
    """One export as a JSON file to send the customer (the download is in the audit log)."""
    export: PrivacyExport = owned(PrivacyExport, export_id)
    body = json.dumps(
        {"request_id": export.request_id, "created_at": export.created_at.isoformat(), **export.document},
        indent=2,
        ensure_ascii=False,
    )
    audit("privacy.export_downloaded", export_id=export.id, request_id=export.request_id)
    db().commit()
    filename = f"relance-data-request-{export.id}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
