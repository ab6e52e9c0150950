"""Requests from a merchant's own tools: the shop's API key as a Bearer token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from bridge.infra.web import context
from bridge.shops import registry

P = ParamSpec("P")


def authenticated(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Resolve the Bearer API key to a shop (401 otherwise) and open a session for the view."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return jsonify(error="missing bearer API key"), 401
        ctx = context()
        with ctx.sessions() as session:
            shop = registry.by_api_key(session, header.removeprefix("Bearer ").strip())
            if shop is None:
                return jsonify(error="invalid API key"), 401
            g.session, g.shop = session, shop
            return view(*args, **kwargs)

    return wrapper
