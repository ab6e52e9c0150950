"""Email addresses as leads are keyed by them."""

from __future__ import annotations


def normalize_email(email: str | None) -> str | None:
    """Trimmed, lower-cased email, or None when empty."""
    email = (email or "").strip().lower()
    return email or None
