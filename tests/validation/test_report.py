import json
import pickle

import attrs
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from mlkit.errors import ConfigurationError, SchemaError
from mlkit.validation import ValidationReport, validate
from mlkit.validation._report import DETAIL_COLUMNS, FRAME_COLUMNS


@pytest.fixture
def report():
    schema = pa.DataFrameSchema(
        {
            "age": pa.Column(int, pa.Check.in_range(0, 120)),
            "city": pa.Column(str, pa.Check.isin(["Oslo", "Lima"])),
            "score": pa.Column(float, pa.Check.le(1.0, raise_warning=True)),
            "id": pa.Column(int),
        },
        strict=True,
    )
    frame = pd.DataFrame(
        {
            "age": [30, -1, 200, 40, 500, 41, -7],
            "city": ["Oslo", "Lima", "Rome", "Oslo", "Oslo", "Oslo", "Oslo"],
            "score": [0.5, 2.0, 0.1, 0.2, 0.3, 0.4, 0.5],
            "note": ["a"] * 7,
        }
    )
    return validate(frame, schema)


def test_to_frame_has_exactly_the_documented_columns(report):
    assert (
        tuple(report.to_frame().columns)
        == FRAME_COLUMNS
        == (
            "column",
            "check",
            "failure_case",
            "index",
            "severity",
        )
    )
    assert tuple(report.to_frame(detailed=True).columns) == DETAIL_COLUMNS
    assert list(report.to_frame().index) == list(range(report.n_failures))


def test_to_frame_is_a_copy(report):
    frame = report.to_frame()
    frame.loc[0, "severity"] = "info"
    assert report.to_frame().loc[0, "severity"] != "info"


def test_to_frame_keeps_none_as_none_under_pandas_string_inference(report):
    frame = report.to_frame()
    assert all(dtype is np.dtype(object) for dtype in frame.dtypes)
    assert frame.loc[frame["check"] == "column_in_dataframe", "index"].tolist() == [None]


def test_counts_one_row_per_column_check_severity_worst_first(report):
    counts = report.counts()
    assert list(counts.columns) == ["column", "check", "severity", "n_failures"]
    assert counts.values.tolist() == [
        ["id", "column_in_dataframe", "critical", 1],
        ["age", "in_range", "error", 4],
        ["note", "column_in_schema", "error", 1],
        ["city", "isin", "error", 1],
        ["score", "less_than_or_equal_to", "warning", 1],
    ]
    assert counts["n_failures"].dtype == np.int64
    assert counts["n_failures"].sum() == report.n_failures == 8


def test_verdict_properties(report):
    assert not report.passed
    assert report.max_severity == "critical"
    assert report.n_rows == 7
    assert report.missing_columns == ("id",)
    assert report.extra_columns == ("note",)
    assert repr(report) == "ValidationReport(passed=False, failures=8, max_severity='critical')"


def test_warnings_alone_pass():
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.le(1, raise_warning=True))})
    report = validate(pd.DataFrame({"a": [5]}), schema)
    assert report.passed
    assert report.max_severity == "warning"
    assert report.summary().startswith("validation passed: 1 failure in 1 rows, worst 'warning'")
    report.raise_for_errors()  # nothing at "error" or worse
    with pytest.raises(SchemaError):
        report.raise_for_errors(at="warning")


def test_report_is_frozen(report):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.n_rows = 3


def test_to_dict_is_json_safe_for_awkward_values():
    schema = pa.DataFrameSchema(
        {
            "x": pa.Column(float, pa.Check.lt(10), nullable=False),
            "t": pa.Column("datetime64[ns]", pa.Check.lt(pd.Timestamp("2024-01-01"))),
        },
        checks=[pa.Check(lambda d: d["x"] != 1.0, name="not_one")],
    )
    frame = pd.DataFrame(
        {
            "x": [np.inf, np.nan, 1.0],
            "t": pd.to_datetime(["2023-01-01", "2025-05-05", "2023-01-01"]),
        }
    )
    out = validate(frame, schema).to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    failures = {(f["column"], f["check"]): f for f in out["failures"]}
    assert failures[("x", "less_than")]["failure_case"] == "inf"
    assert failures[("x", "not_nullable")]["failure_case"] is None
    assert failures[("t", "less_than")]["failure_case"] == "2025-05-05T00:00:00"
    assert failures[(None, "not_one")]["failure_case"] == {"x": 1.0, "t": "2023-01-01T00:00:00"}
    assert out["passed"] is False
    assert out["n_failures"] == len(out["failures"]) == 4
    assert sum(c["n_failures"] for c in out["counts"]) == 4
    assert set(out["failures"][0]) == set(DETAIL_COLUMNS)


def test_to_dict_can_bound_the_failures_but_not_the_counts(report):
    out = report.to_dict(max_failures=2)
    assert len(out["failures"]) == 2
    assert sum(c["n_failures"] for c in out["counts"]) == 8


def test_summary_names_columns_checks_examples_and_totals(report):
    text = report.summary()
    lines = text.splitlines()
    assert lines[0] == (
        "validation failed: 8 failures in 7 rows, worst 'critical' "
        "(1 critical, 6 error, 1 warning)"
    )
    assert "missing columns [critical]: 'id'" in lines
    assert "extra columns [error]: 'note'" in lines
    assert (
        "- column 'age', in_range [error]: 4 failures (57.1% of rows); expected in_range(0, 120); "
        "e.g. -1 (row 1), 200 (row 2), 500 (row 4), -7 (row 6)"
    ) in lines
    assert (
        "- column 'city', isin [error]: 1 failure (14.3% of rows); "
        "expected isin(['Oslo', 'Lima']); e.g. 'Rome' (row 2)"
    ) in lines
    assert any(
        line.startswith("- column 'score', less_than_or_equal_to [warning]") for line in lines
    )


def test_summary_stays_bounded_on_big_failures():
    """Thousands of failures in many columns: a fixed number of lines and examples."""
    n_rows, n_columns = 20_000, 30
    frame = pd.DataFrame(
        {f"c{i}": -np.arange(1, n_rows + 1, dtype=float) for i in range(n_columns)}
    )
    schema = pa.DataFrameSchema(
        {f"c{i}": pa.Column(float, pa.Check.ge(0)) for i in range(n_columns)}
    )
    report = validate(frame, schema)
    assert report.n_failures == n_rows * n_columns
    text = report.summary(max_rows=4, max_examples=3)
    lines = text.splitlines()
    assert len(lines) == 1 + 4 + 1
    assert (
        lines[-1] == "... and 26 more (column, check) groups with 520000 failures: see to_frame()"
    )
    assert all(line.count("(row ") == 3 for line in lines[1:5])
    assert len(text) < 1500


def test_summary_truncates_long_values():
    schema = pa.DataFrameSchema({"s": pa.Column(str, pa.Check.str_length(max_value=5))})
    report = validate(pd.DataFrame({"s": ["x" * 1000]}), schema)
    line = report.summary().splitlines()[1]
    assert "xxx..." in line
    assert len(line) < 200


def test_summary_of_a_clean_report():
    schema = pa.DataFrameSchema({"a": pa.Column(int)})
    assert validate(pd.DataFrame({"a": [1]}), schema).summary() == (
        "validation passed: 1 rows, no failures"
    )


def test_raise_for_errors_message_is_the_summary(report):
    with pytest.raises(SchemaError) as info:
        report.raise_for_errors()
    message = str(info.value)
    assert message == report.summary()
    for needle in (
        "'age'",
        "in_range",
        "-1 (row 1)",
        "'city'",
        "'Rome'",
        "missing columns",
        "'id'",
    ):
        assert needle in message
    # several columns fail: no single column to blame
    assert info.value.column is None


def test_raise_for_errors_fields_name_the_one_failing_column():
    schema = pa.DataFrameSchema({"p": pa.Column(float, [pa.Check.ge(0), pa.Check.le(1)])})
    report = validate(pd.DataFrame({"p": [0.5, 1.5, -2.0]}), schema)
    with pytest.raises(SchemaError) as info:
        report.raise_for_errors()
    err = info.value
    assert err.column == "p"
    assert err.value == -2.0
    assert err.expected == "greater_than_or_equal_to(0); less_than_or_equal_to(1)"
    again = pickle.loads(pickle.dumps(err))
    assert (again.column, again.value, str(again)) == ("p", -2.0, str(err))


def test_raise_for_errors_threshold(report):
    with pytest.raises(SchemaError) as info:
        report.raise_for_errors(at="critical")
    assert info.value.column == "id"
    assert info.value.expected == "column_in_dataframe"
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))})
    report = validate(pd.DataFrame({"a": [-1]}), schema)
    report.raise_for_errors(at="critical")
    with pytest.raises(SchemaError):
        report.raise_for_errors(at="info")


def test_raise_for_errors_rejects_an_unknown_severity(report):
    with pytest.raises(ConfigurationError, match="at must be one of"):
        report.raise_for_errors(at="fatal")


def test_a_report_needs_the_failure_table():
    with pytest.raises(ConfigurationError, match="failures must be a DataFrame"):
        ValidationReport(n_rows=1, failures=pd.DataFrame({"column": []}))


def test_a_report_can_be_built_from_its_own_detailed_table(report):
    again = ValidationReport(n_rows=report.n_rows, failures=report.to_frame(detailed=True))
    assert again.counts().equals(report.counts())
    assert again.summary() == report.summary()


def test_counts_and_summary_do_not_depend_on_row_order(report):
    """Rows of one (column, check) need not be adjacent in a hand-built report."""
    shuffled = report.to_frame(detailed=True).sample(frac=1.0, random_state=3)
    again = ValidationReport(n_rows=report.n_rows, failures=shuffled.reset_index(drop=True))
    # equal counts break ties by first appearance, so compare as sets
    assert set(again.counts().itertuples(index=False)) == set(
        report.counts().itertuples(index=False)
    )
    assert again.summary().splitlines()[:3] == report.summary().splitlines()[:3]
