"""Shared pieces of the drift kernels: input checks, NaN policy, sorted columns.

Kernels work on ``(n_rows, n_columns)`` float arrays and compute every column
in one vectorised pass. Internally columns are held transposed and contiguous,
``(n_columns, n_rows)``, because sorting and scanning along the last axis is
about twice as fast as along a strided first axis. NaN sorts last, so column
``j`` of a :class:`SortedColumns` holds its ``n_valid[j]`` finite-or-infinite
values first, in order, then its NaNs: columns with different NaN counts share
one array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlkit.errors import ConfigurationError, DataError

__all__ = [
    "NanPolicy",
    "SortedColumns",
    "as_2d",
    "as_2d_float",
    "check_choice",
    "check_nan_policy",
    "check_pair",
    "column_names",
    "is_number",
    "raise_on_nan",
    "rows_searchsorted",
    "sort_columns",
]

NanPolicy = Literal["raise", "omit", "propagate"]
_NAN_POLICIES = ("raise", "omit", "propagate")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def check_choice(value: Any, allowed: Sequence[Any], what: str) -> None:
    """Raise :class:`ConfigurationError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ConfigurationError(
            f"{what} must be one of {tuple(allowed)}, got {value!r}",
            value=value,
            expected=" | ".join(map(str, allowed)),
        )


def check_nan_policy(nan_policy: str) -> NanPolicy:
    """Return ``nan_policy`` if valid, else raise :class:`ConfigurationError`."""
    if nan_policy not in _NAN_POLICIES:
        raise ConfigurationError(
            f"nan_policy must be one of {_NAN_POLICIES}, got {nan_policy!r}",
            value=nan_policy,
            expected=" | ".join(_NAN_POLICIES),
        )
    return nan_policy  # type: ignore[return-value]


def column_names(n_columns: int, columns: Sequence[str] | None) -> list[str]:
    """Return the column names used in messages: the given ones or ``column 0``, ..."""
    if columns is None:
        return [f"column {j}" for j in range(n_columns)]
    names = [str(c) for c in columns]
    if len(names) != n_columns:
        raise ConfigurationError(
            f"columns has {len(names)} names for {n_columns} data columns",
            value=len(names),
            expected=f"{n_columns} names",
        )
    return names


def as_2d(arr: NDArray[Any], *, name: str) -> NDArray[Any]:
    """Return ``arr`` as ``(n_rows, n_columns)``: a 1-D array is one column."""
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(
            f"{name} must be 2-D (n_rows, n_columns), got an array of shape {arr.shape}",
            value=arr.shape,
            expected="a 2-D array",
        )
    return arr


def check_pair(
    reference: NDArray[Any],
    current: NDArray[Any],
    columns: Sequence[str] | None,
    *,
    allow_empty: bool = False,
) -> list[str]:
    """Check two 2-D samples have the same columns (and rows); return the column names."""
    if reference.shape[1] != current.shape[1]:
        raise DataError(
            f"reference has {reference.shape[1]} columns but current has {current.shape[1]}",
            value=current.shape[1],
            expected=f"{reference.shape[1]} columns, in the same order",
        )
    if not allow_empty:
        for label, arr in (("reference", reference), ("current", current)):
            if arr.shape[0] == 0:
                raise DataError(f"{label} has no rows", value=0, expected="at least 1 row")
    return column_names(reference.shape[1], columns)


def raise_on_nan(
    ref_missing: NDArray[np.integer[Any]],
    cur_missing: NDArray[np.integer[Any]],
    names: Sequence[str],
) -> None:
    """Raise the ``nan_policy="raise"`` error for the first column holding a NaN, if any."""
    has_nan = (ref_missing > 0) | (cur_missing > 0)
    if not has_nan.any():
        return
    j = int(np.argmax(has_nan))
    where = "reference" if ref_missing[j] else "current"
    raise DataError(
        f"{where} column {names[j]!r} holds NaN; pass nan_policy='omit' to drop missing "
        "values or 'propagate' to return NaN for such columns",
        column=names[j],
        value=float("nan"),
        expected="no missing values under nan_policy='raise'",
    )


def as_2d_float(data: ArrayLike, *, name: str, columns: Sequence[str] | None = None) -> FloatArray:
    """Return ``data`` as a 2-D float64 array of shape ``(n_rows, n_columns)``.

    A 1-D input is one column. Non-numeric input raises :class:`DataError`
    naming the first offending column and value.
    """
    arr = as_2d(np.asarray(data), name=name)
    if arr.dtype.kind in "fiub":
        return np.asarray(arr, dtype=np.float64)
    names = column_names(arr.shape[1], columns)
    for j in range(arr.shape[1]):  # error path only: find the column to name
        try:
            np.asarray(arr[:, j], dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(v for v in arr[:, j] if not is_number(v))
            bad = bad.item() if isinstance(bad, np.generic) else bad
            raise DataError(
                f"{name} {names[j]!r}: value {bad!r} is not numeric; "
                "a numeric test needs numbers (encode categories and use a categorical test)",
                column=names[j],
                value=bad,
                expected="a number",
            ) from None
    return np.asarray(arr, dtype=np.float64)


def is_number(value: object) -> bool:
    """Return whether ``value`` converts to a float."""
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


@attrs.frozen(eq=False)
class SortedColumns:
    """Columns sorted once, transposed and contiguous, NaN last.

    Attributes
    ----------
    values
        ``(n_columns, n_rows)`` float64; row ``j`` is column ``j`` sorted
        ascending with its NaNs at the end.
    n_valid
        ``(n_columns,)`` int64: the number of non-NaN values of each column.
    """

    values: FloatArray
    n_valid: IntArray

    @property
    def n_columns(self) -> int:
        """The number of columns."""
        return int(self.values.shape[0])

    @property
    def n_rows(self) -> int:
        """The number of rows, NaNs included."""
        return int(self.values.shape[1])

    @property
    def n_missing(self) -> IntArray:
        """``(n_columns,)``: the number of NaNs in each column."""
        return self.n_rows - self.n_valid


def sort_columns(data: FloatArray) -> SortedColumns:
    """Sort every column of a ``(n_rows, n_columns)`` array in one call.

    The transposed copy is sorted in place along its contiguous last axis.
    """
    # Always a copy: the in-place sort must never touch the caller's array.
    values = np.array(data.T, dtype=np.float64, order="C", copy=True)
    values.sort(axis=1)
    n_valid = values.shape[1] - np.isnan(values).sum(axis=1, dtype=np.int64)
    return SortedColumns(values, n_valid.astype(np.int64))


def rows_searchsorted(
    sorted_rows: FloatArray,
    n_valid: IntArray,
    keys: FloatArray,
    side: Literal["left", "right"] = "left",
) -> IntArray:
    """Binary-search each row of ``keys`` in the matching row of ``sorted_rows``.

    Row ``j`` of the result equals
    ``np.searchsorted(sorted_rows[j, :n_valid[j]], keys[j], side)`` for every
    row at once. The search runs in flat index space, one vectorised step per
    halving (``log2(n_rows)`` steps), so rows never mix whatever their scales.

    Parameters
    ----------
    sorted_rows
        ``(n_columns, n)``, each row ascending over its first ``n_valid`` entries.
    n_valid
        ``(n_columns,)`` number of valid entries per row.
    keys
        ``(n_columns, m)`` values to locate (NaN keys give ``n_valid``).
    side
        As in :func:`numpy.searchsorted`.
    """
    k, n = sorted_rows.shape
    m = keys.shape[1]
    flat = sorted_rows.reshape(-1)
    base = (np.arange(k, dtype=np.int64) * n)[:, None]
    lo = np.zeros((k, m), dtype=np.int64)
    hi = np.broadcast_to(n_valid[:, None], (k, m)).astype(np.int64)
    steps = int(n).bit_length() + 1
    for _ in range(steps):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) >> 1
        probe = flat[base + np.minimum(mid, n - 1)] if n else np.zeros((k, m))
        go_right = (probe <= keys) if side == "right" else (probe < keys)
        go_right &= active
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(go_right | ~active, hi, mid)
    nan_keys = np.isnan(keys)
    if nan_keys.any():
        lo = np.where(nan_keys, n_valid[:, None], lo)
    return lo
