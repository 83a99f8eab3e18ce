"""Clocks: the system clock and a fake one for tests.

Everything in mlkit that depends on time (monitor windows, alert ``for``
durations, retraining cool-downs, rollout intervals) takes a
:class:`~mlkit.protocols.Clock`, so tests drive time by hand.

Examples
--------
>>> from mlkit.clock import FakeClock
>>> clock = FakeClock(start=100.0)
>>> clock.advance(30)
130.0
>>> clock.now()
130.0
"""

from __future__ import annotations

import threading
import time

from mlkit.errors import ConfigurationError

__all__ = ["FakeClock", "SystemClock"]


class SystemClock:
    """The real wall clock: :func:`time.time`."""

    def now(self) -> float:
        """Return the current POSIX time in seconds."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that moves only when told to; thread-safe.

    Parameters
    ----------
    start
        The initial time in POSIX seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current fake time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time.

        Raises
        ------
        ConfigurationError
            If ``seconds`` is negative: time never runs backwards.
        """
        if not seconds >= 0:
            raise ConfigurationError(
                f"FakeClock.advance: seconds must be >= 0, got {seconds!r}",
                value=seconds,
                expected="a non-negative number of seconds",
            )
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, when: float) -> None:
        """Jump to ``when``, which must not be earlier than the current time."""
        with self._lock:
            if not when >= self._now:
                raise ConfigurationError(
                    f"FakeClock.set: cannot move back from {self._now!r} to {when!r}",
                    value=when,
                    expected=f"a time >= {self._now!r}",
                )
            self._now = float(when)

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now()!r})"
