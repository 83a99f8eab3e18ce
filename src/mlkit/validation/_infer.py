"""Infer a pandera schema from reference data.

Unlike :func:`pandera.infer_schema`, the result does not coerce (a column of
the wrong dtype is reported, not silently converted), widens ranges by a
margin so the next batch is not rejected for being one unit past the
reference, lists the allowed values of low-cardinality columns, and marks
identifier-like columns unique. Every check is one of pandera's built-in
checks (``in_range``, ``isin``) or one of mlkit's registered checks
(``mlkit_finite``, ``mlkit_integral``), so the schema serialises with every
check intact.
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine

from mlkit._frames import is_dask_frame
from mlkit.errors import ConfigurationError, DataError
from mlkit.validation._checks import mlkit_finite, mlkit_integral
from mlkit.validation._scale import is_chunks

__all__ = ["infer_schema"]

logger = logging.getLogger(__name__)

_NULLABLE = ("observed", "always", "never")
_UNIQUE = ("observed", "never")

#: Fewer rows than this say little about uniqueness: distinct values are then
#: likely a coincidence rather than an identifier.
MIN_ROWS_FOR_UNIQUE = 50


def _plain(value: Any) -> Any:
    """Turn a numpy scalar into the equivalent Python builtin, so schemas serialise cleanly."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_string_like(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.StringDtype):
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(value, str) for value in values)


def _dtype_of(series: pd.Series) -> Any:
    """Return the pandera dtype that accepts ``series`` without coercion."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # The values are checked by isin; pinning the categories in the dtype
        # would reject a batch whose categorical was built with another set.
        return pandas_engine.Category()
    if _is_string_like(series):
        # pandera's string dtype accepts pandas 3 "str", "string" and object
        # columns of str alike, and rejects an object column holding numbers.
        return pandas_engine.Engine.dtype(pd.StringDtype())
    try:
        return pandas_engine.Engine.dtype(series.dtype)
    except TypeError:
        logger.warning(
            "infer_schema: column %r has dtype %s, which pandera does not know; "
            "its dtype is not checked",
            series.name,
            series.dtype,
        )
        return None


def _integer_range(values: pd.Series, margin: float) -> tuple[int, int]:
    lo, hi = int(values.min()), int(values.max())
    # Python ints: no overflow for spans near the int64 limits.
    pad = math.ceil(margin * (abs(lo) if lo == hi else hi - lo))
    new_lo, new_hi = lo - pad, hi + pad
    if lo >= 0:
        new_lo = max(new_lo, 0)
    dtype = values.dtype.numpy_dtype if hasattr(values.dtype, "numpy_dtype") else values.dtype
    info = np.iinfo(dtype)
    return max(new_lo, int(info.min)), min(new_hi, int(info.max))


def _float_range(values: pd.Series, margin: float) -> tuple[float, float] | None:
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = array[np.isfinite(array)]
    has_pos_inf = bool(np.any(array == np.inf))
    has_neg_inf = bool(np.any(array == -np.inf))
    if finite.size == 0:
        if has_pos_inf and has_neg_inf:
            return None
        lo = hi = math.inf if has_pos_inf else -math.inf
        return lo, hi
    lo, hi = float(finite.min()), float(finite.max())
    span = abs(lo) if lo == hi else hi - lo  # may overflow to inf
    pad = margin * span if margin else 0.0  # 0 * inf would be NaN
    biggest = float(np.finfo(np.float64).max)
    new_lo, new_hi = lo - pad, hi + pad
    # A span near the float limits overflows to inf; clamp so the bound stays
    # a number (mlkit_finite, not in_range, is what rejects infinities).
    new_lo = max(new_lo, -biggest) if math.isfinite(lo) else new_lo
    new_hi = min(new_hi, biggest)
    if lo >= 0:
        new_lo = max(new_lo, 0.0)
    if has_neg_inf:
        new_lo = -math.inf
    if has_pos_inf:
        new_hi = math.inf
    return new_lo, new_hi


def _time_range(values: pd.Series, margin: float) -> tuple[Any, Any] | None:
    lo, hi = values.min(), values.max()
    zero = pd.Timedelta(0)
    if lo == hi:
        if isinstance(lo, pd.Timestamp):
            # One instant gives no scale for a margin, and an exact-match
            # range would reject every later snapshot date.
            return None
        pad = abs(lo) * margin
    else:
        pad = (hi - lo) * margin
    try:
        new_lo = lo - pad
    except (OverflowError, ValueError):
        new_lo = lo  # the margin would leave the representable range
    try:
        new_hi = hi + pad
    except (OverflowError, ValueError):
        new_hi = hi
    if isinstance(lo, pd.Timedelta) and lo >= zero:
        new_lo = max(new_lo, zero)
    return new_lo, new_hi


def _allowed_values(values: pd.Series) -> list[Any]:
    distinct = [_plain(value) for value in pd.unique(values)]
    try:
        return sorted(distinct)
    except TypeError:  # mixed types keep their order of appearance
        return distinct


def _column_checks(
    series: pd.Series, *, categorical_max: int, range_margin: float
) -> list[pa.Check]:
    values = series.dropna()
    if values.empty:
        return []
    kind = series.dtype
    if isinstance(kind, pd.CategoricalDtype) or _is_string_like(series):
        allowed = _allowed_values(values)
        return [pa.Check.isin(allowed)] if len(allowed) <= categorical_max else []
    if pd.api.types.is_bool_dtype(kind):
        # Both values seen: the dtype already says everything.
        allowed = _allowed_values(values)
        return [pa.Check.isin(allowed)] if len(allowed) == 1 else []
    if pd.api.types.is_integer_dtype(kind):
        lo, hi = _integer_range(values, range_margin)
        return [pa.Check.in_range(lo, hi)]
    if pd.api.types.is_float_dtype(kind):
        checks: list[pa.Check] = []
        bounds = _float_range(values, range_margin)
        if bounds is not None:
            checks.append(pa.Check.in_range(*bounds))
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = bool(np.isfinite(array).all())
        if finite:
            checks.append(mlkit_finite())
        # Whole numbers plus missing values: an integer count forced to float.
        if finite and len(values) < len(series) and bool((np.floor(array) == array).all()):
            checks.append(mlkit_integral())
        return checks
    if pd.api.types.is_datetime64_any_dtype(kind) or pd.api.types.is_timedelta64_dtype(kind):
        bounds_t = _time_range(values, range_margin)
        return [] if bounds_t is None else [pa.Check.in_range(*bounds_t)]
    return []


def _is_unique_candidate(series: pd.Series) -> bool:
    if len(series) < MIN_ROWS_FOR_UNIQUE or series.isna().any():
        return False
    kind = series.dtype
    identifier_like = (
        pd.api.types.is_integer_dtype(kind) and not pd.api.types.is_bool_dtype(kind)
    ) or _is_string_like(series)
    return identifier_like and not isinstance(kind, pd.CategoricalDtype) and series.is_unique


def _infer_index(index: pd.Index) -> pa.Index | pa.MultiIndex | None:
    if isinstance(index, pd.RangeIndex):
        return None
    levels = (
        [index.get_level_values(i) for i in range(index.nlevels)]
        if isinstance(index, pd.MultiIndex)
        else [index]
    )
    components = [
        pa.Index(
            _dtype_of(pd.Series(level, name=level.name)),
            nullable=bool(level.isna().any()),
            name=level.name,
        )
        for level in levels
    ]
    if len(components) == 1:
        return components[0]
    return pa.MultiIndex(components)


def _check_options(
    categorical_max: object, range_margin: object, nullable: object, unique: object, strict: object
) -> None:
    if (
        isinstance(categorical_max, bool)
        or not isinstance(categorical_max, numbers.Integral)
        or categorical_max < 0
    ):
        raise ConfigurationError(
            f"infer_schema: categorical_max must be an integer >= 0, got {categorical_max!r}",
            value=categorical_max,
            expected="an integer >= 0",
        )
    if (
        isinstance(range_margin, bool)
        or not isinstance(range_margin, numbers.Real)
        or not math.isfinite(range_margin)
        or range_margin < 0
    ):
        raise ConfigurationError(
            f"infer_schema: range_margin must be a finite number >= 0, got {range_margin!r}",
            value=range_margin,
            expected="a finite number >= 0",
        )
    if nullable not in _NULLABLE:
        raise ConfigurationError(
            f"infer_schema: nullable must be one of {list(_NULLABLE)}, got {nullable!r}",
            value=nullable,
            expected=" | ".join(_NULLABLE),
        )
    if unique not in _UNIQUE:
        raise ConfigurationError(
            f"infer_schema: unique must be one of {list(_UNIQUE)}, got {unique!r}",
            value=unique,
            expected=" | ".join(_UNIQUE),
        )
    if not isinstance(strict, bool):
        raise ConfigurationError(
            f"infer_schema: strict must be True or False, got {strict!r}",
            value=strict,
            expected="a bool",
        )


def _check_reference(reference_df: object) -> pd.DataFrame:
    if not isinstance(reference_df, pd.DataFrame):
        raise DataError(
            f"infer_schema: reference_df must be a pandas DataFrame, got "
            f"{type(reference_df).__name__}",
            value=type(reference_df).__name__,
            expected="a pandas DataFrame",
        )
    duplicated = reference_df.columns[reference_df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataError(
            f"infer_schema: reference_df has duplicate column names {duplicated}; "
            "a schema needs each column once",
            column=duplicated[0],
            value=duplicated,
            expected="unique column names",
        )
    if reference_df.shape[1] == 0:
        raise DataError(
            "infer_schema: reference_df has no columns",
            value=0,
            expected="at least one column",
        )
    if len(reference_df) == 0:
        raise DataError(
            "infer_schema: reference_df has no rows; nothing to learn dtypes, ranges or "
            "categories from",
            value=0,
            expected="at least one row",
        )
    return reference_df


def infer_schema(
    reference_df: Any,
    *,
    categorical_max: int = 20,
    range_margin: float = 0.1,
    nullable: Literal["observed", "always", "never"] = "observed",
    unique: Literal["observed", "never"] = "observed",
    strict: bool = True,
    coerce_floats: bool = True,
) -> pa.DataFrameSchema:
    """Learn a pandera schema from reference data.

    Parameters
    ----------
    reference_df
        The reference frame (training data, a trusted batch): a pandas
        frame, a ``dask.dataframe.DataFrame`` or an iterable of pandas
        chunks. A Dask frame or chunks give the same schema as the pandas
        frame holding the same rows, from statistics merged piece by piece
        (counts, bounds, up to ``categorical_max + 1`` distinct values; the
        uniqueness of an identifier-like column keeps its values while they
        are all distinct, so that one costs memory).
    categorical_max
        String, categorical and object-of-str columns with at most this many
        distinct values get ``Check.isin`` with the values seen.
    range_margin
        Numeric, datetime and timedelta columns get ``Check.in_range(lo, hi)``
        with ``lo = min - range_margin * (max - min)`` and
        ``hi = max + range_margin * (max - min)``.
    nullable
        ``"observed"``: a column may hold missing values iff the reference
        does; ``"always"``; ``"never"`` (then a reference with missing values
        fails its own schema).
    unique
        ``"observed"``: integer and string columns whose values are all
        distinct, with no missing value, in a reference of at least
        :data:`MIN_ROWS_FOR_UNIQUE` (50) rows are marked ``unique=True``
        (identifiers); ``"never"``.
    strict
        Reject columns the reference does not have.
    coerce_floats
        Float columns get ``coerce=True``, so integers sent for a float feature
        (``10`` in a JSON payload, an int64 column in a batch) are accepted as
        floats; values that cannot become floats (text) still fail, as
        ``coerce_dtype`` (critical). Other dtypes never coerce.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Apart from ``coerce_floats``, a column of another dtype is reported,
        never converted. Edit it like any pandera schema.

    Raises
    ------
    DataError
        If ``reference_df`` is not a DataFrame, has no rows or no columns, or
        has duplicate column names.
    ConfigurationError
        If an option is out of its range.

    Notes
    -----
    Rules, per column (missing values are ignored when computing them):

    - dtype: the column's own, except that an object column of strings is
      given pandera's string dtype (which also accepts pandas' ``str`` and
      ``string``) and a categorical column the plain ``category`` dtype (its
      values are checked by ``isin``). Naive datetimes accept any unit;
      tz-aware ones must match unit and time zone, as in pandera.
    - ranges: integer columns get integer bounds, rounded outwards and kept
      inside the dtype's limits; float columns float bounds kept finite
      (unless the reference holds infinities). A column whose values are all
      >= 0 never gets a negative lower bound. A constant column (max == min)
      gets a margin of ``range_margin * |value|`` on each side, so a column
      that is always 0 must stay 0. A constant datetime column gets no range
      (one instant gives no scale); datetime margins that would leave
      pandas' representable range are dropped on that side.
    - float columns with no infinity get ``mlkit_finite``; float columns with
      missing values whose other values are all whole numbers (an integer
      count forced to float) get ``mlkit_integral``.
    - bool columns get ``isin`` only when one value was seen.
    - index: a ``RangeIndex`` (any start or step) is not part of the schema;
      any other index gets its dtype, nullability and name (no value checks).

    Examples
    --------
    >>> import pandas as pd
    >>> reference = pd.DataFrame({"age": [23, 35, 61], "plan": ["free", "pro", "free"]})
    >>> schema = infer_schema(reference)
    >>> schema.columns["age"].checks
    [<Check in_range: in_range(19, 65)>]
    >>> schema.columns["plan"].checks
    [<Check isin: isin(['free', 'pro'])>]
    >>> _ = schema.validate(reference)
    """
    _check_options(categorical_max, range_margin, nullable, unique, strict)
    if not isinstance(reference_df, pd.DataFrame) and (
        is_dask_frame(reference_df) or is_chunks(reference_df)
    ):
        from mlkit.validation._scale import infer_schema_pieces

        return infer_schema_pieces(
            reference_df,
            categorical_max=int(categorical_max),
            range_margin=float(range_margin),
            nullable=nullable,
            unique=unique,
            strict=strict,
            coerce_floats=coerce_floats,
        )
    frame = _check_reference(reference_df)
    columns: dict[Any, pa.Column] = {}
    for name in frame.columns:
        series = frame[name]
        dtype = _dtype_of(series)
        has_nulls = bool(series.isna().any())
        columns[name] = pa.Column(
            dtype,
            checks=_column_checks(
                series, categorical_max=categorical_max, range_margin=float(range_margin)
            ),
            nullable={"observed": has_nulls, "always": True, "never": False}[nullable],
            unique=unique == "observed" and _is_unique_candidate(series),
            coerce=coerce_floats and pd.api.types.is_float_dtype(series.dtype),
            name=name,
        )
    schema = pa.DataFrameSchema(
        columns, index=_infer_index(frame.index), strict=strict, coerce=False
    )
    logger.debug("infer_schema: %d columns from %d rows", len(columns), len(frame))
    return schema
