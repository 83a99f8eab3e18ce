"""MonitoredModel: Prometheus counters and histograms around any model's predict.

The hot path is one ``predict`` call: two ``perf_counter`` reads, one
histogram observation and one counter increment per distinct outcome, all on
label children looked up once (``family.labels(...)`` takes a lock and builds
a tuple, so it is never called per request). A lock is taken only the first
time an outcome value is seen, to admit it under the label-cardinality cap;
the counters themselves are prometheus_client's, which are exact under threads
and write to shared memory files in multiprocess mode.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import Counter as _Tally
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry

from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring._registry import family, resolve_registry

__all__ = [
    "DEFAULT_FEATURE_BUCKETS",
    "DEFAULT_LATENCY_BUCKETS",
    "DEFAULT_SCORE_BUCKETS",
    "MonitoredModel",
]

logger = logging.getLogger(__name__)

#: Latency buckets in seconds, from 0.5 ms to 10 s (+Inf is added by prometheus_client).
DEFAULT_LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Score buckets: 0.05 wide over [0, 1].
DEFAULT_SCORE_BUCKETS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 21))
#: Feature value buckets: symmetric, one per decade from 0.01 to 10,000.
DEFAULT_FEATURE_BUCKETS: tuple[float, ...] = (
    *(-(10.0**e) for e in range(4, -3, -1)),
    0.0,
    *(10.0**e for e in range(-2, 5)),
)

OTHER = "other"
ERROR = "error"
OK = "ok"
_MODEL_LABELS = ("model", "version")
# Raw outcome values cached for the lock-free lookup, at most this many per
# admitted label: values that fold to "other" (or NaNs, which never compare
# equal) must not grow the cache without bound.
_RAW_CACHE_FACTOR = 4
# Below this many predictions a plain loop beats np.unique's sort.
_SMALL_BATCH = 16
_MISSING = object()


class MonitoredModel:
    """Wrap a model so every prediction is counted and timed in Prometheus.

    ``MonitoredModel(model, ...)`` is itself a :class:`~mlkit.protocols.Model`
    (and a :class:`~mlkit.protocols.ProbabilisticModel` when ``model`` has
    ``predict_proba``), so it drops in wherever the model was used, in front
    of or behind a router. It exports, on the injected registry:

    - ``mlkit_predictions_total{model,version,outcome}``: predicted rows. For
      a classifier ``outcome`` is the predicted class label (``str`` of it);
      for a regressor ``"ok"``; rows of a call that raised are ``"error"``.
    - ``mlkit_prediction_latency_seconds{model,version}``: one observation per
      call, failed calls included.
    - ``mlkit_prediction_errors_total{model,version,error}``: failed calls, by
      exception type name.
    - ``mlkit_feature_value{model,version,feature}`` (with
      ``feature_columns``): the inputs' values.
    - ``mlkit_prediction_score{model,version}`` (``predict_proba`` calls): the
      positive class's probability for two classes, the highest otherwise.

    Parameters
    ----------
    model
        Anything with ``predict(X)``; a router taking ``predict(X, key=...)``
        gets the ``key`` passed through.
    name, version
        The ``model`` and ``version`` label values.
    registry
        Where the metrics go; None means
        :func:`mlkit.monitoring.default_registry`.
    feature_columns
        Input columns whose values to export as histograms: names for
        DataFrames, dict records, Series and lists of dicts; integer positions
        for arrays and lists of rows.
    class_labels
        The classes to expect. When given, the model is a classifier and
        exactly these labels (plus ``"other"`` and ``"error"``) appear as
        ``outcome``; any other prediction folds into ``"other"``.
    max_label_values
        Without ``class_labels``: how many distinct predicted values become
        their own ``outcome`` (first come, first served) before the rest fold
        into ``"other"``. Also caps the ``error`` label of the errors counter.
    latency_buckets, score_buckets, feature_buckets
        Histogram bucket upper bounds. Families are shared by every
        MonitoredModel on a registry, so every one must use the same buckets.
    task
        ``"auto"`` (a classifier if ``class_labels`` is given or the model has
        ``predict_proba``, else a regressor), ``"classification"`` or
        ``"regression"``.

    Raises
    ------
    ConfigurationError
        If ``model`` has no ``predict``, a name, label or bucket argument is
        invalid, or the metric families exist in the registry with other
        labels or buckets.

    Notes
    -----
    Feature values are read before the model is called, so a missing or
    non-numeric feature raises :class:`~mlkit.errors.DataError` without
    predicting or counting anything. NaN feature values are skipped.
    ``"other"`` and ``"error"`` are reserved outcome values: a class literally
    named so is counted together with them.

    Under gunicorn (several worker processes) use prometheus_client's
    multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
    before the workers start (before ``prometheus_client`` is imported), call
    ``prometheus_client.multiprocess.mark_process_dead(worker.pid)`` in
    gunicorn's ``child_exit`` hook, and serve ``/metrics`` from a fresh
    ``CollectorRegistry()`` with ``MultiProcessCollector(registry)`` attached,
    not from the registry the monitors write to. Counters and histograms are
    summed across workers.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> from mlkit.monitoring import MonitoredModel
    >>> class Threshold:
    ...     def predict(self, X):
    ...         return ["high" if row[0] > 1 else "low" for row in X]
    >>> registry = CollectorRegistry()
    >>> model = MonitoredModel(Threshold(), name="risk", version="3", registry=registry,
    ...                        class_labels=["high", "low"])
    >>> model.predict([[0.5], [2.0], [3.0]])
    ['low', 'high', 'high']
    >>> labels = {"model": "risk", "version": "3"}
    >>> registry.get_sample_value("mlkit_predictions_total", {**labels, "outcome": "high"})
    2.0
    >>> registry.get_sample_value("mlkit_prediction_latency_seconds_count", labels)
    1.0
    """

    _mlkit_routes_by_key = True

    def __new__(cls, model: Any, *args: Any, **kwargs: Any) -> MonitoredModel:
        # predict_proba exists only when the model has it, so isinstance checks
        # against ProbabilisticModel stay truthful.
        if cls is MonitoredModel and callable(getattr(model, "predict_proba", None)):
            cls = _MonitoredProbabilisticModel
        return super().__new__(cls)

    def __init__(
        self,
        model: Any,
        *,
        name: str,
        version: str,
        registry: CollectorRegistry | None = None,
        feature_columns: Sequence[str | int] | None = None,
        class_labels: Iterable[Any] | None = None,
        max_label_values: int = 20,
        latency_buckets: Sequence[float] = DEFAULT_LATENCY_BUCKETS,
        score_buckets: Sequence[float] = DEFAULT_SCORE_BUCKETS,
        feature_buckets: Sequence[float] = DEFAULT_FEATURE_BUCKETS,
        task: str = "auto",
    ) -> None:
        if not callable(getattr(model, "predict", None)):
            raise ConfigurationError(
                f"model must have a predict method, got {type(model).__name__}",
                column="model",
                value=model,
                expected="an object with predict(X)",
            )
        self._name = _check_label("name", name)
        self._version = _check_label("version", version)
        if (
            isinstance(max_label_values, bool)
            or not isinstance(max_label_values, int)
            or max_label_values < 1
        ):
            raise ConfigurationError(
                f"max_label_values must be an int >= 1, got {max_label_values!r}",
                column="max_label_values",
                value=max_label_values,
                expected="an int >= 1",
            )
        if task not in ("auto", "classification", "regression"):
            raise ConfigurationError(
                f"task must be 'auto', 'classification' or 'regression', got {task!r}",
                column="task",
                value=task,
                expected="'auto', 'classification' or 'regression'",
            )
        labels = None if class_labels is None else [str(c) for c in class_labels]
        if labels is not None and task == "regression":
            raise ConfigurationError(
                "class_labels were given for task='regression'",
                column="class_labels",
                value=labels,
                expected="None for a regressor",
            )
        if task == "auto":
            task = (
                "classification"
                if labels is not None or callable(getattr(model, "predict_proba", None))
                else "regression"
            )
        self._model = model
        self._predict = model.predict
        self._keyed = getattr(type(model), "_mlkit_routes_by_key", False) is True
        self._task = task
        self._regression = task == "regression"
        self._max = max_label_values
        self._fixed = labels is not None
        self._registry = resolve_registry(registry)
        reg = self._registry
        mv = (self._name, self._version)

        self._predictions = family(
            reg,
            "counter",
            "mlkit_predictions",
            "Predicted rows by outcome: class label, 'other', 'ok' (regression) or 'error'.",
            (*_MODEL_LABELS, "outcome"),
        )
        latency = family(
            reg,
            "histogram",
            "mlkit_prediction_latency_seconds",
            "Seconds per predict call, failed calls included.",
            _MODEL_LABELS,
            buckets=_check_buckets("latency_buckets", latency_buckets),
        )
        self._errors_family = family(
            reg,
            "counter",
            "mlkit_prediction_errors",
            "Failed predict calls by exception type name.",
            (*_MODEL_LABELS, "error"),
        )
        self._latency = latency.labels(*mv)
        self._lock = threading.Lock()
        # label string -> counter child; raw prediction value -> counter child.
        self._by_label: dict[str, Any] = {}
        self._children: dict[Any, Any] = {}
        self._error_children: dict[type[BaseException], Any] = {}
        self._error_labels: dict[str, Any] = {}
        self._other = self._outcome_child(OTHER)
        self._error_rows = self._outcome_child(ERROR)
        self._ok = self._outcome_child(OK) if self._regression else None
        for label in labels or ():
            self._outcome_child(label)

        self._features: list[tuple[str | int, Any]] = []
        if feature_columns is not None:
            if isinstance(feature_columns, str):
                feature_columns = [feature_columns]
            fam = family(
                reg,
                "histogram",
                "mlkit_feature_value",
                "Input feature values seen by predict.",
                (*_MODEL_LABELS, "feature"),
                buckets=_check_buckets("feature_buckets", feature_buckets, increasing_only=True),
            )
            for col in feature_columns:
                if isinstance(col, bool) or not isinstance(col, (str, int)):
                    raise ConfigurationError(
                        f"feature_columns must hold column names (str) or positions (int), "
                        f"got {type(col).__name__} {col!r}",
                        column="feature_columns",
                        value=col,
                        expected="str or int",
                    )
                self._features.append((col, fam.labels(*mv, str(col))))
        self._score = None
        if callable(getattr(model, "predict_proba", None)):
            self._score = family(
                reg,
                "histogram",
                "mlkit_prediction_score",
                "predict_proba score per row: positive class for two classes, else the highest.",
                _MODEL_LABELS,
                buckets=_check_buckets("score_buckets", score_buckets),
            ).labels(*mv)

    # -- public -----------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The wrapped model."""
        return self._model

    @property
    def name(self) -> str:
        """The ``model`` label value."""
        return self._name

    @property
    def version(self) -> str:
        """The ``version`` label value."""
        return self._version

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self._task

    @property
    def registry(self) -> CollectorRegistry:
        """The registry the metrics are exported to."""
        return self._registry

    def predict(self, X: Any, key: Any = None) -> Any:
        """Predict through the wrapped model, counting and timing the call.

        Parameters
        ----------
        X
            The input, passed unchanged.
        key
            Passed as ``predict(X, key=key)`` to a router (an object whose
            class sets ``_mlkit_routes_by_key``); ignored for a plain model.

        Returns
        -------
        Any
            Exactly what the wrapped model returned.

        Raises
        ------
        DataError
            If a ``feature_columns`` entry is missing or non-numeric (before
            the model is called).
        Exception
            Whatever the model raised, re-raised after being counted.
        """
        features = self._read_features(X) if self._features else None
        start = time.perf_counter()
        try:
            y = self._predict(X, key=key) if self._keyed else self._predict(X)
        except Exception as exc:
            self._latency.observe(time.perf_counter() - start)
            self._count_error(exc, X)
            raise
        self._latency.observe(time.perf_counter() - start)
        if self._ok is not None:
            self._ok.inc(_n_rows(y))
        else:
            self._count_outcomes(y)
        if features is not None:
            self._observe_features(features)
        return y

    def __repr__(self) -> str:
        return (
            f"MonitoredModel({type(self._model).__name__}, name={self._name!r}, "
            f"version={self._version!r}, task={self._task!r})"
        )

    # -- internals --------------------------------------------------------------

    def _outcome_child(self, label: str) -> Any:
        child = self._by_label.get(label)
        if child is None:
            child = self._predictions.labels(self._name, self._version, label)
            self._by_label[label] = child
        return child

    def _admit(self, value: Any) -> Any:
        """Return the counter child for a prediction value not in the fast cache."""
        try:
            label = str(value) if not isinstance(value, str) else value
            hash(value)
        except TypeError:
            # Unhashable (a multi-output row): not a class label.
            return self._other
        with self._lock:
            child = self._by_label.get(label)
            if child is None:
                # "other" and "error" (and "ok") are always present, so the
                # cap counts only real class labels.
                reserved = 3 if self._ok is not None else 2
                if self._fixed or len(self._by_label) - reserved >= self._max:
                    child = self._other
                else:
                    child = self._outcome_child(label)
            if len(self._children) < _RAW_CACHE_FACTOR * (self._max + len(self._by_label)):
                self._children[value] = child
            return child

    def _count_outcomes(self, y: Any) -> None:
        children = self._children
        if isinstance(y, np.ndarray):
            if y.ndim == 0:
                values: Any = (y.item(),)
            elif y.ndim == 1 and y.shape[0] > _SMALL_BATCH and y.dtype.kind in "biufUS":
                uniq, counts = np.unique(y, return_counts=True)
                for v, c in zip(uniq.tolist(), counts.tolist(), strict=False):
                    child = children.get(v)
                    if child is None:
                        child = self._admit(v)
                    child.inc(c)
                return
            else:
                values = y.tolist()
        elif isinstance(y, (list, tuple)):
            values = y
        elif hasattr(y, "to_numpy") and getattr(y, "ndim", 0) == 1:  # pandas Series
            self._count_outcomes(y.to_numpy())
            return
        else:
            values = (y,)
        if len(values) > _SMALL_BATCH:
            try:
                tally = _Tally(values)
            except TypeError:  # unhashable rows
                self._other.inc(len(values))
                return
            for v, c in tally.items():
                child = children.get(v)
                if child is None:
                    child = self._admit(v)
                child.inc(c)
            return
        for v in values:
            try:
                child = children.get(v)
            except TypeError:
                child = self._other
            if child is None:
                child = self._admit(v)
            child.inc()

    def _count_error(self, exc: BaseException, X: Any) -> None:
        etype = type(exc)
        child = self._error_children.get(etype)
        if child is None:
            with self._lock:
                label = etype.__name__
                child = self._error_labels.get(label)
                if child is None:
                    if len(self._error_labels) >= self._max:
                        label = OTHER
                        child = self._error_labels.get(label)
                    if child is None:
                        child = self._errors_family.labels(self._name, self._version, label)
                        self._error_labels[label] = child
                if len(self._error_children) < _RAW_CACHE_FACTOR * self._max:
                    self._error_children[etype] = child
        child.inc()
        self._error_rows.inc(_n_rows(X))

    def _read_features(self, X: Any) -> list[tuple[Any, Sequence[float]]]:
        out: list[tuple[Any, Sequence[float]]] = []
        if type(X) is dict:
            # The single-record path: no numpy for plain numbers.
            for col, child in self._features:
                v = X.get(col, _MISSING)
                tv = type(v)
                if tv is float or tv is int:
                    out.append((child, (v,)))
                else:
                    out.append((child, _column_values(X, col)))
            return out
        for col, child in self._features:
            out.append((child, _column_values(X, col)))
        return out

    @staticmethod
    def _observe_features(features: list[tuple[Any, Sequence[float]]]) -> None:
        for child, values in features:
            for v in values:
                if v == v:  # skip NaN without a call to math.isnan
                    child.observe(v)


class _MonitoredProbabilisticModel(MonitoredModel):
    """A MonitoredModel around a model with ``predict_proba``."""

    def predict_proba(self, X: Any, key: Any = None) -> Any:
        """Return the wrapped model's class probabilities, counting and timing the call.

        Counts one prediction per row under the most probable class (from the
        model's ``classes_`` when it has them, else the column index) and
        observes each row's score (the positive class's probability for two
        classes, the highest otherwise).

        Parameters
        ----------
        X
            The input, passed unchanged.
        key
            Passed to a router's ``predict_proba(X, key=key)``.

        Returns
        -------
        Any
            Exactly what the wrapped model returned.
        """
        features = self._read_features(X) if self._features else None
        proba_fn = self._model.predict_proba
        start = time.perf_counter()
        try:
            proba = proba_fn(X, key=key) if self._keyed else proba_fn(X)
        except Exception as exc:
            self._latency.observe(time.perf_counter() - start)
            self._count_error(exc, X)
            raise
        self._latency.observe(time.perf_counter() - start)
        p = np.asarray(proba, dtype=float)
        if p.ndim == 1:
            p = p.reshape(1, -1)
        if p.ndim == 2 and p.shape[1] > 0:
            best = p.argmax(axis=1)
            classes = getattr(self._model, "classes_", None)
            if classes is not None and len(classes) == p.shape[1]:
                predicted = np.asarray(classes)[best]
            else:
                predicted = best
            if self._ok is not None:
                self._ok.inc(p.shape[0])
            else:
                self._count_outcomes(predicted)
            scores = p[:, 1] if p.shape[1] == 2 else p.max(axis=1)
            score = self._score
            if score is not None:
                for s in scores.tolist():
                    if s == s:
                        score.observe(s)
        if features is not None:
            self._observe_features(features)
        return proba


def _check_label(argument: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"{argument} must be a non-empty str, got {type(value).__name__} {value!r}",
            column=argument,
            value=value,
            expected="a non-empty str",
        )
    return value


def _check_buckets(
    argument: str, buckets: Sequence[float], *, increasing_only: bool = False
) -> tuple[float, ...]:
    try:
        out = tuple(float(b) for b in buckets)
    except (TypeError, ValueError):
        out = ()
    ok = bool(out) and all(a < b for a, b in itertools.pairwise(out))
    ok = ok and not any(math.isnan(b) for b in out)
    if not increasing_only:
        ok = ok and out[0] > 0
    if not ok:
        expected = (
            "a non-empty strictly increasing sequence of numbers"
            if increasing_only
            else "a non-empty strictly increasing sequence of positive numbers"
        )
        raise ConfigurationError(
            f"{argument} must be {expected}, got {buckets!r}",
            column=argument,
            value=buckets,
            expected=expected,
        )
    return out


def _n_rows(obj: Any) -> int:
    """Rows in a prediction or an input: 1 for a record or a scalar."""
    if isinstance(obj, Mapping):
        return 1
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else 1
    if isinstance(obj, (list, tuple)):
        return len(obj)
    return 1


def _column_values(X: Any, col: str | int) -> list[float]:
    """Return the values of feature ``col`` in ``X`` as a list of floats."""
    try:
        if isinstance(X, Mapping):
            raw = X[col]
        elif hasattr(X, "columns"):  # DataFrame
            raw = X[col].to_numpy() if isinstance(col, str) else X.iloc[:, col].to_numpy()
        elif hasattr(X, "index") and hasattr(X, "to_numpy"):  # Series: one record
            raw = X[col] if isinstance(col, str) else X.iloc[col]
        elif isinstance(X, (list, tuple)) and X and isinstance(X[0], Mapping):
            raw = [row[col] for row in X]
        else:
            if isinstance(col, str):
                raise DataError(
                    f"feature column {col!r} needs named input (DataFrame, dict, Series); "
                    f"got {type(X).__name__}",
                    column=col,
                    value=type(X).__name__,
                    expected="a DataFrame, dict, Series or list of dicts",
                )
            arr = np.asarray(X)
            raw = arr[col] if arr.ndim == 1 else arr[:, col]
    except (KeyError, IndexError) as exc:
        raise DataError(
            f"feature column {col!r} is missing from the input",
            column=col,
            value=None,
            expected="a column present in every predict input",
        ) from exc
    try:
        values: list[float] = np.asarray(raw, dtype=float).reshape(-1).tolist()
        return values
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"feature column {col!r} has non-numeric values: {raw!r}"[:300],
            column=col,
            value=raw,
            expected="numbers",
        ) from exc
