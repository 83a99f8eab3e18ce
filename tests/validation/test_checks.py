from __future__ import annotations

import decimal
import importlib
import time
from fractions import Fraction

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandera.io import pandas_io

import mlkit.validation._checks as checks_module
from mlkit.errors import ConfigurationError
from mlkit.validation import (
    MLKIT_CHECKS,
    mlkit_finite,
    mlkit_integral,
    mlkit_not_in_future,
)


def _failing_rows(check: pa.Check, series: pd.Series, *, nullable: bool = True) -> list[object]:
    schema = pa.DataFrameSchema({"x": pa.Column(checks=check, nullable=nullable)})
    try:
        schema.validate(pd.DataFrame({"x": series}), lazy=True)
    except pa.errors.SchemaErrors as exc:
        return sorted(exc.failure_cases["index"].tolist())
    return []


def test_every_check_is_registered_with_pandera_under_its_name():
    """The names in MLKIT_CHECKS are pandera checks, reachable as pa.Check.<name>."""
    assert set(MLKIT_CHECKS) == {"mlkit_finite", "mlkit_integral", "mlkit_not_in_future"}
    for name in MLKIT_CHECKS:
        assert name in pa.Check.REGISTERED_CUSTOM_CHECKS
        assert getattr(pa.Check, name)().name == name


def test_registering_again_or_reloading_does_not_fail():
    """Importing twice, reloading and re-registering are all no-ops."""
    checks_module._register_checks()
    reloaded = importlib.reload(checks_module)
    importlib.import_module("mlkit.validation")
    assert reloaded.mlkit_finite().name == "mlkit_finite"
    assert _failing_rows(reloaded.mlkit_finite(), pd.Series([1.0, np.inf])) == [1]


def test_statistics_hold_the_arguments_so_pandera_can_serialise_them():
    """A registered check round-trips through pandera's own JSON io."""
    assert mlkit_finite().statistics == {}
    assert mlkit_not_in_future(30).statistics == {"tolerance_seconds": 30.0}
    schema = pa.DataFrameSchema(
        {"n": pa.Column(float, [mlkit_finite(), mlkit_integral()], nullable=True)}
    )
    loaded = pandas_io.from_json(pandas_io.to_json(schema))
    assert [check.name for check in loaded.columns["n"].checks] == [
        "mlkit_finite",
        "mlkit_integral",
    ]


def test_finite_rejects_infinities_only():
    """+inf and -inf fail; NaN, large and ordinary values pass."""
    series = pd.Series([1.0, np.inf, np.nan, -np.inf, 1e308])
    assert _failing_rows(mlkit_finite(), series) == [1, 3]
    assert _failing_rows(mlkit_finite(), pd.Series([1, 2], dtype="Int64")) == []
    assert _failing_rows(mlkit_finite(), pd.Series([1.0, np.inf], dtype="Float64")) == [1]
    assert _failing_rows(mlkit_finite(), pd.Series(["a", np.inf], dtype=object)) == [1]


def test_integral_accepts_whole_numbers_and_missing_values():
    """3.0 passes, 3.5 and inf fail, NaN is left to nullable."""
    series = pd.Series([3.0, 3.5, np.nan, np.inf, -2.0, 1e300])
    assert _failing_rows(mlkit_integral(), series) == [1, 3]
    assert _failing_rows(mlkit_integral(), series, nullable=False) == [1, 2, 3]
    assert _failing_rows(mlkit_integral(), pd.Series([1, None], dtype="Int64")) == []
    assert _failing_rows(mlkit_integral(), pd.Series([1, 2.5, "x"], dtype=object)) == [1, 2]


def test_not_in_future_compares_with_now_plus_tolerance():
    """Naive timestamps are UTC; aware ones compare as instants; tolerance allows skew."""
    now = pd.Timestamp(time.time(), unit="s")
    naive = pd.Series([now - pd.Timedelta(hours=1), now + pd.Timedelta(hours=1), pd.NaT])
    assert _failing_rows(mlkit_not_in_future(), naive) == [1]
    assert _failing_rows(mlkit_not_in_future(tolerance_seconds=7200), naive) == []
    aware = naive.dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")
    assert _failing_rows(mlkit_not_in_future(), aware) == [1]
    as_text = pd.Series(["2001-01-01", "2999-01-01", "not a date"], dtype=object)
    assert _failing_rows(mlkit_not_in_future(), as_text) == [1, 2]


@pytest.mark.parametrize("tolerance", [-1, float("nan"), float("inf"), "soon", None])
def test_not_in_future_rejects_a_bad_tolerance(tolerance):
    with pytest.raises(ConfigurationError, match="tolerance_seconds must be a finite number"):
        mlkit_not_in_future(tolerance)


def test_pandera_options_pass_through():
    """raise_warning, name and friends reach pandera's Check."""
    check = mlkit_finite(raise_warning=True, name="no_inf")
    assert (check.raise_warning, check.name) == (True, "no_inf")
    schema = pa.DataFrameSchema({"x": pa.Column(float, check)})
    with pytest.warns(pa.errors.SchemaWarning, match="no_inf"):
        schema.validate(pd.DataFrame({"x": [np.inf]}))


def test_a_check_missing_its_statistic_defaults_to_no_tolerance():
    """pa.Check.mlkit_not_in_future() without arguments stores None, read as 0 seconds."""
    check = pa.Check.mlkit_not_in_future()
    assert check.statistics == {"tolerance_seconds": None}
    future = pd.Series([pd.Timestamp("2999-01-01")])
    assert _failing_rows(check, future) == [0]
    assert MLKIT_CHECKS["mlkit_not_in_future"]({"tolerance_seconds": None})(future[0]) is False


# --- the one-value predicates agree with the vectorised checks ---------------------

_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.decimals(allow_nan=False),
    st.sampled_from([decimal.Decimal("Infinity"), Fraction(1, 3), Fraction(10**400, 1)]),
)


def _vectorised(name: str, series: pd.Series) -> list[bool]:
    """What the registered pandera check function returns, element by element."""
    check = getattr(pa.Check, name)(ignore_na=False)
    return check(series).check_output.tolist()


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20))
def test_predicates_match_the_checks_on_float_columns(values):
    series = pd.Series(values, dtype="float64")
    for name in ("mlkit_finite", "mlkit_integral"):
        predicate = MLKIT_CHECKS[name]({})
        assert _vectorised(name, series) == [predicate(value) for value in series]


@given(st.lists(_VALUES, min_size=1, max_size=20))
def test_predicates_match_the_checks_on_object_columns(values):
    series = pd.Series(values, dtype=object)
    for name in ("mlkit_finite", "mlkit_integral"):
        predicate = MLKIT_CHECKS[name]({})
        assert _vectorised(name, series) == [predicate(value) for value in series]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
                max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
            ),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([None, "UTC", "Europe/Paris"]),
)
def test_not_in_future_predicate_matches_the_check_on_datetime_columns(values, zone):
    series = pd.Series(pd.to_datetime(values))
    if zone is not None:
        series = series.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    predicate = MLKIT_CHECKS["mlkit_not_in_future"]({"tolerance_seconds": 60.0})
    expected = [predicate(value) for value in series]
    assert _vectorised_with(series, 60.0) == expected


def _vectorised_with(series: pd.Series, tolerance: float) -> list[bool]:
    return mlkit_not_in_future(tolerance, ignore_na=False)(series).check_output.tolist()


def test_predicates_take_numpy_and_python_values():
    """The serving path hands over whatever a request decoded to."""
    finite = MLKIT_CHECKS["mlkit_finite"]({})
    integral = MLKIT_CHECKS["mlkit_integral"]({})
    future = MLKIT_CHECKS["mlkit_not_in_future"]({"tolerance_seconds": 0})
    assert finite(np.float32("inf")) is False
    assert finite(10**400) is True
    assert integral(np.int8(3))
    assert integral(np.float64(2.0))
    assert not integral(2.5)
    assert integral(decimal.Decimal("4"))
    assert not integral(decimal.Decimal("4.5"))
    assert future(np.datetime64("2001-01-01"))
    assert not future(np.datetime64("2999-01-01"))
    assert future("2001-01-01T00:00:00+05:00")
    assert not future(None)
    assert not future(12)
    assert not future(np.datetime64("NaT"))
