import time

import pytest

from mlkit.clock import FakeClock, SystemClock
from mlkit.errors import ConfigurationError
from mlkit.protocols import Clock


def test_system_clock_follows_time():
    before = time.time()
    now = SystemClock().now()
    assert before <= now <= time.time()


def test_fake_clock_moves_only_when_told():
    clock = FakeClock(start=10)
    assert clock.now() == clock.now() == 10.0
    assert clock.advance(2.5) == 12.5
    clock.set(20)
    assert clock.now() == 20.0


@pytest.mark.parametrize("step", [-1, float("nan")])
def test_fake_clock_never_runs_backwards(step):
    clock = FakeClock(start=10)
    with pytest.raises(ConfigurationError, match="seconds must be >= 0"):
        clock.advance(step)
    with pytest.raises(ConfigurationError, match="cannot move back"):
        clock.set(5)
    assert clock.now() == 10.0


def test_clocks_satisfy_the_protocol():
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FakeClock(), Clock)
    assert repr(FakeClock(3)) == "FakeClock(now=3.0)"
