"""Curate: three rules that widen the scope beyond "a cell therapy given for the disease".

Each is stated in docs/relevance.md and applied to what the lexicon found in an entry
(``carnews.curate.matching.Found``), before it is scored:

* **Class-wide safety news about CAR-T** (a regulator's warning on secondary T-cell
  cancers, deaths, a change to the REMS) is in scope for every reader, even when the
  patients it reports on were treated for cancer: the title names a [safety] topic and
  a therapy of ``scoring.safety_therapies``, and no specific cancer or cancer product
  other than as context. Its cancer mentions score nothing and it carries no disease
  tag, so that it reaches readers of every disease.
* **A cancer patient's autoimmune disease that went into remission** after the therapy
  is in scope for readers of that disease: the title names a specific disease and a
  [remission] pattern says it went into remission. The cancer is only why the patient
  was treated, so its mentions score nothing.
* **A source's own topic** (``sources[].topic_diseases``: lupus for a lupus news site)
  stands in for the disease a title leaves unnamed: each topic disease counts as named,
  at ``scoring.disease_topic``, when the title names no specific disease.

Pure: what was found in, the widened findings and the reasons out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from carnews.curate.lexicon import Lexicon
from carnews.curate.matching import Found
from carnews.text.textmatch import Scan

__all__ = ["Scope", "widen"]


@dataclass(frozen=True)
class Scope:
    found: Found  # what the lexicon found, cancer mentions set aside where a rule says so
    safety: bool  # class-wide safety news: for every reader, tagged with no disease
    topics: tuple[str, ...]  # the source's diseases, standing in for the title's
    reasons: tuple[str, ...]


def widen(lexicon: Lexicon, found: Found, title: Scan, text: Scan,
          topic_diseases: Sequence[str] = ()) -> Scope:  # fmt: skip
    """Apply the three rules to ``found`` (from ``title`` and ``text``)."""
    reasons: list[str] = []
    safety = class_safety(lexicon, found, title)
    cancers = sum(h.title + h.text for h in (*found.cancers, *found.products))
    if safety:
        reasons.append("class-wide safety news about CAR-T in the title: for every reader"
                       + (f"; {cancers} cancer mention(s) are the patients it reports on,"
                          " no points" if cancers else ""))  # fmt: skip
    elif cancers and went_into_remission(lexicon, found, title, text):
        reasons.append(f"the autoimmune disease went into remission after a therapy given for "
                       f"cancer: {cancers} cancer mention(s) only say why the patient was "
                       "treated, no points")  # fmt: skip
    else:
        return Scope(found, False, _topics(lexicon, found, topic_diseases), ())
    cleared = replace(found, cancers=[], products=[])
    return Scope(cleared, safety, _topics(lexicon, cleared, topic_diseases), tuple(reasons))


def _specific_in_title(lexicon: Lexicon, found: Found) -> bool:
    return any(h.title and h.name not in lexicon.broad_terms for h in found.diseases)


def class_safety(lexicon: Lexicon, found: Found, title: Scan) -> bool:
    """Whether the title is safety news about one of the safety therapies as a class."""
    if not title.finditer(lexicon.index.tables["safety"]):
        return False
    therapy = any(h.title and h.name in lexicon.safety_therapies for h in found.therapies)
    # A trial's own safety in its named cancer is a cancer story; "blood cancers" is not.
    cancer = any(h.title and h.name not in lexicon.broad_terms for h in found.cancers)
    return therapy and not cancer and not any(h.title for h in found.products)


def went_into_remission(lexicon: Lexicon, found: Found, title: Scan, text: Scan) -> bool:
    """Whether the title names a specific disease and the entry says it went into remission."""
    table = lexicon.index.tables["remission"]
    return _specific_in_title(lexicon, found) and bool(
        title.finditer(table) or text.finditer(table)
    )


def _topics(lexicon: Lexicon, found: Found, topic_diseases: Sequence[str]) -> tuple[str, ...]:
    if _specific_in_title(lexicon, found):
        return ()
    return tuple(dict.fromkeys(topic_diseases))
