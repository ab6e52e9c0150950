"""The shell's small helpers that need no database, Redis or network."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography.fernet import Fernet, InvalidToken

from bridge.infra import netguard
from bridge.infra.crypto import Vault, hash_key, new_key, same
from bridge.infra.logs import mask
from bridge.infra.observability import frame_ancestors_header
from bridge.infra.web import int_or_none, parse_int
from bridge.leads.emails import normalize_email
from bridge.leads.scores import TierChange, became_hot


@pytest.mark.parametrize("raw", ["12", " 12 ", "-3", "0"])
def test_parse_int_reads_plain_decimals(raw):
    assert parse_int(raw) == int(raw)


@pytest.mark.parametrize("raw", [None, "", "1_0", "²", "1e3", "0x10", "12.0", str(2**31)])
def test_parse_int_refuses_anything_else_and_int_or_none_ignores_it(raw):
    with pytest.raises(ValueError):
        parse_int(raw)
    assert int_or_none(raw) is None


def test_parse_int_keeps_to_its_bounds():
    assert parse_int("5", low=1, high=5) == 5
    with pytest.raises(ValueError):
        parse_int("6", low=1, high=5)


def test_vault_round_trips_and_rotates_to_the_newest_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Vault([old]).encrypt("shpat_secret")
    assert token != "shpat_secret" and Vault([old]).decrypt(token) == "shpat_secret"
    both = Vault([new, old])
    rotated = both.rotate(token)
    assert Vault([new]).decrypt(rotated) == "shpat_secret"
    with pytest.raises(InvalidToken):
        Vault([new]).decrypt(token)
    assert both.encrypt(None) is None and both.decrypt(None) is None
    with pytest.raises(ValueError):
        Vault([])


def test_api_keys_are_random_prefixed_and_stored_as_digests():
    a, b = new_key("rl_"), new_key("rl_")
    assert a.startswith("rl_") and a != b and len(a) > 30
    assert hash_key(a) == hash_key(a) != hash_key(b) and a not in hash_key(a)
    assert same(a, a) and not same(a, b)


def test_mask_hides_secrets_and_shortens_emails():
    line = "jane.doe@example.com token=abc123 Bearer shpat_0123456789abcdef postgresql://u:pw@db/x"
    masked = mask(line)
    assert "jane.doe" not in masked and "j***@example.com" in masked
    assert "abc123" not in masked and "shpat_0123456789abcdef" not in masked and ":pw@" not in masked


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("2130706433", "a loopback address"),  # 127.0.0.1 as connect() reads a bare number
        ("0x7f.1", "a loopback address"),
        ("10.1.2.3", "a private network address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata
        ("[::ffff:127.0.0.1]", "a loopback address"),
        ("93.184.215.14", None),
    ],
)
def test_addresses_are_read_as_connect_would_and_judged(host, reason):
    address = netguard.parse_address(host)
    assert address is not None
    assert netguard.refusal(address) == reason


def test_the_guard_refuses_internal_names_and_what_they_resolve_to():
    guard = netguard.Guard(resolve=lambda host, port: ["10.0.0.8"])
    with pytest.raises(netguard.UnsafeTarget, match="internal host name"):
        guard.check_url("http://db.internal/")
    with pytest.raises(netguard.UnsafeTarget, match="resolves to a private network address"):
        guard.check_url("https://shop.example/")
    with pytest.raises(netguard.UnsafeTarget, match="http"):
        guard.check_url("file:///etc/passwd")
    public = netguard.Guard(resolve=lambda host, port: ["93.184.215.14"])
    assert public.addresses("shop.example", 443) == ["93.184.215.14"]
    assert netguard.Guard(allow_private=True).addresses("localhost", 80) == ["localhost"]
    assert isinstance(netguard.parse_address("::1"), ipaddress.IPv6Address)


def test_only_a_valid_shop_domain_may_frame_the_app():
    assert frame_ancestors_header("a.myshopify.com") == (
        "frame-ancestors https://a.myshopify.com https://admin.shopify.com;"
    )
    assert frame_ancestors_header("evil.example") == "frame-ancestors 'none';"


def test_emails_are_trimmed_and_lower_cased():
    assert normalize_email("  Jane@Example.COM ") == "jane@example.com"
    assert normalize_email("   ") is None and normalize_email(None) is None


def test_only_leads_made_hot_by_their_own_activity_get_an_offer():
    changes = [
        TierChange(1, "cold", "hot", "cart abandoned"),
        TierChange(2, "warm", "hot", "product view"),
        TierChange(3, "cold", "hot", "rules v4"),  # a rules change alone mails nobody
        TierChange(4, "customer", "hot", "order"),
        TierChange(5, "cold", "warm", "signup"),
    ]
    assert became_hot(changes) == [1, 2]
