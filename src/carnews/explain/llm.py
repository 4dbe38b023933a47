"""Explain stage, optional LLM backend: a rewritten summary held to the extractive promises.

An OpenAI-compatible chat API writes the summary; everything else (framing, grade,
glossary) is computed here exactly as :func:`carnews.explain.extractive.explain` does. The
model's answer is checked before a patient could read it: every number must be one
the source printed, and it must be a short run of sentences. Any failure, from a
refused connection to an invented number, falls back to the extractive summary with
a warning that says why, so this backend can make an edition better but never stop it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from carnews.explain.extractive import Explanation, GlossaryTerm, explain, explain_summary
from carnews.explain.trimming import (
    NUMBER,  # the same notion of "a number" as the extractive summary
)
from carnews.settings import ExplainSettings
from carnews.text.readability import split_sentences

__all__ = ["LlmConfig", "Rejected", "chat", "explain_with_llm"]

MAX_SENTENCES = 6

SYSTEM_PROMPT = (
    "You explain medical research news to patients who live with autoimmune disease. "
    "Write 3 to 5 short sentences that a 12-year-old could read. "
    "Use only facts that are in the text you are given; add nothing from elsewhere. "
    "Keep every number exactly as it is written in the text, and add no other numbers. "
    "Give no medical advice. No hype: do not call anything a cure or a breakthrough. "
    "Answer with the sentences only: no heading, no list, no quotation marks."
)


@dataclass(frozen=True)
class LlmConfig:
    """Where and how to ask; ``api_key`` is kept out of the repr so it never reaches a log."""

    url: str
    model: str
    api_key: str = field(repr=False)
    timeout: float

    @classmethod
    def from_settings(cls, settings: ExplainSettings) -> LlmConfig:
        return cls(
            url=settings.llm_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key.reveal(),
            timeout=settings.llm_timeout_seconds,
        )


class Rejected(Exception):
    """Why the LLM's answer is not used; the message becomes the editor's warning."""


async def explain_with_llm(
    client: httpx.AsyncClient,
    config: LlmConfig,
    *,
    title: str,
    text: str,
    evidence: str,
    patients: int | None,
    glossary: tuple[GlossaryTerm, ...],
) -> Explanation:
    """The LLM's summary of ``text`` if it passes the checks, else the extractive one.

    Never raises: every failure is reported in ``Explanation.warnings``.
    """
    try:
        summary = await _ask(client, config, title=title, text=text, evidence=evidence)
        _check(summary, source=f"{title}\n{text}")
    except Rejected as exc:
        warning = str(exc)
    except Exception as exc:  # a surprise in an optional backend must never stop a run
        warning = f"LLM request failed: unexpected {type(exc).__name__}: {exc}"
    else:
        return explain_summary(
            title, summary, evidence=evidence, patients=patients, glossary=glossary, backend="llm"
        )
    fallback = explain(title, text, evidence=evidence, patients=patients, glossary=glossary)
    return replace(fallback, warnings=(*fallback.warnings, warning))


async def _ask(
    client: httpx.AsyncClient, config: LlmConfig, *, title: str, text: str, evidence: str
) -> str:
    """The LLM's summary of ``text``, or raise :class:`Rejected`."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _user_message(title, text, evidence)},
    ]
    return await chat(client, config, messages)


async def chat(
    client: httpx.AsyncClient,
    config: LlmConfig,
    messages: list[dict[str, str]],
    **options: Any,
) -> str:
    """POST one chat completion and return the answer's text, or raise :class:`Rejected`.

    ``options`` are added to the request (``response_format`` for a JSON answer).
    """
    if not config.url or not config.model:
        raise Rejected("LLM not used: explain.llm_url and explain.llm_model must both be set")
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    payload = {"model": config.model, "temperature": 0.2, "messages": messages, **options}
    url = config.url.rstrip("/") + "/chat/completions"
    try:
        # httpx's timeout bounds each read; asyncio's bounds the whole answer,
        # so a server that drips bytes cannot hold the run past the setting.
        async with asyncio.timeout(config.timeout):
            response = await client.post(url, json=payload, headers=headers, timeout=config.timeout)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise Rejected(f"LLM request failed: no answer within {config.timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise Rejected(f"LLM request failed: {type(exc).__name__} for {url}") from exc
    if response.status_code != 200:
        raise Rejected(f"LLM request failed: HTTP {response.status_code} from {url}")
    return _content(response)


def _user_message(title: str, text: str, evidence: str) -> str:
    return f"Title: {title}\nEvidence level: {evidence}\n\nText:\n{text}"


def _content(response: httpx.Response) -> str:
    """``choices[0].message.content`` of an OpenAI-style answer, stripped."""
    try:
        data: Any = response.json()
    except ValueError as exc:  # JSONDecodeError and undecodable bytes alike
        raise Rejected("LLM answer rejected: not JSON") from exc
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        shape = json.dumps(data)[:80]
        raise Rejected(f"LLM answer rejected: no choices[0].message.content in {shape}") from exc
    if not isinstance(content, str):
        raise Rejected("LLM answer rejected: message content is not text")
    return content.strip()


def _check(summary: str, *, source: str) -> None:
    """Hold the LLM to what the extractive summary promises by construction."""
    if not summary:
        raise Rejected("LLM summary rejected: it is empty")
    # "50" may stand for the source's "50%", but "42%" may not stand for its "42".
    known = {n for m in NUMBER.findall(source) for n in (m, m.rstrip("%"))}
    for number in NUMBER.findall(summary):
        if number not in known:
            raise Rejected(f"LLM summary rejected: number {number!r} is not in the source")
    count = len(split_sentences(summary))
    if not 1 <= count <= MAX_SENTENCES:
        raise Rejected(f"LLM summary rejected: {count} sentences, expected 1 to {MAX_SENTENCES}")
