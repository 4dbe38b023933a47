"""Checks across settings at start-up, and settings shown or copied safely
(``effective_values`` masks secrets, ``replace`` swaps whole sections)."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from carnews.errors import ConfigError
from carnews.settings.base import (
    Secret,
    redact,
)
from carnews.settings.model import Settings
from carnews.settings.sections import (
    ScheduleSettings,
)
from carnews.settings.specs import (
    SettingSpec,
    _problem,
    all_specs,
)

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine, without asking DNS."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def validate(settings: Settings) -> None:
    """Check settings however they were built (a file, the environment or code).

    ``load_settings`` already refuses a bad value with where it came from; sending
    calls this too, before it claims anything, so settings built in code are held to
    the same rules.
    """
    for spec in all_specs():
        value = getattr(getattr(settings, spec.section), spec.name)
        problem = None if isinstance(value, Secret) else _problem(spec, value)
        if problem is not None:
            raise ConfigError(
                f"{spec.key} = {redact(str(value))!r} {problem}",
                hint=f"{spec.key}: {spec.help}",
                context={"key": spec.key, "value": redact(str(value))},
            )
    _validate_schedule(settings.schedule)
    smtp = settings.smtp
    if smtp.username and smtp.security == "none" and not is_loopback(smtp.host):
        raise ConfigError(
            f"smtp.username is set but smtp.security = 'none': the SMTP password would "
            f"cross the network to {smtp.host} in clear",
            hint="Set smtp.security = 'starttls' (port 587) or 'tls' (port 465); "
            "'none' with a login is only allowed for a relay on this machine (localhost).",
            context={"key": "smtp.security", "value": smtp.security, "host": smtp.host},
        )


CRON_SETTINGS = ("fetch_cron", "draft_cron", "send_cron")


def _validate_schedule(schedule: ScheduleSettings) -> None:
    """Every cron expression is read now, so a typo stops start-up, not the first run."""
    from carnews.crontab import checked_cron  # APScheduler is loaded only where needed

    for name in CRON_SETTINGS:
        checked_cron(f"schedule.{name}", getattr(schedule, name), schedule.timezone)


def replace(settings: Settings, **changes: Any) -> Settings:
    """Copy settings with whole sections swapped: ``replace(s, smtp=SmtpSettings(port=2525))``."""
    return dataclasses.replace(settings, **changes)


def effective_values(settings: Settings) -> list[tuple[SettingSpec, str]]:
    """Each setting with its printable value; secrets and passwords in URLs masked."""
    rows = []
    for spec in all_specs():
        value = getattr(getattr(settings, spec.section), spec.name)
        rows.append((spec, ", ".join(value) if isinstance(value, tuple) else redact(str(value))))
    return rows
