"""Cron expressions for the schedule settings, read as crontab(5) reads them.

APScheduler 3's ``CronTrigger.from_crontab`` numbers the days of the week from Monday
(0 = Monday), where crontab numbers them from Sunday (0 and 7 = Sunday, 1 = Monday):
handed over as written, ``0 6 * * 1`` would fire on Tuesdays. So the day-of-week field
is read here, by crontab's rules, into day names that APScheduler cannot misread, and
only then given to ``from_crontab``. The other four fields pass through unchanged.

One difference stays, and docs/settings.md says so: when both day-of-month and
day-of-week are restricted, APScheduler fires when *both* match (crontab: either).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from carnews.errors import ConfigError

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
HINT = (
    "Five fields: minute hour day-of-month month day-of-week, as in crontab: "
    "'0 6 * * mon' is 06:00 every Monday, '*/5 * * * *' every five minutes; "
    "day-of-week 0 or 7 is Sunday, 1 Monday."
)


def _day(text: str) -> int:
    """One day of the week: a crontab number (0-7) or a three-letter name."""
    name = text.strip().lower()
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if not name.isdigit() or int(name) > 7:
        raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")
    return int(name) % 7


def _days_of(part: str) -> set[int]:
    """The days one comma-separated part names: ``*``, ``N``, ``N-M``, each with ``/STEP``."""
    span, _, step_text = part.partition("/")
    if step_text and (not step_text.isdigit() or int(step_text) == 0):
        raise ValueError(f"{part!r} has a step that is not a whole number above 0")
    step = int(step_text) if step_text else 1
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        low, high = span.split("-", 1)
        first, last = _day(low), _day(high)
        if high.strip() == "7":  # 5-7 is Friday to Sunday
            last = 7
        if last < first:
            raise ValueError(f"{part!r} runs backwards")
    else:
        first = _day(span)
        last = 6 if step_text else first  # crontab: N/STEP means N-max/STEP
    return {day % 7 for day in range(first, last + 1, step)}


def weekday_names(field: str) -> str:
    """crontab's day-of-week field as day names (``1-5`` → ``mon,tue,wed,thu,fri``)."""
    days: set[int] = set()
    for part in field.split(","):
        days |= _days_of(part)
    if days == set(range(7)):
        return "*"
    return ",".join(DAY_NAMES[day] for day in sorted(days))


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger for a crontab ``expression`` in ``timezone``; ValueError if invalid."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"it has {len(fields)} fields, not 5")
    fields[4] = weekday_names(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(timezone))


def checked_cron(key: str, expression: str, timezone: str) -> CronTrigger:
    """``cron_trigger`` for the setting ``key``, or a ConfigError naming it and how to fix it."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"schedule.timezone = {timezone!r} is not a time zone",
            hint="Use an IANA name such as 'UTC' or 'Europe/Berlin'.",
            context={"key": "schedule.timezone", "value": timezone},
        ) from None
    try:
        return cron_trigger(expression, zone.key)
    except ValueError as exc:
        raise ConfigError(
            f"{key} = {expression!r} is not a valid cron expression: {exc}",
            hint=HINT,
            context={"key": key, "value": expression},
        ) from None
