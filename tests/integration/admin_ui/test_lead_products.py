"""The lead page lists what the lead viewed, added and bought (titles, collections), in both languages."""

from __future__ import annotations

from datetime import timedelta

from bridge.db import transaction
from bridge.db.models import Lead, Product
from bridge.leads import products


def lead_with_products(ctx, shop_id: int) -> int:
    with transaction(ctx.sessions) as s:
        lead = Lead(shop_id=shop_id, email="ana@example.com", created_at=ctx.now(), source={}, breakdown={})
        s.add(lead)
        s.flush()
        day = ctx.now() - timedelta(days=1)
        products.record(s, shop_id, lead.id, "viewed", "view:11:a", day, [products.Seen("11")])
        products.record(s, shop_id, lead.id, "viewed", "view:11:b", ctx.now(), [products.Seen("11")])
        products.record(
            s,
            shop_id,
            lead.id,
            "bought",
            "order:5",
            ctx.now(),
            [products.Seen("12", title="Linen <b>apron</b>")],
        )
        bowl = s.query(Product).filter_by(shop_id=shop_id, product_id="11").one()
        bowl.title, bowl.collections = "Ash-glaze bowl", ["bowls", "gifts"]
        return lead.id


def products_card(html: str) -> str:
    start = html.index('id="products"')
    return html[start : html.index("</section>", start)]


def test_the_lead_page_shows_the_leads_products(ctx, client, signed_in):
    lead = lead_with_products(ctx, signed_in["id"])
    card = products_card(client.get(f"/admin/leads/{lead}").get_data(as_text=True))
    assert "Ash-glaze bowl" in card and "bowls, gifts" in card
    assert "Viewed" in card and "Bought" in card
    assert '<td class="num">2</td>' in card  # two days of views
    assert "Linen &lt;b&gt;apron&lt;/b&gt;" in card  # a payload's title is text, never markup


def test_the_lead_page_says_so_in_french_and_when_there_is_none(ctx, client, signed_in):
    lead = lead_with_products(ctx, signed_in["id"])
    html = client.get(f"/admin/leads/{lead}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    card = products_card(html)
    assert "Produits" in card and "Vu" in card and "Acheté" in card
    with transaction(ctx.sessions) as s:
        other = Lead(
            shop_id=signed_in["id"], email="bo@example.com", created_at=ctx.now(), source={}, breakdown={}
        )
        s.add(other)
        s.flush()
        other_id = other.id
    empty = products_card(client.get(f"/admin/leads/{other_id}").get_data(as_text=True))
    assert "No product viewed, added or bought." in empty
