"""Every admin view module, imported so their routes land on the one blueprint."""

from __future__ import annotations

from admin_ui import auth, commerce, data_requests, events, health, i18n, leads, overview, rules  # noqa: F401
from admin_ui.blueprint import bp

__all__ = ["bp"]
