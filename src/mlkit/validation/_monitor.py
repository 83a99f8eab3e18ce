"""The data quality monitor: a schema and expectations on every batch, alerts and a history.

:class:`DataQualityMonitor` runs :func:`mlkit.validation.validate` with a
pandera schema and every :class:`~mlkit.validation.Expectation` on a frame,
and returns one :class:`QualityReport`. When something at or above
``notify_at`` failed it sends one :class:`~mlkit.protocols.Notification` to
the notifier; it keeps the last ``history`` reports for :meth:`trend`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd
import pandera.pandas as pa

from mlkit._frames import is_dask_frame, map_reduce
from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError, DataError, SchemaError
from mlkit.protocols import Clock, Notification, Notifier
from mlkit.validation._expectations import Expectation, ExpectationResult, to_json_safe
from mlkit.validation._scale import is_chunks
from mlkit.validation._severity import SEVERITIES, at_least, check_severity, max_severity, rank
from mlkit.validation._validate import validate

if TYPE_CHECKING:
    from mlkit.validation._report import ValidationReport

__all__ = ["DataQualityMonitor", "QualityReport"]

logger = logging.getLogger(__name__)

#: Columns of :meth:`QualityReport.to_frame`, in order.
FRAME_COLUMNS = (
    "source",
    "name",
    "column",
    "severity",
    "passed",
    "n_failures",
    "observed",
    "expected",
    "message",
)

#: Columns of :meth:`DataQualityMonitor.trend`, in order.
TREND_COLUMNS = (
    "time",
    "n_rows",
    "passed",
    "max_severity",
    *(f"n_{severity}" for severity in SEVERITIES),
)

_PLURAL = {"critical": "critical", "error": "errors", "warning": "warnings", "info": "info"}
_N_EXAMPLES = 5


def _label(value: Any) -> Any:
    # groupby(dropna=False) hands a None column (frame-level checks) back as NaN.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _examples(values: pd.Series[Any]) -> list[Any]:
    # Frame-level failure cases are dicts (unhashable): tell values apart by repr.
    seen: set[str] = set()
    out = []
    for value in values.head(50 * _N_EXAMPLES):
        key = repr(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
            if len(out) == _N_EXAMPLES:
                break
    return out


def _schema_rows(validation: ValidationReport) -> list[dict[str, Any]]:
    failures = validation.to_frame(detailed=True)
    if failures.empty:
        return []
    rows = []
    # The report's counts are exact even when its failure rows are a sample.
    exact: dict[tuple[Any, Any], int] = {}
    for column, check, _, n_failures in validation.counts().itertuples(index=False, name=None):
        exact[(column, check)] = exact.get((column, check), 0) + int(n_failures)
    groups = failures.groupby(["column", "check"], dropna=False, sort=False)
    for (column, check), group in groups:
        column = _label(column)
        n = exact.get((column, check), len(group))
        severity = max_severity(group["severity"].unique().tolist()) or "error"
        examples = _examples(group["failure_case"])
        where = "the frame" if column is None else f"column {column!r}"
        shown = ", ".join(repr(to_json_safe(e)) for e in examples)
        details = "; ".join(str(d) for d in group["detail"].unique()[:2] if d is not None)
        expected = details if details and details != check else None
        wanted = f" (expected {expected})" if expected else ""
        noun = "failure" if n == 1 else "failures"
        rows.append(
            {
                "source": "schema",
                "name": str(check),
                "column": column,
                "severity": severity,
                "passed": False,
                "n_failures": n,
                "observed": to_json_safe(examples),
                "expected": expected,
                "message": f"{n} {noun} of {check} on {where}{wanted}, e.g. {shown}",
            }
        )
    return rows


def _expectation_row(result: ExpectationResult) -> dict[str, Any]:
    n_failures = 0 if result.passed else (result.n_unexpected or 1)
    return {
        "source": "expectation",
        "name": result.name,
        "column": result.column,
        "severity": result.severity,
        "passed": result.passed,
        "n_failures": n_failures,
        "observed": result.observed,
        "expected": result.expected,
        "message": result.message,
    }


def _counts_text(counts: Mapping[str, int]) -> str:
    parts = [
        f"{n} {severity if n == 1 else _PLURAL[severity]}" for severity, n in counts.items() if n
    ]
    return ", ".join(parts) if parts else "no failures"


def _as_results(results: Iterable[ExpectationResult]) -> tuple[ExpectationResult, ...]:
    return tuple(results)


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).isoformat()


@attrs.frozen(repr=False)
class QualityReport:
    """What a :class:`DataQualityMonitor` found in one frame.

    Parameters
    ----------
    validation
        The schema's :class:`~mlkit.validation.ValidationReport`, or None
        without a schema (or when the frame could not be validated at all:
        see ``schema_error``).
    expectations
        One :class:`~mlkit.validation.ExpectationResult` per expectation.
    timestamp
        POSIX seconds (from the monitor's clock) when the frame was checked.
    n_rows
        The number of rows checked.
    schema_error
        Why :func:`~mlkit.validation.validate` refused the frame (empty, a
        schema for other columns, duplicate column names), reported as one
        critical failure; None otherwise.
    monitor
        The monitor's name.

    Notes
    -----
    A failure is a failing schema (column, check) group, the schema error,
    or a failed expectation; :attr:`max_severity`, :meth:`passed`,
    :meth:`counts` and the notification title count those, not failing rows.

    Examples
    --------
    >>> from mlkit.validation import ExpectationResult
    >>> report = QualityReport(
    ...     None,
    ...     (ExpectationResult("row_count_between", "error", False, 3, [10, None]),
    ...      ExpectationResult("null_share_below(a)", "warning", False, 0.2, 0.1)),
    ...     timestamp=0.0)
    >>> report
    QualityReport(passed=False, max_severity='error', failures=2)
    >>> report.passed(at="critical"), report.counts()
    (True, {'critical': 0, 'error': 1, 'warning': 1, 'info': 0})
    """

    validation: ValidationReport | None
    expectations: tuple[ExpectationResult, ...] = attrs.field(converter=_as_results)
    timestamp: float
    n_rows: int | None = attrs.field(default=None, kw_only=True)
    schema_error: str | None = attrs.field(default=None, kw_only=True)
    monitor: str = attrs.field(default="data quality", kw_only=True)
    _table: tuple[dict[str, Any], ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Grouping the schema failures is the costly part: do it once, not on
        # every passed()/counts() (trend() asks each kept report for both).
        object.__setattr__(self, "_table", tuple(self._build_rows()))

    def _rows(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._table]

    def _build_rows(self) -> list[dict[str, Any]]:
        rows = [] if self.validation is None else _schema_rows(self.validation)
        if self.schema_error is not None:
            rows.append(
                {
                    "source": "schema",
                    "name": "validate",
                    "column": None,
                    "severity": "critical",
                    "passed": False,
                    "n_failures": 1,
                    "observed": None,
                    "expected": None,
                    "message": self.schema_error,
                }
            )
        rows.extend(_expectation_row(result) for result in self.expectations)
        return rows

    def _failed(self) -> list[dict[str, Any]]:
        failed = [row for row in self._table if not row["passed"]]
        return sorted(failed, key=lambda row: -rank(row["severity"]))

    @property
    def max_severity(self) -> str | None:
        """The worst severity among the failures, or None when nothing failed."""
        return max_severity(row["severity"] for row in self._failed())

    def passed(self, at: str = "error") -> bool:
        """Return whether nothing at or above severity ``at`` failed."""
        check_severity(at, what="at")
        worst = self.max_severity
        return worst is None or not at_least(worst, at)

    def counts(self) -> dict[str, int]:
        """Return the number of failures of each severity, most severe first."""
        out = dict.fromkeys(SEVERITIES, 0)
        for row in self._failed():
            out[row["severity"]] += 1
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return one row per failing schema (column, check) group and per expectation.

        Columns are :data:`FRAME_COLUMNS`: ``source`` (``"schema"`` or
        ``"expectation"``), ``name`` (the check or expectation), ``column``,
        ``severity``, ``passed``, ``n_failures`` (failing values of a schema
        check; ``n_unexpected`` or 1 for a failed expectation, 0 for a
        passed one), ``observed`` (a schema check's first failure cases),
        ``expected`` and ``message``.
        """
        rows = self._rows()
        frame: pd.DataFrame = pd.DataFrame(
            {
                # object columns keep None as None and lists as lists
                name: pd.Series([row[name] for row in rows], dtype=object)
                for name in FRAME_COLUMNS
            }
        )
        frame["passed"] = frame["passed"].astype(bool)
        frame["n_failures"] = frame["n_failures"].astype(np.int64)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-safe dict, the rows of :meth:`to_frame` as ``results``."""
        return {
            "monitor": self.monitor,
            "timestamp": self.timestamp,
            "time": _iso(self.timestamp),
            "n_rows": self.n_rows,
            "passed": self.passed(),
            "max_severity": self.max_severity,
            "counts": self.counts(),
            "results": [to_json_safe(row) for row in self._rows()],
        }

    def summary(self, max_rows: int = 20) -> str:
        """Return a readable account of the failures, worst first."""
        failed = self._failed()
        verdict = "passed" if self.passed() else "FAILED"
        rows = "?" if self.n_rows is None else str(self.n_rows)
        lines = [
            f"{self.monitor}: {verdict}, {_counts_text(self.counts())} "
            f"({rows} rows at {_iso(self.timestamp)})"
        ]
        for row in failed[:max_rows]:
            lines.append(f"- [{row['severity']}] {row['source']} {row['name']}: {row['message']}")
        if len(failed) > max_rows:
            lines.append(f"... and {len(failed) - max_rows} more")
        n_passed = sum(result.passed for result in self.expectations)
        if n_passed:
            lines.append(f"{n_passed} of {len(self.expectations)} expectations passed")
        return "\n".join(lines)

    def raise_for_errors(self, at: str = "error") -> None:
        """Raise :class:`~mlkit.errors.SchemaError` (message: :meth:`summary`) if not passed.

        Raises
        ------
        SchemaError
            If anything at or above severity ``at`` failed.
        """
        if not self.passed(at):
            raise SchemaError(self.summary(), expected=f"no failure at or above {at!r}")

    def __repr__(self) -> str:
        return (
            f"QualityReport(passed={self.passed()}, max_severity={self.max_severity!r}, "
            f"failures={len(self._failed())})"
        )


class DataQualityMonitor:
    """Check every batch against a schema and expectations; notify and keep a history.

    Parameters
    ----------
    schema
        A pandera ``DataFrameSchema`` run through
        :func:`~mlkit.validation.validate`, or None.
    expectations
        :class:`~mlkit.validation.Expectation` objects with distinct names.
    notifier
        A :class:`~mlkit.protocols.Notifier`, told once per :meth:`check`
        that has a failure at or above ``notify_at``; None to only report.
    notify_at
        The least severity that notifies (``"error"`` by default).
    history
        How many reports to keep (the oldest are dropped).
    clock
        Where report times come from; :class:`~mlkit.clock.SystemClock` by
        default.
    name
        The monitor's name: the start of the notification title and the
        ``monitor`` label.
    labels
        Extra notification labels for routing (``{"model": "fraud"}``).

    Notes
    -----
    :meth:`check` never raises for the data: a frame the schema cannot
    validate (empty, duplicate column names, a schema for other columns)
    is one critical failure named ``"validate"`` in the report, and an
    expectation that raises is a failed result. A notifier that raises is
    logged and counted in :attr:`notification_errors`, and the report is
    returned all the same. Checking is thread-safe.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlkit.clock import FakeClock
    >>> from mlkit.validation import expect_null_share_below, expect_row_count_between
    >>> class Printer:
    ...     def notify(self, notification):
    ...         print(notification.severity, "|", notification.title)
    >>> monitor = DataQualityMonitor(
    ...     expectations=[expect_row_count_between(3, None),
    ...                   expect_null_share_below("a", 0.1, severity="warning")],
    ...     notifier=Printer(), clock=FakeClock(start=0))
    >>> report = monitor.check(pd.DataFrame({"a": [1.0, None]}))
    error | data quality: 1 error, 1 warning
    >>> report.passed(), report.passed(at="critical")
    (False, True)
    >>> monitor.trend()[["passed", "n_error", "n_warning"]]
       passed  n_error  n_warning
    0   False        1          1
    """

    def __init__(
        self,
        schema: pa.DataFrameSchema | None = None,
        expectations: Iterable[Expectation] = (),
        *,
        notifier: Notifier | None = None,
        notify_at: str = "error",
        history: int = 100,
        clock: Clock | None = None,
        name: str = "data quality",
        labels: Mapping[str, str] | None = None,
    ) -> None:
        if schema is not None and not isinstance(schema, pa.DataFrameSchema):
            raise ConfigurationError(
                f"DataQualityMonitor: schema must be a pandera DataFrameSchema or None, "
                f"got {type(schema).__name__}",
                value=schema,
                expected="pandera.pandas.DataFrameSchema",
            )
        if isinstance(expectations, Expectation):
            expectations = [expectations]
        listed = list(expectations)
        seen: set[str] = set()
        for i, expectation in enumerate(listed):
            if not isinstance(expectation, Expectation):
                raise ConfigurationError(
                    f"DataQualityMonitor: expectations[{i}] is {expectation!r}, not an "
                    "Expectation",
                    value=expectation,
                    expected="mlkit.validation.Expectation (see the expect_* functions)",
                )
            if expectation.name in seen:
                raise ConfigurationError(
                    f"DataQualityMonitor: two expectations are named {expectation.name!r}; "
                    "pass name=... to tell them apart",
                    value=expectation.name,
                    expected="distinct expectation names",
                )
            seen.add(expectation.name)
        if notifier is not None and not callable(getattr(notifier, "notify", None)):
            raise ConfigurationError(
                f"DataQualityMonitor: notifier must have a notify(notification) method, "
                f"got {notifier!r}",
                value=notifier,
                expected="an mlkit.protocols.Notifier",
            )
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ConfigurationError(
                f"DataQualityMonitor: history must be a positive int, got {history!r}",
                value=history,
                expected="an int >= 1",
            )
        if clock is None:
            clock = SystemClock()
        elif not isinstance(clock, Clock):
            raise ConfigurationError(
                f"DataQualityMonitor: clock must have a now() method, got {clock!r}",
                value=clock,
                expected="an mlkit.protocols.Clock",
            )
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"DataQualityMonitor: name must be a non-empty string, got {name!r}",
                value=name,
                expected="a non-empty string",
            )
        extra = dict(labels or {})
        for key, value in extra.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ConfigurationError(
                    f"DataQualityMonitor: labels must map strings to strings, got "
                    f"{key!r}: {value!r}",
                    value=(key, value),
                    expected="{'model': 'fraud'}",
                )
        self.schema = schema
        self.expectations: tuple[Expectation, ...] = tuple(listed)
        self.notifier = notifier
        self.notify_at = check_severity(notify_at, what="notify_at")
        self.clock: Clock = clock
        self.name = name
        self.labels: dict[str, str] = extra
        self._history: deque[QualityReport] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._sent = 0
        self._errors = 0

    def check(self, df: Any) -> QualityReport:
        """Validate ``df`` against the schema and every expectation; notify; record.

        ``df`` may also be a ``dask.dataframe.DataFrame`` or a list of
        pandas chunks: the schema is validated piece by piece (see
        :func:`mlkit.validation.validate`; failure cases are then a sample of
        100 per check, counts exact), and the ready-made expectations are
        computed from statistics merged across pieces, all of them in one
        pass over the data, with the same results as on the pandas frame
        holding the same rows (means and standard deviations up to
        floating-point rounding). ``expect_column_stat_between(...,
        "median")`` and a custom :class:`Expectation` not marked
        ``dask=True`` are reported as not evaluated (a failed ``warning``
        result saying so).

        Raises
        ------
        DataError
            If ``df`` is none of those (anything wrong with the data itself
            is reported, not raised), or is a one-shot iterator of chunks.
        """
        if not isinstance(df, pd.DataFrame) and (is_dask_frame(df) or is_chunks(df)):
            return self._check_pieces(df)
        if not isinstance(df, pd.DataFrame):
            raise DataError(
                f"DataQualityMonitor.check needs a pandas DataFrame, got {type(df).__name__}",
                value=type(df).__name__,
                expected="a pandas DataFrame",
            )
        timestamp = self.clock.now()
        validation = None
        schema_error = None
        if self.schema is not None:
            try:
                validation = validate(df, self.schema)
            except DataError as exc:
                # A frame the schema cannot even be applied to is the worst
                # quality problem, not a reason to lose the other results.
                schema_error = str(exc)
        results = tuple(expectation.check(df) for expectation in self.expectations)
        return self._record(validation, results, timestamp, len(df), schema_error)

    def _check_pieces(self, data: Any) -> QualityReport:
        if not is_dask_frame(data) and iter(data) is data:
            raise DataError(
                "DataQualityMonitor.check: the chunks are a one-shot iterator, but the schema "
                "and the expectations read them more than once; pass a list of chunks or a "
                "Dask frame",
                value=type(data).__name__,
                expected="a list of pandas DataFrames or a dask.dataframe.DataFrame",
            )
        timestamp = self.clock.now()
        validation = None
        schema_error = None
        if self.schema is not None:
            try:
                validation = validate(data, self.schema)
            except DataError as exc:
                schema_error = str(exc)
        merged = [e for e in self.expectations if e._pieces is not None]
        # Only the (summarise, merge) pairs travel to the workers, not the expectations.
        functions = [e._piece_functions() for e in merged]

        def summarise(piece: pd.DataFrame) -> tuple[Any, ...]:
            return (len(piece), *(f(piece) for f, _ in functions))

        def merge(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
            return (
                a[0] + b[0],
                *(m(x, y) for (_, m), x, y in zip(functions, a[1:], b[1:], strict=True)),
            )

        if merged or validation is None:
            # One pass over the data for the row count and every mergeable expectation.
            n_rows, *states = map_reduce(data, summarise, merge, name="the data")
        else:
            n_rows, states = validation.n_rows, []
        finished = {e.name: e._finish(state) for e, state in zip(merged, states, strict=True)}
        results = []
        for expectation in self.expectations:
            if expectation.name in finished:
                results.append(finished[expectation.name])
            elif expectation.dask and is_dask_frame(data):
                results.append(expectation.check(data))
            else:
                results.append(expectation.not_evaluated(data))
        return self._record(validation, tuple(results), timestamp, int(n_rows), schema_error)

    def _record(
        self,
        validation: ValidationReport | None,
        results: tuple[ExpectationResult, ...],
        timestamp: float,
        n_rows: int,
        schema_error: str | None,
    ) -> QualityReport:
        report = QualityReport(
            validation,
            results,
            timestamp,
            n_rows=n_rows,
            schema_error=schema_error,
            monitor=self.name,
        )
        with self._lock:
            self._history.append(report)
        logger.debug("%s", report.summary(max_rows=5))
        if self.notifier is not None and not report.passed(at=self.notify_at):
            self._notify(report)
        return report

    def _notify(self, report: QualityReport) -> None:
        assert self.notifier is not None
        severity = report.max_severity or "info"
        labels = {"alertname": "DataQuality", **self.labels, "monitor": self.name}
        labels["severity"] = severity
        notification = Notification(
            title=f"{self.name}: {_counts_text(report.counts())}",
            message=report.summary(),
            severity=severity,
            labels=labels,
            timestamp=report.timestamp,
        )
        try:
            self.notifier.notify(notification)
        except Exception:
            # Alert delivery is best effort: a broken webhook must not stop
            # the batch from being checked and recorded.
            logger.exception("%s: notifier %r failed", self.name, self.notifier)
            with self._lock:
                self._errors += 1
        else:
            with self._lock:
                self._sent += 1

    @property
    def history(self) -> tuple[QualityReport, ...]:
        """The kept reports, oldest first."""
        with self._lock:
            return tuple(self._history)

    @property
    def latest(self) -> QualityReport | None:
        """The last report, or None before the first check."""
        with self._lock:
            return self._history[-1] if self._history else None

    @property
    def notifications_sent(self) -> int:
        """How many notifications the notifier accepted."""
        with self._lock:
            return self._sent

    @property
    def notification_errors(self) -> int:
        """How many notifications failed because the notifier raised."""
        with self._lock:
            return self._errors

    def trend(self) -> pd.DataFrame:
        """Return one row per kept report, oldest first.

        Columns are :data:`TREND_COLUMNS`: ``time`` (UTC), ``n_rows``,
        ``passed`` (nothing at ``error`` or worse failed), ``max_severity`` and
        the number of failures of each severity (``n_critical``, ``n_error``,
        ``n_warning``, ``n_info``).
        """
        rows = []
        for report in self.history:
            counts = report.counts()
            rows.append(
                {
                    "time": report.timestamp,
                    "n_rows": report.n_rows,
                    "passed": report.passed(),
                    "max_severity": report.max_severity,
                    **{f"n_{severity}": counts[severity] for severity in SEVERITIES},
                }
            )
        frame: pd.DataFrame = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"].astype("float64"), unit="s", utc=True)
        # None, not NaN, where nothing failed, as in QualityReport.max_severity
        frame["max_severity"] = pd.Series(
            [row["max_severity"] for row in rows], index=frame.index, dtype=object
        )
        return frame

    def __repr__(self) -> str:
        with self._lock:
            kept = len(self._history)
        return (
            f"DataQualityMonitor({self.name!r}, schema={self.schema is not None}, "
            f"expectations={len(self.expectations)}, history={kept}/{self._history.maxlen})"
        )
