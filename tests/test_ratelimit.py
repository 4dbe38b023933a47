"""The relay's limits are kept, on a fake clock so nothing actually waits."""

from __future__ import annotations

from carnews.mail.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def send_times(limiter: RateLimiter, fake: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await limiter.acquire()
        times.append(fake.now)
    return times


async def test_per_second_rate_is_a_sliding_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(per_second=5, clock=fake.clock, sleep=fake.sleep)
    times = await send_times(limiter, fake, 15)
    assert times[:5] == [1000.0] * 5, "the first second's five go at once"
    assert abs(times[-1] - times[0] - 2.0) < 1e-6, "then 5 a second: 10 more take 2 s"
    for start in range(len(times) - 5):
        assert times[start + 5] - times[start] >= 1.0 - 1e-9, "never more than 5 in a second"


async def test_hourly_cap_waits_for_the_oldest_send_to_leave_the_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(per_hour=3, clock=fake.clock, sleep=fake.sleep)
    times = await send_times(limiter, fake, 4)
    assert times == [1000.0, 1000.0, 1000.0, 4600.0]


async def test_no_limits_never_wait() -> None:
    fake = FakeTime()
    limiter = RateLimiter(clock=fake.clock, sleep=fake.sleep)
    await send_times(limiter, fake, 100)
    assert fake.slept == []
