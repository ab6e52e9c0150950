"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.infra.web import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify(ok=True)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database and Redis are reachable."""
    from bridge.app import readiness

    status = readiness(context())
    return jsonify(ok=all(status.values()), **status), 200 if all(status.values()) else 503
