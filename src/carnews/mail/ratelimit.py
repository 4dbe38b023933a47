"""A relay's limits: so many messages a second and so many in any hour.

Both are sliding windows over the times of past sends, so no stretch of one second
(or one hour) ever holds more than the limit. The clock and the sleep are passed
in, so the schedule is tested without waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

HOUR = 3600.0


class _Window:
    """At most ``limit`` events in any ``span`` seconds."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit, self.span = limit, span
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        return self.times[0] + self.span - now if len(self.times) >= self.limit else 0.0


class RateLimiter:
    def __init__(
        self,
        per_second: float = 0.0,
        per_hour: int = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._windows: list[_Window] = []
        if per_second >= 1:
            self._windows.append(_Window(math.floor(per_second), 1.0))
        elif per_second > 0:  # "one every 1/rate seconds"
            self._windows.append(_Window(1, 1.0 / per_second))
        if per_hour > 0:
            self._windows.append(_Window(per_hour, HOUR))
        self._lock = asyncio.Lock()

    @property
    def limited(self) -> bool:
        """Whether any limit is set, so that a send may have to wait."""
        return bool(self._windows)

    async def acquire(self) -> None:
        """Wait until one more message may go out, then count it."""
        if not self._windows:  # no limit: nothing to wait for or count, once per message
            return
        async with self._lock:
            while wait := max((w.wait(self._clock()) for w in self._windows), default=0.0):
                await self._sleep(wait)
            now = self._clock()
            for window in self._windows:
                window.times.append(now)
