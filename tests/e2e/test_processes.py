"""The real commands: `relance serve` alone (embedded queue), and `relance worker` on Redis and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bridge import db
from bridge.db.models import Event, Lead
from tests.conftest import KEY, REDIS_URL, fixture, shopify_sign

RELANCE = [sys.executable, "-m", "bridge.cli"]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELANCE_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        ENCRYPTION_KEYS=KEY,
        SECRET_KEY="e2e",
        INSTANCE_PATH=str(tmp_path / "instance"),
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def test_serve_alone_processes_a_signed_webhook_end_to_end(tmp_path):
    env = env_for(
        tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'relance.db'}", SHOPIFY_API_SECRET="app-secret"
    )
    added = subprocess.run(
        [*RELANCE, "shops", "add", "--platform", "shopify", "--domain", "e2e.myshopify.com"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    api_key = next(line.split()[1] for line in added.stdout.splitlines() if line.startswith("api_key:"))
    port = free_port()
    server = subprocess.Popen(
        [*RELANCE, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{base}/healthz"))
        payload = json.loads(fixture("shopify", "customers__create.json"))
        raw = json.dumps(payload).encode()
        headers = {
            "X-Shopify-Topic": "customers/create",
            "X-Shopify-Shop-Domain": "e2e.myshopify.com",
            "X-Shopify-Hmac-Sha256": shopify_sign(raw, "app-secret"),
            "X-Shopify-Event-Id": "1",
            "Content-Type": "application/json",
        }
        assert (
            requests.post(f"{base}/webhooks/shopify", data=raw, headers=headers, timeout=10).status_code
            == 200
        )
        forged = dict(headers, **{"X-Shopify-Hmac-Sha256": shopify_sign(raw, "guess")})
        assert (
            requests.post(f"{base}/webhooks/shopify", data=raw, headers=forged, timeout=10).status_code == 401
        )
        auth = {"Authorization": f"Bearer {api_key}"}
        leads = wait_for(
            lambda: requests.get(f"{base}/api/v1/leads", headers=auth, timeout=10).json()["leads"]
        )
        assert leads[0]["email"] == payload["email"].lower() and leads[0]["external_id"] == str(payload["id"])
        assert requests.get(f"{base}/readyz", timeout=10).json() == {
            "ok": True,
            "database": True,
            "redis": True,
        }
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "Traceback" not in output, output


def _get(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize("kind", ["split", "fork", "simple", "pool"])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_each_class_of_rq_worker_process_drains_the_queue(tmp_path, ctx, shopify_shop, post_shopify, kind):
    for i, name in enumerate(["customers__create.json", "checkouts__create.json", "orders__create.json"]):
        topic = name.split(".")[0].replace("__", "/")
        assert post_shopify(topic, fixture("shopify", name), event_id=f"w-{i}").status_code == 200
    env = env_for(tmp_path, DATABASE_URL=ctx.settings.database_url, REDIS_URL=REDIS_URL)
    done = subprocess.run(
        [*RELANCE, "worker", "--burst", "--worker-class", kind],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with ctx.sessions() as s:
        assert set(s.scalars(sa.select(Event.status))) == {"processed"}
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) >= 2


def test_a_worker_on_an_unmigrated_database_says_to_run_db_upgrade(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    behind = tmp_path / "behind.db"
    db.upgrade(f"sqlite:///{behind}", "0011_code_removal_index")
    for path, says in ((empty, "has no tables yet"), (behind, "schema is out of date")):
        env = env_for(tmp_path, DATABASE_URL=f"sqlite:///{path}", REDIS_URL=REDIS_URL)
        done = subprocess.run(
            [*RELANCE, "worker"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1, done.stderr
        assert says in done.stderr and "run `relance db upgrade`" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_serve_demo_prints_its_real_address_and_plays_a_clean_day(tmp_path):
    database = tmp_path / "relance.db"
    env = env_for(tmp_path, DATABASE_URL=f"sqlite:///{database}", PYTHONUNBUFFERED="1")
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [*RELANCE, "serve", "--demo", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("Relance on") for line in lines), timeout=240)
        base = f"http://127.0.0.1:{port}"
        assert f"admin page: {base}/admin/\n" in lines
        assert f"Relance on {base}/  (admin page: {base}/admin/)\n" in lines
        assert _get(f"{base}/healthz")
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=10)
        server.stdout.close()
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.select(Event.status, sa.func.count()).group_by(Event.status)).all())
    engine.dispose()
    assert statuses.get("processed", 0) > 100 and set(statuses) == {"processed"}  # no failed event
