"""Admin page users: hashed passwords, sign-in, and a per email+address limit on failed sign-ins."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bridge.leads import normalize_email
from bridge.models import AdminUser

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
MAX_FAILURES = 5  # failed sign-ins per email and address ...
FAILURE_WINDOW = 15 * 60  # ... within this many seconds, then 429 until the window ends
# Compared against when the email is unknown, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("relance-no-such-user")


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
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> AdminUser | None:
    """The user when email and password match (records the sign-in time), else None."""
    user = by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    return user


def _key(email: str, address: str) -> str:
    digest = hashlib.sha256(f"{normalize_email(email) or ''}|{address}".encode()).hexdigest()[:32]
    return f"relance:login-failures:{digest}"


def login_blocked(redis: Redis, email: str, address: str) -> bool:
    """True when this email from this address failed too often lately (fails open if Redis is down)."""
    try:
        count = redis.get(_key(email, address))
    except (RedisError, OSError) as exc:
        log.warning("login rate limit unavailable: %s", type(exc).__name__)
        return False
    return count is not None and int(cast(bytes, count)) >= MAX_FAILURES


def record_failure(redis: Redis, email: str, address: str) -> None:
    """Count one failed sign-in; the window starts at the first failure."""
    key = _key(email, address)
    try:
        if int(cast(int, redis.incr(key))) == 1:
            redis.expire(key, FAILURE_WINDOW)
    except (RedisError, OSError) as exc:
        log.warning("login rate limit unavailable: %s", type(exc).__name__)


def clear_failures(redis: Redis, email: str, address: str) -> None:
    """Forget the failures of a pair that just signed in."""
    with contextlib.suppress(RedisError, OSError):
        redis.delete(_key(email, address))
