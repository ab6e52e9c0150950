"""Small helpers shared by the blueprints: the running context and integers read from requests."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, Map

from bridge.infra.context import Context

# The id columns are INTEGER on PostgreSQL; a larger number names no row (and would make the driver fail).
MAX_ID = 2**31 - 1
_DECIMAL = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: int() also reads "²"-like digits and "1_0"


def context() -> Context:
    """The Relance context of the running app."""
    ctx: Context = current_app.extensions["relance"]
    return ctx


def parse_int(raw: str | None, low: int = -MAX_ID, high: int = MAX_ID) -> int:
    """A plain decimal integer within [low, high]; ValueError for anything else."""
    text = (raw or "").strip()
    if not _DECIMAL.fullmatch(text):
        raise ValueError("not a plain integer")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"not between {low} and {high}")
    return value


def int_or_none(raw: str | None, low: int = -MAX_ID, high: int = MAX_ID) -> int | None:
    """`parse_int`, or None where the request's value is unusable (a page cursor that is ignored)."""
    try:
        return parse_int(raw, low, high)
    except ValueError:
        return None


class IdConverter(IntegerConverter):
    """Flask's `int` URL converter, bounded to the ids a column holds: a larger number matches no route
    (404) instead of reaching the database."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply to parse is bad JSON (a 400, or None when silent)
    rather than a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; ValueError for any body it cannot parse."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON is nested too deeply") from exc
