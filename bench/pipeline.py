"""Benchmark: the whole offline pipeline, and parsing+cleaning against plain feedparser.

Run: make bench   (or .venv/bin/python bench/pipeline.py --runs 5)

Prints, in one run on this machine:
- the demo pipeline's wall time (fetch 4 feeds over loopback HTTP, curate, explain,
  draft, approve, send 3 emails over SMTP, publish), median of --runs;
- entries/s for carnews parse_feed (feedparser + sanitizing + identity) and for plain
  feedparser.parse on the same bytes, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import feedparser

from carnews.demo.run import run_pipeline
from carnews.gather.fetch import parse_feed


def time_pipeline(runs: int) -> list[float]:
    seconds = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            started = time.perf_counter()
            asyncio.run(run_pipeline(Path(out)))
            seconds.append(time.perf_counter() - started)
    return seconds


def time_parsing(rounds: int) -> tuple[float, float, int]:
    feeds = [p.read_bytes() for p in Path(str(files("carnews.demo") / "feeds")).iterdir()]
    entries = sum(len(feedparser.parse(body).entries) for body in feeds) * rounds

    def clock(parse: object) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            for body in feeds:
                parse(body)  # type: ignore[operator]
        return time.perf_counter() - started

    plain = clock(feedparser.parse)
    ours = clock(lambda body: parse_feed(body, "http://bench.test/feed"))
    return plain, ours, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    pipeline = time_pipeline(args.runs)
    plain, ours, entries = time_parsing(args.rounds)
    print(f"demo pipeline: median {statistics.median(pipeline):.2f} s over {args.runs} runs "
          f"(min {min(pipeline):.2f}, max {max(pipeline):.2f})")  # fmt: skip
    print(f"plain feedparser.parse: {entries / plain:,.0f} entries/s")
    print(f"carnews parse_feed (parse + clean + identify): {entries / ours:,.0f} entries/s")
    print(f"ratio carnews / plain feedparser time: {ours / plain:.2f}x")


if __name__ == "__main__":
    main()
