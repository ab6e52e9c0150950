"""Every admin view module, imported so their routes land on the one blueprint."""

from __future__ import annotations

from admin_ui import (  # noqa: F401
    alerts,
    auth,
    commerce,
    data_requests,
    events,
    health,
    i18n,
    journeys,
    journeys_edit,
    leads,
    money,
    overview,
    prospects,
    rules,
    segments,
)
from admin_ui.blueprint import bp

__all__ = ["bp"]
