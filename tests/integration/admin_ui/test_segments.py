"""The segments pages: a live count and sample before saving, errors beside their fields (422), saving as a
new rules version, the leads page filtered by segment, the CSV export, deletion refused while in use."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AuditLog, Lead
from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.forms import form_fields

Post = Callable[..., Any]
FRENCH = [{"field": "country", "operator": "eq", "value": "FR"}]


def leads(ctx: Context, shop_id: int) -> dict[str, int]:
    with transaction(ctx.sessions) as session:
        rows = {
            "ana": Lead(
                shop_id=shop_id, email="ana@example.com", country="FR", score=70, first_name="=cmd()"
            ),
            "bea": Lead(shop_id=shop_id, email="bea@example.com", country="fr", score=20),
            "carl": Lead(shop_id=shop_id, email="carl@example.com", country="DE", score=90),
        }
        for row in rows.values():
            row.created_at, row.source, row.breakdown = ctx.now(), {}, {}
            session.add(row)
        session.flush()
        return {name: row.id for name, row in rows.items()}


def form(key: str = "french", conditions: Any = FRENCH, action: str = "save", **extra: str) -> dict[str, str]:
    text = conditions if isinstance(conditions, str) else json.dumps(conditions)
    return {"key": key, "name": "French", "match": "all", "conditions": text, "action": action, **extra}


def test_preview_shows_the_count_and_a_masked_sample_and_saves_nothing(
    ctx: Context, signed_in: dict[str, Any], post_form: Post
) -> None:
    leads(ctx, signed_in["id"])
    page = post_form("/admin/segments/edit", form(action="preview"), page="/admin/segments/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 lead(s) in this segment now" in html
    assert "a***@example.com" in html and "b***@example.com" in html and "carl" not in html
    assert html.index("a***@example.com") < html.index("b***@example.com")  # highest score first
    with ctx.sessions() as session:
        assert rules.current(session, signed_in["id"])[0] == 0


def test_errors_are_shown_beside_their_fields(
    ctx: Context, signed_in: dict[str, Any], post_form: Post
) -> None:
    bad = post_form(
        "/admin/segments/edit",
        form(key="Not OK", conditions=[{"field": "score", "operator": "contains", "value": 3}]),
        page="/admin/segments/edit",
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="key" name="key" value="Not OK" required maxlength="40" aria-invalid="true"' in html
    assert "conditions.0.operator" in html and "Does not apply to field" in html
    broken = post_form("/admin/segments/edit", form(conditions="[{"), page="/admin/segments/edit")
    assert broken.status_code == 422 and "Not valid JSON" in broken.get_data(as_text=True)


def test_saving_makes_a_version_and_the_leads_page_filters_and_exports(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    ids = leads(ctx, signed_in["id"])
    saved = post_form("/admin/segments/edit", form(), page="/admin/segments/edit")
    assert saved.status_code == 302 and "done=saved" in saved.headers["Location"]
    with ctx.sessions() as session:
        version, document = rules.current(session, signed_in["id"])
    assert version == 1 and document["segments"][0]["key"] == "french"

    listing = client.get("/admin/segments").get_data(as_text=True)
    assert 'data-segment="french"' in listing and "/admin/segments/french/export.csv" in listing
    assert ">Segments<" in client.get("/admin/").get_data(as_text=True)  # in the navigation

    filtered = client.get("/admin/leads?segment=french").get_data(as_text=True)
    assert f"/admin/leads/{ids['ana']}" in filtered and f"/admin/leads/{ids['bea']}" in filtered
    assert f"/admin/leads/{ids['carl']}" not in filtered
    assert client.get("/admin/leads?segment=nope").status_code == 404
    ana = client.get(f"/admin/leads/{ids['ana']}").get_data(as_text=True)
    assert "data-segments" in ana and "<code>french</code>" in ana
    assert "data-segments" not in client.get(f"/admin/leads/{ids['carl']}").get_data(as_text=True)

    export = client.get("/admin/segments/french/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(row["email"], row["first_name"]) for row in table] == [
        ("ana@example.com", "'=cmd()"),
        ("bea@example.com", ""),
    ]
    with ctx.sessions() as session:
        assert session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "segment.exported"))


def test_a_segment_in_use_by_a_journey_cannot_be_deleted(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    post_form("/admin/segments/edit", form(), page="/admin/segments/edit")
    with transaction(ctx.sessions) as session:
        _, document = rules.current(session, signed_in["id"])
        document["journeys"][0]["audience"]["segment"] = "french"
        rules.save(session, signed_in["id"], document, "t", "", ctx.now())
    refused = post_form("/admin/segments/french/delete", page="/admin/segments/edit?key=french")
    assert refused.status_code == 422
    assert "No segment &#39;french&#39; in this document." in refused.get_data(as_text=True)
    french = client.get("/admin/segments/edit?key=french").get_data(as_text=True)
    assert "Delete this segment" in french and "&#34;country&#34;" in french
    renamed = post_form(
        "/admin/segments/edit",
        form(key="fr-leads", original="french"),
        page="/admin/segments/edit?key=french",
    )
    assert renamed.status_code == 422  # the journey still names "french"
    assert client.get("/admin/segments/edit?key=nope").status_code == 404
    twin = post_form("/admin/segments/edit", form(), page="/admin/segments/edit")  # a new one, same key
    assert twin.status_code == 422 and "Another segment has this key." in twin.get_data(as_text=True)


def test_the_journey_editor_restricts_a_journey_to_a_segment(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    before = client.get("/admin/journeys/cart").get_data(as_text=True)
    assert 'name="audience.segment"' not in before  # no segment yet: no choice shown
    post_form("/admin/segments/edit", form(), page="/admin/segments/edit")
    fields = form_fields(client.get("/admin/journeys/cart").get_data(as_text=True), "journey-form")
    assert fields["audience.segment"] == ""
    saved = post_form(
        "/admin/journeys/cart",
        {**fields, "audience.segment": "french", "action": "save"},
        page="/admin/journeys/cart",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with ctx.sessions() as session:
        _, document = rules.current(session, signed_in["id"])
    cart = next(j for j in document["journeys"] if j["key"] == "cart")
    assert cart["audience"]["segment"] == "french"
    shown = client.get("/admin/journeys/cart").get_data(as_text=True)
    assert '<option value="french" selected>French</option>' in shown
    cleared = post_form(
        "/admin/journeys/cart",
        {**fields, "audience.segment": "", "action": "save"},
        page="/admin/journeys/cart",
    )
    assert cleared.status_code == 302
    with ctx.sessions() as session:
        _, document = rules.current(session, signed_in["id"])
    assert next(j for j in document["journeys"] if j["key"] == "cart")["audience"]["segment"] is None


def test_the_rules_page_adds_points_to_a_segments_members(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    post_form("/admin/segments/edit", form(), page="/admin/segments/edit")
    fields = form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")
    rows = {name.split(".")[2] for name in fields if name.startswith("scoring.criteria.")}
    blank = max(int(index) for index in rows if index.isdigit())
    row = {
        "field": "segment",
        "operator": "eq",
        "value": "french",
        "points": "10",
        "label": "French affinity",
    }
    fields.update({f"scoring.criteria.{blank}.{part}": value for part, value in row.items()})
    saved = post_form("/admin/rules", {**fields, "action": "save"}, page="/admin/rules")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with ctx.sessions() as session:
        _, document = rules.current(session, signed_in["id"])
    assert document["scoring"]["criteria"][-1] == {
        "field": "segment",
        "operator": "eq",
        "value": "french",
        "points": 10,
        "label": "French affinity",
    }
    fields[f"scoring.criteria.{blank}.value"] = "ghosts"
    refused = post_form("/admin/rules", {**fields, "action": "save"}, page="/admin/rules")
    assert refused.status_code == 422 and "No segment &#39;ghosts&#39; in this document." in refused.get_data(
        as_text=True
    )
