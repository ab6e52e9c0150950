"""Discount codes: long enough, unambiguous, prefixed, unique."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.codes import ALPHABET, generate_code, offer_window


def test_alphabet_has_no_ambiguous_characters() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) >= 30
    assert ALPHABET.upper() == ALPHABET


def test_default_code_has_ten_random_characters_from_the_alphabet() -> None:
    code = generate_code()
    assert len(code) == 10
    assert set(code) <= set(ALPHABET)


def test_longer_codes_on_request() -> None:
    assert len(generate_code(length=16)) == 16


def test_prefix_is_prepended_in_capitals() -> None:
    code = generate_code("spring-")
    assert code.startswith("SPRING-")
    assert len(code) == len("SPRING-") + 10
    assert set(code.removeprefix("SPRING-")) <= set(ALPHABET)


def test_codes_shorter_than_ten_random_characters_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        generate_code(length=9)


def test_ten_thousand_draws_are_all_different() -> None:
    codes = {generate_code() for _ in range(10_000)}
    assert len(codes) == 10_000


def test_the_random_source_is_a_parameter() -> None:
    letters = itertools.cycle("AB")
    assert generate_code("X", token_source=lambda alphabet: next(letters)) == "XABABABABAB"


def test_offer_window_starts_now_and_lasts_the_given_hours() -> None:
    now = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert offer_window(now, 24) == (now, now + timedelta(hours=24))
    with pytest.raises(ValueError):
        offer_window(now, 0)
