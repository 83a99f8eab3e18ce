import re
import warnings

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandera.errors import SchemaErrors

from mlkit.errors import ConfigurationError, DataError
from mlkit.validation import ValidationReport, validate


def _rows(report):
    """The report's failures as a list of (column, check, failure_case, index, severity)."""
    return list(report.to_frame().itertuples(index=False, name=None))


@pytest.fixture
def schema():
    return pa.DataFrameSchema(
        {
            "a": pa.Column(float, pa.Check.in_range(0, 10), nullable=False),
            "b": pa.Column(str, pa.Check.isin(["x", "y"])),
            "c": pa.Column(float, unique=True),
            "missing": pa.Column(int),
        },
        checks=[pa.Check(lambda d: d["c"] < 3, name="c_small")],
        strict=True,
    )


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "a": [1.0, -2.0, np.nan, 50.0],
            "b": ["x", "y", "z", "x"],
            "c": [1, 1, 2, 3],
            "extra": [0, 0, 0, 0],
        }
    )


def test_schema_level_and_value_level_problems_land_in_one_report(df, schema):
    """Missing/extra column, dtype, nulls, ranges, categories, duplicates and a frame check."""
    report = validate(df, schema)
    rows = _rows(report)
    assert ("missing", "column_in_dataframe", "missing", None, "critical") in rows
    assert ("extra", "column_in_schema", "extra", None, "error") in rows
    assert ("c", "dtype", "int64", None, "critical") in rows
    assert ("a", "in_range", -2.0, 1, "error") in rows
    assert ("a", "in_range", 50.0, 3, "error") in rows
    assert ("b", "isin", "z", 2, "error") in rows
    assert ("c", "field_uniqueness", 1, 0, "error") in rows
    assert ("c", "field_uniqueness", 1, 1, "error") in rows
    nulls = [r for r in rows if r[1] == "not_nullable"]
    assert len(nulls) == 1
    assert nulls[0][0] == "a"
    assert np.isnan(nulls[0][2])
    assert nulls[0][3] == 2
    # pandera reports a failing row of a frame check once per column; the report once.
    assert (None, "c_small", {"a": 50.0, "b": "x", "c": 3, "extra": 0}, 3, "error") in rows
    assert report.n_failures == len(rows) == 10
    assert report.n_rows == 4
    assert report.missing_columns == ("missing",)
    assert report.extra_columns == ("extra",)
    assert not report.passed
    assert report.max_severity == "critical"


def test_counts_are_exact(df, schema):
    counts = validate(df, schema).counts()
    got = {(c, k, s): n for c, k, s, n in counts.itertuples(index=False, name=None)}
    assert got == {
        ("missing", "column_in_dataframe", "critical"): 1,
        ("c", "dtype", "critical"): 1,
        ("a", "in_range", "error"): 2,
        ("c", "field_uniqueness", "error"): 2,
        ("extra", "column_in_schema", "error"): 1,
        ("a", "not_nullable", "error"): 1,
        ("b", "isin", "error"): 1,
        (None, "c_small", "error"): 1,
    }
    assert list(counts["severity"])[:2] == ["critical", "critical"]


def test_a_clean_frame_passes_with_an_empty_report():
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))})
    report = validate(pd.DataFrame({"a": [1, 2]}), schema)
    assert report.passed
    assert report.n_failures == 0
    assert report.max_severity is None
    assert list(report.to_frame().columns) == [
        "column",
        "check",
        "failure_case",
        "index",
        "severity",
    ]
    assert report.counts().empty


def test_check_names_are_stable_and_pandera_text_is_kept_as_detail():
    """Severities key on "in_range", "dtype", ...; the bounds stay in the detail column."""
    schema = pa.DataFrameSchema(
        {
            "a": pa.Column(int, [pa.Check.in_range(0, 1), pa.Check.lt(5, error="below five")]),
            "b": pa.Column(float),
        }
    )
    frame = pd.DataFrame({"a": [2, 7], "b": [1, 2]})
    detail = validate(frame, schema).to_frame(detailed=True)
    got = set(zip(detail["check"], detail["detail"], detail["check_number"], strict=True))
    assert got == {
        ("in_range", "in_range(0, 1)", 0),
        ("less_than", "below five", 1),
        ("dtype", "dtype('float64')", None),
    }
    assert set(detail["context"]) == {"Column"}


def test_default_severities():
    schema = pa.DataFrameSchema(
        {
            "a": pa.Column(int, [pa.Check.ge(0), pa.Check.le(5, raise_warning=True)]),
            "b": pa.Column(float),
            "gone": pa.Column(int),
        },
        strict=True,
    )
    frame = pd.DataFrame({"a": [-1, 9], "b": [1, 2], "new": [0, 0]})
    severity = {
        (c, k): s for c, k, s, _ in validate(frame, schema).counts().itertuples(index=False)
    }
    assert severity == {
        ("gone", "column_in_dataframe"): "critical",
        ("b", "dtype"): "critical",
        ("new", "column_in_schema"): "error",
        ("a", "greater_than_or_equal_to"): "error",
        ("a", "less_than_or_equal_to"): "warning",
    }


def test_column_and_schema_metadata_override_severities():
    schema = pa.DataFrameSchema(
        {
            "a": pa.Column(
                int,
                [pa.Check.ge(0), pa.Check.le(5)],
                metadata={
                    "mlkit": {"severity": {"greater_than_or_equal_to": "info", "*": "warning"}}
                },
            ),
            "b": pa.Column(int, pa.Check.ge(0), metadata={"mlkit": {"severity": "critical"}}),
        },
        checks=[pa.Check(lambda d: d["a"] < d["b"], name="a_below_b")],
        strict=True,
        metadata={"mlkit": {"severity": {"column_in_schema": "info", "a_below_b": "warning"}}},
    )
    frame = pd.DataFrame({"a": [-1, 9], "b": [-5, 5], "new": [0, 0]})
    report = validate(frame, schema)
    severity = {(c, k): s for c, k, s, _ in report.counts().itertuples(index=False)}
    assert severity == {
        ("a", "greater_than_or_equal_to"): "info",
        ("a", "less_than_or_equal_to"): "warning",
        ("b", "greater_than_or_equal_to"): "critical",
        ("new", "column_in_schema"): "info",
        (None, "a_below_b"): "warning",
    }


def test_regex_columns_take_their_severity_from_the_pattern():
    schema = pa.DataFrameSchema(
        {
            r"x\d": pa.Column(
                int, pa.Check.gt(0), regex=True, metadata={"mlkit": {"severity": "warning"}}
            )
        }
    )
    report = validate(pd.DataFrame({"x1": [1, -1], "x2": [-2, 3]}), schema)
    assert set(report.to_frame()[["column", "severity"]].itertuples(index=False, name=None)) == {
        ("x1", "warning"),
        ("x2", "warning"),
    }
    assert report.passed


def test_raise_warning_checks_become_warning_rows_not_python_warnings():
    """pytest runs with filterwarnings=error: an escaping SchemaWarning would fail this test."""
    check = pa.Check.le(5, raise_warning=True)
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int, [check, pa.Check.ge(0)])},
        checks=[pa.Check(lambda d: d["a"] != 3, name="not_three", raise_warning=True)],
    )
    report = validate(pd.DataFrame({"a": [1, 3, 9]}), schema)
    frame = report.to_frame()
    assert list(frame["check"]) == ["less_than_or_equal_to", "not_three"]
    assert list(frame["severity"]) == ["warning", "warning"]
    assert list(frame["index"]) == [2, 1]
    assert frame["failure_case"].tolist() == [9, {"a": 3}]
    assert report.passed
    assert report.max_severity == "warning"
    # The user's schema still warns: validate ran a marked copy.
    assert check.raise_warning
    assert not hasattr(check, "_mlkit_raise_warning")


def test_raise_warning_check_under_lazy_false_is_one_row_without_values():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int, [pa.Check.le(5, raise_warning=True), pa.Check.ge(0)])}
    )
    report = validate(pd.DataFrame({"a": [-1, 9]}), schema, lazy=False)
    assert _rows(report) == [
        ("a", "greater_than_or_equal_to", -1, 0, "error"),
        ("a", "less_than_or_equal_to", None, None, "warning"),
    ]


def test_lazy_false_stops_at_the_first_failure():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int, pa.Check.ge(0)), "b": pa.Column(int, pa.Check.ge(0))}
    )
    frame = pd.DataFrame({"a": [-1, -2], "b": [-3, 4]})
    report = validate(frame, schema, lazy=False)
    assert not report.lazy
    assert _rows(report) == [
        ("a", "greater_than_or_equal_to", -1, 0, "error"),
        ("a", "greater_than_or_equal_to", -2, 1, "error"),
    ]
    assert validate(frame, schema).n_failures == 3
    assert "stopped at the first failure" in report.summary()


def test_optional_column_reported_missing_by_pandera_becomes_a_warning_row():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int), "opt": pa.Column(int, required=False, on_missing="warn")}
    )
    report = validate(pd.DataFrame({"a": [1]}), schema)
    assert _rows(report) == [("opt", "optional_column_missing", "opt", None, "warning")]


def test_a_check_that_raises_is_an_error_row_with_the_exception_text():
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check(lambda s: s.nope(), name="boom"))})
    rows = _rows(validate(pd.DataFrame({"a": [1]}), schema))
    assert len(rows) == 1
    column, check, failure, index, severity = rows[0]
    assert (column, check, index, severity) == ("a", "boom", None, "error")
    assert "AttributeError" in failure


def test_other_warnings_inside_checks_are_passed_on_not_turned_into_failures():
    """A warning is not a failure: under an error filter pandera would report one."""

    def noisy(series):
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
        return series >= 0

    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check(noisy, name="noisy"))})
    with pytest.warns(DeprecationWarning, match="deprecated thing"):
        report = validate(pd.DataFrame({"a": [1, 2]}), schema)
    assert report.n_failures == 0


def test_index_checks_are_reported_with_their_context():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int)}, index=pa.Index(int, pa.Check.lt(10), name="id")
    )
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index([1, 20], name="id"))
    detail = validate(frame, schema).to_frame(detailed=True)
    assert detail[["column", "check", "failure_case", "index", "context"]].values.tolist() == [
        ["id", "less_than", 20, 20, "Index"]
    ]


def test_multiple_field_uniqueness_is_one_row_per_duplicated_row():
    schema = pa.DataFrameSchema({"a": pa.Column(int), "b": pa.Column(int)}, unique=["a", "b"])
    report = validate(pd.DataFrame({"a": [1, 1, 2], "b": [5, 5, 5]}), schema)
    frame = report.to_frame()
    assert frame["check"].tolist() == ["multiple_fields_uniqueness"] * 2
    assert frame["column"].tolist() == [None, None]
    assert frame["index"].tolist() == [0, 1]
    assert frame["failure_case"].tolist() == [{"a": 1, "b": 5}, {"a": 1, "b": 5}]


def test_scalar_frame_check_is_one_row_without_index():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int)}, checks=[pa.Check(lambda d: len(d) > 5, name="enough_rows")]
    )
    assert _rows(validate(pd.DataFrame({"a": [1]}), schema)) == [
        (None, "enough_rows", False, None, "error")
    ]


def test_a_data_frame_model_class_is_accepted():
    class Prices(pa.DataFrameModel):
        price: float = pa.Field(gt=0)

    report = validate(pd.DataFrame({"price": [1.0, -1.0]}), Prices)
    assert _rows(report) == [("price", "greater_than", -1.0, 1, "error")]


def test_drop_invalid_rows_schema_still_reports_and_is_left_alone():
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))}, drop_invalid_rows=True)
    report = validate(pd.DataFrame({"a": [1, -1]}), schema)
    assert _rows(report) == [("a", "greater_than_or_equal_to", -1, 1, "error")]
    assert schema.drop_invalid_rows


def test_the_frame_is_not_modified_by_a_coercing_schema():
    schema = pa.DataFrameSchema({"a": pa.Column(float, coerce=True)})
    frame = pd.DataFrame({"a": [1, 2]})
    assert validate(frame, schema).passed
    assert frame["a"].dtype == np.int64


def test_pandas_string_columns_validate_as_str():
    schema = pa.DataFrameSchema({"s": pa.Column(str, pa.Check.isin(["a"]), nullable=True)})
    report = validate(pd.DataFrame({"s": ["a", None, "b"]}), schema)
    assert _rows(report) == [("s", "isin", "b", 2, "error")]


# -- bad input -----------------------------------------------------------------


def test_non_dataframe_input_is_named():
    schema = pa.DataFrameSchema({"a": pa.Column(int)})
    with pytest.raises(DataError, match="pandas DataFrame, got list") as info:
        validate([1, 2], schema)
    assert info.value.value == "list"
    with pytest.raises(DataError, match="got Series"):
        validate(pd.Series([1, 2], name="a"), schema)


def test_duplicate_column_names_are_named():
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"])
    with pytest.raises(DataError, match=r"duplicate column names: 'a'") as info:
        validate(frame, pa.DataFrameSchema({"a": pa.Column(int)}))
    assert info.value.column == "a"


def test_an_empty_frame_is_named():
    with pytest.raises(DataError, match=r"empty \(0 rows, columns 'a'\)"):
        validate(
            pd.DataFrame({"a": pd.Series([], dtype=int)}),
            pa.DataFrameSchema({"a": pa.Column(int)}),
        )


def test_a_schema_for_other_columns_is_named():
    schema = pa.DataFrameSchema({"a": pa.Column(int), "b": pa.Column(int)})
    with pytest.raises(DataError, match=r"schema is for other columns.*'a', 'b'.*'x', 'y'"):
        validate(pd.DataFrame({"x": [1], "y": [2]}), schema)


def test_a_regex_column_counts_as_shared():
    schema = pa.DataFrameSchema({r"x\d": pa.Column(int, regex=True)})
    assert validate(pd.DataFrame({"x1": [1]}), schema).passed


def test_a_schema_without_columns_checks_any_frame():
    schema = pa.DataFrameSchema(checks=[pa.Check(lambda d: d.notna().all(axis=None), name="full")])
    assert validate(pd.DataFrame({"z": [1]}), schema).passed


def test_a_non_schema_is_a_configuration_error():
    with pytest.raises(
        ConfigurationError, match="DataFrameSchema or DataFrameModel class, got dict"
    ):
        validate(pd.DataFrame({"a": [1]}), {"a": int})


def test_malformed_severity_metadata_is_a_configuration_error():
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int, pa.Check.ge(0), metadata={"mlkit": {"severity": "fatal"}})}
    )
    with pytest.raises(ConfigurationError, match="fatal"):
        validate(pd.DataFrame({"a": [-1]}), schema)


# -- agreement with pandera ----------------------------------------------------

_FRAME_LEVEL_COLUMN_CHECKS = {"column_in_dataframe", "column_in_schema"}


def _pandera_keys(schema, frame):
    """(column, check, index) of pandera's own failure cases, in the report's naming."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # raise_warning checks: the test compares without them
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as exc:
            cases = exc.failure_cases
        else:
            return set()
    keys = set()
    for context, column, check, failure, index in cases[
        ["schema_context", "column", "check", "failure_case", "index"]
    ].itertuples(index=False, name=None):
        name = re.sub(r"\(.*$", "", check, flags=re.DOTALL)
        if context == "DataFrameSchema":
            column = failure if name in _FRAME_LEVEL_COLUMN_CHECKS else None
        keys.add((None if pd.isna(column) else column, name, None if index is None else index))
    return keys


def _schema(warn: bool, frame_check: bool, strict: bool):
    return pa.DataFrameSchema(
        {
            "a": pa.Column(float, pa.Check.in_range(0, 10), nullable=False),
            "b": pa.Column(
                int, [pa.Check.ge(0), pa.Check.lt(10, raise_warning=warn)], unique=True
            ),
            "c": pa.Column(str, pa.Check.isin(["x", "y"]), nullable=True),
        },
        checks=[pa.Check(lambda d: d["b"] != 7, name="not_seven")] if frame_check else [],
        strict=strict,
    )


@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.floats(-5, 15, allow_nan=False), st.just(np.nan)),
            st.integers(-5, 15),
            st.one_of(st.sampled_from(["x", "y", "z"]), st.none()),
        ),
        min_size=1,
        max_size=15,
    ),
    b_as_float=st.booleans(),
    drop=st.sampled_from([None, "a", "c"]),
    extra=st.booleans(),
    warn=st.booleans(),
    frame_check=st.booleans(),
)
def test_report_agrees_with_pandera_failure_cases(
    rows, b_as_float, drop, extra, warn, frame_check
):
    """The report's failing (column, check, index) set is pandera's, renamed."""
    frame = pd.DataFrame(rows, columns=["a", "b", "c"])
    if b_as_float:
        frame["b"] = frame["b"].astype(float)
    if drop:
        frame = frame.drop(columns=drop)
    if extra:
        frame["d"] = 1
    schema = _schema(warn, frame_check, strict=True)
    report = validate(frame, schema)
    assert isinstance(report, ValidationReport)
    table = report.to_frame()
    keys = set(zip(table["column"], table["check"], table["index"], strict=True))
    assert len(keys) == len(table)  # one row per failing (column, check, index)
    not_warnings = {
        (column, check, index)
        for column, check, index, severity in zip(
            table["column"], table["check"], table["index"], table["severity"], strict=True
        )
        if severity != "warning"
    }
    assert not_warnings == _pandera_keys(schema, frame)
    # With every check raising, pandera finds the warning rows too.
    assert keys == _pandera_keys(_schema(False, frame_check, strict=True), frame)
    assert report.n_failures == int(report.counts()["n_failures"].sum())


def test_threads_validate_at_once_without_leaking_warning_filters():
    import threading
    import warnings

    import pandera.pandas as pa

    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0), nullable=False)})
    good = pd.DataFrame({"x": [1.0, 2.0]})
    bad = pd.DataFrame({"x": [-1.0, 2.0]})
    filters_before = list(warnings.filters)
    results: list[bool] = []
    errors: list[BaseException] = []

    def work(frame: pd.DataFrame) -> None:
        try:
            for _ in range(30):
                results.append(validate(frame, schema).passed)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f,)) for f in (good, bad, good, bad)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 60 + [True] * 60
    assert list(warnings.filters) == filters_before
