"""The LLM story card against a scripted OpenAI-compatible server on loopback.

The server (tests/scripted_http.py) is a real HTTP server in a thread; each test tells it
what to answer. A card the model writes is shown only if it passes the checks the
template card passes; any other answer leaves the reader with the template card (or the
safe card) and the editor with a warning that says why.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import Story, explain_story
from carnews.explain.llm import LlmConfig
from carnews.explain.llmcard import explain_story_with_llm, rewrite_card
from tests.helpers import LONG_NAMES_TEXT, LONG_NAMES_TITLE
from tests.scripted_http import Reply, Server, scripted_server

TITLE = "Anti-CD19 CAR T cells in refractory lupus: two-year follow-up"
SERIES = (
    "BACKGROUND: Autologous CD19-directed CAR T cells induced remission in refractory systemic "
    "lupus erythematosus (SLE). METHODS: We followed eight patients treated under "
    "compassionate use after lymphodepletion with fludarabine and cyclophosphamide. RESULTS: "
    "All eight patients reached DORIS remission by month 6 and remained off glucocorticoids "
    "at a median follow-up of 26 months. Cytokine release syndrome was grade 1 in five "
    "patients; there was no ICANS. CONCLUSIONS: CD19 CAR T-cell therapy produced durable "
    "drug-free remission in refractory SLE."
)
GOOD: dict[str, Any] = {
    "headline": "Lupus eased for all 8 people after CAR-T in a small study",
    "what_was_tested": "Doctors tested CAR-T (the person's own immune cells, changed in a lab)"
    " aimed at CD19 (a marker on B cells).",
    "who_took_part": "8 people with lupus took part. Other medicines had not helped them.",
    "what_happened": "By month 6, all 8 people had no signs of lupus.",
    "side_effects": "5 people had a mild fever-like reaction called CRS. Nobody had brain or"
    " nerve side effects.",
    "unknowns": ["Only 8 people took part.", "We don't know yet how long it lasts."],
    "what_it_means": "This is early news from a small group. Ask your specialist about trials.",
}
PATH = "/v1/chat/completions"
HANG_BOUND = 30  # seconds: only to end a test that would otherwise hang


def completion(content: str) -> Reply:
    """An OpenAI-style chat completion whose message is ``content``."""
    message = {"role": "assistant", "content": content}
    body = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    return Reply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def card_answer(**changes: Any) -> Reply:
    return completion(json.dumps({**GOOD, **changes}))


@pytest.fixture(scope="module")
def template(lexicon: Lexicon) -> Story:
    return explain_story(TITLE, SERIES, lexicon=lexicon)


@pytest.fixture
def server() -> Iterator[Server]:
    with scripted_server() as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not catch loopback requests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def config(server: Server, *, timeout: float = 5.0) -> LlmConfig:
    return LlmConfig(url=server.base_url + "/v1", model="tiny", api_key="", timeout=timeout)


async def rewrite(client: httpx.AsyncClient, cfg: LlmConfig, story: Story) -> Story:
    async with asyncio.timeout(HANG_BOUND):
        return await rewrite_card(client, cfg, story, title=TITLE, text=SERIES)


async def test_a_good_answer_becomes_the_card(
    server: Server, client: httpx.AsyncClient, template: Story
) -> None:
    server.serve(PATH, card_answer())

    story = await rewrite(client, config(server), template)

    card = story.card
    assert card.backend == "llm" and not story.needs_editor and story.warnings == ()
    assert (card.headline, card.what_happened) == (GOOD["headline"], GOOD["what_happened"])
    assert card.side_effects == GOOD["side_effects"]
    assert card.unknowns == tuple(GOOD["unknowns"])
    assert all(story.llm_checks.values()) and story.checks == story.llm_checks
    # The quote is the source's own sentence, which the model never sees.
    assert card.quote == template.card.quote and card.quote_intro == template.card.quote_intro
    assert {"CAR-T", "CD19"} <= set(card.terms_explained)
    assert story.facts == template.facts


async def test_the_model_gets_the_facts_and_the_rules_not_the_source(
    server: Server, client: httpx.AsyncClient, template: Story
) -> None:
    server.serve(PATH, card_answer())

    await rewrite(client, config(server), template)

    [request] = server.received
    body = json.loads(request.body)
    assert request.path == PATH and body["model"] == "tiny"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    for rule in ("grade 8", "allowed_numbers", "breakthrough", "cure", "side_effects", "JSON"):
        assert rule in system["content"]
    given = json.loads(user["content"])
    assert given["facts"]["treated_n"] == 8 and given["facts"]["diseases"] == ["lupus"]
    assert {"5", "6", "8", "26"} <= set(given["allowed_numbers"])
    assert given["draft"]["headline"] == template.card.headline
    assert "All eight patients reached DORIS remission" not in user["content"]


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        (card_answer(what_happened="By month 6, 7 of 8 people had no signs of lupus."),
         "numbers_traced"),
        (card_answer(side_effects=None), "harms_reported, harms_kept"),
        (card_answer(headline="A breakthrough for lupus: CAR-T helped 8 people"), "no_hype"),
        (card_answer(what_it_means="This may cure lupus one day. Ask your specialist."),
         "no_hype"),
        (card_answer(what_happened="They got better by a median (range 6 to 26) of 6 months."),
         "no_statistics"),
    ],
    ids=["invented-number", "side-effects-dropped", "breakthrough", "cure", "statistics"],
)  # fmt: skip
async def test_a_card_that_fails_a_check_keeps_the_template_card(
    server: Server, client: httpx.AsyncClient, template: Story, answer: Reply, failed: str
) -> None:
    server.serve(PATH, answer)

    story = await rewrite(client, config(server), template)

    assert story.card == template.card and story.card.backend == "template"
    assert story.checks == template.checks and not story.needs_editor
    assert [name for name, ok in story.llm_checks.items() if not ok] == failed.split(", ")
    assert story.warnings == (f"LLM card rejected: it failed {failed}; the template card is shown",)


@pytest.mark.parametrize(
    ("answer", "warning"),
    [
        (completion("Sure! Here is the card: {headline: Lupus and CAR-T}"),
         "LLM card rejected: the answer is not JSON"),
        (completion("[1, 2]"), "LLM card rejected: the answer is not a JSON object"),
        (completion(json.dumps({k: v for k, v in GOOD.items() if k != "who_took_part"})),
         "LLM card rejected: no who_took_part"),
        (card_answer(what_happened="They felt better. " * 40),
         "LLM card rejected: what_happened has more than 60 words"),
        (card_answer(unknowns=[]), "LLM card rejected: 0 unknowns, expected 1 to 4"),
        (card_answer(headline=42), "LLM card rejected: headline is not text"),
        (Reply(status=500, body=b'{"error": "boom"}'), "LLM request failed: HTTP 500 from "),
        (Reply(body=b"<html>Bad gateway</html>"), "LLM answer rejected: not JSON"),
    ],
    ids=["garbage", "not-an-object", "missing-section", "over-long", "no-unknowns",
         "not-text", "http-500", "html"],
)  # fmt: skip
async def test_an_answer_that_is_not_a_card_keeps_the_template_card(
    server: Server, client: httpx.AsyncClient, template: Story, answer: Reply, warning: str
) -> None:
    server.serve(PATH, answer)

    story = await rewrite(client, config(server), template)

    assert story.card == template.card and story.llm_checks == {}
    [got] = story.warnings
    assert got.startswith(warning)


async def test_a_fenced_json_answer_is_read(
    server: Server, client: httpx.AsyncClient, template: Story
) -> None:
    server.serve(PATH, completion("```json\n" + json.dumps(GOOD) + "\n```"))

    story = await rewrite(client, config(server), template)

    assert story.card.backend == "llm"


async def test_a_server_slower_than_the_timeout_keeps_the_template_card(
    server: Server, client: httpx.AsyncClient, template: Story
) -> None:
    server.serve(PATH, Reply(body=b"{}", delay=HANG_BOUND))

    story = await rewrite(client, config(server, timeout=0.5), template)

    assert story.card == template.card
    assert story.warnings == ("LLM request failed: no answer within 0.5 s",)


async def test_an_unconfigured_backend_does_not_call_out(
    client: httpx.AsyncClient, template: Story
) -> None:
    cfg = LlmConfig(url="", model="", api_key="", timeout=5)

    story = await rewrite(client, cfg, template)

    assert story.card == template.card
    assert story.warnings == (
        "LLM not used: explain.llm_url and explain.llm_model must both be set",
    )


REGULATORY_TITLE, REGULATORY = LONG_NAMES_TITLE, LONG_NAMES_TEXT
DECISION = {
    "headline": "US regulator lets a CAR-T trial start for rare autoimmune diseases",
    "what_was_tested": "The news is about CAR-T, made from a person's own immune cells.",
    "who_took_part": "The trial is for people whose immune system attacks their blood or brain.",
    "what_happened": "The US regulator said the trial may start.",
    "side_effects": None,
    "unknowns": ["A decision like this does not show how well it works."],
    "what_it_means": "It is not available now. Ask your care team what it means for you.",
}


async def test_a_template_that_failed_its_checks_falls_back_to_the_safe_card(
    server: Server, client: httpx.AsyncClient, lexicon: Lexicon
) -> None:
    """The long disease names of this notice push the template card over the grade limit."""
    server.serve(PATH, card_answer(**{**DECISION, "headline": "A breakthrough for anaemia"}),
                 completion(json.dumps(DECISION)))  # fmt: skip
    cfg = config(server)

    async with asyncio.timeout(HANG_BOUND):
        rejected = await explain_story_with_llm(
            client, cfg, REGULATORY_TITLE, REGULATORY, lexicon=lexicon, link="https://x.org/a"
        )
        accepted = await explain_story_with_llm(client, cfg, REGULATORY_TITLE, REGULATORY,
                                                lexicon=lexicon)  # fmt: skip

    assert rejected.card.backend == "fallback" and rejected.needs_editor
    assert "https://x.org/a" in rejected.card.what_was_tested
    assert rejected.warnings == (
        "LLM card rejected: it failed no_hype; the fallback card is shown",
    )
    # A card the model wrote that passes every check is better than the safe card.
    assert accepted.card.backend == "llm" and not accepted.needs_editor
    assert accepted.card.headline == DECISION["headline"]


def explain_cli(tmp: Path, server: Server, *lines: dict[str, Any]) -> list[dict[str, Any]]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("CARNEWS_") and "proxy" not in k.lower()}  # fmt: skip
    sets = ("explain.backend=llm", f"explain.llm_url={server.base_url}/v1",
            "explain.llm_model=tiny", "explain.llm_timeout_seconds=5")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "carnews", *(a for s in sets for a in ("--set", s)), "explain"],
        cwd=tmp, env=environment, input="\n".join(json.dumps(line) for line in lines),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_carnews_explain_uses_the_llm_card_when_the_backend_is_llm(
    tmp_path: Path, server: Server
) -> None:
    server.serve(PATH, card_answer(), completion("not a card"))
    item = {"title": TITLE, "text": SERIES}

    good, garbage = explain_cli(tmp_path, server, item, item)

    assert good["backend"] == "llm" and good["headline"] == GOOD["headline"]
    assert good["summary"].startswith("Doctors tested CAR-T") and good["warnings"] == []
    assert all(good["llm_checks"].values())
    assert garbage["backend"] == "template" and garbage["llm_checks"] == {}
    assert garbage["warnings"] == ["LLM card rejected: the answer is not JSON"]
    assert garbage["headline"] == "CAR-T for lupus: 8 people in a small study"
    assert len(server.received) == 2
