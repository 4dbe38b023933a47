"""Addresses: the one spelling of an email address, and a fast road to it for plain ones.

Every address is judged by ``email_validator`` (syntax only, no DNS look-up: the
machine may be offline and a typo'd domain is the subscriber's to fix) and stored
lower-cased, so ``Ana@Example.ORG`` and ``ana@example.org`` are one subscriber.

The validator costs about 100 µs an address, most of it on the domain; an import of
100,000 rows would spend ten seconds there. A list has few domains, so the plain case
(an ASCII dot-atom before one ``@``) validates its domain once and its local part with
the validator's own pattern; anything else, or anything the plain road doubts, goes
the validator's whole way, which also words every refusal. Both roads give the same
answer for every address: ``tests/test_addresses.py`` holds them side by side.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

from carnews.errors import SubscriberError


def normalise_address(raw: str) -> str:
    """The one spelling of an address; SubscriberError says what is wrong with a bad one."""
    candidate = raw.strip()
    return _plain(candidate) or _validated(candidate)


def _validated(candidate: str) -> str:
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(
            f"{candidate!r} is not a usable email address: {exc}", context={"address": candidate}
        ) from None
    # Lower-cased whole: mail systems treat local parts case-insensitively in practice,
    # and one person must not become two subscribers by capitalising their name.
    return checked.normalized.lower()


def _plain(candidate: str) -> str | None:
    """The normalised address when it is plain and valid; None to take the whole road.

    What the validator does with such an address, step by step: no display name or
    quotes to split off (no ``<`` or ``"``), a dot-atom local part is returned as it is,
    the domain is checked on its own, and the three spellings (as given, normalised,
    ASCII) must each fit in 254 octets.
    """
    if not candidate.isascii() or candidate.count("@") != 1 or '"' in candidate:
        return None
    local, _, domain = candidate.partition("@")
    if "<" in candidate or not DOT_ATOM_TEXT.match(local):
        return None
    spellings = _domain(domain)
    if spellings is None:
        return None
    unicode_domain, ascii_domain = spellings
    longest = max(len(candidate), len(local) + 1 + len(unicode_domain.encode()),
                  len(local) + 1 + len(ascii_domain))  # fmt: skip
    if longest > EMAIL_MAX_LENGTH:
        return None
    return f"{local}@{unicode_domain}".lower()


@lru_cache(maxsize=4096)
def _domain(domain: str) -> tuple[str, str] | None:
    """A domain's normalised and ASCII spellings, or None when the validator refuses it.

    Asked with the shortest local part there is, so only the domain can be at fault.
    """
    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain
