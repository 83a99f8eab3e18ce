"""Streaming drift monitor: windows of live traffic tested against a reference.

:class:`DriftMonitor` is meant to sit on a serving app's request path, so
``observe`` on one record is a handful of tuple lookups and one row write into
preallocated numpy buffers (float64 for numeric columns, object for the rest):
no pandas, no logging, no allocation that grows with traffic. Only when a
window completes are the buffered rows copied out (under the lock, a few
microseconds), turned into a DataFrame and tested by the fitted
:class:`~mlkit.drift.DriftDetector` (outside the buffer lock, so other
requests keep observing while the test runs).

Memory is constant: one ``window``-row buffer, a bounded history of reports,
and one gauge child per (feature, test).
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from mlkit._frames import is_dask_frame, map_reduce, n_pieces
from mlkit.clock import SystemClock
from mlkit.drift import BatchProfile, DriftDetector, DriftReport, ReferenceProfile
from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring._registry import family

if TYPE_CHECKING:
    import pandas as pd
    from prometheus_client import CollectorRegistry

    from mlkit.protocols import Clock

__all__ = ["DriftMonitor", "WindowReport"]

logger = logging.getLogger(__name__)

_NUMERIC = "numeric"
# Gauges in prometheus multiprocess mode: each worker monitors its own share of
# the traffic; the most recent window of any live worker is the useful value.
_GAUGE_MODE = "livemostrecent"


@attrs.frozen(repr=False, eq=False)
class WindowReport:
    """The drift test of one completed window of observed rows.

    Attributes
    ----------
    index
        The window's number, from 0, in the order windows were closed.
    start, end
        Clock times of the window: for time windows its aligned bounds, for
        row windows the first observation and the moment it completed.
    n_rows
        Rows tested (at most ``window``).
    n_observed
        Rows observed during the window; larger than ``n_rows`` only for time
        windows that overflowed, whose rows are then a uniform sample.
    closed_by
        ``"rows"``, ``"time"`` or ``"flush"``.
    report
        The :class:`~mlkit.drift.DriftReport`, or None if the test failed.
    error
        Why the test failed (``"TypeName: message"``), else None.
    """

    index: int
    start: float
    end: float
    n_rows: int
    n_observed: int
    closed_by: str
    report: DriftReport | None
    error: str | None = None

    @property
    def drifted(self) -> bool:
        """The dataset verdict of the window (False when the test failed)."""
        return self.report is not None and self.report.drifted

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """The drifted columns of the window, in reference order."""
        return () if self.report is None else self.report.drifted_columns

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: the window fields and the report's ``to_dict()``."""
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "n_rows": self.n_rows,
            "n_observed": self.n_observed,
            "closed_by": self.closed_by,
            "error": self.error,
            "report": None if self.report is None else self.report.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        """Return the report's rows with ``window, window_start, window_end`` in front."""
        import pandas as pd

        frame = (
            self.report.to_frame()
            if self.report is not None
            else pd.DataFrame({"column": pd.Series([], dtype=object)})
        )
        frame.insert(0, "window_end", self.end)
        frame.insert(0, "window_start", self.start)
        frame.insert(0, "window", self.index)
        return frame

    def __repr__(self) -> str:
        what = repr(self.report) if self.report is not None else f"error={self.error!r}"
        return f"WindowReport(index={self.index}, n_rows={self.n_rows}, {what})"


@attrs.frozen
class _Snapshot:
    """A completed window's rows, copied out of the buffers under the lock."""

    index: int
    start: float
    end: float
    n_observed: int
    closed_by: str
    numeric: np.ndarray[Any, Any]
    other: np.ndarray[Any, Any]


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], Any]:
    # itemgetter of one name returns the bare value, not a 1-tuple; an object
    # row write would then try to broadcast a str or tuple value.
    if len(names) == 1:
        (name,) = names
        return lambda record: (record[name],)
    if not names:
        return lambda record: ()
    return itemgetter(*names)


class DriftMonitor:
    """Watch live inputs for drift against a reference, one window at a time.

    The reference is fitted once by :class:`~mlkit.drift.DriftDetector`.
    :meth:`observe` appends records (or frames) into preallocated buffers of
    ``window`` rows; each completed window is tested, its
    :class:`WindowReport` kept in a bounded :attr:`history`, passed to
    ``on_report`` and exported as Prometheus gauges
    ``mlkit_drift_score{feature,test}`` (the test statistic),
    ``mlkit_drift_detected{feature}`` (1 drifted, 0 not) and the counter
    ``mlkit_drift_windows_total{outcome}`` (``drifted``, ``not_drifted``,
    ``error``).

    Parameters
    ----------
    reference_df
        The reference data (a DataFrame), or a saved
        :class:`~mlkit.drift.ReferenceProfile`.
    window
        Rows per window (row windows), or the buffer size of a time window.
    window_seconds
        If given, windows are closed by time instead: aligned intervals of
        this many seconds on ``clock``, closed by the first :meth:`observe` or
        :meth:`tick` after their end. When more than ``window`` rows arrive in
        one interval, the buffer keeps a uniform random sample of them
        (reservoir sampling), so memory stays constant.
    tests
        Passed to :class:`~mlkit.drift.DriftDetector` (None: its defaults).
    registry
        The Prometheus registry; None uses
        :func:`mlkit.monitoring.default_registry`.
    clock
        Time source (:class:`mlkit.clock.SystemClock` if None).
    detector_kwargs
        Further :class:`~mlkit.drift.DriftDetector` arguments (``alpha``,
        ``decision``, ``categorical``, ...).
    history
        How many window reports to keep.
    on_report
        Called with each :class:`WindowReport`, in the thread that completed
        the window; an exception it raises is logged, never propagated.
    seed
        Seed of the reservoir sampling of overflowing time windows.

    Notes
    -----
    The thread whose observation completes a window runs the test (a few
    milliseconds for 1,000 rows); every other call is a few microseconds.
    Records must have exactly the reference's columns.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from prometheus_client import CollectorRegistry
    >>> from mlkit.monitoring import DriftMonitor
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"amount": rng.normal(100, 10, 2000),
    ...                           "channel": rng.choice(["web", "app"], 2000)})
    >>> registry = CollectorRegistry()
    >>> monitor = DriftMonitor(reference, window=500, registry=registry)
    >>> for amount in rng.normal(130, 10, 500):
    ...     monitor.observe({"amount": amount, "channel": "web"})
    >>> monitor.latest.drifted_columns
    ('amount', 'channel')
    >>> registry.get_sample_value("mlkit_drift_detected", {"feature": "amount"})
    1.0
    """

    def __init__(
        self,
        reference_df: pd.DataFrame | ReferenceProfile,
        *,
        window: int = 1000,
        window_seconds: float | None = None,
        tests: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
        detector_kwargs: Mapping[str, Any] | None = None,
        history: int = 100,
        on_report: Callable[[WindowReport], Any] | None = None,
        seed: int | None = 0,
    ) -> None:
        _check_int(window, "window", 2)
        _check_int(history, "history", 1)
        if window_seconds is not None and not (
            isinstance(window_seconds, int | float)
            and not isinstance(window_seconds, bool)
            and math.isfinite(window_seconds)
            and window_seconds > 0
        ):
            raise ConfigurationError(
                f"window_seconds must be a positive number of seconds or None, "
                f"got {window_seconds!r}",
                column="window_seconds",
                value=window_seconds,
                expected="a positive finite number or None",
            )
        if on_report is not None and not callable(on_report):
            raise ConfigurationError(
                f"on_report must be callable or None, got {type(on_report).__name__}",
                column="on_report",
                value=on_report,
                expected="a callable taking a WindowReport, or None",
            )
        kwargs = dict(detector_kwargs or {})
        if "tests" in kwargs:
            raise ConfigurationError(
                "pass tests= to DriftMonitor, not inside detector_kwargs",
                column="detector_kwargs",
                value=kwargs["tests"],
                expected="detector_kwargs without 'tests'",
            )
        if isinstance(reference_df, ReferenceProfile):
            self._detector = DriftDetector.from_profile(reference_df, tests=tests, **kwargs)
        else:
            self._detector = DriftDetector(tests, **kwargs).fit(reference_df)
        profile = self._detector.profile_
        self.window = window
        self.window_seconds = None if window_seconds is None else float(window_seconds)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._on_report = on_report
        self._columns: tuple[str, ...] = tuple(profile.columns)
        self._numeric: tuple[str, ...] = tuple(
            c for c, k in zip(profile.columns, profile.kinds, strict=True) if k == _NUMERIC
        )
        # Categorical and unsupported columns alike keep their Python objects;
        # the detector reports the unsupported ones untestable, as in test().
        self._other: tuple[str, ...] = tuple(
            c for c, k in zip(profile.columns, profile.kinds, strict=True) if k != _NUMERIC
        )
        self._get_numeric = _getter(self._numeric)
        self._get_other = _getter(self._other)
        self._num = np.empty((window, len(self._numeric)), dtype=np.float64)
        self._obj = np.empty((window, len(self._other)), dtype=object)

        self._lock = threading.Lock()
        # Serialises the tests and what they write (history, gauges), off the
        # buffer lock so that observers never wait for a test.
        self._report_lock = threading.Lock()
        self._pos = 0
        self._seen = 0  # rows observed in the current window
        self._total = 0
        self._index = 0
        self._start = math.nan
        # -inf: no time window open yet; the first observation opens one.
        self._deadline = -math.inf
        self._random = random.Random(seed)
        self._np_random = np.random.default_rng(seed)
        self._history: deque[WindowReport] = deque(maxlen=history)
        self._latest: WindowReport | None = None

        self._score = family(
            registry,
            "gauge",
            "mlkit_drift_score",
            "Drift statistic of the last completed window, by feature and test.",
            ("feature", "test"),
            multiprocess_mode=_GAUGE_MODE,
        )
        self._detected = family(
            registry,
            "gauge",
            "mlkit_drift_detected",
            "1 if the feature drifted in the last completed window, else 0.",
            ("feature",),
            multiprocess_mode=_GAUGE_MODE,
        )
        windows = family(
            registry,
            "counter",
            "mlkit_drift_windows",
            "Completed drift windows, by outcome (drifted, not_drifted, error).",
            ("outcome",),
        )
        self._outcomes = {
            o: windows.labels(outcome=o) for o in ("drifted", "not_drifted", "error")
        }
        self._detected_children = {c: self._detected.labels(feature=c) for c in self._columns}
        self._score_children: dict[tuple[str, str], Any] = {}

    # -- public state ------------------------------------------------------------------

    @property
    def detector(self) -> DriftDetector:
        """The fitted :class:`~mlkit.drift.DriftDetector`."""
        return self._detector

    @property
    def columns(self) -> tuple[str, ...]:
        """The reference columns every record must have, in order."""
        return self._columns

    @property
    def latest(self) -> WindowReport | None:
        """The most recent window report, or None before the first window completes."""
        return self._latest

    @property
    def history(self) -> tuple[WindowReport, ...]:
        """The last ``history`` window reports, oldest first."""
        with self._report_lock:
            return tuple(self._history)

    @property
    def n_observed(self) -> int:
        """Rows observed since construction."""
        return self._total

    @property
    def n_pending(self) -> int:
        """Rows buffered in the current, not yet completed window."""
        return self._pos

    # -- hot path ----------------------------------------------------------------------

    def observe(self, data: Mapping[str, Any] | pd.Series | pd.DataFrame) -> None:
        """Add one record (dict or Series) or a batch (DataFrame) to the current window.

        When this completes a window, the window is tested before returning.
        A Dask DataFrame is too large to buffer: it is handed to
        :meth:`observe_batch` and tested as one window of its own (the rows
        pending in the current window stay pending).

        Raises
        ------
        DataError
            If a record or frame lacks a reference column or has a column the
            reference lacks, or a numeric column holds a non-number; nothing of
            that record (or frame) is buffered.
        """
        if type(data) is dict:
            record: Mapping[str, Any] = data
        else:
            import pandas as pd

            if isinstance(data, pd.DataFrame):
                self._observe_frame(data)
                return
            if is_dask_frame(data):
                self.observe_batch(data)
                return
            if isinstance(data, pd.Series):
                record = {str(k): v for k, v in data.items()}
            elif isinstance(data, Mapping):
                record = data
            else:
                raise DataError(
                    f"observe takes a dict, a pandas Series or a DataFrame, "
                    f"got {type(data).__name__}",
                    value=type(data).__name__,
                    expected="a dict record, a Series or a DataFrame",
                )
        try:
            numeric = self._get_numeric(record)
            other = self._get_other(record)
        except KeyError as exc:
            raise self._missing_column(exc.args[0]) from None
        if len(record) != len(self._columns):
            raise self._unknown_column(record)
        snapshot = None
        with self._lock:
            if self.window_seconds is not None:
                snapshot = self._roll_locked(self._clock.now())
            pos = self._pos
            if pos < self.window:
                try:
                    self._num[pos] = numeric
                except (TypeError, ValueError):
                    raise self._bad_number(record) from None
                self._obj[pos] = other
                self._pos = pos + 1
                if pos == 0 and self.window_seconds is None:
                    self._start = self._clock.now()
            else:
                # A full time window: reservoir sampling (algorithm R) keeps
                # a uniform sample of every row seen in the interval.
                try:
                    row = np.asarray(numeric, dtype=np.float64)
                except (TypeError, ValueError):
                    raise self._bad_number(record) from None
                slot = self._random.randrange(self._seen + 1)
                if slot < pos:
                    self._num[slot] = row
                    self._obj[slot] = other
            self._seen += 1
            self._total += 1
            if self.window_seconds is None and self._pos == self.window:
                snapshot = self._take_locked(self._clock.now(), "rows")
        if snapshot is not None:
            self._run(snapshot)

    # -- batches and time --------------------------------------------------------------

    def _observe_frame(self, frame: pd.DataFrame) -> None:
        frame = _check_columns(frame.columns, self._columns, frame)
        numeric = _numeric_block(frame, self._numeric)
        other = frame[list(self._other)].to_numpy(dtype=object)
        snapshots: list[_Snapshot] = []
        n = len(frame)
        with self._lock:
            time_mode = self.window_seconds is not None
            if time_mode:
                found = self._roll_locked(self._clock.now())
                if found is not None:
                    snapshots.append(found)
            done = 0
            while done < n:
                pos = self._pos
                take = min(self.window - pos, n - done)
                if take > 0:
                    if pos == 0 and not time_mode:
                        self._start = self._clock.now()
                    self._num[pos : pos + take] = numeric[done : done + take]
                    self._obj[pos : pos + take] = other[done : done + take]
                    self._pos = pos + take
                    self._seen += take
                    done += take
                if not time_mode and self._pos == self.window:
                    snapshots.append(self._take_locked(self._clock.now(), "rows"))
                elif time_mode and done < n:
                    self._reservoir_locked(numeric[done:], other[done:])
                    self._seen += n - done
                    done = n
            self._total += n
        for snapshot in snapshots:
            self._run(snapshot)

    def _reservoir_locked(
        self, numeric: np.ndarray[Any, Any], other: np.ndarray[Any, Any]
    ) -> None:
        # Algorithm R for a block: row i replaces slot j ~ U[0, seen + i]; of
        # repeated slots the later row wins, as it would one row at a time.
        seen = self._seen + np.arange(len(numeric))
        slots = self._np_random.integers(0, seen + 1)
        keep = np.flatnonzero(slots < self.window)
        if len(keep):
            target = slots[keep]
            # Keep only the last write per slot so the result does not depend
            # on how numpy orders repeated indices.
            last = len(target) - 1 - np.unique(target[::-1], return_index=True)[1]
            self._num[target[last]] = numeric[keep[last]]
            self._obj[target[last]] = other[keep[last]]

    def observe_batch(self, data: Any, *, split_every: int = 8) -> WindowReport:
        """Test a whole batch of rows as one window of its own, without buffering it.

        For batches larger than memory: a day of logged requests as a Dask
        DataFrame, or a file read in chunks. Each piece (a partition, where
        it lives, or a chunk, one at a time) is summarised by the detector's
        mergeable :class:`~mlkit.drift.BatchProfile`
        (:meth:`~mlkit.drift.DriftDetector.profile`); the profiles are merged
        (a tree reduction on Dask, so only profiles travel, never rows) and
        tested with :meth:`~mlkit.drift.DriftDetector.test_profile`. The
        report is exported, kept in :attr:`history` and passed to
        ``on_report`` like any window's, with ``closed_by="batch"``.

        The result does not depend on how the rows are cut into pieces. The
        statistics computed from counts on the reference bins (PSI,
        Jensen-Shannon, Hellinger, chi-square, TVD, missing rate) equal those
        of the same rows tested as one pandas window; KS is what
        :meth:`~mlkit.drift.DriftDetector.test_profile` gives (see
        :class:`~mlkit.drift.BatchProfile` for its bound), and tests that need
        the raw values (Wasserstein, Cramér-von Mises) are reported
        untestable. The rows pending in the current window are not touched.

        Parameters
        ----------
        data
            A pandas DataFrame, an iterable of DataFrame chunks, or a
            ``dask.dataframe.DataFrame`` (the ``dask`` extra), with exactly
            the reference's columns.
        split_every
            Profiles merged per task of the Dask tree reduction.

        Returns
        -------
        WindowReport
            The window's report (also :attr:`latest`).

        Raises
        ------
        DataError
            If a piece lacks a reference column or has one the reference lacks,
            a numeric column holds non-numbers, or the batch has no rows.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from prometheus_client import CollectorRegistry
        >>> rng = np.random.default_rng(0)
        >>> reference = pd.DataFrame({"amount": rng.normal(100, 10, 2000)})
        >>> monitor = DriftMonitor(reference, registry=CollectorRegistry())
        >>> chunks = (pd.DataFrame({"amount": rng.normal(130, 10, 500)}) for _ in range(4))
        >>> window = monitor.observe_batch(chunks)
        >>> window.n_rows, window.closed_by, window.drifted_columns
        (2000, 'batch', ('amount',))
        """
        if is_dask_frame(data):
            # Fail fast on the client: the meta has the columns and dtypes.
            _check_columns(data.columns, self._columns, None)
        start = self._clock.now()
        summarise = _PieceProfile(self._detector, self._columns, self._numeric)
        batch = map_reduce(
            data, summarise, BatchProfile.merge, split_every=split_every, name="batch"
        )
        if batch.n_rows == 0:
            raise DataError("the batch has no rows", value=0, expected="at least 1 row")
        logger.debug(
            "profiled a batch of %d rows in %s piece(s)", batch.n_rows, n_pieces(data) or "?"
        )
        with self._lock:  # numbered once profiled: a refused batch leaves no gap
            index = self._index
            self._index += 1
            self._total += batch.n_rows
        return self._publish(
            lambda: self._detector.test_profile(batch),
            index=index,
            start=start,
            end=self._clock.now(),
            n_rows=batch.n_rows,
            n_observed=batch.n_rows,
            closed_by="batch",
        )

    def tick(self) -> WindowReport | None:
        """Close the current time window if its interval is over, and test it.

        Call it from a timer (or the alert evaluation loop) so that a quiet
        period still produces its report; :meth:`observe` does the same check.
        A no-op for row windows.

        Returns
        -------
        WindowReport or None
            The report of the window closed, if any.
        """
        if self.window_seconds is None:
            return None
        with self._lock:
            snapshot = self._roll_locked(self._clock.now())
        return None if snapshot is None else self._run(snapshot)

    def flush(self) -> WindowReport | None:
        """Test the rows buffered so far as a window now, and start a new one.

        Returns
        -------
        WindowReport or None
            The report, or None if no row is buffered.
        """
        with self._lock:
            if self._pos == 0:
                return None
            snapshot = self._take_locked(self._clock.now(), "flush")
        return self._run(snapshot)

    def _roll_locked(self, now: float) -> _Snapshot | None:
        """Close the time window if ``now`` is past its end; start the one holding ``now``."""
        if now < self._deadline:
            return None
        step = self.window_seconds
        assert step is not None
        snapshot = None
        if self._deadline == -math.inf:  # the first observation starts the clock
            start = now
        else:
            end = self._deadline
            if self._pos:
                snapshot = self._take_locked(end, "time")
            # Skip intervals that saw no traffic: windows stay aligned.
            start = end + math.floor((now - end) / step) * step
        self._start = start
        self._deadline = start + step
        return snapshot

    def _take_locked(self, end: float, closed_by: str) -> _Snapshot:
        n = self._pos
        snapshot = _Snapshot(
            index=self._index,
            start=self._start,
            end=end,
            n_observed=self._seen,
            closed_by=closed_by,
            numeric=self._num[:n].copy(),
            other=self._obj[:n].copy(),
        )
        self._index += 1
        self._pos = 0
        self._seen = 0
        if self.window_seconds is not None:
            self._start = end
        return snapshot

    # -- reporting ---------------------------------------------------------------------

    def _run(self, snapshot: _Snapshot) -> WindowReport:
        import pandas as pd

        data: dict[str, Any] = {}
        for j, name in enumerate(self._numeric):
            data[name] = snapshot.numeric[:, j]
        for j, name in enumerate(self._other):
            data[name] = snapshot.other[:, j]
        frame = pd.DataFrame({name: data[name] for name in self._columns}, copy=False)
        return self._publish(
            lambda: self._detector.test(frame),
            index=snapshot.index,
            start=snapshot.start,
            end=snapshot.end,
            n_rows=len(frame),
            n_observed=snapshot.n_observed,
            closed_by=snapshot.closed_by,
        )

    def _publish(
        self,
        test: Callable[[], DriftReport],
        *,
        index: int,
        start: float,
        end: float,
        n_rows: int,
        n_observed: int,
        closed_by: str,
    ) -> WindowReport:
        """Run ``test``, then record, export and hand out the window's report."""
        with self._report_lock:
            try:
                report: DriftReport | None = test()
                error = None
            except Exception as exc:  # a window must never break the request path
                logger.exception("drift test of window %d failed", index)
                report, error = None, f"{type(exc).__name__}: {exc}"
            result = WindowReport(
                index=index,
                start=start,
                end=end,
                n_rows=n_rows,
                n_observed=n_observed,
                closed_by=closed_by,
                report=report,
                error=error,
            )
            self._export(result)
            self._history.append(result)
            self._latest = result
        logger.info("%r", result)
        if self._on_report is not None:
            try:
                self._on_report(result)
            except Exception:
                logger.exception("on_report callback failed for window %d", index)
        return result

    def _export(self, result: WindowReport) -> None:
        report = result.report
        if report is None:
            self._outcomes["error"].inc()
            return
        self._outcomes["drifted" if report.drifted else "not_drifted"].inc()
        table = report._table  # read-only use; to_frame() would copy every column
        for column, test, statistic in zip(
            table["column"], table["test"], table["statistic"], strict=True
        ):
            key = (str(column), str(test))
            child = self._score_children.get(key)
            if child is None:
                child = self._score_children[key] = self._score.labels(feature=key[0], test=key[1])
            child.set(float(statistic))
        drifted = set(report.drifted_columns)
        for column, child in self._detected_children.items():
            child.set(1.0 if column in drifted else 0.0)

    # -- errors (slow path) -------------------------------------------------------------

    def _missing_column(self, name: Any) -> DataError:
        return _missing_column(name, self._columns)

    def _unknown_column(self, record: Mapping[str, Any]) -> DataError:
        return _unknown_column(record, self._columns)

    def _bad_number(self, record: Mapping[str, Any]) -> DataError:
        for name in self._numeric:
            value = record[name]
            try:
                float(np.float64(value if value is not None else np.nan))
            except (TypeError, ValueError):
                return DataError(
                    f"column {name!r} must be a number like the reference, got {value!r}",
                    column=name,
                    value=value,
                    expected="a number (or None/NaN for missing)",
                )
        return DataError("record has a non-numeric value in a numeric column", expected="numbers")

    def __repr__(self) -> str:
        how = (
            f"window_seconds={self.window_seconds!r}"
            if self.window_seconds is not None
            else f"window={self.window}"
        )
        return (
            f"DriftMonitor({len(self._columns)} columns, {how}, "
            f"windows={self._index}, pending={self._pos})"
        )


def _check_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(
            f"{name} must be an integer >= {minimum}, got {value!r}",
            column=name,
            value=value,
            expected=f"an integer >= {minimum}",
        )


def _missing_column(name: Any, columns: Sequence[str]) -> DataError:
    return DataError(
        f"record lacks reference column {name!r}",
        column=name,
        value=None,
        expected=f"a value for every reference column {list(columns)[:10]}",
    )


def _unknown_column(record: Mapping[str, Any], columns: Sequence[str]) -> DataError:
    known = frozenset(columns)
    unknown = next(k for k in record if k not in known)
    return DataError(
        f"record has column {unknown!r}, which the reference does not have",
        column=unknown,
        value=unknown,
        expected=f"only the reference columns {list(columns)[:10]}",
    )


def _check_columns(labels: Any, columns: Sequence[str], frame: pd.DataFrame | None) -> Any:
    """Check that ``labels`` are exactly ``columns``; return ``frame`` with str labels."""
    names = [str(c) for c in labels]
    for name in columns:
        if name not in names:
            raise _missing_column(name, columns)
    if len(names) != len(columns):
        raise _unknown_column(dict.fromkeys(names), columns)
    return None if frame is None else frame.set_axis(names, axis=1)


def _numeric_block(frame: pd.DataFrame, numeric: Sequence[str]) -> np.ndarray[Any, Any]:
    """Return the numeric columns as float64 rows, or raise DataError naming a bad one."""
    try:
        block: np.ndarray[Any, Any] = frame[list(numeric)].to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return block
    except (TypeError, ValueError):
        for name in numeric:
            try:
                frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise DataError(
                    f"column {name!r} must hold numbers like the reference, "
                    f"got dtype {frame[name].dtype}",
                    column=name,
                    value=str(frame[name].dtype),
                    expected="numbers",
                ) from None
        raise


@attrs.frozen
class _PieceProfile:
    """The batch profile of one piece, checked like a frame given to ``observe``.

    A picklable callable: on Dask it runs on the workers, one partition at a
    time, and only the profile (counters) travels back.
    """

    detector: DriftDetector
    columns: tuple[str, ...]
    numeric: tuple[str, ...]

    def __call__(self, piece: pd.DataFrame) -> BatchProfile:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        frame = _check_columns(piece.columns, self.columns, piece)
        dtypes = frame.dtypes
        if not all(is_numeric_dtype(dtypes[n]) or is_bool_dtype(dtypes[n]) for n in self.numeric):
            _numeric_block(frame, self.numeric)  # raises naming the column, or it converts
        return self.detector.profile(frame)
