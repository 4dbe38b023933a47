"""Story card, optional LLM backend: the same sections, rewritten from the same facts.

An OpenAI-compatible chat API (a local Ollama or llama.cpp server, say) is given the
facts carnews extracted and the template card written from them, never the source
itself, and answers with the card's sections as one JSON object. Its card is then held
to exactly the checks the template card is held to (:func:`carnews.explain.checks.
check_card`: numbers the source printed, a side-effects section when the source reports
harm, the reading grade, no hype or "cure", no statistics, a short headline) and to one
more that only a model can break: when the facts name a harm, the card says so.

Any failure, from a refused connection or a timeout to one untraced number, keeps the
checked template card (or the safe fallback card, if the template failed its own
checks) and says why in ``Story.warnings``; ``Card.backend`` says who wrote the card
shown. So this backend can make a card plainer, never wrong, and never stop a run.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import httpx

from carnews.curate.lexicon import Lexicon
from carnews.explain.card import Card, write_card
from carnews.explain.checks import HYPE, Story, check_card, explain_story
from carnews.explain.facts import Facts
from carnews.explain.llm import LlmConfig, Rejected, chat
from carnews.explain.plain import TERMS, numbers_in
from carnews.text.readability import fk_grade

__all__ = ["SECTIONS", "card_from_answer", "explain_story_with_llm", "rewrite_card"]

SECTIONS = ("headline", "what_was_tested", "who_took_part", "what_happened", "side_effects",
            "unknowns", "what_it_means")  # fmt: skip
MAX_WORDS = 60  # per section: a card section is one or two short sentences
MAX_UNKNOWNS = 4
TARGET_GRADE = 8  # what the model is asked for; the check allows checks.MAX_GRADE

SYSTEM_PROMPT = (
    "You write a short story card about medical research news for patients who live with "
    "autoimmune disease. You are given facts extracted from one report and a draft card "
    "written from them. Rewrite each section in plain words that a 12-year-old could read "
    f"(reading grade {TARGET_GRADE} or lower): short sentences, everyday words, and a "
    "technical word only with a few plain words in brackets after it the first time. "
    "Use only the facts given; add nothing from elsewhere, and leave a fact out rather than "
    "guess. Use no number that is not in allowed_numbers. If the facts name any harm or side "
    "effect, side_effects must say what it was; never leave it out. Do not use these words: "
    "{banned}. No statistics: no confidence intervals, p-values, ranges or the ± sign. Give "
    "no medical advice beyond asking a specialist. Answer with one JSON object and nothing "
    "else. Its keys: headline (at most 14 words), what_was_tested, who_took_part, "
    "what_happened, side_effects (null only if the facts name no harm), unknowns (a list of "
    f"1 to {MAX_UNKNOWNS} short sentences), what_it_means. Each other value is one or two "
    "short sentences."
)


async def explain_story_with_llm(
    client: httpx.AsyncClient,
    config: LlmConfig,
    title: str,
    text: str,
    *,
    lexicon: Lexicon,
    source_kind: str | None = None,
    publication_types: Sequence[str] = (),
    phases: Sequence[str] = (),
    link: str = "",
) -> Story:
    """:func:`~carnews.explain.checks.explain_story`, with the card rewritten by the LLM
    when its card passes every check. Never raises for the LLM's sake."""
    story = explain_story(title, text, lexicon=lexicon, source_kind=source_kind, link=link,
                          publication_types=publication_types, phases=phases)  # fmt: skip
    return await rewrite_card(client, config, story, title=title, text=text)


async def rewrite_card(
    client: httpx.AsyncClient, config: LlmConfig, story: Story, *, title: str, text: str
) -> Story:
    """The LLM's card for ``story`` if it passes the checks; else ``story`` with a warning."""
    # A safe card is no draft to improve on: the model sees the template's own attempt.
    draft = write_card(story.facts, text) if story.card.fallback else story.card
    try:
        answer = await chat(client, config, messages(story.facts, draft, title, text),
                            response_format={"type": "json_object"})  # fmt: skip
        card = card_from_answer(answer, draft)
    except Rejected as exc:
        return replace(story, warnings=(*story.warnings, str(exc)))
    except Exception as exc:  # a surprise in an optional backend must never stop a run
        warning = f"LLM request failed: unexpected {type(exc).__name__}: {exc}"
        return replace(story, warnings=(*story.warnings, warning))
    checks = {**check_card(card, title, text), "harms_kept": _harms_kept(card, story.facts)}
    if all(checks.values()):
        return Story(story.facts, card, checks, fk_grade(card.summary), needs_editor=False,
                     llm_checks=checks, warnings=story.warnings)  # fmt: skip
    failed = ", ".join(name for name, passed in checks.items() if not passed)
    warning = f"LLM card rejected: it failed {failed}; the {story.card.backend} card is shown"
    return replace(story, llm_checks=checks, warnings=(*story.warnings, warning))


def _harms_kept(card: Card, facts: Facts) -> bool:
    """The template says something about every harm the facts name; so must the model."""
    return not facts.harms or bool(card.side_effects and card.side_effects.strip())


# --------------------------------------------------------------------------- the request


def messages(facts: Facts, draft: Card, title: str, text: str) -> list[dict[str, str]]:
    """The chat: rules in the system message, facts, numbers and draft in the user's."""
    given = _facts_for_model(facts)
    # Numbers the facts and the draft use, which the source printed: the check accepts
    # any number of the source, but the model is steered to the ones that matter.
    allowed = numbers_in(json.dumps(given) + " " + " ".join(draft.sections().values()),
                         words=True) & numbers_in(f"{title} {text}", words=True)  # fmt: skip
    sections: dict[str, Any] = {**draft.sections(), "side_effects": draft.side_effects,
                                "unknowns": list(draft.unknowns)}  # fmt: skip
    user = {"facts": given, "allowed_numbers": sorted(allowed, key=int), "draft": sections}
    system = SYSTEM_PROMPT.replace("{banned}", ", ".join(HYPE))
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(user, ensure_ascii=False, indent=1)},
    ]


def _facts_for_model(facts: Facts) -> dict[str, Any]:
    """The facts without the source's sentences: the model rewrites facts, not the source."""
    given = dataclasses.asdict(facts)
    del given["trace"]
    for name in ("outcomes", "harms"):
        for item in given[name]:
            item.pop("sentence", None)
    return {key: value for key, value in given.items() if value not in (None, [], {}, ())}


# --------------------------------------------------------------------------- the answer

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


def card_from_answer(answer: str, draft: Card) -> Card:
    """The card the model's JSON answer describes, or raise :class:`Rejected` saying why.

    Study type, quote and its introduction stay the template's: the quote is the
    source's own sentence, which the model never sees.
    """
    try:
        data = json.loads(_FENCE.sub("", answer))
    except ValueError as exc:
        raise Rejected("LLM card rejected: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise Rejected("LLM card rejected: the answer is not a JSON object")
    if missing := [key for key in SECTIONS if key not in data]:
        raise Rejected(f"LLM card rejected: no {', '.join(missing)}")
    text = {key: _section(data, key) for key in SECTIONS if key != "unknowns"}
    effects = text.pop("side_effects") or None
    return Card(
        headline=text["headline"],
        study_type=draft.study_type,
        what_was_tested=text["what_was_tested"],
        who_took_part=text["who_took_part"],
        what_happened=text["what_happened"],
        side_effects=effects,
        unknowns=_unknowns(data["unknowns"]),
        what_it_means=text["what_it_means"],
        quote=draft.quote,
        quote_intro=draft.quote_intro,
        terms_explained=_explained(" ".join([*text.values(), effects or ""])),
        backend="llm",
    )


def _section(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if value is None and key == "side_effects":
        return ""
    if not isinstance(value, str):
        raise Rejected(f"LLM card rejected: {key} is not text")
    value = " ".join(value.split())
    if not value and key != "side_effects":
        raise Rejected(f"LLM card rejected: {key} is empty")
    if len(value.split()) > MAX_WORDS:
        raise Rejected(f"LLM card rejected: {key} has more than {MAX_WORDS} words")
    return value


def _unknowns(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise Rejected("LLM card rejected: unknowns is not a list of text")
    found = tuple(" ".join(item.split()) for item in items if item.strip())
    if not 1 <= len(found) <= MAX_UNKNOWNS:
        raise Rejected(f"LLM card rejected: {len(found)} unknowns, expected 1 to {MAX_UNKNOWNS}")
    if any(len(item.split()) > MAX_WORDS for item in found):
        raise Rejected(f"LLM card rejected: an unknown has more than {MAX_WORDS} words")
    return found


def _explained(shown: str) -> tuple[str, ...]:
    """The card's terms the model explained in brackets, "CRS (a fever-like …)"."""
    return tuple(term for term in TERMS if re.search(rf"(?<!\w){re.escape(term)} \(", shown))
