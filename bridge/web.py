"""Small helpers shared by the blueprints."""

from __future__ import annotations

from flask import current_app

from bridge.runtime import Context


def context() -> Context:
    """The Relance context of the running app."""
    ctx: Context = current_app.extensions["relance"]
    return ctx
