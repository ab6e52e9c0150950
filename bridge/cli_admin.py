"""CLI commands for the admin page: users and the demo (filled in by the admin-page issue)."""

from __future__ import annotations
