"""The scheduler's timetable is settings (crontab expressions, checked at start-up) and
every job run logs its outcome, as plain text or as JSON lines."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from carnews.clock import Clock
from carnews.crontab import cron_trigger
from carnews.editions.review import approve
from carnews.errors import ConfigError, EditionStateError
from carnews.logs import configure_logging
from carnews.monitor.metrics import exposition
from carnews.schedule import JobOutcome, build_scheduler, logged
from carnews.settings import OpsSettings, Settings, load_settings
from carnews.storage import Database
from tests.cli_helpers import assert_clean_failure, carnews
from tests.helpers import subscribe
from tests.monitor_run import MISSING, loopback
from tests.test_monitor import samples

THURSDAY = datetime(2026, 12, 3, 12, 1, tzinfo=UTC)


def next_run(trigger: CronTrigger, after: datetime = THURSDAY) -> str:
    fire = trigger.get_next_fire_time(None, after)
    assert fire is not None
    return f"{fire.astimezone(UTC):%a %d %H:%M}"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 6 * * 1", "Mon 07 06:00"),  # crontab's 1 is Monday (APScheduler's own is Tuesday)
        ("0 6 * * 0", "Sun 06 06:00"),
        ("0 6 * * 7", "Sun 06 06:00"),
        ("0 6 * * mon", "Mon 07 06:00"),
        ("0 6 * * 5-7", "Fri 04 06:00"),
        ("30 7 * * 1-5", "Fri 04 07:30"),
        ("0 6 * * */2", "Sat 05 06:00"),  # every other day from Sunday: sun, tue, thu, sat
        ("*/15 * * * *", "Thu 03 12:15"),
    ],
)
def test_cron_expressions_are_read_as_crontab_reads_them(expression: str, expected: str) -> None:
    assert next_run(cron_trigger(expression)) == expected


def test_the_day_numbers_apscheduler_would_misread() -> None:
    """The bug the translation exists for: from_crontab counts weekdays from Monday."""
    assert next_run(CronTrigger.from_crontab("0 6 * * 1", timezone="UTC")) == "Tue 08 06:00"
    assert next_run(cron_trigger("0 6 * * 1")) == "Mon 07 06:00"


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("0 6 * *", "it has 4 fields, not 5"),
        ("61 6 * * *", "higher than the maximum value (59)"),
        ("0 6 * * 8", "'8' is not a day of the week"),
        ("0 6 * * fri-mon", "'fri-mon' runs backwards"),
        ("0 6 * * */0", "a step that is not a whole number above 0"),
        ("every monday", "it has 2 fields, not 5"),
    ],
)
def test_a_bad_cron_setting_stops_start_up_naming_it(expression: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"CARNEWS_SCHEDULE_DRAFT_CRON": expression})
    error = caught.value
    assert error.message.startswith(f"schedule.draft_cron = {expression!r} is not a valid cron")
    assert why in error.message
    assert error.hint is not None and "'0 6 * * mon' is 06:00 every Monday" in error.hint


def test_a_bad_time_zone_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"CARNEWS_SCHEDULE_TIMEZONE": "Mars/Olympus"})
    assert caught.value.message == "schedule.timezone = 'Mars/Olympus' is not a time zone"


def test_the_command_prints_the_cron_error_and_its_hint(tmp_path: Path) -> None:
    result = carnews(tmp_path, "config", "show", env={"CARNEWS_SCHEDULE_SEND_CRON": "*/5 * *"})
    assert_clean_failure(result, "schedule.send_cron = '*/5 * *'", "day-of-week 0 or 7 is Sunday")


async def test_the_timetable_comes_from_the_settings(
    db: Database, settings: Settings, clock: Clock
) -> None:
    timed = load_settings(None, environ={"CARNEWS_SCHEDULE_DRAFT_CRON": "30 7 * * 5",
                                         "CARNEWS_SCHEDULE_SEND_CRON": "0 * * * *",
                                         "CARNEWS_SCHEDULE_TIMEZONE": "Europe/Berlin"})  # fmt: skip
    scheduler = build_scheduler(db, timed, clock)
    draft = scheduler.get_job("draft").trigger
    assert next_run(draft) == "Fri 04 06:30", "07:30 in Berlin is 06:30 UTC in December"
    assert next_run(scheduler.get_job("send").trigger) == "Thu 03 13:00"
    assert next_run(scheduler.get_job("gather").trigger) == "Thu 03 12:15", "the default"


def outcomes(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "carnews.schedule" and hasattr(r, "outcome")]


@pytest.mark.both_databases
async def test_each_job_logs_its_outcome(
    db: Database, settings: Settings, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="carnews")
    with loopback(settings, tmp_path) as run:
        jobs = {job.id: job.func for job in build_scheduler(db, run, clock).get_jobs()}
        before = samples(exposition(None, OpsSettings()).decode())
        await jobs["gather"]()
        await jobs["draft"]()
        await jobs["draft"]()
        await jobs["send"]()  # nothing approved yet
        await approve(db, clock, 1, "Dr Jane")
        await subscribe(db, clock, "ana@example.org")
        await subscribe(db, clock, "bounce@example.org")
        await jobs["send"]()
    fetch, drafted, nothing, idle, sent = outcomes(caplog)
    assert (fetch.job, fetch.outcome, fetch.sources, fetch.errors) == ("fetch", "errors", 5, 1)
    assert fetch.new_entries > 30 and fetch.kept > 0
    assert fetch.getMessage() == (f"fetch: 5 sources polled, {fetch.new_entries} new entries, "
                                  f"1 errors, {fetch.kept} stories kept")  # fmt: skip
    failed = [r for r in caplog.records if getattr(r, "source", None) == MISSING]
    assert failed[0].levelname == "WARNING" and "HTTP 404" in failed[0].getMessage()
    assert (drafted.outcome, drafted.edition_id) == ("drafted", 1)
    assert drafted.getMessage() == f"draft: edition 1 with {drafted.stories} stories"
    assert (nothing.outcome, nothing.edition_id) == ("nothing new", None)
    assert nothing.getMessage().startswith("draft: nothing new (")
    assert (idle.outcome, idle.getMessage()) == (
        "nothing to send",
        "send: no approved edition to send",
    )
    assert (sent.outcome, sent.sent, sent.failed) == ("sent", 1, 1)
    assert sent.getMessage() == "send: 1 editions, 1 sent, 1 failed"
    after = samples(exposition(None, OpsSettings()).decode())
    runs = ("carnews_scheduler_job_runs_total", (("job", "draft"), ("outcome", "nothing new")))
    assert after[runs] == before.get(runs, 0) + 1, "this process counts its job runs"


async def test_job_outcomes_as_json_lines(
    db: Database, settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    handler = configure_logging(json_lines=True, stream=stream)
    try:
        jobs = {job.id: job.func for job in build_scheduler(db, settings, clock).get_jobs()}
        await jobs["draft"]()

        async def broken() -> JobOutcome:
            raise EditionStateError("edition 9 is not approved", hint="Approve it first.")

        await logged("send", broken)()
    finally:
        logging.getLogger("carnews").removeHandler(handler)
    draft, failure = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert draft["level"] == "info" and draft["logger"] == "carnews.schedule"
    assert (draft["job"], draft["outcome"], draft["edition_id"]) == ("draft", "nothing new", None)
    assert draft["message"].startswith("draft: nothing new")
    assert datetime.fromisoformat(draft["time"]).tzinfo is not None
    assert failure["level"] == "error"
    assert (failure["job"], failure["outcome"]) == ("send", "error")
    assert failure["message"] == "send failed: edition 9 is not approved"
    assert failure["hint"] == "Approve it first."


async def test_the_worker_logs_its_passes_as_the_scheduler_does(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """``carnews worker`` takes the same logging options as ``carnews serve``: one summary
    line a pass, plain for a person, JSON (``--log-json`` or ops.log_json) for a collector."""
    base = ("--set", f"database.url={settings.database.url}", "worker", "--once")
    as_json = carnews(tmp_path, *base, "--log-json")
    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stderr.splitlines()]
    fields = [(line["logger"], line["level"], line["job"], line["outcome"], line["editions"])
              for line in lines]  # fmt: skip
    assert fields == [("carnews.worker", "info", "send", "nothing to send", 0)]
    assert lines[0]["message"] == "send: no approved edition to send"
    from_settings = carnews(tmp_path, *base, env={"CARNEWS_OPS_LOG_JSON": "true"})
    assert json.loads(from_settings.stderr)["outcome"] == "nothing to send"
    plain = carnews(tmp_path, *base)
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.rstrip().endswith(
        "INFO carnews.worker: send: no approved edition to send"
    ), plain.stderr
