"""Reading the public forms (sign-up, preferences): limits first, then meaning.

Every field has a length limit; control characters (CR/LF included), text that was not
valid UTF-8 (the form parser turns it into U+FFFD) and markup in a name are refused with
a message tied to the field. A refused form stores nothing, and a refused value is never
shown back. Bodies over ``MAX_BODY`` are refused before they are read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from fastapi import Request
from starlette.datastructures import FormData

from carnews.audience.signup import FREQUENCIES, Choices
from carnews.audience.subscriptions import normalise_address
from carnews.errors import FormError, SubscriberError

MAX_BODY = 16_384  # the sign-up form with every box ticked is well under 2 KB
EMAIL_MAX = 254  # RFC 5321's path limit, less the angle brackets
NAME_MAX = 100
HONEYPOT = "website"  # hidden from people (CSS and aria-hidden); bots fill it in
FIELD_MAX = 300  # any other single field (checkbox values, the honeypot)
# Punctuation a name may hold beside letters, marks and spaces: O'Brien, Anne-Marie, Jr.
NAME_PUNCTUATION = frozenset(" .'’-")


class FieldErrors(FormError):
    """The form had mistakes; ``problems`` maps a field to what is wrong with it."""

    default_hint = "Correct the fields marked below and send the form again."

    def __init__(self, problems: dict[str, str], values: dict[str, object]) -> None:
        super().__init__("the form has mistakes: " + "; ".join(problems.values()))
        self.problems = problems
        self.values = values


def check_size(request: Request) -> None:
    """Refuse a body that is too large (or of unknown length) before anything reads it."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        error = FormError(
            f"the form is larger than {MAX_BODY} bytes, or did not say its length",
            hint="Send the form from the page, without extra text.",
        )
        error.status = 413
        raise error


def text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be taken as one line of text, or None."""
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if "\ufffd" in value:
        return "holds bytes that are not valid UTF-8 text"
    if any(unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029" for c in value):
        return "holds control characters or line breaks"
    return None


def name_problem(value: str) -> str | None:
    found = text_problem(value, NAME_MAX)
    if found is None and any(
        c not in NAME_PUNCTUATION and unicodedata.category(c)[0] not in "LM" for c in value
    ):
        return "may hold only letters, spaces and . ' -"
    return found


def _one(form: FormData, field: str, problems: dict[str, str], limit: int = FIELD_MAX) -> str:
    values = [v for v in form.getlist(field) if isinstance(v, str)]
    if len(values) != len(form.getlist(field)) or len(values) > 1:
        problems[field] = "must be sent once, as text"
        return ""
    value = values[0] if values else ""
    found = text_problem(value, limit)
    if found is not None:
        problems[field] = found
        return ""
    return value.strip()


def _choices(form: FormData, catalogue: Sequence[str], problems: dict[str, str]) -> Choices:
    name = _one(form, "name", problems, NAME_MAX)
    if "name" not in problems and (found := name_problem(name)):
        problems["name"] = f"Your name {found}."
    elif "name" in problems:
        problems["name"] = f"Your name {problems['name']}."
    ticked = form.getlist("diseases")
    diseases = [d for d in ticked if isinstance(d, str) and d in catalogue]
    if len(diseases) != len(ticked) or len(set(diseases)) != len(diseases):
        problems["diseases"] = "Choose diseases from the list only."
    frequency = _one(form, "frequency", problems) or "edition"
    if frequency not in FREQUENCIES:
        problems["frequency"] = "Choose every edition or a monthly digest."
    return Choices(name, tuple(diseases), frequency)


def _refuse_honeypot(form: FormData) -> None:
    if any(value != "" for value in form.getlist(HONEYPOT)):
        raise FormError(
            "the form could not be accepted", hint="Leave the field labelled 'leave empty' empty."
        )


def parse_signup(form: FormData, catalogue: Sequence[str]) -> tuple[str, Choices]:
    """The normalised address and choices of a sign-up, or FieldErrors."""
    _refuse_honeypot(form)
    problems: dict[str, str] = {}
    raw = _one(form, "email", problems, EMAIL_MAX)
    address = ""
    if "email" in problems:
        problems["email"] = f"The email address {problems['email']}."
    elif not raw:
        problems["email"] = "Enter your email address."
    else:
        try:
            address = normalise_address(raw)
        except SubscriberError:
            problems["email"] = "Enter an email address like name@example.org."
    choices = _choices(form, catalogue, problems)
    if _one(form, "consent", problems, 10) != "yes":
        problems["consent"] = "Tick the box to agree, or we cannot send you the newsletter."
    if problems:
        raise FieldErrors(problems, _safe_values(form, problems, catalogue))
    return address, choices


def parse_preferences(form: FormData, catalogue: Sequence[str]) -> Choices:
    problems: dict[str, str] = {}
    choices = _choices(form, catalogue, problems)
    if problems:
        raise FieldErrors(problems, _safe_values(form, problems, catalogue))
    return choices


def _safe_values(
    form: FormData, problems: dict[str, str], catalogue: Sequence[str]
) -> dict[str, object]:
    """What to fill the form with again: only fields that were fine (and escaped anyway)."""
    values: dict[str, object] = {}
    for field in ("email", "name", "frequency"):
        value = form.get(field)
        if field not in problems and isinstance(value, str):
            values[field] = value.strip()
    values["diseases"] = [d for d in form.getlist("diseases") if d in catalogue]
    values["consent"] = form.get("consent") == "yes" and "consent" not in problems
    return values
