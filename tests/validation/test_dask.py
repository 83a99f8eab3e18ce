"""Validation, schema inference and the quality monitor on Dask frames and chunks.

Every test compares the result on 1, 3 and 17 partitions (or chunks) with
the result of the same call on the pandas frame holding the same rows.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dask_support import dask_on
from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.validation import (
    DataQualityMonitor,
    Expectation,
    expect_column_mean_between,
    expect_column_stat_between,
    expect_columns,
    expect_fresh,
    expect_null_share_below,
    expect_row_count_between,
    expect_share_between,
    expect_unique,
    expect_values_in,
    infer_schema,
    validate,
)
from mlkit.validation._expectations import _Moments
from mlkit.validation._io import _describe_schema

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

PARTITIONS = [1, 3, 17]
N = 340


@pytest.fixture(autouse=True)
def _synchronous():
    # The threaded scheduler adds nothing to these comparisons but time; Dask
    # would turn pandas' "str" columns into "string" (another dtype, other texts).
    with dask.config.set({"scheduler": "sync", "dataframe.convert-string": False}):
        yield


def dirty_frame(n: int = N) -> pd.DataFrame:
    """A frame with a failure of every kind, duplicates far apart (other partitions)."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "price": rng.uniform(0, 120, n).round(2),
            "plan": rng.choice(["free", "pro", "gold"], n, p=[0.6, 0.3, 0.1]),
            "qty": rng.integers(0, 5, n).astype(np.float64),  # the schema wants int64
            "store": rng.integers(0, 40, n),
            "day": rng.choice(["mon", "tue"], n),
            "extra": 1,  # the schema is strict
        },
        index=pd.Index([f"row{i:04d}" for i in range(n)], name="key"),
    )
    frame.loc[frame.index[[2, n - 3]], "id"] = 17  # 17 occurs three times
    frame.loc[frame.index[[5, n // 2]], "id"] = 99
    frame.loc[frame.index[::11], "price"] = np.nan
    return frame


def dirty_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "id": pa.Column(int, unique=True),
            "price": pa.Column(
                float, [pa.Check.in_range(0, 100), pa.Check.le(90, raise_warning=True)]
            ),
            "plan": pa.Column(str, pa.Check.isin(["free", "pro"])),
            "qty": pa.Column(int),
            "store": pa.Column(int),
            "day": pa.Column(str),
            "missing": pa.Column(int),
        },
        unique=["store", "day"],
        strict=True,
    )


def ddf(frame: pd.DataFrame, npartitions: int) -> Any:
    return dd.from_pandas(frame, npartitions=npartitions, sort=False)


def rows(report) -> list[str]:
    """The report's failure rows as sorted text: pieces may list them in another order."""
    frame = report.to_frame(detailed=True)
    return sorted(repr(row) for row in frame.itertuples(index=False, name=None))


def counts(report) -> pd.DataFrame:
    return (
        report.counts()
        .sort_values(["severity", "check", "column"], key=lambda s: s.astype(str))
        .reset_index(drop=True)
    )


# --- validate -----------------------------------------------------------------


@pytest.mark.parametrize("npartitions", PARTITIONS)
def test_validate_on_dask_equals_pandas(npartitions):
    """Verdict, counts and every failure row (sorted) equal pandas' on the same rows."""
    frame, schema = dirty_frame(), dirty_schema()
    expected = validate(frame, schema)
    got = validate(ddf(frame, npartitions), schema, max_failure_cases=10_000)
    assert set(expected.counts()["check"]) >= {
        "column_in_dataframe",
        "column_in_schema",
        "dtype",
        "field_uniqueness",
        "multiple_fields_uniqueness",
        "in_range",
        "isin",
        "not_nullable",
        "less_than_or_equal_to",
    }
    assert (got.passed, got.max_severity, got.n_rows) == (
        expected.passed,
        expected.max_severity,
        expected.n_rows,
    )
    pd.testing.assert_frame_equal(counts(got), counts(expected))
    assert got.n_failures == expected.n_failures
    assert not got.sampled
    assert rows(got) == rows(expected)


@pytest.mark.parametrize("npartitions", [3, 17])
def test_failure_cases_are_sampled_and_counts_stay_exact(npartitions):
    """At most max_failure_cases rows per check, real index labels, exact counts."""
    frame, schema = dirty_frame(), dirty_schema()
    expected = validate(frame, schema)
    got = validate(ddf(frame, npartitions), schema, max_failure_cases=4)
    pd.testing.assert_frame_equal(counts(got), counts(expected))
    assert got.sampled
    assert got.n_failures == expected.n_failures
    assert got.to_dict()["sampled"] is True
    assert "failure cases sampled" in got.summary()
    shown = got.to_frame(detailed=True)
    assert shown.groupby(["column", "check"], dropna=False).size().max() <= 4
    for row in shown[shown["column"].isin(["price", "plan", "id"])].itertuples():
        assert row.index in frame.index
        cell = frame.loc[row.index, row.column]
        assert (pd.isna(cell) and pd.isna(row.failure_case)) or cell == row.failure_case


def test_the_pandas_path_samples_only_when_asked():
    frame, schema = dirty_frame(), dirty_schema()
    full = validate(frame, schema)
    assert not full.sampled
    sampled = validate(frame, schema, max_failure_cases=2)
    assert sampled.sampled
    assert sampled.n_failures == full.n_failures
    pd.testing.assert_frame_equal(sampled.counts(), full.counts())
    assert len(sampled.to_frame()) < len(full.to_frame())


def test_the_default_sample_on_dask_is_100_per_check():
    frame = pd.DataFrame({"x": np.arange(1000)})
    schema = pa.DataFrameSchema({"x": pa.Column(int, pa.Check.lt(0))})
    report = validate(ddf(frame, 5), schema)
    assert report.n_failures == 1000
    assert len(report.to_frame()) == 100
    assert report.counts()["n_failures"].tolist() == [1000]


def test_schema_problems_are_reported_once_not_per_partition():
    frame, schema = dirty_frame(), dirty_schema()
    report = validate(ddf(frame, 17), schema)
    once = report.counts().set_index("check")["n_failures"]
    assert once["column_in_dataframe"] == once["column_in_schema"] == once["dtype"] == 1
    assert report.missing_columns == ("missing",)
    assert report.extra_columns == ("extra",)


def test_duplicates_split_across_partitions_are_found():
    frame = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6, 1]}, index=list("abcdefg"))
    schema = pa.DataFrameSchema({"id": pa.Column(int, unique=True)})
    report = validate(ddf(frame, 7), schema)  # one row per partition
    got = report.to_frame()
    assert sorted(got["index"]) == ["a", "g"]
    assert set(got["failure_case"]) == {1}
    assert not report.passed


def test_a_whole_column_check_is_reported_not_evaluated():
    """A check returning one bool cannot be split: a warning row, never silence."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    check = pa.Check(lambda s: s.mean() < 0, name="mean_negative")
    schema = pa.DataFrameSchema({"x": pa.Column(float, check)})
    assert not validate(frame, schema).passed  # pandas runs it
    report = validate(ddf(frame, 2), schema)
    shown = report.to_frame(detailed=True)
    assert shown[["column", "check", "failure_case", "severity"]].values.tolist() == [
        ["x", "not_evaluated", "mean_negative", "warning"]
    ]
    assert "not evaluated" in shown["detail"].iloc[0]
    assert report.passed
    assert report.max_severity == "warning"


def test_a_vectorised_custom_check_runs_per_partition():
    frame = pd.DataFrame({"x": [1.0, -2.0, 3.0, -4.0]})
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check(lambda s: s > 0, name="pos"))})
    assert rows(validate(ddf(frame, 3), schema)) == rows(validate(frame, schema))


def test_a_list_of_chunks_equals_pandas():
    frame, schema = dirty_frame(), dirty_schema()
    chunks = [frame.iloc[i : i + 50] for i in range(0, len(frame), 50)]
    got = validate(chunks, schema, max_failure_cases=10_000)
    assert rows(got) == rows(validate(frame, schema))


def test_a_one_shot_iterator_and_lazy_false_are_refused():
    frame, schema = dirty_frame(), dirty_schema()
    with pytest.raises(DataError, match="one-shot iterator"):
        validate(iter([frame.iloc[:10], frame.iloc[10:]]), schema)
    with pytest.raises(ConfigurationError, match="lazy=False"):
        validate(ddf(frame, 3), schema, lazy=False)
    with pytest.raises(DataError, match="empty"):
        validate(ddf(frame.iloc[:0], 1), schema)


# --- infer_schema ---------------------------------------------------------------


def reference_frame(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "user": [f"u{i}" for i in range(n)],
            "amount": rng.normal(50, 10, n),
            "count": rng.integers(0, 9, n).astype(np.float64),
            "inf": rng.normal(size=n),
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "city": rng.choice(["oslo", "rome", "lima"], n),
            "obj": pd.Series(rng.choice(["a", "b"], n), dtype=object),
            "many": [f"v{i % 40}" for i in range(n)],
            "flag": np.zeros(n, dtype=bool),
            "when": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "dup": rng.integers(0, 1000, n),
        }
    )
    frame.loc[n - 1, "id"] = 0  # not unique: the duplicate is far away from row 0
    frame.loc[5, "count"] = np.nan
    frame.loc[7, "inf"] = np.inf
    return frame


@pytest.mark.parametrize("npartitions", PARTITIONS)
def test_infer_schema_on_dask_equals_pandas(npartitions):
    frame = reference_frame()
    expected = infer_schema(frame, categorical_max=20)
    got = infer_schema(ddf(frame, npartitions), categorical_max=20)
    assert _describe_schema(got) == _describe_schema(expected)
    assert got == expected
    assert not got.columns["id"].unique
    assert got.columns["user"].unique


def test_infer_schema_from_chunks_equals_pandas():
    frame = reference_frame()
    chunks = (frame.iloc[i : i + 70] for i in range(0, len(frame), 70))
    assert infer_schema(chunks, nullable="always") == infer_schema(frame, nullable="always")


def test_infer_schema_keeps_a_non_range_index():
    frame = dirty_frame()[["price", "plan"]]
    assert infer_schema(ddf(frame, 3)) == infer_schema(frame)


# --- DataQualityMonitor -----------------------------------------------------------


def expectations() -> list[Expectation]:
    return [
        expect_row_count_between(10, 300),
        expect_null_share_below("price", 0.01),
        expect_null_share_below(None, 0.5),
        expect_unique("id"),
        expect_unique(["store", "day"], name="key"),
        expect_values_in("plan", ["free", "pro"]),
        expect_column_mean_between("price", 0, 55),
        expect_column_stat_between("price", "std", 0, 30),
        expect_column_stat_between("store", "max", 0, 38),
        expect_column_stat_between("qty", "sum", 0, 10),
        expect_share_between("day", "mon", 0.4, 0.6),
        expect_columns(["id", "price", "gone"], exact=True),
        expect_fresh("when", 3600, clock=FakeClock(1_717_000_000.0)),
        expect_column_stat_between("plan", "mean", 0, 1, name="not_numeric"),
    ]


def monitored_frame() -> pd.DataFrame:
    frame = dirty_frame()
    frame["when"] = pd.date_range("2024-05-29", periods=len(frame), freq="min")
    return frame


def same_results(got, expected) -> None:
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        a, b = mine.to_dict(), theirs.to_dict()
        if isinstance(b["observed"], float):
            assert a.pop("observed") == pytest.approx(b.pop("observed"), rel=1e-12)
            a.pop("message"), b.pop("message")
        assert a == b


@pytest.mark.parametrize("npartitions", PARTITIONS)
def test_monitor_on_dask_equals_pandas(npartitions):
    frame = monitored_frame()
    monitor = DataQualityMonitor(dirty_schema(), expectations())
    expected = monitor.check(frame)
    got = monitor.check(ddf(frame, npartitions))
    assert got.n_rows == expected.n_rows
    assert got.max_severity == expected.max_severity
    assert got.counts() == expected.counts()
    same_results(got.expectations, expected.expectations)
    assert sum(not r.passed for r in got.expectations) >= 8
    pd.testing.assert_frame_equal(counts(got.validation), counts(expected.validation))


def test_monitor_on_a_list_of_chunks_equals_pandas():
    frame = monitored_frame()
    monitor = DataQualityMonitor(dirty_schema(), expectations())
    chunks = [frame.iloc[i : i + 64] for i in range(0, len(frame), 64)]
    same_results(monitor.check(chunks).expectations, monitor.check(frame).expectations)
    with pytest.raises(DataError, match="one-shot iterator"):
        monitor.check(iter(chunks))


def test_custom_and_median_expectations_are_not_evaluated_unless_marked():
    frame = monitored_frame()
    whole = Expectation("small", lambda df: len(df) < 10, severity="critical")
    median = expect_column_stat_between("price", "median", 0, 1)
    marked = Expectation("small_dask", lambda df: bool(len(df) < 10), dask=True)
    report = DataQualityMonitor(None, [whole, median, marked]).check(ddf(frame, 3))
    small, med, small_dask = report.expectations
    for result in (small, med):
        assert not result.passed
        assert result.severity == "warning"
        assert result.message.startswith("not evaluated on a Dask frame")
    assert not small_dask.passed
    assert small_dask.severity == "error"
    assert small_dask.message == "failed"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=60),
    st.lists(st.integers(0, 60), max_size=4),
)
def test_merged_moments_match_pandas(values, cuts):
    """Mean, std, sum merged over any split equal pandas' up to rounding; min/max exactly."""
    array = np.asarray(values)
    bounds = [0, *sorted(cuts), len(array)]
    merged = _Moments.of(array[: bounds[1]])
    for lo, hi in itertools.pairwise(bounds[1:]):
        merged = _Moments.merge(merged, _Moments.of(array[lo:hi]))
    series = pd.Series(array)
    scale = max(1.0, float(np.abs(array).max()))
    assert merged.stat("min") == series.min()
    assert merged.stat("max") == series.max()
    assert math.isclose(merged.stat("sum"), series.sum(), rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(merged.stat("mean"), series.mean(), rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(merged.stat("std"), series.std(), rel_tol=1e-7, abs_tol=1e-7 * scale)


# --- a real cluster, and the import cost -------------------------------------------


def test_a_two_worker_local_cluster_gives_the_pandas_results(dask_client):
    frame, schema = monitored_frame(), dirty_schema()
    data = ddf(frame, 3)
    with dask_on(dask_client) as tasks:
        report = validate(data, schema, max_failure_cases=10_000)
        inferred = infer_schema(ddf(reference_frame(), 3))
        quality = DataQualityMonitor(schema, expectations()).check(data)
    assert tasks.data  # the work ran on the cluster's workers
    assert rows(report) == rows(validate(frame, schema))
    # Check objects compare equal only within one registration of pandera's
    # built-in checks; the description compares what the schema does.
    assert _describe_schema(inferred) == _describe_schema(infer_schema(reference_frame()))
    same_results(
        quality.expectations, DataQualityMonitor(schema, expectations()).check(frame).expectations
    )


def test_importing_mlkit_validation_does_not_import_dask():
    code = "import sys, mlkit.validation; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_index_uniqueness_is_reported_not_evaluated_on_pieces():
    frame = pd.DataFrame({"x": [1, 2, 3, 4]}, index=[1, 2, 3, 1])
    schema = pa.DataFrameSchema({"x": pa.Column(int)}, index=pa.Index(int, unique=True))
    assert not validate(frame, schema).passed
    report = validate(ddf(frame, 2), schema)
    shown = report.to_frame(detailed=True)
    assert shown["check"].tolist() == ["not_evaluated"]
    assert shown["severity"].tolist() == ["warning"]
    assert shown["context"].tolist() == ["Index"]


def test_a_monitor_without_expectations_reads_the_rows_from_the_validation():
    frame = dirty_frame()
    report = DataQualityMonitor(dirty_schema()).check(ddf(frame, 3))
    assert report.n_rows == len(frame)
    assert report.max_severity == "critical"


SPLITS = st.lists(st.integers(0, 120), max_size=5).map(lambda cuts: sorted(set(cuts)))


def chunks_of(frame: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    bounds = [0, *[c for c in cuts if 0 < c < len(frame)], len(frame)]
    return [frame.iloc[lo:hi] for lo, hi in itertools.pairwise(bounds)]


@settings(max_examples=8, deadline=None)
@given(SPLITS)
def test_validation_does_not_depend_on_where_the_chunks_are_cut(cuts):
    frame, schema = dirty_frame(120), dirty_schema()
    got = validate(chunks_of(frame, cuts), schema, max_failure_cases=10_000)
    assert rows(got) == rows(validate(frame, schema))


@settings(max_examples=15, deadline=None)
@given(SPLITS)
def test_inference_does_not_depend_on_where_the_chunks_are_cut(cuts):
    frame = reference_frame(120)
    got = infer_schema(chunks_of(frame, cuts))
    assert _describe_schema(got) == _describe_schema(infer_schema(frame))


@pytest.mark.parametrize("keep", ["exclude_first", "exclude_last"])
@pytest.mark.parametrize("npartitions", [1, 4, 9])
def test_report_duplicates_other_than_all_match_pandas(keep, npartitions):
    """The kept copy of each duplicated value is the first (last) overall, not per piece."""
    frame = pd.DataFrame(
        {"id": [5, 1, 5, 2, 3, 5, 1, 4, 2], "day": list("aabbaabba")},
        index=[f"r{i}" for i in range(9)],
    )
    schema = pa.DataFrameSchema(
        {"id": pa.Column(int, unique=True, report_duplicates=keep), "day": pa.Column(str)},
        unique=["id", "day"],
        report_duplicates=keep,
    )
    expected = validate(frame, schema)
    assert expected.n_failures > 0
    assert rows(validate(ddf(frame, npartitions), schema)) == rows(expected)
