"""Missing-rate drift: the two-proportion test on each column's missing share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import chi2_contingency

from mlkit.drift._missing import missing_mask, missing_rate_test, missing_rate_test_from_counts
from mlkit.errors import DataError


def brute_z_test(m_ref, n_ref, m_cur, n_cur):
    """Textbook pooled two-proportion z-test, two-sided: (difference, p-value)."""
    diff = m_cur / n_cur - m_ref / n_ref
    pooled = (m_ref + m_cur) / (n_ref + n_cur)
    var = pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur)
    if var == 0:
        return 0.0, 1.0
    z = diff / math.sqrt(var)
    return diff, math.erfc(abs(z) / math.sqrt(2))


@st.composite
def count_cases(draw):
    k = draw(st.integers(1, 5))
    n_ref = draw(st.lists(st.integers(1, 10_000), min_size=k, max_size=k))
    n_cur = draw(st.lists(st.integers(1, 10_000), min_size=k, max_size=k))
    m_ref = [draw(st.integers(0, n)) for n in n_ref]
    m_cur = [draw(st.integers(0, n)) for n in n_cur]
    # Some columns with all or nothing missing in both samples.
    if draw(st.booleans()):
        m_ref[0], m_cur[0] = 0, 0
    if draw(st.booleans()):
        m_ref[-1], m_cur[-1] = n_ref[-1], n_cur[-1]
    return m_ref, n_ref, m_cur, n_cur


@given(count_cases())
def test_from_counts_equals_scipy_and_brute_force(case):
    """p-value equals chi2_contingency(correction=False) on the 2 x 2 table and the z-test."""
    m_ref, n_ref, m_cur, n_cur = case
    stat, p = missing_rate_test_from_counts(m_ref, n_ref, m_cur, n_cur)
    for j in range(len(m_ref)):
        diff, p_brute = brute_z_test(m_ref[j], n_ref[j], m_cur[j], n_cur[j])
        np.testing.assert_allclose(stat[j], diff, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(p[j], p_brute, rtol=1e-9, atol=1e-300)
        table = [[m_ref[j], n_ref[j] - m_ref[j]], [m_cur[j], n_cur[j] - m_cur[j]]]
        if (m_ref[j] + m_cur[j]) in (0, n_ref[j] + n_cur[j]):
            assert (stat[j], p[j]) == (0.0, 1.0)
            continue
        expected = chi2_contingency(table, correction=False).pvalue
        np.testing.assert_allclose(p[j], expected, rtol=1e-12, atol=1e-300)


@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.integers(1, 4),
    st.data(),
)
def test_missing_rate_test_on_float_arrays(n_ref, n_cur, k, data):
    """On float arrays the test counts NaNs per column and matches the count-level function."""
    ref = data.draw(hnp.arrays(np.float64, (n_ref, k), elements=st.sampled_from([0.0, np.nan])))
    cur = data.draw(hnp.arrays(np.float64, (n_cur, k), elements=st.sampled_from([1e6, np.nan])))
    res = missing_rate_test(ref, cur)
    stat, p = missing_rate_test_from_counts(
        np.isnan(ref).sum(axis=0), n_ref, np.isnan(cur).sum(axis=0), n_cur
    )
    np.testing.assert_array_equal(res.statistic, stat)
    np.testing.assert_array_equal(res.pvalue, p)
    assert res.n_reference.tolist() == [n_ref] * k
    assert res.n_current.tolist() == [n_cur] * k
    assert res.name == "missing_rate"


def test_a_column_going_30_percent_null_has_drifted(mlkit_rng):
    """The motivating case: 30% nulls appear in one column, the other is untouched."""
    ref = mlkit_rng.normal(size=(2000, 2))
    cur = mlkit_rng.normal(size=(2000, 2))
    cur[mlkit_rng.random(2000) < 0.3, 1] = np.nan
    res = missing_rate_test(ref, cur, columns=["steady", "leaky"])
    assert res.statistic[0] == 0.0
    assert res.pvalue[0] == 1.0
    assert res.statistic[1] == pytest.approx(0.3, abs=0.05)
    assert res.pvalue[1] < 1e-100
    assert res.to_frame()["column"].tolist() == ["steady", "leaky"]


def test_object_and_other_dtypes():
    """None, NaN, pd.NA and NaT are missing in object arrays; NaT in datetimes; ints never."""
    obj = np.array([[None, "a"], [np.nan, "b"], [pd.NA, None], [pd.NaT, "c"]], dtype=object)
    np.testing.assert_array_equal(missing_mask(obj).sum(axis=0), [4, 1])
    days = np.array(["2024-01-01", "NaT"], dtype="M8[s]")
    np.testing.assert_array_equal(missing_mask(days), [[False], [True]])
    assert not missing_mask(np.arange(4)).any()
    assert not missing_mask(np.array(["a", ""])).any()
    res = missing_rate_test(obj, np.array([["x", "y"]], dtype=object))
    np.testing.assert_array_equal(res.statistic, [-1.0, -0.25])


def test_shares_both_zero_or_both_one():
    """Nothing missing anywhere, or everything missing in both: statistic 0, p-value 1."""
    stat, p = missing_rate_test_from_counts([0, 5], [10, 5], [0, 7], [20, 7])
    np.testing.assert_array_equal(stat, [0.0, 0.0])
    np.testing.assert_array_equal(p, [1.0, 1.0])


def test_tiny_samples():
    """One-row samples work: all missing against none missing is a difference of 1."""
    stat, p = missing_rate_test_from_counts(1, 1, 0, 1)
    assert stat.tolist() == [-1.0]
    assert p[0] == pytest.approx(chi2_contingency([[1, 0], [0, 1]], correction=False).pvalue)


def test_bad_input():
    """Empty samples, mismatched columns, bad shapes and impossible counts raise DataError."""
    with pytest.raises(DataError, match="current has no rows"):
        missing_rate_test(np.zeros((3, 2)), np.zeros((0, 2)))
    with pytest.raises(DataError, match="2 columns but current has 3"):
        missing_rate_test(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(DataError, match="2-D"):
        missing_rate_test(np.zeros((3, 2, 1)), np.zeros((3, 2)))
    with pytest.raises(DataError, match="column 1: current has 5 missing values out of 4 rows"):
        missing_rate_test_from_counts([0, 0], [4, 4], [0, 5], [4, 4])
    with pytest.raises(DataError, match="reference has 0 missing values out of 0 rows"):
        missing_rate_test_from_counts([0], [0], [0], [4])
    with pytest.raises(DataError, match="-1"):
        missing_rate_test_from_counts([-1], [3], [0], [4])
    with pytest.raises(DataError, match="different lengths"):
        missing_rate_test_from_counts([0, 1], [3, 3, 3], [0], [4])
    with pytest.raises(DataError, match="whole numbers"):
        missing_rate_test_from_counts([0.5], [3], [0], [4])
    with pytest.raises(DataError, match="counts"):
        missing_rate_test_from_counts(["a"], [3], [0], [4])
