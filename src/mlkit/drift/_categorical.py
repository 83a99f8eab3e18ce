"""Categorical drift statistics: chi-square, TVD, categorical PSI and Jensen-Shannon.

Every column of both samples is encoded by hashing all its labels once
(:func:`pandas.factorize`, robust to mixed label types), then counted with a
single :func:`numpy.bincount` over ``column * n_categories + code``: no Python
loop runs over the columns or the rows. The counts of column ``j`` live on its
own category axis (the categories seen in that column in either sample); the
axes of all columns are padded with zero counts to the widest one, so the
statistics run on two ``(n_columns, n_categories)`` arrays at once. A padded
slot is empty in both samples and every statistic ignores it.

Missing labels (``None``, ``NaN``, ``pd.NA``, ``NaT``) are counted apart and
follow ``nan_policy``. Labels that compare equal in Python (``1``, ``1.0``,
``True``) are one category, as in a pandas groupby; ``"1"`` and ``1`` are two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mlkit.drift._binned import (
    _check_base,
    _check_counts,
    _check_eps,
    _proportions,
    jensen_shannon_from_counts,
    psi_from_counts,
)
from mlkit.drift._common import as_2d, check_nan_policy, check_pair, column_names
from mlkit.drift._results import CategoricalResult
from mlkit.errors import ConfigurationError, DataError

__all__ = [
    "CategoryCounts",
    "category_counts",
    "chi2",
    "chi2_from_counts",
    "counts_from_codes",
    "jensen_shannon_categorical",
    "jensen_shannon_categorical_from_counts",
    "psi_categorical",
    "psi_categorical_from_counts",
    "tvd",
    "tvd_from_counts",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Up to this many n_columns * (n_labels + 1) cells the counts are taken on one
# dense table over all labels of all columns (32 MiB of int64); past it, only
# the (column, label) pairs that occur are counted, so memory follows the
# data, not the product of columns and distinct labels.
_DENSE_CELL_LIMIT = 1 << 22


@attrs.frozen(eq=False, repr=False)
class CategoryCounts:
    """Category counts of two samples, column by column, on shared category axes.

    Attributes
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_slots)`` int64: the count of each category in the
        reference and current sample. Slot ``c`` of column ``j`` is the
        category ``categories[j][c]`` in both arrays; slots from
        ``n_categories[j]`` on are padding, zero in both.
    categories
        One array per column: its categories (seen in either sample),
        sorted when the labels are mutually comparable, else in order of first
        appearance.
    missing_ref, missing_cur
        ``(n_columns,)`` int64: missing labels in each sample.
    unseen
        ``(n_columns,)`` int64: current values whose category never occurs in
        that column of the reference.
    """

    ref_counts: IntArray
    cur_counts: IntArray
    categories: tuple[NDArray[Any], ...]
    missing_ref: IntArray
    missing_cur: IntArray
    unseen: IntArray

    @property
    def n_reference(self) -> IntArray:
        """``(n_columns,)``: non-missing reference values per column."""
        total: IntArray = self.ref_counts.sum(axis=1)
        return total

    @property
    def n_current(self) -> IntArray:
        """``(n_columns,)``: non-missing current values per column."""
        total: IntArray = self.cur_counts.sum(axis=1)
        return total

    @property
    def n_categories(self) -> IntArray:
        """``(n_columns,)``: the number of categories of each column (either sample)."""
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    def __repr__(self) -> str:
        k, width = self.ref_counts.shape
        return (
            f"CategoryCounts({k} columns, up to {width} categories, "
            f"{int(self.unseen.sum())} unseen current values)"
        )

    @property
    def unseen_mask(self) -> NDArray[np.bool_]:
        """``(n_columns, n_slots)``: categories present in current but not in reference."""
        return np.asarray((self.ref_counts == 0) & (self.cur_counts > 0), dtype=np.bool_)


# --------------------------------------------------------------------------- encoding


def _as_2d_labels(data: Any, *, name: str) -> NDArray[Any]:
    arr = np.asarray(data)
    if not isinstance(data, np.ndarray) and arr.dtype.kind in "US":
        # numpy turns a list like [1, "a"] into strings ("1", "a"); keep the labels.
        arr = np.asarray(data, dtype=object)
    return as_2d(arr, name=name)


def _common_dtype(ref: NDArray[Any], cur: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Put both samples in one dtype without numpy's number-to-string promotion."""
    if ref.dtype == cur.dtype:
        return ref, cur
    if (ref.dtype.kind in "biuf" and cur.dtype.kind in "biuf") or (
        ref.dtype.kind == cur.dtype.kind == "U"
    ):
        dtype = np.result_type(ref.dtype, cur.dtype)
        return ref.astype(dtype), cur.astype(dtype)
    return _to_object(ref), _to_object(cur)


def _to_object(arr: NDArray[Any]) -> NDArray[Any]:
    if arr.dtype.kind in "mM":
        import pandas as pd

        # numpy turns datetime64[ns] into plain ints on astype(object); pandas
        # gives Timestamps, which compare equal to the same moment elsewhere.
        flat = pd.Series(arr.ravel()).astype(object).to_numpy()
        return np.asarray(flat, dtype=object).reshape(arr.shape)
    return arr.astype(object)


def _factorize(values: NDArray[Any], name: str, names: Sequence[str]) -> tuple[Any, Any]:
    import pandas as pd

    try:
        return pd.factorize(values.ravel())
    except TypeError:
        for j in range(values.shape[1]):  # error path only: find the column to name
            for v in values[:, j]:
                try:
                    hash(v)
                except TypeError:
                    raise DataError(
                        f"{name} column {names[j]!r}: label {v!r} is not hashable",
                        column=names[j],
                        value=v,
                        expected="hashable labels (str, int, bool, float, ...)",
                    ) from None
        raise


def _merge_uniques(
    uniq_ref: NDArray[Any], uniq_cur: NDArray[Any]
) -> tuple[NDArray[Any], IntArray, IntArray]:
    """One category list for both samples: ``(uniques, map_ref, map_cur)``."""
    import pandas as pd

    both = np.concatenate([np.asarray(uniq_ref), np.asarray(uniq_cur)])
    try:
        codes, uniques = pd.factorize(both, sort=True)
    except TypeError:
        # Labels that cannot be ordered keep their order of first appearance.
        codes, uniques = pd.factorize(both, sort=False)
    codes = np.asarray(codes, dtype=np.int64)
    # A trailing -1 maps the missing code -1 to itself on lookup.
    minus = np.array([-1], dtype=np.int64)
    map_ref = np.concatenate([codes[: len(uniq_ref)], minus])
    map_cur = np.concatenate([codes[len(uniq_ref) :], minus])
    return np.asarray(uniques), map_ref, map_cur


def _pairs_dense(
    ref_codes: IntArray, cur_codes: IntArray, k: int, n_global: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Count on one ``(k, G + 1)`` table, slot 0 holding the missing labels."""
    width = n_global + 1
    offset = np.arange(k, dtype=np.int64) * width + 1
    dense_ref = np.bincount((ref_codes + offset).ravel(), minlength=k * width).reshape(k, width)
    dense_cur = np.bincount((cur_codes + offset).ravel(), minlength=k * width).reshape(k, width)
    present = (dense_ref[:, 1:] + dense_cur[:, 1:]) > 0
    col, code = np.nonzero(present)
    return (
        col.astype(np.int64),
        code.astype(np.int64),
        dense_ref[:, 1:][col, code],
        dense_cur[:, 1:][col, code],
        dense_ref[:, 0].astype(np.int64),
        dense_cur[:, 0].astype(np.int64),
    )


def _pairs_sparse(
    ref_codes: IntArray, cur_codes: IntArray, k: int, n_global: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """As :func:`_pairs_dense`, counting only the (column, category) pairs that occur."""
    parts = []
    missing = []
    for codes in (ref_codes, cur_codes):
        cols = np.broadcast_to(np.arange(k, dtype=np.int64), codes.shape).ravel()
        flat = codes.ravel()
        valid = flat >= 0
        missing.append(np.bincount(cols[~valid], minlength=k).astype(np.int64))
        parts.append(cols[valid] * n_global + flat[valid])
    pairs, inverse = np.unique(np.concatenate(parts), return_inverse=True)
    n_ref = parts[0].size
    count_ref = np.bincount(inverse[:n_ref], minlength=pairs.size).astype(np.int64)
    count_cur = np.bincount(inverse[n_ref:], minlength=pairs.size).astype(np.int64)
    return (
        pairs // n_global,
        pairs % n_global,
        count_ref,
        count_cur,
        missing[0],
        missing[1],
    )


def category_counts(
    reference: ArrayLike, current: ArrayLike, *, columns: Sequence[str] | None = None
) -> CategoryCounts:
    """Count the categories of every column of two label samples at once.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` arrays of labels (a 1-D array is one column):
        str, int, bool, float or object values, pandas Categorical values, or
        a DataFrame (converted with :func:`numpy.asarray`). ``None``, NaN,
        ``pd.NA`` and ``NaT`` are missing. Row counts may differ (zero rows
        are allowed and count nothing); column counts must match.
    columns
        Column names for error messages.

    Returns
    -------
    CategoryCounts
        Counts on shared, per-column category axes, missing and unseen counts.

    Notes
    -----
    All labels of all columns are hashed once with :func:`pandas.factorize`
    and counted by one :func:`numpy.bincount` on ``column * G + code`` (``G``
    the number of distinct labels overall). When ``n_columns * (G + 1)`` would
    exceed 4,194,304 cells (many columns with many distinct
    labels, say IDs), the present (column, label) pairs are counted instead,
    with memory proportional to the data. Either way the result is as wide as
    the column with the most categories: a high-cardinality column makes the
    padded arrays wide.

    Raises
    ------
    DataError
        If an input is not 1-D/2-D, the column counts differ, or a label is not
        hashable.

    Examples
    --------
    >>> ref = np.array([["a", "x"], ["b", "x"], ["a", None]], dtype=object)
    >>> cur = np.array([["c", "y"], ["a", "x"]], dtype=object)
    >>> counts = category_counts(ref, cur)
    >>> counts.categories
    (array(['a', 'b', 'c'], dtype=object), array(['x', 'y'], dtype=object))
    >>> counts.ref_counts
    array([[2, 1, 0],
           [2, 0, 0]])
    >>> counts.cur_counts
    array([[1, 0, 1],
           [1, 1, 0]])
    >>> counts.missing_ref, counts.unseen
    (array([0, 1]), array([1, 1]))
    """
    ref = _as_2d_labels(reference, name="reference")
    cur = _as_2d_labels(current, name="current")
    names = check_pair(ref, cur, columns, allow_empty=True)
    k = ref.shape[1]
    ref, cur = _common_dtype(ref, cur)
    # Each sample is hashed on its own and only the (few) distinct labels are
    # merged: cheaper than concatenating millions of object pointers.
    codes_ref, uniq_ref = _factorize(ref, "reference", names)
    codes_cur, uniq_cur = _factorize(cur, "current", names)
    uniques, map_ref, map_cur = _merge_uniques(uniq_ref, uniq_cur)
    n_global = len(uniques)
    ref_codes = map_ref[np.asarray(codes_ref, dtype=np.int64)].reshape(ref.shape)
    cur_codes = map_cur[np.asarray(codes_cur, dtype=np.int64)].reshape(cur.shape)
    if k * (n_global + 1) <= _DENSE_CELL_LIMIT:
        pairs = _pairs_dense(ref_codes, cur_codes, k, n_global)
    else:
        pairs = _pairs_sparse(ref_codes, cur_codes, k, n_global)
    col, code, count_ref, count_cur, missing_ref, missing_cur = pairs
    # Pairs arrive sorted by column then category: number them within columns.
    n_cat = np.bincount(col, minlength=k).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(n_cat)[:-1]]).astype(np.int64)
    slot = np.arange(col.size, dtype=np.int64) - first[col]
    width = int(n_cat.max()) if k else 0
    ref_counts = np.zeros((k, width), dtype=np.int64)
    cur_counts = np.zeros((k, width), dtype=np.int64)
    ref_counts[col, slot] = count_ref
    cur_counts[col, slot] = count_cur
    labels = uniques[code]
    categories = tuple(np.split(labels, np.cumsum(n_cat)[:-1])) if k else ()
    unseen = np.where(ref_counts == 0, cur_counts, 0).sum(axis=1).astype(np.int64)
    return CategoryCounts(
        ref_counts=ref_counts,
        cur_counts=cur_counts,
        categories=categories,
        missing_ref=missing_ref,
        missing_cur=missing_cur,
        unseen=unseen,
    )


def counts_from_codes(
    codes: ArrayLike, n_categories: int, *, columns: Sequence[str] | None = None
) -> IntArray:
    """Count integer category codes of every column with one :func:`numpy.bincount`.

    For callers that already encoded their labels (for example with a fitted
    category encoder): code ``c`` of column ``j`` adds one to
    ``counts[j, c]``; ``-1`` marks a missing value and is not counted (so the
    missing count is ``n_rows - counts.sum(axis=1)``).

    Parameters
    ----------
    codes
        ``(n_rows, n_columns)`` integers in ``[-1, n_categories)`` (a 1-D array
        is one column).
    n_categories
        The width of the category axis, ``>= 1``.
    columns
        Column names for error messages.

    Returns
    -------
    numpy.ndarray
        ``(n_columns, n_categories)`` int64 counts.

    Raises
    ------
    DataError
        If ``codes`` is not an integer array or holds a code out of range.
    ConfigurationError
        If ``n_categories`` is not a positive integer.

    Examples
    --------
    >>> counts_from_codes([[0, 2], [1, -1], [0, 2]], 3)
    array([[2, 1, 0],
           [0, 0, 2]])
    """
    if isinstance(n_categories, (bool, np.bool_)) or not isinstance(
        n_categories, (int, np.integer)
    ):
        raise ConfigurationError(
            f"n_categories must be a positive integer, got {n_categories!r}",
            value=n_categories,
            expected="an integer >= 1",
        )
    if n_categories < 1:
        raise ConfigurationError(
            f"n_categories must be at least 1, got {n_categories!r}",
            value=n_categories,
            expected="an integer >= 1",
        )
    arr = np.asarray(codes)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or (arr.size and arr.dtype.kind not in "iu"):
        raise DataError(
            f"codes must be a 2-D integer array, got dtype {arr.dtype} and shape {arr.shape}",
            value=str(arr.dtype),
            expected="a 2-D integer array",
        )
    k = arr.shape[1]
    names = column_names(k, columns)
    arr = arr.astype(np.int64, copy=False)
    bad = ((arr < -1) | (arr >= n_categories)).any(axis=0)
    if bad.any():
        j = int(np.argmax(bad))
        col = arr[:, j]
        value = int(col[(col < -1) | (col >= n_categories)][0])
        raise DataError(
            f"codes column {names[j]!r} holds {value}, outside [-1, {n_categories})",
            column=names[j],
            value=value,
            expected=f"codes in [-1, {n_categories}); -1 for missing",
        )
    width = int(n_categories) + 1
    keys = arr + (np.arange(k, dtype=np.int64) * width + 1)
    counts = np.bincount(keys.ravel(), minlength=k * width).reshape(k, width)
    return np.ascontiguousarray(counts[:, 1:], dtype=np.int64)


# --------------------------------------------------------------------------- statistics


def chi2_from_counts(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, correction: bool = True
) -> tuple[FloatArray, FloatArray]:
    """Chi-square test of homogeneity of every row of two ``(k, C)`` count arrays.

    Row ``j`` gives the statistic and p-value of
    ``scipy.stats.chi2_contingency([ref[j, kept], cur[j, kept]], correction=...)``
    where ``kept`` are the categories with a non-zero total: ``C' - 1``
    degrees of freedom, and with ``correction`` Yates' continuity correction
    when (and only when) that is 1, as scipy does.

    Degenerate rows never raise: a single category overall (``dof == 0``)
    gives statistic 0 and p-value 1, as scipy does; an empty sample (scipy
    raises) gives NaN for both.

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_categories)`` non-negative counts (1-D is one column).
    correction
        Apply Yates' correction to 2 x 2 tables.

    Returns
    -------
    tuple of numpy.ndarray
        ``(statistic, pvalue)``, each ``(n_columns,)`` float64.

    Examples
    --------
    >>> stat, p = chi2_from_counts([[30, 20, 0]], [[10, 40, 0]])
    >>> from scipy.stats import chi2_contingency
    >>> ref = chi2_contingency([[30, 20], [10, 40]])
    >>> bool(np.isclose(stat[0], ref.statistic)), bool(np.isclose(p[0], ref.pvalue))
    (True, True)
    """
    obs_ref, obs_cur = _check_counts(ref_counts, cur_counts)
    n_ref = obs_ref.sum(axis=1)
    n_cur = obs_cur.sum(axis=1)
    cat_total = obs_ref + obs_cur
    total = n_ref + n_cur
    kept = cat_total > 0
    dof = kept.sum(axis=1) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        # scipy's expected_freq: (row margin * column margin) / grand total.
        exp_ref = (n_ref[:, None] * cat_total) / total[:, None]
        exp_cur = (n_cur[:, None] * cat_total) / total[:, None]
        if correction:
            yates = (dof == 1)[:, None]
            obs_ref = np.where(yates, _yates(obs_ref, exp_ref), obs_ref)
            obs_cur = np.where(yates, _yates(obs_cur, exp_cur), obs_cur)
        terms = np.where(
            kept, (obs_ref - exp_ref) ** 2 / exp_ref + (obs_cur - exp_cur) ** 2 / exp_cur, 0.0
        )
    statistic = terms.sum(axis=1)
    pvalue = special.chdtrc(np.maximum(dof, 1), statistic)
    single = dof <= 0
    statistic[single] = 0.0
    pvalue[single] = 1.0
    empty = (n_ref == 0) | (n_cur == 0)
    statistic[empty] = np.nan
    pvalue[empty] = np.nan
    return statistic, np.asarray(pvalue, dtype=np.float64)


def _yates(observed: FloatArray, expected: FloatArray) -> FloatArray:
    # scipy moves each cell towards its expectation by at most 0.5 (gh-13875).
    diff = expected - observed
    corrected: FloatArray = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    return corrected


def tvd_from_counts(ref_counts: ArrayLike, cur_counts: ArrayLike) -> FloatArray:
    """Total variation distance of every row of two ``(k, C)`` count arrays.

    ``TVD = sum_c |r_c - q_c| / 2`` over the category proportions: the share
    of the current sample that would have to change category to match the
    reference, from 0 (same frequencies) to 1 (no category in common).

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_categories)`` non-negative counts (1-D is one column).

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> tvd_from_counts([[50, 50, 0]], [[25, 50, 25]])
    array([0.25])
    """
    ref, cur = _check_counts(ref_counts, cur_counts)
    p, empty_ref = _proportions(ref)
    q, empty_cur = _proportions(cur)
    with np.errstate(invalid="ignore"):
        value: FloatArray = np.abs(p - q).sum(axis=1) / 2.0
    value[empty_ref | empty_cur] = np.nan
    return value


def psi_categorical_from_counts(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, eps: float = 1e-4
) -> FloatArray:
    """Compute the population stability index on category frequencies.

    The rule of :func:`~mlkit.drift._binned.psi_from_counts`: proportions are
    floored at ``eps``, so a category missing from one sample (an unseen
    category in particular) adds about ``p * ln(p / eps)`` instead of
    infinity, and padded slots (empty in both) add 0.

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_categories)`` non-negative counts (1-D is one column).
    eps
        The proportion floor, ``0 < eps < 1``.

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> psi_categorical_from_counts([[50, 50]], [[50, 50]])
    array([0.])
    """
    return psi_from_counts(ref_counts, cur_counts, eps=eps)


def jensen_shannon_categorical_from_counts(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, base: float | None = 2
) -> FloatArray:
    """Jensen-Shannon distance of every row of two ``(k, C)`` category count arrays.

    Equal to :func:`scipy.spatial.distance.jensenshannon` on the two frequency
    vectors with the same ``base`` (the distance, at most 1 in base 2).

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_categories)`` non-negative counts (1-D is one column).
    base
        The logarithm base (``None`` for ``e``).

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> jensen_shannon_categorical_from_counts([[5, 0]], [[0, 5]])
    array([1.])
    """
    return jensen_shannon_from_counts(ref_counts, cur_counts, base=base)


def _categorical_result(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    nan_policy: str,
    columns: Sequence[str] | None,
    name: str,
    fn: Callable[[IntArray, IntArray], tuple[FloatArray, FloatArray]],
) -> CategoricalResult:
    policy = check_nan_policy(nan_policy)
    ref = _as_2d_labels(reference, name="reference")
    cur = _as_2d_labels(current, name="current")
    counts = category_counts(ref, cur, columns=columns)
    names = check_pair(ref, cur, columns)
    has_missing = (counts.missing_ref > 0) | (counts.missing_cur > 0)
    if policy == "raise" and has_missing.any():
        j = int(np.argmax(has_missing))
        where = "reference" if counts.missing_ref[j] else "current"
        raise DataError(
            f"{where} column {names[j]!r} holds missing labels; pass nan_policy='omit' to "
            "drop them or 'propagate' to return NaN for such columns",
            column=names[j],
            value=None,
            expected="no missing values under nan_policy='raise'",
        )
    statistic, pvalue = fn(counts.ref_counts, counts.cur_counts)
    if policy == "propagate":
        statistic = np.where(has_missing, np.nan, statistic)
        pvalue = np.where(has_missing, np.nan, pvalue)
    return CategoricalResult(
        statistic=statistic,
        pvalue=pvalue,
        n_reference=counts.n_reference,
        n_current=counts.n_current,
        columns=tuple(names),
        name=name,
        unseen=counts.unseen,
    )


def _no_pvalue(
    fn: Callable[[IntArray, IntArray], FloatArray],
) -> Callable[[IntArray, IntArray], tuple[FloatArray, FloatArray]]:
    def wrapped(ref: IntArray, cur: IntArray) -> tuple[FloatArray, FloatArray]:
        statistic = fn(ref, cur)
        return statistic, np.full(statistic.shape, np.nan)

    return wrapped


def chi2(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    correction: bool = True,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> CategoricalResult:
    """Chi-square test of homogeneity of every categorical column at once.

    Column ``j`` gives :func:`scipy.stats.chi2_contingency` on the ``2 x C``
    table of its reference and current category counts (categories seen in
    either sample), including Yates' correction when ``dof == 1``. See
    :func:`chi2_from_counts` for degenerate columns.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` label arrays (see :func:`category_counts`).
    correction
        Apply Yates' continuity correction to 2 x 2 tables, as scipy.
    nan_policy
        ``"propagate"`` (a column with a missing label gets NaN), ``"omit"``
        (missing labels are not counted) or ``"raise"``.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    CategoricalResult
        Statistic, p-value, non-missing sizes and unseen counts per column.

    Raises
    ------
    DataError
        No rows, mismatched columns, unhashable labels, or a missing label
        under ``"raise"``.

    Examples
    --------
    >>> ref = np.array(["a"] * 50 + ["b"] * 50, dtype=object)
    >>> cur = np.array(["a"] * 20 + ["b"] * 70 + ["c"] * 10, dtype=object)
    >>> res = chi2(ref, cur, columns=["colour"])
    >>> bool(res.pvalue[0] < 0.001), res.unseen
    (True, array([10]))
    """
    return _categorical_result(
        reference,
        current,
        nan_policy=nan_policy,
        columns=columns,
        name="chi2",
        fn=lambda r, c: chi2_from_counts(r, c, correction=correction),
    )


def tvd(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> CategoricalResult:
    """Total variation distance between the category frequencies of every column.

    See :func:`tvd_from_counts`; ``pvalue`` is all NaN.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` label arrays (see :func:`category_counts`).
    nan_policy
        ``"propagate"``, ``"omit"`` or ``"raise"`` for missing labels.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    CategoricalResult
        Statistic per column in ``[0, 1]``, sizes and unseen counts.

    Raises
    ------
    DataError
        No rows, mismatched columns, unhashable labels, or a missing label
        under ``"raise"``.

    Examples
    --------
    >>> tvd(["a", "a", "b", "b"], ["a", "b", "b", "b"]).statistic
    array([0.25])
    """
    return _categorical_result(
        reference,
        current,
        nan_policy=nan_policy,
        columns=columns,
        name="tvd",
        fn=_no_pvalue(tvd_from_counts),
    )


def psi_categorical(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    eps: float = 1e-4,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> CategoricalResult:
    """Compute the population stability index on the category frequencies of every column.

    See :func:`psi_categorical_from_counts`: proportions floored at ``eps``,
    so unseen categories count without making PSI infinite. Read it with
    :func:`~mlkit.drift._binned.psi_band`; ``pvalue`` is all NaN.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` label arrays (see :func:`category_counts`).
    eps
        The proportion floor, ``0 < eps < 1``.
    nan_policy
        ``"propagate"``, ``"omit"`` or ``"raise"`` for missing labels.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    CategoricalResult
        Statistic per column, sizes and unseen counts.

    Raises
    ------
    DataError
        No rows, mismatched columns, unhashable labels, or a missing label
        under ``"raise"``.
    ConfigurationError
        If ``eps`` is not in ``(0, 1)``.

    Examples
    --------
    >>> psi_categorical(["a", "b"] * 50, ["a", "b"] * 50).statistic
    array([0.])
    """
    eps = _check_eps(eps)
    return _categorical_result(
        reference,
        current,
        nan_policy=nan_policy,
        columns=columns,
        name="psi_categorical",
        fn=_no_pvalue(lambda r, c: psi_from_counts(r, c, eps=eps)),
    )


def jensen_shannon_categorical(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    base: float | None = 2,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> CategoricalResult:
    """Jensen-Shannon distance between the category frequencies of every column.

    Equal to :func:`scipy.spatial.distance.jensenshannon` on the two frequency
    vectors; at most 1 in base 2. ``pvalue`` is all NaN.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` label arrays (see :func:`category_counts`).
    base
        The logarithm base (``None`` for ``e``).
    nan_policy
        ``"propagate"``, ``"omit"`` or ``"raise"`` for missing labels.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    CategoricalResult
        Statistic per column, sizes and unseen counts.

    Raises
    ------
    DataError
        No rows, mismatched columns, unhashable labels, or a missing label
        under ``"raise"``.
    ConfigurationError
        If ``base`` is not positive or is 1.

    Examples
    --------
    >>> jensen_shannon_categorical(["a"] * 10, ["b"] * 10).statistic
    array([1.])
    """
    _check_base(base)
    return _categorical_result(
        reference,
        current,
        nan_policy=nan_policy,
        columns=columns,
        name="jensen_shannon_categorical",
        fn=_no_pvalue(lambda r, c: jensen_shannon_from_counts(r, c, base=base)),
    )
