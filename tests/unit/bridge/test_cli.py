"""The command line's pure helpers, and that every command is registered on `relance`."""

from __future__ import annotations

import pytest

from bridge.cli import main
from bridge.cli.serve import local_url


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 5000, "http://127.0.0.1:5000"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),  # every address: this machine's own one works
        ("::", 8000, "http://127.0.0.1:8000"),
        ("::1", 5000, "http://[::1]:5000"),
        ("localhost", 5000, "http://localhost:5000"),
        ("", 5000, "http://127.0.0.1:5000"),
    ],
)
def test_local_url_is_what_a_browser_here_opens(host: str, port: int, url: str) -> None:
    assert local_url(host, port) == url


def test_every_command_is_on_relance() -> None:
    assert set(main.commands) == {
        "db", "demo", "keys", "relay", "replay", "retention", "serve", "shops", "sweep", "users", "worker"
    }  # fmt: skip
    shops = main.commands["shops"]
    assert set(shops.commands) == {  # type: ignore[attr-defined]
        "add", "install-link", "reconcile", "register-webhooks", "webhook-secret"
    }  # fmt: skip
