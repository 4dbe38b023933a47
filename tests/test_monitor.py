"""/healthz, /metrics and 'carnews status' after a real run, on both databases.

The run fetches the demo feeds over loopback (and a source that only answers 404),
drafts and approves an edition and sends it to an aiosmtpd server that accepts one
reader and refuses the other; a bounce comes in through the webhook. What the
operator sees must match what happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from carnews.clock import Clock, ManualClock
from carnews.mail.webhook import webhook_token
from carnews.schedule import LEASE, JobOutcome, build_scheduler, logged
from carnews.settings import OpsSettings, Secret, Settings, replace
from carnews.storage import Database
from carnews.storage.database import create_engine
from carnews.storage.leases import hold, release
from carnews.storage.models import Entry
from carnews.web.app import create_app, site_of
from tests.cli_helpers import carnews
from tests.monitor_run import MISSING, Run, real_run

DEMO_SOURCES = ("Cell Therapy News", "ClinicalTrials.gov", "PubMed", "medRxiv")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels, parsed back by
    prometheus_client's own parser (a malformed line raises)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def bounce(client: TestClient, settings: Settings, address: str) -> None:
    token = webhook_token(settings.site.secret_key.reveal())
    answer = client.post("/webhooks/bounces", json={"address": address, "type": "hard"},
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 200, answer.text


@pytest.fixture
async def run(db: Database, settings: Settings, clock: Clock, tmp_path: Path) -> Run:
    return await real_run(db, settings, clock, tmp_path)


@pytest.fixture
def client(run: Run, clock: Clock) -> Iterator[TestClient]:
    # The app opens its own Database on the same URL: another process's view of the truth.
    with TestClient(create_app(run.settings, clock=clock)) as test_client:
        yield test_client


@pytest.mark.both_databases
async def test_healthz_reports_the_run(client: TestClient, run: Run, clock: Clock) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == {"reachable": True}
    assert body["scheduler"]["state"] == "not running" and body["scheduler"]["holder"] is None
    assert body["last_send_at"] == clock().isoformat()
    sources = {row["name"]: row for row in body["sources"]}
    assert set(sources) == {*DEMO_SOURCES, MISSING}
    for name in DEMO_SOURCES:
        assert (sources[name]["health"], sources[name]["last_success_at"]) == (
            "ok", clock().isoformat())  # fmt: skip
    # Only ever answered 404, once: failing from that first error, not "ok".
    assert sources[MISSING]["health"] == "failing"
    assert sources[MISSING]["last_success_at"] is None
    assert sources[MISSING]["consecutive_errors"] == 1
    assert body["warnings"] == [f"source {MISSING!r} is failing: HTTP 404"]
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.both_databases
async def test_metrics_match_the_run(
    client: TestClient, run: Run, db: Database, settings: Settings
) -> None:
    bounce(client, settings, "bounce@example.org")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.text)
    async with db.read() as session:
        entries = await session.scalar(select(func.count()).select_from(Entry))
    curation = run.gathered.curation
    assert found[("carnews_database_up", ())] == 1
    assert found[("carnews_entries_stored", ())] == entries > 0
    assert found[("carnews_stories", (("verdict", "kept"),))] == len(curation.kept)
    assert found[("carnews_stories", (("verdict", "dropped"),))] == len(curation.dropped)
    for name in DEMO_SOURCES:
        key = (("outcome", "ok"), ("source", name))
        assert found[("carnews_fetches_total", key)] == 1
    missing = (("outcome", "error"), ("source", MISSING))
    assert found[("carnews_fetches_total", missing)] == 1
    assert found[("carnews_source_health", (("health", "failing"), ("source", MISSING)))] == 1
    assert found[("carnews_source_health", (("health", "ok"), ("source", MISSING)))] == 0
    assert found[("carnews_deliveries", (("state", "sent"),))] == 1
    assert found[("carnews_deliveries", (("state", "failed_permanent"),))] == 1
    assert found[("carnews_deliveries", (("state", "queued"),))] == 0
    assert found[("carnews_messages_sent_total", ())] == 1
    assert found[("carnews_delivery_queue_depth", ())] == 0
    assert found[("carnews_bounces_total", (("kind", "hard"),))] == 1
    assert found[("carnews_bounces_total", (("kind", "complaint"),))] == 0
    assert found[("carnews_editions", (("state", "sent"),))] == 1
    assert found[("carnews_scheduler_stale", ())] == 0


async def test_metrics_carry_no_created_samples(
    db: Database, settings: Settings, clock: Clock
) -> None:
    """A counter's ``*_created`` sample is a second series per label set that only says
    when the process first counted it: noise on every scrape, so it is off."""

    async def probe() -> JobOutcome:
        return JobOutcome("ok", "probe: ran")

    await logged("probe", probe)()  # this process's own counter now has a label set
    with TestClient(create_app(settings, db, clock=clock)) as test_client:
        found = samples(test_client.get("/metrics").text)
    names = {name for name, _ in found}
    assert ("carnews_scheduler_job_runs_total", (("job", "probe"), ("outcome", "ok"))) in found
    assert [name for name in names if name.endswith("_created")] == []


@pytest.mark.both_databases
async def test_status_in_a_terminal_and_as_json(
    run: Run, db: Database, clock: Clock, tmp_path: Path
) -> None:
    env = {"CARNEWS_DATABASE_URL": run.settings.database.url}
    result = carnews(tmp_path, "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["health"]["status"] == "ok"
    sources = {row["name"]: row for row in report["snapshot"]["sources"]}
    assert sources[MISSING]["health"] == "failing"
    assert sources["PubMed"]["fetches"] == {"ok": 1, "not_modified": 0, "error": 0}
    assert report["snapshot"]["deliveries"]["sent"] == 1
    assert report["snapshot"]["stories_kept"] == len(run.gathered.curation.kept)

    text = carnews(tmp_path, "status", env=env)
    assert text.returncode == 0, text.stderr
    assert MISSING in text.stdout, "the source's name printed as data, markup and all"
    assert "scheduler: not running" in text.stdout
    assert "stories kept" in text.stdout and "HTTP 404" in text.stdout

    # A scheduler that took the lease at the run's (fixed, earlier) time and went quiet:
    # the command's clock is the real one, so its heartbeat is days old.
    assert await hold(db, clock, LEASE, "worker-host:4242:abcd", 90)
    stale = carnews(tmp_path, "status", env=env)
    assert stale.returncode == 1, stale.stdout
    assert "unhealthy: the scheduler's last heartbeat" in stale.stdout
    assert "worker-host:4242:abcd" in stale.stdout


@pytest.mark.both_databases
async def test_healthz_judges_the_scheduler_heartbeat(
    db: Database, settings: Settings, clock: Clock
) -> None:
    manual = ManualClock(clock())
    stale_after = settings.ops.scheduler_stale_seconds
    with TestClient(create_app(settings, clock=manual)) as client:
        scheduler = build_scheduler(db, settings, manual, holder="leader:1:aa")
        await scheduler.get_job("lease").func()  # one heartbeat, as the scheduler beats
        body = client.get("/healthz").json()
        assert body["scheduler"] == {"state": "running", "holder": "leader:1:aa",
                                     "heartbeat_at": manual().isoformat(),
                                     "heartbeat_age_seconds": 0.0,
                                     "stale_after_seconds": stale_after}  # fmt: skip
        await manual.sleep(stale_after)
        assert client.get("/healthz").status_code == 200, "exactly at the limit: not stale yet"
        await manual.sleep(1)
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert answer.json()["scheduler"]["state"] == "stale"
        assert "heartbeat is 121 s old" in answer.json()["problems"][0]
        metrics = samples(client.get("/metrics").text)
        assert metrics[("carnews_scheduler_stale", ())] == 1
        assert metrics[("carnews_scheduler_heartbeat_age_seconds", ())] == stale_after + 1
        await scheduler.get_job("lease").func()
        assert client.get("/healthz").status_code == 200, "beating again"
        await release(db, LEASE, "leader:1:aa")
        await manual.sleep(3600)
        answer = client.get("/healthz")
        assert answer.status_code == 200, "stopped cleanly: nothing to judge"
        assert answer.json()["scheduler"]["state"] == "not running"


async def test_the_scheduler_judgement_can_be_turned_off(
    db: Database, settings: Settings, clock: Clock
) -> None:
    manual = ManualClock(clock())
    unjudged = replace(settings, ops=OpsSettings(scheduler_stale_seconds=0))
    assert await hold(db, manual, LEASE, "leader:1:aa", 90)
    await manual.sleep(86400)
    with TestClient(create_app(unjudged, clock=manual)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["scheduler"]["state"] == "not judged"


async def test_an_unreachable_database_is_503_and_database_up_0(
    settings: Settings, clock: Clock, db: Database
) -> None:
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        # The database goes away under a running app: a PostgreSQL nobody listens on.
        site_of(app).db = Database(create_engine("postgresql+asyncpg://u@127.0.0.1:9/x"))
        answer = client.get("/healthz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["database"]["reachable"] is False
        assert body["problems"][0].startswith("the database cannot be reached")
        assert "127.0.0.1" not in answer.text, "a public probe names no host"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200, "the scrape works; the metric says the database is down"
        assert samples(metrics.text)[("carnews_database_up", ())] == 0


async def test_metrics_ask_for_the_token_when_one_is_set(
    settings: Settings, clock: Clock, db: Database
) -> None:
    guarded = replace(settings, ops=OpsSettings(metrics_token=Secret("s3cret-token")))
    with TestClient(create_app(guarded, clock=clock)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
            answer = client.get("/metrics", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.headers["www-authenticate"] == "Bearer"
            assert "carnews_" not in answer.text
        good = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert good.status_code == 200 and "carnews_database_up 1.0" in good.text
    with TestClient(create_app(settings, clock=clock)) as client:
        assert client.get("/metrics").status_code == 200, "no token set: open"
