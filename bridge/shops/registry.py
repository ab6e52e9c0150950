"""Shops: creation, look-up, keys and the secrets that sign their webhooks."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bridge.db.models import Shop
from bridge.infra.context import Signer
from bridge.infra.crypto import Vault, hash_key, new_key
from bridge.infra.settings import Settings
from campaigns.locales import normalize_locale

# The shop's primary locale in its JSON state (bridge.shops.locales keeps it current).
PRIMARY_LOCALE = "primary_locale"


@dataclass(frozen=True)
class NewShop:
    """What the merchant must copy once: the API key is not stored in clear."""

    shop: Shop
    api_key: str


def create_shop(
    session: Session,
    vault: Vault,
    *,
    platform: str,
    domain: str,
    now: datetime,
    access_token: str | None = None,
    webhook_secret: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    name: str = "",
    api_version: str = "",
) -> NewShop:
    """Create a shop with fresh keys, or refresh credentials of an existing one (keys kept)."""
    shop = by_domain(session, platform, domain)
    api_key = new_key("rl_")
    if shop is None:
        shop = new_shop(platform, domain, name or domain, api_version, api_key)
        session.add(shop)
    else:
        shop.api_key_hash = hash_key(api_key)
    shop.installed_at, shop.uninstalled_at = now, None
    for column, value in (
        ("access_token_enc", access_token),
        ("webhook_secret_enc", webhook_secret),
        ("consumer_key_enc", consumer_key),
        ("consumer_secret_enc", consumer_secret),
    ):
        if value is not None:
            setattr(shop, column, vault.encrypt(value))
    session.flush()
    return NewShop(shop=shop, api_key=api_key)


def new_shop(platform: str, domain: str, name: str, api_version: str, api_key: str) -> Shop:
    """A new shop row with fresh URL and public keys; the API key is kept as its hash only."""
    return Shop(
        platform=platform,
        domain=domain,
        name=name,
        shop_key=new_key("s_", 12),
        public_key=new_key("pk_", 12),
        api_key_hash=hash_key(api_key),
        state={},
        api_version=api_version,
    )


def new_webhook_secret() -> str:
    """A long alphanumeric secret (WooCommerce mangles `&<>\"'`)."""
    return secrets.token_hex(32)


def by_domain(session: Session, platform: str, domain: str) -> Shop | None:
    """The shop with this domain (uninstalled ones too: their privacy webhooks still arrive)."""
    return session.scalar(sa.select(Shop).where(Shop.platform == platform, Shop.domain == domain))


def by_key(session: Session, shop_key: str) -> Shop | None:
    """The shop with this URL key."""
    return session.scalar(sa.select(Shop).where(Shop.shop_key == shop_key))


def by_api_key(session: Session, api_key: str) -> Shop | None:
    """The shop owning this API key (compared by digest)."""
    return session.scalar(sa.select(Shop).where(Shop.api_key_hash == hash_key(api_key)))


def webhook_secrets(shop: Shop, vault: Vault, settings: Settings) -> list[str]:
    """Secrets that may sign this shop's webhooks, newest first."""
    own = vault.decrypt(shop.webhook_secret_enc)
    found = [own] if own else []
    if shop.platform == "shopify":
        found += [s for s in (settings.shopify_api_secret, settings.shopify_previous_secret) if s]
    return found


def shop_locale(shop: Shop) -> str | None:
    """The shop's primary locale as a BCP 47 tag ("fr", "fr-FR"), None when the store never said: the
    fallback between a customer's own locale and the merchant's setting (campaigns.locales.choose_locale)."""
    value = (shop.state or {}).get(PRIMARY_LOCALE)
    return normalize_locale(value) if isinstance(value, str) else None


def new_api_key(shop: Shop) -> str:
    """Give the shop a fresh API key (returned once, kept only as a hash); the previous key stops working."""
    api_key = new_key("rl_")
    shop.api_key_hash = hash_key(api_key)
    return api_key


class SignerCache:
    """Shops' signing secrets kept in memory for a short while: no query or decryption per webhook (the
    context's `Signers` port)."""

    def __init__(
        self, sessions: sessionmaker[Session], vault: Vault, settings: Settings, ttl: float = 30.0
    ) -> None:
        self.sessions, self.vault, self.settings, self.ttl = sessions, vault, settings, ttl
        self._entries: dict[tuple[str, str], tuple[float, Signer | None]] = {}

    def by_domain(self, platform: str, domain: str) -> Signer | None:
        """The signer of the shop with this platform and domain."""
        return self._get(("domain", f"{platform}:{domain}"), lambda s: by_domain(s, platform, domain))

    def by_key(self, shop_key: str) -> Signer | None:
        """The signer of the shop with this URL key."""
        return self._get(("key", shop_key), lambda s: by_key(s, shop_key))

    def forget(self) -> None:
        """Drop every cached entry (after installs, rotations and uninstalls in this process)."""
        self._entries.clear()

    def _get(self, key: tuple[str, str], find: Callable[[Session], Shop | None]) -> Signer | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.sessions() as session:
            shop = find(session)
            signer = None
            if shop is not None:
                found = tuple(webhook_secrets(shop, self.vault, self.settings))
                signer = Signer(shop.id, shop.platform, found)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (now + self.ttl, signer)
        return signer
