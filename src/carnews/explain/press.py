"""Whether a text is a company's (or an institution's) own press release.

A release is the company's own account: the card says so, since nobody outside the
company has checked it. Releases carry marks a reporter's story does not: a newswire
dateline ("BOSTON, March 3, 2025 /PRNewswire/ --", "(BUSINESS WIRE) --"), the
safe-harbour paragraph on forward-looking statements, "this press release", and the
stock-market opener "Company (Nasdaq: ABCD) … today announced". A reporter retelling a
release ("the company said") writes a news story, not a release.
"""

from __future__ import annotations

import re

__all__ = ["is_press_release"]

_WIRE = (r"PR ?Newswire|GLOBE ?NEWSWIRE|BUSINESS ?WIRE|ACCESSWIRE|ACCESS Newswire|EQS-News"
         r"|Newsfile|CNW|Korea Newswire|JCN Newswire")  # fmt: skip
_MARKS = re.compile(
    rf"[/(]\s*(?:{_WIRE})\s*[/)]"
    r"|\bforward[- ]looking statements?\b"
    r"|\b(?:this|the) (?:press|news) release\b"
    r"|\((?:Nasdaq|NYSE|HKEX|SSE|SZSE|TSX|LSE|Euronext)(?: [A-Z][a-z]+)?\s*:\s*[\w.]+\)"
    r"[^.]{0,240}?\btoday (?:announced|reported|presented|shared)\b",
    re.IGNORECASE,
)


def is_press_release(text: str) -> bool:
    return bool(_MARKS.search(text))
