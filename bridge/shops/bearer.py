"""Requests from a merchant's own tools: the shop's API key as a Bearer token."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import g, jsonify, request

from bridge.infra.web import context
from bridge.shops import registry as shops


def authenticated(view: Any) -> Any:
    """Resolve the Bearer API key to a shop (401 otherwise) and open a session for the view."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return jsonify(error="missing bearer API key"), 401
        ctx = context()
        with ctx.sessions() as session:
            shop = shops.by_api_key(session, header.removeprefix("Bearer ").strip())
            if shop is None:
                return jsonify(error="invalid API key"), 401
            g.session, g.shop = session, shop
            return view(*args, **kwargs)

    return wrapper
