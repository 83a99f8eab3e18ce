"""The serving fast path agrees with pandera on one-row frames, and says where it differs."""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlkit.errors import ConfigurationError, DataError, SchemaError
from mlkit.validation import (
    RecordFailure,
    RecordResult,
    RecordValidator,
    _record,
    validate_record,
)

SCHEMA_CHECKS = {
    "column_in_dataframe",
    "column_in_schema",
    "column_ordered",
    "add_missing_has_default",
}

START, END = pd.Timestamp("2020-01-01"), pd.Timestamp("2030-01-01")

COLUMNS = {
    "price": pa.Column(float, pa.Check.in_range(0.0, 100.0)),
    "qty": pa.Column(int, [pa.Check.ge(0), pa.Check.lt(1000)]),
    "ratio": pa.Column(float, [pa.Check.gt(-1.0), pa.Check.le(1.0)], nullable=True),
    "country": pa.Column(str, pa.Check.isin(["fr", "de", "us"])),
    "code": pa.Column(
        str,
        [pa.Check.str_length(2, 4), pa.Check.str_matches(r"[A-Z]"), pa.Check.str_contains("X|Y")],
    ),
    "tag": pa.Column(
        str,
        [
            pa.Check.str_startswith("t"),
            pa.Check.str_endswith("z"),
            pa.Check.notin(["tuz"]),
            pa.Check.str_length(exact_value=3),
        ],
        nullable=True,
    ),
    "tier": pa.Column(int, [pa.Check.isin([1, 2, 3]), pa.Check.ne(2)]),
    "flag": pa.Column(bool, pa.Check.isin([False, True])),
    "ts": pa.Column("datetime64[ns]", pa.Check.in_range(START, END, include_max=False)),
    "version": pa.Column(int, pa.Check.eq(3)),
    "opt": pa.Column(float, pa.Check.gt(0.0), required=False),
}
STRICT = pa.DataFrameSchema(COLUMNS, strict=True)
LOOSE = pa.DataFrameSchema(COLUMNS)

VALID = {
    "price": st.floats(0.0, 100.0),
    "qty": st.integers(0, 999),
    "ratio": st.one_of(st.none(), st.floats(-0.99, 1.0)),
    "country": st.sampled_from(["fr", "de", "us"]),
    "code": st.sampled_from(["AX", "BYY", "ZX1", "QY"]),
    "tag": st.one_of(st.none(), st.sampled_from(["taz", "tbz"])),
    "tier": st.sampled_from([1, 3]),
    "flag": st.booleans(),
    "ts": st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2029, 12, 31)).map(pd.Timestamp),
    "version": st.just(3),
    "opt": st.floats(0.5, 10.0),
}

INVALID = {
    "price": st.one_of(st.floats(100.001, 1e6), st.floats(-1e6, -0.001)),
    "qty": st.one_of(st.integers(1000, 10**6), st.integers(-100, -1)),
    "ratio": st.one_of(st.floats(1.001, 5.0), st.floats(-5.0, -1.0)),
    "country": st.sampled_from(["it", "FR", ""]),
    "code": st.sampled_from(["A", "aX", "BBBBX", "AB", "X"]),
    "tag": st.sampled_from(["tuz", "ta", "xaz", "tazz"]),
    "tier": st.sampled_from([2, 4, 0]),
    "flag": st.sampled_from([0, 1, "True", None]),
    "ts": st.one_of(
        st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2019, 12, 31)).map(pd.Timestamp),
        st.just(END),
    ),
    "version": st.sampled_from([2, 4]),
    "opt": st.floats(-5.0, 0.0),
}

NULLS = st.sampled_from([None, math.nan, pd.NA, pd.NaT])

ANY_VALUE = st.one_of(
    st.sampled_from([None, math.nan, pd.NA, pd.NaT, math.inf, -math.inf]),
    st.booleans(),
    st.integers(-5, 2_000),
    st.integers(-(2**70), 2**70),
    st.floats(-10.0, 200.0),
    st.text(alphabet="tXYzAbfrdeus1", max_size=6),
    st.sampled_from(["fr", "de", "it", "AX", "tuz", "taz", "2024-01-01"]),
    st.datetimes(dt.datetime(2015, 1, 1), dt.datetime(2035, 1, 1)).map(pd.Timestamp),
    st.datetimes(dt.datetime(2015, 1, 1), dt.datetime(2035, 1, 1)),
    st.sampled_from([np.int64(5), np.float64(0.5), np.bool_(True), np.datetime64("2021-06-01")]),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    record: dict[str, object] = {}
    for name, valid in VALID.items():
        how = draw(st.sampled_from(["valid"] * 6 + ["invalid", "any", "null", "missing"]))
        if how == "missing":
            continue
        strategy = {"valid": valid, "invalid": INVALID[name], "any": ANY_VALUE, "null": NULLS}
        record[name] = draw(strategy[how])
    extra = draw(st.dictionaries(st.sampled_from(["extra", "x1"]), ANY_VALUE, max_size=2))
    record.update(extra)
    return record


def _is_null(value: object) -> bool:
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def pandera_pairs(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, values: dict[object, object]
) -> set[tuple[object, str]]:
    """What pandera reports, as (column, check) pairs, with the documented differences applied."""
    try:
        with warnings.catch_warnings():
            # pandera casts +-inf to datetime64 while listing the failure cases of
            # a dtype failure (a float in a datetime column); numpy warns, the
            # result is unaffected.
            warnings.filterwarnings(
                "ignore", "invalid value encountered in cast", category=RuntimeWarning
            )
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return set()
    pairs = set()
    for row in cases.itertuples(index=False):
        check = str(row.check).split("(")[0]
        column = None if pd.isna(row.column) else row.column
        if column is None and check in SCHEMA_CHECKS:
            column = row.failure_case
        elif row.schema_context == "DataFrameSchema":
            column = None  # a check of the whole frame
        if check in SCHEMA_CHECKS or check == "not_nullable" or column not in values:
            pairs.add((column, check))
            continue
        if _is_null(values[column]):
            # Difference: a null is checked for nullability only. pandas gives a
            # null its own dtype (object, float64), so pandera also reports
            # dtype, and checks that cannot compare their bounds with that
            # (emptied) column, such as in_range with Timestamps on float64.
            continue
        pairs.add((column, check))
    return pairs


def fast_pairs(result: RecordResult) -> set[tuple[object, str]]:
    return {(f.column, f.check) for f in result.failures}


# --------------------------------------------------------------- agreement


@given(record=records(), strict=st.booleans())
def test_dict_records_fail_the_same_checks_as_pandera(record, strict):
    """The (column, check) pairs that fail equal pandera's on pd.DataFrame([record])."""
    schema = STRICT if strict else LOOSE
    expected = pandera_pairs(schema, pd.DataFrame([record]), record)
    assert fast_pairs(validate_record(record, schema)) == expected


# pandera takes milliseconds per record, twice per example here: fewer examples.
@settings(max_examples=30)
@given(record=records())
def test_series_and_one_row_frames_fail_the_same_checks_as_pandera(record):
    """A Series is checked like pd.DataFrame([series]); a one-row frame like itself."""
    series = pd.Series(record, dtype=object)
    frame = pd.DataFrame([record])
    assert fast_pairs(validate_record(series, STRICT)) == pandera_pairs(
        STRICT, pd.DataFrame([series]), record
    )
    assert fast_pairs(validate_record(frame, STRICT)) == pandera_pairs(STRICT, frame, record)


WITH_REGEX = pa.DataFrameSchema(
    {**COLUMNS, "x[0-9]": pa.Column(float, pa.Check.ge(0.0), regex=True, required=False)},
    strict=True,
)


@settings(max_examples=30)
@given(record=records())
def test_the_pandera_path_agrees_with_the_fast_path(record):
    """A schema that runs entirely through pandera reports the same pairs, differences applied."""
    assert RecordValidator(WITH_REGEX).fallback_reason is not None
    expected = pandera_pairs(WITH_REGEX, pd.DataFrame([record]), record)
    assert fast_pairs(validate_record(record, WITH_REGEX)) == expected


@given(record=st.fixed_dictionaries(VALID))
def test_valid_records_pass(record):
    """Records drawn from the valid values pass, with no failure at all."""
    result = validate_record(record, STRICT)
    assert result.passed
    assert result.failures == ()
    assert result.max_severity is None


def test_every_value_check_of_the_test_schema_is_compiled():
    """The built-in checks used above run in plain Python, not through pandera."""
    validator = RecordValidator(STRICT)
    assert validator.fallback_checks == ()
    assert validator.fallback_reason is None


@pytest.mark.parametrize(
    ("value", "failed"),
    [
        (5.0, set()),
        (5, {"dtype"}),  # pandas infers int64 for a Python int: pandera says dtype
        ("5", {"dtype", "in_range"}),  # '<=' between str and float raises: a failure
        (150.0, {"in_range"}),
        (math.inf, {"in_range"}),
        (None, {"not_nullable"}),
        (True, {"dtype"}),
    ],
)
def test_one_float_column(value, failed):
    """Each documented case of a float column with a range, against pandera too."""
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(0, 10))})
    record = {"x": value}
    assert {c for _, c in fast_pairs(validate_record(record, schema))} == failed
    assert fast_pairs(validate_record(record, schema)) == pandera_pairs(
        schema, pd.DataFrame([record]), record
    )


# ----------------------------------------------------------- differences


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        (float, None),
        (float, math.nan),
        ("Int64", pd.NA),
        (int, None),
        (bool, None),
        ("datetime64[ns]", pd.NaT),
        ("datetime64[ns]", None),
        (str, None),
    ],
)
def test_a_null_in_a_nullable_column_passes_whatever_the_dtype(dtype, value):
    """Intentional difference: pandas would make the column object/float and pandera say dtype."""
    schema = pa.DataFrameSchema({"x": pa.Column(dtype, nullable=True)})
    assert validate_record({"x": value}, schema).failures == ()


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        ("int32", 7),
        ("int8", np.int64(-128)),
        ("uint16", 65_535),
        ("Int64", 7),
        ("float32", 0.5),
        ("float64", np.float32(0.5)),
        ("Float64", 0.5),
        ("boolean", True),
        ("datetime64[ns]", dt.datetime(2024, 1, 1)),
        ("datetime64[ns]", np.datetime64("2024-01-01T00:00:00")),
        (pd.DatetimeTZDtype("ns", "UTC"), pd.Timestamp("2024-01-01", tz="UTC")),
        (pd.DatetimeTZDtype("ns", "UTC"), pd.Timestamp("2024-01-01", tz="Europe/Paris")),
        ("timedelta64[ns]", dt.timedelta(seconds=3)),
        (pd.CategoricalDtype(["a", "b"]), "a"),
        ("category", "anything"),
        (object, 3),
        (object, "text"),
        (object, [1, 2]),
        ("string", "x"),
    ],
)
def test_a_value_of_the_right_kind_passes_whatever_the_width_or_unit(dtype, value):
    """Intentional difference: widths, units and categories do not make a dtype failure."""
    schema = pa.DataFrameSchema({"x": pa.Column(dtype)})
    assert validate_record({"x": value}, schema).failures == ()


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        ("int8", 128),
        ("uint8", -1),
        (int, 2**70),
        (int, 1.0),
        (int, True),
        (bool, 1),
        (float, 1),
        (float, "1.5"),
        (str, 3),
        ("datetime64[ns]", "2024-01-01"),
        ("datetime64[ns]", pd.Timestamp("2024-01-01", tz="UTC")),
        ("datetime64[ns]", dt.date(2024, 1, 1)),
        (pd.DatetimeTZDtype("ns", "UTC"), pd.Timestamp("2024-01-01")),
        ("timedelta64[ns]", 3),
        (pd.CategoricalDtype(["a", "b"]), "c"),
        (pa.Date, "2024-01-01"),
    ],
)
def test_a_value_of_the_wrong_kind_fails_dtype(dtype, value):
    """Kinds that pandas would infer differently, and integers that do not fit, fail dtype."""
    schema = pa.DataFrameSchema({"x": pa.Column(dtype)})
    result = validate_record({"x": value}, schema)
    assert [(f.column, f.check, f.severity) for f in result.failures] == [
        ("x", "dtype", "critical")
    ]


def test_other_dtypes_are_checked_by_pandera_on_a_one_element_series():
    """A dtype without a rule (pandera's Date) asks pandera about the value."""
    import datetime

    schema = pa.DataFrameSchema({"x": pa.Column(pa.Date)})
    assert validate_record({"x": datetime.date(2024, 1, 1)}, schema).passed


# ------------------------------------------------------ schema options


@pytest.mark.parametrize(
    "record",
    [
        {"a": 1.0, "b": 2, "c": "x"},
        {"b": 2, "a": 1.0, "c": "x"},
        {"c": "x", "a": 1.0},
        {"a": 1.0, "x": 0, "c": "y", "b": 1},
        {"c": "x", "b": 2, "a": 1.0},
    ],
)
def test_ordered_schemas_report_keys_out_of_order_like_pandera(record):
    """ordered=True: the same keys are reported as out of order as pandera reports."""
    schema = pa.DataFrameSchema(
        {"a": pa.Column(float), "b": pa.Column(int, required=False), "c": pa.Column(str)},
        ordered=True,
    )
    assert fast_pairs(validate_record(record, schema)) == pandera_pairs(
        schema, pd.DataFrame([record]), record
    )


def test_strict_filter_ignores_extra_keys_and_optional_columns_may_be_missing():
    """strict='filter' drops unknown keys; a column with required=False may be absent."""
    schema = pa.DataFrameSchema(
        {"a": pa.Column(float), "b": pa.Column(int, required=False)}, strict="filter"
    )
    assert validate_record({"a": 1.0, "zzz": "?"}, schema).failures == ()


@pytest.mark.parametrize(
    ("value", "failed"),
    [
        (3, set()),
        ("2.5", set()),
        (True, set()),
        ("abc", {"coerce_dtype", "dtype", "greater_than_or_equal_to"}),
        (None, set()),
        (-1, {"greater_than_or_equal_to"}),
    ],
)
def test_coerced_columns_convert_the_value_first(value, failed):
    """coerce=True: values pandera can coerce pass; the others fail coerce_dtype and dtype."""
    schema = pa.DataFrameSchema(
        {"x": pa.Column(float, pa.Check.ge(0), nullable=True)}, coerce=True
    )
    record = {"x": value}
    assert {c for _, c in fast_pairs(validate_record(record, schema))} == failed
    assert fast_pairs(validate_record(record, schema)) == pandera_pairs(
        schema, pd.DataFrame([record]), record
    )


def test_defaults_fill_nulls_and_add_missing_columns_fills_absent_keys():
    """default= replaces a null; add_missing_columns supplies absent nullable/defaulted columns."""
    schema = pa.DataFrameSchema(
        {
            "a": pa.Column(float, pa.Check.gt(0), default=5.0),
            "b": pa.Column(float, nullable=True),
            "c": pa.Column(float),
        },
        add_missing_columns=True,
    )
    result = validate_record({"a": None}, schema)
    assert fast_pairs(result) == {("c", "add_missing_has_default")}
    assert result.failures[0].severity == "critical"
    assert fast_pairs(result) == pandera_pairs(schema, pd.DataFrame([{"a": None}]), {"a": None})
    assert validate_record({"c": 1.0}, schema).passed


def test_checks_with_ignore_na_false_run_on_nulls():
    """ignore_na=False: a null reaches the check, which fails as it does in pandera."""
    schema = pa.DataFrameSchema(
        {"x": pa.Column(float, pa.Check.ge(0, ignore_na=False), nullable=True)}
    )
    record = {"x": math.nan}
    assert fast_pairs(validate_record(record, schema)) == {("x", "greater_than_or_equal_to")}
    with pytest.raises(pa.errors.SchemaErrors) as info:
        schema.validate(pd.DataFrame([record]), lazy=True)
    assert list(info.value.failure_cases["check"]) == ["greater_than_or_equal_to(0)"]


# ------------------------------------------------------------ fallback


def _positive(series: pd.Series) -> pd.Series:
    return series > 0


FALLBACK = pa.DataFrameSchema(
    {
        "a": pa.Column(
            float,
            [
                pa.Check(_positive, name="positive"),  # vectorised: needs pandera
                pa.Check(lambda v: v < 100, element_wise=True, name="small"),  # compiled
                pa.Check.unique_values_eq([1.0]),  # a property of the whole column
            ],
        ),
        "b": pa.Column(int, pa.Check(lambda s: s.str.len() > 0, name="broken")),
        "g": pa.Column(str),
    },
    checks=[pa.Check(lambda df: df["a"] < df["b"], name="a_below_b")],
    index=pa.Index(int, pa.Check.ge(0)),
)


def test_fallback_checks_are_listed():
    """What cannot run on one value is named, with column None for checks of the frame."""
    validator = RecordValidator(FALLBACK)
    assert validator.fallback_checks == (
        ("a", "positive"),
        ("a", "unique_values_eq"),
        ("b", "broken"),
        (None, "a_below_b"),
        (None, "index"),
    )
    assert "RecordValidator(" in repr(validator)


@pytest.mark.parametrize(
    "record",
    [
        {"a": 1.0, "b": 2, "g": "x"},
        {"a": -1.0, "b": 2, "g": "x"},
        {"a": 500.0, "b": 2, "g": "x"},
        {"a": 3.0, "b": 2, "g": "x"},
        {"b": 2, "g": "x"},
        {"a": 1.0, "g": "x"},
        {"a": None, "b": 2, "g": "x"},
        {"a": 1.0, "b": None, "g": "x"},
    ],
)
def test_fallback_checks_agree_with_pandera(record):
    """Checks run through pandera give pandera's answer; element-wise ones are compiled."""
    assert fast_pairs(validate_record(record, FALLBACK)) == pandera_pairs(
        FALLBACK, pd.DataFrame([record]), record
    )


def test_a_failing_index_check_is_reported():
    """The schema's index is validated by pandera on the one-row frame."""
    frame = pd.DataFrame([{"a": 1.0, "b": 2, "g": "x"}], index=[-4])
    assert ("index", None) not in fast_pairs(validate_record(frame, FALLBACK))
    assert (None, "greater_than_or_equal_to") in fast_pairs(validate_record(frame, FALLBACK))


@pytest.mark.parametrize(
    "record",
    [{"num_1": 1.0, "num_2": -1.0}, {"num_1": "x"}, {"num_1": None}, {"other": 1.0}, {}],
)
def test_schemas_with_regex_columns_run_through_pandera_entirely(record):
    """Regex columns cannot be compiled: the record is validated by pandera, same answer."""
    schema = pa.DataFrameSchema({r"num_\d": pa.Column(float, pa.Check.ge(0), regex=True)})
    validator = RecordValidator(schema)
    assert validator.fallback_reason is not None
    assert "regex" in validator.fallback_reason
    assert fast_pairs(validator(record)) == pandera_pairs(schema, pd.DataFrame([record]), record)


def test_raise_warning_checks_are_warnings_on_every_path():
    """raise_warning=True: a failure at severity warning, no Python warning, still passed."""
    checks = [pa.Check.ge(0, raise_warning=True)]
    compiled = pa.DataFrameSchema({"x": pa.Column(float, checks)})
    regex = pa.DataFrameSchema({"x.*": pa.Column(float, checks, regex=True)})
    frame_level = pa.DataFrameSchema(
        {"x": pa.Column(float)},
        checks=[pa.Check(lambda df: df["x"] >= 0, raise_warning=True, name="nonneg")],
    )
    for schema, check in [
        (compiled, "greater_than_or_equal_to"),
        (regex, "greater_than_or_equal_to"),
        (frame_level, "nonneg"),
    ]:
        result = validate_record({"x": -1.0}, schema)
        assert result.passed
        assert result.max_severity == "warning"
        assert [f.check for f in result.failures] == [check]


NOW = pd.Timestamp.now().floor("s")
MLKIT_CASES = [
    ("mlkit_finite", float, {}, [1.0, 2.5, math.inf, -math.inf, None]),
    ("mlkit_integral", float, {}, [1.0, 2.5, -3.0, math.inf, None]),
    (
        "mlkit_not_in_future",
        "datetime64[ns]",
        {"tolerance_seconds": 60},
        [NOW - pd.Timedelta(days=1), NOW + pd.Timedelta(days=1), None],
    ),
]


@pytest.mark.parametrize(
    ("name", "dtype", "statistics", "value"),
    [(n, d, s, v) for n, d, s, values in MLKIT_CASES for v in values],
)
def test_mlkit_checks_are_compiled_and_agree_with_pandera(name, dtype, statistics, value):
    """mlkit's registered checks run through MLKIT_CHECKS, with pandera's answer."""
    mlkit_checks = pytest.importorskip("mlkit.validation._checks")
    if name not in mlkit_checks.MLKIT_CHECKS:
        pytest.skip(f"{name} is not in MLKIT_CHECKS")
    check = getattr(pa.Check, name)(**statistics)
    schema = pa.DataFrameSchema({"x": pa.Column(dtype, check, nullable=True)})
    assert RecordValidator(schema).fallback_checks == ()
    record = {"x": value}
    assert fast_pairs(validate_record(record, schema)) == pandera_pairs(
        schema, pd.DataFrame([record]), record
    )


# ------------------------------------------------------------ severities


def test_severities_come_from_the_schema_metadata():
    """Column and schema metadata set each failure's severity; passed looks at error and up."""
    schema = pa.DataFrameSchema(
        {
            "a": pa.Column(
                float,
                [pa.Check.ge(0), pa.Check.le(10)],
                metadata={"mlkit": {"severity": {"less_than_or_equal_to": "info"}}},
            ),
            "b": pa.Column(str, metadata={"mlkit": {"severity": "warning"}}),
        },
        strict=True,
        metadata={"mlkit": {"severity": {"column_in_schema": "warning"}}},
    )
    result = validate_record({"a": 11.0, "b": None, "z": 1}, schema)
    assert {(f.column, f.check, f.severity) for f in result.failures} == {
        ("a", "less_than_or_equal_to", "info"),
        ("b", "not_nullable", "warning"),
        ("z", "column_in_schema", "warning"),
    }
    assert result.passed
    assert result.max_severity == "warning"
    with pytest.raises(SchemaError, match="column 'b' failed not_nullable"):
        result.raise_for_errors(at="warning")
    result.raise_for_errors()


def test_missing_columns_and_dtypes_are_critical_by_default():
    """Defaults: a missing column or a wrong dtype is critical, a value check error."""
    schema = pa.DataFrameSchema({"a": pa.Column(float, pa.Check.ge(0)), "b": pa.Column(int)})
    result = validate_record({"a": "x"}, schema)
    assert {(f.column, f.check, f.severity) for f in result.failures} == {
        ("a", "dtype", "critical"),
        ("a", "greater_than_or_equal_to", "error"),
        ("b", "column_in_dataframe", "critical"),
    }
    with pytest.raises(SchemaError) as info:
        result.raise_for_errors(at="critical")
    message = str(info.value)
    assert "column 'a' failed dtype with value 'x' (expected dtype float64)" in message
    assert "column 'b' is missing" in message
    assert "greater_than_or_equal_to" not in message
    assert info.value.column == "a"
    with pytest.raises(ConfigurationError, match="at must be one of"):
        result.raise_for_errors(at="fatal")


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize("rows", [0, 2, 3])
def test_frames_without_exactly_one_row_are_a_data_error(rows):
    """validate_record is for one record: a batch is a clear DataError."""
    frame = pd.DataFrame({"a": [1.0] * rows})
    with pytest.raises(DataError, match=f"a DataFrame with {rows} rows"):
        validate_record(frame, LOOSE)


@pytest.mark.parametrize("record", [[1, 2], "a=1", None, 3.0, np.array([1.0])])
def test_records_of_another_type_are_a_data_error(record):
    """Only a mapping, a Series or a one-row DataFrame is a record."""
    with pytest.raises(DataError, match="takes a mapping, a Series or a one-row DataFrame"):
        validate_record(record, LOOSE)


def test_duplicate_labels_are_a_data_error():
    """A Series or frame with a label twice is ambiguous: DataError naming the label."""
    with pytest.raises(DataError, match=r"duplicate column labels \['a'\]"):
        validate_record(pd.Series([1.0, 2.0], index=["a", "a"]), LOOSE)
    with pytest.raises(DataError, match="duplicate"):
        validate_record(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), LOOSE)


def test_a_schema_of_another_type_is_a_configuration_error():
    """The schema must be a pandera DataFrameSchema."""
    with pytest.raises(ConfigurationError, match="needs a pandera DataFrameSchema, got dict"):
        validate_record({"a": 1}, {"a": float})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RecordValidator(pa.Column(float))  # type: ignore[arg-type]


def test_a_row_keeps_its_dtypes_only_as_a_one_row_frame():
    """df.iloc[[i]] keeps each column's dtype; df.iloc[i] is upcast by pandas (documented)."""
    frame = pd.DataFrame({"qty": [3, 4], "price": [1.5, 2.5]})
    schema = pa.DataFrameSchema({"qty": pa.Column(int), "price": pa.Column(float)})
    assert validate_record(frame.iloc[[1]], schema).passed
    upcast = validate_record(frame.iloc[1], schema)
    assert fast_pairs(upcast) == {("qty", "dtype")}


# ---------------------------------------------------------- cache, threads


def test_validators_are_cached_per_schema_object_and_forgotten_with_it():
    """One compile per schema object; the cache entry goes when the schema is collected."""
    schema = pa.DataFrameSchema({"a": pa.Column(float)})
    first = _record._validator_for(schema)
    assert _record._validator_for(schema) is first
    assert _record._validator_for(schema.update_column("a", nullable=True)) is not first
    key = id(schema)
    assert key in _record._BY_ID
    del schema, first
    gc.collect()
    assert key not in _record._BY_ID


def test_concurrent_calls_share_one_validator_and_agree():
    """Many threads validating with a fresh schema get one validator and the same answers."""
    schema = pa.DataFrameSchema({"a": pa.Column(float, pa.Check.ge(0)), "b": pa.Column(str)})
    records = [{"a": float(i - 50), "b": "x" if i % 3 else None} for i in range(200)]
    expected = [fast_pairs(RecordValidator(schema)(r)) for r in records]
    barrier = threading.Barrier(8)

    def work(chunk: int) -> list[set[tuple[object, str]]]:
        barrier.wait()
        return [fast_pairs(validate_record(r, schema)) for r in records[chunk::8]]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for chunk, got in enumerate(results):
        assert got == expected[chunk::8]
    assert _record._BY_ID[id(schema)][1] is _record._validator_for(schema)


# ---------------------------------------------------------------- results


def test_results_convert_to_json_and_frames():
    """to_dict is JSON-safe (NaN, NaT, numpy scalars, timestamps); to_frame one row each."""
    failures = (
        RecordFailure("a", "in_range", np.float64(math.nan), "error", "in_range(0, 1)"),
        RecordFailure("t", "dtype", pd.Timestamp("2024-01-01", tz="UTC"), "critical"),
        RecordFailure(("x", 1), "custom", np.int64(3), "warning"),
        RecordFailure(None, "frame_check", {"k": pd.NaT}, "info"),
    )
    result = RecordResult(failures)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["passed"] is False
    assert data["max_severity"] == "critical"
    assert data["failures"][0]["value"] is None
    assert data["failures"][1]["value"] == "2024-01-01T00:00:00+00:00"
    assert data["failures"][2] == {
        "column": ["x", 1],
        "check": "custom",
        "value": 3,
        "severity": "warning",
        "expected": "",
    }
    frame = result.to_frame()
    assert list(frame.columns) == ["column", "check", "value", "severity", "expected"]
    assert len(frame) == 4
    assert repr(result) == "RecordResult(passed=False, failures=4, max_severity='critical')"
    assert "4 check(s)" in result.summary()
    assert "1 more" in result.summary(max_rows=3)
    assert RecordResult(()).summary() == "the record passed every check"
