"""Helpers for the Shopify connector tests: our Shopify payload fixtures and real signatures."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any, TypeVar

REPO = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
FIXTURES = REPO / "tests" / "fixtures" / "shopify"

T = TypeVar("T")


def fixture_files() -> list[Path]:
    """Every Shopify fixture file, sorted by name."""
    return sorted(FIXTURES.glob("*.json"))


def topic_of(path: Path) -> str:
    """The topic a fixture file holds: `orders__create.2026-01.json` -> `orders/create`."""
    return path.name.split(".", 1)[0].replace("__", "/")


def raw(name: str) -> bytes:
    """A fixture's bytes, exactly as stored."""
    return (FIXTURES / name).read_bytes()


def load(name: str, **json_options: Any) -> dict[str, Any]:
    """A fixture parsed with Python's json (exact 64-bit integers)."""
    payload: dict[str, Any] = json.loads(raw(name), **json_options)
    return payload


def changed(payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A deep copy of `payload` with top-level `fields` replaced (a value of ... removes the field)."""
    result = copy.deepcopy(payload)
    for key, value in fields.items():
        if value is ...:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def sign(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify would send (computed here, independently of the adapter)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def only(facts: list[Any], kind: type[T]) -> T:
    """The single fact of type `kind` in `facts`."""
    found = [fact for fact in facts if type(fact) is kind]
    assert len(found) == 1, f"expected one {kind.__name__}, got {facts}"
    return found[0]
