"""Shopify's privacy-law (compliance) topics and app/uninstalled: bodies that must prove their own shape,
turned into facts that name their shop (the bridge holds that shop to the one the delivery came for)."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import AppUninstalled, CustomerRedact, DataRequest, Fact, PayloadError, ShopRedact
from connectors.shopify.fields import Fields


def _data_subject(payload: Fields) -> tuple[str | None, str | None]:
    customer = payload.obj("customer")
    external_id, email = customer.id("id"), customer.email("email")
    if external_id is None and email is None:
        raise PayloadError("customer.id and customer.email are both missing")
    return external_id, email


# One app secret signs the deliveries of every shop and the signature covers only the body, so a captured
# body can come back under another topic: each privacy topic's body must have its own shape (PLATFORMS §2).
_COMPLIANCE_KEYS = {
    "customers/redact": ("customer", "orders_to_redact"),
    "customers/data_request": ("customer", "orders_requested", "data_request"),
    "shop/redact": (),
}
_OTHER_KEYS = ("customer", "orders_to_redact", "orders_requested", "data_request")


def _compliance_shop(topic: str, payload: Fields) -> str:
    """The shop a compliance payload names, once its shape is that of `topic`'s body."""
    own = _COMPLIANCE_KEYS[topic]
    payload.required("shop_id", payload.id)
    missing = [key for key in own if key != "data_request" and not payload.has(key)]
    foreign = [key for key in _OTHER_KEYS if key not in own and payload.has(key)]
    if missing or foreign:
        raise PayloadError(
            f"not a {topic} body ("
            + ", ".join([*(f"no {k}" for k in missing), *(f"has {k}" for k in foreign)])
            + ")"
        )
    return payload.required("shop_domain", payload.text).lower()


def _customer_redact(payload: Fields) -> list[Fact]:
    subject = _data_subject(payload)
    return [CustomerRedact(*subject, shop_domain=_compliance_shop("customers/redact", payload))]


def _data_request(payload: Fields) -> list[Fact]:
    external_id, email = _data_subject(payload)
    request = payload.obj("data_request")
    shop = _compliance_shop("customers/data_request", payload)
    return [DataRequest(external_id, email, request.id("id"), shop_domain=shop)]


def _shop_redact(payload: Fields) -> list[Fact]:
    return [ShopRedact(shop_domain=_compliance_shop("shop/redact", payload))]


# Keys of a customer, order or checkout that the Shop object of app/uninstalled never has.
_NOT_A_SHOP = ("first_name", "last_name", "addresses", "line_items", "customer", "shop_domain", "token")


def _app_uninstalled(payload: Fields) -> list[Fact]:
    """The Shop object: its own id and domains. `domain` may be the shop's custom domain, which proves
    nothing; a myshopify domain names the shop."""
    payload.required("id", payload.id)
    foreign = [key for key in _NOT_A_SHOP if payload.has(key)]
    if foreign or not any(payload.has(key) for key in ("myshopify_domain", "domain")):
        wrong = ", ".join(f"has {key}" for key in foreign) or "no myshopify_domain"
        raise PayloadError(f"not a shop object ({wrong})")
    domains = [payload.text("myshopify_domain"), payload.text("domain")]
    named = next((d.lower() for d in domains if d and d.lower().endswith(".myshopify.com")), None)
    return [AppUninstalled(shop_domain=named)]


HANDLERS: dict[str, Callable[[Fields], list[Fact]]] = {
    "customers/redact": _customer_redact,
    "customers/data_request": _data_request,
    "shop/redact": _shop_redact,
    "app/uninstalled": _app_uninstalled,
}
