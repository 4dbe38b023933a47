"""The card's framing sections: headline, what was tested, who took part, what we don't
know yet, what it means for you. Templates only: each is filled from the facts, and a
section never copies the source (the quote is the one place the source speaks)."""

from __future__ import annotations

import re

from carnews.explain.facts import Facts, is_safety_action
from carnews.explain.plain import Explainer, people

__all__ = [
    "headline", "quote_intro", "unknowns", "what_it_means", "what_was_tested", "who_took_part",
]  # fmt: skip

_CLINICAL = ("case report", "case series", "phase 1", "phase 1/2", "phase 2", "phase 3",
             "conference abstract")  # fmt: skip
_PRODUCT = {
    "autologous CAR-T": ("CAR-T cell therapy", "CAR-T", "CAR-T"),
    "CAR-T": ("CAR-T cell therapy", "CAR-T", "CAR-T"),
    "allogeneic CAR-T": ("donor CAR-T cells", "donor CAR-T", "Donor CAR-T"),
    "CAR-NK": ("CAR-NK cells", "CAR-NK", "CAR-NK"),
    "CAAR-T": ("CAAR-T cells", "CAAR-T", "CAAR-T"),
    "CAR-Treg": ("CAR-Treg cells", "CAR-Treg", "CAR-Treg"),
    "mRNA CAR-T": ("mRNA CAR-T cells", "mRNA CAR-T", "mRNA CAR-T"),
    "in vivo CAR-T": ("in vivo CAR-T", "in vivo CAR-T", "In-body CAR-T"),
    "T-cell engager": ("a T-cell engager", "T-cell engager", "T-cell engager"),
}
_HEADLINE_TYPE = {
    "case report": "a single case", "case series": "a small study", "phase 1": "an early trial",
    "phase 1/2": "an early trial", "phase 2": "a mid-stage trial", "phase 3": "a large trial",
    "conference abstract": "a meeting report",
}  # fmt: skip
_REGULATOR = {"FDA": "US regulator", "EMA": "European regulator", "NMPA": "Chinese regulator",
              "PEI": "German regulator", "MHRA": "UK regulator", "TGA": "Australian regulator",
              "PMDA": "Japanese regulator", "Health Canada": "Canadian regulator",
              "Swissmedic": "Swiss regulator", "ANSM": "French regulator",
              "BfArM": "German regulator"}  # fmt: skip


def _product(facts: Facts, explain: Explainer) -> str:
    if facts.product not in _PRODUCT:
        return "a cell therapy"
    words, key, _ = _PRODUCT[facts.product or ""]
    return explain.term(words, key)


def _target(facts: Facts, explain: Explainer) -> str:
    if not facts.target:
        return ""
    words = facts.target.replace("+", " and ")
    return " aimed at " + explain.term(words, facts.target)


def _disease(facts: Facts, explain: Explainer, short: bool = False, join: str = " or ") -> str:
    if not facts.diseases:
        return "autoimmune disease"
    if short:
        first = facts.diseases[0].replace("systemic sclerosis", "scleroderma")
        return first if len(facts.diseases) == 1 else f"{first} and other diseases"
    names = [explain.disease(d, facts.definitions) for d in facts.diseases[:2]]
    if len(facts.diseases) > 2:  # naming two of five as if they were all would mislead
        return f"{', '.join(names)} and other diseases"
    return join.join(names)


def _diseases_told(facts: Facts, explain: Explainer, one: str, first: str, also: str,
                   join: str = " or ") -> str:  # fmt: skip
    """The diseases in the sentence ``one``; or, when two of them need explaining in
    brackets, one sentence each (``first``, then ``also``): a sentence carrying two
    explanations reads above the card's grade ("a person with autoimmune haemolytic
    anaemia (the immune system destroys red blood cells) or immune thrombocytopenia (low
    platelets, so bleeding is easier) shares …")."""
    explained = [explain.explains_disease(d, facts.definitions) for d in facts.diseases[:2]]
    if sum(explained) < 2:
        return one.format(_disease(facts, explain, join=join))
    names = [explain.disease(d, facts.definitions) for d in facts.diseases[:2]]
    more = " and other diseases" if len(facts.diseases) > 2 else ""
    return f"{first.format(names[0])} {also.format(names[1] + more)}"


# --------------------------------------------------------------------------- headline


def headline(facts: Facts) -> str:
    """At most 14 plain words: what, for whom, and what kind of evidence."""
    product = _PRODUCT.get(facts.product or "", ("", "Cell therapy", "Cell therapy"))[2]
    disease = _disease(facts, Explainer(), short=True)
    study = facts.study_type
    if study in _CLINICAL:
        who = f"{people(facts.treated_n)} in " if facts.treated_n and facts.treated_n > 1 else ""
        line = f"{product} for {disease}: {who}{_HEADLINE_TYPE[study]}"
    elif study == "trial registration":
        line = f"New trial of {product} for {disease}"
        line += " is looking for volunteers" if facts.recruiting == "recruiting" else ""
    elif study == "regulatory" and is_safety_action(facts):
        line = f"{_REGULATOR.get(facts.regulator or '', 'Regulator')} safety warning about" \
               f" {product} treatments"  # fmt: skip
    elif study == "regulatory" and facts.for_cancer:
        line = f"{_REGULATOR.get(facts.regulator or '', 'Regulator')} decision on {product}" \
               f" for a cancer, not for {disease}"  # fmt: skip
    elif study == "regulatory":
        line = f"{_REGULATOR.get(facts.regulator or '', 'Regulator')} decision on {product}" \
               f" for {disease}"  # fmt: skip
    elif study == "lab study":
        line = f"Lab study of {product} for {disease}"
    elif study == "review":
        line = f"Review: what is known about {product} for {disease}"
    elif study == "patient story":
        line = f"A patient's story of {product} for {disease}"
    else:
        line = f"News about {product} for {disease}"
    words = line.split()
    return " ".join(words[:14])


# --------------------------------------------------------------------------- tested, who


def what_was_tested(facts: Facts, explain: Explainer) -> str:
    product = _product(facts, explain)
    study = facts.study_type
    if study == "review":
        first = f"The review looks at {product}."
    elif study == "lab study":
        first = f"Researchers tested {product} in the lab."
    elif study == "trial registration":
        first = f"The trial will test {product}."
    elif study in ("regulatory", "news", "patient story"):
        first = f"The report is about {product}."
    else:
        first = f"The study tested {product}."
    if facts.target:
        aimed = "It is" if facts.product == "T-cell engager" else "The cells were"
        if study == "trial registration":
            aimed = "It is" if facts.product == "T-cell engager" else "The cells are"
        words = facts.target.replace("+", " and ")
        return f"{first} {aimed} aimed at {explain.term(words, facts.target)}."
    return first


_REFRACTORY = re.compile(r"refractory|not (?:responded|improved)|despite|failed|resistant"
                         r"|hard-to-treat|difficult-to-treat", re.IGNORECASE)  # fmt: skip


def who_took_part(facts: Facts, explain: Explainer, text: str) -> str:
    hard = bool(_REFRACTORY.search(text))
    study = facts.study_type
    phase = facts.phase if study in ("trial registration", *_CLINICAL) else None
    in_phase = f" in this {explain.term(f'{phase} study', phase)}" if phase else ""
    if study == "trial registration":
        return " ".join([_enrols(facts, explain, in_phase), _recruiting(facts.recruiting)]).strip()
    if study == "review":
        return _diseases_told(
            facts,
            explain,
            "It brings together earlier studies in {}. It treated nobody itself.",
            "It brings together earlier studies. It treated nobody itself. It covers {}.",
            "It also covers {}.",
        )
    if study == "patient story":  # one person's diseases: "lupus and myositis"
        return _diseases_told(facts, explain, "A person with {} shares their own story.",
                              "A person shares their own story. They have {}.",
                              "They also have {}.", join=" and ")  # fmt: skip
    disease = _disease(facts, explain)
    if study == "regulatory" and is_safety_action(facts):
        return "It is a safety rule for everyone treated with these cells, not a new study."
    if study == "regulatory" and facts.for_cancer:
        return f"It is a decision about its use in a cancer, not in {disease}. It is not a new" \
               " study."  # fmt: skip
    if study == "regulatory" and len(facts.diseases) > 1:  # two short sentences read easier
        return f"It is a decision, not a new study. It concerns {disease}."
    if study == "regulatory":
        return f"It is a decision about its use in {disease}, not a new study."
    if study == "lab study":
        if facts.treated_n:
            return f"The researchers studied samples from {people(facts.treated_n)} with" \
                   f" {disease} who had the treatment."  # fmt: skip
        if facts.samples_of_treated:
            return f"The researchers studied samples from people with {disease} who had the" \
                   " treatment."  # fmt: skip
        return f"Nobody was treated: the work was done in the lab, for {disease}."
    if facts.treated_n == 1:
        first = f"A single person with {disease} was treated{in_phase}."
    elif facts.treated_n and len(facts.diseases) > 1:
        first = f"{people(facts.treated_n)} were treated{in_phase}. They had {disease}."
    elif facts.treated_n:
        first = f"{people(facts.treated_n)} with {disease} were treated{in_phase}."
    else:
        first = f"It is about people with {disease}{in_phase}."
    return " ".join([first, _before(facts, explain, hard)]).strip()


def _before(facts: Facts, explain: Explainer, hard: bool) -> str:
    """Other treatments had failed, and chemotherapy came first: one short sentence."""
    them = "them" if facts.treated_n != 1 else "this person"
    chemo = facts.chemo_first if facts.study_type != "news" else None
    if chemo is not None and "lymphodepletion" not in explain.explained:
        explain.explained.append("lymphodepletion")
    if hard and chemo:
        return f"Other treatments had not helped {them}. They first had chemotherapy to make" \
               " room for the new cells."  # fmt: skip
    if hard:
        return f"Other treatments had not helped {them}."
    if chemo:
        return "They first had chemotherapy to make room for the new cells."
    return "They did not need chemotherapy first." if chemo is False else ""


def _enrols(facts: Facts, explain: Explainer, in_phase: str) -> str:
    if not facts.planned_n:
        return _diseases_told(facts, explain, f"It is for people with {{}}{in_phase}.",
                              f"It is for people with {{}}{in_phase}.",
                              "It is also for people with {}.")  # fmt: skip
    enrol = f"It plans to enrol {people(facts.planned_n)}"
    return _diseases_told(facts, explain, f"{enrol} with {{}}{in_phase}.",
                          f"{enrol}{in_phase}. It is for people with {{}}.",
                          "It is also for people with {}.")  # fmt: skip


def _recruiting(status: str | None) -> str:
    return {
        "recruiting": "It is looking for volunteers now.",
        "not yet recruiting": "It has not started looking for volunteers yet.",
        "closed": "It is not taking new volunteers.",
    }.get(status or "", "")


# --------------------------------------------------------------------------- unknowns


def unknowns(facts: Facts, text: str) -> list[str]:
    """What we don't know yet; never empty."""
    study, found = facts.study_type, []
    if facts.source_kind == "preprint":
        found.append("It has not yet been checked by other scientists (peer review).")
    if facts.source_kind == "press release":
        found.append("This is the company's own account.")
    found += {
        "trial registration": ["There are no results yet."],
        "lab study": [
            "It has not been tested in people yet."
            if not (facts.treated_n or facts.samples_of_treated)
            else "Lab findings do not show how well the treatment works."
        ],
        "regulatory": [
            "A warning like this does not say how often the problem happens in autoimmune disease."
            if is_safety_action(facts)
            else "A decision about a cancer does not show whether it helps autoimmune disease."
            if facts.for_cancer
            else "A decision like this does not show how well the treatment works."
        ],
        "review": ["A review adds no new results."],
        "news": ["This is a news report, not the study itself."],
        "patient story": ["A single person's experience cannot show how it works for others."],
        "case report": ["A single case cannot show how it works for others."],
    }.get(study, [])
    if study in _CLINICAL:
        found += _clinical_unknowns(facts, text)
    if study != "trial registration":
        found += [_LIMITS[key] for key in facts.limitations if _LIMITS[key] not in found]
    return found[:4] or ["It is too early to know how well the treatment works."]


_LIMITS = {
    "larger": "The researchers say larger studies are needed.",
    "longer": "The researchers say people need to be followed for longer.",
    "controlled": "The researchers say studies with a comparison group are needed.",
    "preliminary": "The results are early.",
}


def _clinical_unknowns(facts: Facts, text: str) -> list[str]:
    found = []
    if facts.treated_n and 1 < facts.treated_n < 50:
        found.append(f"The study was small: {people(facts.treated_n)}.")
    elif facts.treated_n is None:
        found.append("The report does not say how many people were treated.")
    if facts.follow_up:
        found.append(f"People were followed for {facts.follow_up}; we don't know yet how long"
                     " the effects last.")  # fmt: skip
    else:
        found.append("We don't know yet how long the effects last.")
    if not re.search(r"placebo|randomi[sz]ed|control group", text, re.IGNORECASE):
        found.append("There was no comparison group.")
    return found


# --------------------------------------------------------------------------- for you

_MEANS = {
    "case report": "This is a single person's result. Ask your specialist before drawing"
    " conclusions for yourself.",
    "case series": "This is early evidence from a small group. The treatment is still"
    " experimental and mostly given in clinical trials.",
    "phase 1": "The treatment is still being tested for safety and is only available in"
    " clinical trials.",
    "phase 1/2": "The treatment is still being tested and is only available in clinical trials.",
    "phase 2": "The treatment is still being tested and is not yet approved for this use.",
    "phase 3": "A large trial like this is often the last step before approval. The treatment"
    " is not yet approved for this use.",
    "conference abstract": "This is a short report from a medical meeting. Other scientists"
    " have not fully checked it yet.",
    "lab study": "This is early lab research. It will take years to know if it helps people.",
    "review": "A review is a useful summary of what is known, but it adds no new results.",
    "regulatory": "This decision does not make the treatment available now. Ask your care team"
    " what it means for you.",
    "news": "Check the original study, or ask your specialist, before drawing conclusions.",
    "patient story": "This is a single person's experience, not a scientific study. Others may have"
    " different results.",
}
_JOIN = " If you are interested in a trial, ask your specialist which ones you might join."


_SAFETY_MEANING = (
    "If you have had CAR-T or are thinking about it, ask your care team what this warning"
    " means for you. Do not stop or change a treatment on your own."
)


def what_it_means(facts: Facts) -> str:
    study = facts.study_type
    if is_safety_action(facts):
        return _SAFETY_MEANING
    if study == "trial registration":
        return {
            "recruiting": "This trial is looking for volunteers. If you are interested, ask your"
            " specialist whether you might qualify; the trial's listing gives the study centres.",
            "not yet recruiting": "This trial has not opened yet. Ask your specialist if you want"
            " to know when it does.",
            "closed": "This trial is not taking new volunteers. Its results will come later.",
        }.get(facts.recruiting or "", "Ask your specialist whether this trial is open to you.")
    if facts.for_cancer:
        return "This decision is about a cancer. It does not make the treatment available for" \
               f" {_disease(facts, Explainer(), short=True)}. Ask your care team what it means" \
               " for you."  # fmt: skip
    line = _MEANS.get(study, _MEANS["news"])
    if study not in ("case report", "conference abstract") and (
        study in _CLINICAL or facts.recruiting == "recruiting"
    ):
        line += _JOIN
    return line


def quote_intro(source_kind: str, study_type: str) -> str:
    if study_type == "patient story":
        return "In their own words"
    return {
        "peer-reviewed journal": "In the researchers' words",
        "preprint": "In the researchers' words",
        "trial registry": "In the trial listing's words",
        "regulator": "In the announcement's words",
        "press release": "In the company's words",
    }.get(source_kind, "In the report's words")
