"""The fast road for plain addresses answers exactly as the validator's whole way does."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from carnews.audience.addresses import normalise_address
from carnews.errors import SubscriberError


def the_validators_answer(raw: str) -> str:
    """What the address became before the fast road: the validator alone, lower-cased."""
    candidate = raw.strip()
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return f"refused: {candidate!r} is not a usable email address: {exc}"


def ours(raw: str) -> str:
    try:
        return normalise_address(raw)
    except SubscriberError as exc:
        return f"refused: {exc.message}"


ODD = [
    "Ana@Example.ORG", "o'brien+news@example.co.uk", "a@b", "a@example", "a@localhost",
    "a@example.test", "a@example.invalid", "a@xn--exmple-cua.org", "A@XN--EXMPLE-CUA.ORG",
    "a@exämple.org", "jörg@example.org", "a@-example.org", "a@example-.org", "a@example.123",
    "a@1.2.3.4", "a@[127.0.0.1]", "a.@example.org", ".a@example.org", "a..b@example.org",
    '"a b"@example.org', "Ana <ana@example.org>", "a@example..org", "a@.example.org",
    "a@example.org.", "a b@example.org", "a@exa mple.org", "a\t@example.org", "@example.org",
    "a@", "a@@example.org", "a@b@example.org", "Info@Example.org", "POSTMASTER@example.org",
    "a@" + "x" * 63 + ".org", "a@" + "x" * 64 + ".org", "x" * 64 + "@example.org",
    "x" * 65 + "@example.org", "x" * 240 + "@example.org", "x" * 242 + "@example.org",
    "x" * 200 + "@" + "y" * 50 + ".org", "x" * 190 + "@xn--exmple-cua" + ".org" * 12,
    "a@example.org\r\nBcc: x@example.org", "<script>@example.org", "a@exam_ple.org",
    "a{b}|c~d@example.org", "a@EXAMPLE.ORG ", "a@ex\u00adample.org", "a@e.x", "a@e.co",
]  # fmt: skip


@pytest.mark.parametrize("raw", ODD)
def test_odd_addresses_get_the_validators_answer(raw: str) -> None:
    assert ours(raw) == the_validators_answer(raw)


LOCAL = st.text(alphabet="abcXYZ09.+-_'!#{}~\"@ <>\\é", min_size=0, max_size=70)
DOMAIN = st.text(alphabet="abcXYZ09.-_é@ []", min_size=0, max_size=70) | st.sampled_from(
    ["example.org", "xn--exmple-cua.org", "localhost", "a.test", "EXAMPLE.ORG", "a.b.c.d"]
)


@settings(max_examples=600, deadline=None)
@given(LOCAL, DOMAIN)
def test_any_address_gets_the_validators_answer(local: str, domain: str) -> None:
    raw = f"{local}@{domain}"
    assert ours(raw) == the_validators_answer(raw)
