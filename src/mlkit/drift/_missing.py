"""Missing-rate drift: a column that suddenly goes 30% null has drifted.

The test compares the share of missing values of each column between the
reference and the current sample with the two-sided pooled two-proportion
z-test, which is the chi-square test without continuity correction on the
2 x 2 table (missing, present) x (reference, current): ``z**2`` is that
chi-square statistic and the p-values are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mlkit.drift._common import as_2d, check_pair
from mlkit.drift._results import StatResult
from mlkit.errors import DataError

__all__ = ["missing_mask", "missing_rate_test", "missing_rate_test_from_counts"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def missing_mask(data: ArrayLike, *, name: str = "data") -> NDArray[np.bool_]:
    """Return the ``(n_rows, n_columns)`` mask of missing values of ``data``.

    Float arrays: NaN. Integer, bool and fixed-width string arrays have no
    missing values. Datetime arrays: NaT. Object arrays (and anything else):
    :func:`pandas.isna`, so ``None``, NaN, ``pd.NA`` and ``NaT`` are missing.
    A 1-D array is one column.

    Raises
    ------
    DataError
        If ``data`` is not 1-D or 2-D.

    Examples
    --------
    >>> missing_mask(np.array([[1.0, None], [np.nan, "a"]], dtype=object))
    array([[False,  True],
           [ True, False]])
    """
    arr = as_2d(np.asarray(data), name=name)
    kind = arr.dtype.kind
    if kind in "fc":
        return np.asarray(np.isnan(arr), dtype=np.bool_)
    if kind in "biuUS":
        return np.zeros(arr.shape, dtype=np.bool_)
    if kind in "mM":
        return np.asarray(np.isnat(arr), dtype=np.bool_)
    import pandas as pd

    return np.asarray(pd.isna(arr), dtype=np.bool_)


def _as_counts(value: ArrayLike, what: str) -> IntArray:
    arr = np.atleast_1d(np.asarray(value))
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iuf"):
        raise DataError(
            f"{what} must be a 1-D array of counts, got {value!r}",
            value=value,
            expected="a 1-D array of non-negative integers",
        )
    as_int = arr.astype(np.int64)
    if (as_int != arr).any():
        raise DataError(
            f"{what} must hold whole numbers, got {arr.tolist()}",
            value=arr.tolist(),
            expected="non-negative integers",
        )
    return as_int


def missing_rate_test_from_counts(
    missing_ref: ArrayLike, n_ref: ArrayLike, missing_cur: ArrayLike, n_cur: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Two-proportion test of the missing share of every column, from counts.

    ``statistic = missing_cur / n_cur - missing_ref / n_ref`` (positive when
    the current sample has more missing values). The p-value is the two-sided
    pooled z-test: with ``p = (missing_ref + missing_cur) / (n_ref + n_cur)``,
    ``z = statistic / sqrt(p * (1 - p) * (1 / n_ref + 1 / n_cur))`` and
    ``pvalue = P(chi2_1 > z**2)``, equal to
    ``scipy.stats.chi2_contingency(table, correction=False).pvalue`` on the
    2 x 2 table. When both samples are entirely present or entirely missing
    (``p`` is 0 or 1) the statistic is 0 and the p-value 1.

    Parameters
    ----------
    missing_ref, n_ref, missing_cur, n_cur
        ``(n_columns,)`` counts (scalars broadcast): missing values and rows of
        each sample, ``0 <= missing <= n`` and ``n >= 1``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(statistic, pvalue)``, each ``(n_columns,)`` float64.

    Raises
    ------
    DataError
        If a count is negative or not whole, a sample has no rows, or more
        values are missing than there are rows.

    Examples
    --------
    >>> stat, p = missing_rate_test_from_counts([10], [1000], [300], [1000])
    >>> stat, bool(p[0] < 1e-50)
    (array([0.29]), True)
    """
    counts = [
        _as_counts(missing_ref, "missing_ref"),
        _as_counts(n_ref, "n_ref"),
        _as_counts(missing_cur, "missing_cur"),
        _as_counts(n_cur, "n_cur"),
    ]
    try:
        m_ref, r_ref, m_cur, r_cur = np.broadcast_arrays(*counts)
    except ValueError:
        raise DataError(
            "missing_ref, n_ref, missing_cur and n_cur have different lengths: "
            f"{[c.size for c in counts]}",
            value=[c.size for c in counts],
            expected="one count per column in each",
        ) from None
    for label, m, n in (("reference", m_ref, r_ref), ("current", m_cur, r_cur)):
        bad = (n < 1) | (m < 0) | (m > n)
        if bad.any():
            j = int(np.argmax(bad))
            raise DataError(
                f"column {j}: {label} has {int(m[j])} missing values out of {int(n[j])} rows",
                column=j,
                value=(int(m[j]), int(n[j])),
                expected="0 <= missing <= rows and rows >= 1",
            )
    share_ref = m_ref / r_ref
    share_cur = m_cur / r_cur
    statistic = share_cur - share_ref
    pooled = (m_ref + m_cur) / (r_ref + r_cur)
    variance = pooled * (1.0 - pooled) * (1.0 / r_ref + 1.0 / r_cur)
    degenerate = variance <= 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = statistic**2 / variance
    pvalue = np.where(degenerate, 1.0, special.chdtrc(1.0, np.where(degenerate, 0.0, z2)))
    statistic = np.where(degenerate, 0.0, statistic)
    return statistic.astype(np.float64), pvalue.astype(np.float64)


def missing_rate_test(
    reference: ArrayLike, current: ArrayLike, *, columns: Sequence[str] | None = None
) -> StatResult:
    """Test every column for a change in its share of missing values.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` arrays (a 1-D array is one column) of any
        dtype; what counts as missing is described in :func:`missing_mask`.
        Row counts may differ; column counts must match.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    StatResult
        ``statistic``: current missing share minus reference missing share;
        ``pvalue``: two-sided pooled two-proportion z-test (see
        :func:`missing_rate_test_from_counts`); ``n_reference`` and
        ``n_current``: the rows of each sample (missing ones included).

    Raises
    ------
    DataError
        If a sample has no rows, is not 1-D/2-D, or the column counts differ.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(1000, 2))
    >>> cur = rng.normal(size=(1000, 2))
    >>> cur[:300, 1] = np.nan
    >>> res = missing_rate_test(ref, cur, columns=["steady", "leaky"])
    >>> res.statistic
    array([0. , 0.3])
    >>> res.pvalue < 0.05
    array([False,  True])
    """
    ref_mask = missing_mask(reference, name="reference")
    cur_mask = missing_mask(current, name="current")
    names = check_pair(ref_mask, cur_mask, columns)
    k = ref_mask.shape[1]
    n_ref, n_cur = ref_mask.shape[0], cur_mask.shape[0]
    missing_ref = ref_mask.sum(axis=0, dtype=np.int64)
    missing_cur = cur_mask.sum(axis=0, dtype=np.int64)
    statistic, pvalue = missing_rate_test_from_counts(missing_ref, n_ref, missing_cur, n_cur)
    return StatResult(
        statistic=statistic,
        pvalue=pvalue,
        n_reference=np.full(k, n_ref, dtype=np.int64),
        n_current=np.full(k, n_cur, dtype=np.int64),
        columns=tuple(names),
        name="missing_rate",
    )
