"""Discount codes: unguessable, unambiguous when read aloud or copied by hand."""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

# No 0/O, 1/I/L: customers type these codes from an email.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_LENGTH = 10


def generate_code(
    prefix: str = "",
    length: int = MIN_LENGTH,
    token_source: Callable[[str], str] = secrets.choice,
) -> str:
    """Return an upper-case code: the merchant's prefix and `length` random characters."""
    if length < MIN_LENGTH:
        raise ValueError(f"a code needs at least {MIN_LENGTH} random characters, not {length}")
    random_part = "".join(token_source(ALPHABET) for _ in range(length))
    return f"{prefix.strip().upper()}{random_part}"


def offer_window(now: datetime, hours: int) -> tuple[datetime, datetime]:
    """Return when a code starts and stops being valid."""
    if hours < 1:
        raise ValueError(f"a code must stay valid for at least one hour, not {hours}")
    return now, now + timedelta(hours=hours)
