"""Settings read once from the environment (and `.env`), with a `RELANCE_` prefix allowed."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet
from dotenv import load_dotenv

DEFAULT_DB = "sqlite:///instance/relance.db"
YES = ("1", "true", "yes", "on")


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    """`RELANCE_NAME` wins over `NAME`; empty means unset."""
    return env.get(f"RELANCE_{name}") or env.get(name) or default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name).strip()
    return int(raw) if raw else default


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(item.strip() for item in _get(env, name).split(",") if item.strip())


def _switch(env: Mapping[str, str], name: str) -> bool | None:
    """A yes/no override: None when unset (the caller decides), else whether it reads as yes."""
    raw = _get(env, name)
    return raw.strip().lower() in YES if raw else None


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Relance deployment."""

    database_url: str = DEFAULT_DB
    redis_url: str = ""  # empty: in-process queue (embedded mode)
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    public_url: str = "http://127.0.0.1:5000"
    shopify_api_key: str = ""
    shopify_api_secret: str = ""
    shopify_previous_secret: str = ""
    shopify_api_version: str = "2026-10"
    shopify_api_origin: str = ""
    smtp_url: str = ""
    mail_from: str = "Relance <no-reply@localhost>"
    instance_path: str = "instance"
    max_body_bytes: int = 1_048_576
    relay_after_seconds: int = 10
    ingest_job_window_ms: int = 1000
    job_lease_seconds: int = 600
    max_event_attempts: int = 5
    allow_private_network_urls: bool = False  # local development only: merchant URLs may be private
    woocommerce_allowed_stores: tuple[str, ...] = ()  # store URLs that may install without a link
    proxy_hops: int = 0  # reverse proxies in front that append X-Forwarded-For / -Proto (0: trust none)
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line
    metrics_token: str = ""  # when set, GET /metrics needs it as a Bearer token
    sentry_dsn: str = ""
    sentry_environment: str = ""
    retention_months: int = 24  # personal data of leads inactive this long is erased; 0 turns it off
    admin_cookie_secure: bool | None = None  # None: Secure unless PUBLIC_URL is plain http on this machine
    # prometheus_client reads this very name (no RELANCE_ prefix) for its multi-process mode
    prometheus_multiproc_dir: str = ""
    testing: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_queue(self) -> bool:
        """True when no Redis is configured and jobs run in this process."""
        return not self.redis_url

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use it)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def from_env(env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Read settings from `env` (default: os.environ, after loading `.env`)."""
    if env is None:
        if dotenv:
            load_dotenv(override=False)
        env = os.environ
    return Settings(
        database_url=_get(env, "DATABASE_URL", DEFAULT_DB),
        redis_url=_get(env, "REDIS_URL"),
        secret_key=_get(env, "SECRET_KEY"),
        encryption_keys=_list(env, "ENCRYPTION_KEYS"),
        public_url=_get(env, "PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        shopify_api_key=_get(env, "SHOPIFY_API_KEY"),
        shopify_api_secret=_get(env, "SHOPIFY_API_SECRET"),
        shopify_previous_secret=_get(env, "SHOPIFY_PREVIOUS_API_SECRET"),
        shopify_api_version=_get(env, "SHOPIFY_API_VERSION", "2026-10"),
        shopify_api_origin=_get(env, "SHOPIFY_API_ORIGIN").rstrip("/"),
        smtp_url=_get(env, "SMTP_URL"),
        mail_from=_get(env, "MAIL_FROM", "Relance <no-reply@localhost>"),
        instance_path=_get(env, "INSTANCE_PATH", "instance"),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 1_048_576),
        relay_after_seconds=_int(env, "RELAY_AFTER_SECONDS", 10),
        ingest_job_window_ms=_int(env, "INGEST_JOB_WINDOW_MS", 1000),
        job_lease_seconds=_int(env, "JOB_LEASE_SECONDS", 600),
        max_event_attempts=_int(env, "MAX_EVENT_ATTEMPTS", 5),
        allow_private_network_urls=_get(env, "ALLOW_PRIVATE_NETWORK_URLS") == "1",
        woocommerce_allowed_stores=_list(env, "WOOCOMMERCE_ALLOWED_STORES"),
        proxy_hops=_int(env, "PROXY_HOPS", 0),
        log_level=_get(env, "LOG_LEVEL", "INFO"),
        log_format=_get(env, "LOG_FORMAT", "text"),
        metrics_token=_get(env, "METRICS_TOKEN"),
        sentry_dsn=_get(env, "SENTRY_DSN"),
        sentry_environment=_get(env, "SENTRY_ENVIRONMENT"),
        retention_months=_int(env, "RETENTION_MONTHS", 24),
        admin_cookie_secure=_switch(env, "ADMIN_COOKIE_SECURE"),
        prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR", ""),
    )


def is_set(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment names `name` (RELANCE_ prefix allowed), as opposed to its default."""
    return bool(_get(os.environ if env is None else env, name))


def _instance_secret(instance: Path, name: str, make: str) -> str:
    """Read or create a development secret kept in the instance folder (mode 0600)."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(make)
    return make


def complete(settings: Settings) -> Settings:
    """Fill secrets a newcomer has not set with generated ones kept in the instance folder."""
    instance = Path(settings.instance_path)
    changes: dict[str, object] = {}
    if not settings.secret_key:
        changes["secret_key"] = _instance_secret(instance, "secret_key", secrets.token_urlsafe(48))
    if not settings.encryption_keys:
        key = _instance_secret(instance, "encryption_key", Fernet.generate_key().decode())
        changes["encryption_keys"] = (key,)
    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
        db_path = Path(settings.database_url.removeprefix("sqlite:///"))
        if db_path.parent and str(db_path) != ":memory:":
            db_path.parent.mkdir(parents=True, exist_ok=True)
    return settings.with_overrides(**changes) if changes else settings
