"""A dependency-free progress bar for the command line.

On a terminal it redraws one line in place (a carriage return), at most every
``interval`` seconds; elsewhere (CI logs, pipes) it writes a plain line at
each tenth of the way, so logs stay short and readable.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Show how far a long step has gone.

    Parameters
    ----------
    total
        The number of units of work (rows, requests, columns); ``None`` when unknown.
    label
        What is being done, e.g. ``"serving requests"``.
    unit
        The name of one unit, shown after the counts.
    stream
        Where to write; ``sys.stderr`` by default, so stdout stays clean for
        ``--format json``.
    enabled
        ``False`` writes nothing at all.
    interval
        The minimum time between two redraws on a terminal, in seconds.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(4, "scoring", unit="batches", stream=out) as bar:
    ...     for _ in range(4):
    ...         bar.update()
    >>> print(out.getvalue().splitlines()[-1])
    scoring [##############################] 4/4 batches (100%)
    """

    width = 30

    def __init__(
        self,
        total: int | None,
        label: str,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.1,
    ) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.interval = interval
        self.done = 0
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        self._last_draw = 0.0
        self._last_tenth = -1
        self._start = time.perf_counter()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done and redraw if it is time to."""
        self.done += n
        if not self.enabled:
            return
        if self._tty:
            now = time.perf_counter()
            if now - self._last_draw >= self.interval or self._finished():
                self._last_draw = now
                self.stream.write("\r" + self._line())
                self.stream.flush()
        elif self.total:
            tenth = min(10, self.done * 10 // self.total)
            if tenth > self._last_tenth:
                self._last_tenth = tenth
                self.stream.write(self._line() + "\n")
                self.stream.flush()

    def close(self) -> None:
        """Finish the line (on a terminal) and stop drawing."""
        if self.enabled and self._tty:
            elapsed = time.perf_counter() - self._start
            self.stream.write("\r" + self._line() + f" in {elapsed:.1f}s\n")
            self.stream.flush()
        self.enabled = False

    def _finished(self) -> bool:
        return self.total is not None and self.done >= self.total

    def _line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if not self.total:
            return f"{self.label} {self.done}{unit}"
        share = min(1.0, self.done / self.total)
        filled = round(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}{unit} ({share:.0%})"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
