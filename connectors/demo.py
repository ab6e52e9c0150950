"""A store that lives inside Relance: codes are kept in a mapping (the demo and local trials)."""

from __future__ import annotations

import json
from collections.abc import MutableMapping

from connectors.base import CodeTaken, DiscountRef, DiscountSpec, ProductDetails


class DemoStoreClient:
    """StoreClient over a mapping of code → JSON (Relance keeps it in a Redis hash)."""

    def __init__(self, codes: MutableMapping[str, str]) -> None:
        self.codes = codes

    def find_discount(self, code: str) -> DiscountRef | None:
        """The demo discount with this code, if any."""
        raw = self.codes.get(code.upper())
        return None if raw is None else DiscountRef(code=code.upper(), platform_id=json.loads(raw)["id"])

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Keep the code; refuse a code that is already there."""
        code = spec.code.upper()
        if code in self.codes:
            raise CodeTaken(f"code {code} already exists", code="taken")
        platform_id = f"demo-{code}"
        record = {
            "id": platform_id,
            "kind": spec.kind,
            "value": str(spec.value),
            "ends_at": spec.ends_at.isoformat(),
            "minimum_subtotal": None if spec.minimum is None else str(spec.minimum),
        }
        self.codes[code] = json.dumps(record)
        return DiscountRef(code=code, platform_id=platform_id)

    def delete_discount(self, ref: DiscountRef) -> None:
        """Forget the code."""
        self.codes.pop(ref.code.upper(), None)

    def product_details(self, product_id: str) -> ProductDetails | None:
        """The demo store keeps no catalogue: what the demo's payloads said is all there is."""
        return None
