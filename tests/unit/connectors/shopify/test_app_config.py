"""shopify.app.toml and the code agree: topics handled, scopes asked for, API version."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bridge.infra.settings import Settings
from connectors.shopify import graphql as gql
from connectors.shopify import oauth
from connectors.shopify.webhooks import COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS, SUPPORTED_TOPICS

APP_CONFIG = Path(__file__).resolve().parents[4] / "shopify.app.toml"


def config() -> dict[str, Any]:
    with APP_CONFIG.open("rb") as raw:
        return tomllib.load(raw)


def subscriptions(key: str) -> list[dict[str, Any]]:
    return [s for s in config()["webhooks"]["subscriptions"] if key in s]


def test_declared_topics_are_the_topics_the_code_handles() -> None:
    declared = [topic for s in subscriptions("topics") for topic in s["topics"]]
    assert len(declared) == len(set(declared))  # nothing declared twice
    assert set(declared) == SUBSCRIBED_TOPICS
    assert {"shop/update", "app/scopes_update", "app/uninstalled"} <= SUBSCRIBED_TOPICS
    assert len(SUBSCRIBED_TOPICS) == 13  # the 11 business topics, shop/update and app/scopes_update


def test_compliance_topics_are_declared_as_compliance_topics() -> None:
    (entry,) = subscriptions("compliance_topics")
    assert set(entry["compliance_topics"]) == COMPLIANCE_TOPICS
    assert {"customers/data_request", "customers/redact", "shop/redact"} == COMPLIANCE_TOPICS
    assert COMPLIANCE_TOPICS <= SUPPORTED_TOPICS and not COMPLIANCE_TOPICS & SUBSCRIBED_TOPICS


def test_every_subscription_delivers_to_the_webhook_endpoint_over_https() -> None:
    uris = {s["uri"] for s in config()["webhooks"]["subscriptions"]}
    assert uris == {"https://relance.example.com/webhooks/shopify"}


def test_declared_scopes_are_the_scopes_the_code_asks_for() -> None:
    declared = config()["access_scopes"]["scopes"].split(",")
    assert sorted(declared) == sorted(oauth.SCOPES)
    assert "write_customers" in declared  # marketing consent written back to Shopify


def test_webhook_api_version_is_the_pinned_admin_version() -> None:
    assert config()["webhooks"]["api_version"] == gql.API_VERSION == Settings().shopify_api_version


def test_obsolete_build_section_is_gone() -> None:
    assert "include_config_on_deploy" not in config().get("build", {})


def test_every_subscribed_topic_is_a_webhook_topic_of_the_schema() -> None:
    from tests.fakes.shopify_graphql import admin_schema

    enum = admin_schema().get_type("WebhookSubscriptionTopic")
    values = set(getattr(enum, "values", {}))
    assert {gql.webhook_topic(topic) for topic in SUBSCRIBED_TOPICS} <= values
