"""The rules page: errors beside their fields (422), simulate, save (version + rescore), restore; every
campaign setting of the rules document is on it (messages and offers are the journeys')."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from rq.job import Job

from bridge.db.models import Ruleset
from bridge.infra.context import Context
from bridge.leads import rules
from tests.integration.admin_ui.conftest import seed
from tests.integration.admin_ui.forms import form_fields

Post = Callable[..., Any]


@pytest.fixture
def form(client: Any, signed_in: dict[str, Any]) -> dict[str, str]:
    """The rules form as the page renders it (the live rules)."""
    return form_fields(client.get("/admin/rules").get_data(as_text=True), "rules-form")


def _live(ctx: Context, shop_id: int) -> tuple[int, dict[str, Any]]:
    with ctx.sessions() as session:
        return rules.current(session, shop_id)


def test_the_form_round_trips_the_live_rules(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    response = post_form("/admin/rules", {**form, "action": "save"}, page="/admin/rules")
    assert "done=unchanged" in response.headers["Location"]
    assert _live(ctx, signed_in["id"])[0] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("scoring.tiers.hot", "30", "Must be greater than warm."),
        ("scoring.activities.add_to_cart.points", "lots", "Not a valid number."),
        ("campaign.timezone", "Mars/Olympus", "Unknown time zone"),
        ("campaign.monthly_budget", "-5", "greater than or equal to 0"),
        ("campaign.attribution_window_days", "91", "less than or equal to 90"),
        ("campaign.pressure.max_emails", "0", "greater than or equal to 1"),
        ("campaign.locale", "French", "language tag"),
        ("campaign.logo_url", "http://shop.example/logo.png", "https://"),
        ("campaign.brand_color", "blue", "#1f2937"),
        ("campaign.webhook_url", "ftp://hooks.example", "https://"),
    ],
)
def test_errors_show_beside_their_field(
    ctx: Context,
    signed_in: dict[str, Any],
    form: dict[str, str],
    post_form: Post,
    field: str,
    value: str,
    message: str,
) -> None:
    response = post_form("/admin/rules", {**form, field: value, "action": "save"}, page="/admin/rules")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error_id = "err-" + field.replace(".", "-")
    assert f'aria-describedby="{error_id}"' in html
    beside = html[html.index(f'id="{error_id}"') :][:400]
    assert message in beside
    assert "Nothing was saved." in html
    assert _live(ctx, signed_in["id"])[0] == 0


def test_criterion_errors_stay_on_their_row(
    signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    row = {"scoring.criteria.2.field": "orders_count", "scoring.criteria.2.operator": "gt"}
    row |= {"scoring.criteria.2.value": "many", "scoring.criteria.2.points": "10"}
    response = post_form("/admin/rules", {**form, **row, "action": "save"}, page="/admin/rules")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="err-scoring-criteria-2-value"' in html and "Must be a number." in html


def test_save_creates_a_version_and_queues_the_rescore(
    client: Any, ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    changed = {**form, "scoring.tiers.hot": "75", "scoring.criteria.0.remove": "1", "note": "hotter"}
    changed |= {"campaign.quiet_hours.enabled": "", "campaign.pressure.window_days": "14"}
    changed |= {"campaign.monthly_budget": "250.5", "campaign.webhook_url": "https://hooks.example/relance"}
    changed |= {"campaign.locale": "en", "campaign.logo_url": "https://cdn.example/logo.png"}
    changed |= {"campaign.brand_color": "#aa3300", "campaign.attribution_window_days": "14"}
    response = post_form("/admin/rules", {**changed, "action": "save"}, page="/admin/rules")
    assert response.status_code == 302 and "done=saved" in response.headers["Location"]
    version, document = _live(ctx, signed_in["id"])
    assert version == 1
    assert document["scoring"]["tiers"]["hot"] == 75
    assert [c["label"] for c in document["scoring"]["criteria"]] == ["Disposable email"]
    assert document["campaign"]["quiet_hours"] is None
    campaign = document["campaign"]
    assert campaign["pressure"] == {"max_emails": 3, "window_days": 14, "min_gap_hours": 12}
    assert (campaign["monthly_budget"], campaign["webhook_url"]) == (250.5, "https://hooks.example/relance")
    assert (campaign["locale"], campaign["logo_url"]) == ("en", "https://cdn.example/logo.png")
    assert (campaign["brand_color"], campaign["attribution_window_days"]) == ("#aa3300", 14)
    with ctx.sessions() as session:
        row = session.scalar(sa.select(Ruleset).where(Ruleset.shop_id == signed_in["id"]))
        assert (row.created_by, row.note) == (signed_in["email"], "hotter")
    assert Job.exists(f"rescore-{signed_in['id']}-1", connection=ctx.redis)
    assert "Saved as version 1" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_simulate_shows_tiers_now_and_after_without_saving(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    seed(ctx, signed_in["id"])
    candidate = {**form, "scoring.tiers.warm": "10", "scoring.tiers.hot": "20", "action": "simulate"}
    response = post_form("/admin/rules", candidate, page="/admin/rules")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "What these rules would do" in html and "Leads per tier: now and with these rules" in html
    assert _live(ctx, signed_in["id"])[0] == 0


def test_restore_brings_back_an_old_version(
    client: Any, ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    post_form("/admin/rules", {**form, "scoring.tiers.hot": "75", "action": "save"}, page="/admin/rules")
    post_form("/admin/rules", {**form, "scoring.tiers.hot": "90", "action": "save"}, page="/admin/rules")
    history = client.get("/admin/rules/history").get_data(as_text=True)
    assert "Restore version 1" in history and "scoring.tiers.hot" in history
    response = post_form("/admin/rules/versions/1/restore", page="/admin/rules/history")
    assert "done=restored" in response.headers["Location"]
    version, document = _live(ctx, signed_in["id"])
    assert (version, document["scoring"]["tiers"]["hot"]) == (3, 75)
    assert post_form("/admin/rules/versions/99/restore", page="/admin/rules").status_code == 404


def test_blank_optional_settings_mean_none(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    post_form(
        "/admin/rules", {**form, "campaign.monthly_budget": "90", "action": "save"}, page="/admin/rules"
    )
    assert _live(ctx, signed_in["id"])[1]["campaign"]["monthly_budget"] == 90
    blank = {k: v for k, v in form.items() if k != "campaign.pressure.enabled"}
    blank |= {"campaign.monthly_budget": "", "campaign.webhook_url": "", "campaign.logo_url": ""}
    response = post_form("/admin/rules", {**blank, "action": "save"}, page="/admin/rules")
    assert "done=saved" in response.headers["Location"]
    campaign = _live(ctx, signed_in["id"])[1]["campaign"]
    assert (campaign["monthly_budget"], campaign["pressure"], campaign["webhook_url"]) == (None, None, None)
    html = post_form("/admin/rules", {**blank, "action": "simulate"}, page="/admin/rules").get_data(
        as_text=True
    )
    assert (
        'id="campaign.pressure.enabled" name="campaign.pressure.enabled" type="checkbox" value="1">' in html
    )


def test_the_single_offer_fields_are_gone_from_the_page(client: Any, form: dict[str, str]) -> None:
    for moved in ("discount_kind", "discount_value", "code_expiry_hours", "holdout_share", "email.subject"):
        assert f"campaign.{moved}" not in form
    assert {"campaign.pressure.max_emails", "campaign.webhook_url", "campaign.brand_color"} <= set(form)
    assert client.post("/admin/rules/preview").status_code == 404


def test_the_page_escapes_what_it_shows(
    client: Any, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    hostile = {**form, "campaign.sender_name": '"><script>alert(1)</script>', "action": "simulate"}
    html = post_form("/admin/rules", hostile, page="/admin/rules").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unticking_the_consent_switch_of_a_shopify_shop_is_refused_with_the_reason(
    ctx: Context, signed_in: dict[str, Any], form: dict[str, str], post_form: Post
) -> None:
    unticked = {k: v for k, v in form.items() if k != "campaign.require_consent"}
    response = post_form("/admin/rules", {**unticked, "action": "save"}, page="/admin/rules")
    assert response.status_code == 422
    assert "Shopify requires marketing consent for discount offers" in response.get_data(as_text=True)
    assert _live(ctx, signed_in["id"])[0] == 0
