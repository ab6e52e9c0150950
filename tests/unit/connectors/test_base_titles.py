"""The title Relance gives its codes and the test that recognises it are one pair."""

from connectors.base import made_by_relance, relance_title


def test_a_relance_title_is_recognised_for_its_own_code_only() -> None:
    title = relance_title("abandoned_cart", "SAVE-ABCD2345")
    assert title == "Relance abandoned cart SAVE-ABCD2345"
    assert made_by_relance(title, "save-abcd2345")
    assert not made_by_relance(title, "SAVE-OTHER0000")
    assert not made_by_relance("Summer sale SAVE-ABCD2345", "SAVE-ABCD2345")
    assert not made_by_relance(None, "SAVE-ABCD2345")
