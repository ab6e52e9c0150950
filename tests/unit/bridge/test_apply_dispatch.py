"""The facts' dispatch table: each kind of fact has its handler; a kind none takes fails its event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import pytest

from bridge.events import apply
from bridge.events.failures import error_reason
from bridge.leads import erasure
from connectors import base as facts


@dataclass(frozen=True)
class Unheard:
    """A fact of a kind no handler takes (a connector ahead of the bridge)."""

    email: str = "ana@example.com"


def test_every_kind_of_fact_has_its_handler_and_nothing_else_has_one():
    assert set(apply.HANDLERS) == set(get_args(facts.Fact))


def test_privacy_and_lifecycle_facts_go_to_erasure():
    assert {kind for kind, handler in apply.HANDLERS.items() if handler is apply._privacy} == set(
        erasure.PRIVACY_FACTS
    )


def test_a_fact_no_handler_takes_fails_as_an_unreadable_payload_naming_only_its_kind():
    with pytest.raises(facts.PayloadError) as refused:
        apply.apply_fact(None, Unheard())  # no target needed: the lookup fails before any write
    assert error_reason(refused.value) == "PayloadError: no handler for fact Unheard"
