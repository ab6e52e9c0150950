"""The companion plugin's cart-restore links, as the bridge will extend them with `&coupon=<code>`."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.woocommerce.wordpress import cart_snapshot

TOKEN = "0123456789abcdef0123456789abcdef"


def event(recovery_url: object) -> dict[str, Any]:
    return {"cart_token": TOKEN, "ts": 1795600000, "items": [], "recovery_url": recovery_url}


@pytest.mark.parametrize(
    ("url", "link"),
    [
        (
            f"https://shop.example/cart/?relance_restore={TOKEN}",
            f"https://shop.example/cart/?relance_restore={TOKEN}",
        ),
        # Relance_Core::recovery_url keeps a cart page's fragment last: a coupon after it would be lost.
        (f"https://s.test/cart?relance_restore={TOKEN}#top", f"https://s.test/cart?relance_restore={TOKEN}"),
        (
            f"https://s.test/cart/?coupon=old&relance_restore={TOKEN}",
            f"https://s.test/cart/?relance_restore={TOKEN}",
        ),
        ("http://shop.example/cart/", "http://shop.example/cart/"),
        ("//shop.example/cart/", None),
        ("https://shop.example/" + "x" * 2000, None),
        ("", None),
        (["https://shop.example/cart/"], None),
    ],
)
def test_plugin_cart_links_are_cleaned_or_dropped(url: object, link: str | None) -> None:
    assert cart_snapshot(event(url)).recovery_url == link
