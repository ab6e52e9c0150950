"""A segment's SQL count equals a brute-force count with the pure evaluator, over generated leads, products
and product touches, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.db import transaction
from bridge.db.models import Lead, LeadProduct, Product
from bridge.leads import segments
from scoring import ProductTouch, Profile
from scoring.segments import PRODUCT_FIELDS, LeadFacts, load_segment, matches

CATALOGUE = {  # product id -> (collections, tags); "p9" is touched but was never described
    "p1": (["shirts", "summer"], ["cotton"]),
    "p2": (["shirts"], []),
    "p3": (["shoes"], ["leather", "sale"]),
    "p4": ([], ["sale"]),
}
TEXT = {
    "email_domain": ["a.com", "B.com", "shop.fr"],
    "country": ["FR", "be", "US"],
    "source": ["Google", "facebook", "news"],
    "locale": ["fr", "FR-ca", "en"],
    "utm_source": ["Google", "facebook", "news"],
    "utm_medium": ["cpc", "Email"],
    "utm_campaign": ["spring", "sale"],
    "referrer": ["google.com", "news.example"],
    "landing_page": ["/collections/shirts", "/", "/products/p1"],
}
NUMBERS = {
    "orders_count": [0, 1, 2, 3],
    "total_spent": [0, 9.99, 10, 25.5],
    "score": [0, 39, 40, 80, 100],
    "last_activity_days": [0, 1, 7, 30],
}
DAYS = [0.5, 1, 7, 29, 30, 31, 60]


def text_value(field: str) -> st.SearchStrategy[str]:
    values = TEXT[field]
    return st.sampled_from(values + [v.upper() for v in values] + [f" {values[0]} ", "zz"])


def condition() -> st.SearchStrategy[dict[str, Any]]:
    texts = st.sampled_from(sorted(TEXT)).flatmap(
        lambda field: st.one_of(
            st.tuples(st.sampled_from(["eq", "ne"]), text_value(field)),
            st.tuples(st.sampled_from(["in", "not_in"]), st.lists(text_value(field), min_size=1, max_size=3)),
            st.tuples(st.just("contains"), st.sampled_from(["o", "fr", "/", "shirt", "%", "_"])),
        ).map(lambda pair: {"field": field, "operator": pair[0], "value": pair[1]})
    )
    numbers = st.sampled_from(sorted(NUMBERS)).flatmap(
        lambda field: st.builds(
            lambda op, value: {"field": field, "operator": op, "value": value},
            st.sampled_from(
                ["gt", "gte", "lt", "lte"]
                if field == "last_activity_days"
                else ["eq", "ne", "gt", "gte", "lt", "lte"]
            ),
            st.sampled_from(NUMBERS[field]),
        )
    )
    booleans = st.builds(
        lambda field, op, value: {"field": field, "operator": op, "value": value},
        st.sampled_from(["accepts_marketing", "unsubscribed", "is_customer"]),
        st.sampled_from(["eq", "ne"]),
        st.booleans(),
    )
    tiers = st.builds(
        lambda op, value: {
            "field": "tier",
            "operator": op,
            "value": value if op in ("eq", "ne") else [value],
        },
        st.sampled_from(["eq", "ne", "in", "not_in"]),
        st.sampled_from(["cold", "warm", "hot", "customer"]),
    )
    products = st.builds(
        lambda field, op, scope, days, names: {
            "field": field,
            "operator": op,
            "of": scope,
            "within_days": days,
            "value": names[scope],
        },
        st.sampled_from(PRODUCT_FIELDS),
        st.sampled_from(["in", "not_in"]),
        st.sampled_from(["product", "collection", "tag"]),
        st.sampled_from([None, 1, 7, 30]),
        st.fixed_dictionaries(
            {
                "product": st.lists(st.sampled_from(["p1", "p2", "p3", "p4", "p9"]), min_size=1, max_size=2),
                "collection": st.lists(
                    st.sampled_from(["shirts", "Summer", "shoes"]), min_size=1, max_size=2
                ),
                "tag": st.lists(st.sampled_from(["cotton", "sale", "leather"]), min_size=1, max_size=2),
            }
        ),
    )
    return st.one_of(texts, numbers, booleans, tiers, products)


segment_documents = st.builds(
    lambda match, conditions: {"key": "s", "match": match, "conditions": conditions},
    st.sampled_from(["all", "any"]),
    st.lists(condition(), min_size=1, max_size=3),
)

leads = st.lists(
    st.fixed_dictionaries(
        {
            "domain": st.sampled_from(["a.com", "B.com", "shop.fr", None]),
            "country": st.sampled_from([None, "FR", "fr", "BE", "US"]),
            "accepts_marketing": st.sampled_from([None, True, False]),
            "unsubscribed": st.booleans(),
            "is_customer": st.booleans(),
            "orders_count": st.sampled_from(NUMBERS["orders_count"]),
            "total_spent": st.sampled_from(["0", "9.99", "10", "25.5"]),
            "score": st.sampled_from(NUMBERS["score"]),
            "tier": st.sampled_from(["cold", "warm", "hot", "customer"]),
            "locale": st.sampled_from([None, "fr", "FR-CA", "en", " en ", ""]),
            "last_activity_days": st.sampled_from([None, *DAYS]),
            "source": st.dictionaries(
                st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "referrer", "landing_page"]),
                st.sampled_from(
                    ["Google", "facebook", "", " news ", "cpc", "/collections/shirts", "50%_off"]
                ),
                max_size=4,
            ),
            "touches": st.lists(
                st.tuples(
                    st.sampled_from(["p1", "p2", "p3", "p4", "p9"]),
                    st.sampled_from(PRODUCT_FIELDS),
                    st.sampled_from(DAYS),
                ),
                max_size=4,
                unique_by=lambda t: (t[0], t[1]),
            ),
        }
    ),
    max_size=8,
)


def facts(index: int, lead: dict[str, Any], now: Any) -> LeadFacts:
    """What the pure evaluator sees, built from the generated values (not read back from the database)."""
    touches = tuple(
        ProductTouch(
            action, product, now - timedelta(days=days), *map(tuple, CATALOGUE.get(product, ([], [])))
        )
        for product, action, days in lead["touches"]
    )
    profile = Profile(
        email=email_of(index, lead),
        country=lead["country"],
        accepts_marketing=lead["accepts_marketing"],
        is_customer=lead["is_customer"],
        orders_count=lead["orders_count"],
        total_spent=float(Decimal(lead["total_spent"])),
        products=touches,
    )
    days = lead["last_activity_days"]
    return LeadFacts(
        profile=profile,
        tier=lead["tier"],
        score=lead["score"],
        locale=lead["locale"],
        unsubscribed=lead["unsubscribed"],
        last_activity_at=None if days is None else now - timedelta(days=days),
        source=lead["source"],
    )


def email_of(index: int, lead: dict[str, Any]) -> str | None:
    return None if lead["domain"] is None else f"u{index}@{lead['domain']}"


def store(ctx: Any, shop_id: int, generated: list[dict[str, Any]]) -> None:
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        for model in (LeadProduct, Product, Lead):
            session.execute(sa.delete(model))
        for product, (collections, tags) in CATALOGUE.items():
            session.add(
                Product(
                    shop_id=shop_id,
                    product_id=product,
                    collections=collections,
                    tags=tags,
                    first_seen_at=now,
                    updated_at=now,
                )
            )
        for index, lead in enumerate(generated):
            days = lead["last_activity_days"]
            row = Lead(
                shop_id=shop_id,
                email=email_of(index, lead),
                country=lead["country"],
                accepts_marketing=lead["accepts_marketing"],
                unsubscribed_at=now if lead["unsubscribed"] else None,
                is_customer=lead["is_customer"],
                orders_count=lead["orders_count"],
                total_spent=Decimal(lead["total_spent"]),
                score=lead["score"],
                tier=lead["tier"],
                locale=lead["locale"],
                last_activity_at=None if days is None else now - timedelta(days=days),
                source=lead["source"],
                created_at=now,
                breakdown={},
            )
            session.add(row)
            session.flush()
            for product, action, touched in lead["touches"]:
                at = now - timedelta(days=touched)
                session.add(
                    LeadProduct(
                        shop_id=shop_id,
                        lead_id=row.id,
                        product_id=product,
                        action=action,
                        first_at=at,
                        last_at=at,
                    )
                )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=leads, documents=st.lists(segment_documents, min_size=1, max_size=3))
def test_sql_count_equals_the_pure_evaluators_count(ctx, shopify_shop, generated, documents):
    now, shop_id = ctx.now(), shopify_shop["id"]
    store(ctx, shop_id, generated)
    everyone = [facts(index, lead, now) for index, lead in enumerate(generated)]
    with ctx.sessions() as session:
        for document in documents:
            segment = load_segment(document)
            expected = sum(matches(segment, one, now) for one in everyone)
            assert segments.count(session, shop_id, segment, now) == expected, document
            members = session.scalars(
                segments.members(session, shop_id, segment, now).with_only_columns(Lead.email)
            )
            wanted = {
                email_of(i, lead) for i, lead in enumerate(generated) if matches(segment, everyone[i], now)
            }
            assert set(members) == wanted, document
