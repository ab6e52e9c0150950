"""Liveness and readiness probes."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc

from bridge.infra.context import Context
from bridge.infra.web import context

bp = Blueprint("health", __name__)


def readiness(ctx: Context) -> dict[str, bool]:
    """Whether the database and Redis answer."""
    status = {"database": False, "redis": False}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        status["database"] = True
    except sa_exc.SQLAlchemyError:
        pass
    with contextlib.suppress(RedisError, OSError):
        status["redis"] = bool(ctx.redis.ping())
    return status


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify(ok=True)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database and Redis are reachable."""
    status = readiness(context())
    return jsonify(ok=all(status.values()), **status), 200 if all(status.values()) else 503
