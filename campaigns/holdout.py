"""Deterministic holdout assignment: the same key always lands in the same group."""

import hashlib


def holdout_key(shop_id: int, lead_id: int) -> str:
    """Return the stable key that assigns one lead of one shop to a group."""
    return f"{shop_id}:{lead_id}"


def holdout_position(key: str) -> float:
    """Map a key to a uniform number in [0, 1) through SHA-256."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    # 53 bits is the most a float holds exactly, so the result is strictly below 1.
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def in_holdout(key: str, share: float) -> bool:
    """Return True when the key belongs to the holdout (control) group of the given share.

    Raising the share only adds keys to the group: a lead held out at 10 % stays held out at 20 %.
    """
    return holdout_position(key) < share
