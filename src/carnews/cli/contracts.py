"""``carnews classify`` and ``carnews explain``: JSON Lines in, JSON Lines out.

``carnews explain`` answers with a story card (``carnews.explain.checks.explain_story``):
its facts, its sections, its reading grades and the checks it passed. With
``explain.backend = "llm"`` the LLM rewrites the card (``carnews.explain.llmcard``) and
its card is shown only if it passes the same checks; ``backend`` says who wrote it.

The machine-readable contracts tools and the editor UI use. One output line per
input line, in order; a line that cannot be read gives ``{"error": …}`` in its
place, the rest go on, and the command exits 2 at the end if any line failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # imported where used: every other command starts without them
    import httpx

    from carnews.curate.stories import Knowledge
    from carnews.explain.checks import Story
    from carnews.explain.llm import LlmConfig
    from carnews.settings import Settings

# key -> (required, the JSON type it must have)
Fields = dict[str, tuple[bool, type]]
_TYPE_NAMES: dict[type, str] = {str: "text", list: "a list of text"}


def _records(lines: Iterable[str], fields: Fields) -> Iterable[dict[str, Any] | str]:
    """Each input line as a dict, or an error message."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"line {number}: not JSON ({exc.msg})"
            continue
        if not isinstance(record, dict):
            yield f"line {number}: expected a JSON object"
            continue
        if problems := _problems(record, fields):
            yield f"line {number}: " + "; ".join(problems)
            continue
        yield record


def _problems(record: dict[str, Any], fields: Fields) -> list[str]:
    missing = [key for key, (needed, _) in fields.items() if needed and key not in record]
    wrong = [
        f"{key} must be {_TYPE_NAMES[kind]}"
        for key, (_, kind) in fields.items()
        if key in record and not _is(record[key], kind)
    ]
    return [f"{key} is missing" for key in missing] + wrong


def _is(value: Any, kind: type) -> bool:
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _run(fields: Fields, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    failed = False
    for record in _records(sys.stdin, fields):
        if isinstance(record, str):
            failed = True
            out: dict[str, Any] = {"error": record}
        else:
            out = answer(record)
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failed:
        raise typer.Exit(2)


def classify_record(record: dict[str, Any], known: Knowledge) -> dict[str, Any]:
    from carnews.curate.classify import classify

    verdict = classify(record["title"], record.get("summary", ""), lexicon=known.lexicon,
                       threshold=known.threshold)  # fmt: skip
    return {
        "relevant": verdict.relevant,
        "score": round(verdict.score, 3),
        "diseases": list(verdict.diseases),
        "therapy": verdict.therapy,
        "evidence": verdict.evidence,
        "patients": verdict.patients,
        "reasons": list(verdict.reasons),
    }


def _story_options(record: dict[str, Any], known: Knowledge) -> dict[str, Any]:
    return {
        "lexicon": known.lexicon, "source_kind": record.get("source_kind") or None,
        "publication_types": record.get("publication_types", []),
        "phases": record.get("phases", []), "link": record.get("link", ""),
    }  # fmt: skip


def explain_record(record: dict[str, Any], known: Knowledge) -> dict[str, Any]:
    from carnews.explain.checks import explain_story

    story = explain_story(record["title"], record["text"], **_story_options(record, known))
    return story_json(story)


async def explain_record_with_llm(
    record: dict[str, Any], known: Knowledge, client: httpx.AsyncClient, config: LlmConfig
) -> dict[str, Any]:
    from carnews.explain.llmcard import explain_story_with_llm

    story = await explain_story_with_llm(client, config, record["title"], record["text"],
                                         **_story_options(record, known))  # fmt: skip
    return story_json(story)


def story_json(story: Story) -> dict[str, Any]:
    """The ``carnews explain`` answer for one checked story card."""
    from carnews.explain.card import unexplained_terms
    from carnews.text.readability import smog_grade

    facts, card = story.facts, story.card
    return {
        "headline": card.headline,
        "study_type": facts.study_type,
        "source_kind": facts.source_kind,
        "phase": facts.phase,
        "treated_n": facts.treated_n,
        "diseases": list(facts.diseases),
        "target": facts.target,
        "product": facts.product,
        "follow_up": facts.follow_up,
        "summary": card.summary,
        "what_was_tested": card.what_was_tested,
        "who_took_part": card.who_took_part,
        "what_happened": card.what_happened,
        "side_effects": card.side_effects,
        "unknowns": list(card.unknowns),
        "what_it_means": card.what_it_means,
        "quote": card.quote,
        "quote_intro": card.quote_intro,
        "fk_grade": round(story.grade, 2),
        "smog_grade": round(smog_grade(card.summary), 2),
        "terms_explained": list(card.terms_explained),
        "unexplained_terms": list(unexplained_terms(card)),
        "checks": story.checks,
        "needs_editor": story.needs_editor,
        "backend": card.backend,
        "llm_checks": story.llm_checks,
        "warnings": list(story.warnings),
        "trace": facts.trace,
    }


def _knowledge(settings: Settings) -> Knowledge:
    from carnews.jobs import knowledge_for

    return knowledge_for(settings)


def register(root: typer.Typer, settings_of: Callable[[typer.Context], Settings]) -> None:
    @root.command("classify")
    def classify_command(ctx: typer.Context) -> None:
        """Judge items read as JSON Lines {"title", "summary"?} on stdin; one JSON line each.

        Example: echo '{"title": "CD19 CAR-T in lupus"}' | carnews classify
        """
        known = _knowledge(settings_of(ctx))
        _run({"title": (True, str), "summary": (False, str)},
             lambda record: classify_record(record, known))  # fmt: skip

    @root.command("explain")
    def explain_command(ctx: typer.Context) -> None:
        """Story cards for JSON Lines {"title", "text", "source_kind"?, "publication_types"?}.

        One JSON line per input: headline, study type, facts, the card's sections, reading
        grades and which checks passed (a card that fails one is a minimal card flagged
        needs_editor). With explain.backend = "llm" the LLM rewrites the card, which is
        shown only if it passes the same checks (backend: llm, template or fallback).
        Example: carnews explain < abstracts.jsonl
        """
        settings = settings_of(ctx)
        known = _knowledge(settings)
        fields: Fields = {"title": (True, str), "text": (True, str), "source_kind": (False, str),
                          "publication_types": (False, list), "phases": (False, list),
                          "link": (False, str)}  # fmt: skip
        if settings.explain.backend != "llm":
            _run(fields, lambda record: explain_record(record, known))
            return
        import httpx

        from carnews.explain.llm import LlmConfig

        config = LlmConfig.from_settings(settings.explain)
        # One event loop and one connection pool for the whole stream, line after line.
        with asyncio.Runner() as runner:
            client = httpx.AsyncClient()
            try:
                _run(fields, lambda record: runner.run(
                    explain_record_with_llm(record, known, client, config)))  # fmt: skip
            finally:
                runner.run(client.aclose())
