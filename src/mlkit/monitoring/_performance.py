"""Model quality from late labels: join actuals to predictions by id, in bounded memory.

A serving app records each prediction under an id when it answers, and the
true outcome under the same id whenever it becomes known (minutes or days
later, out of order, twice, or never). :class:`PerformanceMonitor` keeps the
predictions still waiting for their label in an insertion-ordered table capped
at ``max_pending`` entries, expires them after ``ttl`` seconds, and feeds every
matched (prediction, actual) pair into a sliding window of the last ``window``
pairs, over which :meth:`PerformanceMonitor.metrics` computes accuracy, F1,
MAE and the like. Every way a record can fail to become a pair is counted.

Both ``record_*`` methods are O(1) amortised and take one lock: the pending
table is an :class:`~collections.OrderedDict` (popping its oldest entry is
O(1), unlike a plain dict whose front fills with deleted slots), expiry sweeps
from the oldest end and stops at the first live entry, and classification
counts (correct, predicted positive, actual positive, true positive) are kept
as integers updated when a pair enters or leaves the window, so
:meth:`~PerformanceMonitor.metrics` is O(1) for classification and O(window)
for regression (the errors are summed afresh with numpy, which never drifts
the way a running float sum with subtractions does).
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from prometheus_client import CollectorRegistry

from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring._registry import family, resolve_registry
from mlkit.protocols import Clock

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLASSIFICATION_METRICS",
    "EVENTS",
    "MetricsResult",
    "PerformanceMonitor",
    "REGRESSION_METRICS",
]

logger = logging.getLogger(__name__)

#: Metrics available for ``task="classification"``.
CLASSIFICATION_METRICS = (
    "accuracy",
    "error_rate",
    "precision",
    "recall",
    "f1",
    "mean_prediction",
    "mean_actual",
)
#: Metrics available for ``task="regression"``.
REGRESSION_METRICS = ("mae", "rmse", "mean_prediction", "mean_actual")

#: What the monitor counts, the ``event`` label of ``mlkit_performance_events_total``.
EVENTS = (
    "prediction",  # a prediction accepted into the pending table
    "duplicate_prediction",  # a prediction whose id was still pending: ignored
    "actual",  # any actual received (matched or not)
    "matched",  # an actual joined to its pending prediction
    "duplicate_actual",  # a second actual for an id already matched: ignored
    "late_actual",  # an actual whose prediction had expired or been evicted
    "unmatched_actual",  # an actual for an id never seen (or long forgotten)
    "expired",  # a prediction whose label did not come within ttl
    "evicted",  # a live prediction dropped because max_pending was reached
)

# What became of an id that left the pending table; remembered (boundedly) so
# a later actual for it is told apart from one for an id never seen.
_MATCHED, _EXPIRED, _EVICTED = 0, 1, 2
# Bits of a classification pair kept in the window.
_CORRECT, _PRED_POS, _TRUE_POS = 1, 2, 4
_TASKS = ("classification", "regression")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigurationError(
            f"PerformanceMonitor: {name} must be an integer >= {minimum}, got {value!r}",
            column=name,
            value=value,
            expected=f"an integer >= {minimum}",
        )
    return int(value)


def _check_metrics(metrics: Any, task: str) -> tuple[str, ...]:
    allowed = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    if isinstance(metrics, str):
        metrics = (metrics,)
    try:
        names = tuple(metrics)
    except TypeError:
        names = ()
    bad = [m for m in names if m not in allowed]
    if not names or bad or len(set(names)) != len(names):
        raise ConfigurationError(
            f"PerformanceMonitor: metrics for task={task!r} must be distinct names from "
            f"{list(allowed)}, got {metrics!r}",
            column="metrics",
            value=bad[0] if bad else metrics,
            expected=f"a non-empty sequence of distinct names from {list(allowed)}",
        )
    return names


def _as_number(value: Any, what: str, prediction_id: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, str) or not math.isfinite(number):
        raise DataError(
            f"PerformanceMonitor(task='regression'): {what} for prediction id "
            f"{prediction_id!r} must be a finite number, got {value!r}",
            column=what,
            value=value,
            expected="a finite number",
        )
    return number


def _check_label(value: Any, what: str, prediction_id: Any) -> Any:
    # A missing label would silently count as a wrong one (NaN != NaN).
    missing = value is None
    if not missing:
        try:
            missing = bool(value != value)
        except (TypeError, ValueError):  # pd.NA and other values with no truth value
            missing = True
    if missing:
        raise DataError(
            f"PerformanceMonitor(task='classification'): {what} for prediction id "
            f"{prediction_id!r} is missing ({value!r}); skip the record instead",
            column=what,
            value=value,
            expected="a class label",
        )
    return value


def _unhashable(prediction_id: Any) -> DataError:
    return DataError(
        f"PerformanceMonitor: prediction_id must be hashable (str, int, ...), "
        f"got {type(prediction_id).__name__} {prediction_id!r}",
        column="prediction_id",
        value=prediction_id,
        expected="a hashable id",
    )


def _as_dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return dict(mapping)


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


@attrs.frozen(repr=False)
class MetricsResult:
    """The metrics of a :class:`PerformanceMonitor` over its window of matched pairs.

    Parameters
    ----------
    values
        Metric name to value, or None when the value is not available (see
        ``reasons``). Usable as is by :class:`~mlkit.monitoring.AlertManager`'s
        ``evaluate(values)``.
    reasons
        Metric name to why its value is None (None when it has a value).
    n_samples
        The number of matched pairs in the window the values are computed on.
    counts
        The monitor's event counts (see :data:`EVENTS`) plus ``pending``, the
        predictions currently waiting for their label.
    timestamp
        When the metrics were computed, on the monitor's clock.
    model
        The monitor's ``name``.

    Examples
    --------
    >>> result = MetricsResult({"accuracy": 0.9, "f1": None},
    ...                        {"accuracy": None, "f1": "no positives"},
    ...                        n_samples=50, counts={"matched": 50}, timestamp=0.0)
    >>> result
    MetricsResult(model='model', n_samples=50, accuracy=0.9, f1=None)
    >>> result["accuracy"], result.available
    (0.9, False)
    """

    values: Mapping[str, float | None] = attrs.field(converter=_as_dict)
    reasons: Mapping[str, str | None] = attrs.field(converter=_as_dict)
    n_samples: int = attrs.field(kw_only=True)
    counts: Mapping[str, int] = attrs.field(converter=_as_dict, kw_only=True)
    timestamp: float = attrs.field(kw_only=True)
    model: str = attrs.field(default="model", kw_only=True)

    def __getitem__(self, metric: str) -> float | None:
        return self.values[metric]

    @property
    def available(self) -> bool:
        """Whether every metric has a value."""
        return all(value is not None for value in self.values.values())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "model": self.model,
            "timestamp": self.timestamp,
            "n_samples": self.n_samples,
            "values": {k: _json_number(v) for k, v in self.values.items()},
            "reasons": dict(self.reasons),
            "counts": dict(self.counts),
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per metric: ``metric``, ``value``, ``reason``, ``n_samples``."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame(
            {
                "metric": list(self.values),
                "value": [np.nan if v is None else v for v in self.values.values()],
                "reason": [self.reasons.get(m) for m in self.values],
                "n_samples": self.n_samples,
            }
        )
        return frame

    def __repr__(self) -> str:
        shown = "".join(
            f", {name}={None if value is None else round(value, 4)!r}"
            for name, value in self.values.items()
        )
        return f"MetricsResult(model={self.model!r}, n_samples={self.n_samples}{shown})"


class PerformanceMonitor:
    """Join late labels to predictions by id and compute quality metrics over a window.

    Parameters
    ----------
    metrics
        Names from :data:`CLASSIFICATION_METRICS` or :data:`REGRESSION_METRICS`
        (according to ``task``).
    task
        ``"classification"`` (labels compared with ``==``; precision, recall
        and F1 are binary, for ``pos_label`` against every other label) or
        ``"regression"`` (finite numbers).
    window
        The number of most recent matched pairs the metrics are computed on.
    ttl
        Seconds a prediction waits for its label before it expires, counted
        from its ``ts``.
    max_pending
        The most predictions kept waiting for their label; past it the oldest
        is evicted (counted ``evicted``; ``expired`` if its ttl had passed).
        The same number of resolved ids is remembered to classify late and
        duplicate actuals, so memory is O(max_pending + window).
    min_samples
        Below this many pairs in the window every metric is None with a
        reason: never a number from three samples.
    clock
        The time source (:class:`~mlkit.clock.SystemClock` by default).
    registry
        The Prometheus registry (None: :func:`~mlkit.monitoring.default_registry`).
    name
        The ``model`` label of the exported metrics.
    pos_label
        The positive class of precision, recall and F1; ``mean_prediction``
        and ``mean_actual`` of a classifier are the shares of ``pos_label``.

    Notes
    -----
    What happens to each record, counted in ``counts()`` and in
    ``mlkit_performance_events_total{model,event}``:

    - ``record_prediction`` of an id already pending is a
      ``duplicate_prediction`` and is ignored: the first prediction wins (a
      retried request must not overwrite the answer the user saw, nor restart
      its ttl). An id that was resolved (matched, expired, evicted) is
      accepted again as a new prediction.
    - ``record_actual`` of a pending id is ``matched`` and its pair enters the
      window; of an id already matched, a ``duplicate_actual`` (ignored: the
      first label wins); of an id expired or evicted, a ``late_actual``; of an
      id never seen, an ``unmatched_actual``. Each is also an ``actual``.
    - Expiry is checked on every call against the clock, sweeping from the
      oldest insertion. A prediction given an older ``ts`` than ones recorded
      before it expires when it reaches the front, when its label arrives
      (then ``late_actual``) or when it is evicted.

    Exported gauges: ``mlkit_model_metric{model,metric}`` (NaN when None),
    ``mlkit_performance_window_pairs{model}`` and
    ``mlkit_performance_pending_predictions{model}``. They are computed when
    the registry is collected (a scrape), and also set by every
    :meth:`metrics` call, which is what prometheus multiprocess mode exports.
    Monitors sharing a registry need distinct names. The join is in the
    memory of one process: a label must reach the process that made the
    prediction.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> from mlkit.clock import FakeClock
    >>> from mlkit.monitoring import PerformanceMonitor
    >>> monitor = PerformanceMonitor(metrics=("accuracy", "f1"), min_samples=3,
    ...                              clock=FakeClock(), registry=CollectorRegistry())
    >>> for i, label in enumerate([1, 0, 1, 1]):
    ...     monitor.record_prediction(f"req-{i}", label)
    >>> for i, label in [(3, 0), (0, 1), (1, 0)]:  # late and out of order; req-2 never
    ...     monitor.record_actual(f"req-{i}", label)
    >>> monitor.record_actual("req-0", 1)  # a duplicate label
    >>> result = monitor.metrics()
    >>> result
    MetricsResult(model='model', n_samples=3, accuracy=0.6667, f1=0.6667)
    >>> result.counts["matched"], result.counts["duplicate_actual"], result.counts["pending"]
    (3, 1, 1)
    """

    def __init__(
        self,
        *,
        metrics: Iterable[str] = ("accuracy",),
        task: str = "classification",
        window: int = 1000,
        ttl: float = 3600.0,
        max_pending: int = 100_000,
        min_samples: int = 30,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        name: str = "model",
        pos_label: Any = 1,
    ) -> None:
        if task not in _TASKS:
            raise ConfigurationError(
                f"PerformanceMonitor: task must be one of {list(_TASKS)}, got {task!r}",
                column="task",
                value=task,
                expected=f"one of {list(_TASKS)}",
            )
        self._task = task
        self._classification = task == "classification"
        self._metrics = _check_metrics(metrics, task)
        self._window = _check_int("window", window, 1)
        self._max_pending = _check_int("max_pending", max_pending, 1)
        self._min_samples = _check_int("min_samples", min_samples, 1)
        if self._min_samples > self._window:
            raise ConfigurationError(
                f"PerformanceMonitor: min_samples={min_samples!r} exceeds window={window!r}, "
                f"so no metric could ever be computed",
                column="min_samples",
                value=min_samples,
                expected=f"an integer <= window ({window!r})",
            )
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise ConfigurationError(
                f"PerformanceMonitor: ttl must be a number of seconds > 0, got {ttl!r}",
                column="ttl",
                value=ttl,
                expected="a number > 0 (math.inf: never expire)",
            )
        self._ttl = float(ttl)
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError(
                f"PerformanceMonitor: clock must have now(), got {clock!r}",
                column="clock",
                value=clock,
                expected="a mlkit.protocols.Clock or None",
            )
        self._clock: Clock = SystemClock() if clock is None else clock
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"PerformanceMonitor: name must be a non-empty string, got {name!r}",
                column="name",
                value=name,
                expected="a non-empty string",
            )
        self._name = name
        self._pos_label = pos_label

        self._lock = threading.Lock()
        # id -> (deadline, y_pred, ts, features); insertion order = arrival order.
        self._pending: OrderedDict[Hashable, tuple[float, Any, float, Any]] = OrderedDict()
        # id -> _MATCHED/_EXPIRED/_EVICTED for the last max_pending resolved ids.
        self._resolved: OrderedDict[Hashable, int] = OrderedDict()
        # (id, y_pred, y_true, ts, labelled_at, features, bits) per matched pair.
        self._pairs: deque[tuple[Any, Any, Any, float, float, Any, int]] = deque()
        # Classification counts over the window: correct, predicted +, actual +, true +.
        self._n_correct = self._n_pred_pos = self._n_true_pos = self._n_tp = 0
        self._counts = dict.fromkeys(EVENTS, 0)
        self._generation = 0  # bumped whenever the window changes
        self._cache: tuple[int, MetricsResult] | None = None

        registry = resolve_registry(registry)
        events = family(
            registry,
            "counter",
            "mlkit_performance_events",
            "Predictions and late labels seen by a PerformanceMonitor, by what became of them.",
            ("model", "event"),
        )
        # Label children resolved once: labels() takes a lock and builds a key.
        self._event_children = {event: events.labels(name, event) for event in EVENTS}
        self._inc_prediction = self._event_children["prediction"].inc
        self._inc_actual = self._event_children["actual"].inc
        self._inc_matched = self._event_children["matched"].inc
        gauge = family(
            registry,
            "gauge",
            "mlkit_model_metric",
            "Model quality over the window of matched (prediction, actual) pairs; NaN "
            "below min_samples or when undefined.",
            ("model", "metric"),
        )
        self._metric_gauges = {metric: gauge.labels(name, metric) for metric in self._metrics}
        self._pairs_gauge = family(
            registry,
            "gauge",
            "mlkit_performance_window_pairs",
            "Matched (prediction, actual) pairs in a PerformanceMonitor's window.",
            ("model",),
        ).labels(name)
        self._pending_gauge = family(
            registry,
            "gauge",
            "mlkit_performance_pending_predictions",
            "Predictions waiting for their label in a PerformanceMonitor.",
            ("model",),
        ).labels(name)
        # Computed at scrape time through a weak reference, so the registry
        # (often process-wide) does not keep a dropped monitor's tables alive.
        ref = weakref.ref(self)
        for metric, child in self._metric_gauges.items():
            child.set_function(_scrape_metric(ref, metric))
        self._pairs_gauge.set_function(_scrape_attr(ref, "_n_pairs"))
        self._pending_gauge.set_function(_scrape_attr(ref, "_n_pending_now"))

    # ------------------------------------------------------------------ hot path

    def record_prediction(
        self,
        prediction_id: Hashable,
        y_pred: Any,
        features: Any = None,
        ts: float | None = None,
    ) -> None:
        """Record a prediction waiting for its label.

        Parameters
        ----------
        prediction_id
            The id its actual will be recorded under (hashable).
        y_pred
            The predicted label (classification) or number (regression).
        features
            Anything to keep with the pair (by reference, not copied), returned
            by :meth:`pairs`.
        ts
            When the prediction was made (POSIX seconds); default now. Its ttl
            counts from here.

        Raises
        ------
        DataError
            If ``prediction_id`` is unhashable, a classification ``y_pred`` is
            missing (None, NaN, NA), or a regression ``y_pred`` is not a
            finite number.
        """
        if self._classification:
            _check_label(y_pred, "y_pred", prediction_id)
        else:
            y_pred = _as_number(y_pred, "y_pred", prediction_id)
        now = self._clock.now()
        if ts is None:
            ts = now
        with self._lock:
            pending = self._pending
            if pending:
                self._expire(now)
            try:
                if prediction_id in pending:
                    self._counts["duplicate_prediction"] += 1
                    duplicate = True
                else:
                    duplicate = False
                    pending[prediction_id] = (ts + self._ttl, y_pred, ts, features)
                    self._counts["prediction"] += 1
                    if len(pending) > self._max_pending:
                        self._evict_oldest(now)
            except TypeError:
                raise _unhashable(prediction_id) from None
        if duplicate:
            self._event_children["duplicate_prediction"].inc()
        else:
            self._inc_prediction()

    def record_actual(self, prediction_id: Hashable, y_true: Any) -> None:
        """Record the true outcome of the prediction made under ``prediction_id``.

        Parameters
        ----------
        prediction_id
            The id given to :meth:`record_prediction`.
        y_true
            The actual label (classification) or number (regression).

        Raises
        ------
        DataError
            If ``prediction_id`` is unhashable, a classification ``y_true`` is
            missing (None, NaN, NA), or a regression ``y_true`` is not a
            finite number (the pending prediction is then kept).
        """
        if self._classification:
            _check_label(y_true, "y_true", prediction_id)
        else:
            y_true = _as_number(y_true, "y_true", prediction_id)
        now = self._clock.now()
        with self._lock:
            counts = self._counts
            counts["actual"] += 1
            if self._pending:
                self._expire(now)
            try:
                entry = self._pending.pop(prediction_id, None)
            except TypeError:
                counts["actual"] -= 1
                raise _unhashable(prediction_id) from None
            if entry is None:
                state = self._resolved.get(prediction_id)
                event = (
                    "unmatched_actual"
                    if state is None
                    else "duplicate_actual"
                    if state == _MATCHED
                    else "late_actual"
                )
            elif entry[0] <= now:
                # An out-of-order ts that the front-first sweep had not reached.
                counts["expired"] += 1
                self._remember(prediction_id, _EXPIRED)
                event = "late_actual"
                self._event_children["expired"].inc()
            else:
                event = "matched"
                self._remember(prediction_id, _MATCHED)
                self._push(prediction_id, entry, y_true, now)
            counts[event] += 1
        self._inc_actual()
        if event == "matched":
            self._inc_matched()
        else:
            self._event_children[event].inc()

    # ------------------------------------------------------ internals (locked)

    def _push(
        self, prediction_id: Any, entry: tuple[float, Any, float, Any], y_true: Any, now: float
    ) -> None:
        _, y_pred, ts, features = entry
        if self._classification:
            pos = self._pos_label
            pred_pos = y_pred == pos
            true_pos = y_true == pos
            bits = (
                (_CORRECT if y_pred == y_true else 0)
                | (_PRED_POS if pred_pos else 0)
                | (_TRUE_POS if true_pos else 0)
            )
            self._add_bits(bits, 1)
        else:
            bits = 0
        pairs = self._pairs
        if len(pairs) == self._window:
            old = pairs.popleft()
            if self._classification:
                self._add_bits(old[6], -1)
        pairs.append((prediction_id, y_pred, y_true, ts, now, features, bits))
        self._generation += 1

    def _add_bits(self, bits: int, sign: int) -> None:
        if bits & _CORRECT:
            self._n_correct += sign
        if bits & _PRED_POS:
            self._n_pred_pos += sign
            if bits & _TRUE_POS:
                self._n_tp += sign
        if bits & _TRUE_POS:
            self._n_true_pos += sign

    def _remember(self, prediction_id: Any, state: int) -> None:
        resolved = self._resolved
        if prediction_id in resolved:
            resolved.move_to_end(prediction_id)
        resolved[prediction_id] = state
        if len(resolved) > self._max_pending:
            resolved.popitem(last=False)

    def _expire(self, now: float) -> None:
        pending = self._pending
        n = 0
        while pending:
            oldest = next(iter(pending))
            if pending[oldest][0] > now:
                break
            del pending[oldest]
            self._remember(oldest, _EXPIRED)
            n += 1
        if n:
            self._counts["expired"] += n
            self._event_children["expired"].inc(n)

    def _evict_oldest(self, now: float) -> None:
        oldest, entry = self._pending.popitem(last=False)
        if entry[0] <= now:
            self._remember(oldest, _EXPIRED)
            self._counts["expired"] += 1
            self._event_children["expired"].inc()
        else:
            self._remember(oldest, _EVICTED)
            self._counts["evicted"] += 1
            self._event_children["evicted"].inc()

    @property
    def _n_pairs(self) -> int:
        return len(self._pairs)

    @property
    def _n_pending_now(self) -> int:
        now = self._clock.now()
        with self._lock:
            self._expire(now)
            return len(self._pending)

    # ----------------------------------------------------------------- reading

    @property
    def name(self) -> str:
        """The ``model`` label of the exported metrics."""
        return self._name

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self._task

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics computed, in order."""
        return self._metrics

    @property
    def n_pending(self) -> int:
        """The number of predictions waiting for their label (after expiring the old)."""
        return self._n_pending_now

    def counts(self) -> dict[str, int]:
        """Return the event counts (:data:`EVENTS`) and ``pending`` after expiry."""
        now = self._clock.now()
        with self._lock:
            self._expire(now)
            return {**self._counts, "pending": len(self._pending)}

    def metrics(self) -> MetricsResult:
        """Compute the metrics over the window and set the exported gauges.

        Returns
        -------
        MetricsResult
            Each metric's value, or None with a reason: below ``min_samples``
            pairs, or when undefined (precision with no predicted positive,
            recall with no actual positive, F1 with neither).
        """
        result = self._compute()
        for metric, child in self._metric_gauges.items():
            value = result.values[metric]
            child.set(math.nan if value is None else value)
        self._pairs_gauge.set(result.n_samples)
        self._pending_gauge.set(result.counts["pending"])
        return result

    def _compute(self) -> MetricsResult:
        now = self._clock.now()
        with self._lock:
            self._expire(now)
            counts = {**self._counts, "pending": len(self._pending)}
            n = len(self._pairs)
            if n < self._min_samples:
                reason = (
                    f"{n} matched pairs in the window, fewer than min_samples={self._min_samples}"
                )
                return MetricsResult(
                    dict.fromkeys(self._metrics),
                    dict.fromkeys(self._metrics, reason),
                    n_samples=n,
                    counts=counts,
                    timestamp=now,
                    model=self._name,
                )
            if self._classification:
                values, reasons = self._classification_values(n)
            else:
                y_pred = np.fromiter((p[1] for p in self._pairs), dtype=float, count=n)
                y_true = np.fromiter((p[2] for p in self._pairs), dtype=float, count=n)
                values, reasons = self._regression_values(y_pred, y_true)
        return MetricsResult(
            {m: values[m] for m in self._metrics},
            {m: reasons.get(m) for m in self._metrics},
            n_samples=n,
            counts=counts,
            timestamp=now,
            model=self._name,
        )

    def _classification_values(
        self, n: int
    ) -> tuple[dict[str, float | None], dict[str, str | None]]:
        tp, pred_pos, true_pos = self._n_tp, self._n_pred_pos, self._n_true_pos
        fp, fn = pred_pos - tp, true_pos - tp
        pos = self._pos_label
        values: dict[str, float | None] = {
            "accuracy": self._n_correct / n,
            "error_rate": (n - self._n_correct) / n,
            "precision": tp / pred_pos if pred_pos else None,
            "recall": tp / true_pos if true_pos else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
            "mean_prediction": pred_pos / n,
            "mean_actual": true_pos / n,
        }
        reasons: dict[str, str | None] = {
            "precision": None if pred_pos else f"no predicted positives (pos_label={pos!r})",
            "recall": None if true_pos else f"no actual positives (pos_label={pos!r})",
            "f1": None
            if tp + fp + fn
            else f"no predicted or actual positives (pos_label={pos!r})",
        }
        return values, reasons

    @staticmethod
    def _regression_values(
        y_pred: np.ndarray[Any, Any], y_true: np.ndarray[Any, Any]
    ) -> tuple[dict[str, float | None], dict[str, str | None]]:
        error = y_pred - y_true
        values: dict[str, float | None] = {
            "mae": float(np.mean(np.abs(error))),
            "rmse": float(np.sqrt(np.mean(error * error))),
            "mean_prediction": float(np.mean(y_pred)),
            "mean_actual": float(np.mean(y_true)),
        }
        return values, {}

    def _scrape_value(self, metric: str) -> float:
        # Scrapes ask for each metric in turn: compute once per window change.
        # Classification is O(1) anyway; regression is O(window) per change.
        cache = self._cache
        if cache is None or cache[0] != self._generation:
            generation = self._generation
            cache = (generation, self._compute())
            self._cache = cache
        value = cache[1].values[metric]
        return math.nan if value is None else value

    def pairs(self) -> pd.DataFrame:
        """Return the matched pairs in the window, oldest first.

        Columns: ``prediction_id``, ``y_pred``, ``y_true``, ``predicted_at``
        (the prediction's ``ts``), ``labelled_at`` (when the actual was
        recorded) and ``features`` (as given, or None).
        """
        import pandas as pd

        with self._lock:
            rows = list(self._pairs)
        columns = ["prediction_id", "y_pred", "y_true", "predicted_at", "labelled_at", "features"]
        frame: pd.DataFrame = pd.DataFrame([row[:6] for row in rows], columns=columns)
        return frame

    def __repr__(self) -> str:
        return (
            f"PerformanceMonitor(name={self._name!r}, task={self._task!r}, "
            f"metrics={list(self._metrics)}, window={self._window})"
        )


def _scrape_metric(ref: weakref.ref[PerformanceMonitor], metric: str) -> Any:
    def value() -> float:
        monitor = ref()
        return math.nan if monitor is None else monitor._scrape_value(metric)

    return value


def _scrape_attr(ref: weakref.ref[PerformanceMonitor], attr: str) -> Any:
    def value() -> float:
        monitor = ref()
        return math.nan if monitor is None else float(getattr(monitor, attr))

    return value
