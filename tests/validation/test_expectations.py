"""Expectations: each ready-made one against a plain-Python computation, arguments, failures."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.validation._expectations import (
    STATS,
    Expectation,
    ExpectationResult,
    expect_column_mean_between,
    expect_column_stat_between,
    expect_columns,
    expect_fresh,
    expect_null_share_below,
    expect_row_count_between,
    expect_share_between,
    expect_unique,
    expect_values_in,
    to_json_safe,
)

CATEGORIES = ["a", "b", "c", "d"]


def is_null(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


@st.composite
def frames(draw, min_rows=0):
    """A frame with a float column (NaNs), a pandas-3 str column (Nones) and an int key."""
    n = draw(st.integers(min_rows, 40))
    x = draw(
        st.lists(
            st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=n, max_size=n
        )
    )
    c = draw(st.lists(st.sampled_from([*CATEGORIES, None]), min_size=n, max_size=n))
    k = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    df = pd.DataFrame(
        {
            "x": pd.Series([np.nan if v is None else v for v in x], dtype="float64"),
            "c": pd.Series(c, dtype="str"),
            "k": pd.Series(k, dtype="int64"),
        }
    )
    return df, {"x": x, "c": c, "k": k}


def strict_json(result):
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


# --- null share ---------------------------------------------------------------------------


@given(frames(), st.sampled_from(["x", "c", "k"]), st.floats(0, 1))
def test_null_share_matches_a_count_of_nulls(case, column, share):
    """The observed share is exactly nulls / rows, and passes iff it is at most `share`."""
    df, raw = case
    n_null = sum(is_null(v) for v in raw[column])
    observed = n_null / len(df) if len(df) else 0.0
    result = expect_null_share_below(column, share).check(df)
    assert result.observed == observed
    assert result.n_unexpected == n_null
    assert result.passed == (observed <= share)
    assert result.expected == share
    assert result.column == column


@given(frames(min_rows=1), st.floats(0, 1))
def test_null_share_of_every_column_is_the_worst_column(case, share):
    df, raw = case
    shares = {c: sum(is_null(v) for v in vs) / len(df) for c, vs in raw.items()}
    result = expect_null_share_below(None, share).check(df)
    assert result.observed == max(shares.values())
    assert result.passed == all(s <= share for s in shares.values())
    for column, s in shares.items():
        assert (repr(column) in result.message) == (s > share)


def test_null_share_zero_forbids_any_null():
    df = pd.DataFrame({"a": [1.0, 2.0, None]})
    assert not expect_null_share_below("a", 0).check(df).passed
    assert expect_null_share_below("a", 0).check(df.dropna()).passed


def test_null_share_of_an_empty_frame_passes():
    """No rows, no nulls: emptiness is expect_row_count_between's business."""
    df = pd.DataFrame({"a": pd.Series([], dtype="float64")})
    assert expect_null_share_below("a", 0).check(df).passed
    assert expect_null_share_below(None, 0).check(df).passed


# --- uniqueness ---------------------------------------------------------------------------


@given(frames(), st.sampled_from(["x", "c", "k"]))
def test_unique_counts_every_row_of_a_repeated_value(case, column):
    df, raw = case
    counts = Counter(v for v in raw[column] if not is_null(v))
    n_dup = sum(n for n in counts.values() if n > 1)
    result = expect_unique(column).check(df)
    assert result.observed == n_dup == result.n_unexpected
    assert result.passed == (n_dup == 0)
    assert result.expected == 0


@given(frames())
def test_unique_compound_key_ignores_rows_with_a_null_in_the_key(case):
    df, raw = case
    keys = [(c, k) for c, k in zip(raw["c"], raw["k"], strict=True) if c is not None]
    counts = Counter(keys)
    n_dup = sum(n for n in counts.values() if n > 1)
    result = expect_unique(["c", "k"]).check(df)
    assert result.observed == n_dup
    assert result.passed == (n_dup == 0)
    assert result.column == ("c", "k")
    assert result.name == "unique(c, k)"


def test_unique_message_shows_repeated_values():
    df = pd.DataFrame({"id": ["u1", "u2", "u2", "u3", "u3", "u3", None, None]})
    result = expect_unique("id").check(df)
    assert not result.passed
    assert result.observed == 5
    assert "'u2', 'u3'" in result.message


# --- values in a set ----------------------------------------------------------------------


@given(frames(), st.sets(st.sampled_from(CATEGORIES), min_size=1))
def test_values_in_matches_a_membership_loop(case, allowed):
    df, raw = case
    outside = [v for v in raw["c"] if v is not None and v not in allowed]
    distinct = list(dict.fromkeys(outside))[:20]
    result = expect_values_in("c", sorted(allowed)).check(df)
    assert result.n_unexpected == len(outside)
    assert result.observed == distinct
    assert result.passed == (not outside)
    assert result.expected == sorted(allowed)


def test_values_in_works_on_categoricals_and_ints():
    df = pd.DataFrame(
        {"cat": pd.Categorical(["x", "y", None, "z"]), "n": pd.array([1, 2, None, 7], "Int64")}
    )
    result = expect_values_in("cat", {"x", "y"}).check(df)
    assert (result.passed, result.observed, result.n_unexpected) == (False, ["z"], 1)
    result = expect_values_in("n", range(5)).check(df)
    assert (result.passed, result.observed) == (False, [7])
    assert strict_json(result)["observed"] == [7]


# --- statistics ---------------------------------------------------------------------------


def brute_stat(values, stat):
    if stat == "mean":
        return statistics.fmean(values)
    if stat == "median":
        return statistics.median(values)
    if stat == "std":
        return statistics.stdev(values) if len(values) > 1 else math.nan
    if stat == "sum":
        return math.fsum(values)
    return {"min": min, "max": max}[stat](values)


@given(
    frames(),
    st.sampled_from(STATS),
    st.floats(-1e6, 1e6),
    st.floats(0, 2e6),
)
def test_column_stat_matches_the_statistics_module(case, stat, lo, width):
    df, raw = case
    values = [v for v in raw["x"] if v is not None]
    result = expect_column_stat_between("x", stat, lo, lo + width).check(df)
    if not values:
        assert not result.passed
        assert result.observed is None
        assert "no non-null values" in result.message
        return
    expected = brute_stat(values, stat)
    if math.isnan(expected):
        assert not result.passed
        assert result.observed is None
        return
    assert result.observed == pytest.approx(expected, rel=1e-9, abs=1e-6)
    if abs(expected - lo) > 1e-6 and abs(expected - (lo + width)) > 1e-6:
        assert result.passed == (lo <= expected <= lo + width)
    assert result.expected == [lo, lo + width]


@given(frames(min_rows=1), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_mean_between_matches_fmean_with_open_sides(case, lo, hi):
    df, raw = case
    values = [v for v in raw["x"] if v is not None]
    for low, high in ((min(lo, hi), max(lo, hi)), (lo, None), (None, hi)):
        result = expect_column_mean_between("x", low, high).check(df)
        assert result.name == "mean_between(x)"
        if not values:
            assert not result.passed
            continue
        mean = statistics.fmean(values)
        assert result.observed == pytest.approx(mean, rel=1e-9, abs=1e-6)
        within = (low is None or mean >= low) and (high is None or mean <= high)
        near = any(b is not None and abs(mean - b) < 1e-6 for b in (low, high))
        if not near:
            assert result.passed == within


def test_mean_of_a_boolean_column_is_its_share_of_true():
    df = pd.DataFrame({"flag": pd.array([True, False, None, True], "boolean")})
    result = expect_column_mean_between("flag", 0.5, 1).check(df)
    assert result.passed
    assert result.observed == pytest.approx(2 / 3)


def test_stat_of_a_non_numeric_column_fails_with_its_dtype():
    df = pd.DataFrame({"s": ["a", "b"]})
    result = expect_column_mean_between("s", 0, 1).check(df)
    assert not result.passed
    assert "'s'" in result.message
    assert "not numeric" in result.message


def test_infinite_mean_fails_and_stays_json_safe():
    df = pd.DataFrame({"x": [1.0, np.inf]})
    result = expect_column_mean_between("x", 0, 10).check(df)
    assert not result.passed
    assert result.observed is None
    assert "inf" in result.message
    strict_json(result)


# --- share of a value ---------------------------------------------------------------------


@given(frames(), st.sampled_from(CATEGORIES), st.floats(0, 1), st.floats(0, 1))
def test_share_between_matches_a_count(case, value, a, b):
    df, raw = case
    present = [v for v in raw["c"] if v is not None]
    lo, hi = min(a, b), max(a, b)
    result = expect_share_between("c", value, lo, hi).check(df)
    if not present:
        assert not result.passed
        assert result.observed is None
        return
    share = sum(v == value for v in present) / len(present)
    assert result.observed == share
    assert result.passed == (lo <= share <= hi)


def test_share_between_on_integer_labels_ignores_nulls():
    df = pd.DataFrame({"label": [0, 0, 0, 1, None, None]})
    result = expect_share_between("label", 1, 0.2, 0.3).check(df)
    assert result.passed
    assert result.observed == 0.25
    assert result.name == "share_between(label=1)"


# --- row count and columns ----------------------------------------------------------------


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_row_count_between(n, a, b):
    lo, hi = min(a, b), max(a, b)
    df = pd.DataFrame({"a": range(n)})
    result = expect_row_count_between(lo, hi).check(df)
    assert result.observed == n
    assert result.passed == (lo <= n <= hi)
    assert expect_row_count_between(lo).check(df).passed == (n >= lo)
    assert expect_row_count_between(max=hi).check(df).passed == (n <= hi)


def test_expect_columns_reports_missing_and_unexpected():
    df = pd.DataFrame({"a": [1], "b": [2], "z": [3]})
    result = expect_columns(["a", "b", "c"]).check(df)
    assert not result.passed
    assert result.severity == "critical"
    assert result.observed == {"missing": ["c"], "unexpected": []}
    assert expect_columns(["a", "b", "z"]).check(df).passed
    result = expect_columns(["a", "b"], exact=True).check(df)
    assert result.observed == {"missing": [], "unexpected": ["z"]}
    assert "unexpected 'z'" in result.message


# --- freshness ----------------------------------------------------------------------------

NOW = pd.Timestamp("2024-05-01 12:00:00", tz="UTC")


@pytest.mark.parametrize(
    "stamps",
    [
        pd.to_datetime(["2024-05-01 09:00", "2024-05-01 11:00"]),  # naive = UTC
        pd.to_datetime(["2024-05-01 09:00", "2024-05-01 11:00"]).tz_localize("UTC"),
        pd.to_datetime(["2024-05-01 11:00", "2024-05-01 13:00"]).tz_localize("Europe/Paris"),
        pd.to_datetime(["2024-05-01 11:00", None, "2024-05-01 06:00"]),
    ],
    ids=["naive", "utc", "paris", "with-nat"],
)
def test_fresh_measures_age_of_the_newest_timestamp(stamps):
    """11:00 UTC in every variant: one hour old at noon UTC."""
    clock = FakeClock(start=NOW.timestamp())
    df = pd.DataFrame({"ts": stamps})
    result = expect_fresh("ts", 3600, clock=clock).check(df)
    assert result.observed == 3600.0
    assert result.passed
    clock.advance(1)
    result = expect_fresh("ts", dt.timedelta(hours=1), clock=clock).check(df)
    assert result.observed == 3601.0
    assert not result.passed
    assert result.expected == 3600.0
    assert "2024-05-01T11:00:00+00:00" in result.message
    strict_json(result)


@given(st.integers(-86_400, 86_400 * 30), st.integers(1, 86_400 * 7))
def test_fresh_seconds_and_timedelta_agree(age, max_age):
    clock = FakeClock(start=NOW.timestamp())
    df = pd.DataFrame({"ts": [NOW - pd.Timedelta(seconds=age)]})
    by_seconds = expect_fresh("ts", max_age, clock=clock).check(df)
    by_delta = expect_fresh("ts", pd.Timedelta(seconds=max_age), clock=clock).check(df)
    assert by_seconds.observed == by_delta.observed == pytest.approx(age)
    assert by_seconds.passed == by_delta.passed == (age <= max_age)


def test_fresh_uses_the_clock_at_check_time():
    clock = FakeClock(start=NOW.timestamp())
    fresh = expect_fresh("ts", 60, clock=clock)
    df = pd.DataFrame({"ts": [NOW]})
    assert fresh.check(df).passed
    clock.advance(61)
    assert not fresh.check(df).passed


def test_fresh_fails_on_non_datetime_or_empty_columns():
    clock = FakeClock(start=NOW.timestamp())
    fresh = expect_fresh("ts", 60, clock=clock)
    result = fresh.check(pd.DataFrame({"ts": ["2024-05-01"]}))
    assert not result.passed
    assert "pandas.to_datetime" in result.message
    result = fresh.check(pd.DataFrame({"ts": pd.to_datetime([None, None])}))
    assert not result.passed
    assert "no non-null timestamps" in result.message


def test_fresh_accepts_a_future_timestamp():
    clock = FakeClock(start=NOW.timestamp())
    result = expect_fresh("ts", 60, clock=clock).check(
        pd.DataFrame({"ts": [NOW + pd.Timedelta(minutes=5)]})
    )
    assert result.passed
    assert result.observed == -300.0
    assert "in the future" in result.message


def test_fresh_defaults_to_the_system_clock():
    df = pd.DataFrame({"ts": [pd.Timestamp.now(tz="UTC")]})
    assert expect_fresh("ts", 3600).check(df).passed


# --- missing columns and bad arguments ----------------------------------------------------

COLUMN_EXPECTATIONS = [
    expect_null_share_below("nope", 0.1),
    expect_unique("nope"),
    expect_unique(["x", "nope"]),
    expect_values_in("nope", [1]),
    expect_column_mean_between("nope", 0, 1),
    expect_column_stat_between("nope", "max", 0, 1),
    expect_share_between("nope", 1, 0, 1),
    expect_fresh("nope", 60, clock=FakeClock()),
]


@pytest.mark.parametrize("expectation", COLUMN_EXPECTATIONS, ids=lambda e: e.name)
def test_missing_column_is_a_failed_result_naming_it(expectation):
    df = pd.DataFrame({"x": [1.0, 2.0]})
    result = expectation.check(df)
    assert not result.passed
    assert result.observed is None
    assert "column 'nope' is missing" in result.message
    assert "'x'" in result.message  # what the frame has instead
    strict_json(result)


@pytest.mark.parametrize("expectation", COLUMN_EXPECTATIONS[:-2], ids=lambda e: e.name)
def test_duplicate_column_labels_are_a_failed_result(expectation):
    df = pd.DataFrame([[1, 2, 3]], columns=["nope", "nope", "x"])
    result = expectation.check(df)
    assert not result.passed
    assert "appears 2 times" in result.message


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: expect_row_count_between(), "give min or max"),
        (lambda: expect_row_count_between(10, 5), "min=10 is greater than max=5"),
        (lambda: expect_row_count_between(-1), "min must be a non-negative"),
        (lambda: expect_row_count_between(1.5), "min must be a non-negative"),
        (lambda: expect_null_share_below("a", 1.5), "share must be between 0 and 1"),
        (lambda: expect_null_share_below("a", math.nan), "share must be a finite number"),
        (lambda: expect_null_share_below(["a"], 0.1), "column must be one column label"),
        (lambda: expect_unique([]), "column is an empty list"),
        (lambda: expect_unique(["a", "a"]), "repeats a column"),
        (lambda: expect_unique(None), "column must be one column label"),
        (lambda: expect_values_in("a", "abc"), "values must be a collection"),
        (lambda: expect_values_in("a", []), "values is empty"),
        (lambda: expect_column_mean_between("a", 2, 1), "lo=2 is greater than hi=1"),
        (lambda: expect_column_mean_between("a", True, 1), "lo must be a finite number"),
        (lambda: expect_column_mean_between("a", None, math.inf), "hi must be a finite"),
        (lambda: expect_column_stat_between("a", "mode", 0, 1), "stat must be one of"),
        (lambda: expect_share_between("a", 1, 0, 2), "hi must be a share"),
        (lambda: expect_share_between("a", None, 0, 1), "value must not be null"),
        (lambda: expect_share_between("a", [1, 2], 0, 1), "value must be a single value"),
        (lambda: expect_columns("abc"), "columns must be a list"),
        (lambda: expect_columns([]), "columns is empty"),
        (lambda: expect_columns(["a"], exact=1), "exact must be True or False"),
        (lambda: expect_fresh("ts", 0), "max_age must be positive"),
        (lambda: expect_fresh("ts", dt.timedelta(seconds=-5)), "max_age must be positive"),
        (lambda: expect_fresh("ts", "1h"), "max_age must be a finite number"),
        (lambda: expect_fresh("ts", 60, clock=object()), "clock must have a now"),
        (lambda: expect_fresh(None, 60), "timestamp_column must be one column label"),
        (lambda: expect_unique("a", severity="fatal"), "severity must be one of"),
        (lambda: expect_unique("a", name=""), "name must be a non-empty string"),
    ],
)
def test_bad_arguments_raise_configuration_error_naming_the_argument(build, argument):
    with pytest.raises(ConfigurationError, match=argument):
        build()


# --- Expectation itself -------------------------------------------------------------------


def test_custom_fn_returning_bool_pair_or_numpy_bool():
    df = pd.DataFrame({"a": [1, 2, 3]})
    assert Expectation("b", lambda d: True).check(df).passed
    result = Expectation("np", lambda d: (d["a"] > 0).all(), description="a > 0").check(df)
    assert result.passed is True
    assert result.message == "passed: a > 0"
    result = Expectation("pair", lambda d: (False, d["a"].max()), severity="info").check(df)
    assert (result.passed, result.observed, result.severity) == (False, 3, "info")
    assert type(result.observed) is int


def test_custom_fn_result_takes_the_expectations_name_and_severity():
    def fn(df):
        return ExpectationResult("whatever", "info", False, 1, 0, None, "bad")

    result = Expectation("mine", fn, severity="critical", column="a").check(pd.DataFrame())
    assert (result.name, result.severity, result.column, result.message) == (
        "mine",
        "critical",
        "a",
        "bad",
    )


def test_fn_that_raises_gives_a_failed_result_and_logs(caplog):
    def boom(df):
        raise ZeroDivisionError("division by zero")

    with caplog.at_level(logging.WARNING, logger="mlkit.validation._expectations"):
        result = Expectation("boom", boom, severity="warning").check(pd.DataFrame({"a": [1]}))
    assert not result.passed
    assert result.severity == "warning"
    assert result.message == "the expectation raised ZeroDivisionError: division by zero"
    assert "boom" in caplog.text
    assert "ZeroDivisionError" in caplog.text
    strict_json(result)


def test_fn_returning_the_wrong_type_gives_a_failed_result():
    result = Expectation("odd", lambda df: "yes").check(pd.DataFrame())
    assert not result.passed
    assert "returned str" in result.message


def test_expectation_arguments_are_checked():
    with pytest.raises(ConfigurationError, match="name must be a non-empty string"):
        Expectation("", lambda df: True)
    with pytest.raises(ConfigurationError, match="fn must be a callable"):
        Expectation("x", 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="severity must be one of"):
        Expectation("x", lambda df: True, severity="high")
    with pytest.raises(ConfigurationError, match="severity must be one of"):
        ExpectationResult("x", "high", True)


def test_check_needs_a_dataframe():
    with pytest.raises(DataError, match="needs a pandas DataFrame, got list"):
        expect_unique("a").check([1, 2])


def test_reprs_are_short():
    assert repr(expect_unique("id", severity="warning")) == (
        "Expectation('unique(id)', severity='warning')"
    )
    result = expect_values_in("c", ["a"]).check(pd.DataFrame({"c": ["x" * 100]}))
    assert len(repr(result)) < 120


# --- JSON safety --------------------------------------------------------------------------


@given(frames())
def test_every_result_is_strict_json(case):
    df, _ = case
    df = df.assign(ts=pd.Timestamp("2024-01-01", tz="UTC"), y=np.inf)
    clock = FakeClock(start=NOW.timestamp())
    for expectation in [
        expect_row_count_between(1, 10),
        expect_null_share_below(None, 0.1),
        expect_unique(["c", "k"]),
        expect_values_in("c", ["a"]),
        expect_values_in("ts", [pd.Timestamp("2023-01-01", tz="UTC")]),
        expect_column_stat_between("y", "mean", 0, 1),
        expect_column_stat_between("x", "std", 0, 1),
        expect_share_between("c", "a", 0.1, 0.2),
        expect_columns(["x", "q"], exact=True),
        expect_fresh("ts", dt.timedelta(days=1), clock=clock),
    ]:
        result = expectation.check(df)
        assert strict_json(result) == result.to_dict()


def test_to_json_safe_converts_numpy_pandas_and_datetime_values():
    value = {
        "i": np.int32(3),
        "f": np.float32(0.5),
        "b": np.bool_(True),
        "nan": math.nan,
        "inf": -math.inf,
        "na": pd.NA,
        "nat": pd.NaT,
        "ts": pd.Timestamp("2024-01-01 10:00", tz="UTC"),
        "dt64": np.datetime64("2024-01-01T00:00:00"),
        "td": dt.timedelta(minutes=2),
        "td64": np.timedelta64(3, "s"),
        "set": {3, 1, 2},
        "arr": np.array([1.0, np.nan]),
        "obj": object,
        2: "key",
    }
    out = to_json_safe(value)
    assert out == {
        "i": 3,
        "f": 0.5,
        "b": True,
        "nan": None,
        "inf": None,
        "na": None,
        "nat": None,
        "ts": "2024-01-01T10:00:00+00:00",
        "dt64": "2024-01-01T00:00:00",
        "td": 120.0,
        "td64": 3.0,
        "set": [1, 2, 3],
        "arr": [1.0, None],
        "obj": "<class 'object'>",
        "2": "key",
    }
    json.dumps(out, allow_nan=False)
