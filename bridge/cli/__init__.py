"""The `relance` command line: `main` (bridge.cli.root) with every command module's commands on it."""

from __future__ import annotations

from bridge.cli import admin, ops, pipeline, serve, shops, woo
from bridge.cli.root import main

__all__ = ["admin", "main", "ops", "pipeline", "serve", "shops", "woo"]
