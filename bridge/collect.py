"""Placeholder: filled in by its own issue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("collect", __name__)
