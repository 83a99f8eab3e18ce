"""Fairness: metrics by group with bootstrap intervals, parity metrics, assertions.

The parity metrics (:func:`demographic_parity_difference`, ...) take
Fairlearn's arguments and return Fairlearn's numbers, but as a
:class:`FairnessResult` that also carries every group's rate and size and, in
``reasons``, why a value is NaN or rests on a convention. Fairlearn reports
the true positive rate of a group without positive labels as 0 (scikit-learn's
``confusion_matrix`` turns 0/0 into 0): mlkit keeps that number, so values stay
equal, and says so. Where Fairlearn or scikit-learn warn (precision of a group
that predicts no positives, weights summing to 0), mlkit returns NaN with the
reason instead of a made-up 0.

Everything is computed from one weighted confusion table per group, taken with
a single :func:`numpy.bincount` over ``4 * group + cell``. The bootstrap of a
group draws multinomial counts of its distinct (cell, weight) pairs, the same
distribution as resampling its rows at a cost that does not grow with them
(unweighted data has at most 4 pairs); with many distinct weights it resamples
an index matrix, in bounded chunks.

:func:`assert_fairness` and :func:`assert_four_fifths` refuse to pass on
groups too small to measure: they fail (or raise :class:`~mlkit.errors.DataError`)
and name them, unless told to leave them out.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import _session

__all__ = [
    "FairnessResult",
    "GroupMetrics",
    "assert_fairness",
    "assert_four_fifths",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "group_metrics",
    "selection_rate",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

Method = Literal["between_groups", "to_overall"]
Agg = Literal["worst_case", "mean"]
OnSmallGroups = Literal["fail", "error", "ignore"]
MetricFunction = Callable[..., Any]

_METHODS = ("between_groups", "to_overall")
_AGGS = ("worst_case", "mean")
_ON_SMALL_GROUPS = ("fail", "error", "ignore")

#: Named metrics computed by :func:`group_metrics` when none are given.
DEFAULT_METRICS = ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate")

# Cells of a group's confusion table: 2 * (y_true is positive) + (y_pred is positive).
_TN, _FP, _FN, _TP = 0, 1, 2, 3

# Bootstrap draws are made in chunks of at most this many cells (32 MiB of int64).
_CHUNK_CELLS = 1 << 22

# Up to this many distinct (confusion cell, weight) pairs in a group, bootstrap
# counts are drawn from a multinomial; past it, from an index matrix.
_MULTINOMIAL_PAIRS = 64

# Groups listed in a failure message before "... and k more".
_MAX_LISTED = 20

_NO_WEIGHT = "the sample weights of the group sum to 0"


_NO_POSITIVES = "the group has no positive labels"
_NO_NEGATIVES = "the group has no negative labels"


@attrs.frozen
class _Rate:
    """A metric that is a ratio of weighted confusion cells ``(tn, fp, fn, tp)``.

    ``zero_denominator`` is what Fairlearn returns when the denominator is 0:
    ``"zero"`` silently (scikit-learn's ``confusion_matrix`` maps 0/0 to 0),
    ``"nan"`` where it, or scikit-learn, warns or raises instead.
    """

    name: str
    numerator: tuple[int, int, int, int]
    denominator: tuple[int, int, int, int]
    zero_denominator: Literal["zero", "nan"]
    because: str


# The reference each one equals: fairlearn.metrics.selection_rate and
# {true,false}_{positive,negative}_rate; sklearn.metrics accuracy_score,
# precision_score, recall_score and f1_score.
_RATES: dict[str, _Rate] = {
    r.name: r
    for r in (
        _Rate("selection_rate", (0, 1, 0, 1), (1, 1, 1, 1), "nan", _NO_WEIGHT),
        _Rate("accuracy", (1, 0, 0, 1), (1, 1, 1, 1), "nan", _NO_WEIGHT),
        _Rate("true_positive_rate", (0, 0, 0, 1), (0, 0, 1, 1), "zero", _NO_POSITIVES),
        _Rate("false_positive_rate", (0, 1, 0, 0), (1, 1, 0, 0), "zero", _NO_NEGATIVES),
        _Rate("true_negative_rate", (1, 0, 0, 0), (1, 1, 0, 0), "zero", _NO_NEGATIVES),
        _Rate("false_negative_rate", (0, 0, 1, 0), (0, 0, 1, 1), "zero", _NO_POSITIVES),
        _Rate("precision", (0, 0, 0, 1), (0, 1, 0, 1), "nan", "no predicted positives"),
        _Rate("recall", (0, 0, 0, 1), (0, 0, 1, 1), "nan", _NO_POSITIVES),
        _Rate("f1", (0, 0, 0, 2), (0, 1, 1, 2), "nan", "no positive labels or predictions"),
    )
}

# metric -> (difference or ratio, the per-group rates it compares)
_PARITY: dict[str, tuple[Literal["difference", "ratio"], tuple[str, ...]]] = {
    "demographic_parity_difference": ("difference", ("selection_rate",)),
    "demographic_parity_ratio": ("ratio", ("selection_rate",)),
    "equalized_odds_difference": ("difference", ("true_positive_rate", "false_positive_rate")),
    "equalized_odds_ratio": ("ratio", ("true_positive_rate", "false_positive_rate")),
    "equal_opportunity_difference": ("difference", ("true_positive_rate",)),
    "equal_opportunity_ratio": ("ratio", ("true_positive_rate",)),
}

_RESERVED = frozenset(
    {"group", "metric", "value", "ci_low", "ci_high", "n", "n_positive", "sufficient", "note"}
    | {"impact_ratio"}
    | set(_RATES)
)


# --------------------------------------------------------------------------- input checks


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigurationError(
            f"{name} must be one of {list(choices)}, got {value!r}",
            column=name,
            value=value,
            expected=list(choices),
        )


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigurationError(
            f"{name} must be an integer >= {minimum}, got {value!r}",
            column=name,
            value=value,
            expected=f"integer >= {minimum}",
        )
    return int(value)


def _as_1d(name: str, values: Any) -> NDArray[Any]:
    if values is None:
        raise DataError(f"{name} is required, got None", column=name, value=None)
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series | pd.DataFrame) else values)
    # Fairlearn squeezes column vectors; so does mlkit.
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataError(
            f"{name} must be 1-D, got an array of shape {arr.shape}",
            column=name,
            value=arr.shape,
            expected="1-D array",
        )
    if arr.size == 0:
        raise DataError(f"{name} is empty", column=name, value=0, expected="at least one row")
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{name} has {int(missing.sum())} missing value(s), the first at row {first}",
            column=name,
            value=arr[first],
            expected="no missing values",
        )
    return arr


def _check_length(name: str, n_rows: int, expected: int, of: str = "y_true") -> None:
    if n_rows != expected:
        raise DataError(
            f"{name} has {n_rows} rows but {of} has {expected}; they must be the same length",
            column=name,
            value=n_rows,
            expected=expected,
        )


def _as_weights(sample_weight: Any, n_rows: int) -> FloatArray | None:
    if sample_weight is None:
        return None
    arr = _as_1d("sample_weight", sample_weight)
    _check_length("sample_weight", arr.size, n_rows)
    try:
        weights = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"sample_weight must be numeric, got dtype {arr.dtype}",
            column="sample_weight",
            value=str(arr.dtype),
            expected="non-negative numbers",
        ) from exc
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"sample_weight must be finite and >= 0; row {first} is {weights[first]!r}",
            column="sample_weight",
            value=float(weights[first]),
            expected="finite, >= 0",
        )
    return weights


def _show(labels: set[Any]) -> str:
    return "[" + ", ".join(sorted(map(repr, labels))) + "]"


def _positive_masks(
    y_true: NDArray[Any], y_pred: NDArray[Any], pos_label: Any, *, binary: bool, what: str
) -> tuple[BoolArray, BoolArray]:
    """Return ``y == positive label`` for both arrays, checking they are binary first."""
    if binary:
        seen = {
            name: set(pd.unique(arr).tolist())
            for name, arr in (("y_true", y_true), ("y_pred", y_pred))
        }
        labels = seen["y_true"] | seen["y_pred"]
        if pos_label is None:
            if not (labels <= {0, 1} or labels <= {-1, 1}):
                where = [name for name, s in seen.items() if s - {0, 1} and s - {-1, 1}]
                holder = " and ".join(where) or "y_true and y_pred"
                odd = labels - {-1, 0, 1}
                raise DataError(
                    f"{what} needs binary labels, 0/1 or -1/1 (or two labels and pos_label=); "
                    f"{holder} {'contains' if len(where) == 1 else 'contain'} {_show(labels)}"
                    + (f" (unexpected: {_show(odd)[1:-1]})" if odd else ""),
                    column=holder,
                    value=sorted(map(repr, labels)),
                    expected="0/1 or -1/1",
                )
        elif len(labels) > 2 or (len(labels) == 2 and pos_label not in labels):
            problem = "more than two labels" if len(labels) > 2 else "pos_label is not one of them"
            raise DataError(
                f"{what} needs binary labels with pos_label={pos_label!r} among them; y_true and "
                f"y_pred contain {_show(labels)} ({problem})",
                column="y_true and y_pred",
                value=sorted(map(repr, labels)),
                expected=f"two labels including {pos_label!r}",
            )
    positive = 1 if pos_label is None else pos_label
    return (
        pd.Series(y_true, copy=False).eq(positive).to_numpy(dtype=bool),
        pd.Series(y_pred, copy=False).eq(positive).to_numpy(dtype=bool),
    )


# --------------------------------------------------------------------------- groups


@attrs.frozen(eq=False)
class _Groups:
    """Rows encoded by group: observed groups (or intersections) in sorted order."""

    codes: IntArray
    labels: tuple[Any, ...]
    values: tuple[tuple[Any, ...], ...]
    features: tuple[str, ...]
    n_empty: int

    @property
    def size(self) -> int:
        return len(self.labels)

    def describe(self, g: int) -> str:
        return ", ".join(f"{f}={v!r}" for f, v in zip(self.features, self.values[g], strict=True))


def _feature_columns(sensitive_features: Any) -> list[tuple[str, Any]]:
    sf = sensitive_features
    if sf is None:
        raise DataError(
            "sensitive_features is required, got None", column="sensitive_features", value=None
        )
    if isinstance(sf, pd.DataFrame):
        return [(str(c), sf.iloc[:, j]) for j, c in enumerate(sf.columns)]
    if isinstance(sf, pd.Series):
        return [(str(sf.name) if sf.name is not None else "sensitive_feature_0", sf)]
    if isinstance(sf, Mapping):
        return [(str(k), v) for k, v in sf.items()]
    if isinstance(sf, list | tuple) and sf and not all(pd.api.types.is_scalar(v) for v in sf):
        # A list of arrays: one sensitive feature per array, intersected.
        return [
            (
                str(v.name)
                if isinstance(v, pd.Series) and v.name is not None
                else f"sensitive_feature_{j}",
                v,
            )
            for j, v in enumerate(sf)
        ]
    arr = np.asarray(sf, dtype=object)
    if arr.ndim == 1:
        return [("sensitive_feature_0", arr)]
    if arr.ndim == 2:
        return [(f"sensitive_feature_{j}", arr[:, j]) for j in range(arr.shape[1])]
    raise DataError(
        f"sensitive_features must be 1-D or 2-D, got shape {arr.shape}",
        column="sensitive_features",
        value=arr.shape,
        expected="1-D or 2-D",
    )


def _encode_groups(sensitive_features: Any, n_rows: int) -> _Groups:
    columns = _feature_columns(sensitive_features)
    if not columns:
        raise DataError(
            "sensitive_features has no columns",
            column="sensitive_features",
            value=0,
            expected="at least one feature",
        )
    names = [name for name, _ in columns]
    for name in names:
        if names.count(name) > 1:
            raise DataError(f"sensitive feature {name!r} appears twice", column=name, value=name)
        if name in _RESERVED:
            raise DataError(
                f"sensitive feature {name!r} clashes with a column of mlkit's results; rename it",
                column=name,
                value=name,
                expected=f"a name not in {sorted(_RESERVED)}",
            )
    codes: list[IntArray] = []
    uniques: list[list[Any]] = []
    for name, column in columns:
        values = column.reset_index(drop=True) if isinstance(column, pd.Series) else column
        series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
        if series.ndim != 1:
            raise DataError(f"sensitive feature {name!r} must be 1-D", column=name, expected="1-D")
        _check_length(f"sensitive feature {name!r}", len(series), n_rows)
        missing = series.isna().to_numpy(dtype=bool)
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise DataError(
                f"sensitive feature {name!r} has {int(missing.sum())} missing value(s), the "
                f"first at row {first}; replace them with a category of their own",
                column=name,
                value=series.iloc[first],
                expected="no missing values",
            )
        code, unique = pd.factorize(series, sort=True)
        codes.append(np.asarray(code, dtype=np.int64))
        uniques.append(list(pd.Index(unique).tolist()))
    if len(codes) == 1:
        labels = tuple(uniques[0])
        return _Groups(
            codes=codes[0],
            labels=labels,
            values=tuple((v,) for v in labels),
            features=tuple(names),
            n_empty=0,
        )
    rows, inverse = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
    values = tuple(tuple(uniques[j][int(k)] for j, k in enumerate(row)) for row in rows.tolist())
    return _Groups(
        codes=np.asarray(inverse, dtype=np.int64).reshape(-1),
        labels=values,
        values=values,
        features=tuple(names),
        n_empty=math.prod(len(u) for u in uniques) - len(values),
    )


# --------------------------------------------------------------------------- confusion cells


@attrs.frozen(eq=False)
class _Data:
    y_true: NDArray[Any]
    y_pred: NDArray[Any]
    cell: IntArray
    weight: FloatArray | None
    groups: _Groups
    cells: NDArray[Any]  # (n_groups, 4) weighted confusion cells, int64 when unweighted
    overall_cells: NDArray[Any]  # (4,)
    n: IntArray
    n_positive: IntArray


def _prepare(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    sample_weight: Any,
    pos_label: Any,
    *,
    what: str,
    binary: bool = True,
) -> _Data:
    yt = _as_1d("y_true", y_true)
    yp = _as_1d("y_pred", y_pred)
    _check_length("y_pred", yp.size, yt.size)
    weight = _as_weights(sample_weight, yt.size)
    groups = _encode_groups(sensitive_features, yt.size)
    pos_true, pos_pred = _positive_masks(yt, yp, pos_label, binary=binary, what=what)
    cell = 2 * pos_true.astype(np.int64) + pos_pred
    n_groups = groups.size
    cells = np.bincount(groups.codes * 4 + cell, weights=weight, minlength=4 * n_groups)
    return _Data(
        y_true=yt,
        y_pred=yp,
        cell=cell,
        weight=weight,
        groups=groups,
        cells=cells.reshape(n_groups, 4),
        overall_cells=np.bincount(cell, weights=weight, minlength=4),
        n=np.bincount(groups.codes, minlength=n_groups).astype(np.int64),
        n_positive=np.bincount(groups.codes[pos_true], minlength=n_groups).astype(np.int64),
    )


def _evaluate(rate: _Rate, cells: NDArray[Any]) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Return the rate with Fairlearn's convention, where it is undefined, where weightless.

    ``cells`` is ``(..., 4)``. Integer cells stay integer until the division so
    unweighted rates are the same correctly rounded quotient Fairlearn computes.
    """
    numerator = cells @ np.asarray(rate.numerator, dtype=cells.dtype)
    denominator = cells @ np.asarray(rate.denominator, dtype=cells.dtype)
    weightless = cells.sum(axis=-1) == 0
    undefined = denominator == 0
    value = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=value, where=~undefined)
    if rate.zero_denominator == "zero":
        value[undefined & ~weightless] = 0.0
    return value, np.asarray(undefined), np.asarray(weightless)


def _note(rate: _Rate, undefined: bool, weightless: bool) -> str:
    if weightless:
        return f"{rate.name} undefined ({_NO_WEIGHT}): NaN"
    if not undefined:
        return ""
    if rate.zero_denominator == "zero":
        return f"{rate.name} undefined ({rate.because}): 0 by Fairlearn's convention"
    return f"{rate.name} undefined ({rate.because}): NaN where scikit-learn warns and reports 0"


# --------------------------------------------------------------------------- aggregation


def _difference(
    values: FloatArray, overall: float, method: str, include: BoolArray
) -> tuple[float, tuple[int, int | None] | None]:
    """Fairlearn's ``MetricFrame.difference``: NaN groups are skipped, as pandas does."""
    idx = np.flatnonzero(include & ~np.isnan(values))
    if idx.size == 0:
        return math.nan, None
    if method == "between_groups":
        low = int(idx[np.argmin(values[idx])])
        gaps = np.abs(values[idx] - values[low])
        k = int(np.argmax(gaps))
        return float(gaps[k]), (low, int(idx[k]))
    if math.isnan(overall):
        return math.nan, None
    gaps = np.abs(values[idx] - overall)
    k = int(np.argmax(gaps))
    return float(gaps[k]), (int(idx[k]), None)


def _ratio(
    values: FloatArray, overall: float, method: str, include: BoolArray
) -> tuple[float, tuple[int, int | None] | None]:
    """Fairlearn's ``MetricFrame.ratio``: min/max, or each group to overall folded below 1."""
    idx = np.flatnonzero(include & ~np.isnan(values))
    if idx.size == 0:
        return math.nan, None
    if method == "between_groups":
        low = int(idx[np.argmin(values[idx])])
        high = int(idx[np.argmax(values[idx])])
        if values[high] == 0:
            return math.nan, (low, high)
        return float(values[low] / values[high]), (low, high)
    if math.isnan(overall):
        return math.nan, None
    if overall == 0:
        # x / 0 is inf, folded to 1 / inf = 0; 0 / 0 is NaN and skipped.
        ratios = np.where(values[idx] == 0, np.nan, 0.0)
    else:
        ratios = values[idx] / overall
        np.divide(1.0, ratios, out=ratios, where=ratios > 1)
    defined = ~np.isnan(ratios)
    if not defined.any():
        return math.nan, None
    k = int(np.flatnonzero(defined)[np.argmin(ratios[defined])])
    return float(ratios[k]), (int(idx[k]), None)


def _why_nan(kind: str, method: str, rate: str, values: FloatArray, overall: float) -> str:
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return f"no compared group has a defined {rate}"
    if method == "to_overall" and math.isnan(overall):
        return f"the overall {rate} is undefined ({_NO_WEIGHT.replace('group', 'data')})"
    if kind == "ratio" and method == "between_groups":
        return f"every compared group's {rate} is 0, so the ratio 0/0 is undefined"
    if kind == "ratio":
        return f"the overall {rate} is 0, so every ratio to it is 0/0"
    return f"the {rate} {kind} is undefined"


# --------------------------------------------------------------------------- results


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _fmt(value: Any) -> str:
    if value is None:
        return "None"
    value = float(value)
    return "NaN" if math.isnan(value) else f"{value:.4f}"


@attrs.frozen(eq=False, repr=False)
class FairnessResult:
    """A parity metric over the groups of one or more sensitive features.

    Returned by the parity metrics (``value`` equal to Fairlearn's) and, with a
    verdict, by :func:`assert_fairness` and :func:`assert_four_fifths`.
    ``float(result)`` is ``result.value``, and ``<``, ``<=``, ``>``, ``>=``
    compare ``value`` with a number, so Fairlearn-style tests such as
    ``assert demographic_parity_difference(...) < 0.1`` keep working (a NaN
    value compares False, so such an assertion fails). ``str(result)`` is a
    readable report (the assertion message when it failed).

    Attributes
    ----------
    metric
        The parity metric, for example ``"demographic_parity_difference"``,
        or ``"four_fifths"``.
    value
        The metric's value; NaN when undefined, with the reason in ``reasons``.
    method
        ``"between_groups"`` or ``"to_overall"``.
    by_group
        One row per group (observed combination of the sensitive features):
        ``group`` (a tuple for intersections), a column per sensitive feature,
        ``n``, ``n_positive`` (rows with a positive label), the rate(s)
        compared, and ``note`` (why a rate is undefined or a convention).
        Assertions add ``sufficient`` (``n >= min_group_size`` and every rate
        defined); :func:`assert_four_fifths` adds ``impact_ratio``.
    overall
        Each compared rate over all rows.
    rate
        The rate the value comes from (for equalized odds, the one that decided it).
    pair
        The two groups that set the value (the lowest and highest, or a group
        and ``"overall"``); None when the value is NaN.
    reasons
        Every explanation worth reading: undefined rates, empty intersections,
        groups left out, why the value is NaN.
    agg
        ``"worst_case"`` or ``"mean"`` for equalized odds, else None.
    passed
        The verdict of an assertion; None for a plain metric.
    bound, threshold
        The bound an assertion checked (``"max_difference"``, ``"min_ratio"``
        or ``"threshold"``) and its value.
    min_group_size
        The smallest group an assertion trusted.
    small_groups
        Groups below ``min_group_size`` or with an undefined rate.
    failing_groups
        Groups that break the bound.
    summary
        The first line of ``str(result)``.
    """

    metric: str
    value: float
    method: str
    by_group: pd.DataFrame
    overall: dict[str, float]
    rate: str
    pair: tuple[Any, Any] | None
    reasons: tuple[str, ...] = ()
    agg: str | None = None
    passed: bool | None = None
    bound: str | None = None
    threshold: float | None = None
    min_group_size: int | None = None
    small_groups: tuple[Any, ...] = ()
    failing_groups: tuple[Any, ...] = ()
    summary: str = ""

    def __float__(self) -> float:
        return self.value

    def __lt__(self, other: float) -> bool:
        return self.value < float(other)

    def __le__(self, other: float) -> bool:
        return self.value <= float(other)

    def __gt__(self, other: float) -> bool:
        return self.value > float(other)

    def __ge__(self, other: float) -> bool:
        return self.value >= float(other)

    @property
    def n_groups(self) -> int:
        """The number of groups."""
        return len(self.by_group)

    def to_frame(self) -> pd.DataFrame:
        """Return ``by_group``: one row per group."""
        frame: pd.DataFrame = self.by_group.copy()
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the result (NaN as None, tuples as lists)."""
        out = {
            "metric": self.metric,
            "value": self.value,
            "method": self.method,
            "agg": self.agg,
            "rate": self.rate,
            "pair": self.pair,
            "overall": self.overall,
            "passed": self.passed,
            "bound": self.bound,
            "threshold": self.threshold,
            "min_group_size": self.min_group_size,
            "small_groups": self.small_groups,
            "failing_groups": self.failing_groups,
            "reasons": self.reasons,
            "groups": self.by_group.to_dict(orient="records"),
        }
        safe: dict[str, Any] = _session.json_safe(out)
        return safe

    def _row(self, label: Any) -> pd.Series | None:
        labels = self.by_group["group"].tolist()
        return self.by_group.iloc[labels.index(label)] if label in labels else None

    def _describe(self, label: Any) -> str:
        if label == "overall" and self._row(label) is None:
            return f"overall ({self.rate}={_fmt(self.overall.get(self.rate))})"
        row = self._row(label)
        if row is None:
            return repr(label)
        columns = list(self.by_group.columns)
        features = columns[1 : columns.index("n")]
        name = ", ".join(f"{f}={_scalar(row[f])!r}" for f in features)
        return f"{name} ({self.rate}={_fmt(row[self.rate])}, n={int(row['n'])})"

    def __str__(self) -> str:
        lines = [self.summary or f"{self.metric} = {_fmt(self.value)}"]
        if self.pair is not None:
            first, second = self.pair
            ratio = self.metric.endswith("_ratio") or self.metric == "four_fifths"
            lead = "lowest ratio" if ratio else "largest gap"
            lines.append(f"  {lead}: {self._describe(first)} vs {self._describe(second)}")
        if self.failing_groups and self.failing_groups != self.pair:
            listed = [self._describe(g) for g in self.failing_groups[:_MAX_LISTED]]
            more = len(self.failing_groups) - len(listed)
            lines.append(
                "  failing groups: " + "; ".join(listed) + (f"; ... {more} more" if more else "")
            )
        lines.extend("  " + line for line in _table(self.by_group).splitlines())
        if self.reasons:
            lines.append("  notes:")
            lines.extend(f"  - {r}" for r in self.reasons)
        return "\n".join(lines)

    def __repr__(self) -> str:
        verdict = "" if self.passed is None else f", passed={self.passed}"
        agg = f", agg={self.agg!r}" if self.agg else ""
        return (
            f"FairnessResult({self.metric}={self.value:.4g}, method={self.method!r}{agg}, "
            f"groups={self.n_groups}{verdict})"
        )


def _table(frame: pd.DataFrame) -> str:
    shown = frame.drop(columns=["group"])
    if "note" in shown and not shown["note"].astype(bool).any():
        shown = shown.drop(columns=["note"])
    more = len(shown) - _MAX_LISTED
    text: str = shown.head(_MAX_LISTED).to_string(index=False, float_format=lambda x: f"{x:.4f}")
    return text + (f"\n... {more} more groups" if more > 0 else "")


@attrs.frozen(eq=False)
class _Table:
    """The per-group rates one parity metric compares."""

    data: _Data
    rates: dict[str, FloatArray]
    overall: dict[str, float]
    undefined: BoolArray
    notes: list[str]


def _rate_table(data: _Data, names: Sequence[str]) -> _Table:
    rates: dict[str, FloatArray] = {}
    overall: dict[str, float] = {}
    undefined = np.zeros(data.groups.size, dtype=bool)
    notes: list[list[str]] = [[] for _ in range(data.groups.size)]
    for name in names:
        rate = _RATES[name]
        value, undef, weightless = _evaluate(rate, data.cells)
        rates[name] = value
        undefined |= undef
        for g in np.flatnonzero(undef):
            notes[g].append(_note(rate, bool(undef[g]), bool(weightless[g])))
        overall_value, _, _ = _evaluate(rate, data.overall_cells[None, :])
        overall[name] = float(overall_value[0])
    return _Table(data, rates, overall, undefined, ["; ".join(n) for n in notes])


def _by_group_frame(table: _Table, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    groups = table.data.groups
    columns: dict[str, Any] = {"group": list(groups.labels)}
    for j, feature in enumerate(groups.features):
        columns[feature] = [v[j] for v in groups.values]
    columns["n"] = table.data.n
    columns["n_positive"] = table.data.n_positive
    columns.update(table.rates)
    columns.update(extra or {})
    columns["note"] = table.notes
    frame: pd.DataFrame = pd.DataFrame(columns)
    frame["group"] = pd.Series(list(groups.labels), dtype=object)
    return frame


def _parity_spec(metric: str) -> tuple[Literal["difference", "ratio"], tuple[str, ...]]:
    if metric not in _PARITY:
        raise ConfigurationError(
            f"unknown fairness metric {metric!r}; known: {', '.join(_PARITY)}",
            column="metric",
            value=metric,
            expected=list(_PARITY),
        )
    return _PARITY[metric]


def _compute(
    metric: str,
    table: _Table,
    *,
    method: str,
    agg: str,
    include: BoolArray | None = None,
) -> FairnessResult:
    kind, names = _parity_spec(metric)
    groups = table.data.groups
    mask = np.ones(groups.size, dtype=bool) if include is None else include
    aggregate = _difference if kind == "difference" else _ratio
    parts = {
        name: aggregate(table.rates[name], table.overall[name], method, mask) for name in names
    }
    reasons: list[str] = [
        f"{groups.describe(g)}: {table.notes[g]}" for g in range(groups.size) if table.notes[g]
    ]
    if groups.n_empty:
        reasons.append(
            f"{groups.n_empty} combination(s) of the sensitive features have no rows: not "
            "groups, left out (Fairlearn lists them as NaN and skips them too)"
        )
    if int(mask.sum()) < 2:
        reasons.append("fewer than two groups are compared: there is nothing to compare")
    for name, (part, _) in parts.items():
        if math.isnan(part):
            why = _why_nan(kind, method, name, table.rates[name][mask], table.overall[name])
            reasons.append(f"{metric}: {why}")
    first = names[0]
    value, pair = parts[first]
    decided = first
    if len(names) == 2:
        second = names[1]
        a, b = parts[first][0], parts[second][0]
        if agg == "worst_case":
            # Fairlearn takes Python's max()/min() over (tpr, fpr): a NaN
            # first wins, a NaN second is skipped.
            use_second = b > a if kind == "difference" else b < a
            value = b if use_second else a
            decided = second if use_second else first
        else:
            defined = [x for x in (a, b) if not math.isnan(x)]
            value = sum(defined) / len(defined) if defined else math.nan
            worse = b > a if kind == "difference" else b < a
            decided = second if worse else first
        if not math.isnan(value):
            for name in (first, second):
                if math.isnan(parts[name][0]):
                    other = second if name == first else first
                    reasons.append(
                        f"the {name} {kind} is undefined, so the value comes from the {other} "
                        "alone, as in Fairlearn"
                    )
        pair = parts[decided][1]
    labels = (
        None
        if pair is None or math.isnan(value)
        else (groups.labels[pair[0]], "overall" if pair[1] is None else groups.labels[pair[1]])
    )
    frame = _by_group_frame(table)
    compared = int(mask.sum())
    agg_text = f", agg={agg!r}" if len(names) == 2 else ""
    return FairnessResult(
        metric=metric,
        value=float(value),
        method=method,
        by_group=frame,
        overall=table.overall,
        rate=decided,
        pair=labels,
        reasons=tuple(reasons),
        agg=agg if len(names) == 2 else None,
        summary=f"{metric} = {_fmt(value)} (method={method!r}{agg_text}, {compared} groups)",
    )


def _parity(
    metric: str,
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    method: str,
    sample_weight: Any,
    pos_label: Any,
    agg: str = "worst_case",
) -> FairnessResult:
    _check_choice("method", method, _METHODS)
    _check_choice("agg", agg, _AGGS)
    _, names = _parity_spec(metric)
    data = _prepare(y_true, y_pred, sensitive_features, sample_weight, pos_label, what=metric)
    return _compute(metric, _rate_table(data, names), method=method, agg=agg)


# --------------------------------------------------------------------------- public metrics


def selection_rate(
    y_true: Any, y_pred: Any, *, pos_label: Any = 1, sample_weight: Any = None
) -> float:
    """Return the (weighted) fraction of predictions equal to ``pos_label``.

    Fairlearn's ``selection_rate``, with clear errors: ``y_true`` is only
    checked for length.

    Parameters
    ----------
    y_true
        True labels (ignored apart from their length).
    y_pred
        Predicted labels.
    pos_label
        The label that counts as selected.
    sample_weight
        Non-negative weight of each row.

    Returns
    -------
    float
        The selection rate.

    Raises
    ------
    DataError
        If the inputs are empty, of different lengths, contain missing values,
        or the weights sum to 0 (the rate is then undefined).

    Examples
    --------
    >>> from mlkit.testing import selection_rate
    >>> selection_rate([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> selection_rate([0, 1, 1, 0], [1, 1, 0, 0], sample_weight=[3, 1, 1, 1])
    0.6666666666666666
    """
    yt = _as_1d("y_true", y_true)
    yp = _as_1d("y_pred", y_pred)
    _check_length("y_pred", yp.size, yt.size)
    weight = _as_weights(sample_weight, yp.size)
    selected = pd.Series(yp, copy=False).eq(pos_label).to_numpy(dtype=bool)
    if weight is None:
        return float(np.count_nonzero(selected) / selected.size)
    total = weight.sum()
    if total == 0:
        raise DataError(
            "the sample weights sum to 0: the selection rate is undefined",
            column="sample_weight",
            value=0.0,
            expected="a positive total weight",
        )
    return float(np.dot(selected, weight) / total)


def demographic_parity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = None,
) -> FairnessResult:
    """Return the largest gap in selection rate between groups.

    Fairlearn's ``demographic_parity_difference``: the largest selection rate
    minus the smallest (``method="between_groups"``), or the largest absolute
    gap between a group and the overall rate (``"to_overall"``). 0 means every
    group is selected at the same rate.

    Parameters
    ----------
    y_true, y_pred
        Binary labels and predictions: 0/1, -1/1, booleans, or any two labels
        with ``pos_label`` naming the positive one.
    sensitive_features
        One feature (array, list, Series) or several (DataFrame, dict of
        arrays, 2-D array, list of arrays): groups are their intersections.
    method
        ``"between_groups"`` or ``"to_overall"``.
    sample_weight
        Non-negative weight of each row.
    pos_label
        The positive label; None means 1 with labels 0/1 or -1/1, as Fairlearn.

    Returns
    -------
    FairnessResult
        ``value`` (also ``float(result)``), every group's rate and size, and
        the reasons behind any NaN.

    Raises
    ------
    DataError
        On labels that are not binary, lengths that differ, missing values,
        or negative weights.
    ConfigurationError
        On an unknown ``method``.

    Examples
    --------
    >>> from mlkit.testing import demographic_parity_difference
    >>> result = demographic_parity_difference(
    ...     [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 1, 0],
    ...     sensitive_features=["a", "a", "a", "b", "b", "b"],
    ... )
    >>> round(float(result), 4)
    0.6667
    >>> result.pair
    ('b', 'a')
    """
    return _parity(
        "demographic_parity_difference",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
    )


def demographic_parity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = None,
) -> FairnessResult:
    """Return the smallest selection rate divided by the largest.

    Fairlearn's ``demographic_parity_ratio``. With ``"to_overall"``, each
    group's rate is divided by the overall rate and folded below 1. NaN (with
    the reason) when every rate is 0.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.

    Returns
    -------
    FairnessResult
        The ratio (1 means equal selection rates) with every group's rate.

    Examples
    --------
    >>> from mlkit.testing import demographic_parity_ratio
    >>> result = demographic_parity_ratio(
    ...     [1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"]
    ... )
    >>> float(result)
    0.5
    >>> nobody = demographic_parity_ratio([1, 0], [0, 0], sensitive_features=["a", "b"])
    >>> nobody.value
    nan
    >>> print(*nobody.reasons)
    demographic_parity_ratio: every compared group's selection_rate is 0, so the ratio 0/0
    is undefined
    """
    return _parity(
        "demographic_parity_ratio",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
    )


def equalized_odds_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
    pos_label: Any = None,
) -> FairnessResult:
    """Return the larger (or mean) of the TPR and FPR differences between groups.

    Fairlearn's ``equalized_odds_difference``. A group without positive
    (negative) labels has an undefined true (false) positive rate, which
    Fairlearn counts as 0: the value keeps that convention and ``reasons``
    names the group.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.
    agg
        ``"worst_case"``: the larger of the two differences; ``"mean"``: their mean.

    Returns
    -------
    FairnessResult
        The value, ``rate`` telling which of the two decided it.

    Examples
    --------
    >>> from mlkit.testing import equalized_odds_difference
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> groups = ["a"] * 4 + ["b"] * 4
    >>> result = equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
    >>> float(result), result.rate
    (0.5, 'true_positive_rate')
    >>> float(equalized_odds_difference(y_true, y_pred, sensitive_features=groups, agg="mean"))
    0.5
    """
    return _parity(
        "equalized_odds_difference",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
        agg,
    )


def equalized_odds_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    agg: Agg = "worst_case",
    pos_label: Any = None,
) -> FairnessResult:
    """Return the smaller (or mean) of the TPR and FPR ratios between groups.

    Fairlearn's ``equalized_odds_ratio``, including its order-dependence: with
    ``"worst_case"``, an undefined TPR ratio makes the value NaN while an
    undefined FPR ratio is skipped (Python's ``min`` over ``[tpr, fpr]``);
    ``reasons`` says which happened.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.
    agg
        ``"worst_case"``: the smaller ratio; ``"mean"``: the mean of both.

    Returns
    -------
    FairnessResult
        The ratio (1 means equal odds) and every group's TPR and FPR.

    Examples
    --------
    >>> from mlkit.testing import equalized_odds_ratio
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 1, 0]
    >>> float(equalized_odds_ratio(y_true, y_pred, sensitive_features=["a"] * 4 + ["b"] * 4))
    0.5
    """
    return _parity(
        "equalized_odds_ratio",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
        agg,
    )


def equal_opportunity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = None,
) -> FairnessResult:
    """Return the largest gap in true positive rate between groups.

    Fairlearn's ``equal_opportunity_difference``; a group without positive
    labels has TPR 0 by Fairlearn's convention, named in ``reasons``.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.

    Returns
    -------
    FairnessResult
        The difference and every group's true positive rate.

    Examples
    --------
    >>> from mlkit.testing import equal_opportunity_difference
    >>> result = equal_opportunity_difference(
    ...     [1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0], sensitive_features=[0, 0, 0, 1, 1, 1]
    ... )
    >>> float(result)
    0.5
    """
    return _parity(
        "equal_opportunity_difference",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
    )


def equal_opportunity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = None,
) -> FairnessResult:
    """Return the smallest true positive rate divided by the largest.

    Fairlearn's ``equal_opportunity_ratio``.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.

    Returns
    -------
    FairnessResult
        The ratio and every group's true positive rate.

    Examples
    --------
    >>> from mlkit.testing import equal_opportunity_ratio
    >>> result = equal_opportunity_ratio(
    ...     [1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0], sensitive_features=[0, 0, 0, 1, 1, 1]
    ... )
    >>> float(result)
    0.5
    """
    return _parity(
        "equal_opportunity_ratio",
        y_true,
        y_pred,
        sensitive_features,
        method,
        sample_weight,
        pos_label,
    )


# --------------------------------------------------------------------------- assertions


def _bound(
    metric: str, kind: str, max_difference: float | None, min_ratio: float | None
) -> tuple[str, float]:
    if kind == "difference":
        if min_ratio is not None:
            raise ConfigurationError(
                f"{metric} is a difference: bound it with max_difference, not min_ratio",
                column="min_ratio",
                value=min_ratio,
                expected="max_difference",
            )
        bound, threshold = "max_difference", 0.1 if max_difference is None else max_difference
    else:
        if max_difference is not None:
            raise ConfigurationError(
                f"{metric} is a ratio: bound it with min_ratio, not max_difference",
                column="max_difference",
                value=max_difference,
                expected="min_ratio",
            )
        bound, threshold = "min_ratio", 0.8 if min_ratio is None else min_ratio
    if not isinstance(threshold, int | float) or not math.isfinite(threshold) or threshold < 0:
        raise ConfigurationError(
            f"{bound} must be a finite number >= 0, got {threshold!r}",
            column=bound,
            value=threshold,
            expected="finite number >= 0",
        )
    return bound, float(threshold)


def _small_groups(table: _Table, min_group_size: int) -> BoolArray:
    return np.asarray((table.data.n < min_group_size) | table.undefined, dtype=bool)


def _small_reason(table: _Table, small: BoolArray, min_group_size: int) -> tuple[str, str]:
    """Return how many groups are too small or undefined, and the list of them."""
    groups = table.data.groups
    too_small = table.data.n < min_group_size
    counts = []
    if (k := int((small & too_small).sum())) > 0:
        counts.append(f"{k} group(s) have fewer than min_group_size={min_group_size} rows")
    if (k := int((small & ~too_small).sum())) > 0:
        counts.append(f"{k} group(s) have an undefined rate")
    listed = [
        f"{groups.describe(int(g))} (n={int(table.data.n[g])}"
        + (", rate undefined)" if table.undefined[g] else ")")
        for g in np.flatnonzero(small)[:_MAX_LISTED]
    ]
    more = int(small.sum()) - len(listed)
    listing = "too little data: " + "; ".join(listed) + (f"; ... {more} more" if more else "")
    return " and ".join(counts), listing


def _handle_small(
    table: _Table,
    result: FairnessResult,
    small: BoolArray,
    *,
    min_group_size: int,
    on_small_groups: str,
) -> FairnessResult | None:
    """Fail or raise on small groups; return None when there are none or they are left out."""
    if not small.any() or on_small_groups == "ignore":
        return None
    groups = table.data.groups
    count, listing = _small_reason(table, small, min_group_size)
    labels = tuple(groups.labels[g] for g in np.flatnonzero(small))
    failed = attrs.evolve(
        result,
        passed=False,
        small_groups=labels,
        reasons=(listing, *result.reasons),
        summary=(
            f"FAILED: {result.metric} cannot be checked: {count} (sufficient=False below), "
            "too little data to vouch for fairness; pass on_small_groups='ignore' to leave "
            "them out, or lower min_group_size"
        ),
    )
    _record(failed)
    if on_small_groups == "error":
        raise DataError(
            str(failed), column="sensitive_features", value=list(labels), expected=min_group_size
        )
    return failed


def _with_sufficient(result: FairnessResult, small: BoolArray) -> pd.DataFrame:
    frame: pd.DataFrame = result.by_group.copy()
    frame.insert(len(frame.columns) - 1, "sufficient", ~small)
    return frame


def _record(result: FairnessResult) -> None:
    _session.record(
        "fairness",
        result.metric,
        bool(result.passed),
        value=result.value,
        **{result.bound or "threshold": result.threshold},
        method=result.method,
        n_groups=result.n_groups,
        min_group_size=result.min_group_size,
        small_groups=list(result.small_groups),
        failing_groups=list(result.failing_groups),
        pair=result.pair,
    )


def assert_fairness(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    metric: str = "demographic_parity_difference",
    max_difference: float | None = None,
    min_ratio: float | None = None,
    method: Method = "between_groups",
    agg: Agg = "worst_case",
    sample_weight: Any = None,
    pos_label: Any = None,
    min_group_size: int = 30,
    on_small_groups: OnSmallGroups = "fail",
) -> FairnessResult:
    """Assert that a parity metric stays within its bound across groups.

    A group with fewer than ``min_group_size`` rows, or whose compared rate is
    undefined (a true positive rate without positive labels), cannot vouch
    for fairness: by default the assertion fails and names it rather than
    passing on noise. An undefined (NaN) value fails too.

    Parameters
    ----------
    y_true, y_pred, sensitive_features
        As for :func:`demographic_parity_difference`.
    metric
        One of ``"demographic_parity_difference"``, ``"demographic_parity_ratio"``,
        ``"equalized_odds_difference"``, ``"equalized_odds_ratio"``,
        ``"equal_opportunity_difference"``, ``"equal_opportunity_ratio"``.
    max_difference
        The largest difference allowed, for ``*_difference`` metrics (default 0.1).
    min_ratio
        The smallest ratio allowed, for ``*_ratio`` metrics (default 0.8).
    method, agg, sample_weight, pos_label
        As for the parity metric.
    min_group_size
        Groups with fewer rows are too small to trust.
    on_small_groups
        ``"fail"``: raise ``AssertionError`` naming them; ``"error"``: raise
        :class:`~mlkit.errors.DataError`; ``"ignore"``: leave them out of the
        comparison (listed in ``reasons``).

    Returns
    -------
    FairnessResult
        With ``passed=True``, when the metric is within its bound.

    Raises
    ------
    AssertionError
        When the bound is broken, the value is undefined, or (``"fail"``) a
        group is too small. The message lists each group's rate and size and
        the pair that breaks the bound.
    DataError
        On bad input, or small groups with ``on_small_groups="error"``.
    ConfigurationError
        On an unknown metric, method or policy, or the wrong kind of bound.

    Examples
    --------
    >>> from mlkit.testing import assert_fairness
    >>> y_true = [1, 0] * 40
    >>> y_pred = [1, 0] * 40
    >>> sex = ["F", "M"] * 20 + ["M", "F"] * 20
    >>> assert_fairness(y_true, y_pred, sex, max_difference=0.1)
    FairnessResult(demographic_parity_difference=0, method='between_groups', groups=2, passed=True)
    >>> y_pred = [1] * 40 + [0] * 40
    >>> sex = ["F"] * 40 + ["M"] * 40
    >>> assert_fairness(y_true, y_pred, sex)
    Traceback (most recent call last):
    AssertionError: FAILED: demographic_parity_difference = 1.0000 > max_difference = 0.1 ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    kind, names = _parity_spec(metric)
    bound, threshold = _bound(metric, kind, max_difference, min_ratio)
    _check_choice("method", method, _METHODS)
    _check_choice("agg", agg, _AGGS)
    _check_choice("on_small_groups", on_small_groups, _ON_SMALL_GROUPS)
    min_group_size = _check_count("min_group_size", min_group_size, 1)
    data = _prepare(y_true, y_pred, sensitive_features, sample_weight, pos_label, what=metric)
    table = _rate_table(data, names)
    small = _small_groups(table, min_group_size)
    result = _compute(metric, table, method=method, agg=agg)
    result = attrs.evolve(
        result,
        by_group=_with_sufficient(result, small),
        bound=bound,
        threshold=threshold,
        min_group_size=min_group_size,
    )
    failed = _handle_small(
        table,
        result,
        small,
        min_group_size=min_group_size,
        on_small_groups=on_small_groups,
    )
    if failed is not None:
        raise AssertionError(str(failed))
    if small.any():
        left_out = (
            _small_reason(table, small, min_group_size)[1]
            + "; left out (on_small_groups='ignore')"
        )
        narrowed = _compute(metric, table, method=method, agg=agg, include=~small)
        result = attrs.evolve(
            result,
            value=narrowed.value,
            pair=narrowed.pair,
            rate=narrowed.rate,
            reasons=(left_out, *narrowed.reasons),
            small_groups=tuple(data.groups.labels[g] for g in np.flatnonzero(small)),
            summary=narrowed.summary,
        )
    value = result.value
    op_ok, op_bad = ("<=", ">") if kind == "difference" else (">=", "<")
    if math.isnan(value):
        passed = False
        summary = (
            f"FAILED: {metric} is undefined (NaN), so {bound} = {threshold:g} cannot be checked"
        )
    else:
        passed = value <= threshold if kind == "difference" else value >= threshold
        op = op_ok if passed else op_bad
        summary = (
            f"{'passed' if passed else 'FAILED'}: {metric} = {_fmt(value)} {op} {bound} = "
            f"{threshold:g} ({result.summary.split('(', 1)[1]}"
        )
    result = attrs.evolve(
        result,
        passed=passed,
        summary=summary,
        failing_groups=() if passed or result.pair is None else result.pair,
    )
    _record(result)
    if not passed:
        raise AssertionError(str(result))
    logger.debug("%s", result.summary)
    return result


def assert_four_fifths(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    threshold: float = 0.8,
    sample_weight: Any = None,
    pos_label: Any = None,
    min_group_size: int = 30,
    on_small_groups: OnSmallGroups = "fail",
) -> FairnessResult:
    """Assert the EEOC four-fifths rule: every group is selected at >= 80% of the top rate.

    Each group's impact ratio is its selection rate divided by the selection
    rate of the most-selected group; the rule holds when every ratio is at
    least ``threshold``. The value is the lowest impact ratio, which equals
    :func:`demographic_parity_ratio`. Small groups are handled as in
    :func:`assert_fairness`.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, sample_weight, pos_label
        As for :func:`demographic_parity_difference`.
    threshold
        The smallest impact ratio allowed (0.8 for four fifths).
    min_group_size, on_small_groups
        As for :func:`assert_fairness`.

    Returns
    -------
    FairnessResult
        With ``passed=True`` and an ``impact_ratio`` column in ``by_group``.

    Raises
    ------
    AssertionError
        Naming every group below the threshold (or the small groups).
    DataError
        On bad input, or small groups with ``on_small_groups="error"``.

    Examples
    --------
    >>> from mlkit.testing import assert_four_fifths
    >>> y_true = [1, 0] * 50
    >>> y_pred = [1] * 30 + [0] * 20 + [1] * 20 + [0] * 30
    >>> groups = ["a"] * 50 + ["b"] * 50
    >>> assert_four_fifths(y_true, y_pred, groups)
    Traceback (most recent call last):
    AssertionError: FAILED: four-fifths rule: lowest impact ratio = 0.6667 < 0.8 ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ConfigurationError(
            f"threshold must be a number in [0, 1], got {threshold!r}",
            column="threshold",
            value=threshold,
            expected="number in [0, 1]",
        )
    _check_choice("on_small_groups", on_small_groups, _ON_SMALL_GROUPS)
    min_group_size = _check_count("min_group_size", min_group_size, 1)
    data = _prepare(
        y_true, y_pred, sensitive_features, sample_weight, pos_label, what="assert_four_fifths"
    )
    table = _rate_table(data, ("selection_rate",))
    small = _small_groups(table, min_group_size)
    include = ~small if on_small_groups == "ignore" else np.ones_like(small)
    rates = table.rates["selection_rate"]
    compared = include & ~np.isnan(rates)
    top = float(rates[compared].max()) if compared.any() else math.nan
    impact = np.full(rates.shape, np.nan)
    if top > 0:
        impact[compared] = rates[compared] / top
    base = _compute(
        "demographic_parity_ratio",
        table,
        method="between_groups",
        agg="worst_case",
        include=include,
    )
    frame = _by_group_frame(table, {"impact_ratio": impact})
    frame.insert(len(frame.columns) - 1, "sufficient", ~small)
    result = FairnessResult(
        metric="four_fifths",
        value=base.value,
        method="between_groups",
        by_group=frame,
        overall=table.overall,
        rate="selection_rate",
        pair=base.pair,
        reasons=tuple(r.replace("demographic_parity_ratio", "four_fifths") for r in base.reasons),
        bound="threshold",
        threshold=float(threshold),
        min_group_size=min_group_size,
        summary=base.summary.replace("demographic_parity_ratio", "four_fifths"),
    )
    failed = _handle_small(
        table,
        result,
        small,
        min_group_size=min_group_size,
        on_small_groups=on_small_groups,
    )
    if failed is not None:
        raise AssertionError(str(failed))
    reasons = result.reasons
    if small.any():
        reasons = (
            _small_reason(table, small, min_group_size)[1]
            + "; left out (on_small_groups='ignore')",
            *reasons,
        )
    failing = np.flatnonzero(compared & (impact < threshold))
    if math.isnan(result.value):
        passed = False
        summary = (
            "FAILED: four-fifths rule: the impact ratios are undefined (NaN): "
            "no compared group is selected at all"
        )
    else:
        passed = failing.size == 0
        op = ">=" if passed else "<"
        summary = (
            f"{'passed' if passed else 'FAILED'}: four-fifths rule: lowest impact ratio = "
            f"{_fmt(result.value)} {op} {threshold:g} (selection rate of each group / the "
            f"highest, {int(compared.sum())} groups"
            + (f", {failing.size} below" if failing.size else "")
            + ")"
        )
    result = attrs.evolve(
        result,
        passed=passed,
        summary=summary,
        reasons=reasons,
        small_groups=tuple(data.groups.labels[g] for g in np.flatnonzero(small))
        if on_small_groups == "ignore"
        else (),
        failing_groups=tuple(data.groups.labels[g] for g in failing),
    )
    _record(result)
    if not passed:
        raise AssertionError(str(result))
    return result


# --------------------------------------------------------------------------- group metrics


@attrs.frozen(eq=False, repr=False)
class GroupMetrics:
    """Metrics by group with bootstrap confidence intervals, from :func:`group_metrics`.

    Attributes
    ----------
    frame
        The tidy frame :meth:`to_frame` returns.
    metrics
        The metric names, in order.
    features
        The sensitive feature names.
    groups
        The group labels (tuples for intersections), in order.
    min_group_size
        Groups with fewer rows are marked ``sufficient=False``.
    n_boot, ci
        Bootstrap resamples per group and the confidence level.
    """

    frame: pd.DataFrame
    metrics: tuple[str, ...]
    features: tuple[str, ...]
    groups: tuple[Any, ...]
    min_group_size: int
    n_boot: int
    ci: float

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (group, metric), then the overall rows.

        Columns: ``group`` (a tuple for intersections, ``"overall"`` for the
        whole data), one column per sensitive feature, ``metric``, ``value``,
        ``ci_low``, ``ci_high``, ``n``, ``n_positive``, ``sufficient``
        (``n >= min_group_size``) and ``note`` (why a value is NaN or a
        convention, empty otherwise).
        """
        frame: pd.DataFrame = self.frame.copy()
        return frame

    @property
    def by_group(self) -> pd.DataFrame:
        """Return the values as Fairlearn's ``MetricFrame.by_group``: groups by metrics."""
        rows = self._groups_only()
        wide: pd.DataFrame = rows.pivot(index="_order", columns="metric", values="value")[
            list(self.metrics)
        ]
        if len(self.features) == 1:
            wide.index = pd.Index(list(self.groups), name=self.features[0])
        else:
            wide.index = pd.MultiIndex.from_tuples(list(self.groups), names=list(self.features))
        wide.columns.name = None
        return wide

    @property
    def overall(self) -> pd.Series:
        """Return each metric over all rows."""
        rows = self.frame.iloc[len(self.groups) * len(self.metrics) :]
        values: pd.Series = pd.Series(
            rows["value"].to_numpy(), index=list(rows["metric"]), name="overall"
        )
        return values

    @property
    def insufficient(self) -> tuple[Any, ...]:
        """Return the groups with fewer than ``min_group_size`` rows."""
        rows = self._groups_only().drop_duplicates("_order")
        return tuple(self.groups[int(i)] for i in rows.loc[~rows["sufficient"], "_order"])

    def _groups_only(self) -> pd.DataFrame:
        rows: pd.DataFrame = self.frame.iloc[: len(self.groups) * len(self.metrics)].copy()
        rows["_order"] = np.repeat(np.arange(len(self.groups)), len(self.metrics))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: settings and one record per row (NaN as None)."""
        out = {
            "metrics": self.metrics,
            "features": self.features,
            "min_group_size": self.min_group_size,
            "n_boot": self.n_boot,
            "ci": self.ci,
            "rows": self.frame.to_dict(orient="records"),
        }
        safe: dict[str, Any] = _session.json_safe(out)
        return safe

    def __str__(self) -> str:
        return self.frame.to_string(index=False, float_format=lambda x: f"{x:.4f}")

    def __repr__(self) -> str:
        k = len(self.insufficient)
        return (
            f"GroupMetrics({len(self.groups)} groups x {len(self.metrics)} metrics, "
            f"{k} insufficient (n < {self.min_group_size}), ci={self.ci:g}, n_boot={self.n_boot})"
        )


def _resolve_metrics(
    metrics: Sequence[str] | Mapping[str, str | MetricFunction],
) -> list[tuple[str, _Rate | MetricFunction]]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    items: list[tuple[str, Any]] = (
        list(metrics.items()) if isinstance(metrics, Mapping) else [(m, m) for m in metrics]
    )
    if not items:
        raise ConfigurationError(
            "metrics is empty", column="metrics", value=[], expected="at least one metric"
        )
    resolved: list[tuple[str, _Rate | MetricFunction]] = []
    for name, spec in items:
        if isinstance(spec, str):
            if spec not in _RATES:
                raise ConfigurationError(
                    f"unknown metric {spec!r}; known: {', '.join(_RATES)} (or pass a dict of "
                    "name -> callable(y_true, y_pred))",
                    column="metrics",
                    value=spec,
                    expected=list(_RATES),
                )
            resolved.append((str(name), _RATES[spec]))
        elif callable(spec):
            resolved.append((str(name), spec))
        else:
            raise ConfigurationError(
                f"metric {name!r} must be a metric name or a callable, got {type(spec).__name__}",
                column="metrics",
                value=name,
                expected="name or callable",
            )
    names = [n for n, _ in resolved]
    for name in names:
        if names.count(name) > 1:
            raise ConfigurationError(
                f"metric {name!r} is listed twice", column="metrics", value=name
            )
    return resolved


def _bootstrap_cells(
    rng: np.random.Generator, cell: IntArray, weight: FloatArray | None, n_boot: int
) -> FloatArray:
    """Return ``(n_boot, 4)`` weighted confusion cells of row resamples.

    Resampling n rows with replacement draws every distinct (cell, weight)
    pair a multinomial number of times, so when there are few such pairs (at
    most 4 without weights) their counts are drawn directly: the same
    distribution as an ``(n_boot, n)`` index matrix at a cost that does not
    grow with n. Many distinct weights resample an index matrix instead.
    """
    n = cell.size
    w = np.ones(n) if weight is None else weight
    w_values, w_codes = np.unique(w, return_inverse=True)
    keys, counts = np.unique(w_codes.reshape(-1) * 4 + cell, return_counts=True)
    out = np.empty((n_boot, 4))
    if keys.size <= _MULTINOMIAL_PAIRS:
        design = np.zeros((keys.size, 4))
        design[np.arange(keys.size), keys % 4] = w_values[keys // 4]
        probabilities = counts / n
        step = max(1, _CHUNK_CELLS // keys.size)
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            out[start:stop] = rng.multinomial(n, probabilities, size=stop - start) @ design
        return out
    start = 0
    for idx in _bootstrap_indices(rng, n, n_boot):
        k = idx.shape[0]
        slots = np.arange(k)[:, None] * 4 + cell[idx]
        sums = np.bincount(slots.ravel(), weights=w[idx].ravel(), minlength=4 * k)
        out[start : start + k] = sums.reshape(k, 4)
        start += k
    return out


def _bootstrap_indices(rng: np.random.Generator, n: int, n_boot: int) -> Iterator[IntArray]:
    step = max(1, _CHUNK_CELLS // n)
    for start in range(0, n_boot, step):
        yield rng.integers(0, n, size=(min(n_boot, start + step) - start, n))


def _call_metric(
    name: str, fn: MetricFunction, y_true: Any, y_pred: Any, weight: FloatArray | None
) -> tuple[float, str]:
    """Call a user's metric; a warning or ValueError becomes NaN with the message as note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = (
                fn(y_true, y_pred) if weight is None else fn(y_true, y_pred, sample_weight=weight)
            )
        except (ValueError, ZeroDivisionError) as exc:
            return math.nan, f"{name} raised {type(exc).__name__}: {exc}"
    if caught:
        return math.nan, f"{name} warned ({caught[0].category.__name__}: {caught[0].message})"
    try:
        return float(out), ""
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"metric {name!r} returned {type(out).__name__}, not a number",
            column=name,
            value=type(out).__name__,
            expected="a scalar",
        ) from exc


def _interval(replicates: FloatArray, ci: float) -> tuple[float, float, int]:
    defined = replicates[~np.isnan(replicates)]
    if defined.size == 0:
        return math.nan, math.nan, 0
    low, high = np.quantile(defined, [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high), int(defined.size)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def group_metrics(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    metrics: Sequence[str] | Mapping[str, str | MetricFunction] = DEFAULT_METRICS,
    sample_weight: Any = None,
    pos_label: Any = None,
    min_group_size: int = 30,
    n_boot: int = 1000,
    ci: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> GroupMetrics:
    """Compute metrics for every group, with seeded bootstrap confidence intervals.

    Values equal Fairlearn's ``MetricFrame(...).by_group`` with the matching
    functions, except where Fairlearn or scikit-learn warn or fail (weights
    summing to 0, precision without predicted positives, ...): there the value
    is NaN and ``note`` says why. A rate Fairlearn silently reports as 0 (the
    true positive rate of a group without positive labels) stays 0, with a note.

    Confidence intervals are percentile intervals over ``n_boot`` resamples of
    each group's rows (and of all rows for the overall row); resamples where
    the metric is undefined are left out, and the note counts them. Each group
    draws from its own stream spawned from ``random_state``, and all named
    metrics of a group share one set of resamples, so adding or removing a
    metric leaves the other intervals unchanged.

    Parameters
    ----------
    y_true, y_pred
        Labels and predictions; binary (as for :func:`demographic_parity_difference`)
        when a named metric is asked for.
    sensitive_features
        One feature or several; groups are their observed intersections.
    metrics
        Names among ``selection_rate``, ``accuracy``, ``true_positive_rate``,
        ``false_positive_rate``, ``true_negative_rate``, ``false_negative_rate``,
        ``precision``, ``recall``, ``f1``; or a dict of column name -> name or
        callable ``f(y_true, y_pred)`` (called with ``sample_weight=`` when
        weights are given, once per group and resample: slower than names).
    sample_weight
        Non-negative weight of each row.
    pos_label
        The positive label; None means 1 with labels 0/1 or -1/1.
    min_group_size
        Groups with fewer rows are marked ``sufficient=False``.
    n_boot
        Resamples per group; 0 skips the intervals (NaN).
    ci
        Confidence level of the intervals, in (0, 1).
    random_state
        Seed or :class:`numpy.random.Generator` of the bootstrap.

    Returns
    -------
    GroupMetrics
        ``to_frame()``: one row per (group, metric) and the overall rows.

    Raises
    ------
    DataError
        On lengths that differ, missing values, labels that are not binary.
    ConfigurationError
        On an unknown metric or bad ``n_boot``, ``ci``, ``min_group_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlkit.testing import group_metrics
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.integers(0, 2, 200)
    >>> y_pred = np.where(rng.random(200) < 0.8, y_true, 1 - y_true)
    >>> sex = rng.choice(["F", "M"], 200)
    >>> result = group_metrics(y_true, y_pred, sex, metrics=["selection_rate", "accuracy"])
    >>> result
    GroupMetrics(2 groups x 2 metrics, 0 insufficient (n < 30), ci=0.95, n_boot=1000)
    >>> result.to_frame().columns.tolist()
    ['group', 'sensitive_feature_0', 'metric', 'value', 'ci_low', 'ci_high', 'n',
     'n_positive', 'sufficient', 'note']
    >>> row = result.to_frame().iloc[0]
    >>> bool(row.ci_low <= row.value <= row.ci_high)
    True
    """
    resolved = _resolve_metrics(metrics)
    min_group_size = _check_count("min_group_size", min_group_size, 0)
    n_boot = _check_count("n_boot", n_boot, 0)
    if isinstance(ci, bool) or not isinstance(ci, int | float) or not 0 < ci < 1:
        raise ConfigurationError(
            f"ci must be a number in (0, 1), got {ci!r}", column="ci", value=ci, expected="(0, 1)"
        )
    named = [(name, spec) for name, spec in resolved if isinstance(spec, _Rate)]
    data = _prepare(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        what="group_metrics",
        binary=bool(named),
    )
    groups = data.groups
    order = np.argsort(groups.codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(data.n)])
    streams = np.random.default_rng(random_state).spawn(groups.size + 1)
    records: list[dict[str, Any]] = []
    for g in range(groups.size + 1):
        is_overall = g == groups.size
        rows = np.arange(data.cell.size) if is_overall else order[bounds[g] : bounds[g + 1]]
        cells = data.overall_cells if is_overall else data.cells[g]
        weight = None if data.weight is None else data.weight[rows]
        n = int(rows.size)
        named_rng, custom_rng = streams[g].spawn(2)
        boot = (
            _bootstrap_cells(named_rng, data.cell[rows], weight, n_boot)
            if named and n_boot
            else None
        )
        values: dict[str, tuple[float, float, float, str]] = {}
        for name, spec in resolved:
            if not isinstance(spec, _Rate):
                continue
            value, undefined, weightless = _evaluate(spec, cells[None, :])
            note = _note(spec, bool(undefined[0]), bool(weightless[0]))
            low = high = math.nan
            if boot is not None:
                replicates, _, _ = _evaluate(attrs.evolve(spec, zero_denominator="nan"), boot)
                low, high, used = _interval(replicates, ci)
                if 0 < used < n_boot:
                    note = _join(
                        note, f"CI from the {used} of {n_boot} resamples where it is defined"
                    )
            values[name] = (float(value[0]), low, high, note)
        custom = [(name, spec) for name, spec in resolved if not isinstance(spec, _Rate)]
        if custom:
            yt, yp = data.y_true[rows], data.y_pred[rows]
            point = {name: _call_metric(name, fn, yt, yp, weight) for name, fn in custom}
            replicates_by = {name: np.full(n_boot, np.nan) for name, _ in custom}
            done = 0
            for chunk in _bootstrap_indices(custom_rng, n, n_boot) if n_boot else ():
                for idx in chunk:
                    w = None if weight is None else weight[idx]
                    for name, fn in custom:
                        replicates_by[name][done] = _call_metric(name, fn, yt[idx], yp[idx], w)[0]
                    done += 1
            for name, _ in custom:
                low, high, used = _interval(replicates_by[name], ci)
                note = point[name][1]
                if n_boot > 0 and used < n_boot:
                    note = _join(
                        note, f"CI from the {used} of {n_boot} resamples where it is defined"
                    )
                values[name] = (point[name][0], low, high, note)
        label: Any = "overall" if is_overall else groups.labels[g]
        feature_values = (None,) * len(groups.features) if is_overall else groups.values[g]
        n_positive = int(data.n_positive.sum() if is_overall else data.n_positive[g])
        for name, _ in resolved:
            point_value, low, high, note = values[name]
            record: dict[str, Any] = {"group": label}
            record.update(zip(groups.features, feature_values, strict=True))
            record.update(
                metric=name,
                value=point_value,
                ci_low=low,
                ci_high=high,
                n=n,
                n_positive=n_positive,
                sufficient=n >= min_group_size,
                note=note,
            )
            records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame["group"] = pd.Series([r["group"] for r in records], dtype=object)
    return GroupMetrics(
        frame=frame,
        metrics=tuple(name for name, _ in resolved),
        features=groups.features,
        groups=groups.labels,
        min_group_size=min_group_size,
        n_boot=n_boot,
        ci=float(ci),
    )
