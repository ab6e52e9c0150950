"""Data requests: what Relance held about a customer when Shopify asked (customers/data_request), listed
for the merchant with the export to send the customer, as a JSON download. English or French."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from admin_ui.access import shop_id
from admin_ui.blueprint import bp
from admin_ui.support import audit, db, owned
from bridge.db.models import PrivacyExport

LIMIT = 200
TEXT = {
    "en": {
        "title": "Data requests",
        "intro": "When a customer asks your store for their data, Shopify sends Relance a data request. "
        "Relance prepares what it holds about that customer here: download the export and send it to "
        "the customer. Exports stay until the customer's data is erased.",
        "empty": "No data request yet.",
        "received": "Received",
        "request": "Shopify request",
        "customer": "Customer",
        "contents": "Contents",
        "export": "Export",
        "download": "Download JSON",
        "not_found": "Relance held no data about this customer.",
        "summary": "{activities} activities, {carts} carts, {offers} offers",
        "unknown": "unknown",
    },
    "fr": {
        "title": "Demandes de données",
        "intro": "Quand un client demande ses données à votre boutique, Shopify envoie une demande à "
        "Relance. Relance prépare ici ce qu'elle détient sur ce client : téléchargez l'export et "
        "envoyez-le au client. Les exports sont conservés jusqu'à l'effacement des données du client.",
        "empty": "Aucune demande de données pour l'instant.",
        "received": "Reçue le",
        "request": "Demande Shopify",
        "customer": "Client",
        "contents": "Contenu",
        "export": "Export",
        "download": "Télécharger le JSON",
        "not_found": "Relance ne détenait aucune donnée sur ce client.",
        "summary": "{activities} activités, {carts} paniers, {offers} offres",
        "unknown": "inconnu",
    },
}


def language() -> str:
    """French or English: Shopify's `locale` parameter inside the admin, else the browser's preference."""
    asked = request.args.get("locale", "").split("-")[0].lower()
    if asked in TEXT:
        return asked
    return request.accept_languages.best_match(list(TEXT), default="en") or "en"


def _row(export: PrivacyExport, words: dict[str, str]) -> dict[str, object]:
    document = export.document or {}
    lead = document.get("lead") or {}
    found = bool(document.get("found"))
    summary = words["summary"].format(
        activities=len(document.get("activities") or []),
        carts=len(document.get("carts") or []),
        offers=len(document.get("offers") or []),
    )
    return {
        "id": export.id,
        "received": export.created_at,
        "request_id": export.request_id or words["unknown"],
        "customer": lead.get("email") or lead.get("external_id") or "—",
        "contents": summary if found else words["not_found"],
    }


@bp.get("/data-requests")
def data_requests() -> str:
    """The shop's data requests, newest first, each with its export."""
    lang = language()
    rows = db().scalars(
        sa.select(PrivacyExport)
        .where(PrivacyExport.shop_id == shop_id())
        .order_by(PrivacyExport.created_at.desc(), PrivacyExport.id.desc())
        .limit(LIMIT)
    )
    words = TEXT[lang]
    items = [_row(export, words) for export in rows]
    return render_template(
        "admin_ui/data_requests.html", items=items, t=words, lang=lang, active="data_requests"
    )


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
