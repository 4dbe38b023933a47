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
    r"|not peer[- ]reviewed"
    # the same footer in the authors' own language: "本研究为预印本，尚未经同行评议"
    r"|预印本|未经同行评[议審审]|プレプリント|査読前", re.IGNORECASE)  # fmt: skip
_REGISTRY_FIELD = re.compile(
    r"\b(?:brief summary|official title|overall status|recruitment status|(?:estimated )?"
    r"enrol?lment(?: \((?:estimated|actual)\))?|primary outcomes?(?: measures?)?|phase|status"
    r"|conditions?|interventions?|sponsor|eligibility)\s*:",
    re.IGNORECASE,
)
# A person's own account, in their words or a relative's: "I had", "he says", "Mark's
# story", "our daughter", "a mother writes", "we were told".
PERSONAL = re.compile(
    r"^\s*['‘“]|^my\b|\b(?:she|he) (?:says|recalls|remembers)\b|\bcolumnist\b"
    r"|\bI(?:['’]m| am| have| had| was| got| felt| feel| went| started| received| needed"
    r"| remember| thought| decided| never| could| couldn['’]t| knew| became| know| don['’]t"
    r"| still| wanted| can)\b"
    r"|\b(?:our|my) (?:daughter|son|child|kids?|husband|wife|mother|mom|mum|father|dad"
    r"|sister|brother)\b|\b(?:mother|father|parent|mum|mom|dad|husband|wife|sister|brother"
    r"|daughter|son|patient) (?:writes|shares|tells|recalls|describes)\b"
    r"|\b\w+['’]s (?:own |\S+ )?(?:story|journey)\b|\bpatient stor(?:y|ies)\b"
    r"|\bin (?:her|his|their) own words\b|\bwe were told\b"
    # A profile opens on a first name and an age: "Mark, 52, from Ohio", "Anna, a 41-year-old".
    # ("Here, 12 patients …" opens an abstract: the age needs its comma or "-year-old")
    r"|(?-i:^\s*[A-Z][a-z]+, (?:an? \d{1,2}-year-old\b|\d{1,2},))",
    re.IGNORECASE,
)
_ORGANISATION = re.compile(
    r"\b(?:you|your)\b|\bour (?:research team|community|members?|foundation|helpline|patient"
    r" guide|medical advisory)|\bmembers\b|\bwebinar\b|\bfoundation\b|\bassociation\b"
    r"|\balliance\b|\bcharity\b"
    # a trial notice for readers: "is looking for adults with …", "take part"
    r"|\b(?:is|are) (?:looking for|seeking) (?:adults|people|volunteers|participants|patients"
    r"|children)\b|\btake part\b|\btrial opportunit\w*|\bregister (?:your )?interest\b",
    re.IGNORECASE)  # fmt: skip
# An explainer names itself in its title ("What is CAR-T?", "… explained", "FAQ").
_EXPLAINER = re.compile(
    r"^\s*what (?:is|are)\b|\bexplainers?\b|\bexplained\b|frequently asked questions|\bFAQs?\b"
    r"|\bQ ?& ?A\b|questions and answers|what (?:you|patients|families|people) (?:need|should)"
    r" (?:to )?know|\bfact ?sheet\b",
    re.IGNORECASE,
)
# Money and markets: a news story's subject, never an abstract's (whose "Funding:" line
# names its grants).
NEWS = re.compile(
    r"\b(?:shares?|analysts?|investors?|biotechs?|said|says|announced|company|start-?ups?"
    r"|raised|acquire\w*|stock|payers|insurers|price|deal|(?:funding|financing) round"
    r"|series [A-D]|IPO)\b"
    r"|(?:US)?\$\s?\d|[€£]\s?\d", re.IGNORECASE)  # fmt: skip
# A study retold by someone else: a reporter names where it appeared and who said what
# ("published in Annals of …", "according to the study", "the authors wrote"); an
# abstract speaks of its own work and never cites itself like this.
_RETOLD = re.compile(
    r"\b(?:published|reported) (?:this week |today )?in (?:the journal |the )?(?-i:[A-Z])"
    r"|\baccording to (?:the|a|an)\b|\b(?:researchers|authors|doctors|investigators|scientists"
    r"|experts|team) (?:wrote|noted|said|say|reported|presented)\b|\bnot involved\b"
    r"|\bthis week\b|\bpresented (?:at|follow-up|data|results)\b|\bthe hospital announced\b"
    # "Doctors in Erlangen report that …", "researchers found that …"
    r"|\b(?:researchers|doctors|scientists|investigators|physicians|clinicians|experts|the team)"
    r"\b[^.;]{0,40}?\b(?:report|reported|say|said|found|find|describe|described|show|showed"
    r"|have shown)\s+that\b"
    # "A new study suggests …", "early data from a small study suggest …": a study someone
    # else did, told in a reporter's present tense (an abstract's background cites in the
    # past, "a recent study showed", and calls its own "this" or "our" study).
    r"|\b(?:a|the) (?:new|small|recent|first|early|latest|large) (?:\w+ )?(?:study|trial|report"
    r"|analysis)\b[^.;]{0,30}?\b(?:suggests|shows|finds|indicates)\b"
    r"|\b(?:early|new|initial|preliminary) data\b[^.;]{0,60}?\bsuggests?\b",
    re.IGNORECASE,
)
# A reporter's attribution, in the lead of an account of a decision ("…, the company said",
# "the sponsor disclosed in a securities filing Monday"); a notice calls the applicant
# "the sponsor" and dates itself by the calendar, not by the weekday.
_SAID = re.compile(
    r"(?<!sponsor )\b(?:said|says|told)\b|\bdisclosed\b|\b(?:securities|SEC) filing\b"
    # a reporter's attribution after the claim: "…, physicians say", "…, analysts say"
    r"|,\s+(?:[\w-]+\s+){0,3}say\b"
    r"|\b(?:on )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    re.IGNORECASE,
)
# A release's dated dateline, even with no wire named ("SAN DIEGO, Feb. 10, 2026 --"; a
# wire's name and the forward-looking paragraph are press.py's marks). Agency copy dates
# without the year ("BOSTON, Feb 10 (Reuters) -").
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'’ -]{2,}(?:, [A-Z][A-Za-z.' ]+)?,? (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
    r"|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b",
)
# A teaser's announcement of a step by someone else ("X has dosed the first patient",
# "has begun enrolling", "is now enrolling"), which an abstract never says of its own work.
_ANNOUNCED = re.compile(
    r"(?<!\bwe )\b(?:has|have) (?:now )?(?:dosed|treated|enrolled|infused) (?:the|its) first\b"
    r"|(?<!\bwe )\b(?:has|have) (?:now )?(?:begun|started|opened|launched|initiated|completed)"
    r" (?:enrolling|enrol?ment|recruiting|recruitment|dosing)\b"
    r"|\b(?:is|are) now (?:enrolling|recruiting|open)\b"
    r"|(?<!\bwe )\b(?:has|have) (?:now )?(?:entered|moved into|advanced (?:in)?to|progressed"
    r" (?:in)?to) (?:a )?(?:phase|pivotal|registrational|late-stage)\b"
    # a forecast of someone's readout, a step in someone's trial told as news
    r"|\b(?:results|data|readout)\b[^.;]{0,60}?\b(?:are|is) expected (?:in|by|later|next|early"
    r"|mid)\b|\b(?:topline|top-line|interim)"
    r" (?:data|results) (?:are |is )?(?:due|expected)\b|\bdue in (?:early |mid-|late )?\d{4}\b"
    r"|\benrol?lment (?:is|has been) complete(?:d)?\b|\b(?:first|second|third|\d+(?:st|nd|rd|th))"
    r" (?:patient|participant|subject) has been dosed\b"
    r"|(?<!\bwe )\bwill (?:present|report|share) (?:new |updated |additional |\w+-month )?"
    r"(?:data|results|findings)\b",
    re.IGNORECASE,
)
# A headline's present-tense step by an organisation: "X doses first patient", "opens trial".
_HEADLINE_VERB = re.compile(
    r"\b(?:doses|opens|launches|begins|starts|initiates|enrolls|enrols|secures|raises"
    r"|announces|unveils|wins|lands|nabs|bags|inks|signs|files)\b"
    r"|\bto (?:present|start|begin|launch|file|seek|enter|report)\b|\b(?:plans|set) to\b"
    r"|\bcompletes\b|\b(?:patient|participant) dosed\b|\bgets? (?:the )?(?:nod|go-ahead"
    r"|green light)\b|\bresults expected\b"
    r"|\benters\b|\b(?:advances|moves) (?:in)?to\b|\b(?:shows?|offers?|brings?) (?:early |new )?"
    r"(?:promise|hope)\b|\bnew hope\b",
    re.IGNORECASE,
)
_REGULATOR = {
    "FDA": r"\bFDA\b|Food and Drug Administration|\bCBER\b|Center for Biologics Evaluation"
    r"|\bMedWatch\b",
    "EMA": r"\bEMA\b|European Medicines Agency|\bCHMP\b|\bPRAC\b|Committee for (?:Medicinal"
    r"|Advanced Therapies)|European public assessment report|\bEPAR\b",
    # The CDE is the NMPA's drug centre (the FDA's is the Center for Drug Evaluation and Research).
    "NMPA": r"\bNMPA\b|National Medical Products Administration|\bCDE\b"
    r"|Cent(?:er|re) for Drug Evaluation(?! and Research)",
    "PEI": r"Paul-Ehrlich|\bPEI\b",
    # The MHRA's bulletin and reporting scheme name it without its name.
    "MHRA": r"\bMHRA\b|Medicines and Healthcare products Regulatory Agency|Drug Safety Update"
    r"|Yellow Card scheme",
    "PMDA": r"\bPMDA\b|Pharmaceuticals and Medical Devices Agency",
    "Health Canada": r"\bHealth Canada\b",
    "TGA": r"\bTGA\b|Therapeutic Goods Administration",
    "Swissmedic": r"\bSwissmedic\b",
    "ANSM": r"\bANSM\b",
    "BfArM": r"\bBfArM\b",
}
# What a regulator does to one product: a decision, a status, a notice of either.
DECISION = re.compile(
    r"\b(?:grant\w*|clear\w*|approv\w*|accept\w*|plac\w*|authori[sz]\w*|designat\w*)\b"
    r"|fast[- ]track|\bRMAT\b|orphan drug|\bPRIME\b|clinical hold|\bIND\b|breakthrough therapy"
    r"|priority review|positive opinion|public notice",
    re.IGNORECASE,
)
# A regulator's own database entry or notice, laid out in fields like a registry record
# ("Orphan Designation: …", "Date Designated:", "Applicant:", "Acceptance No.:").
_REGULATOR_FIELD = re.compile(
    r"^\s*(?:[\w ]*designat\w*(?: status)?|applicant|acceptance (?:no\.?|number)"
    r"|(?:proposed |approved |therapeutic )?indication|[\w ]*approval status|generic name"
    r"|trade name|marketing authori[sz]ation holder|publicity period|procedure (?:no\.?|number)"
    r"|decision date)\s*:",
    re.IGNORECASE | re.MULTILINE,
)


# A regulator's safety action on a whole class of products (a boxed warning, a label
# change, REMS): news about the rules every treated patient lives under, not a study.
SAFETY_ACTION = re.compile(
    r"\blabel\w*|boxed warning|\bREMS\b|safety communication|\bwarnings?\b|\binvestigat(?:es|ing)\b"
    # a regulator's advisory or bulletin: "Safety advisory: …", "Drug Safety Update", "the
    # product information … is being updated"
    r"|\bsafety (?:advisory|notice|information)\b|\bdrug safety update\b"
    r"|\bproduct information\b[^.]{0,80}?\b(?:updated|updating|changed|revised)\b"
    # a letter to prescribers (DHPC), a signal or review of a class-wide risk
    r"|health ?care professional communication|\bDHPC\b|Rote-Hand-Brief"
    r"|\bdear (?:health ?care )?(?:provider|professional|doctor)"
    r"|\bsafety (?:signal|review|alert|update)\b|\b(?:starts?|started"
    r"|opens?|opened|launch\w*|conclud\w*|complet\w*) (?:a )?(?:safety )?review\b",
    re.IGNORECASE,
)


# A regulator's own voice, whatever its subject: it informs prescribers, its committee
# recommends, its risk management plan lists risks, it asks for suspected cases.
_REGULATOR_VOICE = re.compile(
    r"\binforms? (?:all )?(?:health ?care professionals|prescribers|physicians|doctors)\b"
    r"|\bthe committee (?:recommended|adopted|concluded|agreed|endorsed)\b"
    r"|\bimportant (?:identified|potential) risks\b|\brisk management plan\b"
    r"|\bsuspected (?:cases|adverse (?:reactions|events))[^.]{0,40}? should be reported\b",
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
    if _PREPRINT.search(f"{title} {text}"):  # "(medRxiv)" in a title
        return "preprint"
    if len(_REGULATOR_FIELD.findall(text)) >= 2 and regulator_named(title, text):
        return "regulator"
    if len(_REGISTRY_FIELD.findall(text)) >= 2:
        return "trial registry"
    if is_press_release(f"{title} {text}"):
        return "press release"  # before "you" or "foundation" read it as a patient group's
    lead = next(iter(split_sentences(text)), "")  # a text of only spaces has no sentence
    acts = DECISION.search(title) or SAFETY_ACTION.search(title)
    # "The FDA approved X, the company said": a reporter's account of the decision.
    if acts and regulator_named(title, lead) and not (NEWS.search(title) or _SAID.search(lead)):
        return "regulator"
    voice = _REGULATOR_VOICE.search(f"{title} {text}")
    if voice and regulator_named(title, text) and not (NEWS.search(title) or _SAID.search(text)):
        return "regulator"
    if _DATELINE.search(text):
        return "press release"  # its quotes ("we treated …", "I feel") do not make it other
    if PERSONAL.search(title) or PERSONAL.search(text) or _ORGANISATION.search(f"{title} {text}"):
        return "patient organisation"
    # An explainer, a page of questions; a review may ask "What is …?" too, in its own voice.
    scholarly = DOING.search(text) or re.search(r"\bthis (?:review|article|paper)\b", text, re.I)
    if (_EXPLAINER.search(title) or text.count("?") >= 2) and not scholarly:
        return "patient organisation"
    told = (
        NEWS.search(text) or _RETOLD.search(text) or _ANNOUNCED.search(text) or _SAID.search(lead)
    )
    if (told or _HEADLINE_VERB.search(title)) and not DOING.search(text):
        return "news site"
    return "peer-reviewed journal"
