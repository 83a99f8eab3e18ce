"""Performance checks: a metric against a bound, latency percentiles, paired model comparison.

Metrics are named the way scikit-learn names them, and one rule decides both
the value reported and which direction is better:

- A scikit-learn scorer name (``sklearn.metrics.get_scorer_names()``, for
  example ``"accuracy"``, ``"roc_auc"``, ``"neg_mean_squared_error"``): the
  value is exactly what ``sklearn.metrics.get_scorer(name)(model, X, y)``
  returns, so higher is always better. Errors keep scikit-learn's sign:
  ``neg_mean_squared_error`` of a model with an MSE of 0.25 is ``-0.25``, and a
  bound on it is written the same way (``min=-0.3``).
- The same name without ``neg_`` (``"mean_squared_error"``, ``"log_loss"``,
  ``"max_error"``, ``"brier_score"``): the positive error, lower is better
  (``max=0.3``).
- A callable ``metric(y_true, y_pred)``: called with the true values and the
  model's ``predict`` output as numpy arrays. Its direction follows
  scikit-learn's naming convention applied to its name (the ``name`` given, a
  key of a ``metrics`` mapping, or the function's ``__name__``): a name whose
  last word is ``error``, ``loss`` or ``deviance`` is lower-is-better,
  anything else higher-is-better. Name a lambda to say which it is.

Scikit-learn scorers are called on a stand-in of the model that replays its
outputs, so every model is called once per prediction method on the whole of
``X`` (never per row, never per bootstrap resample), and any object with
``predict`` (and ``predict_proba``/``decision_function`` for the scorers that
need them) works, not only scikit-learn estimators. Where a metric is
undefined on the data (scikit-learn's ``UndefinedMetricWarning``, for example
precision when nothing is predicted positive) its value is NaN and the check
says so instead of passing or warning.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import UndefinedMetricWarning

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import _session

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Comparison",
    "LatencyResult",
    "MetricComparison",
    "MetricResult",
    "assert_latency",
    "assert_metric",
    "assert_not_worse",
    "check_metric",
    "compare_models",
    "measure_latency",
]

logger = logging.getLogger(__name__)

#: A metric: a scikit-learn scorer name (or the error's name without ``neg_``),
#: or a callable ``metric(y_true, y_pred) -> float``.
MetricLike: TypeAlias = "str | Callable[[Any, Any], float]"

_RESPONSE_METHODS = frozenset(
    {"predict", "predict_proba", "predict_log_proba", "decision_function"}
)
_LOSS_WORDS = frozenset({"error", "loss", "deviance"})
# Resamples are gathered in blocks of about this many values, so that the
# temporary (block, n) float array stays small whatever n_boot * n is.
_GATHER_BLOCK = 1 << 20


# --- metrics -----------------------------------------------------------------


def _row_correct(y: NDArray[Any], pred: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(y == pred, dtype=np.float64)


def _row_squared_error(y: NDArray[Any], pred: NDArray[Any]) -> NDArray[np.float64]:
    return np.square(y.astype(np.float64) - pred.astype(np.float64))


def _row_absolute_error(y: NDArray[Any], pred: NDArray[Any]) -> NDArray[np.float64]:
    return np.abs(y.astype(np.float64) - pred.astype(np.float64))


RowValues: TypeAlias = Callable[[NDArray[Any], NDArray[Any]], NDArray[np.float64]]

# Scorers that are a mean of per-row values (or the square root of one), so a
# bootstrap resample is a gather and a mean instead of a scorer call.
_ROW_METRICS: dict[str, tuple[RowValues, bool]] = {
    "accuracy": (_row_correct, False),
    "neg_mean_squared_error": (_row_squared_error, False),
    "neg_mean_absolute_error": (_row_absolute_error, False),
    "neg_root_mean_squared_error": (_row_squared_error, True),
}


@attrs.frozen
class _Metric:
    """A resolved metric: how to compute it and which direction is better."""

    name: str
    greater_is_better: bool
    scorer: Any = None  # a scikit-learn scorer, called on a _Replay model
    func: Callable[[Any, Any], float] | None = None
    sign: float = 1.0  # -1 for an error named without neg_: the scorer's value negated back
    rows: RowValues | None = None
    root: bool = False
    row_sign: float = 1.0  # the sign turning mean(rows) into the reported value


def _is_loss_name(name: str) -> bool:
    return name.lower().rsplit("_", 1)[-1] in _LOSS_WORDS


def _resolve(metric: MetricLike, name: str | None = None) -> _Metric:
    """Turn a metric name or callable into a :class:`_Metric` (see the module docstring)."""
    if isinstance(metric, str):
        from sklearn.metrics import get_scorer, get_scorer_names

        known = set(get_scorer_names())
        if metric in known:
            scorer_name, sign = metric, 1.0
        elif f"neg_{metric}" in known:
            scorer_name, sign = f"neg_{metric}", -1.0
        else:
            raise ConfigurationError(
                f"unknown metric {metric!r}: expected a scikit-learn scorer name "
                "(sklearn.metrics.get_scorer_names(), for example 'accuracy' or "
                "'neg_mean_squared_error'), an error named without 'neg_' "
                "('mean_squared_error'), or a callable metric(y_true, y_pred)",
                value=metric,
                expected="a scorer name or a callable",
            )
        rows, root = _ROW_METRICS.get(scorer_name, (None, False))
        scorer_sign = -1.0 if scorer_name.startswith("neg_") else 1.0
        return _Metric(
            name=name or metric,
            greater_is_better=sign > 0,
            scorer=get_scorer(scorer_name),
            sign=sign,
            rows=rows,
            root=root,
            row_sign=sign * scorer_sign,
        )
    if callable(metric):
        label = name or getattr(metric, "__name__", None) or repr(metric)
        return _Metric(name=label, greater_is_better=not _is_loss_name(label), func=metric)
    raise ConfigurationError(
        f"metric must be a scikit-learn scorer name or a callable metric(y_true, y_pred), "
        f"got {metric!r}",
        value=metric,
        expected="str or callable",
    )


def _resolve_many(
    metrics: MetricLike | Sequence[MetricLike] | Mapping[str, MetricLike],
) -> list[_Metric]:
    if isinstance(metrics, Mapping):
        resolved = [_resolve(spec, name) for name, spec in metrics.items()]
    elif isinstance(metrics, str) or callable(metrics):
        resolved = [_resolve(metrics)]
    else:
        resolved = [_resolve(spec) for spec in metrics]
    if not resolved:
        raise ConfigurationError("metrics is empty", value=metrics, expected="at least one metric")
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise ConfigurationError(
            f"metric names must be unique, got {names}; pass a mapping {{name: metric}}",
            value=names,
            expected="unique names",
        )
    return resolved


# --- model outputs -----------------------------------------------------------


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise DataError(
            f"X must be a DataFrame, an array or a list of rows, got {type(X).__name__}",
            value=type(X).__name__,
            expected="a DataFrame, an array or a list",
        ) from None


def _as_target(X: Any, y: Any) -> tuple[int, NDArray[Any]]:
    n = _n_rows(X)
    target = np.asarray(y)
    if target.ndim == 0 or target.shape[0] != n:
        raise DataError(
            f"y has {target.shape[0] if target.ndim else 0} values but X has {n} rows",
            column="y",
            value=target.shape[0] if target.ndim else 0,
            expected=f"{n} values, one per row of X",
        )
    if n == 0:
        raise DataError("X has no rows to score", value=0, expected="at least one row")
    return n, target


def _is_classifier(model: Any) -> bool:
    try:
        return bool(is_classifier(model))
    except AttributeError:  # not a scikit-learn estimator: no tags to read
        return hasattr(model, "classes_")


class _Responses:
    """A model's outputs on ``X``, each prediction method called once, lazily."""

    def __init__(self, model: Any, X: Any, n: int) -> None:
        self.model = model
        self.X = X
        self.n = n
        self._cache: dict[str, NDArray[Any]] = {}
        replay = _ReplayClassifier if _is_classifier(model) else _ReplayRegressor
        self.replay = replay(self)

    def get(self, method: str) -> NDArray[Any]:
        if method not in self._cache:
            output = np.asarray(getattr(self.model, method)(self.X))
            if output.ndim == 0 or output.shape[0] != self.n:
                raise DataError(
                    f"{type(self.model).__name__}.{method} returned "
                    f"{output.shape[0] if output.ndim else 'a scalar'} outputs for {self.n} rows",
                    value=output.shape,
                    expected=f"one output per row ({self.n})",
                )
            self._cache[method] = output
        return self._cache[method]


class _Replay(BaseEstimator):  # type: ignore[misc]
    """Stands in for a model inside a scikit-learn scorer.

    The scorer passes row numbers as ``X``; the outputs come from the model's
    cached predictions, so resampling never calls the model again. Only the
    prediction methods the model has exist here, so a scorer picks the same one
    (``decision_function`` or ``predict_proba``) it would pick on the model.
    """

    def __init__(self, responses: _Responses | None = None) -> None:
        self.responses = responses

    def __getattr__(self, name: str) -> Any:
        responses = self.__dict__.get("responses")
        if responses is None or name.startswith("__"):
            raise AttributeError(name)
        if name in _RESPONSE_METHODS:
            if not hasattr(responses.model, name):
                raise AttributeError(name)

            def respond(rows: NDArray[np.intp]) -> NDArray[Any]:
                outputs: NDArray[Any] = responses.get(name)[rows]
                return outputs

            respond.__name__ = name  # scikit-learn dispatches on the method's name
            return respond
        return getattr(responses.model, name)  # classes_ and the like


class _ReplayClassifier(ClassifierMixin, _Replay):  # type: ignore[misc]
    pass


class _ReplayRegressor(RegressorMixin, _Replay):  # type: ignore[misc]
    pass


def _score(
    metric: _Metric, responses: _Responses, y: NDArray[Any], rows: NDArray[Any]
) -> tuple[float, str | None]:
    """Return the metric on ``rows`` and, when it is undefined (NaN), scikit-learn's reason.

    Must run where ``UndefinedMetricWarning`` is an error, which it then catches.
    """
    try:
        if metric.scorer is not None:
            try:
                value = metric.scorer(responses.replay, rows, y[rows])
            except AttributeError as exc:
                if "has none of the following attributes" not in str(exc):
                    raise
                model = type(responses.model).__name__
                message = str(exc).replace(type(responses.replay).__name__, model)
                raise ConfigurationError(
                    f"cannot compute {metric.name!r} for {model}: {message}",
                    value=metric.name,
                    expected="a model with the prediction method the scorer needs",
                ) from None
            return metric.sign * float(value), None
        assert metric.func is not None
        return float(metric.func(y[rows], responses.get("predict")[rows])), None
    except UndefinedMetricWarning as warning:
        return math.nan, str(warning)


def _format(value: float | None) -> str:
    if value is None:
        return "None"
    if math.isnan(value):
        return "NaN"
    return f"{value:.4g}"


# --- assert_metric -----------------------------------------------------------


@attrs.frozen(repr=False)
class MetricResult:
    """The verdict of :func:`check_metric`: a model's metric against its bounds.

    Attributes
    ----------
    metric
        The metric's name as given (``"accuracy"``, ``"neg_log_loss"``, ...).
    value
        The measured value; NaN when the metric is undefined on the data.
    min, max
        The bounds (inclusive); None where not given.
    n
        The number of rows scored.
    passed
        Whether ``min <= value <= max``; a NaN value never passes.
    greater_is_better
        The metric's direction (see the module docstring).
    reason
        Why the value is NaN, if it is (scikit-learn's warning text).
    """

    metric: str
    value: float
    min: float | None
    max: float | None
    n: int
    passed: bool
    greater_is_better: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every field (NaN as None)."""
        result: dict[str, Any] = _session.json_safe(attrs.asdict(self))
        return result

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row frame of every field."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame([attrs.asdict(self)])
        return frame

    def _convention(self) -> str:
        if self.metric.startswith("neg_"):
            return "; scikit-learn's negated error: higher is better"
        if not self.greater_is_better:
            return "; lower is better"
        return ""

    def __str__(self) -> str:
        where = f"(n={self.n} rows{self._convention()})"
        if math.isnan(self.value):
            bounds = ", ".join(
                f"{label} {_format(bound)}"
                for label, bound in (("min", self.min), ("max", self.max))
                if bound is not None
            )
            return (
                f"{self.metric} is undefined (NaN) on these rows {where}, so it cannot meet "
                f"{bounds}: {self.reason or 'the metric returned NaN'}"
            )
        value = f"{self.metric} = {_format(self.value)}"
        if self.min is not None and self.value < self.min:
            return f"{value} is below the minimum {_format(self.min)} {where}"
        if self.max is not None and self.value > self.max:
            return f"{value} is above the maximum {_format(self.max)} {where}"
        low = "-inf" if self.min is None else _format(self.min)
        high = "inf" if self.max is None else _format(self.max)
        return f"{value} is within [{low}, {high}] {where}"

    def __repr__(self) -> str:
        bounds = "".join(
            f", {label}={_format(bound)}"
            for label, bound in (("min", self.min), ("max", self.max))
            if bound is not None
        )
        verdict = "passed" if self.passed else "failed"
        return f"MetricResult({self.metric}={_format(self.value)}{bounds}, n={self.n}, {verdict})"


def _check_bound(label: str, bound: float | None) -> float | None:
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, (int, float, np.number)):
        raise ConfigurationError(
            f"{label} must be a number, got {bound!r}", value=bound, expected="a number"
        )
    if math.isnan(bound):
        raise ConfigurationError(f"{label} is NaN", value=bound, expected="a number")
    return float(bound)


def check_metric(
    model: Any,
    X: Any,
    y: Any,
    metric: MetricLike = "accuracy",
    *,
    min: float | None = None,
    max: float | None = None,
    name: str | None = None,
) -> MetricResult:
    """Score ``model`` on ``X, y`` and compare the metric with its bounds, without raising.

    Parameters
    ----------
    model
        Anything with ``predict`` (and ``predict_proba`` or
        ``decision_function`` for the scorers that need them).
    X, y
        The evaluation rows and their true targets.
    metric
        A scikit-learn scorer name, the same error name without ``neg_``, or a
        callable ``metric(y_true, y_pred)``; see the module docstring for the
        sign convention.
    min, max
        Inclusive bounds on the metric, in its own units and sign: at least one.
    name
        The name to report (defaults to ``metric`` or the callable's name).

    Returns
    -------
    MetricResult
        ``passed`` is ``min <= value <= max``; ``str(result)`` reads as the
        verdict. The result is recorded for ``--mlkit-report``.

    Raises
    ------
    ConfigurationError
        No bound, ``min > max``, or an unknown metric name.
    DataError
        ``X`` and ``y`` differ in length, or are empty.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> model = LogisticRegression().fit(X, y)
    >>> check_metric(model, X, y, "accuracy", min=0.75)
    MetricResult(accuracy=1, min=0.75, n=4, passed)
    >>> print(check_metric(model, X, y, "log_loss", max=0.1))
    log_loss = 0.3... is above the maximum 0.1 (n=4 rows; lower is better)
    """
    low, high = _check_bound("min", min), _check_bound("max", max)
    if low is None and high is None:
        raise ConfigurationError(
            "give a bound: min=..., max=... or both", value=None, expected="min or max"
        )
    if low is not None and high is not None and low > high:
        raise ConfigurationError(
            f"min ({low}) is greater than max ({high})", value=(low, high), expected="min <= max"
        )
    resolved = _resolve(metric, name)
    n, target = _as_target(X, y)
    responses = _Responses(model, X, n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        value, reason = _score(resolved, responses, target, np.arange(n))
    passed = (
        not math.isnan(value) and (low is None or value >= low) and (high is None or value <= high)
    )
    result = MetricResult(
        metric=resolved.name,
        value=value,
        min=low,
        max=high,
        n=n,
        passed=passed,
        greater_is_better=resolved.greater_is_better,
        reason=reason,
    )
    logger.debug("%r", result)
    _session.record("metric", resolved.name, passed, value=value, min=low, max=high, n=n)
    return result


def assert_metric(
    model: Any,
    X: Any,
    y: Any,
    metric: MetricLike = "accuracy",
    *,
    min: float | None = None,
    max: float | None = None,
    name: str | None = None,
) -> MetricResult:
    """Assert that ``model``'s metric on ``X, y`` lies within ``[min, max]``.

    Takes the same arguments as :func:`check_metric`.

    Returns
    -------
    MetricResult
        The passing result.

    Raises
    ------
    AssertionError
        The metric is out of bounds or undefined; the message shows the
        metric, its value, the bound and the number of rows.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0.1, 0.9, 2.1, 2.9])
    >>> model = LinearRegression().fit(X, y)
    >>> assert_metric(model, X, y, "r2", min=0.95).value
    0.99...
    >>> assert_metric(model, X, y, "neg_mean_squared_error", min=-0.001)
    Traceback (most recent call last):
    ...
    AssertionError: neg_mean_squared_error = -0.01 is below the minimum -0.001 (n=4 rows; ...)
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    result = check_metric(model, X, y, metric, min=min, max=max, name=name)
    if not result.passed:
        raise AssertionError(str(result))
    return result


# --- latency -----------------------------------------------------------------


def _format_seconds(seconds: float) -> str:
    if math.isnan(seconds):
        return "NaN"
    if abs(seconds) >= 1.0:
        return f"{seconds:.3g} s"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


_PERCENTILES = (50, 90, 95, 99)


@attrs.frozen(eq=False, repr=False)
class LatencyResult:
    """Per-call latencies of a model, as measured by :func:`measure_latency`.

    Percentiles use numpy's default linear interpolation between the sorted
    per-call times (``np.percentile(seconds, q)``).

    Attributes
    ----------
    p50, p90, p95, p99
        Percentiles of the per-call time, in seconds.
    mean, max
        Mean and slowest per-call time, in seconds.
    n
        The number of timed calls.
    batch_size
        Rows sent in each call.
    method
        The model method called (``"predict"``, ``"predict_proba"``, ...).
    seconds
        ``(n,)`` float64: every timed call's duration, in call order.
    """

    p50: float
    p90: float
    p95: float
    p99: float
    mean: float
    max: float
    n: int
    batch_size: int
    method: str
    seconds: NDArray[np.float64]

    @classmethod
    def from_seconds(
        cls, seconds: Any, *, batch_size: int = 1, method: str = "predict"
    ) -> LatencyResult:
        """Summarise per-call durations (seconds) measured elsewhere.

        Examples
        --------
        >>> LatencyResult.from_seconds([0.001, 0.002, 0.003, 0.010])
        LatencyResult(predict, n=4, batch_size=1, p50=2.5 ms, p95=8.95 ms, p99=9.79 ms)
        """
        times = np.asarray(seconds, dtype=np.float64).reshape(-1)
        if times.size == 0:
            raise DataError("no latencies to summarise", value=0, expected="at least one time")
        p50, p90, p95, p99 = (float(q) for q in np.percentile(times, _PERCENTILES))
        return cls(
            p50=p50,
            p90=p90,
            p95=p95,
            p99=p99,
            mean=float(times.mean()),
            max=float(times.max()),
            n=int(times.size),
            batch_size=batch_size,
            method=method,
            seconds=times,
        )

    def _statistics(self) -> dict[str, float]:
        return {
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
            "mean": self.mean,
            "max": self.max,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-safe dict (seconds; the per-call times are left out)."""
        summary: dict[str, Any] = {
            **self._statistics(),
            "n": self.n,
            "batch_size": self.batch_size,
            "method": self.method,
        }
        return dict(_session.json_safe(summary))

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy frame: one row per statistic, in seconds."""
        import pandas as pd

        stats = self._statistics()
        frame: pd.DataFrame = pd.DataFrame(
            {"statistic": list(stats), "seconds": list(stats.values())}
        )
        return frame

    def summary(self) -> str:
        """Return one line: the call count and every statistic in readable units."""
        rows = "row" if self.batch_size == 1 else "rows"
        stats = ", ".join(f"{k} {_format_seconds(v)}" for k, v in self._statistics().items())
        return f"{self.n} calls of {self.method} on {self.batch_size} {rows}: {stats}"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"LatencyResult({self.method}, n={self.n}, batch_size={self.batch_size}, "
            f"p50={_format_seconds(self.p50)}, p95={_format_seconds(self.p95)}, "
            f"p99={_format_seconds(self.p99)})"
        )


def _example_rows(example: Any) -> tuple[Any, int]:
    """Return ``example`` as a batch (DataFrame, 2-D array or list of texts) and its length."""
    import pandas as pd

    rows: Any
    if isinstance(example, pd.DataFrame):
        rows = example
    elif isinstance(example, pd.Series):
        rows = pd.DataFrame([example.to_dict()])
    elif isinstance(example, Mapping):
        rows = pd.DataFrame([dict(example)])
    elif isinstance(example, str):
        rows = [example]
    elif (
        isinstance(example, (list, tuple)) and example and all(isinstance(v, str) for v in example)
    ):
        rows = list(example)
    elif (
        isinstance(example, (list, tuple))
        and example
        and all(isinstance(v, Mapping) for v in example)
    ):
        rows = pd.DataFrame([dict(v) for v in example])
    else:
        array = np.asarray(example)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2:
            raise DataError(
                f"example must be one row or a batch of rows, got an array of shape {array.shape}",
                value=array.shape,
                expected="a dict, Series, DataFrame, 1-D or 2-D array, text or list of texts",
            )
        rows = array
    k = len(rows)
    if k == 0 or (not isinstance(rows, list) and getattr(rows, "shape", (0, 1))[1] == 0):
        raise DataError(
            "example is empty", value=k, expected="at least one row with at least one value"
        )
    return rows, k


def _take(rows: Any, positions: NDArray[np.intp]) -> Any:
    if isinstance(rows, list):
        return [rows[i] for i in positions]
    if hasattr(rows, "iloc"):
        return rows.iloc[positions]
    return rows[positions]


def _requests(rows: Any, k: int, batch_size: int, count: int) -> list[Any]:
    """Build the distinct requests once, so that slicing never lands inside a timed call.

    Request ``i`` holds rows ``i * batch_size ...`` of the example, wrapping
    around; the sequence repeats after ``k / gcd(k, batch_size)`` requests.
    """
    period = k // math.gcd(k, batch_size)
    offsets = np.arange(batch_size)
    return [_take(rows, (i * batch_size + offsets) % k) for i in range(min(period, count))]


def _check_count(label: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigurationError(
            f"{label} must be an integer >= {minimum}, got {value!r}",
            value=value,
            expected=f"an integer >= {minimum}",
        )
    return int(value)


def measure_latency(
    model: Any,
    example: Any,
    *,
    n: int = 200,
    warmup: int = 20,
    batch_size: int = 1,
    timer: Callable[[], float] = time.perf_counter,
    method: str = "predict",
) -> LatencyResult:
    """Time ``model``'s predictions one request at a time, as a serving app calls it.

    Each request holds ``batch_size`` rows. A single-row ``example`` is
    repeated; a batch is walked through in order, wrapping around, so the
    model sees varied inputs. Requests are built before timing starts, and
    ``timer`` is read exactly twice per timed call (before and after), never
    during warm-up.

    Parameters
    ----------
    model
        Anything with the ``method`` to time.
    example
        One row (a dict of column to value, a pandas Series, a one-row
        DataFrame, a 1-D array, or a text) or a batch of rows (a DataFrame, a
        2-D array, a list of dicts, or a list of texts).
    n
        Timed calls.
    warmup
        Untimed calls first, so caches and lazy initialisation do not count.
    batch_size
        Rows per call.
    timer
        A monotonic clock in seconds; inject a fake one to test.
    method
        The model method to call.

    Returns
    -------
    LatencyResult
        p50, p90, p95, p99, mean and max per-call time, and every call's time.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> latency = measure_latency(model, X[0], n=50, warmup=5)
    >>> latency.n, latency.batch_size
    (50, 1)
    >>> bool(0 < latency.p50 <= latency.p99 <= latency.max)
    True
    """
    n = _check_count("n", n, 1)
    warmup = _check_count("warmup", warmup, 0)
    batch_size = _check_count("batch_size", batch_size, 1)
    call = getattr(model, method, None)
    if not callable(call):
        raise ConfigurationError(
            f"{type(model).__name__} has no method {method!r} to time",
            value=method,
            expected="a method of the model, such as 'predict'",
        )
    rows, k = _example_rows(example)
    requests = _requests(rows, k, batch_size, warmup + n)
    period = len(requests)
    for i in range(warmup):
        call(requests[i % period])
    seconds = np.empty(n, dtype=np.float64)
    for j in range(n):
        request = requests[(warmup + j) % period]
        start = timer()
        call(request)
        seconds[j] = timer() - start
    result = LatencyResult.from_seconds(seconds, batch_size=batch_size, method=method)
    logger.debug("%r", result)
    return result


def assert_latency(
    model: Any,
    example: Any,
    *,
    p99_below: float | None = None,
    p95_below: float | None = None,
    p50_below: float | None = None,
    n: int = 200,
    warmup: int = 20,
    batch_size: int = 1,
    timer: Callable[[], float] = time.perf_counter,
    method: str = "predict",
) -> LatencyResult:
    """Assert that ``model``'s per-call latency percentiles are below the given seconds.

    Measures with :func:`measure_latency` (same ``n``, ``warmup``,
    ``batch_size``, ``timer`` and ``method``) and passes when every given
    percentile is strictly below its bound.

    Parameters
    ----------
    model, example
        As for :func:`measure_latency`.
    p99_below, p95_below, p50_below
        Bounds in seconds: at least one.
    n, warmup, batch_size, timer, method
        As for :func:`measure_latency`.

    Returns
    -------
    LatencyResult
        The passing measurement.

    Raises
    ------
    AssertionError
        A percentile is not below its bound; the message shows each failing
        percentile beside its bound, then the whole measurement.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> result = assert_latency(model, X[0], p99_below=1.0, n=20)
    >>> ticks = iter(np.arange(0.0, 100.0, 0.25))  # a fake timer: every call takes 250 ms
    >>> assert_latency(model, X[0], p99_below=0.1, n=20, timer=lambda: float(next(ticks)))
    Traceback (most recent call last):
    ...
    AssertionError: p99 latency 250 ms is not below 100 ms
      20 calls of predict on 1 row: p50 250 ms, p90 250 ms, ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    bounds = {
        label: bound
        for label, bound in (("p50", p50_below), ("p95", p95_below), ("p99", p99_below))
        if bound is not None
    }
    if not bounds:
        raise ConfigurationError(
            "give a bound: p99_below=..., p95_below=... or p50_below=... (seconds)",
            value=None,
            expected="at least one bound",
        )
    for label, bound in bounds.items():
        checked = _check_bound(f"{label}_below", bound)
        if checked is None or checked <= 0:
            raise ConfigurationError(
                f"{label}_below must be a positive number of seconds, got {bound!r}",
                value=bound,
                expected="seconds > 0",
            )
    result = measure_latency(
        model, example, n=n, warmup=warmup, batch_size=batch_size, timer=timer, method=method
    )
    measured = result._statistics()
    failures = [
        f"{label} latency {_format_seconds(measured[label])} is not below {_format_seconds(bound)}"
        for label, bound in bounds.items()
        if not measured[label] < bound
    ]
    passed = not failures
    _session.record(
        "latency",
        f"{type(model).__name__}.{method}",
        passed,
        **result.to_dict(),
        **{f"{label}_below": bound for label, bound in bounds.items()},
    )
    if not passed:
        raise AssertionError("\n".join([*failures, f"  {result.summary()}"]))
    return result


# --- compare_models ----------------------------------------------------------


@attrs.frozen(eq=False, repr=False)
class MetricComparison:
    """One metric of a :class:`Comparison`: candidate against baseline, paired bootstrap.

    Attributes
    ----------
    metric
        The metric's name.
    candidate, baseline
        The metric of each model on all rows.
    difference
        ``candidate - baseline`` on all rows, in the metric's own sign.
    ci_low, ci_high
        The percentile bootstrap confidence interval of ``difference``.
    p_value
        One-sided bootstrap p-value that the candidate is *not better*:
        ``(1 + k) / (1 + m)`` where ``k`` of the ``m`` defined resamples show
        no improvement (a difference ``<= 0`` for a higher-is-better metric,
        ``>= 0`` for a lower-is-better one). Small values mean the candidate is
        significantly better.
    greater_is_better
        The metric's direction.
    n, n_boot, ci
        Rows, bootstrap resamples and confidence level.
    n_undefined
        Resamples where the metric was undefined for either model (NaN); they
        are left out of the interval and the p-value.
    differences
        ``(n_boot,)`` float64: ``candidate - baseline`` on every resample.
    """

    metric: str
    candidate: float
    baseline: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    greater_is_better: bool
    n: int
    n_boot: int
    ci: float
    n_undefined: int
    differences: NDArray[np.float64]

    def not_worse(self, margin: float = 0.0) -> bool:
        """Return whether the candidate is not significantly worse than the baseline.

        The candidate is significantly worse when the whole confidence
        interval of ``candidate - baseline`` lies on the worse side of the
        margin: ``ci_high < -margin`` for a higher-is-better metric,
        ``ci_low > margin`` for a lower-is-better one. An undefined (NaN)
        interval is never "not worse".

        Notes
        -----
        This is lenient: with few rows the interval is wide and almost any
        candidate passes. To require evidence that the candidate is no worse
        than ``margin`` (a non-inferiority test), check
        ``ci_low > -margin`` (higher is better) or ``ci_high < margin``.
        """
        margin = _check_margin(margin)
        if self.greater_is_better:
            return bool(self.ci_high >= -margin)
        return bool(self.ci_low <= margin)

    def _record(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "difference": self.difference,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "greater_is_better": self.greater_is_better,
            "n": self.n,
            "n_boot": self.n_boot,
            "ci": self.ci,
            "n_undefined": self.n_undefined,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return every field but the resampled differences, JSON-safe (NaN as None)."""
        return dict(_session.json_safe(self._record()))

    def _direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"

    def explain(self, margin: float = 0.0) -> str:
        """Return the verdict of :meth:`not_worse` with the numbers behind it."""
        level = f"{self.ci:.0%} CI of candidate - baseline"
        interval = f"[{self.ci_low:+.4g}, {self.ci_high:+.4g}]"
        if math.isnan(self.ci_low):
            rule = (
                f"undefined: the metric was NaN in all {self.n_boot} resamples, "
                "so the candidate cannot be shown not worse"
            )
        elif self.greater_is_better:
            side = "entirely below" if self.ci_high < -margin else "reaches"
            rule = f"{interval}, {side} -margin = {f'{-margin:.4g}' if margin else '0'}"
        else:
            side = "entirely above" if self.ci_low > margin else "reaches"
            rule = f"{interval}, {side} margin = {margin:.4g}"
        verdict = (
            "the candidate is not significantly worse than the baseline"
            if self.not_worse(margin)
            else "the candidate is significantly worse than the baseline"
        )
        undefined = f", {self.n_undefined} undefined" if self.n_undefined else ""
        return (
            f"{verdict} on {self.metric} ({self._direction()}):\n"
            f"  candidate {_format(self.candidate)}, baseline {_format(self.baseline)}, "
            f"difference {self.difference:+.4g}\n"
            f"  {level}: {rule}\n"
            f"  {self.n} rows, {self.n_boot} paired bootstrap resamples{undefined}; "
            f"p(candidate not better) = {self.p_value:.3g}"
        )

    def __str__(self) -> str:
        return (
            f"{self.metric} ({self._direction()}): candidate {_format(self.candidate)}, "
            f"baseline {_format(self.baseline)}, difference {self.difference:+.4g}, "
            f"{self.ci:.0%} CI [{self.ci_low:+.4g}, {self.ci_high:+.4g}], "
            f"p(not better)={self.p_value:.3g}"
        )

    def __repr__(self) -> str:
        return (
            f"MetricComparison({self.metric}: difference={self.difference:+.4g}, "
            f"ci=[{self.ci_low:+.4g}, {self.ci_high:+.4g}], p_value={self.p_value:.3g})"
        )


@attrs.frozen(eq=False, repr=False)
class Comparison:
    """The result of :func:`compare_models`: one :class:`MetricComparison` per metric.

    Index it by metric name (``comparison["accuracy"]``).

    Attributes
    ----------
    metrics
        The per-metric comparisons, in the order asked.
    n, n_boot, ci
        Rows, bootstrap resamples and confidence level.
    """

    metrics: tuple[MetricComparison, ...]
    n: int
    n_boot: int
    ci: float

    @property
    def names(self) -> tuple[str, ...]:
        """The metric names, in order."""
        return tuple(m.metric for m in self.metrics)

    def __getitem__(self, metric: str) -> MetricComparison:
        for comparison in self.metrics:
            if comparison.metric == metric:
                return comparison
        from mlkit.errors import NotFoundError

        raise NotFoundError(
            f"no metric {metric!r} in this comparison; it has {list(self.names)}",
            value=metric,
            expected=f"one of {list(self.names)}",
        )

    def _one(self, metric: str | None) -> MetricComparison:
        if metric is not None:
            return self[metric]
        if len(self.metrics) != 1:
            raise ConfigurationError(
                f"this comparison has {len(self.metrics)} metrics; name one of {list(self.names)}",
                value=None,
                expected=f"one of {list(self.names)}",
            )
        return self.metrics[0]

    def not_worse(self, metric: str | None = None, margin: float = 0.0) -> bool:
        """Return whether the candidate is not significantly worse on ``metric``.

        See :meth:`MetricComparison.not_worse` for the rule; ``metric`` may be
        left out when the comparison has a single metric.
        """
        return self._one(metric).not_worse(margin)

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy frame: one row per metric."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame([m._record() for m in self.metrics])
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n", "n_boot", "ci", "metrics": [...]}``, JSON-safe."""
        return {
            "n": self.n,
            "n_boot": self.n_boot,
            "ci": self.ci,
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def __str__(self) -> str:
        lines = [
            f"candidate vs baseline on {self.n} rows, {self.n_boot} paired bootstrap resamples:"
        ]
        lines.extend(f"  {m}" for m in self.metrics)
        return "\n".join(lines)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{m.metric}={m.difference:+.4g} [{m.ci_low:+.4g}, {m.ci_high:+.4g}]"
            for m in self.metrics
        )
        return f"Comparison(n={self.n}, n_boot={self.n_boot}, {shown})"


def _check_margin(margin: float) -> float:
    checked = _check_bound("margin", margin)
    if checked is None or checked < 0 or math.isinf(checked):
        raise ConfigurationError(
            f"margin must be a finite number >= 0 in the metric's units, got {margin!r}",
            value=margin,
            expected="a finite number >= 0",
        )
    return checked


def _bootstrap_rows(n: int, n_boot: int, random_state: Any) -> NDArray[np.integer[Any]]:
    """Return the ``(n_boot, n)`` row numbers of every resample, shared by both models."""
    rng = np.random.default_rng(random_state)
    dtype = np.int32 if n <= np.iinfo(np.int32).max else np.int64
    rows: NDArray[np.integer[Any]] = rng.integers(0, n, size=(n_boot, n), dtype=dtype)
    return rows


def _resample_means(
    values: NDArray[np.float64], rows: NDArray[np.integer[Any]]
) -> NDArray[np.float64]:
    """Return ``values[rows].mean(axis=1)``, gathered a block of resamples at a time."""
    n_boot, n = rows.shape
    means = np.empty(n_boot, dtype=np.float64)
    step = max(1, _GATHER_BLOCK // max(n, 1))
    for start in range(0, n_boot, step):
        means[start : start + step] = values[rows[start : start + step]].mean(axis=1)
    return means


def _resample(
    metric: _Metric, responses: _Responses, y: NDArray[Any], rows: NDArray[np.integer[Any]]
) -> NDArray[np.float64]:
    """Return the metric on every resample (rows of ``rows``).

    Means of per-row values (accuracy, squared and absolute errors) are
    gathered in one vectorised pass; any other scorer or callable is called
    once per resample on the cached predictions.
    """
    if metric.rows is not None and y.ndim == 1:
        predictions = responses.get("predict")
        if predictions.ndim == 1:
            means = _resample_means(metric.rows(y, predictions), rows)
            return metric.row_sign * (np.sqrt(means) if metric.root else means)
    return np.array([_score(metric, responses, y, r)[0] for r in rows], dtype=np.float64)


def _summarise(
    metric: _Metric,
    candidate: float,
    baseline: float,
    differences: NDArray[np.float64],
    n: int,
    ci: float,
) -> MetricComparison:
    defined = differences[~np.isnan(differences)]
    if defined.size:
        low, high = (float(q) for q in np.quantile(defined, [(1 - ci) / 2, (1 + ci) / 2]))
        improvement = defined if metric.greater_is_better else -defined
        p_value = float((1 + np.count_nonzero(improvement <= 0)) / (1 + defined.size))
    else:
        low = high = p_value = math.nan
    return MetricComparison(
        metric=metric.name,
        candidate=candidate,
        baseline=baseline,
        difference=candidate - baseline,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        greater_is_better=metric.greater_is_better,
        n=n,
        n_boot=differences.size,
        ci=ci,
        n_undefined=int(differences.size - defined.size),
        differences=differences,
    )


def compare_models(
    candidate: Any,
    baseline: Any,
    X: Any,
    y: Any,
    metrics: MetricLike | Sequence[MetricLike] | Mapping[str, MetricLike] = ("accuracy",),
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> Comparison:
    """Compare two models on the same rows with a paired bootstrap of their difference.

    Both models are scored on the same ``n_boot`` resamples of the rows (one
    ``(n_boot, n)`` matrix of row numbers), so the noise of the test set
    cancels out of ``candidate - baseline``. Each model is called once per
    prediction method on the whole of ``X``. Accuracy, (root) mean squared
    error and mean absolute error are means of per-row values, resampled in
    one vectorised pass; any other scorer or callable is computed by a loop
    over the resamples on the cached predictions (about 1 ms per resample
    for a typical scikit-learn metric).

    Parameters
    ----------
    candidate, baseline
        The models to compare (anything with ``predict``, and
        ``predict_proba``/``decision_function`` where a scorer needs them).
    X, y
        The evaluation rows and their true targets.
    metrics
        One metric, a sequence of them, or a mapping ``{name: metric}``; each a
        scikit-learn scorer name, an error name without ``neg_``, or a
        callable ``metric(y_true, y_pred)`` (see the module docstring).
    n_boot
        Bootstrap resamples. The row-number matrix takes ``4 * n_boot * n``
        bytes.
    ci
        Confidence level of the percentile interval, in (0, 1).
    random_state
        Seed or generator of the resamples.

    Returns
    -------
    Comparison
        Per metric: both values, ``candidate - baseline``, its interval and a
        one-sided p-value; ``comparison.not_worse(metric, margin)``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> dummy = DummyClassifier().fit(X, y)
    >>> comparison = compare_models(good, dummy, X, y, ["accuracy", "log_loss"], n_boot=200)
    >>> bool(comparison["accuracy"].ci_low > 0), bool(comparison["log_loss"].ci_high < 0)
    (True, True)
    >>> comparison.not_worse("accuracy"), compare_models(dummy, good, X, y).not_worse()
    (True, False)
    """
    resolved = _resolve_many(metrics)
    n_boot = _check_count("n_boot", n_boot, 1)
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1:
        raise ConfigurationError(
            f"ci must be a confidence level in (0, 1), got {ci!r}", value=ci, expected="0 < ci < 1"
        )
    n, target = _as_target(X, y)
    models = (_Responses(candidate, X, n), _Responses(baseline, X, n))
    rows = _bootstrap_rows(n, n_boot, random_state)
    everything = np.arange(n)
    comparisons = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        for metric in resolved:
            cand, base = (_score(metric, m, target, everything)[0] for m in models)
            differences = _resample(metric, models[0], target, rows) - _resample(
                metric, models[1], target, rows
            )
            comparisons.append(_summarise(metric, cand, base, differences, n, float(ci)))
    comparison = Comparison(tuple(comparisons), n=n, n_boot=n_boot, ci=float(ci))
    logger.debug("%r", comparison)
    return comparison


def assert_not_worse(
    candidate: Any,
    baseline: Any,
    X: Any,
    y: Any,
    metric: MetricLike = "accuracy",
    margin: float = 0.0,
    *,
    name: str | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> Comparison:
    """Assert that the candidate is not significantly worse than the baseline on ``metric``.

    Runs :func:`compare_models` and fails when the whole ``ci`` confidence
    interval of ``candidate - baseline`` lies on the worse side of the
    margin: ``ci_high < -margin`` when higher is better, ``ci_low > margin``
    when lower is better (errors named without ``neg_``, or callables whose
    name ends in ``_error``/``_loss``/``_deviance``). With the default
    ``ci=0.95`` this is a one-sided test at the 2.5% level. It is lenient: a
    small test set gives a wide interval and lets a worse candidate through;
    see :meth:`MetricComparison.not_worse` for the stricter check.

    Parameters
    ----------
    candidate, baseline, X, y
        As for :func:`compare_models`.
    metric
        One metric (see the module docstring).
    margin
        How much worse the candidate may be, in the metric's units (>= 0).
    name
        The metric's name, for a callable (it also sets its direction).
    n_boot, ci, random_state
        As for :func:`compare_models`.

    Returns
    -------
    Comparison
        The passing comparison.

    Raises
    ------
    AssertionError
        The candidate is significantly worse; the message shows both values,
        the difference, its interval against the margin and the p-value.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> dummy = DummyClassifier().fit(X, y)
    >>> assert_not_worse(good, dummy, X, y, "accuracy", n_boot=200)
    Comparison(n=300, n_boot=200, accuracy=+0.3... [...])
    >>> assert_not_worse(dummy, good, X, y, "accuracy", margin=0.05, n_boot=200)
    Traceback (most recent call last):
    ...
    AssertionError: the candidate is significantly worse than the baseline on accuracy ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    margin = _check_margin(margin)
    spec: Mapping[str, MetricLike] | MetricLike = {name: metric} if name is not None else metric
    comparison = compare_models(
        candidate, baseline, X, y, spec, n_boot=n_boot, ci=ci, random_state=random_state
    )
    result = comparison.metrics[0]
    passed = result.not_worse(margin)
    _session.record("comparison", result.metric, passed, margin=margin, **result._record())
    if not passed:
        raise AssertionError(result.explain(margin))
    return comparison
