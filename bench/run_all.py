"""Run every benchmark in bench/ one after another (``make bench``)."""

from __future__ import annotations

import runpy
from pathlib import Path

BENCHMARKS = [
    "pipeline.py",
    "ingest.py",
    "corpus.py",
    "curate.py",
    "send.py",
    "stories.py",
    "clean.py",
    "web.py",
    "scrape.py",
]

for name in BENCHMARKS:
    print(f"== {name}")
    runpy.run_path(str(Path(__file__).parent / name), run_name="__main__")
