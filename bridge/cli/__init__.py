"""The `relance` command line: `main` (bridge.cli.root) with every command module's commands on it: serve
(serve, worker, db upgrade), pipeline (replay, relay, sweep), shops (shops add), woo (shops reconcile and
register-webhooks), ops (keys, retention, shop secrets and install links), admin (users, demo).

May import: every layer of the bridge (the top one). Imported by: nothing (the `relance` script, `python -m
bridge.cli`).
"""

from __future__ import annotations

from bridge.cli import admin, ops, pipeline, serve, shops, woo
from bridge.cli.root import main

__all__ = ["admin", "main", "ops", "pipeline", "serve", "shops", "woo"]
