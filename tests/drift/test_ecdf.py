"""Public ECDF kernels against scipy; NaN policies; errors."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from mlkit.drift import DriftDetector, cramervonmises, ks_2samp, wasserstein
from mlkit.errors import ConfigurationError, DataError

VALUES = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e-9, 1e-9, allow_nan=False),
    st.just(np.nan),
)


@st.composite
def pairs(draw, max_rows=30):
    k = draw(st.integers(1, 3))
    ref = draw(hnp.arrays(np.float64, (draw(st.integers(1, max_rows)), k), elements=VALUES))
    cur = draw(hnp.arrays(np.float64, (draw(st.integers(1, max_rows)), k), elements=VALUES))
    return ref, cur


def _scipy(fn, r, c, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(r, c, **kwargs)


@given(
    pairs(),
    st.sampled_from(["two-sided", "less", "greater"]),
    st.sampled_from(["auto", "exact", "asymp"]),
)
def test_ks_2samp_equals_scipy_with_nan_omitted(data, alternative, method):
    ref, cur = data
    res = ks_2samp(ref, cur, alternative=alternative, method=method, nan_policy="omit")
    for j in range(ref.shape[1]):
        r, c = ref[~np.isnan(ref[:, j]), j], cur[~np.isnan(cur[:, j]), j]
        if len(r) == 0 or len(c) == 0:
            assert np.isnan(res.statistic[j])
            continue
        expected = _scipy(stats.ks_2samp, r, c, alternative=alternative, method=method)
        assert res.statistic[j] == expected.statistic
        assert res.pvalue[j] == pytest.approx(expected.pvalue, abs=1e-9)
        assert (res.n_reference[j], res.n_current[j]) == (len(r), len(c))


@given(pairs())
def test_propagate_gives_nan_only_for_columns_with_nan(data):
    ref, cur = data
    res = ks_2samp(ref, cur)  # default nan_policy="propagate", as scipy
    has_nan = np.isnan(ref).any(axis=0) | np.isnan(cur).any(axis=0)
    assert np.isnan(res.statistic[has_nan]).all()
    assert not np.isnan(res.statistic[~has_nan]).any()


def test_raise_names_the_column():
    ref = np.ones((5, 2))
    cur = np.ones((5, 2))
    cur[3, 1] = np.nan
    with pytest.raises(DataError, match="current column 'b' holds NaN") as info:
        ks_2samp(ref, cur, nan_policy="raise", columns=["a", "b"])
    assert info.value.column == "b"


@given(pairs())
def test_wasserstein_and_cvm_equal_scipy(data):
    ref, cur = data
    w = wasserstein(ref, cur, nan_policy="omit")
    wn = wasserstein(ref, cur, nan_policy="omit", normalize=True)
    cvm = cramervonmises(ref, cur, nan_policy="omit")
    for j in range(ref.shape[1]):
        r, c = ref[~np.isnan(ref[:, j]), j], cur[~np.isnan(cur[:, j]), j]
        if len(r) == 0 or len(c) == 0:
            continue
        expected = stats.wasserstein_distance(r, c)
        assert w.statistic[j] == pytest.approx(expected, rel=1e-12, abs=1e-300)
        spread = r.std()
        if spread > 0:
            assert wn.statistic[j] == pytest.approx(expected / spread, rel=1e-12, abs=1e-300)
        else:
            assert wn.statistic[j] == (0.0 if expected == 0 else np.inf)
        assert np.isnan(w.pvalue[j])
        if len(r) > 1 and len(c) > 1:
            exp = _scipy(stats.cramervonmises_2samp, r, c)
            assert cvm.statistic[j] == pytest.approx(exp.statistic, rel=1e-9, abs=1e-12)
            assert cvm.pvalue[j] == pytest.approx(exp.pvalue, abs=1e-9)


def test_results_are_tidy_and_json_safe(mlkit_rng):
    ref = mlkit_rng.normal(size=(200, 2))
    cur = mlkit_rng.normal(size=(150, 2))
    cur[0, 1] = np.nan
    res = ks_2samp(ref, cur, columns=["x", "y"])
    frame = res.to_frame()
    assert list(frame.columns) == [
        "column",
        "test",
        "statistic",
        "p_value",
        "n_reference",
        "n_current",
    ]
    assert frame.column.tolist() == ["x", "y"]
    data = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert data["test"] == "ks"
    assert data["columns"][1]["statistic"] is None
    assert repr(res).startswith("StatResult(ks: x=")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: ks_2samp(np.ones((3, 2)), np.ones((3, 3))),
            DataError,
            "2 columns but current has 3",
        ),
        (lambda: ks_2samp(np.ones((0, 2)), np.ones((3, 2))), DataError, "reference has no rows"),
        (lambda: ks_2samp(np.ones((2, 2, 2)), np.ones((3, 2))), DataError, "must be 2-D"),
        (
            lambda: ks_2samp([["a"], ["b"]], [[1.0]], columns=["city"]),
            DataError,
            "reference 'city': value 'a' is not numeric",
        ),
        (lambda: ks_2samp([1.0], [2.0], method="fastest"), ConfigurationError, "method"),
        (lambda: ks_2samp([1.0], [2.0], alternative="up"), ConfigurationError, "alternative"),
        (lambda: ks_2samp([1.0], [2.0], nan_policy="skip"), ConfigurationError, "nan_policy"),
        (lambda: ks_2samp([1.0], [2.0], columns=["a", "b"]), ConfigurationError, "2 names"),
        (lambda: cramervonmises([1.0], [2.0], method="exactly"), ConfigurationError, "method"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_inputs_are_never_modified(mlkit_rng):
    ref = np.asfortranarray(mlkit_rng.normal(size=(50, 3)))
    cur = mlkit_rng.normal(size=(40, 3))
    before = ref.copy(), cur.copy()
    ks_2samp(ref, cur)
    wasserstein(ref, cur)
    np.testing.assert_array_equal(ref, before[0])
    np.testing.assert_array_equal(cur, before[1])


def test_detector_cvm_equals_the_kernel(mlkit_rng):
    ref = pd.DataFrame({"x": mlkit_rng.normal(size=300), "y": mlkit_rng.exponential(size=300)})
    cur = pd.DataFrame(
        {"x": mlkit_rng.normal(0.3, size=250), "y": mlkit_rng.exponential(size=250)}
    )
    frame = DriftDetector(tests=["cvm"]).fit(ref).test(cur).to_frame().set_index("column")
    kernel = cramervonmises(ref.to_numpy(), cur.to_numpy())
    np.testing.assert_allclose(frame.statistic.to_numpy(), kernel.statistic, rtol=1e-12)
    np.testing.assert_allclose(frame.p_value.to_numpy(), kernel.pvalue, rtol=1e-9)
