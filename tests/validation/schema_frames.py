"""Hypothesis strategies for reference frames, and the bad copies schemas must reject.

Shared by test_infer.py and test_io.py. Frames mix pandas 3 dtypes: "str"
(StringDtype with NaN), object columns of str, nullable Int64 and boolean,
categoricals, naive and tz-aware datetimes, timedeltas, bools, and ints and
floats of tiny and huge magnitudes, with missing values where the dtype
allows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from hypothesis import strategies as st

KINDS = (
    "int",
    "float",
    "str",
    "object_str",
    "Int64",
    "boolean",
    "bool",
    "category",
    "datetime",
    "datetime_tz",
    "timedelta",
)
NUMERIC_KINDS = ("int", "float", "Int64", "datetime", "datetime_tz", "timedelta")
CATEGORY_KINDS = ("str", "object_str", "category", "boolean", "bool")

UNSEEN = "\u2603 unseen"  # outside the alphabet the frames draw from
_LETTERS = st.text(alphabet="abcdxyz", min_size=0, max_size=3)
_INT64 = np.iinfo(np.int64)
_SECONDS_2000 = 946_684_800
_SECONDS_2100 = 4_102_444_800


def _maybe_missing(values: st.SearchStrategy[Any], nulls: bool) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values) if nulls else values


def _floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(-10, 10),
        st.floats(-1e-300, 1e-300),  # subnormals included
        st.floats(-1e300, 1e300),
        st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324]),
        st.sampled_from([np.inf, -np.inf]),
    )


def _ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(-10, 10),
        st.integers(0, 1000),
        st.integers(int(_INT64.min), int(_INT64.max)),
        st.sampled_from([int(_INT64.min), int(_INT64.max), 0]),
    )


@st.composite
def column(draw: st.DrawFn, kind: str, n: int) -> pd.Series:
    """One column of ``kind`` with ``n`` values."""
    nulls = draw(st.booleans())
    if kind == "int":
        return pd.Series(draw(st.lists(_ints(), min_size=n, max_size=n)), dtype="int64")
    if kind == "float":
        values = draw(st.lists(_maybe_missing(_floats(), nulls), min_size=n, max_size=n))
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if kind == "Int64":
        ints = _maybe_missing(_ints(), nulls)
        return pd.Series(pd.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype="Int64"))
    if kind == "str":
        values = draw(st.lists(_maybe_missing(_LETTERS, nulls), min_size=n, max_size=n))
        return pd.Series(values, dtype="str")
    if kind == "object_str":
        values = draw(st.lists(_maybe_missing(_LETTERS, nulls), min_size=n, max_size=n))
        return pd.Series(values, dtype=object)
    if kind == "boolean":
        values = draw(st.lists(_maybe_missing(st.booleans(), nulls), min_size=n, max_size=n))
        return pd.Series(pd.array(values, dtype="boolean"))
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "category":
        values = draw(st.lists(_maybe_missing(_LETTERS, nulls), min_size=n, max_size=n))
        return pd.Series(pd.Categorical(values))
    if kind in ("datetime", "datetime_tz"):
        seconds = st.one_of(
            st.integers(_SECONDS_2000, _SECONDS_2100), st.integers(-1_000_000, 1_000_000)
        )
        values = draw(st.lists(_maybe_missing(seconds, nulls), min_size=n, max_size=n))
        stamps = pd.Series(pd.to_datetime(pd.array(values, dtype="Int64"), unit="s"))
        if kind == "datetime_tz":
            zone = draw(st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]))
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
        return stamps
    if kind == "timedelta":
        millis = st.integers(-(10**12), 10**12)
        values = draw(st.lists(_maybe_missing(millis, nulls), min_size=n, max_size=n))
        return pd.Series(pd.to_timedelta(pd.array(values, dtype="Int64"), unit="ms"))
    raise AssertionError(kind)


@st.composite
def reference_frames(
    draw: st.DrawFn, kinds: tuple[str, ...] = KINDS, max_rows: int = 20
) -> pd.DataFrame:
    """A frame of 1 to 6 columns of the given kinds, sometimes with a string index."""
    n = draw(st.integers(1, max_rows))
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=6))
    frame = pd.DataFrame({f"{kind}_{i}": draw(column(kind, n)) for i, kind in enumerate(chosen)})
    if draw(st.booleans()):
        frame.index = pd.Index([f"row{i}" for i in range(n)], name="row_id")
    return frame


# --- what validation says -------------------------------------------------------


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> set[tuple[Any, str]]:
    """(column, check) pairs pandera reports, each check by its bare name."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return {
            (column, str(check).split("(")[0])
            for column, check in zip(cases["column"], cases["check"], strict=True)
        }
    return set()


def failure_table(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[str, ...]]:
    """Every failure case pandera reports, as sorted strings, for comparing two schemas."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["schema_context", "column", "check", "failure_case", "index"]]
        return sorted(tuple(str(value) for value in row) for row in cases.itertuples(index=False))
    return []


# --- bad copies ---------------------------------------------------------------------


def _in_range(schema: pa.DataFrameSchema, name: Any) -> pa.Check | None:
    return next((c for c in schema.columns[name].checks if c.name == "in_range"), None)


def _beyond(series: pd.Series, check: pa.Check) -> Any:
    """A value of the column's dtype outside the check's range, or None if none exists."""
    lo, hi = check.statistics["min_value"], check.statistics["max_value"]
    kind = series.dtype
    if pd.api.types.is_integer_dtype(kind):
        if hi < _INT64.max:
            return hi + 1
        return lo - 1 if lo > _INT64.min else None
    if pd.api.types.is_float_dtype(kind):
        if np.isfinite(hi):
            return hi + max(abs(hi), 1.0)  # may overflow to inf, which is beyond too
        return lo - max(abs(lo), 1.0) if np.isfinite(lo) else None
    # Whole seconds: the column may hold only microseconds, the bounds nanoseconds.
    step = pd.Timedelta(days=1) if pd.api.types.is_datetime64_any_dtype(kind) else pd.Timedelta(1)
    for candidate in (lambda: (hi + step).ceil("s"), lambda: (lo - step).floor("s")):
        try:
            return candidate()
        except (OverflowError, ValueError):
            continue
    return None


def _set_first(frame: pd.DataFrame, name: Any, value: Any) -> pd.DataFrame:
    bad = frame.copy()
    bad.iloc[0, bad.columns.get_loc(name)] = value
    return bad


def out_of_range(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    """For each column with a range, a copy with one value past it."""
    found = {}
    for name in frame.columns:
        check = _in_range(schema, name)
        value = None if check is None else _beyond(frame[name], check)
        if value is not None:
            found[name] = _set_first(frame, name, value)
    return found


def unseen_category(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    """For each column with allowed values, a copy with one value not among them."""
    found = {}
    for name in frame.columns:
        check = next((c for c in schema.columns[name].checks if c.name == "isin"), None)
        if check is None:
            continue
        series = frame[name]
        if pd.api.types.is_bool_dtype(series.dtype):
            (seen,) = check.statistics["allowed_values"]
            found[name] = _set_first(frame, name, not seen)
        elif isinstance(series.dtype, pd.CategoricalDtype):
            bad = frame.copy()
            bad[name] = bad[name].cat.add_categories([UNSEEN])
            found[name] = _set_first(bad, name, UNSEEN)
        else:
            found[name] = _set_first(frame, name, UNSEEN)
    return found


def unexpected_null(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    """For each non-nullable column whose dtype can hold a missing value, a copy with one."""
    found = {}
    for name in frame.columns:
        kind = frame[name].dtype
        holds_missing = not (
            pd.api.types.is_integer_dtype(kind) and isinstance(kind, np.dtype)
        ) and not (pd.api.types.is_bool_dtype(kind) and isinstance(kind, np.dtype))
        if holds_missing and not schema.columns[name].nullable:
            found[name] = _set_first(frame, name, None)
    return found


def other_dtype(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> dict[Any, pd.DataFrame]:
    """For each column, a copy where it holds values of another kind altogether."""
    found = {}
    n = len(frame)
    for name in frame.columns:
        kind = frame[name].dtype
        textual = isinstance(kind, (pd.StringDtype, pd.CategoricalDtype)) or kind is np.dtype(
            object
        )
        replacement: Callable[[], pd.Series] = (
            (lambda: pd.Series(np.arange(n), index=frame.index))
            if textual
            else (lambda: pd.Series(["x"] * n, index=frame.index, dtype="str"))
        )
        bad = frame.copy()
        bad[name] = replacement()
        found[name] = bad
    return found
