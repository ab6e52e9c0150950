"""Who may start a WooCommerce install: store URLs, the operator's allow-list and install links.

An install hands the store's keys to this instance and gives the store a tenant (and the instance's SMTP),
so only an operator opens that door: a store on WOOCOMMERCE_ALLOWED_STORES, or a single-use, expiring
link from `relance shops install-link`. Starts are rate-limited per client address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Nonce
from bridge.infra.context import Context
from bridge.infra.netguard import guard_for, parse_address
from bridge.infra.ratelimit import allow
from bridge.infra.settings import Settings

INVITE, INVITE_USED = "woo_invite", "woo_invite_used"
INVITES = (INVITE, INVITE_USED)
INVITE_TTL = timedelta(days=3)
STARTS_PER_MINUTE = 10  # install starts per client address (collect's fixed one-minute window)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
NOT_INVITED = (
    "This store may not connect to this Relance: ask its operator for an install link "
    "(relance shops install-link) or to add the store to WOOCOMMERCE_ALLOWED_STORES."
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:(?![0-9])", re.IGNORECASE)
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


class Refused(ValueError):
    """An install that may not start; the message says why, `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def admit(
    ctx: Context, raw_store: str | None, invite: str, client_address: str | None, *, spend: bool = True
) -> str:
    """The store URL of an install that may start (an install link is used up unless `spend` is False: the
    link's own page, which only asks the merchant to go on); raises Refused.

    Checked in this order: an https PUBLIC_URL (WooCommerce insists), the client's rate, the URL's form,
    the operator's consent (allow-list or link), then the store's resolved addresses.
    """
    problem = public_url_problem(ctx.settings)
    if problem is not None:
        raise Refused(problem)
    if not may_start(ctx, client_address):
        raise Refused("too many installs started from this address; try again in a minute", 429)
    try:
        store = normalize_store_url(raw_store)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    invite, now = invite[:128], ctx.now()
    listed = allow_listed(ctx.settings, store)
    with ctx.sessions() as db:
        if not listed and not invite_is_live(db, invite, store, now):
            raise Refused(NOT_INVITED, 403)
    try:
        guard_for(ctx).check_url(store)
    except ValueError as exc:  # UnsafeTarget
        raise Refused(f"store_url is refused: {exc}") from None
    if spend and not listed:
        with transaction(ctx.sessions) as db:
            if not use_invite(db, invite, store, now):
                raise Refused(NOT_INVITED, 403)  # another start used the link meanwhile
    return store


def normalize_store_url(raw: str | None) -> str:
    """The store's base URL: https (http on loopback only), lower case, no trailing slash or query."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("store_url is required, for example https://shop.example.com")
    if len(text) > 200 or any(c.isspace() or not c.isprintable() or c == "\\" for c in text):
        raise ValueError("store_url must be a plain URL without spaces, at most 200 characters")
    if "://" not in text and _SCHEME.match(text):
        raise ValueError("store_url must start with https://")  # mailto:, javascript: and the like
    parts = urlsplit(text if "://" in text else f"https://{text}")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise ValueError("store_url has an invalid port") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("store_url must start with https://")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError("store_url must not contain a query (?...) or a fragment (#...)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("store_url must not contain a user name or password")
    if not _valid_host(host):
        raise ValueError("store_url has no valid host name")
    if parts.scheme.lower() == "http" and host not in LOOPBACK:
        raise ValueError("store_url must use https:// (plain http is accepted for localhost only)")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}".lower()


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and _HOST.fullmatch(host) is not None
    return True


def public_url_problem(settings: Settings) -> str | None:
    """Why WooCommerce would refuse this instance's callback_url, or None."""
    parts = urlsplit(settings.public_url)
    address = parse_address(parts.hostname or "")
    local = parts.hostname == "localhost" or (address is not None and address.is_loopback)
    if parts.scheme == "https" or local or settings.allow_private_network_urls:
        return None
    return (
        "PUBLIC_URL must be an https:// address for WooCommerce installs: WooCommerce refuses a "
        "callback_url that is not over SSL. Set PUBLIC_URL to this instance's https address."
    )


def may_start(ctx: Context, client_address: str | None) -> bool:
    """True while this client address is under its rate of install starts."""
    return allow(ctx.redis, f"woo-install:{client_address or '-'}", ctx.now(), limit=STARTS_PER_MINUTE)


def allow_listed(settings: Settings, store: str) -> bool:
    """True when the operator listed this store in WOOCOMMERCE_ALLOWED_STORES."""
    for entry in settings.woocommerce_allowed_stores:
        try:
            if normalize_store_url(entry) == store:
                return True
        except ValueError:
            continue
    return False


def issue_invite(ctx: Context, store: str, ttl: timedelta = INVITE_TTL) -> str:
    """A single-use install link for one store, valid for `ttl`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    with transaction(ctx.sessions) as db:
        db.add(Nonce(value=_digest(token), purpose=INVITE, subject=store, expires_at=ctx.now() + ttl))
    query = urlencode({"store_url": store, "invite": token})
    return f"{ctx.settings.public_url.rstrip('/')}/install/woocommerce?{query}"


def invite_is_live(db: Session, token: str, store: str, now: datetime) -> bool:
    """True when `token` is an unused, unexpired install link for this store."""
    row = db.get(Nonce, _digest(token)) if token else None
    return row is not None and row.purpose == INVITE and row.subject == store and row.expires_at > now


def use_invite(db: Session, token: str, store: str, now: datetime) -> bool:
    """Use the link up (atomically: two starts with one link, one wins); False when it was not live."""
    used = db.execute(
        sa.update(Nonce)
        .where(
            Nonce.value == _digest(token),
            Nonce.purpose == INVITE,
            Nonce.subject == store,
            Nonce.expires_at > now,
        )
        .values(purpose=INVITE_USED)
        .execution_options(synchronize_session=False)
    )
    return bool(token) and cast(sa.CursorResult[Any], used).rowcount == 1


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
