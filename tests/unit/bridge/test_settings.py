"""Settings read from the environment: every variable the bridge and the admin page use, by its documented
name (a RELANCE_ prefix wins), with its documented default."""

from __future__ import annotations

import pytest

from bridge.infra.settings import Settings, from_env, is_set


def test_defaults_without_any_variable() -> None:
    settings = from_env({}, dotenv=False)
    assert settings == Settings()
    assert (settings.log_format, settings.metrics_token, settings.retention_months) == ("text", "", 24)
    assert (settings.sentry_dsn, settings.sentry_environment) == ("", "")
    assert settings.admin_cookie_secure is None
    assert settings.prometheus_multiproc_dir == ""


def test_each_variable_by_its_name() -> None:
    env = {
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": "scrape-token",
        "SENTRY_DSN": "https://key@sentry.example/1",
        "SENTRY_ENVIRONMENT": "staging",
        "RETENTION_MONTHS": "0",
        "PROMETHEUS_MULTIPROC_DIR": "var/metrics",
    }
    settings = from_env(env, dotenv=False)
    assert settings.log_format == "json"
    assert settings.metrics_token == "scrape-token"
    assert (settings.sentry_dsn, settings.sentry_environment) == ("https://key@sentry.example/1", "staging")
    assert settings.retention_months == 0
    assert settings.prometheus_multiproc_dir == "var/metrics"


def test_the_prefixed_name_wins() -> None:
    env = {"RELANCE_METRICS_TOKEN": "new", "METRICS_TOKEN": "old", "RELANCE_RETENTION_MONTHS": "6"}
    settings = from_env(env, dotenv=False)
    assert (settings.metrics_token, settings.retention_months) == ("new", 6)


def test_prometheus_reads_its_own_name_only() -> None:
    # prometheus_client itself looks at PROMETHEUS_MULTIPROC_DIR: a prefixed name would configure half of it
    settings = from_env({"RELANCE_PROMETHEUS_MULTIPROC_DIR": "var/x"}, dotenv=False)
    assert settings.prometheus_multiproc_dir == ""


@pytest.mark.parametrize(
    ("raw", "secure"), [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("no", False)]
)
def test_admin_cookie_secure_is_a_yes_no_override(raw: str, secure: bool) -> None:
    assert from_env({"ADMIN_COOKIE_SECURE": raw}, dotenv=False).admin_cookie_secure is secure
    assert from_env({"RELANCE_ADMIN_COOKIE_SECURE": raw}, dotenv=False).admin_cookie_secure is secure


def test_is_set_tells_a_given_value_from_the_default() -> None:
    assert not is_set("PUBLIC_URL", {})
    assert is_set("PUBLIC_URL", {"PUBLIC_URL": "https://relance.example.com"})
    assert is_set("PUBLIC_URL", {"RELANCE_PUBLIC_URL": "https://relance.example.com"})
