"""The demo's results: one :class:`StageResult` per stage, one :class:`DemoResult`."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import attrs

from mlkit.errors import NotFoundError

__all__ = ["DemoResult", "StageResult"]


@attrs.frozen
class StageResult:
    """What one stage of the demo did and whether it behaved.

    Attributes
    ----------
    name
        The stage: ``data``, ``train``, ``gate``, ``serve``, ``decide``,
        ``retrain`` or ``report``.
    ok
        True when the stage ran and met every expectation.
    seconds
        Wall-clock time the stage took.
    detail
        One line saying what happened (or why it failed).
    facts
        Key numbers and decisions of the stage (JSON-safe), for tests and the
        JSON summary.
    problems
        The expectations the stage missed, or the error it raised.

    Examples
    --------
    >>> StageResult("data", True, 0.5, "10 rows").to_dict()["ok"]
    True
    """

    name: str
    ok: bool
    seconds: float
    detail: str
    facts: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every field."""
        return {
            "name": self.name,
            "ok": self.ok,
            "seconds": self.seconds,
            "detail": self.detail,
            "facts": dict(self.facts),
            "problems": list(self.problems),
        }


@attrs.frozen
class DemoResult:
    """The outcome of :func:`mlkit.demo.run_demo`.

    Index it by stage name (``result["gate"]``).

    Attributes
    ----------
    ok
        True when every stage ran and met its expectations.
    stages
        One :class:`StageResult` per stage, in order.
    workdir
        The demo's folder.
    report_path
        The HTML report, ``workdir / "report.html"``.
    json_path
        The JSON summary, ``workdir / "report.json"``.
    failures
        ``"<stage>: <problem>"`` for every missed expectation or error.

    Examples
    --------
    >>> import pathlib
    >>> result = DemoResult(
    ...     ok=True, stages=(StageResult("data", True, 0.1, "ok"),),
    ...     workdir=pathlib.Path("d"), report_path=pathlib.Path("d/report.html"),
    ...     json_path=pathlib.Path("d/report.json"), failures=())
    >>> result["data"].ok
    True
    """

    ok: bool
    stages: tuple[StageResult, ...]
    workdir: pathlib.Path
    report_path: pathlib.Path
    json_path: pathlib.Path
    failures: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> StageResult:
        for stage in self.stages:
            if stage.name == name:
                return stage
        names = [s.name for s in self.stages]
        raise NotFoundError(
            f"no demo stage {name!r}; the stages are {names}",
            value=name,
            expected=f"one of {names}",
        )

    @property
    def seconds(self) -> float:
        """Total time of all stages."""
        return sum(s.seconds for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: the verdict, the paths and every stage."""
        return {
            "ok": self.ok,
            "workdir": str(self.workdir),
            "report_path": str(self.report_path),
            "json_path": str(self.json_path),
            "failures": list(self.failures),
            "seconds": self.seconds,
            "stages": [s.to_dict() for s in self.stages],
        }
