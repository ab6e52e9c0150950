"""Every admin view module, imported so their routes land on the one blueprint."""

from __future__ import annotations

from admin_ui import auth, commerce, events, health, leads, overview, rules  # noqa: F401  (routes)
from admin_ui.blueprint import bp

__all__ = ["bp"]
