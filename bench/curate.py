"""Benchmark: curate 5,000 stored entries: classify, merge duplicates, explain.

Run: make bench   (or .venv/bin/python bench/curate.py --entries 5000)

Builds a SQLite database of N entries (abstracts and news items about autoimmune
CAR-T, about cancer CAR-T, and one in five a second copy of a study from another
source with the same DOI or a reworded title), then times one
``curate_new_entries`` run and prints entries/s (target: ≥ 500 on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carnews.clock import fixed_clock
from carnews.curate.stories import curate_new_entries
from carnews.jobs import knowledge
from carnews.storage import open_database
from carnews.storage.models import Entry, Source

NOW = datetime(2026, 11, 21, tzinfo=UTC)
DISEASES = [
    "systemic lupus erythematosus", "systemic sclerosis", "idiopathic inflammatory myositis",
    "myasthenia gravis", "rheumatoid arthritis", "ANCA-associated vasculitis",
    "neuromyelitis optica spectrum disorder", "multiple sclerosis",
]  # fmt: skip
CANCERS = ["large B-cell lymphoma", "multiple myeloma", "B-cell acute lymphoblastic leukaemia",
           "glioblastoma", "mantle cell lymphoma"]  # fmt: skip
TARGETS = ["CD19", "BCMA", "CD19/BCMA", "CD7", "CD20"]
ABSTRACT = (
    "Background: Patients with refractory {disease} have few options. {target}-directed "
    "chimeric antigen receptor (CAR) T cells deplete B cells deeply. Methods: In this "
    "{design}, {n} patients received a single infusion of {dose} × 10^6 CAR T cells per kg "
    "after fludarabine and cyclophosphamide lymphodepletion. Results: Cytokine release "
    "syndrome occurred in {crs} patients, all grade 1 or 2; one patient had grade 1 ICANS. "
    "At month 6, {resp} of {n} patients responded and {off} stopped all immunosuppressants. "
    "Conclusions: {target} CAR T cells were well tolerated and induced drug-free responses "
    "in most patients with {disease}; larger controlled trials are needed."
)
DESIGNS = [
    "open-label phase 1 trial",
    "phase 1/2 study",
    "case series",
    "multicentre phase 2 trial",
]


def make_entries(count: int, source_ids: list[int], rng: random.Random) -> list[Entry]:
    entries: list[Entry] = []
    for number in range(count):
        duplicate = entries and rng.random() < 0.2
        if duplicate:
            original = rng.choice(entries)
            title = "Study: " + original.title if original.doi is None else original.title
            doi, text = original.doi, original.text
        else:
            disease = rng.choice(CANCERS if rng.random() < 0.4 else DISEASES)
            target, design = rng.choice(TARGETS), rng.choice(DESIGNS)
            n = rng.randint(3, 60)
            title = f"{target} CAR T cells in refractory {disease}: a {design} ({number})"
            text = ABSTRACT.format(disease=disease, target=target, design=design, n=n,
                                   dose=rng.choice([0.5, 1, 2]), crs=rng.randint(0, n),
                                   resp=rng.randint(0, n), off=rng.randint(0, n))  # fmt: skip
            doi = f"10.1000/bench.{number}" if rng.random() < 0.7 else None
        entries.append(Entry(
            source_id=rng.choice(source_ids), guid=f"bench-{number}", title=title, text=text,
            clean_html=f"<p>{text}</p>", content_hash=str(number), fetched_at=NOW,
            published_at=NOW - timedelta(hours=rng.randint(0, 24 * 20)), doi=doi,
            canonical_key=f"doi:{doi}" if doi else f"url:https://news.test/{number}",
        ))  # fmt: skip
    return entries


async def run(count: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            async with db.session() as session:
                sources = [Source(name=f"s{i}", url=f"https://s{i}.test/", config_url="",
                                  created_at=NOW, weight=1.0) for i in range(4)]  # fmt: skip
                session.add_all(sources)
                await session.flush()
                ids = [source.id for source in sources]
                session.add_all(make_entries(count, ids, random.Random(7)))
            known = knowledge(2.0)
            started = time.perf_counter()
            report = await curate_new_entries(db, known, fixed_clock(NOW))
            elapsed = time.perf_counter() - started
        finally:
            await db.close()
    return elapsed, len(report.kept), report.merged_entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    elapsed, kept, merged = asyncio.run(run(args.entries))
    print(f"curated {args.entries} entries in {elapsed:.2f} s: "
          f"{args.entries / elapsed:,.0f} entries/s (target ≥ 500)")  # fmt: skip
    print(f"kept {kept} stories; {merged} entries merged into existing stories")


if __name__ == "__main__":
    main()
