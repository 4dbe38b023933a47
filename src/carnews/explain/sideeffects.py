"""The card's side-effects section, written from the harms the source reports: what
happened first (the serious kinds first), then what did not, then what is named only as a
risk. Every number is one the source printed; a regulator's reports and cases are not
counted as people, and in a lab study that treated only animals the harms are theirs."""

from __future__ import annotations

import re

from carnews.explain.facts import Facts
from carnews.explain.harms import Harm
from carnews.explain.plain import Explainer, number_value, people

__all__ = ["in_animals", "side_effects"]

_HARM_WORDS = {
    "death": "died",
    "secondary cancer": "a new cancer",
    "infection": "infections",
    "low blood counts": "low blood counts",
    "low antibodies": "low antibody levels",
}
_GRADES = {"1": "mild", "2": "moderate", "3": "severe", "4": "life-threatening", "mild": "mild",
           "severe": "severe"}  # fmt: skip


def side_effects(harms: tuple[Harm, ...], treated: int | None, explain: Explainer, *,
                 animals: bool = False) -> str | None:  # fmt: skip
    """Serious harms first, then what did not happen, then what is named only as a risk.
    ``animals``: the work treated animals only, so whatever happened, happened to them."""
    if not harms:
        return None
    happened = [h for h in harms if h.status == "occurred"]
    lines = [_harm_sentence(h, treated, explain, animals) for h in happened[:3]]
    if rest := [h for h in happened[3:]]:
        lines.append("The report also mentions " + _join([_harm_name(h, explain) for h in rest])
                     + ".")  # fmt: skip
    absent = [h for h in harms if h.status == "none"]
    if any(h.kind == "death" for h in absent):
        lines.append("Nobody died.")  # not "Nobody had died or CRS"
    if absent := [h for h in absent if h.kind != "death"]:
        lines.append("Nobody had " + _join([_absent_name(h, explain) for h in absent]) + ".")
    if possible := [h for h in harms if h.status == "possible"]:
        # "Possible side effects it names include CRS or fever", not "… side effects such as".
        names = _join([name for h in possible for name in _risk_names(h, explain)])
        lines.append(f"Possible side effects it names include {names}.")
    return " ".join(lines)


def _harm_name(harm: Harm, explain: Explainer) -> str:
    if harm.kind == "crs":
        return explain.term("CRS")
    if harm.kind == "icans":
        return explain.term("ICANS")
    if harm.kind == "other":
        return f"side effects such as {harm.detail}" if harm.detail else "other side effects"
    if harm.kind == "low antibodies":
        return explain.term("low antibody levels")
    return _HARM_WORDS[harm.kind]


def _risk_names(harm: Harm, explain: Explainer) -> tuple[str, ...]:
    """Each "other" risk by its own word: "… include CRS, fever, headache or tiredness"."""
    if harm.kind == "other" and harm.detail:
        return harm.words or (harm.detail,)
    return (_harm_name(harm, explain),)


def _absent_name(harm: Harm, explain: Explainer) -> str:
    """What the source says nobody had: "severe CRS" when only severe was ruled out."""
    name = _harm_name(harm, explain)
    return f"severe {name}" if harm.grade == "severe" else name


def _harm_sentence(harm: Harm, treated: int | None, explain: Explainer, animals: bool) -> str:
    name = _harm_name(harm, explain)
    if harm.max_grade:
        level = _GRADES.get(harm.max_grade, "")
        return f"Any {name} was {level}: none was worse than grade {harm.max_grade}."
    if harm.kind == "death":
        return _deaths(harm, treated, animals or bool(_ANIMALS.search(harm.sentence)))
    grade = ""
    if harm.grade:
        level = _GRADES.get(harm.grade.split()[0], "")
        plain = harm.grade if harm.grade in ("mild", "severe") else f"grade {harm.grade}"
        grade = f", {plain}" + (f" ({level})" if level and level != plain else "")
    if harm.unit and harm.count and (value := number_value(harm.count)):
        return _reports(harm, value, name) + grade + "."
    who = _who(harm, treated, animals or bool(_ANIMALS.search(harm.sentence)))
    return f"{who} {name}{grade}."


def _deaths(harm: Harm, treated: int | None, animals: bool) -> str:
    value = number_value(harm.count) if harm.count else None
    if animals:
        return f"{value} animals died." if value and value > 1 else "Some animals died."
    if value:
        return f"{people(value)} died."
    if harm.count == "a":  # "a participant died": one person, and no number to print
        return "A person died." if treated != 1 else "The patient died."
    return "The patient died." if treated == 1 else "Deaths were reported."


def _reports(harm: Harm, value: int, name: str) -> str:
    """A regulator's count of reports or cases: "There were 22 reports of a new cancer"."""
    unit = harm.unit if value > 1 else harm.unit.rstrip("s")
    if harm.kind == "infection":
        name = "infection"  # "3 cases of infection"; "reports of a new cancer" as it is
    return f"There {'were' if value > 1 else 'was'} {value} {unit} of {name}"


def _who(harm: Harm, treated: int | None, animals: bool) -> str:
    count, of = harm.count, harm.of
    value = number_value(count) if count else None
    if animals:  # "One animal had a fever", weight loss in treated mice: not people
        return "One animal had" if value == 1 else "Some animals had"
    if count and count.endswith("%"):
        return f"{count} of people had"
    if count and count.lower() in ("all", "both", "most"):
        return {"all": "Everyone treated had", "both": "Both people had",
                "most": "Most people had"}[count.lower()]  # fmt: skip
    if value is not None and of and (total := number_value(of)):
        return f"{value} of {total} people had"
    if value is not None:
        return f"{people(value)} had"
    return "The patient had" if treated == 1 else "Some people had"


_ANIMALS = re.compile(r"\b(?:mice|mouse|rats?|animals?|monkeys?|macaques?|primates?|pigs?|dogs?"
                      r"|rabbits?)\b", re.IGNORECASE)  # fmt: skip


def in_animals(facts: Facts, text: str) -> bool:
    """A lab study that treated no person and speaks of animals: its harms are theirs."""
    nobody = not (facts.treated_n or facts.samples_of_treated)
    return facts.study_type == "lab study" and nobody and bool(_ANIMALS.search(text))


def _join(words: list[str]) -> str:
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
