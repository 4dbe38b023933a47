"""A real run for the monitor tests: loopback feeds fetched, a draft approved, a send to
aiosmtpd (one reader accepted, one refused with 550), and a source that only answers 404."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from carnews.clock import Clock
from carnews.demo.run import DEMO_FEEDS
from carnews.demo.servers import feed_server
from carnews.editions.review import approve
from carnews.jobs import GatherReport, SendOutcome, draft, gather, send_due
from carnews.settings import (
    EditionSettings,
    MailSettings,
    PublishSettings,
    Settings,
    SmtpSettings,
    SourceSettings,
    replace,
)
from carnews.storage import Database
from tests.helpers import smtp_server, subscribe

# Untrusted text in a source's name: markup for Rich, quotes for a Prometheus label.
MISSING = 'missing "feed" [bold]404[/]'


@dataclass(frozen=True)
class Run:
    settings: Settings
    gathered: GatherReport
    sent: SendOutcome


@contextmanager
def loopback(settings: Settings, out: Path) -> Iterator[Settings]:
    """Settings whose sources are the demo feeds (and one 404) on a loopback server, and
    whose relay is an aiosmtpd server that refuses addresses containing 'bounce'."""
    feeds = Path(str(files("carnews.demo") / "feeds"))
    with feed_server(feeds) as url, smtp_server(out / "mail") as port:
        sources = [SourceSettings(name=name, url=f"{url}/{file}", weight=weight)
                   for file, (name, weight) in DEMO_FEEDS.items()]  # fmt: skip
        sources.append(SourceSettings(name=MISSING, url=f"{url}/missing.xml"))
        yield replace(
            settings,
            fetch=dataclasses.replace(settings.fetch, enrich_thin_entries=False),
            edition=EditionSettings(lookback_days=21, max_stories=25),
            mail=MailSettings(from_address="news@carnews.test"),
            smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5),
            publish=PublishSettings(dir=out / "public"),
            sources=tuple(sources),
        )


async def real_run(db: Database, settings: Settings, clock: Clock, out: Path) -> Run:
    with loopback(settings, out) as run:
        gathered = await gather(db, run, clock, force=True)
        drafted = await draft(db, run, clock, actor="editor")
        assert drafted.edition_id is not None, drafted.reason
        await approve(db, clock, drafted.edition_id, "Dr Jane")
        await subscribe(db, clock, "ana@example.org")
        await subscribe(db, clock, "bounce@example.org")
        sent = await send_due(db, run, clock, drafted.edition_id, actor="editor")
    return Run(run, gathered, sent)
