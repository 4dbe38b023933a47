"""The clock is passed in, so tests and the demo can fix time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says ``moment`` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda: moment


class ManualClock:
    """A clock that moves only when slept on: waits and back-offs run without waiting.

    Pass the instance as the clock and its ``sleep`` where a real sleep would go.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
