"""The demo's narrated log: short numbered lines a new user can follow."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Narrator", "num", "pct", "when"]

_INDENT = " " * 6


def pct(value: float | None, digits: int = 1) -> str:
    """Format a share as a percentage (``"n/a"`` for None).

    Examples
    --------
    >>> pct(0.0312), pct(None)
    ('3.1%', 'n/a')
    """
    if value is None:
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    """Format a number with ``digits`` decimals (``"n/a"`` for None or NaN).

    Examples
    --------
    >>> num(0.91234), num(float("nan"))
    ('0.91', 'n/a')
    """
    if value is None or value != value:
        return "n/a"
    return f"{value:.{digits}f}"


def when(t: float, start: float) -> str:
    """Format clock time ``t`` as ``"day D HH:MM"`` counted from ``start`` (day 1).

    Examples
    --------
    >>> when(0.0, 0.0), when(86400 * 5 + 3600 * 14, 0.0)
    ('day 1 00:00', 'day 6 14:00')
    """
    seconds = round(t - start)
    day, rest = divmod(seconds, 86400)
    return f"day {day + 1} {rest // 3600:02d}:{rest % 3600 // 60:02d}"


class Narrator:
    """Write the demo's story to a stream, and keep every line for the report.

    Parameters
    ----------
    out
        Where to write; ``sys.stdout`` when None.
    total
        The number of stages, for the ``[k/total]`` prefixes.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> story = Narrator(stream, total=7)
    >>> story.stage(1, "data", "generated 10 rows")
    >>> story.say("schema inferred")
    >>> print(stream.getvalue(), end="")
    [1/7] data: generated 10 rows
          schema inferred
    """

    def __init__(self, out: TextIO | None = None, *, total: int = 7) -> None:
        self.out = sys.stdout if out is None else out
        self.total = total
        self.lines: dict[str, list[str]] = {}
        self._current = ""

    @property
    def current(self) -> str:
        """The name of the stage being narrated (``""`` before the first)."""
        return self._current

    def stage(self, index: int, name: str, headline: str) -> None:
        """Open stage ``name`` with its first line."""
        self._current = name
        self.lines.setdefault(name, [])
        self._write(f"[{index}/{self.total}] {name}: {headline}", headline)

    def say(self, text: str) -> None:
        """Write one indented line of the current stage."""
        self._write(_INDENT + text, text)

    def plain(self, text: str) -> None:
        """Write a line outside any stage (title, final verdict)."""
        self.out.write(text + "\n")
        self.out.flush()

    def _write(self, shown: str, kept: str) -> None:
        self.lines.setdefault(self._current, []).append(kept)
        self.out.write(shown + "\n")
        self.out.flush()
