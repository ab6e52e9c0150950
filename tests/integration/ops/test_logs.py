"""JSON logs with request and job ids, masked emails and secrets; no secret in logs or error pages."""

from __future__ import annotations

import io
import json
import logging
import secrets

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bridge.db.models import Event
from bridge.infra import logs as bridge_logs
from bridge.infra import observability, queue
from bridge.infra.queue import ThreadWorker, get_queue
from tests.conftest import APP_SECRET, KEY

SECRETS = {
    "app_secret": APP_SECRET,
    "access_token": "shpat_" + secrets.token_hex(16),
    "refresh_token": "shprt_" + secrets.token_hex(16),
    "fernet_key": KEY,
    "fernet_token": Fernet(KEY.encode()).encrypt(b"x").decode(),
    "webhook_secret": secrets.token_hex(32),
    "consumer_secret": "cs_" + secrets.token_hex(20),
    "api_key": "rl_" + secrets.token_urlsafe(24),
}


@pytest.fixture
def logs():
    """The root logger writing masked JSON lines into a buffer (restored afterwards)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    bridge_logs.configure_logging("INFO", json_logs=True, stream=buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


@pytest.fixture
def app(ctx):
    from bridge.app import create_app

    application = create_app(ctx.settings, ctx=ctx)
    observability.register(application)
    application.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production

    @application.get("/boom")
    def boom():
        leak = " ".join(f"{k}={v}" for k, v in SECRETS.items())
        logging.getLogger("bridge.test").info("about to fail for shopper@example.com %s", leak)
        raise RuntimeError(f"failure with {leak} and {' '.join(SECRETS.values())}")

    return application


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_masking_rules():
    assert bridge_logs.mask("mail shopper@example.com now") == "mail s***@example.com now"
    assert "abc.def" not in bridge_logs.mask("Authorization: Bearer abc.def")
    assert (
        bridge_logs.mask("postgresql://relance:hunter2@db/relance") == "postgresql://relance:***@db/relance"
    )
    assert bridge_logs.mask("event 42 of shop 7 failed: KeyError") == "event 42 of shop 7 failed: KeyError"
    for value in SECRETS.values():
        assert value not in bridge_logs.mask(f"x {value} y")


def test_request_logs_are_json_with_the_request_id_and_no_email(client, logs):
    response = client.get("/boom", headers={"X-Request-Id": "req-12345678"})
    assert response.status_code == 500
    records = lines(logs)
    info = next(r for r in records if r["logger"] == "bridge.test")
    assert set(info) >= {"time", "level", "logger", "message", "request_id"}
    assert info["request_id"] == "req-12345678" == response.headers["X-Request-Id"]
    assert "s***@example.com" in info["message"] and "shopper@" not in info["message"]
    error = next(r for r in records if r["level"] == "ERROR")
    assert "RuntimeError" in error["exception"] and error["request_id"] == "req-12345678"


def test_no_secret_in_logs_or_error_page_of_a_failing_request(client, logs):
    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body
    output = logs.getvalue()
    assert "RuntimeError" in output  # the failure is logged...
    for name, value in SECRETS.items():
        assert value not in output, name  # ...without any secret
        assert value not in body, name


def failing_job(event_id: int) -> None:
    logging.getLogger("bridge.test").warning("job for buyer@example.com with %s", SECRETS["access_token"])
    raise RuntimeError(f"store refused token {SECRETS['access_token']} key {SECRETS['fernet_key']}")


def test_no_secret_in_logs_of_a_failing_job(ctx, logs):
    queue.enqueue(ctx.redis, failing_job, 7, job_id="leaky-1", retry=None)
    ThreadWorker([get_queue(ctx.redis)], connection=ctx.redis).work(burst=True, logging_level="INFO")
    records = lines(logs)
    warning = next(r for r in records if r["logger"] == "bridge.test")
    assert warning["job_id"] == "leaky-1" and "b***@example.com" in warning["message"]
    output = logs.getvalue()
    assert "RuntimeError" in output
    for name, value in SECRETS.items():
        assert value not in output, name


def test_database_outage_page_shows_no_secret(ctx, client, shopify_shop, post_shopify, logs):
    ctx.writer.engine = sa.create_engine(
        f"postgresql+psycopg://relance:{SECRETS['webhook_secret']}@127.0.0.1:1/x"
    )
    response = post_shopify("customers/create", b"{}")
    assert response.status_code == 503 and response.headers["Retry-After"]
    body, output = response.get_data(as_text=True), logs.getvalue()
    assert SECRETS["webhook_secret"] not in body + output
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
