"""The alerts page: the sales address, subscriptions added with their secret shown once, errors beside
their fields (422), a test event, a new secret, deletion, and the delivery log; in English and French."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import responses
import sqlalchemy as sa

from bridge.db.models import AlertDelivery, AlertSecret
from bridge.infra.context import Context
from bridge.infra.netguard import Guard
from bridge.leads import rules

Post = Callable[..., Any]
HOOK = "https://hooks.example.com/relance"
PAGE = "/admin/alerts"


def _settings(ctx: Context, shop_id: int) -> Any:
    with ctx.sessions() as session:
        return rules.alerts_for(session, shop_id)


def _add(post_form: Post, **fields: Any) -> Any:
    data = {
        "key": "crm",
        "url": HOOK,
        "events": ["lead.hot", "cart.abandoned"],
        "format": "json",
        "enabled": "1",
    }
    return post_form("/admin/alerts/subscriptions", {**data, **fields}, page=PAGE)


def test_the_page_is_in_the_nav_and_lists_nothing_yet(client: Any, signed_in: dict[str, Any]) -> None:
    html = client.get(PAGE).get_data(as_text=True)
    assert 'href="/admin/alerts" aria-current="page"' in html
    assert "No subscription yet." in html and "Nothing sent yet." in html
    french = client.get(PAGE, headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Alertes" in french and "Aucun abonnement pour l\u2019instant." in french


def test_the_sales_address_is_saved_as_a_rules_version(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    response = post_form(
        "/admin/alerts/settings", {"sales_email": "sales@shop-a.test", "digest": "1"}, page=PAGE
    )
    assert response.status_code == 302 and "done=saved" in response.headers["Location"]
    saved = _settings(ctx, signed_in["id"])
    assert (saved.sales_email, saved.hot_email, saved.digest) == ("sales@shop-a.test", False, True)
    bad = post_form("/admin/alerts/settings", {"sales_email": "nope", "hot_email": "1"}, page=PAGE)
    assert bad.status_code == 422
    assert re.search(r'id="err-sales_email">Not a valid email address', bad.get_data(as_text=True))


@responses.activate
def test_a_subscription_shows_its_secret_once_is_tested_and_logged(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post, run_jobs: Callable[[], None]
) -> None:
    ctx.guard = Guard(resolve=lambda host, port: ["93.184.216.34"])
    response = _add(post_form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    secret = re.search(r'<code class="secret">(whsec_[^<]+)</code>', html).group(1)
    with ctx.sessions() as session:
        assert secret not in session.scalar(sa.select(AlertSecret.secret_enc))
    again = client.get(PAGE).get_data(as_text=True)
    assert secret not in again and 'id="subscription-crm"' in again
    assert _settings(ctx, signed_in["id"]).subscription("crm").events == ("lead.hot", "cart.abandoned")

    responses.post(HOOK, status=500)
    tested = post_form("/admin/alerts/subscriptions/crm/test", page=PAGE)
    assert "done=tested" in tested.headers["Location"]
    run_jobs()
    log = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'id="delivery-\d+".*?A lead became hot.*?test.*?pending.*?500.*?HTTP 500', log, re.S)

    rotated = post_form("/admin/alerts/subscriptions/crm/secret", page=PAGE).get_data(as_text=True)
    new_secret = re.search(r'<code class="secret">(whsec_[^<]+)</code>', rotated).group(1)
    assert new_secret != secret

    edited = _add(post_form, editing="crm", key="", url=HOOK + "/v2", events=["offer.sent"], enabled="")
    assert edited.status_code == 302
    changed = _settings(ctx, signed_in["id"]).subscription("crm")
    assert (changed.url, changed.events, changed.enabled) == (HOOK + "/v2", ("offer.sent",), False)

    deleted = post_form("/admin/alerts/subscriptions/crm/delete", page=PAGE)
    assert deleted.status_code == 302 and _settings(ctx, signed_in["id"]).subscriptions == ()
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSecret)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery)) == 1  # the log stays


def test_a_bad_subscription_is_a_422_beside_its_fields(
    ctx: Context, client: Any, signed_in: dict[str, Any], post_form: Post
) -> None:
    ctx.guard = Guard(resolve=lambda host, port: ["10.1.2.3"])
    response = _add(post_form, key="Bad Key", events=[])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-key"' in html and 'id="err-events"' in html
    private = _add(post_form)
    assert private.status_code == 422
    assert re.search(r'id="err-url">Use a public internet address', private.get_data(as_text=True))
    assert _settings(ctx, signed_in["id"]).subscriptions == ()
    assert post_form("/admin/alerts/subscriptions/nope/test", page=PAGE).status_code == 404
