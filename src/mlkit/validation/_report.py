"""The validation report: every schema failure of one frame, with its severity.

:func:`mlkit.validation.validate` fills a :class:`ValidationReport` from
pandera's lazy validation. The report keeps one row per failure (pandera's
failure cases, renamed to stable check names and given a severity) and
answers the questions a pipeline asks of it: did the batch pass, how bad is
the worst problem, how many failures per column and check, and a bounded,
readable summary to log or raise.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Hashable, Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

from mlkit.errors import ConfigurationError, SchemaError
from mlkit.validation._severity import SEVERITIES, at_least, check_severity, rank

__all__ = ["DETAIL_COLUMNS", "FRAME_COLUMNS", "ValidationReport"]

logger = logging.getLogger(__name__)

#: Columns of :meth:`ValidationReport.to_frame`, in order.
FRAME_COLUMNS = ("column", "check", "failure_case", "index", "severity")

#: Columns of ``ValidationReport.to_frame(detailed=True)``: ``detail`` is
#: pandera's own text for the check (``in_range(0, 10)``, ``dtype('int64')``,
#: a custom check's ``error``), ``check_number`` its position in its
#: component's ``checks`` (None for built-in properties such as dtype or
#: nullability) and ``context`` the pandera component that failed
#: (``Column``, ``DataFrameSchema``, ``Index``, ...).
DETAIL_COLUMNS = (*FRAME_COLUMNS, "detail", "check_number", "context")

COUNT_COLUMNS = ("column", "check", "severity", "n_failures")

# Checks that report a column of the frame rather than a value: the summary
# lists them on their own lines.
_MISSING = "column_in_dataframe"
_EXTRA = "column_in_schema"

_EXAMPLE_WIDTH = 60

_RUN_KEYS = ("column", "check", "severity", "detail")


def _check_failures(_: object, __: object, frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame) or tuple(frame.columns) != DETAIL_COLUMNS:
        got = list(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ConfigurationError(
            f"failures must be a DataFrame with the columns {list(DETAIL_COLUMNS)}, got {got}",
            value=got,
            expected=list(DETAIL_COLUMNS),
        )


def _json(value: Any) -> Any:
    """Return ``value`` as something :func:`json.dumps` takes, losing as little as possible."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, pd.Index, np.ndarray)):
        return [_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _label(column: Hashable | None) -> str:
    return "the frame" if column is None else repr(column)


def _example(value: Any, index: Any) -> str:
    text = repr(_plain(value))
    if len(text) > _EXAMPLE_WIDTH:
        text = text[: _EXAMPLE_WIDTH - 3] + "..."
    return text if index is None else f"{text} (row {_plain(index)!r})"


def _plain(value: Any) -> Any:
    # numpy 2 reprs scalars as np.float64(1.5): show them as the plain value.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@attrs.frozen
class _Run:
    """Consecutive failure rows sharing column, check, severity and detail."""

    start: int
    size: int
    column: Any
    check: str
    severity: str
    detail: str


def _runs_of(failures: pd.DataFrame) -> tuple[_Run, ...]:
    # validate emits each pandera error as one run of rows: walking runs rather
    # than grouping (hashing) every row keeps counts and summaries cheap on big reports.
    keys = [failures[name].to_numpy(dtype=object) for name in _RUN_KEYS]
    n = len(failures)
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
        for values in keys:
            change[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(change).tolist()
    ends = [*starts[1:], n] if starts else []
    return tuple(
        _Run(start, end - start, *(values[start] for values in keys))
        for start, end in zip(starts, ends, strict=True)
    )


@attrs.frozen(eq=False, repr=False)
class ValidationReport:
    """Every failure of one frame against one pandera schema, with severities.

    Returned by :func:`mlkit.validation.validate`; not usually built by hand.

    Parameters
    ----------
    n_rows
        The number of rows validated.
    failures
        One row per failure with the columns :data:`DETAIL_COLUMNS`.
    lazy
        Whether every check ran (True) or validation stopped at the first
        failure (False), in which case the report holds that one failure.
    exact_counts
        The exact number of failures per ``(column, check, severity)`` when
        ``failures`` holds only a sample of them (a Dask frame or chunks
        validated with ``max_failure_cases``); None (default) when every
        failure is a row of ``failures``. Counts, the verdict, the summary
        and ``to_dict`` use these counts.

    Attributes
    ----------
    passed
        No failure at ``error`` severity or worse.
    max_severity
        The worst severity among the failures, None when there are none.
    n_failures
        The number of failures (exact, even when the rows are a sample).
    sampled
        Whether the failure rows are a sample of the failures.
    missing_columns, extra_columns
        Schema columns absent from the frame, and frame columns the schema
        (when ``strict``) does not know.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from mlkit.validation import validate
    >>> schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.in_range(0, 120))})
    >>> report = validate(pd.DataFrame({"age": [30, -1, 200]}), schema)
    >>> report
    ValidationReport(passed=False, failures=2, max_severity='error')
    >>> report.to_frame()
      column     check failure_case index severity
    0    age  in_range           -1     1    error
    1    age  in_range          200     2    error
    >>> print(report.summary())
    validation failed: 2 failures in 3 rows, worst 'error' (2 error)
    - column 'age', in_range [error]: 2 failures (66.7% of rows); expected in_range(0, 120);
      e.g. -1 (row 1), 200 (row 2)
    """

    n_rows: int
    _failures: pd.DataFrame = attrs.field(alias="failures", validator=_check_failures)
    lazy: bool = True
    exact_counts: Mapping[tuple[Any, str, str], int] | None = attrs.field(
        default=None, kw_only=True
    )
    _runs: tuple[_Run, ...] = attrs.field(init=False)
    _counts: pd.DataFrame = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # Runs back the counts, the verdict and the summary: compute them once.
        object.__setattr__(self, "_runs", _runs_of(self._failures))
        object.__setattr__(self, "_counts", self._count())

    def _count(self) -> pd.DataFrame:
        totals: dict[tuple[Any, ...], int] = {}
        for run in self._runs:
            key = (run.column, run.check, run.severity)
            totals[key] = totals.get(key, 0) + run.size
        if self.exact_counts is not None:
            totals = {key: totals.get(key, 0) for key in totals}
            for key, n in self.exact_counts.items():
                totals[tuple(key)] = int(n)
        ordered = sorted(totals.items(), key=lambda item: (-rank(item[0][2]), -item[1]))
        counts: pd.DataFrame = pd.DataFrame(
            {
                "column": pd.Series([k[0] for k, _ in ordered], dtype=object),
                "check": pd.Series([k[1] for k, _ in ordered], dtype=object),
                "severity": pd.Series([k[2] for k, _ in ordered], dtype=object),
                "n_failures": pd.Series([v for _, v in ordered], dtype=np.int64),
            }
        )
        return counts

    # -- the verdict -------------------------------------------------------

    @property
    def max_severity(self) -> str | None:
        """The worst severity among the failures, None when there are none."""
        if self._counts.empty:
            return None
        return str(self._counts["severity"].iloc[0])  # counts are sorted worst first

    @property
    def passed(self) -> bool:
        """True when no failure is at ``error`` severity or worse."""
        worst = self.max_severity
        return worst is None or not at_least(worst, "error")

    @property
    def n_failures(self) -> int:
        """The number of failures (one per failing value, or per schema problem).

        Exact even when :attr:`sampled`: then larger than ``len(to_frame())``.
        """
        if self.exact_counts is None:
            return len(self._failures)
        return int(self._counts["n_failures"].sum())

    @property
    def sampled(self) -> bool:
        """Whether :meth:`to_frame` holds only a sample of the failures (counts stay exact)."""
        return self.n_failures > len(self._failures)

    @property
    def missing_columns(self) -> tuple[Any, ...]:
        """Schema columns the frame lacks, in the order pandera reported them."""
        return self._columns_of(_MISSING)

    @property
    def extra_columns(self) -> tuple[Any, ...]:
        """Frame columns a ``strict`` schema does not know."""
        return self._columns_of(_EXTRA)

    def _columns_of(self, check: str) -> tuple[Any, ...]:
        rows = self._failures[self._failures["check"] == check]
        return tuple(dict.fromkeys(rows["column"]))

    # -- tables --------------------------------------------------------------

    def to_frame(self, *, detailed: bool = False) -> pd.DataFrame:
        """Return one row per failure (a copy).

        Parameters
        ----------
        detailed
            Add pandera's own check text (``detail``), the check's position
            (``check_number``) and the failing component (``context``).

        Returns
        -------
        pandas.DataFrame
            Columns ``column, check, failure_case, index, severity``
            (:data:`FRAME_COLUMNS`). ``column`` is None for a check of the whole
            frame, whose ``failure_case`` is then a dict of the failing row's
            values; ``index`` is None for a problem of the schema (missing or
            extra column, wrong dtype) rather than of a row.
        """
        columns = list(DETAIL_COLUMNS if detailed else FRAME_COLUMNS)
        frame: pd.DataFrame = self._failures[columns].copy()
        return frame

    def counts(self) -> pd.DataFrame:
        """Return one row per (column, check, severity) with ``n_failures``, worst first.

        Rows are ordered by severity, then by count (largest first), then by
        first appearance in the report.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandera.pandas as pa
        >>> from mlkit.validation import validate
        >>> schema = pa.DataFrameSchema(
        ...     {"x": pa.Column(float, pa.Check.ge(0)), "y": pa.Column(int)}
        ... )
        >>> validate(pd.DataFrame({"x": [-1.0, 2.0, -3.0]}), schema).counts()
          column                     check  severity  n_failures
        0      y       column_in_dataframe  critical           1
        1      x  greater_than_or_equal_to     error           2
        """
        counts: pd.DataFrame = self._counts.copy()
        return counts

    def to_dict(self, *, max_failures: int | None = None) -> dict[str, Any]:
        """Return the report as JSON-safe builtins.

        Parameters
        ----------
        max_failures
            Keep at most this many failure rows (all by default); the counts
            always cover every failure.
        """
        failures = self._failures if max_failures is None else self._failures.head(max_failures)
        records = [
            {name: _json(value) for name, value in zip(DETAIL_COLUMNS, row, strict=True)}
            for row in failures.itertuples(index=False, name=None)
        ]
        return {
            "passed": self.passed,
            "max_severity": self.max_severity,
            "n_rows": int(self.n_rows),
            "n_failures": self.n_failures,
            "lazy": self.lazy,
            "sampled": self.sampled,
            "missing_columns": _json(self.missing_columns),
            "extra_columns": _json(self.extra_columns),
            "counts": [
                {name: _json(value) for name, value in zip(COUNT_COLUMNS, row, strict=True)}
                for row in self._counts.itertuples(index=False, name=None)
            ],
            "failures": records,
        }

    # -- words ---------------------------------------------------------------

    def summary(self, max_rows: int = 20, *, max_examples: int = 5) -> str:
        """Return a readable summary whose length does not grow with the data.

        One headline with the totals, a line each for missing and extra
        columns, then one line per (column, check), worst first, with its
        severity, count, what was expected and up to ``max_examples`` failing
        values with their row index.

        Parameters
        ----------
        max_rows
            Show at most this many (column, check) lines; the rest are
            counted in a closing line.
        max_examples
            Failing values shown per line.
        """
        counts = self._counts
        if counts.empty:
            return f"validation passed: {self.n_rows} rows, no failures"
        by_severity = counts.groupby("severity", sort=False)["n_failures"].sum()
        tally = ", ".join(
            f"{int(by_severity[s])} {s}" for s in SEVERITIES if s in by_severity.index
        )
        verdict = "passed" if self.passed else "failed"
        plural = "" if self.n_failures == 1 else "s"
        lines = [
            f"validation {verdict}: {self.n_failures} failure{plural} in {self.n_rows} rows, "
            f"worst {self.max_severity!r} ({tally})"
        ]
        if not self.lazy:
            lines[0] += "; stopped at the first failure (lazy=False)"
        if self.sampled:
            lines[0] += (
                f"; failure cases sampled ({len(self._failures)} of {self.n_failures} kept, "
                "counts exact)"
            )
        for check, what in ((_MISSING, "missing columns"), (_EXTRA, "extra columns")):
            rows = counts[counts["check"] == check]
            if len(rows):
                names = ", ".join(repr(c) for c in rows["column"])
                severities = "/".join(dict.fromkeys(rows["severity"]))
                lines.append(f"{what} [{severities}]: {names}")
        groups = counts[~counts["check"].isin([_MISSING, _EXTRA])]
        shown = groups.head(max(0, max_rows))
        lines.extend(self._group_lines(shown, max_examples))
        hidden = len(groups) - len(shown)
        if hidden > 0:
            lines.append(
                f"... and {hidden} more (column, check) group{'s' if hidden > 1 else ''} "
                f"with {int(groups['n_failures'].iloc[len(shown) :].sum())} failures: "
                "see to_frame()"
            )
        return "\n".join(lines)

    def _group_lines(self, shown: pd.DataFrame, max_examples: int) -> list[str]:
        if shown.empty:
            return []
        values = self._failures["failure_case"].to_numpy(dtype=object)
        index = self._failures["index"].to_numpy(dtype=object)
        examples: dict[tuple[Any, ...], list[tuple[Any, Any]]] = {}
        detail_of: dict[tuple[Any, ...], list[str]] = {}
        for run in self._runs:
            key = (run.column, run.check, run.severity)
            found = examples.setdefault(key, [])
            take = min(run.size, max(0, max_examples - len(found)))
            found.extend(
                zip(
                    values[run.start : run.start + take],
                    index[run.start : run.start + take],
                    strict=True,
                )
            )
            details = detail_of.setdefault(key, [])
            if run.detail not in details:
                details.append(run.detail)
        lines = []
        for column, check, severity, n in shown.itertuples(index=False, name=None):
            key = (column, check, severity)
            where = "frame check" if column is None else f"column {column!r},"
            text = f"- {where} {check} [{severity}]: {n} failure{'' if n == 1 else 's'}"
            found = examples.get(key, [])
            value_level = any(index is not None for _, index in found)
            if value_level and self.n_rows:
                text += f" ({100 * n / self.n_rows:.1f}% of rows)"
            expected = [str(d) for d in detail_of.get(key, ()) if str(d) != check]
            if expected:
                text += "; expected " + " or ".join(expected[:3])
            if any(value is not None or index is not None for value, index in found):
                shown_values = ", ".join(_example(value, index) for value, index in found)
                text += ("; e.g. " if value_level else "; got ") + shown_values
            lines.append(text)
        return lines

    def raise_for_errors(self, at: str = "error") -> None:
        """Raise :class:`mlkit.errors.SchemaError` if a failure is at ``at`` severity or worse.

        The message is :meth:`summary`. When every such failure is in one
        column, the error's ``column`` is that column, ``value`` its first
        failing value and ``expected`` the failed checks' text.

        Parameters
        ----------
        at
            The least severity that raises: ``"critical"``, ``"error"``
            (default), ``"warning"`` or ``"info"``.

        Examples
        --------
        >>> import pandas as pd
        >>> import pandera.pandas as pa
        >>> from mlkit.validation import validate
        >>> schema = pa.DataFrameSchema({"p": pa.Column(float, pa.Check.le(1.0))})
        >>> report = validate(pd.DataFrame({"p": [0.5, 1.5]}), schema)
        >>> report.raise_for_errors(at="critical")  # an 'error' is not critical
        >>> try:
        ...     report.raise_for_errors()
        ... except Exception as err:
        ...     print(type(err).__name__, err.column, err.value, err.expected)
        SchemaError p 1.5 less_than_or_equal_to(1.0)
        """
        check_severity(at, what="at")
        counts = self._counts
        bad = counts[[at_least(s, at) for s in counts["severity"]]]
        if bad.empty:
            return
        column = value = expected = None
        columns = set(bad["column"])
        if len(columns) == 1 and None not in columns:
            column = next(iter(columns))
            failures = self._failures
            rows = failures[
                (failures["column"] == column)
                & failures["severity"].isin([s for s in SEVERITIES if at_least(s, at)])
            ]
            value = _plain(rows["failure_case"].iloc[0])
            expected = "; ".join(str(d) for d in dict.fromkeys(rows["detail"]))
        message = self.summary()
        logger.debug("raising SchemaError for %d failures at %r or worse", len(bad), at)
        raise SchemaError(message, column=column, value=value, expected=expected)

    def __repr__(self) -> str:
        return (
            f"ValidationReport(passed={self.passed}, failures={self.n_failures}, "
            f"max_severity={self.max_severity!r})"
        )
