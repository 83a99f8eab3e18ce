from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.errors import ConfigurationError, DataError
from mlkit.validation import infer_schema
from mlkit.validation._infer import MIN_ROWS_FOR_UNIQUE
from validation.schema_frames import (
    CATEGORY_KINDS,
    KINDS,
    NUMERIC_KINDS,
    failures,
    other_dtype,
    out_of_range,
    reference_frames,
    unexpected_null,
    unseen_category,
)


def _checks(schema: pa.DataFrameSchema, column: str) -> dict[str, dict[str, object]]:
    return {check.name: dict(check.statistics) for check in schema.columns[column].checks}


def _range(schema: pa.DataFrameSchema, column: str) -> tuple[object, object]:
    stats = _checks(schema, column)["in_range"]
    return stats["min_value"], stats["max_value"]


# --- properties on random frames ---------------------------------------------------


@given(
    reference_frames(),
    st.sampled_from([0.0, 0.1, 2.0]),
    st.integers(0, 25),
    st.sampled_from(["observed", "always"]),
)
def test_inferred_schema_accepts_its_reference(frame, margin, categorical_max, nullable):
    """Whatever the dtypes, magnitudes and missing values, the reference passes its schema."""
    schema = infer_schema(
        frame, range_margin=margin, categorical_max=categorical_max, nullable=nullable
    )
    assert failures(schema, frame) == set()


@given(reference_frames(kinds=NUMERIC_KINDS), st.data())
def test_a_value_beyond_the_range_is_rejected(frame, data):
    """One value past the widened range of any numeric/datetime column fails in_range."""
    schema = infer_schema(frame)
    bad = out_of_range(schema, frame)
    if not bad:
        return  # every range here is unbounded or saturated (inf, int64 limits)
    column = data.draw(st.sampled_from(sorted(bad)))
    assert (column, "in_range") in failures(schema, bad[column])


@given(reference_frames(kinds=CATEGORY_KINDS), st.data())
def test_an_unseen_category_is_rejected(frame, data):
    """A value outside the observed ones fails isin, for str, object, categorical and bool."""
    schema = infer_schema(frame)
    bad = unseen_category(schema, frame)
    if not bad:
        return
    column = data.draw(st.sampled_from(sorted(bad)))
    assert (column, "isin") in failures(schema, bad[column])


@given(reference_frames(), st.data())
def test_a_null_in_a_column_without_nulls_is_rejected(frame, data):
    """A missing value where the reference had none fails not_nullable."""
    schema = infer_schema(frame)
    bad = unexpected_null(schema, frame)
    if not bad:
        return
    column = data.draw(st.sampled_from(sorted(bad)))
    assert (column, "not_nullable") in failures(schema, bad[column])


@given(reference_frames(), st.data())
def test_a_column_of_another_dtype_is_rejected(frame, data):
    """Numbers where text was, or text where numbers, datetimes or bools were, fail dtype."""
    schema = infer_schema(frame)
    candidates = {
        name: bad
        for name, bad in other_dtype(schema, frame).items()
        if str(schema.columns[name].dtype) != "object"  # an all-missing object column
    }
    if not candidates:
        return
    column = data.draw(st.sampled_from(sorted(candidates)))
    assert (column, "dtype") in failures(schema, candidates[column])


@given(reference_frames(kinds=KINDS))
def test_ranges_never_cross_zero_for_non_negative_columns(frame):
    """A column whose values are all >= 0 never gets a negative lower bound."""
    schema = infer_schema(frame, range_margin=5.0)
    for name in frame.columns:
        if "in_range" not in _checks(schema, name):
            continue
        values = frame[name].dropna()
        lo, _ = _range(schema, name)
        if pd.api.types.is_timedelta64_dtype(values.dtype):
            assert values.min() < pd.Timedelta(0) or lo >= pd.Timedelta(0)
        elif pd.api.types.is_numeric_dtype(values.dtype):
            assert values.min() < 0 or lo >= 0


# --- the rules, exactly ---------------------------------------------------------------


def test_numeric_margins_follow_the_documented_formula():
    """lo = min - m * span, hi = max + m * span; integers round outwards."""
    frame = pd.DataFrame({"f": [-1.0, 3.0], "i": [10, 13], "pos": [1.0, 5.0]})
    schema = infer_schema(frame, range_margin=0.25)
    assert _range(schema, "f") == (-2.0, 4.0)
    assert _range(schema, "i") == (9, 14)  # 0.75 rounds up to 1
    assert _range(schema, "pos") == (0.0, 6.0)  # 1 - 1 = 0, not below
    assert all(isinstance(bound, int) for bound in _range(schema, "i"))


def test_constant_columns_get_a_margin_relative_to_their_value():
    """max == min: margin * |value| each side; a column of zeros must stay zero."""
    frame = pd.DataFrame({"neg": [-4.0] * 3, "zero": [0, 0, 0], "int": [7, 7, 7]})
    schema = infer_schema(frame, range_margin=0.5)
    assert _range(schema, "neg") == (-6.0, -2.0)
    assert _range(schema, "zero") == (0, 0)
    assert _range(schema, "int") == (3, 11)  # 3.5 rounds out to 4


def test_integer_bounds_stay_inside_the_dtype():
    """Bounds near the int64 limits are clipped, not overflowed."""
    info = np.iinfo(np.int64)
    frame = pd.DataFrame({"x": [int(info.min), int(info.max)]})
    schema = infer_schema(frame)
    assert _range(schema, "x") == (int(info.min), int(info.max))
    assert failures(schema, frame) == set()


@pytest.mark.parametrize("margin", [0.0, 0.1])
def test_float_bounds_stay_finite_for_huge_spans(margin):
    """A span that overflows to inf gives the largest finite bounds, never inf or NaN."""
    frame = pd.DataFrame({"x": [-1e308, 1e308]})
    lo, hi = _range(infer_schema(frame, range_margin=margin), "x")
    assert np.isfinite([lo, hi]).all()
    assert lo <= -1e308
    assert hi >= 1e308


def test_infinite_reference_values_open_the_range_and_skip_finite():
    """If the reference holds +inf, the upper bound is inf and mlkit_finite is not added."""
    frame = pd.DataFrame({"x": [1.0, np.inf]})
    schema = infer_schema(frame)
    assert _range(schema, "x")[1] == np.inf
    assert "mlkit_finite" not in _checks(schema, "x")


def test_float_columns_get_finite_and_counts_get_integral():
    """mlkit_finite for floats without inf; mlkit_integral only for whole numbers with NaN."""
    frame = pd.DataFrame(
        {
            "count": [1.0, np.nan, 3.0],
            "whole_no_nan": [1.0, 2.0, 3.0],
            "price": [1.5, np.nan, 2.0],
        }
    )
    schema = infer_schema(frame)
    assert set(_checks(schema, "count")) == {"in_range", "mlkit_finite", "mlkit_integral"}
    assert set(_checks(schema, "whole_no_nan")) == {"in_range", "mlkit_finite"}
    assert set(_checks(schema, "price")) == {"in_range", "mlkit_finite"}
    assert ("count", "mlkit_integral") in failures(schema, frame.assign(count=[1.5, np.nan, 3.0]))


def test_datetime_margins_apply_to_the_time_span():
    """A naive and a tz-aware column get the span-based margin, in their own time zone."""
    stamps = pd.to_datetime(["2024-01-01", "2024-01-11"])
    frame = pd.DataFrame({"naive": stamps, "paris": stamps.tz_localize("Europe/Paris")})
    schema = infer_schema(frame, range_margin=0.1)
    assert _range(schema, "naive") == (pd.Timestamp("2023-12-31"), pd.Timestamp("2024-01-12"))
    lo, hi = _range(schema, "paris")
    assert str(lo.tz) == "Europe/Paris"
    assert (lo, hi) == (
        pd.Timestamp("2023-12-31", tz="Europe/Paris"),
        pd.Timestamp("2024-01-12", tz="Europe/Paris"),
    )
    late = frame.assign(paris=frame["paris"] + pd.Timedelta(days=5))
    assert ("paris", "in_range") in failures(schema, late)


def test_a_constant_datetime_column_gets_no_range():
    """One instant gives no scale: the next snapshot date must not be rejected."""
    frame = pd.DataFrame({"snapshot": pd.to_datetime(["2024-05-01"] * 3)})
    schema = infer_schema(frame)
    assert "in_range" not in _checks(schema, "snapshot")
    assert failures(schema, frame.assign(snapshot=pd.to_datetime(["2024-06-01"] * 3))) == set()


def test_timedelta_columns_get_ranges():
    """Durations get a margin like numbers and stay >= 0 when the reference does."""
    frame = pd.DataFrame({"wait": pd.to_timedelta([1, 11], unit="s")})
    schema = infer_schema(frame, range_margin=0.5)
    assert _range(schema, "wait") == (pd.Timedelta(0), pd.Timedelta(seconds=16))


def test_dtypes_accept_pandas_3_string_columns_and_reject_numbers():
    """str, string and object-of-str columns share pandera's string dtype."""
    frame = pd.DataFrame(
        {
            "str": pd.Series(["a", None, "b"], dtype="str"),
            "obj": pd.Series(["a", "b", "c"], dtype=object),
            "string": pd.Series(["a", pd.NA, "b"], dtype="string"),
        }
    )
    schema = infer_schema(frame)
    assert {str(column.dtype) for column in schema.columns.values()} == {
        f"string[{pd.StringDtype().storage}]"
    }
    flavours_swapped = pd.DataFrame(
        {
            "str": pd.Series(["a", None, "b"], dtype=object),
            "obj": pd.Series(["a", "b", "c"], dtype="string"),
            "string": pd.Series(["a", None, "b"], dtype="str"),
        }
    )
    assert failures(schema, flavours_swapped) == set()
    numbers = frame.assign(obj=pd.Series([1, 2, 3], dtype=object))
    assert ("obj", "dtype") in failures(schema, numbers)


def test_categorical_columns_check_values_not_the_category_list():
    """A batch whose categorical has other (unused) categories still passes."""
    frame = pd.DataFrame({"plan": pd.Categorical(["free", "pro", "free"])})
    schema = infer_schema(frame)
    other = pd.Categorical(["pro", "free"], categories=["pro", "free", "team"])
    assert failures(schema, pd.DataFrame({"plan": other})) == set()
    assert _checks(schema, "plan")["isin"] == {"allowed_values": ["free", "pro"]}


def test_categorical_max_bounds_isin():
    """Columns with more distinct values than categorical_max get no isin."""
    frame = pd.DataFrame({"x": ["a", "b", "c"]})
    assert "isin" in _checks(infer_schema(frame, categorical_max=3), "x")
    assert "isin" not in _checks(infer_schema(frame, categorical_max=2), "x")


def test_bool_columns_get_isin_only_when_one_value_was_seen():
    """Both values seen: the dtype says it all; one value: the other is unseen."""
    frame = pd.DataFrame({"both": [True, False], "one": [True, True]})
    schema = infer_schema(frame)
    assert _checks(schema, "both") == {}
    assert _checks(schema, "one") == {"isin": {"allowed_values": [True]}}


def test_unique_is_inferred_for_identifier_like_columns_only():
    """Distinct ints and strings in >= 50 rows are unique; floats, short frames are not."""
    n = MIN_ROWS_FOR_UNIQUE
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "key": [f"k{i}" for i in range(n)],
            "score": np.linspace(0, 1, n),
            "repeat": [i % 3 for i in range(n)],
        }
    )
    schema = infer_schema(frame)
    assert {name for name, column in schema.columns.items() if column.unique} == {"id", "key"}
    assert not any(column.unique for column in infer_schema(frame.head(n - 1)).columns.values())
    assert not any(
        column.unique for column in infer_schema(frame, unique="never").columns.values()
    )
    duplicated = frame.assign(id=[0] * n)
    assert ("id", "field_uniqueness") in failures(schema, duplicated)


def test_nullable_modes():
    """observed follows the data; always and never override it."""
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [1.0, 2.0]})
    observed = infer_schema(frame)
    assert (observed.columns["a"].nullable, observed.columns["b"].nullable) == (True, False)
    assert all(c.nullable for c in infer_schema(frame, nullable="always").columns.values())
    never = infer_schema(frame, nullable="never")
    assert not any(c.nullable for c in never.columns.values())
    assert ("a", "not_nullable") in failures(never, frame)


def test_strict_rejects_extra_columns_unless_turned_off():
    """By default a column the reference lacks is reported."""
    frame = pd.DataFrame({"a": [1, 2]})
    assert (None, "column_in_schema") in failures(infer_schema(frame), frame.assign(b=1))
    assert failures(infer_schema(frame, strict=False), frame.assign(b=1)) == set()


def test_the_schema_does_not_coerce():
    """A float column where ints were is reported, not silently converted."""
    frame = pd.DataFrame({"a": [1, 2]})
    schema = infer_schema(frame)
    assert schema.coerce is False
    assert ("a", "dtype") in failures(schema, frame.astype(float))


def test_a_range_index_is_left_out_and_other_indexes_are_inferred():
    """RangeIndex (any start) means no index; named, string or multi-level ones are kept."""
    assert infer_schema(pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 7))).index is None
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["u1", "u2"], name="user"))
    schema = infer_schema(frame)
    assert isinstance(schema.index, pa.Index)
    assert (schema.index.name, str(schema.index.dtype)) == (
        "user",
        f"string[{pd.StringDtype().storage}]",
    )
    assert failures(schema, frame.reset_index(drop=True)) != set()
    multi = frame.set_index(pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["k", "n"]))
    multi_schema = infer_schema(multi)
    assert isinstance(multi_schema.index, pa.MultiIndex)
    assert failures(multi_schema, multi) == set()


def test_all_missing_columns_get_no_value_checks():
    """Nothing to learn from: dtype and nullability only."""
    frame = pd.DataFrame({"f": [np.nan, np.nan], "s": pd.Series([None, None], dtype="str")})
    schema = infer_schema(frame)
    assert all(column.checks == [] and column.nullable for column in schema.columns.values())
    assert failures(schema, frame) == set()


def test_the_reference_is_not_modified():
    """infer_schema only reads."""
    frame = pd.DataFrame({"a": [3, 1, 2], "b": ["x", None, "y"]})
    before = frame.copy()
    infer_schema(frame)
    pd.testing.assert_frame_equal(frame, before)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "match"),
    [
        ([1, 2, 3], "must be a pandas DataFrame, got list"),
        (pd.Series([1, 2]), "must be a pandas DataFrame, got Series"),
        (pd.DataFrame({"a": []}), "has no rows"),
        (pd.DataFrame(index=[0, 1]), "has no columns"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), r"duplicate column names \['a'\]"),
    ],
)
def test_bad_reference_data_is_named(reference, match):
    with pytest.raises(DataError, match=match):
        infer_schema(reference)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"categorical_max": -1}, "categorical_max must be an integer >= 0, got -1"),
        ({"categorical_max": 2.5}, "categorical_max"),
        ({"range_margin": -0.1}, "range_margin must be a finite number >= 0, got -0.1"),
        ({"range_margin": float("nan")}, "range_margin"),
        ({"nullable": "sometimes"}, "nullable must be one of"),
        ({"unique": True}, "unique must be one of"),
        ({"strict": "yes"}, "strict must be True or False"),
    ],
)
def test_bad_options_are_named(options, match):
    with pytest.raises(ConfigurationError, match=match):
        infer_schema(pd.DataFrame({"a": [1]}), **options)


def test_float_columns_accept_integers_but_not_text():
    from mlkit.validation import validate, validate_record

    reference = pd.DataFrame({"amount": [1.5, 2.0, 3.25, 8.0], "n": [1, 2, 3, 4]})
    schema = infer_schema(reference)
    assert validate_record({"amount": 2, "n": 3}, schema).passed
    assert validate(pd.DataFrame({"amount": [2, 3], "n": [1, 2]}), schema).passed
    text = validate(pd.DataFrame({"amount": ["x", "2"], "n": [1, 2]}), schema)
    assert not text.passed
    assert "coerce_dtype" in set(text.to_frame()["check"])
    assert text.max_severity == "critical"
    record = validate_record({"amount": "x", "n": 3}, schema)
    assert not record.passed
    # Integer columns never coerce: a float there is a wrong dtype.
    assert not validate(pd.DataFrame({"amount": [2.0], "n": [1.5]}), schema).passed
    strict = infer_schema(reference, coerce_floats=False)
    assert not validate(pd.DataFrame({"amount": [2, 3], "n": [1, 2]}), strict).passed
