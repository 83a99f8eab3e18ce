"""Binned drift statistics for numeric columns: PSI, Jensen-Shannon, Hellinger.

Bin edges come from the reference only (its quantiles by default). Counting
follows one rule everywhere: with edges ``e_0 <= e_1 <= ... <= e_B``, bin
``i`` holds the values ``x`` with ``e_i <= x < e_{i+1}``, except that the
outer bins are open-ended. Values below ``e_1`` count in bin 0 and values at
or above ``e_{B-1}`` in the last bin, so a current batch that leaves the
reference's range is never silently dropped; only ``e_1 .. e_{B-1}`` matter.
The counts equal ``np.histogram(col[~np.isnan(col)], bins=[-inf, e_1, ...,
e_{B-1}, inf])`` exactly. NaNs are never counted in a bin.

Heavy ties in the reference make several quantile edges equal. A bin
``[e_i, e_{i+1})`` with ``e_i == e_{i+1}`` is then empty in both samples, and
every statistic here gives an empty-in-both bin a zero contribution, so
duplicate edges are harmless: the tied values all land in the bin that starts
at the last of the equal edges.

Two counters are provided. :func:`bin_counts` counts an unsorted
``(n_rows, n_columns)`` batch with a few vectorised comparison passes (one
per interior edge) in cache-sized blocks. :func:`bin_counts_sorted` counts an
already sorted batch with a per-row binary search of the edges, which costs
about ``n_columns * bins * log2(n_rows)`` operations: it is how a detector
that already sorted a batch for KS gets the PSI counts almost for free.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mlkit.drift._common import (
    SortedColumns,
    as_2d_float,
    check_nan_policy,
    check_pair,
    column_names,
    raise_on_nan,
    rows_searchsorted,
    sort_columns,
)
from mlkit.drift._results import StatResult
from mlkit.errors import ConfigurationError, DataError

__all__ = [
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "bin_counts",
    "bin_counts_sorted",
    "bin_edges",
    "hellinger",
    "hellinger_from_counts",
    "jensen_shannon",
    "jensen_shannon_from_counts",
    "psi",
    "psi_band",
    "psi_from_counts",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Binning = Literal["quantile", "uniform"]

#: PSI at or above this is a moderate shift (conventional band).
PSI_MODERATE = 0.1
#: PSI at or above this is a significant shift (conventional band).
PSI_SIGNIFICANT = 0.25

_BINNINGS = ("quantile", "uniform")

# bin_counts compares tiles of about this many values (a few columns by many
# rows) against each edge, so a tile stays in the CPU cache from one
# comparison pass to the next.
_BLOCK_VALUES = 1 << 17
# numpy compares a row with a broadcast scalar about 4x faster once the row is
# longer than its ufunc buffer (8192 values): tiles use rows this long.
_ROW_LENGTH = 1 << 14
# Row-major input is transposed a block of rows at a time into a buffer of at
# most this many values, in slices of _TRANSPOSE_ROWS rows (small slices
# transpose about twice as fast as large ones).
_BUFFER_VALUES = 1 << 22
_TRANSPOSE_ROWS = 2048
# Past this many interior edges, comparison passes cost more than a sort.
_MAX_COMPARISON_EDGES = 24


# --------------------------------------------------------------------------- edges


def _check_bins(bins: object) -> int | FloatArray:
    """Return ``bins`` as a positive int, or as a float array of explicit edges."""
    if isinstance(bins, (bool, np.bool_)):
        raise ConfigurationError(
            f"bins must be a positive integer or a sequence of edges, got {bins!r}",
            value=bins,
            expected="an integer >= 1 or increasing edges",
        )
    if isinstance(bins, (int, np.integer)):
        if bins < 1:
            raise ConfigurationError(
                f"bins must be at least 1, got {bins!r}",
                value=bins,
                expected="an integer >= 1",
            )
        return operator.index(bins)
    if isinstance(bins, (float, np.floating, str, bytes)) or np.ndim(bins) == 0:  # type: ignore[arg-type]
        raise ConfigurationError(
            f"bins must be a positive integer or a sequence of edges, got {bins!r}",
            value=bins,
            expected="an integer >= 1 or increasing edges",
        )
    try:
        edges = np.asarray(bins, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"bins edges must be numbers, got {bins!r}",
            value=bins,
            expected="increasing numeric edges",
        ) from None
    return edges


def _check_binning(binning: str) -> Binning:
    if binning not in _BINNINGS:
        raise ConfigurationError(
            f"binning must be one of {_BINNINGS}, got {binning!r}",
            value=binning,
            expected=" | ".join(_BINNINGS),
        )
    return binning  # type: ignore[return-value]


def _explicit_edges(edges: FloatArray, n_columns: int, names: Sequence[str]) -> FloatArray:
    """Validate user edges, ``(B+1,)`` for every column or ``(n_columns, B+1)``."""
    if edges.ndim == 1:
        edges = np.broadcast_to(edges, (n_columns, edges.shape[0]))
    if edges.ndim != 2 or edges.shape[0] != n_columns or edges.shape[1] < 2:
        raise ConfigurationError(
            f"bin edges must have shape (n_edges,) or ({n_columns}, n_edges) with n_edges >= 2, "
            f"got shape {edges.shape}",
            value=edges.shape,
            expected=f"(n_edges,) or ({n_columns}, n_edges), n_edges >= 2",
        )
    bad_nan = _nan_rows(edges)
    if bad_nan.any():
        j = int(np.argmax(bad_nan))
        raise ConfigurationError(
            f"bin edges of column {names[j]!r} hold NaN: {edges[j].tolist()}",
            column=names[j],
            value=edges[j].tolist(),
            expected="numeric, non-decreasing edges",
        )
    _check_monotonic(edges, names)
    return np.array(edges, dtype=np.float64, order="C")


def _check_monotonic(edges: FloatArray, names: Sequence[str]) -> None:
    # NaN compares false, so NaN rows (untestable columns) pass.
    decreasing = (edges[:, 1:] < edges[:, :-1]).any(axis=1)
    if decreasing.any():
        j = int(np.argmax(decreasing))
        raise ConfigurationError(
            f"bin edges of column {names[j]!r} decrease: {edges[j].tolist()}",
            column=names[j],
            value=edges[j].tolist(),
            expected="non-decreasing edges",
        )


def _quantile_edges(ref: SortedColumns, n_bins: int) -> FloatArray:
    """``np.quantile(col, linspace(0, 1, B+1))`` of every column by one gather.

    Reproduces numpy's default ``method="linear"``, including its two-sided
    interpolation formula, so finite data give bit-identical edges. Where numpy
    yields NaN from infinite values (``inf - inf``) the neighbouring value is
    returned instead.
    """
    k, n = ref.values.shape
    edges = np.full((k, n_bins + 1), np.nan)
    if n == 0:
        return edges
    q = np.linspace(0.0, 1.0, n_bins + 1)
    last = (ref.n_valid - 1)[:, None]
    virtual = last.astype(np.float64) * q[None, :]
    prev = np.floor(virtual)
    above = virtual >= last
    lo_idx = np.where(above, last, prev).astype(np.int64)
    hi_idx = np.where(above, last, prev + 1).astype(np.int64)
    gamma = np.where(above, 0.0, virtual - prev)
    flat = ref.values.reshape(-1)
    base = (np.arange(k, dtype=np.int64) * n)[:, None]
    valid = ref.n_valid > 0
    lo_idx = np.clip(lo_idx, 0, n - 1)
    hi_idx = np.clip(hi_idx, 0, n - 1)
    a = flat[base + lo_idx]
    b = flat[base + hi_idx]
    with np.errstate(invalid="ignore", over="ignore"):
        diff = b - a
        out = np.where(gamma >= 0.5, b - diff * (1.0 - gamma), a + diff * gamma)
    out = np.where((gamma == 0.0) | (a == b), a, out)
    edges[valid] = out[valid]
    return edges


def _uniform_edges(ref: SortedColumns, n_bins: int) -> FloatArray:
    """``np.linspace(min, max, B+1)`` of every column (NaN if non-finite or empty)."""
    k, n = ref.values.shape
    edges = np.full((k, n_bins + 1), np.nan)
    if n == 0:
        return edges
    rows = np.arange(k)
    lo = ref.values[rows, 0]
    hi = ref.values[rows, np.maximum(ref.n_valid - 1, 0)]
    finite = (ref.n_valid > 0) & np.isfinite(lo) & np.isfinite(hi)
    constant = finite & (lo == hi)
    spread = finite & ~constant
    # linspace over an array switches every column to another formula as soon
    # as one column has zero step; keeping constant columns out of the call
    # keeps each column bit-identical to its own np.linspace.
    if spread.any():
        with np.errstate(over="ignore", invalid="ignore"):
            edges[spread] = np.linspace(lo[spread], hi[spread], n_bins + 1, axis=1)
    edges[constant] = lo[constant][:, None]
    return edges


def bin_edges(
    reference_sorted: SortedColumns,
    *,
    bins: int | ArrayLike = 10,
    binning: Literal["quantile", "uniform"] = "quantile",
    columns: Sequence[str] | None = None,
) -> FloatArray:
    """Bin edges of every column, taken from the reference only.

    Parameters
    ----------
    reference_sorted
        The reference as :class:`~mlkit.drift._common.SortedColumns` (from
        ``sort_columns``); NaNs are ignored.
    bins
        The number of bins ``B >= 1``, or explicit edges: ``(B+1,)`` shared by
        all columns or ``(n_columns, B+1)``, non-decreasing, no NaN. Explicit
        edges are returned as given (``binning`` is then ignored).
    binning
        ``"quantile"``: the reference's ``linspace(0, 1, B+1)`` quantiles with
        numpy's default linear interpolation, equal to :func:`numpy.quantile`
        on the column's non-NaN values, so each bin holds about ``1/B`` of the
        reference. ``"uniform"``: ``np.linspace(min, max, B+1)``.
    columns
        Column names for error messages.

    Returns
    -------
    numpy.ndarray
        ``(n_columns, B+1)`` float64 edges. A column without valid values gets
        NaN edges (the statistics report it as untestable, NaN). With
        ``"uniform"`` a column holding ``inf`` gets NaN edges too; with
        ``"quantile"`` only edges interpolated between infinities can be NaN.
        Equal edges from heavy ties are kept: they make empty bins that
        contribute nothing (see the module notes).

    Raises
    ------
    ConfigurationError
        If ``bins`` is not an integer >= 1 or valid edges, or ``binning`` is unknown.

    Examples
    --------
    >>> from mlkit.drift._common import sort_columns
    >>> ref = np.column_stack([np.arange(11.0), np.arange(11.0) ** 2])
    >>> bin_edges(sort_columns(ref), bins=2)
    array([[  0.,   5.,  10.],
           [  0.,  25., 100.]])
    >>> bin_edges(sort_columns(ref), bins=2, binning="uniform")
    array([[  0.,   5.,  10.],
           [  0.,  50., 100.]])
    """
    checked = _check_bins(bins)
    method = _check_binning(binning)
    names = column_names(reference_sorted.n_columns, columns)
    if not isinstance(checked, int):
        return _explicit_edges(checked, reference_sorted.n_columns, names)
    if method == "quantile":
        return _quantile_edges(reference_sorted, checked)
    return _uniform_edges(reference_sorted, checked)


def _as_edges(edges: ArrayLike, n_columns: int, names: Sequence[str]) -> FloatArray:
    """Validate edges given to the counters; NaN rows (untestable columns) are allowed."""
    arr = np.asarray(edges, dtype=np.float64)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n_columns, arr.shape[0]))
    if arr.ndim != 2 or arr.shape[0] != n_columns or arr.shape[1] < 2:
        raise ConfigurationError(
            f"edges must have shape (n_edges,) or ({n_columns}, n_edges) with n_edges >= 2, "
            f"got shape {np.shape(edges)}",
            value=np.shape(edges),
            expected=f"(n_edges,) or ({n_columns}, n_edges), n_edges >= 2",
        )
    _check_monotonic(arr, names)
    return arr


# --------------------------------------------------------------------------- counting


def _nan_rows(edges: FloatArray) -> NDArray[np.bool_]:
    """Return the rows of ``edges`` holding a NaN: the untestable columns."""
    return np.asarray(np.isnan(edges).any(axis=1), dtype=np.bool_)


def _counts_from_less(
    less: IntArray, n_valid: IntArray, untestable: NDArray[np.bool_]
) -> IntArray:
    """Bin counts from ``less[j, i] = #(x < e_{i+1})``: differences of a cumulative count."""
    k = less.shape[0]
    cumulative = np.concatenate(
        [np.zeros((k, 1), dtype=np.int64), less.astype(np.int64), n_valid[:, None]], axis=1
    )
    counts = np.diff(cumulative, axis=1)
    counts[untestable] = 0
    return counts


def _less_counts_unsorted(data: FloatArray, interior: FloatArray) -> tuple[IntArray, IntArray]:
    """Return ``(less, n_valid)``: ``less[j, i] = #(data[:, j] < interior[j, i])``.

    One vectorised comparison pass per interior edge plus one for NaN (which
    compares false, so it is never "less"). The batch is walked in blocks of
    rows held transposed, so that each column is one long row compared with a
    scalar edge (numpy's fastest comparison), and each block in cache-sized
    tiles of a few columns. The Python loops run over blocks, tiles and
    edges: their trip count grows with the number of values, not with the
    number of columns, and each trip handles about ``_BLOCK_VALUES`` values.
    """
    n, k = data.shape
    n_edges = interior.shape[1]
    less = np.zeros((k, n_edges), dtype=np.int64)
    nan = np.zeros(k, dtype=np.int64)
    if n == 0 or k == 0:
        return less, nan
    # Column-major input (what pandas hands out) is already transposed.
    column_major = not data.flags.c_contiguous and data.T.flags.c_contiguous
    if not column_major:
        data = np.ascontiguousarray(data)
    length = min(n, _ROW_LENGTH, max(_TRANSPOSE_ROWS, _BUFFER_VALUES // k))
    group = min(k, max(1, _BLOCK_VALUES // length))
    buffer = None if column_major else np.empty((k, length))
    mask = np.empty((group, length), dtype=np.bool_)
    edges = np.ascontiguousarray(interior.T)[:, :, None]
    for r0 in range(0, n, length):
        r1 = min(r0 + length, n)
        if buffer is None:
            block = data.T[:, r0:r1]
        else:
            block = buffer[:, : r1 - r0]
            for t0 in range(r0, r1, _TRANSPOSE_ROWS):
                t1 = min(t0 + _TRANSPOSE_ROWS, r1)
                np.copyto(block[:, t0 - r0 : t1 - r0], data[t0:t1].T)
        for c0 in range(0, k, group):
            c1 = min(c0 + group, k)
            tile = block[c0:c1]
            m = mask[: c1 - c0, : r1 - r0]
            for i in range(n_edges):
                np.less(tile, edges[i, c0:c1], out=m)
                less[c0:c1, i] += _block_sum(m)
            np.isnan(tile, out=m)
            nan[c0:c1] += _block_sum(m)
    return less, (n - nan).astype(np.int64)


def _block_sum(mask: NDArray[np.bool_]) -> IntArray:
    # Summing bytes into uint16 is several times faster than into int64 and
    # cannot overflow: a tile row holds at most _ROW_LENGTH < 65,536 values.
    total: IntArray = np.add.reduce(mask.view(np.uint8), axis=1, dtype=np.uint16).astype(np.int64)
    return total


def _count(data: FloatArray, edges: FloatArray) -> tuple[IntArray, IntArray]:
    """Count an unsorted batch: counts ``(k, B)`` and non-NaN sizes ``(k,)``."""
    untestable = _nan_rows(edges)
    interior = np.where(untestable[:, None], 0.0, edges[:, 1:-1])
    if interior.shape[1] > _MAX_COMPARISON_EDGES:
        # Many edges: one sort plus a binary search beats one pass per edge.
        ordered = sort_columns(data)
        less = rows_searchsorted(ordered.values, ordered.n_valid, interior, side="left")
        n_valid = ordered.n_valid
    else:
        less, n_valid = _less_counts_unsorted(data, interior)
    return _counts_from_less(less, n_valid, untestable), n_valid


def bin_counts(
    data: ArrayLike, edges: ArrayLike, *, columns: Sequence[str] | None = None
) -> IntArray:
    """Count every column of an unsorted batch into its bins, all columns at once.

    Parameters
    ----------
    data
        ``(n_rows, n_columns)`` numeric array (a 1-D array is one column).
        NaNs are not counted.
    edges
        ``(n_columns, B+1)`` edges (or ``(B+1,)`` for every column), for
        example from :func:`bin_edges`; a row of NaN edges marks an untestable
        column, whose counts are all zero.
    columns
        Column names for error messages.

    Returns
    -------
    numpy.ndarray
        ``(n_columns, B)`` int64 counts, equal to
        ``np.histogram(col[~np.isnan(col)], bins=[-inf, *edges[j, 1:-1], inf])[0]``
        for every column ``j`` (outer bins open-ended).

    Raises
    ------
    DataError
        If ``data`` is not numeric or not 1-D/2-D.
    ConfigurationError
        If the edges do not match the columns or decrease.

    Examples
    --------
    >>> data = np.array([[-5.0, 0.1], [0.5, np.nan], [1.0, 0.2], [7.0, 0.3]])
    >>> bin_counts(data, [[0.0, 0.5, 1.0], [0.0, 0.25, 1.0]])
    array([[1, 3],
           [2, 1]])
    """
    arr = as_2d_float(data, name="data", columns=columns)
    names = column_names(arr.shape[1], columns)
    checked = _as_edges(edges, arr.shape[1], names)
    counts, _ = _count(arr, checked)
    return counts


def bin_counts_sorted(sorted_columns: SortedColumns, edges: ArrayLike) -> IntArray:
    """Count an already sorted batch into its bins by a binary search of the edges.

    Costs about ``n_columns * B * log2(n_rows)`` operations: a detector that
    sorted the batch for KS gets the binned counts almost for free.

    Parameters
    ----------
    sorted_columns
        The batch as :class:`~mlkit.drift._common.SortedColumns`.
    edges
        ``(n_columns, B+1)`` or ``(B+1,)`` edges, as for :func:`bin_counts`.

    Returns
    -------
    numpy.ndarray
        ``(n_columns, B)`` int64 counts, identical to :func:`bin_counts` on the
        unsorted batch.

    Examples
    --------
    >>> from mlkit.drift._common import sort_columns
    >>> data = np.array([[-5.0, 0.1], [0.5, np.nan], [1.0, 0.2], [7.0, 0.3]])
    >>> bin_counts_sorted(sort_columns(data), [[0.0, 0.5, 1.0], [0.0, 0.25, 1.0]])
    array([[1, 3],
           [2, 1]])
    """
    k = sorted_columns.n_columns
    checked = _as_edges(edges, k, column_names(k, None))
    untestable = _nan_rows(checked)
    interior = np.where(untestable[:, None], 0.0, checked[:, 1:-1])
    n_valid = sorted_columns.n_valid.astype(np.int64)
    if sorted_columns.n_rows == 0:
        less = np.zeros(interior.shape, dtype=np.int64)
    else:
        less = rows_searchsorted(sorted_columns.values, n_valid, interior, side="left")
    return _counts_from_less(less, n_valid, untestable)


# --------------------------------------------------------------------------- statistics


def _check_counts(ref_counts: ArrayLike, cur_counts: ArrayLike) -> tuple[FloatArray, FloatArray]:
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(cur_counts, dtype=np.float64)
    if ref.ndim == 1:
        ref = ref[None, :]
    if cur.ndim == 1:
        cur = cur[None, :]
    if ref.shape != cur.shape or ref.ndim != 2:
        raise DataError(
            f"reference counts have shape {ref.shape} but current counts {cur.shape}",
            value=cur.shape,
            expected=f"two (n_columns, n_bins) arrays of shape {ref.shape}",
        )
    negative = (ref < 0).any(axis=1) | (cur < 0).any(axis=1)
    if negative.any():
        j = int(np.argmax(negative))
        raise DataError(
            f"counts of column {j} are negative: {ref[j].tolist()} / {cur[j].tolist()}",
            column=j,
            value=min(ref[j].min(), cur[j].min()),
            expected="non-negative counts",
        )
    return ref, cur


def _proportions(counts: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    total = counts.sum(axis=1, keepdims=True)
    empty = total[:, 0] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / total, empty


def _check_eps(eps: float) -> float:
    if not (isinstance(eps, (int, float, np.floating)) and 0.0 < float(eps) < 1.0):
        raise ConfigurationError(
            f"eps must be a number with 0 < eps < 1, got {eps!r}",
            value=eps,
            expected="0 < eps < 1",
        )
    return float(eps)


def psi_from_counts(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, eps: float = 1e-4
) -> FloatArray:
    """Compute the population stability index of every row of two ``(k, B)`` count arrays.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over the bins, where ``r_i``
    and ``c_i`` are the reference and current proportions, each floored at
    ``eps``: ``r_i = max(count_i / n, eps)``. The floor keeps an empty bin
    finite (an empty bin in one sample adds about ``p * ln(p / eps)``), and a
    bin empty in both samples adds exactly 0. With the default ``eps=1e-4``
    this is the usual "replace a zero proportion by 0.0001" rule whenever no
    non-empty bin is rarer than 1 in 10,000.

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_bins)`` non-negative counts (a 1-D array is one column).
    eps
        The proportion floor, ``0 < eps < 1``.

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> psi_from_counts([[50, 50]], [[50, 50]])
    array([0.])
    >>> psi_from_counts([[50, 50]], [[25, 75]]).round(4)
    array([0.2747])
    """
    eps = _check_eps(eps)
    ref, cur = _check_counts(ref_counts, cur_counts)
    p_ref, empty_ref = _proportions(ref)
    p_cur, empty_cur = _proportions(cur)
    with np.errstate(invalid="ignore"):
        p_ref = np.maximum(p_ref, eps)
        p_cur = np.maximum(p_cur, eps)
        value: FloatArray = ((p_cur - p_ref) * np.log(p_cur / p_ref)).sum(axis=1)
    value[empty_ref | empty_cur] = np.nan
    return value


def _check_base(base: float | None) -> float | None:
    if base is None:
        return None
    if not (isinstance(base, (int, float, np.floating)) and base > 0 and base != 1):
        raise ConfigurationError(
            f"base must be a positive number other than 1 (or None for e), got {base!r}",
            value=base,
            expected="base > 0 and base != 1",
        )
    return float(base)


def jensen_shannon_from_counts(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, base: float | None = 2
) -> FloatArray:
    """Jensen-Shannon distance of every row of two ``(k, B)`` count arrays.

    The *distance*, ``sqrt`` of the Jensen-Shannon divergence, computed like
    :func:`scipy.spatial.distance.jensenshannon` on the two rows (which it
    equals to rounding). In base 2 it lies in ``[0, 1]``; in base ``e``
    (``base=None``) in ``[0, sqrt(ln 2)]``. No smoothing is needed: a bin
    empty in one sample contributes a finite amount.

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_bins)`` non-negative counts (a 1-D array is one column).
    base
        The logarithm base; ``None`` means ``e`` as in scipy.

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> jensen_shannon_from_counts([[10, 0], [5, 5]], [[0, 10], [5, 5]])
    array([1., 0.])
    """
    log_base = _check_base(base)
    ref, cur = _check_counts(ref_counts, cur_counts)
    p, empty_ref = _proportions(ref)
    q, empty_cur = _proportions(cur)
    with np.errstate(invalid="ignore"):
        m = (p + q) / 2.0
        js = special.rel_entr(p, m).sum(axis=1) + special.rel_entr(q, m).sum(axis=1)
    if log_base is not None:
        js /= np.log(log_base)
    # Rounding can leave a tiny negative divergence for near-identical rows.
    value: FloatArray = np.sqrt(np.maximum(js / 2.0, 0.0))
    value[empty_ref | empty_cur] = np.nan
    return value


def hellinger_from_counts(ref_counts: ArrayLike, cur_counts: ArrayLike) -> FloatArray:
    """Hellinger distance of every row of two ``(k, B)`` count arrays.

    ``H = sqrt(sum_i (sqrt(r_i) - sqrt(c_i))**2 / 2)`` on the proportions,
    which lies in ``[0, 1]`` (1 for disjoint supports). This form avoids the
    cancellation of ``sqrt(1 - sum sqrt(r_i c_i))`` for small distances.

    Parameters
    ----------
    ref_counts, cur_counts
        ``(n_columns, n_bins)`` non-negative counts (a 1-D array is one column).

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN where either sample has no values.

    Examples
    --------
    >>> hellinger_from_counts([[10, 0], [5, 5]], [[0, 10], [5, 5]])
    array([1., 0.])
    """
    ref, cur = _check_counts(ref_counts, cur_counts)
    p, empty_ref = _proportions(ref)
    q, empty_cur = _proportions(cur)
    with np.errstate(invalid="ignore"):
        value: FloatArray = np.sqrt(((np.sqrt(p) - np.sqrt(q)) ** 2).sum(axis=1) / 2.0)
    value[empty_ref | empty_cur] = np.nan
    return value


def psi_band(values: ArrayLike) -> NDArray[np.str_]:
    """Name the conventional PSI band of each value.

    ``"stable"`` below :data:`PSI_MODERATE` (0.1), ``"moderate"`` from 0.1 up
    to but excluding :data:`PSI_SIGNIFICANT` (0.25), ``"significant"`` from
    0.25 on: a value exactly on a boundary belongs to the higher band. NaN (an
    untestable column) is ``"untestable"``.

    Examples
    --------
    >>> psi_band([0.05, 0.1, 0.2, 0.25, float("nan")])
    array(['stable', 'moderate', 'moderate', 'significant', 'untestable'], dtype='<U11')
    """
    v = np.asarray(values, dtype=np.float64)
    bands = np.select(
        [np.isnan(v), v >= PSI_SIGNIFICANT, v >= PSI_MODERATE],
        ["untestable", "significant", "moderate"],
        default="stable",
    )
    return np.asarray(bands, dtype="<U11")


@attrs.frozen(eq=False)
class _BinnedPair:
    ref_counts: IntArray
    cur_counts: IntArray
    n_reference: IntArray
    n_current: IntArray
    #: Columns whose statistic is NaN: untestable edges or (propagate) a NaN.
    nan_out: NDArray[np.bool_]
    columns: tuple[str, ...]


def _binned_pair(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int | ArrayLike,
    binning: str,
    nan_policy: str,
    columns: Sequence[str] | None,
) -> _BinnedPair:
    """Check both samples, take edges from the reference, count both samples."""
    policy = check_nan_policy(nan_policy)
    checked_bins = _check_bins(bins)
    _check_binning(binning)
    ref = as_2d_float(reference, name="reference", columns=columns)
    cur = as_2d_float(current, name="current", columns=columns)
    names = check_pair(ref, cur, columns)
    ref_sorted = sort_columns(ref)
    edges = bin_edges(ref_sorted, bins=checked_bins, binning=binning, columns=names)  # type: ignore[arg-type]
    ref_counts = bin_counts_sorted(ref_sorted, edges)
    cur_counts, cur_valid = _count(cur, edges)
    ref_valid = ref_sorted.n_valid.astype(np.int64)
    has_nan = (ref_valid < ref.shape[0]) | (cur_valid < cur.shape[0])
    if policy == "raise":
        raise_on_nan(ref.shape[0] - ref_valid, cur.shape[0] - cur_valid, names)
    nan_out = _nan_rows(edges)
    if policy == "propagate":
        nan_out |= has_nan
    return _BinnedPair(ref_counts, cur_counts, ref_valid, cur_valid, nan_out, tuple(names))


def _binned_result(
    pair: _BinnedPair, fn: Callable[[IntArray, IntArray], FloatArray], name: str
) -> StatResult:
    statistic = fn(pair.ref_counts, pair.cur_counts)
    statistic[pair.nan_out] = np.nan
    return StatResult(
        statistic=statistic,
        pvalue=np.full(statistic.shape, np.nan),
        n_reference=pair.n_reference,
        n_current=pair.n_current,
        columns=pair.columns,
        name=name,
    )


def psi(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int | ArrayLike = 10,
    binning: Literal["quantile", "uniform"] = "quantile",
    eps: float = 1e-4,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """Compute the population stability index of every column on reference-derived bins.

    The reference's bin edges (quantiles by default) are applied to both
    samples and :func:`psi_from_counts` compares the proportions, each
    floored at ``eps`` so empty bins stay finite. Read it with the
    conventional bands (:func:`psi_band`): below 0.1 stable, 0.1 to 0.25
    moderate, 0.25 and above significant. PSI has no p-value.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays (a 1-D array is one column); the
        row counts may differ, the column counts must match.
    bins
        The number of bins ``B >= 1``, or explicit edges (see :func:`bin_edges`).
        The outer bins are open-ended, so current values outside the
        reference's range still count.
    binning
        ``"quantile"`` (edges at the reference's quantiles, about ``1/B`` of
        the reference per bin) or ``"uniform"`` (equal-width between the
        reference's min and max).
    nan_policy
        ``"propagate"`` (a column with a NaN in either sample gets NaN),
        ``"omit"`` (NaNs are not counted) or ``"raise"``.
    columns
        Names for the columns, used in results and error messages.
    eps
        The proportion floor for empty bins, ``0 < eps < 1``.

    Returns
    -------
    StatResult
        ``statistic`` per column (NaN if untestable), ``pvalue`` all NaN.

    Raises
    ------
    DataError
        Non-numeric data, no rows, mismatched columns, or a NaN under ``"raise"``.
    ConfigurationError
        Invalid ``bins``, ``binning``, ``eps`` or ``nan_policy``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(5000, 2))
    >>> cur = np.column_stack([rng.normal(size=5000), rng.normal(1.0, size=5000)])
    >>> res = psi(ref, cur, columns=["stable", "shifted"])
    >>> psi_band(res.statistic)
    array(['stable', 'significant'], dtype='<U11')
    """
    eps = _check_eps(eps)
    pair = _binned_pair(
        reference, current, bins=bins, binning=binning, nan_policy=nan_policy, columns=columns
    )
    return _binned_result(pair, lambda r, c: psi_from_counts(r, c, eps=eps), "psi")


def jensen_shannon(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int | ArrayLike = 10,
    binning: Literal["quantile", "uniform"] = "quantile",
    base: float | None = 2,
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """Jensen-Shannon distance of every column on reference-derived bins.

    The distance (the square root of the divergence), equal to
    :func:`scipy.spatial.distance.jensenshannon` on the two histograms with
    the same ``base``. In base 2 it is bounded by 1 (disjoint histograms).

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays (a 1-D array is one column); the
        row counts may differ, the column counts must match.
    bins
        The number of bins ``B >= 1``, or explicit edges (see :func:`bin_edges`).
        The outer bins are open-ended, so current values outside the
        reference's range still count.
    binning
        ``"quantile"`` (edges at the reference's quantiles, about ``1/B`` of
        the reference per bin) or ``"uniform"`` (equal-width between the
        reference's min and max).
    nan_policy
        ``"propagate"`` (a column with a NaN in either sample gets NaN),
        ``"omit"`` (NaNs are not counted) or ``"raise"``.
    columns
        Names for the columns, used in results and error messages.
    base
        The logarithm base (``None`` for ``e``).

    Returns
    -------
    StatResult
        ``statistic`` per column (NaN if untestable), ``pvalue`` all NaN.

    Raises
    ------
    DataError
        Non-numeric data, no rows, mismatched columns, or a NaN under ``"raise"``.
    ConfigurationError
        Invalid ``bins``, ``binning``, ``base`` or ``nan_policy``.

    Examples
    --------
    Every current value above the reference's range lands in the last of 10
    equally filled bins, which is the scipy distance of those histograms:

    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(2000, 1))
    >>> jensen_shannon(ref, ref + 10.0).statistic
    array([0.8708])
    >>> from scipy.spatial.distance import jensenshannon
    >>> float(jensenshannon([0.1] * 10, [0] * 9 + [1], base=2))
    0.8708
    """
    _check_base(base)
    pair = _binned_pair(
        reference, current, bins=bins, binning=binning, nan_policy=nan_policy, columns=columns
    )
    return _binned_result(
        pair, lambda r, c: jensen_shannon_from_counts(r, c, base=base), "jensen_shannon"
    )


def hellinger(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    bins: int | ArrayLike = 10,
    binning: Literal["quantile", "uniform"] = "quantile",
    nan_policy: Literal["raise", "omit", "propagate"] = "propagate",
    columns: Sequence[str] | None = None,
) -> StatResult:
    """Hellinger distance of every column on reference-derived bins.

    See :func:`hellinger_from_counts`; the value lies in ``[0, 1]``.

    Parameters
    ----------
    reference, current
        ``(n_rows, n_columns)`` numeric arrays (a 1-D array is one column); the
        row counts may differ, the column counts must match.
    bins
        The number of bins ``B >= 1``, or explicit edges (see :func:`bin_edges`).
        The outer bins are open-ended, so current values outside the
        reference's range still count.
    binning
        ``"quantile"`` (edges at the reference's quantiles, about ``1/B`` of
        the reference per bin) or ``"uniform"`` (equal-width between the
        reference's min and max).
    nan_policy
        ``"propagate"`` (a column with a NaN in either sample gets NaN),
        ``"omit"`` (NaNs are not counted) or ``"raise"``.
    columns
        Names for the columns, used in results and error messages.

    Returns
    -------
    StatResult
        ``statistic`` per column (NaN if untestable), ``pvalue`` all NaN.

    Raises
    ------
    DataError
        Non-numeric data, no rows, mismatched columns, or a NaN under ``"raise"``.
    ConfigurationError
        Invalid ``bins``, ``binning`` or ``nan_policy``.

    Examples
    --------
    >>> ref = np.arange(100.0)
    >>> hellinger(ref, ref).statistic
    array([0.])
    """
    pair = _binned_pair(
        reference, current, bins=bins, binning=binning, nan_policy=nan_policy, columns=columns
    )
    return _binned_result(pair, hellinger_from_counts, "hellinger")
