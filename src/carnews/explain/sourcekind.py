"""What a source is: a journal article, a preprint, a registry record, a regulator's
notice, a news report or a patient organisation's page, read from how its text speaks.

Pure: title and text in, a source kind out, with the cues the study type shares (a
regulator's decision, a reporter's words, a person's own story). A source's own labels
(a feed's publication types) win over the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from carnews.explain.press import is_press_release
from carnews.text.readability import split_sentences

__all__ = [
    "DECISION",
    "DOING",
    "NEWS",
    "PERSONAL",
    "SAFETY_ACTION",
    "read_source_kind",
    "regulator_named",
]

# What authors say they did: such a sentence is the work, even under "Background".
DOING = re.compile(
    r"\bwe (?:report|describe|treated|review|reviewed|argue|propose|searched|studied|analy[sz]ed"
    r"|performed|generated|engineered|designed|measured|followed|pooled|compared|collected"
    r"|explored|assessed|transduced|present|summari[sz]e|focus|discuss|built)\b",
    re.IGNORECASE,
)


_PREPRINT = re.compile(
    r"preprint|medrxiv|biorxiv|not (?:yet )?(?:been )?(?:certified by |undergone )?peer[- ]?review"
    r"|not peer[- ]reviewed", re.IGNORECASE)  # fmt: skip
_REGISTRY_FIELD = re.compile(
    r"\b(?:brief summary|official title|overall status|recruitment status|(?:estimated )?"
    r"enrol?lment(?: \((?:estimated|actual)\))?|primary outcomes?(?: measures?)?|phase|status"
    r"|conditions?|interventions?|sponsor|eligibility)\s*:",
    re.IGNORECASE,
)
PERSONAL = re.compile(
    r"^\s*['‘“]|^my\b|\b(?:she|he) says\b|\bI (?:had|was|got|became|know|don't|still|wanted"
    r"|can)\b|\bcolumnist\b", re.IGNORECASE)  # fmt: skip
_ORGANISATION = re.compile(
    r"\b(?:you|your)\b|\bour (?:research team|community|members?|foundation|helpline|patient"
    r" guide|medical advisory)|\bmembers\b|\bwebinar\b|\bfoundation\b|\bassociation\b"
    r"|\balliance\b|\bcharity\b", re.IGNORECASE)  # fmt: skip
NEWS = re.compile(
    r"\b(?:shares?|analysts?|investors?|biotech|said|says|announced|company|startup"
    r"|raised|acquire\w*|stock|payers|insurers|price|deal)\b", re.IGNORECASE)  # fmt: skip
# A study retold by someone else: a reporter names where it appeared and who said what
# ("published in Annals of …", "according to the study", "the authors wrote"); an
# abstract speaks of its own work and never cites itself like this.
_RETOLD = re.compile(
    r"\b(?:published|reported) (?:this week |today )?in (?:the journal |the )?(?-i:[A-Z])"
    r"|\baccording to (?:the|a|an)\b|\b(?:researchers|authors|doctors|investigators|scientists"
    r"|experts|team) (?:wrote|noted|said|say|reported|presented)\b|\bnot involved\b"
    r"|\bthis week\b|\bpresented (?:at|follow-up|data|results)\b|\bthe hospital announced\b",
    re.IGNORECASE,
)
# A reporter's attribution; a notice calls the applicant "the sponsor".
_SAID = re.compile(r"(?<!sponsor )\b(?:said|says|told)\b", re.IGNORECASE)
_REGULATOR = {
    "FDA": r"\bFDA\b|Food and Drug Administration",
    "EMA": r"\bEMA\b|European Medicines Agency",
    "NMPA": r"\bNMPA\b|National Medical Products Administration",
    "PEI": r"Paul-Ehrlich|\bPEI\b",
    "MHRA": r"\bMHRA\b",
}
DECISION = re.compile(
    r"\b(?:grant\w*|clear\w*|approv\w*|accept\w*|plac\w*|authori[sz]\w*)\b|fast[- ]track"
    r"|\bRMAT\b|orphan drug|\bPRIME\b|clinical hold|\bIND\b", re.IGNORECASE)  # fmt: skip


# A regulator's safety action on a whole class of products (a boxed warning, a label
# change, REMS): news about the rules every treated patient lives under, not a study.
SAFETY_ACTION = re.compile(
    r"\blabel\w*|boxed warning|\bREMS\b|safety communication|\bwarning\b|\binvestigat(?:es|ing)\b",
    re.IGNORECASE,
)


def regulator_named(title: str, text: str) -> str | None:
    for name, pattern in _REGULATOR.items():
        if re.search(pattern, f"{title} {text}"):
            return name
    return None


def read_source_kind(title: str, text: str, given: str | None, types: Sequence[str]) -> str:
    if given:
        return given
    if any(t.lower() == "preprint" for t in types):
        return "preprint"
    if types:
        return "peer-reviewed journal"
    if _PREPRINT.search(text):
        return "preprint"
    if len(_REGISTRY_FIELD.findall(text)) >= 2:
        return "trial registry"
    if is_press_release(f"{title} {text}"):
        return "press release"  # before "you" or "foundation" read it as a patient group's
    if PERSONAL.search(title) or PERSONAL.search(text) or _ORGANISATION.search(f"{title} {text}"):
        return "patient organisation"
    lead = next(iter(split_sentences(text)), "")  # a text of only spaces has no sentence
    acts = DECISION.search(title) or SAFETY_ACTION.search(title)
    # "The FDA approved X, the company said": a reporter's account of the decision.
    if acts and regulator_named(title, lead) and not (NEWS.search(title) or _SAID.search(lead)):
        return "regulator"
    if (NEWS.search(text) or _RETOLD.search(text)) and not DOING.search(text):
        return "news site"
    return "peer-reviewed journal"
