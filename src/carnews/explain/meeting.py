"""Whether a text is a meeting abstract: a short report given at a medical congress.

Congress abstracts carry marks a journal article's abstract does not: a disclosure line
at the end ("Disclosures: A. Author, Company, 2, 5"), ACR's "Background/Purpose:" label,
a presentation or abstract number. A patient should know
such a report is preliminary and has not been through a journal's review, so it gets the
study type "conference abstract" unless it names the phase of its trial.
"""

from __future__ import annotations

import re

__all__ = ["is_meeting_abstract"]

_MARKS = re.compile(
    r"(?:^|[.\n]\s*)Disclosures?(?: of (?:interests?|conflicts? of interest))?\s*:"
    r"|\bBackground/Purpose\s*:"
    r"|\b(?:abstract|poster|presentation) (?:number|no\.|#)\s*:?\s*[A-Z]*\d"
    r"|\b(?:poster|oral) (?:presentation|session)\b",
    re.IGNORECASE,
)


def is_meeting_abstract(text: str) -> bool:
    return bool(_MARKS.search(text))
