"""Drift summaries that merge: exact KS from counts, and references larger than memory.

Two pieces make :class:`~mlkit.drift.DriftDetector` run over pandas chunks
and Dask partitions (through :func:`mlkit._frames.map_reduce`):

**KS from counts.** Let ``u_0 < ... < u_{d-1}`` be points (the reference's
distinct values, or grid edges). A sample is summarised by the counts of
``a(x) = searchsorted(u, x, "left")`` (``below``, length ``d + 1``) and of
``x == u_k`` (``equal``, length ``d``). From them ``F(u_k^-)`` and ``F(u_k)``
are exact for both samples, and so are ``F`` at both ends of every open cell
``(u_{k-1}, u_k)``. :func:`ks_bounds` returns

- ``D_grid``: the largest ``|F_ref - F_cur|`` over those points, a lower
  bound of the KS statistic ``D``;
- ``D_upper``: the largest gap either ECDF could reach inside a cell,
  ``max(F_ref(u_k^-) - F_cur(u_{k-1}), F_cur(u_k^-) - F_ref(u_{k-1}))``, an
  upper bound, itself at most ``D_grid + w``;
- ``w``: the largest share of either sample inside one open cell.

When the points are all the reference's distinct values, ``F_ref`` is
constant inside every cell, so ``D_upper == D_grid == D``: the statistic is
exact (equal to :func:`scipy.stats.ks_2samp`'s to float rounding), from
``O(d)`` counters that merge by addition.

**References larger than ``max_sorted``.** The first pass over the
reference keeps each numeric column sorted while it has at most
``max_sorted`` rows; beyond, it keeps a bottom-k sample of distinct values by
a hash of their bits, with their exact counts. The sample does not depend on
how the data is partitioned (a value is in the merged bottom-k only if it is
in the bottom-k of every piece holding it, so its count is complete). Grid and
bin edges are weighted quantiles of the sample (any edges are valid); a
second pass counts the reference exactly on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from mlkit.drift._common import SortedColumns, sort_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SAMPLE_SIZE",
    "ReferenceCounts",
    "RefSummary",
    "distinct_points",
    "ks_bounds",
    "ks_count",
    "ks_count_sorted",
    "ks_gap_sums",
    "merge_reference",
    "sample_points",
    "summarise_reference",
    "wasserstein_bounds",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Distinct values kept per numeric column by the bottom-k sample (at most ``max_sorted``).
SAMPLE_SIZE = 20_000
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


# -- KS from counts ------------------------------------------------------------------


def distinct_points(sorted_columns: SortedColumns) -> tuple[FloatArray, IntArray]:
    """Return every column's distinct valid values, flat, and the column offsets."""
    parts = []
    for j in range(sorted_columns.n_columns):
        vals = sorted_columns.values[j, : sorted_columns.n_valid[j]]
        keep = np.ones(len(vals), dtype=bool)
        keep[1:] = vals[1:] != vals[:-1]
        parts.append(vals[keep])
    return _flatten(parts)


def _flatten(parts: Sequence[FloatArray]) -> tuple[FloatArray, IntArray]:
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in parts])
    flat = np.concatenate(list(parts)) if parts else np.empty(0)
    return np.asarray(flat, dtype=np.float64), offsets


def ks_count(
    values: FloatArray,
    points: FloatArray,
    offsets: IntArray,
    *,
    into: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, IntArray]:
    """Count an ``(n_rows, k)`` batch on every column's points (NaNs are not counted).

    Returns the flat ``below`` counts (``d_j + 1`` per column) and ``equal``
    counts (``d_j`` per column), in column order. With ``into``, the counts
    are added to those two arrays in place (and they are returned).
    """
    return ks_count_sorted(sort_columns(values), points, offsets, into=into)


def ks_count_sorted(
    columns: SortedColumns,
    points: FloatArray,
    offsets: IntArray,
    *,
    into: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, IntArray]:
    """:func:`ks_count` of already sorted columns.

    A batch of ``p`` values costs ``O(p log d)`` when ``p < d`` (the values
    are located among the points and their runs counted, without touching
    all ``d`` counters), else two binary searches of the points, ``O(d log p)``.
    """
    k = len(offsets) - 1
    if into is None:
        below = np.zeros(int(offsets[-1]) + k, dtype=np.int64)
        equal = np.zeros(int(offsets[-1]), dtype=np.int64)
    else:
        below, equal = into
    for j in range(k):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        u = points[lo:hi]
        x = columns.values[j, : columns.n_valid[j]]
        if len(x) < len(u):  # few values: locate them among the points
            a = np.searchsorted(u, x, side="left")  # sorted, since x is
            slots, runs = _runs(a)
            below[lo + j + slots] += runs
            inside = a < hi - lo
            hit, hits = _runs(a[inside][x[inside] == u[a[inside]]])
            equal[lo + hit] += hits
            continue
        n_lt = np.searchsorted(x, u, side="left")  # x < u_k
        n_le = np.searchsorted(x, u, side="right")  # x <= u_k
        equal[lo:hi] += n_le - n_lt
        # below[k] counts u_{k-1} < x <= u_k: a(x) = searchsorted(u, x, "left") == k.
        below[lo + j : hi + j + 1] += np.diff(n_le, prepend=0, append=len(x))
    return below, equal


def _runs(sorted_ints: IntArray) -> tuple[IntArray, IntArray]:
    """Return the distinct values of a sorted integer array and how often each occurs."""
    if len(sorted_ints) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.diff(sorted_ints, prepend=sorted_ints[0] - 1))
    runs = np.diff(starts, append=len(sorted_ints))
    return sorted_ints[starts].astype(np.int64), runs.astype(np.int64)


def ks_bounds(
    ref_below: IntArray,
    ref_equal: IntArray,
    cur_below: IntArray,
    cur_equal: IntArray,
    offsets: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return ``(D_grid, D_upper, w)`` per column from the counts of both samples.

    ``D_grid <= D <= D_upper <= D_grid + w`` (see the module notes); a column
    where either sample has no value gets NaN.
    """
    k = len(offsets) - 1
    out = np.full((3, k), np.nan)
    for j in range(k):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        rb, cb = ref_below[lo + j : hi + j + 1], cur_below[lo + j : hi + j + 1]
        re, ce = ref_equal[lo:hi], cur_equal[lo:hi]
        n, m = int(rb.sum()), int(cb.sum())
        if n == 0 or m == 0:
            continue
        r_le, c_le = np.cumsum(rb)[:-1], np.cumsum(cb)[:-1]
        r_lt, c_lt = r_le - re, c_le - ce
        # F at u_k^- and at u_k: exact for both samples.
        d_grid = max(
            np.abs(r_lt / n - c_lt / m).max(initial=0.0),
            np.abs(r_le / n - c_le / m).max(initial=0.0),
        )
        # Open cells k = 0..d: F at the left end (u_{k-1}) and right limit (u_k^-).
        r_left = np.concatenate([[0], r_le]) / n
        c_left = np.concatenate([[0], c_le]) / m
        r_right = np.concatenate([r_lt, [n]]) / n
        c_right = np.concatenate([c_lt, [m]]) / m
        d_upper = max(d_grid, (r_right - c_left).max(), (c_right - r_left).max())
        w = max((r_right - r_left).max(), (c_right - c_left).max())
        out[:, j] = d_grid, d_upper, w
    return out[0], out[1], out[2]


# -- Wasserstein from counts and gap sums -------------------------------------------


def ks_gap_sums(
    columns: SortedColumns,
    points: FloatArray,
    offsets: IntArray,
    *,
    into: FloatArray | None = None,
) -> FloatArray:
    """Sum, per open cell, the distance of the values strictly inside it to the cell's end.

    Cells are those of :func:`ks_count` (``d_j + 1`` per column): cell ``k``
    is ``(u_{k-1}, u_k)``, with ``u_{-1} = -inf`` and ``u_d = +inf``. A value
    ``x`` inside cell ``k < d`` adds ``u_k - x``; one above ``u_{d-1}`` adds
    ``x - u_{d-1}``; values equal to a point add nothing. Every term is
    ``>= 0`` and the sums merge by addition (equivalently, the sums of the
    values ``S_k = c_k u_k - G_k``, kept in a form that does not cancel).
    With ``into``, the sums are added to that array in place.
    """
    k = len(offsets) - 1
    out = np.zeros(int(offsets[-1]) + k) if into is None else into
    for j in range(k):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        u = points[lo:hi]
        d = hi - lo
        x = columns.values[j, : columns.n_valid[j]]
        if d == 0 or len(x) == 0:
            continue
        a = np.searchsorted(u, x, side="left")
        right = u[np.minimum(a, d - 1)]
        inside = (a == d) | (x != right)
        gap = np.where(a < d, right - x, x - u[d - 1])
        out[lo + j : hi + j + 1] += np.bincount(a[inside], weights=gap[inside], minlength=d + 1)
    return out


def wasserstein_bounds(
    ref_below: IntArray,
    ref_equal: IntArray,
    cur_below: IntArray,
    cur_equal: IntArray,
    cur_gaps: FloatArray,
    points: FloatArray,
    offsets: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Return ``(W_lo, W_hi)`` per column, bounds of the (unnormalised) Wasserstein-1 distance.

    ``points`` must be the reference's distinct values, so ``F_ref`` is a
    constant ``R`` inside every cell ``(u_{k-1}, u_k)``. There
    ``int F_cur = F_cur(u_{k-1}) L + G_k / m`` (``L = u_k - u_{k-1}``,
    ``G_k`` from :func:`ks_gap_sums`), and when ``F_cur - R`` keeps its sign
    on the cell (``F_cur`` is non-decreasing: checked at both ends, ties
    included) ``int |R - F_cur| = |R L - int F_cur|`` exactly. Otherwise it
    lies between that and ``max(|R - F_cur(u_{k-1})|, |R - F_cur(u_k^-)|) L``.
    The two tails (``F_ref`` is 0 below ``u_0`` and 1 above ``u_{d-1}``) are
    exact: ``G_0 / m`` and ``G_d / m``; points add nothing. So
    ``W_lo <= W <= W_hi``, with ``W_lo == W_hi`` (exact, to float rounding)
    when no cell changes sign. A column where either sample has no value
    gets NaN.
    """
    k = len(offsets) - 1
    out = np.full((2, k), np.nan)
    for j in range(k):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        rb, cb = ref_below[lo + j : hi + j + 1], cur_below[lo + j : hi + j + 1]
        ce = cur_equal[lo:hi]
        g = cur_gaps[lo + j : hi + j + 1]
        u = points[lo:hi]
        n, m = int(rb.sum()), int(cb.sum())
        if n == 0 or m == 0:
            continue
        r_le, c_le = np.cumsum(rb)[:-1], np.cumsum(cb)[:-1]
        c_lt = c_le - ce
        tails = g[0] / m + g[-1] / m
        # Inner cells (u_{k-1}, u_k), k = 1..d-1.
        width = np.diff(u)
        r_in, c_left, c_right = r_le[:-1], c_le[:-1], c_lt[1:]
        f_ref = r_in / n
        f_left, f_right = c_left / m, c_right / m
        signed = (f_left - f_ref) * width + g[1:-1] / m  # int (F_cur - R) over the cell
        cells = np.abs(signed)
        # F_cur rises across R inside the cell (integers: no rounding in the test).
        change = (c_left * n < r_in * m) & (r_in * m < c_right * n)
        w_lo = float(tails + cells.sum())
        w_hi = w_lo
        if change.any():
            top = np.maximum(np.abs(f_ref - f_left), np.abs(f_right - f_ref)) * width
            w_hi = w_lo + float(np.maximum(top[change] - cells[change], 0.0).sum())
        out[:, j] = w_lo, w_hi
    return out[0], out[1]


# -- the reference's first pass ------------------------------------------------------


def _hash(values: FloatArray) -> NDArray[np.uint64]:
    """splitmix64 of the float bits: a fixed pseudo-random key per value."""
    z = np.ascontiguousarray(values + 0.0).view(np.uint64)  # + 0.0: -0.0 becomes 0.0
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    out: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


@attrs.frozen(eq=False)
class _Sample:
    """Bottom-k distinct values of one column by hash, with exact counts."""

    values: FloatArray  # sorted ascending
    counts: IntArray
    size: int

    @classmethod
    def of(cls, values: FloatArray, counts: IntArray, size: int) -> _Sample:
        if len(values) > size:
            keys = _hash(values)
            keep = np.sort(np.argpartition(keys, size - 1)[:size])
            values, counts = values[keep], counts[keep]
        return cls(values, counts, size)

    def merge(self, other: _Sample) -> _Sample:
        both = np.concatenate([self.values, other.values])
        uniq, inverse = np.unique(both, return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([self.counts, other.counts]))
        return _Sample.of(uniq, counts.astype(np.int64), self.size)


@attrs.frozen(eq=False)
class _Moments:
    """Count, mean and centred sum of squares (Chan et al.'s parallel merge)."""

    n: IntArray
    mean: FloatArray
    m2: FloatArray

    @classmethod
    def of(cls, values: FloatArray) -> _Moments:
        valid = ~np.isnan(values)
        n = valid.sum(axis=0).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(valid, values, 0.0).sum(axis=0) / n
            centred = np.where(valid, values - mean, 0.0)
        mean = np.where(n > 0, mean, 0.0)
        return cls(n, mean, (centred * centred).sum(axis=0))

    def merge(self, other: _Moments) -> _Moments:
        n = self.n + other.n
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = other.mean - self.mean
            mean = np.where(n > 0, self.mean + delta * other.n / n, 0.0)
            m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        return _Moments(n, mean, np.where(n > 0, m2, 0.0))

    @property
    def std(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = np.sqrt(self.m2 / self.n)
        return out


@attrs.frozen(eq=False)
class RefSummary:
    """What the first pass over the reference learns, mergeable in order.

    ``values`` holds the candidate numeric columns, ``(n_rows, k)`` in row
    order (sorted once at the end, exactly like a pandas reference, so even
    the order of ``-0.0`` and ``0.0`` matches), while the rows seen stay
    within ``max_sorted``; after, it is None and ``samples`` (one
    :class:`_Sample` per candidate numeric column) stand in.
    """

    meta: pd.DataFrame  # the first piece's columns and dtypes, no rows
    n_rows: int
    numeric: tuple[str, ...]  # candidate numeric columns (numeric dtype)
    values: FloatArray | None
    samples: tuple[_Sample, ...] | None
    moments: _Moments
    low: FloatArray
    high: FloatArray
    missing: dict[str, int]  # isna per column
    missing_numeric: IntArray  # isna or inf, per candidate numeric column
    categories: dict[str, tuple[tuple[Any, ...], IntArray] | None]  # None: too many
    max_sorted: int
    max_categories: int
    capped: frozenset[str]  # integer columns whose categories stop at max_categories + 1


@attrs.frozen(eq=False)
class RefConfig:
    """The detector settings the reference pass needs (small: pickled to every worker)."""

    categorical: tuple[str, ...]
    numerical: tuple[str, ...]
    max_categories: int
    max_sorted: int
    raise_on_missing: bool


def summarise_reference(piece: pd.DataFrame, config: RefConfig) -> RefSummary:
    """Summarise one piece of the reference (runs on the workers)."""
    from pandas.api import types

    from mlkit.drift._encode import CategoryEncoder, as_frame, numeric_matrix

    piece = as_frame(piece, name="reference")
    if config.raise_on_missing:
        from mlkit.drift._detector import _raise_on_missing

        _raise_on_missing(piece, list(piece.columns), "reference")
    numeric: list[str] = []
    cat_candidates: list[str] = []
    capped: set[str] = set()
    for name in piece.columns:
        dtype = piece[name].dtype
        is_num = types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype)
        if name in config.numerical or (
            is_num and name not in config.categorical and not types.is_complex_dtype(dtype)
        ):
            numeric.append(name)
        if name in config.categorical or (
            name not in config.numerical and not types.is_float_dtype(dtype)
        ):
            cat_candidates.append(name)
            if types.is_integer_dtype(dtype) and name not in config.categorical:
                capped.add(name)
    values, _ = numeric_matrix(piece, numeric)
    categories: dict[str, tuple[tuple[Any, ...], IntArray] | None] = {}
    encoder = CategoryEncoder.learn(piece, cat_candidates)
    counts, _ = encoder.counts(encoder.codes(piece, cat_candidates))
    for position, name in enumerate(cat_candidates):
        cats = encoder.categories[position]
        if name in capped and len(cats) > config.max_categories:
            categories[name] = None
        else:
            categories[name] = (tuple(cats), counts[position, : len(cats)].copy())
    with np.errstate(invalid="ignore"):
        low = np.nanmin(values, axis=0, initial=np.inf)
        high = np.nanmax(values, axis=0, initial=-np.inf)
    summary = RefSummary(
        meta=piece.iloc[:0],
        n_rows=len(piece),
        numeric=tuple(numeric),
        values=values,
        samples=None,
        moments=_Moments.of(values),
        low=low,
        high=high,
        missing={str(c): int(n) for c, n in piece.isna().sum().items()},
        missing_numeric=np.isnan(values).sum(axis=0).astype(np.int64),
        categories=categories,
        max_sorted=config.max_sorted,
        max_categories=config.max_categories,
        capped=frozenset(capped),
    )
    return _maybe_sample(summary)


def _maybe_sample(summary: RefSummary) -> RefSummary:
    if summary.values is None or summary.n_rows <= summary.max_sorted:
        return summary
    return attrs.evolve(
        summary, values=None, samples=_samples_of(summary.values, summary.max_sorted)
    )


def _samples_of(values: FloatArray, max_sorted: int) -> tuple[_Sample, ...]:
    size = min(SAMPLE_SIZE, max_sorted)
    columns = sort_columns(values)
    out = []
    for j in range(columns.n_columns):
        vals = columns.values[j, : columns.n_valid[j]]
        uniq, counts = np.unique(vals, return_counts=True)
        out.append(_Sample.of(uniq, counts.astype(np.int64), size))
    return tuple(out)


def merge_reference(a: RefSummary, b: RefSummary) -> RefSummary:
    """Merge two reference summaries (``a`` before ``b``)."""
    from mlkit.errors import DataError

    if list(a.meta.columns) != list(b.meta.columns):
        raise DataError(
            "reference pieces have different columns: "
            f"{list(a.meta.columns)[:10]} then {list(b.meta.columns)[:10]}",
            value=list(b.meta.columns)[:10],
            expected=f"the columns {list(a.meta.columns)[:10]} in every piece",
        )
    if a.numeric != b.numeric:
        raise DataError(
            f"reference pieces disagree on the numeric columns: {a.numeric} then {b.numeric}",
            value=b.numeric,
            expected=str(a.numeric),
        )
    categories: dict[str, tuple[tuple[Any, ...], IntArray] | None] = {}
    for name, first in a.categories.items():
        second = b.categories.get(name)
        if first is None or second is None:
            categories[name] = None
            continue
        order = {v: i for i, v in enumerate(first[0])}
        cats = list(first[0])
        for value in second[0]:
            if value not in order:
                order[value] = len(cats)
                cats.append(value)
        if name in a.capped and len(cats) > a.max_categories:
            categories[name] = None
            continue
        counts = np.zeros(len(cats), dtype=np.int64)
        counts[: len(first[1])] += first[1]
        counts[[order[v] for v in second[0]]] += second[1]
        categories[name] = (tuple(cats), counts)
    n_rows = a.n_rows + b.n_rows
    if a.values is not None and b.values is not None and n_rows <= a.max_sorted:
        merged_values: FloatArray | None = np.concatenate([a.values, b.values], axis=0)
        samples = None
    else:
        sa = a.samples if a.samples is not None else _samples_of(_need(a.values), a.max_sorted)
        sb = b.samples if b.samples is not None else _samples_of(_need(b.values), a.max_sorted)
        merged_values = None
        samples = tuple(x.merge(y) for x, y in zip(sa, sb, strict=True))
    return RefSummary(
        meta=a.meta,
        n_rows=n_rows,
        numeric=a.numeric,
        values=merged_values,
        samples=samples,
        moments=a.moments.merge(b.moments),
        low=np.minimum(a.low, b.low),
        high=np.maximum(a.high, b.high),
        missing={k: a.missing[k] + b.missing.get(k, 0) for k in a.missing},
        missing_numeric=a.missing_numeric + b.missing_numeric,
        categories=categories,
        max_sorted=a.max_sorted,
        max_categories=a.max_categories,
        capped=a.capped,
    )


def _need(values: FloatArray | None) -> FloatArray:
    assert values is not None
    return values


def sample_points(sample: _Sample, probs: FloatArray) -> FloatArray:
    """Weighted quantiles of a sample (inverse of its weighted ECDF): valid edges."""
    if len(sample.values) == 0:
        return np.full(len(probs), np.nan)
    cum = np.cumsum(sample.counts)
    at = np.searchsorted(cum, probs * cum[-1], side="left")
    out: FloatArray = sample.values[np.clip(at, 0, len(cum) - 1)]
    return out


# -- the reference's second pass (only above max_sorted) -----------------------------


@attrs.frozen(eq=False)
class ReferenceCounts:
    """Exact counts of a reference too large to hold sorted, on sampled edges.

    Attributes
    ----------
    ks_points, ks_offsets
        Per numeric column, the points KS is counted on (flat, with offsets).
    ks_below, ks_equal
        The reference's counts on them (see :func:`ks_count`).
    bin_counts, grid_counts
        The reference's counts on ``edges`` and ``grid``.
    """

    ks_points: FloatArray
    ks_offsets: IntArray
    ks_below: IntArray
    ks_equal: IntArray
    bin_counts: IntArray
    grid_counts: IntArray

    def merge(self, other: ReferenceCounts) -> ReferenceCounts:
        """Add the counts of ``other`` (same points)."""
        return attrs.evolve(
            self,
            ks_below=self.ks_below + other.ks_below,
            ks_equal=self.ks_equal + other.ks_equal,
            bin_counts=self.bin_counts + other.bin_counts,
            grid_counts=self.grid_counts + other.grid_counts,
        )


def count_reference(
    piece: pd.DataFrame,
    numeric: tuple[str, ...],
    points: FloatArray,
    offsets: IntArray,
    edges: FloatArray,
    grid: FloatArray,
) -> ReferenceCounts:
    """Count one piece of the reference on the sampled points and edges."""
    from mlkit.drift._binned import bin_counts
    from mlkit.drift._encode import as_frame, numeric_matrix

    piece = as_frame(piece, name="reference")
    values, _ = numeric_matrix(piece, numeric)
    below, equal = ks_count(values, points, offsets)
    return ReferenceCounts(
        ks_points=points,
        ks_offsets=offsets,
        ks_below=below,
        ks_equal=equal,
        bin_counts=bin_counts(values, edges),
        grid_counts=bin_counts(values, grid),
    )
