"""``carnews classify`` and ``carnews explain``: JSON Lines in, JSON Lines out.

The machine-readable contracts tools and the editor UI use. One output line per
input line, in order; a line that cannot be read gives ``{"error": …}`` in its
place, the rest go on, and the command exits 2 at the end if any line failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

import typer

from carnews.curate.classify import classify
from carnews.curate.stories import Knowledge
from carnews.explain.extractive import explain as explain_text
from carnews.jobs import knowledge_for
from carnews.settings import Settings
from carnews.text.readability import smog_grade


def _records(lines: Iterable[str], required: dict[str, bool]) -> Iterable[dict[str, Any] | str]:
    """Each input line as a dict, or an error message; ``required`` maps key → required."""
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
        missing = [key for key, needed in required.items() if needed and key not in record]
        wrong = [key for key in required if key in record and not isinstance(record[key], str)]
        if missing or wrong:
            yield f"line {number}: " + "; ".join(
                [f"{key} is missing" for key in missing] + [f"{key} must be text" for key in wrong]
            )
            continue
        yield record


def _run(required: dict[str, bool], answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    failed = False
    for record in _records(sys.stdin, required):
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


def explain_record(record: dict[str, Any], known: Knowledge) -> dict[str, Any]:
    verdict = classify(record["title"], record["text"], lexicon=known.lexicon,
                       threshold=known.threshold)  # fmt: skip
    explained = explain_text(record["title"], record["text"], evidence=verdict.evidence,
                             patients=verdict.patients, glossary=known.glossary)  # fmt: skip
    return {
        "summary": explained.summary,
        "what_it_means": explained.what_it_means,
        "fk_grade": round(explained.fk_grade, 2),
        "smog_grade": round(smog_grade(explained.summary), 2),
        "terms_explained": [term.term for term in explained.terms],
        "unexplained_terms": list(explained.unexplained_terms),
    }


def register(root: typer.Typer, settings_of: Callable[[typer.Context], Settings]) -> None:
    @root.command("classify")
    def classify_command(ctx: typer.Context) -> None:
        """Judge items read as JSON Lines {"title", "summary"?} on stdin; one JSON line each.

        Example: echo '{"title": "CD19 CAR-T in lupus"}' | carnews classify
        """
        known = knowledge_for(settings_of(ctx))
        _run({"title": True, "summary": False}, lambda record: classify_record(record, known))

    @root.command("explain")
    def explain_command(ctx: typer.Context) -> None:
        """Plain-language summaries for JSON Lines {"title", "text"} on stdin.

        Example: carnews explain < abstracts.jsonl
        """
        known = knowledge_for(settings_of(ctx))
        _run({"title": True, "text": True}, lambda record: explain_record(record, known))
