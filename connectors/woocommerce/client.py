"""WooCommerce store operations for one store over its REST API (connectors.woocommerce.rest): coupons,
webhook subscriptions, the store's details and reconciliation reads.

The `name as name` imports keep the names that lived here before rest.py importable from here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    FOREIGN_CODE,
    CodeTaken,
    DiscountRef,
    DiscountSpec,
    ProductDetails,
    StoreError,
    made_by_relance,
)
from connectors.woocommerce.rest import CODE_TAKEN as CODE_TAKEN
from connectors.woocommerce.rest import PER_PAGE as PER_PAGE
from connectors.woocommerce.rest import USER_AGENT as USER_AGENT
from connectors.woocommerce.rest import Params as Params
from connectors.woocommerce.rest import RestApi, json_object, json_objects
from connectors.woocommerce.values import optional_money

# A free-shipping coupon is a fixed-cart coupon worth nothing that grants free shipping (the store's
# "Free shipping" method must accept "a valid free shipping coupon" for it to show at checkout).
DISCOUNT_TYPES = {"percentage": "percent", "fixed_amount": "fixed_cart", "free_shipping": "fixed_cart"}


@dataclass(frozen=True)
class StoreInfo:
    """What the store says of itself: WordPress's site title and time zone, WooCommerce's currency."""

    name: str
    timezone: str  # an IANA name, or a fixed offset as "Etc/GMT-2" (WordPress's manual "UTC+2")
    currency: str


@dataclass(frozen=True)
class WebhookStatus:
    """One webhook as the store reports it (`status`: active, paused or disabled)."""

    webhook_id: str
    topic: str
    delivery_url: str
    status: str


class WooClient(RestApi):
    """StoreClient for one WooCommerce store: what Relance does with the store's REST API (RestApi)."""

    def find_discount(self, code: str) -> DiscountRef | None:
        """Relance's coupon with this code, if the store has one; the merchant's or another plugin's
        coupon with the same code is not ours to send (create_discount then reports it)."""
        ours = [c for c in self._coupons(code) if made_by_relance(c.get("description"), code)]
        return _discount_ref(ours[0]) if ours else None

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Create a single-use coupon, or return ours from an earlier try; raises CodeTaken or StoreError."""
        try:
            return _discount_ref(json_object(self.send("POST", "coupons", data=coupon_body(spec))))
        except CodeTaken as taken:
            # A retried job (or POST) whose first request landed but whose answer was lost.
            existing = self._coupons(spec.code)
            ours = [c for c in existing if _is_ours(c, spec)]
            if ours:
                return _discount_ref(ours[0])
            if not existing:
                raise
            message = f"POST coupons: {spec.code.lower()} belongs to another coupon of the store"
            raise CodeTaken(message, code=FOREIGN_CODE) from taken

    def _coupons(self, code: str) -> list[dict[str, Any]]:
        """The published coupons with this code (WooCommerce stores codes lower-case)."""
        wanted = code.strip().lower()
        found = self.send("GET", "coupons", params={"code": wanted})
        return [c for c in json_objects(found) if str(c.get("code", "")).lower() == wanted]

    def delete_discount(self, ref: DiscountRef) -> None:
        """Delete the coupon for good; a coupon that is already gone is fine."""
        try:
            self.send("DELETE", f"coupons/{int(ref.platform_id)}", params={"force": "true"})
        except StoreError as exc:
            if not exc.code.endswith("_invalid_id"):
                raise

    def product_details(self, product_id: str) -> ProductDetails | None:
        """The product's name, link, first picture, categories (slugs) and tags (slugs); None when the store
        no longer has it (deleted, or in the trash)."""
        if not product_id.isascii() or not product_id.isdigit():
            return None
        try:
            found = json_object(self.send("GET", f"products/{int(product_id)}"))
        except StoreError as exc:
            if exc.code.endswith("_invalid_id") or exc.code == "http_404":
                return None
            raise
        return product_details(product_id, found)

    def register_webhooks(self, delivery_url: str, secret: str, topics: Sequence[str]) -> list[str]:
        """Make one active webhook per topic deliver to `delivery_url` signed with `secret`; their ids."""
        if not secret:
            raise ValueError("refusing to register webhooks without a secret")
        if not delivery_url:
            raise ValueError("a delivery URL is required")
        existing = self.webhook_statuses()
        ids = []
        for topic in topics:
            ours = _ours(existing, topic, delivery_url)
            for duplicate in ours[1:]:  # one delivery per change, whoever made the copies
                self.send("DELETE", f"webhooks/{duplicate.webhook_id}", params={"force": "true"})
            match = ours[0] if ours else None
            if match is not None and match.status == "disabled":
                # Re-activating keeps WooCommerce's failure count (not writable over REST), so the next
                # failed delivery would disable it again: a new webhook starts from zero.
                self.send("DELETE", f"webhooks/{match.webhook_id}", params={"force": "true"})
                match = None
            if match is None:
                body = {"name": f"Relance {topic}", "topic": topic, "delivery_url": delivery_url}
                saved = self.send("POST", "webhooks", data={**body, "secret": secret, "status": "active"})
            else:  # the store never shows a secret, so set ours
                saved = self.send("PUT", f"webhooks/{match.webhook_id}", data={"secret": secret})
            ids.append(str(json_object(saved).get("id", "")))
        return ids

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete a webhook for good (WooCommerce has no trash for webhooks); one already gone is fine."""
        try:
            self.send("DELETE", f"webhooks/{int(webhook_id)}", params={"force": "true"})
        except StoreError as exc:
            if not exc.code.endswith("_invalid_id"):
                raise

    def webhook_statuses(self) -> list[WebhookStatus]:
        """Every webhook of the store with its status."""
        return [_webhook_status(w) for w in self.pages("webhooks", {"status": "all"})]

    def store_info(self) -> StoreInfo:
        """The site's name and time zone (WordPress's public /wp-json/ index) and the store's currency."""
        site = json_object(self.site_index({"_fields": "name,timezone_string,gmt_offset"}))
        setting = json_object(self.send("GET", "settings/general/woocommerce_currency"))
        return StoreInfo(
            name=html.unescape(str(site.get("name") or "")).strip(),
            timezone=_zone_name(site.get("timezone_string"), site.get("gmt_offset")),
            currency=str(setting.get("value") or "").strip().upper(),
        )

    def site_locale(self) -> str | None:
        """The site's language as WordPress has it (get_locale(): "fr_FR"), from the system status report's
        `environment.language`; needs keys of a user who may manage WooCommerce. None when not given."""
        status = json_object(self.send("GET", "system_status", params={"_fields": "environment"}))
        environment = status.get("environment")
        language = environment.get("language") if isinstance(environment, Mapping) else None
        if not isinstance(language, str):
            return None
        return language.strip()[:35] or None

    def check_credentials(self) -> None:
        """One authenticated call; raises StoreError(code="unauthorized") when the keys are refused."""
        self.send("GET", "webhooks", params={"per_page": "1"})

    def recent_orders(self, since: datetime) -> list[dict[str, Any]]:
        """Orders modified since `since`, newest first, in the webhook body's shape."""
        params = {"modified_after": _gmt(since), "dates_are_gmt": "true", "orderby": "modified"}
        return list(self.pages("orders", params))

    def recent_customers(self, since: datetime) -> list[dict[str, Any]]:
        """Customers registered since `since` (the customers endpoint has no modified filter)."""
        recent = []
        for customer in self.pages("customers", {"orderby": "registered_date"}):
            if str(customer.get("date_created_gmt") or "") < _gmt(since):
                break  # newest first: the rest registered earlier
            recent.append(customer)
        return recent


def product_details(product_id: str, product: Mapping[str, Any]) -> ProductDetails | None:
    """A REST product as ProductDetails (None for a product in the trash)."""
    if product.get("status") == "trash":
        return None
    images = product.get("images")
    first = images[0] if isinstance(images, list) and images and isinstance(images[0], Mapping) else {}
    return ProductDetails(
        product_id=product_id,
        title=_plain(product.get("name")),
        handle=_plain(product.get("slug")),
        url=_plain(product.get("permalink")),
        image_url=_plain(first.get("src")),
        collections=_slugs(product.get("categories")),
        tags=_slugs(product.get("tags")),
        price=optional_money(product.get("price")),
    )


def _plain(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return html.unescape(value).strip() or None


def _slugs(terms: object) -> tuple[str, ...]:
    """The `slug` of each term of a product's categories or tags."""
    found = (
        (_plain(t.get("slug")) for t in terms if isinstance(t, Mapping)) if isinstance(terms, list) else ()
    )
    return tuple(slug for slug in found if slug)


def coupon_body(spec: DiscountSpec) -> dict[str, Any]:
    """The POST /coupons body of a single-use, expiring, individually used code."""
    if spec.kind not in DISCOUNT_TYPES:
        raise ValueError(f"unknown discount kind {spec.kind!r}")
    free_shipping = spec.kind == "free_shipping"
    if not free_shipping and spec.value <= 0:
        raise ValueError("a discount must be worth something")
    body: dict[str, Any] = {
        "code": spec.code.strip().lower(),
        "discount_type": DISCOUNT_TYPES[spec.kind],
        "amount": "0" if free_shipping else format(spec.value, "f"),
        "free_shipping": free_shipping,
        "description": spec.title,
        # WC_Coupon has no setter for `date_expires_gmt`: WooCommerce drops it without a word and the
        # code never expires. `date_expires` with an explicit offset is stored as that instant
        # (WC_Data::set_date_prop).
        "date_expires": _utc_offset(spec.ends_at),
        "individual_use": True,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
    }
    if spec.email:
        body["email_restrictions"] = [spec.email.strip().lower()]
    if spec.minimum is not None:
        body["minimum_amount"] = format(spec.minimum, "f")
    return body


def _is_ours(coupon: Mapping[str, Any], spec: DiscountSpec) -> bool:
    """The coupon our create would have made: the same description and the same e-mail restriction."""
    emails = coupon.get("email_restrictions") or []
    found = {str(e).strip().lower() for e in emails} if isinstance(emails, list) else {None}
    wanted = {spec.email.strip().lower()} if spec.email else set()
    return str(coupon.get("description") or "").strip() == spec.title.strip() and found == wanted


def _discount_ref(coupon: Mapping[str, Any]) -> DiscountRef:
    limit, used = coupon.get("usage_limit"), coupon.get("usage_count") or 0
    used_up = isinstance(limit, int) and limit > 0 and isinstance(used, int) and used >= limit
    active = coupon.get("status", "publish") == "publish" and not used_up
    return DiscountRef(code=str(coupon.get("code", "")), platform_id=str(coupon.get("id", "")), active=active)


def _webhook_status(webhook: Mapping[str, Any]) -> WebhookStatus:
    return WebhookStatus(
        webhook_id=str(webhook.get("id", "")),
        topic=str(webhook.get("topic", "")),
        delivery_url=str(webhook.get("delivery_url", "")),
        status=str(webhook.get("status", "")),
    )


def _ours(webhooks: Sequence[WebhookStatus], topic: str, delivery_url: str) -> list[WebhookStatus]:
    """Webhooks for a topic that deliver to us, active ones first."""
    ours = [w for w in webhooks if w.topic == topic and w.delivery_url == delivery_url]
    return sorted(ours, key=lambda w: w.status != "active")


def _zone_name(zone: object, gmt_offset: object) -> str:
    """WordPress's time zone as an IANA name: `timezone_string`, else its whole-hour manual offset."""
    if isinstance(zone, str) and zone.strip():
        return zone.strip()
    try:
        hours = float(str(gmt_offset))
    except ValueError:
        return "UTC"
    if hours == 0 or not hours.is_integer() or abs(hours) > 14:
        return "UTC"  # half-hour manual offsets have no Etc/ name; the merchant can set a zone in Relance
    return f"Etc/GMT{-int(hours):+d}"  # POSIX signs: UTC+2 is Etc/GMT-2


def _utc_offset(moment: datetime) -> str:
    """UTC with an explicit `+00:00`, which WooCommerce reads as such whatever the site's time zone."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _gmt(moment: datetime) -> str:
    """UTC without an offset, as WooCommerce's `*_gmt` fields and `dates_are_gmt` expect."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S")
