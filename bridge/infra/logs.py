"""Logs without personal data: one masked handler (JSON lines with the request or job id, or plain text),
the masking itself, and optional Sentry with the same masking."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from typing import IO, Any

from rq import get_current_job

from bridge.infra.settings import Settings, from_env

try:
    import sentry_sdk
except ImportError:  # optional: without it errors are only logged
    sentry_sdk = None

log = logging.getLogger(__name__)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "relance_request_id", default=None
)

_MASKS = [
    (re.compile(r"gAAAAA[A-Za-z0-9_\-]+=*"), "[encrypted]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\",]+"), r"\1 ***"),
    (re.compile(r"\b(shp[a-z]{2}|rl|ck|cs|whsec|sk)_[A-Za-z0-9_\-]{6,}"), r"\1_***"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|dsn|"
            r"[a-z_]*_(?:secret|token|key))([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;)]+"
        ),
        r"\1\2***",
    ),
    (re.compile(r"(?=[A-Za-z0-9_\-+]*\d)(?=[A-Za-z0-9_\-+]*[A-Za-z])\b[A-Za-z0-9_\-+]{32,}={0,2}"), "***"),
    (
        re.compile(r"\b([A-Za-z0-9_%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"),
        r"\1***@\2",
    ),
]


def mask(text: str) -> str:
    """`text` with emails shortened (a***@example.com) and anything that looks like a secret hidden."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class MaskFilter(logging.Filter):
    """Rewrites each record's message and traceback through `mask` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = mask(record.getMessage()), ()
        except (TypeError, ValueError):  # a malformed format string: keep the template only
            record.msg, record.args = mask(str(record.msg)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def current_ids() -> dict[str, str]:
    """The request id (web) or job id (worker) of the code running now."""
    rid = request_id_var.get()
    if rid:
        return {"request_id": rid}
    job = get_current_job()
    return {"job_id": job.id} if job is not None else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request or job id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, default=str)


def configure_logging(
    level: str = "INFO",
    json_logs: bool = True,
    stream: IO[str] | None = None,
    *,
    settings: Settings | None = None,
) -> logging.Handler:
    """Log through one masked handler (JSON lines or plain text) on the root logger; start Sentry when
    `settings` (by default the environment's) name a DSN."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskFilter())
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonFormatter() if json_logs else plain)
    handler.set_name("relance")
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call, and basicConfig's plain stderr handler
        if old.get_name() == "relance" or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    init_sentry(settings or from_env())
    return handler


def scrub_event(event: Any, _hint: Any = None) -> Any:
    """Sentry's before_send: every string of the event goes through `mask`."""
    if isinstance(event, str):
        return mask(event)
    if isinstance(event, dict):
        return {k: scrub_event(v) for k, v in event.items()}
    if isinstance(event, list | tuple):
        return [scrub_event(v) for v in event]
    return event


def init_sentry(settings: Settings) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set and sentry-sdk is installed; never with PII."""
    if not settings.sentry_dsn:
        return False
    if sentry_sdk is None:
        log.warning("SENTRY_DSN is set but sentry-sdk is not installed; errors are only logged")
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        send_default_pii=False,
        before_send=scrub_event,
        environment=settings.sentry_environment or None,
        traces_sample_rate=0.0,
    )
    return True
