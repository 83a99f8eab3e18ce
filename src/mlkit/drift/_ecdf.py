"""Public ECDF kernels: ``ks_2samp``, ``wasserstein`` and ``cramervonmises``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlkit.drift._common import (
    SortedColumns,
    as_2d_float,
    check_choice,
    check_nan_policy,
    check_pair,
    raise_on_nan,
    sort_columns,
)
from mlkit.drift._pvalues import cvm_pvalue, ks_pvalue
from mlkit.drift._results import StatResult
from mlkit.drift._twosample import ecdf_statistics

__all__ = ["cramervonmises", "ks_2samp", "prepare_pair", "wasserstein"]

FloatArray = NDArray[np.float64]

_ALTERNATIVES = ("two-sided", "less", "greater")
_KS_METHODS = ("auto", "exact", "asymp", "fast")
_CVM_METHODS = ("auto", "asymptotic", "exact")


@attrs.frozen(eq=False)
class Pair:
    """Two samples checked, sorted and ready for the ECDF kernels."""

    reference: SortedColumns
    current: SortedColumns
    columns: tuple[str, ...]
    #: Columns with a NaN in either sample (only set under ``"propagate"``).
    propagate: NDArray[np.bool_]


def prepare_pair(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    nan_policy: str,
    columns: Sequence[str] | None,
) -> Pair:
    """Check two samples against each other and sort both, column-wise.

    Raises
    ------
    DataError
        If either sample is not numeric, not 1-D/2-D, has no rows, the column
        counts differ, or (``nan_policy="raise"``) a column holds a NaN.
    """
    policy = check_nan_policy(nan_policy)
    ref = as_2d_float(reference, name="reference", columns=columns)
    cur = as_2d_float(current, name="current", columns=columns)
    names = check_pair(ref, cur, columns)
    rs, cs = sort_columns(ref), sort_columns(cur)
    if policy == "raise":
        raise_on_nan(rs.n_missing, cs.n_missing, names)
    has_nan = (rs.n_missing > 0) | (cs.n_missing > 0)
    propagate = has_nan if policy == "propagate" else np.zeros_like(has_nan)
    return Pair(rs, cs, tuple(names), propagate)


def _result(pair: Pair, statistic: FloatArray, pvalue: FloatArray, name: str) -> StatResult:
    statistic = np.where(pair.propagate, np.nan, statistic)
    pvalue = np.where(pair.propagate, np.nan, pvalue)
    return StatResult(
        statistic=statistic,
        pvalue=pvalue,
        n_reference=pair.reference.n_valid.copy(),
        n_current=pair.current.n_valid.copy(),
        columns=pair.columns,
        name=name,
    )


def ks_2samp(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
    method: Literal["auto", "exact", "asymp", "fast"] = "auto",
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """Two-sample Kolmogorov-Smirnov test of every column at once.

    The statistic equals :func:`scipy.stats.ks_2samp` with ``reference`` as
    ``data1`` and ``current`` as ``data2``, exactly, ties included. Each
    column is sorted once and merged with the other sample; no Python loop
    runs over the columns.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays (a 1-D array is one column);
        the row counts may differ, the column counts must match.
    alternative
        ``"two-sided"``, ``"less"`` or ``"greater"``, as in scipy: under
        ``"greater"`` the statistic is ``max(F_ref - F_cur)``.
    method
        How the p-value is computed. ``"exact"``, ``"asymp"`` and ``"auto"``
        give scipy's p-values. ``"fast"`` uses the limiting Kolmogorov
        distribution with a finite-sample correction, microseconds per column
        instead of scipy's milliseconds; its measured error is documented in
        :func:`mlkit.drift.ks_pvalue`.
    nan_policy
        ``"propagate"`` (a column with a NaN gets NaN), ``"omit"`` (drop NaNs
        column by column) or ``"raise"``.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    StatResult
        ``statistic`` and ``pvalue`` per column, with the sample sizes used.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> ref = rng.normal(size=(500, 2))
    >>> cur = np.column_stack([rng.normal(size=400), rng.normal(0.5, size=400)])
    >>> res = ks_2samp(ref, cur, columns=["stable", "shifted"])
    >>> res.pvalue > 0.05
    array([ True, False])
    >>> from scipy import stats
    >>> bool(res.statistic[1] == stats.ks_2samp(ref[:, 1], cur[:, 1]).statistic)
    True
    """
    check_choice(alternative, _ALTERNATIVES, "alternative")
    check_choice(method, _KS_METHODS, "method")
    pair = prepare_pair(reference, current, nan_policy=nan_policy, columns=columns)
    stats = ecdf_statistics(pair.reference, pair.current, ks=True)
    assert stats.ks_greater is not None
    assert stats.ks_less is not None
    statistic = {
        "two-sided": stats.ks,
        "greater": stats.ks_greater,
        "less": stats.ks_less,
    }[alternative]
    n, m = pair.reference.n_valid, pair.current.n_valid
    statistic = snap_if_exact(statistic, n, m, method)
    pvalue = ks_pvalue(statistic, n, m, alternative=alternative, method=method)
    return _result(pair, statistic, pvalue, "ks")


#: scipy's ``ks_2samp(method="auto")`` tries the exact p-value up to this size.
_MAX_AUTO_EXACT = 10_000


def snap_if_exact(
    d: FloatArray, n: NDArray[np.int64], m: NDArray[np.int64], method: str
) -> FloatArray:
    """Round ``d`` to the lattice ``h / lcm(n, m)`` where scipy attempts the exact p-value.

    scipy reports that rounded statistic (it differs from the raw one in the
    last bits), so doing the same keeps the statistics bit-equal.
    """
    exact = np.full(d.shape, method == "exact")
    if method == "auto":
        exact = np.maximum(n, m) <= _MAX_AUTO_EXACT
    exact &= (n > 0) & (m > 0) & np.isfinite(d)
    if not exact.any():
        return d
    g = np.gcd(np.maximum(n, 1), np.maximum(m, 1))
    lcm = (np.maximum(n, 1) // g) * np.maximum(m, 1)
    snapped = np.round(d * lcm) / lcm
    return np.where(exact, snapped, d)


def wasserstein(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    normalize: bool = False,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """First Wasserstein (earth mover's) distance of every column.

    Equals :func:`scipy.stats.wasserstein_distance` on each column. With
    ``normalize=True`` the distance is divided by the reference's standard
    deviation (``ddof=0``), so one threshold fits columns of any scale: 0.1
    means the current distribution moved by about a tenth of the reference's
    spread. A constant reference normalises to 0 if the current matches it
    and ``inf`` otherwise.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays.
    normalize
        Divide by the reference's standard deviation.
    nan_policy
        ``"propagate"``, ``"omit"`` or ``"raise"``.
    columns
        Names for the columns.

    Returns
    -------
    StatResult
        The distance in ``statistic``; ``pvalue`` is all NaN (a distance has none).

    Examples
    --------
    >>> ref = np.array([[0.0], [1.0], [3.0]])
    >>> cur = np.array([[5.0], [6.0], [8.0]])
    >>> wasserstein(ref, cur).statistic
    array([5.])
    >>> from scipy import stats
    >>> float(stats.wasserstein_distance(ref[:, 0], cur[:, 0]))
    5.0
    """
    pair = prepare_pair(reference, current, nan_policy=nan_policy, columns=columns)
    stats = ecdf_statistics(pair.reference, pair.current, ks=False, wasserstein=True)
    assert stats.wasserstein is not None
    distance = stats.wasserstein
    if normalize:
        distance = normalize_by_spread(distance, sorted_std(pair.reference))
    return _result(pair, distance, np.full(distance.shape, np.nan), "wasserstein")


def normalize_by_spread(distance: FloatArray, spread: FloatArray) -> FloatArray:
    """Divide per-column distances by the reference's spread (0 spread: 0 or inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = distance / spread
    return np.where(spread == 0, np.where(distance == 0, 0.0, np.inf), scaled)


def sorted_std(columns: SortedColumns) -> FloatArray:
    """Return the standard deviation (ddof=0) of each column's valid values."""
    values = columns.values
    valid = np.arange(columns.n_rows) < columns.n_valid[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, values, 0.0).sum(axis=1) / columns.n_valid
        centred = np.where(valid, values - mean[:, None], 0.0)
        std: FloatArray = np.sqrt((centred * centred).sum(axis=1) / columns.n_valid)
    return std


def cramervonmises(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    method: Literal["auto", "asymptotic", "exact"] = "auto",
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """Two-sample Cramér-von Mises test of every column at once.

    Equals :func:`scipy.stats.cramervonmises_2samp` (statistic ``T`` with
    mid-ranks for ties, and its p-value for the same ``method``). More
    sensitive than KS to differences spread over the whole distribution.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays.
    method
        ``"auto"`` (exact for small samples, as scipy), ``"asymptotic"`` or ``"exact"``.
    nan_policy
        ``"propagate"``, ``"omit"`` or ``"raise"``.
    columns
        Names for the columns.

    Returns
    -------
    StatResult
        ``statistic`` (T) and ``pvalue`` per column.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> ref, cur = rng.normal(size=(200, 1)), rng.normal(1.0, size=(150, 1))
    >>> res = cramervonmises(ref, cur)
    >>> from scipy import stats
    >>> expected = stats.cramervonmises_2samp(ref[:, 0], cur[:, 0])
    >>> bool(np.isclose(res.statistic[0], expected.statistic))
    True
    >>> bool(res.pvalue[0] < 0.01)
    True
    """
    check_choice(method, _CVM_METHODS, "method")
    pair = prepare_pair(reference, current, nan_policy=nan_policy, columns=columns)
    stats = ecdf_statistics(pair.reference, pair.current, ks=False, cvm=True)
    assert stats.cvm_u is not None
    n = pair.reference.n_valid.astype(np.float64)
    m = pair.current.n_valid.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.cvm_u / (n * m * (n + m)) - (4 * n * m - 1) / (6 * (n + m))
    pvalue = cvm_pvalue(
        t, pair.reference.n_valid, pair.current.n_valid, method=method, u=stats.cvm_u
    )
    return _result(pair, t, pvalue, "cramervonmises")
