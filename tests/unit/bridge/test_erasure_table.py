"""The privacy dispatch table: one handler per privacy or lifecycle fact, anything else refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.leads import erasure
from connectors import base as facts


def test_every_privacy_fact_has_a_handler_and_only_those():
    assert set(erasure.PRIVACY_FACTS) == {
        facts.CustomerRedact,
        facts.DataRequest,
        facts.ShopRedact,
        facts.AppUninstalled,
    }
    assert set(erasure.HANDLERS) == set(erasure.PRIVACY_FACTS)


def test_a_fact_without_a_handler_is_refused_before_anything_is_touched():
    other = facts.ShopUpdated(name="x", currency=None, timezone=None)
    with pytest.raises(facts.PayloadError, match="no handler for fact ShopUpdated"):
        erasure.apply(None, None, None, other, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
