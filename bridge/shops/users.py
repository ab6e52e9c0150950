"""Admin page users: hashed passwords, sign-in, and limits on sign-in attempts (per email and address, per
email, per address), counted atomically before any password is checked."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bridge.db.models import AdminUser
from bridge.leads.emails import normalize_email

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
FAILURE_WINDOW = 15 * 60  # seconds from an email's (or an address's) first attempt
MAX_FAILURES = 5  # sign-in attempts per email and address within the window, then 429 until it ends
MAX_ACCOUNT_FAILURES = 20  # per email from any address (a guesser changing addresses)
MAX_ADDRESS_FAILURES = 30  # per address for any email (a guesser trying many accounts)


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the email is unknown, so both paths cost one hash check (made on first use:
    scrypt at import would slow every command of the CLI)."""
    return generate_password_hash("relance-no-such-user")


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def hash_password(password: str) -> str:
    """A salted, slow hash of the password (werkzeug's default scheme)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def by_email(session: Session, email: str | None) -> AdminUser | None:
    """The user with this email (case-insensitive), if any."""
    normalized = normalize_email(email)
    if normalized is None:
        return None
    return session.scalar(sa.select(AdminUser).where(AdminUser.email == normalized))


def create_user(
    session: Session, email: str, password: str, shop_id: int, now: datetime, *, update: bool = False
) -> AdminUser:
    """Create a user of one shop; with `update`, an existing user gets the new password and shop."""
    normalized = normalize_email(email)
    if normalized is None or "@" not in normalized:
        raise UserError("a valid email is required")
    password_hash = hash_password(password)
    user = by_email(session, normalized)
    if user is not None and not update:
        raise UserError(f"{normalized} already exists (use --update to change its password)")
    if user is None:
        user = AdminUser(email=normalized, password_hash=password_hash, shop_id=shop_id, created_at=now)
        session.add(user)
    else:
        user.password_hash, user.shop_id = password_hash, shop_id
        user.session_version += 1  # a new password signs every browser out
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Make every session cookie of this user invalid (signing out: a copied cookie dies with it)."""
    session.execute(
        sa.update(AdminUser)
        .where(AdminUser.id == user_id)
        .values(session_version=AdminUser.session_version + 1)
    )


def authenticate(session: Session, email: str, password: str, now: datetime) -> AdminUser | None:
    """The user when email and password match (records the sign-in time), else None."""
    user = by_email(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    return user


def _limits(email: str, address: str) -> list[tuple[str, int]]:
    """The counters one attempt counts in, with their limits: email+address, email, address."""

    def key(kind: str, text: str) -> str:
        return f"relance:login-attempts:{kind}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    account = normalize_email(email) or ""
    return [
        (key("pair", f"{account}|{address}"), MAX_FAILURES),
        (key("account", account), MAX_ACCOUNT_FAILURES),
        (key("address", address), MAX_ADDRESS_FAILURES),
    ]


def reserve_attempt(redis: Redis, email: str, address: str) -> bool:
    """Count one sign-in attempt before its password is checked; False when a limit is reached.

    Counting first (INCR, atomic) is what holds under parallel requests: sixty guesses sent at once get
    sixty different numbers, and only those within every limit are checked. A refused attempt gives its
    counts back, so only checked passwords count (a blocked pair does not use up the email's allowance);
    a successful sign-in gives its attempt back too (release_attempt). Fails open, with a warning, when
    Redis is unreachable.
    """
    limits = _limits(email, address)
    try:
        pipe = redis.pipeline(transaction=True)
        for key, _ in limits:
            pipe.set(key, 0, ex=FAILURE_WINDOW, nx=True)  # the window starts at the first attempt
            pipe.incr(key)
        counts = pipe.execute()[1::2]
        if all(int(count) <= limit for count, (_, limit) in zip(counts, limits, strict=True)):
            return True
        pipe = redis.pipeline(transaction=True)
        for key, _ in limits:
            pipe.decr(key)
        pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("login rate limit unavailable: %s", type(exc).__name__)
        return True
    return False


def release_attempt(redis: Redis, email: str, address: str) -> None:
    """After a successful sign-in: forget this email's failures; the address keeps its other attempts."""
    (pair, _), (account, _), (by_address, _) = _limits(email, address)
    with contextlib.suppress(RedisError, OSError):
        pipe = redis.pipeline(transaction=True)
        pipe.delete(pair, account)
        pipe.decr(by_address)
        pipe.execute()


def login_blocked(redis: Redis, email: str, address: str) -> bool:
    """True when the next attempt of this email from this address would be refused (reads only)."""
    limits = _limits(email, address)
    try:
        counts = cast(list[bytes | None], redis.mget([key for key, _ in limits]))  # sync client: a list
    except (RedisError, OSError):
        return False
    return any(
        count is not None and int(count) >= limit for count, (_, limit) in zip(counts, limits, strict=True)
    )
