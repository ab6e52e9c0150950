"""Store credentials encrypted at rest with rotatable Fernet keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet


class Vault:
    """Encrypts with the first key, decrypts with any (so keys can rotate)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("ENCRYPTION_KEYS is empty")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, plain: str | None) -> str | None:
        """Ciphertext of `plain` (None stays None)."""
        if plain is None:
            return None
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        """Plain text of `token` (None stays None)."""
        if token is None:
            return None
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str | None) -> str | None:
        """Re-encrypt `token` under the newest key."""
        if token is None:
            return None
        return self._fernet.rotate(token.encode()).decode()


def new_key(prefix: str, nbytes: int = 24) -> str:
    """A random URL-safe key with a readable prefix."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def hash_key(key: str) -> str:
    """Stable digest of an API key (the key itself is never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
