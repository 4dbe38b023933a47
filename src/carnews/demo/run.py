"""``carnews demo``: one real edition through the whole pipeline, offline.

Serves the bundled sample feeds from a loopback HTTP server, fetches and
curates them, drafts an edition, approves it as the demo editor (written to
the audit log as such), sends it to three sample subscribers through an
embedded SMTP server that keeps each message in ``OUT/mail/``, publishes the
feeds and archive to ``OUT/public/``, and prints what happened.

Each run starts from a fresh demo database, so a second run shows the same.
The clock is fixed at the sample feeds' week, so the demo never goes stale.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from rich.console import Console

from carnews.audience.subscriptions import import_csv
from carnews.cli.terminal import SafeConsole, cells, counted, styled, text_table
from carnews.clock import fixed_clock
from carnews.curate.lexicon import load_lexicon
from carnews.demo.servers import feed_server, smtp_sink
from carnews.editions import workflow
from carnews.editions.publish import PublishReport
from carnews.editions.review import edit, submit_for_review
from carnews.errors import CarnewsError
from carnews.jobs import GatherReport, draft, gather, publish_site
from carnews.mail.deliver import SendReport, send_edition
from carnews.settings import (
    DatabaseSettings,
    EditionSettings,
    MailSettings,
    PublishSettings,
    Settings,
    SiteSettings,
    SmtpSettings,
    SourceSettings,
    load_settings,
    replace,
)
from carnews.storage import open_database

DEMO_NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
DEMO_EDITOR = "demo editor"
# A fictional sender: every email's footer names its organisation and postal address.
DEMO_ORGANISATION = "CAR-T News Patient Network (demo)"
DEMO_ADDRESS = "1 Example Street, Exampletown EX1 2AB, United Kingdom"
DEMO_INTRO = (
    "Welcome to this week's round-up of cell-therapy news for people living with "
    "autoimmune disease. Every story below was checked by our editor before it reached you."
)
DEMO_FEEDS = {
    "pubmed.xml": ("PubMed", 1.5),
    "clinicaltrials.xml": ("ClinicalTrials.gov", 1.2),
    "medrxiv.rdf": ("medRxiv", 0.8),
    "news.xml": ("Cell Therapy News", 1.0),
}


@dataclass(frozen=True)
class DemoResult:
    out: Path
    gathered: GatherReport
    edition_id: int
    sent: SendReport
    published: PublishReport
    seconds: float


def demo_settings(out: Path, feeds_url: str, smtp_port: int) -> Settings:
    base = load_settings(None, environ={})
    return replace(
        base,
        site=SiteSettings(
            base_url="http://localhost:8000",
            secret_key=base.site.secret_key,
            organisation=DEMO_ORGANISATION,
            postal_address=DEMO_ADDRESS,
        ),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{out / 'carnews.db'}"),
        # The sample entries link to fictional sites: their pages are never read.
        fetch=dataclasses.replace(base.fetch, enrich_thin_entries=False),
        edition=EditionSettings(lookback_days=21, max_stories=25),
        mail=MailSettings(
            from_address="newsletter@carnews.example", list_id="news.carnews.example"
        ),
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port),
        publish=PublishSettings(dir=out / "public"),
        sources=tuple(
            SourceSettings(name=name, url=f"{feeds_url}/{file}", weight=weight)
            for file, (name, weight) in DEMO_FEEDS.items()
        ),
    )


def _reset(out: Path) -> None:
    """Remove only what an earlier demo run wrote, never anything else in ``out``."""
    for name in ("mail", "public"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in ("carnews.db", "carnews.db-wal", "carnews.db-shm"):
        (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


async def run_pipeline(out: Path) -> DemoResult:
    started = time.perf_counter()
    _reset(out)
    feeds = Path(str(files("carnews.demo") / "feeds"))
    subscribers_csv = (files("carnews.demo") / "subscribers.csv").read_text(encoding="utf-8")
    clock = fixed_clock(DEMO_NOW)
    with feed_server(feeds) as feeds_url, smtp_sink(out / "mail") as (_, port, _handler):
        settings = demo_settings(out, feeds_url, port)
        db = await open_database(settings.database.url)
        try:
            gathered = await gather(db, settings, clock, force=True)
            drafted = await draft(db, settings, clock, actor=DEMO_EDITOR)
            if drafted.edition_id is None:
                raise CarnewsError(f"the demo drafted no edition: {drafted.reason}")
            edition_id = drafted.edition_id
            await edit(db, clock, edition_id, DEMO_EDITOR, intro=DEMO_INTRO)
            await submit_for_review(db, clock, edition_id, DEMO_EDITOR)
            # The demo's editor confirms each line of the checklist, as a person would.
            await workflow.approve(db, clock, edition_id, DEMO_EDITOR, list(workflow.CHECKLIST))
            await import_csv(db, clock, load_lexicon(), subscribers_csv, confirmed=True,
                             actor=DEMO_EDITOR)  # fmt: skip
            sent = await send_edition(db, settings, clock, edition_id, actor=DEMO_EDITOR)
            published = await publish_site(db, settings)
        finally:
            await db.close()
    return DemoResult(out, gathered, edition_id, sent, published, time.perf_counter() - started)


def print_report(result: DemoResult, console: Console) -> None:
    table = text_table("source", "status", "entries", title="Fetched")
    for source in result.gathered.sources:
        table.add_row(*cells(source.name, source.outcome, source.new + source.updated))
    console.print(table)
    curation = result.gathered.curation
    merged = counted(curation.merged_entries, "duplicate entry", "duplicate entries")
    console.print(styled("[bold]Kept {}[/] ({} merged into them):",
                         counted(len(curation.kept), "story"), merged))  # fmt: skip
    for _, title in curation.kept:
        console.print(f"  ✓ {title}", highlight=False)
    console.print(
        styled("[bold]Dropped {}[/] (not about autoimmune disease):", len(curation.dropped))
    )
    for _, title, reason in curation.dropped:
        console.print(f"  ✗ {title}\n      because {reason}", highlight=False)
    sent = result.sent
    console.print(
        styled("[bold]Edition {}[/] approved by {}; sent {} ({} failed).",
               result.edition_id, repr(DEMO_EDITOR), counted(sent.sent, "email"),
               sent.failed_temporary + sent.failed_permanent)
    )  # fmt: skip
    out = result.out
    console.print(f"Look at: {out / 'mail'}/*.eml, {out / 'public' / 'index.html'}, "
                  f"{out / 'public' / 'feed.xml'}, {out / 'public' / 'atom.xml'}")  # fmt: skip
    console.print(f"Done in {result.seconds:.1f} s.")


def run_demo(out: Path) -> DemoResult:
    result = asyncio.run(run_pipeline(out))
    print_report(result, SafeConsole())
    return result
