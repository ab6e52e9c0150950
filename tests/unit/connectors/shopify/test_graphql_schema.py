"""Every GraphQL document the Shopify connector sends is valid for the pinned API version (2026-10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from connectors.base import DiscountSpec
from connectors.shopify import graphql as gql
from tests.fakes.shopify_graphql import (
    MAX_QUERY_COST,
    SCHEMA_PATH,
    FakeAdminData,
    SchemaMissing,
    admin_schema,
    query_cost,
)
from tests.fakes.shopify_store import FakeShopify

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _spec(**changes: Any) -> DiscountSpec:
    base: dict[str, Any] = {
        "code": "BACK-7Q2M9XK4PZ",
        "title": "Cart recovery",
        "kind": "percentage",
        "value": Decimal(10),
        "currency": "EUR",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=24),
    }
    return DiscountSpec(**{**base, **changes})


def _coerce(document: str, variables: dict[str, Any]) -> Any:
    operation = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    return get_variable_values(admin_schema(), operation.variable_definitions or [], variables)


def test_every_document_constant_is_listed_for_checking() -> None:
    constants = {
        name: value
        for name, value in vars(gql).items()
        if name.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation"))
    }
    assert constants == gql.DOCUMENTS


@pytest.mark.parametrize("name", sorted(gql.DOCUMENTS))
def test_document_is_valid_against_the_published_schema(name: str) -> None:
    assert validate(admin_schema(), parse(gql.DOCUMENTS[name])) == []


@pytest.mark.parametrize("name", sorted(gql.DOCUMENTS))
def test_document_stays_under_the_single_query_cost_cap(name: str) -> None:
    variables = {"first": gql.PAGE_SIZE}
    assert query_cost(parse(gql.DOCUMENTS[name]), variables) <= MAX_QUERY_COST


def test_the_pixel_documents_are_checked_too() -> None:
    assert {"PIXEL_CREATE", "PIXEL_UPDATE", "PIXEL_FIND"} <= set(gql.DOCUMENTS)


def test_the_check_catches_documents_the_schema_does_not_have() -> None:
    # priceRuleCreate is not in the 2026-10 schema; Shop has no `currency` field.
    removed = 'mutation { priceRuleCreate(priceRule: {title: "x"}) { priceRule { id } } }'
    assert validate(admin_schema(), parse(removed))
    assert validate(admin_schema(), parse("query { shop { name currency } }"))


@pytest.mark.parametrize(
    "spec",
    [
        _spec(customer_external_id="7261"),
        _spec(customer_external_id="gid://shopify/Customer/7261"),
        _spec(),
        _spec(kind="fixed_amount", value=Decimal("10.00"), customer_external_id="7261"),
        _spec(kind="fixed_amount", value=Decimal("5"), minimum_subtotal=Decimal("50.00")),
        _spec(starts_at=datetime(2026, 11, 25, 10, 0), ends_at=datetime(2026, 11, 26, 10, 0)),
    ],
    ids=["pct-customer", "pct-gid", "pct-anyone", "fixed-customer", "fixed-minimum", "naive-times"],
)
def test_discount_variables_coerce_to_the_declared_input(spec: DiscountSpec) -> None:
    variables = gql.discount_variables(spec)
    assert isinstance(_coerce(gql.CREATE_DISCOUNT, variables), dict)
    assert len(variables["input"]["context"]) == 1  # DiscountContextInput is @oneOf


def test_discount_variables_are_a_single_use_code_for_that_customer() -> None:
    data = gql.discount_variables(_spec(customer_external_id="7261"))["input"]
    assert data["context"] == {"customers": {"add": ["gid://shopify/Customer/7261"]}}
    assert data["customerGets"] == {"value": {"percentage": 0.1}, "items": {"all": True}}
    assert data["usageLimit"] == 1 and data["appliesOncePerCustomer"] is True
    assert (data["startsAt"], data["endsAt"]) == ("2026-11-25T10:00:00Z", "2026-11-26T10:00:00Z")
    assert "minimumRequirement" not in data


def test_fixed_amount_without_customer_is_open_to_anyone_once() -> None:
    data = gql.discount_variables(_spec(kind="fixed_amount", value=Decimal("7.50")))["input"]
    assert data["context"] == {"all": "ALL"}
    assert data["customerGets"]["value"] == {"discountAmount": {"amount": "7.50", "appliesOnEachItem": False}}


def test_unknown_discount_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown discount kind"):
        gql.discount_variables(_spec(kind="buy_one_get_one"))
    with pytest.raises(ValueError, match="unknown discount kind"):
        gql.discount_document(_spec(kind="buy_one_get_one"))


@pytest.mark.parametrize(
    "spec",
    [
        _spec(kind="free_shipping", customer_external_id="7261"),
        _spec(kind="free_shipping"),
        _spec(kind="free_shipping", value=Decimal(0), minimum_subtotal=Decimal("40.00")),
        _spec(kind="percentage", minimum_subtotal=Decimal("30"), customer_external_id="7261"),
    ],
    ids=["free-customer", "free-guest", "free-minimum", "pct-minimum"],
)
def test_each_kind_coerces_to_the_input_of_its_own_mutation(spec: DiscountSpec) -> None:
    document, answer = gql.discount_document(spec)
    variables = gql.discount_variables(spec)
    assert isinstance(_coerce(document, variables), dict)
    assert answer in document
    assert len(variables["input"]["context"]) == 1  # DiscountContextInput is @oneOf


def test_a_free_shipping_code_has_no_customer_gets_and_ships_everywhere() -> None:
    spec = _spec(kind="free_shipping", customer_external_id="7261", minimum_subtotal=Decimal("40.00"))
    document, answer = gql.discount_document(spec)
    data = gql.discount_variables(spec)["input"]
    assert (document, answer) == (gql.CREATE_FREE_SHIPPING, "discountCodeFreeShippingCreate")
    assert "customerGets" not in data and "customerSelection" not in data
    assert data["destination"] == {"all": True}
    assert data["context"] == {"customers": {"add": ["gid://shopify/Customer/7261"]}}
    assert data["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "40.00"}}
    assert data["combinesWith"]["shippingDiscounts"] is False
    assert data["usageLimit"] == 1


def test_a_guest_code_is_open_to_all_but_single_use_and_short_lived() -> None:
    data = gql.discount_variables(_spec(kind="free_shipping"))["input"]
    assert data["context"] == {"all": "ALL"}
    assert data["usageLimit"] == 1 and data["endsAt"] == "2026-11-26T10:00:00Z"


def test_a_zero_minimum_is_no_minimum() -> None:
    data = gql.discount_variables(_spec(minimum_subtotal=Decimal(0)))["input"]
    assert "minimumRequirement" not in data


def test_the_deprecated_customer_selection_is_not_sent() -> None:
    # 2026-10 deprecates customerSelection on both inputs in favour of `context`.
    for kind in ("percentage", "free_shipping"):
        assert "customerSelection" not in gql.discount_variables(_spec(kind=kind))["input"]
    fields = admin_schema().get_type("DiscountCodeFreeShippingInput").fields  # type: ignore[union-attr]
    assert fields["customerSelection"].deprecation_reason and not fields["context"].deprecation_reason


def test_primary_locale_is_the_entry_marked_primary() -> None:
    answer = [{"locale": "en", "primary": False}, {"locale": "fr", "primary": True}]
    assert gql.primary_locale(answer) == "fr"
    assert gql.primary_locale([{"locale": "en", "primary": False}]) is None
    assert gql.primary_locale(None) is None


def test_wrongly_typed_variables_are_caught() -> None:
    variables = gql.discount_variables(_spec())
    variables["input"]["customerGets"]["value"]["percentage"] = "ten"
    assert isinstance(_coerce(gql.CREATE_DISCOUNT, variables), list)


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (gql.FIND_DISCOUNT, {"code": "BACK-7Q2M9XK4PZ"}),
        (gql.DELETE_DISCOUNT, {"id": "gid://shopify/DiscountCodeNode/1"}),
        (gql.DEACTIVATE_DISCOUNT, {"id": "gid://shopify/DiscountCodeNode/1"}),
        (gql.LIST_WEBHOOKS, {"after": None}),
        (gql.DELETE_WEBHOOK, {"id": "gid://shopify/WebhookSubscription/1"}),
        (gql.SHOP, {}),
        (gql.SHOP_LOCALES, {}),
        (gql.PIXEL_CREATE, {"webPixel": {"settings": '{"bridgeUrl": "https://relance.test"}'}}),
        (gql.PIXEL_UPDATE, {"id": "gid://shopify/WebPixel/1", "webPixel": {"settings": "{}"}}),
        (gql.PIXEL_FIND, {}),
        (gql.UPDATE_EMAIL_CONSENT, gql.email_consent_variables("7261", False, NOW)),
        (gql.UPDATE_EMAIL_CONSENT, gql.email_consent_variables("gid://shopify/Customer/7261", True, NOW)),
        (gql.ABANDONED_CHECKOUTS, {"first": gql.PAGE_SIZE, "after": None, "query": gql.updated_since(NOW)}),
        (gql.ORDERS, {"first": gql.PAGE_SIZE, "after": "abc", "query": gql.updated_since(NOW)}),
    ],
)
def test_sample_variables_coerce(document: str, variables: dict[str, Any]) -> None:
    assert isinstance(_coerce(document, variables), dict)


@pytest.mark.parametrize(
    "topic",
    [
        "carts/create",
        "carts/update",
        "checkouts/create",
        "checkouts/update",
        "orders/create",
        "orders/paid",
        "orders/cancelled",
        "customers/create",
        "customers/update",
        "customers_email_marketing_consent/update",
        "app/uninstalled",
        "shop/update",
        "app/scopes_update",
        "APP_UNINSTALLED",
    ],
)
def test_webhook_topics_coerce_to_the_topic_enum(topic: str) -> None:
    variables = {"topic": gql.webhook_topic(topic), "sub": {"uri": "https://relance.test/webhooks/shopify"}}
    assert isinstance(_coerce(gql.CREATE_WEBHOOK, variables), dict)


def test_updated_since_uses_quoted_utc_search_syntax() -> None:
    assert gql.updated_since(NOW) == "updated_at:>='2026-11-25T10:00:00Z'"


def test_consent_variables_set_a_state_the_mutation_accepts() -> None:
    # Only SUBSCRIBED, UNSUBSCRIBED and PENDING may be set through customerEmailMarketingConsentUpdate.
    data = gql.email_consent_variables("7261", False, NOW)["input"]
    assert data == {
        "customerId": "gid://shopify/Customer/7261",
        "emailMarketingConsent": {
            "marketingState": "UNSUBSCRIBED",
            "consentUpdatedAt": "2026-11-25T10:00:00Z",
        },
    }


def test_the_schema_comes_from_the_project_cache_that_make_test_fills() -> None:
    root = next(p for p in SCHEMA_PATH.parents if (p / "Makefile").is_file())
    assert SCHEMA_PATH.relative_to(root).as_posix() == ".cache/shopify/admin_2026-10.json.gz"
    assert SCHEMA_PATH.relative_to(root).as_posix() in (root / "Makefile").read_text()


def test_without_the_schema_the_fake_store_fails_saying_make_test_fetches_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPIFY_ADMIN_SCHEMA", str(tmp_path / "absent.json.gz"))
    with pytest.raises(SchemaMissing, match=r"absent\.json\.gz.*`make test` fetches it"):
        FakeAdminData("shop.myshopify.com")
    with pytest.raises(SchemaMissing, match="`make test` fetches it"), FakeShopify():
        pass


def test_the_product_document_asks_what_the_product_store_keeps() -> None:
    assert validate(admin_schema(), parse(gql.PRODUCT)) == []
    coerced = _coerce(gql.PRODUCT, {"id": gql.gid("Product", "8846120518011")})
    assert coerced == {"id": "gid://shopify/Product/8846120518011"}
    for field in ("onlineStoreUrl", "featuredMedia", "collections(first: 20)", "tags", "priceRangeV2"):
        assert field in gql.PRODUCT


def test_a_product_answer_becomes_product_details() -> None:
    node = {
        "id": "gid://shopify/Product/1", "title": " Mug ", "handle": "mug", "onlineStoreUrl": None,
        "tags": ["Sale", 3],
        "featuredMedia": {"preview": {"image": None}},
        "priceRangeV2": {"minVariantPrice": {"amount": "not money", "currencyCode": "EUR"}},
        "collections": {"nodes": [{"handle": "mugs"}, {"handle": ""}, "x"]},
    }  # fmt: skip
    details = gql.product_details("1", node)
    assert details is not None
    assert (details.title, details.url, details.image_url, details.price) == ("Mug", None, None, None)
    assert (details.collections, details.tags) == (("mugs",), ("Sale",))
    assert gql.product_details("1", None) is None
