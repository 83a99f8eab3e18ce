"""From data frames to the detector's arrays: column kinds, numeric matrices, category codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlkit.drift._common import is_number
from mlkit.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CategoryEncoder",
    "as_frame",
    "infer_kinds",
    "numeric_matrix",
    "with_columns",
]

NUMERIC = "numeric"
CATEGORICAL = "categorical"
UNSUPPORTED = "unsupported"

#: Past this many (columns x distinct values) the category lookup table is
#: built per column instead of as one dense table.
_DENSE_TABLE_LIMIT = 20_000_000


def as_frame(data: Any, *, name: str) -> pd.DataFrame:
    """Return ``data`` as a DataFrame with string column names, or raise DataError."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray) and data.ndim == 2:
        frame = pd.DataFrame(data, columns=[str(j) for j in range(data.shape[1])])
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    else:
        raise DataError(
            f"{name} must be a pandas DataFrame (or a 2-D array or dict of columns), "
            f"got {type(data).__name__}",
            value=type(data).__name__,
            expected="a pandas DataFrame",
        )
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise DataError(
            f"{name} has duplicated column name {duplicated[0]!r}",
            column=str(duplicated[0]),
            value=str(duplicated[0]),
            expected="unique column names",
        )
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    return frame


def infer_kinds(
    frame: pd.DataFrame,
    *,
    categorical: Sequence[str] = (),
    numerical: Sequence[str] = (),
    max_categories: int = 20,
    distinct: Mapping[str, int] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Decide each column's kind; return the kinds and the reasons for unsupported ones.

    The rule: booleans, strings, objects and pandas categoricals are
    categorical; floats are numeric; integers are categorical when they hold at
    most ``max_categories`` distinct values (codes, ratings, counts of a few
    values) and numeric otherwise; datetimes and timedeltas are not tested.
    ``categorical`` and ``numerical`` override the rule by name. ``distinct``
    gives integer columns' distinct counts when ``frame`` holds only the
    dtypes (a reference summarised piece by piece).
    """
    import pandas as pd
    from pandas.api import types

    for label, names in (("categorical", categorical), ("numerical", numerical)):
        unknown = [c for c in names if c not in frame.columns]
        if unknown:
            raise DataError(
                f"{label}= names column {unknown[0]!r}, which the reference does not have",
                column=unknown[0],
                value=unknown[0],
                expected=f"one of {list(frame.columns)[:10]}",
            )
    both = set(categorical) & set(numerical)
    if both:
        name = sorted(both)[0]
        raise DataError(
            f"column {name!r} is listed as both categorical and numerical",
            column=name,
            value=name,
            expected="each column in at most one of categorical= and numerical=",
        )
    kinds: list[str] = []
    reasons: dict[str, str] = {}
    for name in frame.columns:  # one dtype check per column, once at fit
        series = frame[name]
        dtype = series.dtype
        if name in categorical:
            kinds.append(CATEGORICAL)
        elif name in numerical:
            if not (types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype)):
                raise DataError(
                    f"column {name!r} is listed as numerical but has dtype {dtype}",
                    column=name,
                    value=str(dtype),
                    expected="a numeric dtype",
                )
            kinds.append(NUMERIC)
        elif types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
            kinds.append(UNSUPPORTED)
            reasons[name] = f"dtype {dtype} is not tested for drift; derive numeric features"
        elif types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            kinds.append(CATEGORICAL)
        elif types.is_integer_dtype(dtype):
            n_distinct = (
                distinct[name]
                if distinct is not None and name in distinct
                else series.nunique(dropna=True)
            )
            few = n_distinct <= max_categories
            kinds.append(CATEGORICAL if few else NUMERIC)
        elif types.is_float_dtype(dtype):
            kinds.append(NUMERIC)
        elif types.is_object_dtype(dtype) or types.is_string_dtype(dtype):
            kinds.append(CATEGORICAL)
        else:
            kinds.append(UNSUPPORTED)
            reasons[name] = f"dtype {dtype} is not supported"
    return kinds, reasons


def numeric_matrix(
    frame: pd.DataFrame, names: Sequence[str]
) -> tuple[NDArray[np.float64], dict[str, str]]:
    """Return the named columns as one float64 ``(n_rows, k)`` array.

    Columns that are not numeric are returned as all-NaN with a reason, so
    the other columns are still tested. Infinite values become NaN: they
    count as missing (the missing-rate test sees them) rather than break the
    distances, where ``inf - inf`` has no value.
    """
    values, reasons = _numeric_matrix(frame, names)
    infinite = np.isinf(values)
    if infinite.any():  # a new array: ``values`` may be a view of the caller's frame
        values = np.where(infinite, np.nan, values)
    return values, reasons


def _numeric_matrix(
    frame: pd.DataFrame, names: Sequence[str]
) -> tuple[NDArray[np.float64], dict[str, str]]:
    from pandas.api import types

    if not names:
        return np.empty((len(frame), 0)), {}
    # Selecting columns copies in pandas; skip it when the frame already is them.
    sub = frame if list(frame.columns) == list(names) else frame[list(names)]
    try:
        return sub.to_numpy(dtype=np.float64, na_value=np.nan), {}
    except (TypeError, ValueError):
        pass
    # Error path only: find which columns are not numeric and say why.
    out = np.full((len(frame), len(names)), np.nan)
    reasons: dict[str, str] = {}
    for j, name in enumerate(names):
        series = sub[name]
        if types.is_bool_dtype(series.dtype) or not types.is_numeric_dtype(series.dtype):
            try:
                out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
                continue
            except (TypeError, ValueError):
                bad = next((v for v in series if not is_number(v)), None)
                reasons[name] = (
                    f"expected numeric values like the reference, got dtype {series.dtype} "
                    f"(value {bad!r})"
                )
                continue
        out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return out, reasons


class CategoryEncoder:
    """Maps the values of categorical columns to per-column reference category codes.

    Code ``c >= 0`` is the reference category ``categories[j][c]``; ``-1`` is
    missing; ``-2`` is a category the reference never saw. All columns are
    encoded with one factorisation of their stacked values, not column by
    column.
    """

    MISSING = -1
    UNSEEN = -2

    def __init__(self, categories: Sequence[Sequence[Any]]) -> None:
        self.categories = [tuple(c) for c in categories]
        self.width = max((len(c) for c in self.categories), default=0)

    @classmethod
    def learn(cls, frame: pd.DataFrame, names: Sequence[str]) -> CategoryEncoder:
        """Learn each column's categories (order of first appearance, missing excluded)."""
        import pandas as pd

        categories = []
        for name in names:  # once at fit
            uniques = pd.unique(frame[name].dropna().to_numpy(dtype=object))
            categories.append(tuple(v.item() if isinstance(v, np.generic) else v for v in uniques))
        return cls(categories)

    def codes(self, frame: pd.DataFrame, names: Sequence[str]) -> NDArray[np.int64]:
        """Return ``(n_rows, k)`` codes of the named columns of ``frame``."""
        import pandas as pd

        n, k = len(frame), len(names)
        if k == 0 or n == 0:
            return np.empty((n, k), dtype=np.int64)
        values = frame[list(names)].to_numpy(dtype=object).ravel()
        missing = pd.isna(values)
        ref_flat = np.array([v for cats in self.categories for v in cats], dtype=object)
        ref_col = np.repeat(np.arange(k), [len(c) for c in self.categories])
        ref_local = np.concatenate(
            [np.arange(len(c), dtype=np.int64) for c in self.categories]
            or [np.empty(0, dtype=np.int64)]
        )
        codes, uniques = pd.factorize(np.concatenate([ref_flat, values]), use_na_sentinel=True)
        ref_codes, cur_codes = codes[: len(ref_flat)], codes[len(ref_flat) :]
        n_unique = len(uniques)
        if k * max(n_unique, 1) <= _DENSE_TABLE_LIMIT:
            table = np.full((k, max(n_unique, 1)), self.UNSEEN, dtype=np.int64)
            table[ref_col, ref_codes] = ref_local
            col = np.tile(np.arange(k), n)
            out = table[col, np.maximum(cur_codes, 0)]
        else:  # very many distinct values: a sorted lookup of combined keys instead
            ref_keys = ref_col * n_unique + ref_codes
            order = np.argsort(ref_keys)
            keys = np.tile(np.arange(k), n) * n_unique + np.maximum(cur_codes, 0)
            pos = np.searchsorted(ref_keys[order], keys)
            pos = np.minimum(pos, len(order) - 1)
            hit = ref_keys[order][pos] == keys
            out = np.where(hit, ref_local[order][pos], self.UNSEEN)
        out[missing] = self.MISSING
        return out.reshape(n, k)

    def counts(
        self, codes: NDArray[np.int64], groups: NDArray[np.int64] | None = None, n_groups: int = 1
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Count codes per (group, column).

        Returns
        -------
        counts
            ``(n_groups * k, width + 1)``: reference categories then one slot for unseen.
        missing
            ``(n_groups * k,)`` missing values.
        """
        n, k = codes.shape
        slots = self.width + 1
        group = np.zeros(n, dtype=np.int64) if groups is None else groups
        row = (group[:, None] * k + np.arange(k)[None, :]).ravel()
        flat = codes.ravel()
        slot = np.where(flat == self.UNSEEN, self.width, flat)
        present = flat != self.MISSING
        counts = np.bincount(
            row[present] * slots + slot[present], minlength=n_groups * k * slots
        ).reshape(n_groups * k, slots)
        missing = np.bincount(row[~present], minlength=n_groups * k)
        return counts.astype(np.int64), missing.astype(np.int64)


def with_columns(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with every named column; absent ones are added all-missing."""
    absent = [n for n in names if n not in frame.columns]
    if not absent:
        return frame
    import pandas as pd

    filler = pd.DataFrame({n: np.full(len(frame), np.nan) for n in absent}, index=frame.index)
    out: pd.DataFrame = pd.concat([frame, filler], axis=1)
    return out
