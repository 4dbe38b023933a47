"""The LLM explain backend against a fake OpenAI-compatible server on loopback.

The server is a real HTTP server in a thread; each test tells it what to answer and
then reads back what carnews sent. Every bad answer must leave the patient with the
extractive summary and the editor with a warning that says why.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from carnews.explain.extractive import Explanation, explain, load_glossary, what_it_means
from carnews.explain.llm import LlmConfig, explain_with_llm
from carnews.settings import ExplainSettings, Secret
from carnews.text.readability import fk_grade

TITLE = "CD19 CAR T cells put lupus into remission in five patients"
TEXT = (
    "Researchers in Erlangen treated 5 patients with severe systemic lupus erythematosus "
    "using CD19 CAR T cells. All 5 patients were in drug-free remission after 3 months. "
    "The median SLEDAI score fell from 16 to 0. Side effects were mild, and no patient "
    "had severe cytokine release syndrome. Remission lasted for a median of 8 months of "
    "follow-up, even after B cells came back."
)
EVIDENCE = "case series"
GOOD = (
    "Doctors treated 5 people who had severe lupus with a new kind of cell treatment. "
    "After 3 months, all 5 were well without taking their usual medicines. "
    "The side effects were mild. "
    "They stayed well for about 8 months, and the doctors are still watching them."
)
GLOSSARY = load_glossary()


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


def chat(content: str) -> Answer:
    """An OpenAI-style chat completion whose message is ``content``."""
    message = {"role": "assistant", "content": content}
    body = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
    return Answer(body=json.dumps(body).encode())


@dataclass
class FakeLlm:
    """What the fake API answers next, and every request it received."""

    base_url: str = ""
    answer: Answer = field(default_factory=Answer)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLlm

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.fake.requests.append((self.path, dict(self.headers.items()), json.loads(raw)))
        answer = self.fake.answer
        # Waiting on the event, not sleeping, lets the fixture end a "hang" at once.
        if answer.delay and self.fake.stopping.wait(answer.delay):
            return
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first, which is what a timeout test wants

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on the recorded requests, not on the log."""


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    handler = type("Handler", (_Handler,), {"fake": fake})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield fake
    finally:
        fake.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not catch loopback requests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def config(url: str, *, key: str = "", timeout: float = 5.0) -> LlmConfig:
    return LlmConfig(url=url, model="tiny-test-model", api_key=key, timeout=timeout)


async def run(client: httpx.AsyncClient, cfg: LlmConfig) -> Explanation:
    return await explain_with_llm(
        client, cfg, title=TITLE, text=TEXT, evidence=EVIDENCE, patients=5, glossary=GLOSSARY
    )


def extractive_with(warning: str) -> Explanation:
    plain = explain(TITLE, TEXT, evidence=EVIDENCE, patients=5, glossary=GLOSSARY)
    return replace(plain, warnings=(warning,))


async def test_a_good_answer_becomes_the_summary(llm: FakeLlm, client: httpx.AsyncClient) -> None:
    llm.answer = chat(f"  {GOOD}\n")

    result = await run(client, config(llm.base_url, key="sk-test"))

    assert result.backend == "llm"
    assert result.warnings == ()
    assert result.summary == GOOD
    assert result.fk_grade == fk_grade(GOOD)
    assert 0 < result.fk_grade < 8  # the point of the backend: easier than the source
    # The framing comes from the evidence level, never from the model.
    assert result.what_it_means == what_it_means(EVIDENCE, 5)
    # Jargon is looked up in what the patient reads: the title and the LLM's words.
    shown = f"{TITLE}\n{GOOD}"
    used = {t.term for t in GLOSSARY if any(p.search(shown) for p in t.patterns)}
    assert used and {t.term for t in result.terms} == used
    assert result.unexplained_terms == ()


async def test_the_request_is_an_openai_chat_completion(
    llm: FakeLlm, client: httpx.AsyncClient
) -> None:
    llm.answer = chat(GOOD)

    await run(client, config(llm.base_url + "/", key="sk-test"))

    [(path, headers, body)] = llm.requests
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "tiny-test-model"
    assert body["temperature"] == 0.2
    system, user = body["messages"]
    assert system["role"] == "system" and "12-year-old" in system["content"]
    assert "number" in system["content"] and "advice" in system["content"]
    assert user["role"] == "user"
    assert TITLE in user["content"] and TEXT in user["content"] and EVIDENCE in user["content"]


async def test_no_key_sends_no_authorization(llm: FakeLlm, client: httpx.AsyncClient) -> None:
    llm.answer = chat(GOOD)

    result = await run(client, config(llm.base_url))

    assert result.backend == "llm"
    [(_, headers, _)] = llm.requests
    assert "Authorization" not in headers


SEVEN = " ".join(["The doctors treated people with lupus using their own cells."] * 7)


@pytest.mark.parametrize(
    ("answer", "warning"),
    [
        (
            chat(f"{GOOD} Of them, 42% were cured."),
            "LLM summary rejected: number '42%' is not in the source",
        ),
        (Answer(body=b"<html>Bad gateway</html>"), "LLM answer rejected: not JSON"),
        (Answer(status=500, body=b'{"error": "boom"}'), "LLM request failed: HTTP 500 from "),
        (
            Answer(body=b'{"error": {"message": "model not loaded"}}'),
            "LLM answer rejected: no choices[0].message.content in ",
        ),
        (chat("   "), "LLM summary rejected: it is empty"),
        (chat(SEVEN), "LLM summary rejected: 7 sentences, expected 1 to 6"),
    ],
    ids=["invented-number", "not-json", "http-500", "wrong-shape", "empty", "seven-sentences"],
)
async def test_a_bad_answer_falls_back_to_the_extractive_summary(
    llm: FakeLlm, client: httpx.AsyncClient, answer: Answer, warning: str
) -> None:
    llm.answer = answer

    result = await run(client, config(llm.base_url))

    assert len(llm.requests) == 1
    assert result.backend == "extractive"
    [got] = result.warnings
    assert got.startswith(warning)
    assert result == extractive_with(got)


async def test_a_hanging_server_falls_back_within_the_timeout(
    llm: FakeLlm, client: httpx.AsyncClient
) -> None:
    llm.answer = Answer(body=b"{}", delay=10)

    # A hang bound, not a timing: the server would answer after 10 s, so finishing within
    # 8 s proves the client gave up on its own (its reason says when).
    async with asyncio.timeout(8):
        result = await run(client, config(llm.base_url, timeout=0.5))

    assert result == extractive_with("LLM request failed: no answer within 0.5 s")


async def test_a_dead_port_falls_back_within_the_timeout(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"

    # A hang bound, not a timing: a refused connection must not wait out the 30 s timeout.
    async with asyncio.timeout(10):
        result = await run(client, config(url, timeout=30))

    assert result == extractive_with(f"LLM request failed: ConnectError for {url}/chat/completions")


async def test_an_unconfigured_backend_does_not_call_out(client: httpx.AsyncClient) -> None:
    result = await run(client, config(""))

    assert result.backend == "extractive"
    assert result.warnings == (
        "LLM not used: explain.llm_url and explain.llm_model must both be set",
    )


def test_the_key_never_shows_in_a_repr() -> None:
    settings = ExplainSettings(llm_url="http://x/v1", llm_model="m", llm_api_key=Secret("sk-1"))

    cfg = LlmConfig.from_settings(settings)

    assert cfg.api_key == "sk-1"
    assert "sk-1" not in repr(cfg)
