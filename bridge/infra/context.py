"""The typed context a request or a job runs with, and the small ports it holds (built by `bridge.wiring`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from redis import Redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.infra.crypto import Vault
from bridge.infra.netguard import Guard
from bridge.infra.settings import Settings
from connectors import registry as vendors
from connectors.base import Fact, WebhookAdapter
from connectors.registry import WooClient


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Signer:
    """What the webhook receivers need to know about a shop: its id and signing secrets."""

    shop_id: int
    platform: str
    secrets: tuple[str, ...]


class Signers(Protocol):
    """Port: the shops' signing secrets by domain or URL key (a short-lived cache in production)."""

    def by_domain(self, platform: str, domain: str) -> Signer | None:
        """The signer of the shop with this platform and domain."""

    def by_key(self, shop_key: str) -> Signer | None:
        """The signer of the shop with this URL key."""

    def forget(self) -> None:
        """Drop what is cached (after installs, rotations and uninstalls)."""


class FactReader(Protocol):
    """Port: the facts of one stored event; what the pipeline asks of every adapter (the storefront's
    `collect/*` events are unsigned: nothing to verify, only this)."""

    platform: str

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """Facts carried by one payload; raises PayloadError when it cannot be read."""


class EventSink(Protocol):
    """Port: stores one inbound event row (group commit in production) and hands its id to a job."""

    def submit(self, row: dict[str, Any], timeout: float = 10.0) -> int | None:
        """Store one event row; its id, or None when the delivery was already stored."""

    def flush(self) -> None:
        """Queue the job that holds the events written so far."""


WooClientFactory = Callable[..., WooClient]  # tests pass one whose retries never sleep


@dataclass
class Context:
    """Everything a request or a job needs, built once per process by `bridge.wiring.build`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    redis: Redis
    adapters: dict[str, WebhookAdapter]  # signed webhooks by platform (shopify, woocommerce, wordpress)
    storefront: FactReader  # the storefront's `collect/*` events
    signers: Signers
    writer: EventSink
    clock: Callable[[], datetime] = utcnow
    guard: Guard | None = None  # None: one by ALLOW_PRIVATE_NETWORK_URLS; tests inject a resolver of theirs
    woo_client: WooClientFactory = vendors.woocommerce_client

    def now(self) -> datetime:
        """The current time by this context's clock (tests inject one)."""
        return self.clock()
