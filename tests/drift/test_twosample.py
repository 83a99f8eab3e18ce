"""The ECDF statistics (KS, Wasserstein, Cramér-von Mises) against scipy, column by column."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from mlkit.drift._common import sort_columns
from mlkit.drift._twosample import (
    KSGrid,
    ecdf_statistics,
    integral_table,
    ks_bounded,
    ks_by_search,
    merge_statistics,
)

# Values from a few "regimes" so that hypothesis builds ties, mixed scales and NaNs.
VALUES = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, width=64),
    st.floats(-1e-9, 1e-9, allow_nan=False),
    st.just(np.nan),
)


@st.composite
def samples(draw, max_rows=40, max_cols=4):
    k = draw(st.integers(1, max_cols))
    n = draw(st.integers(1, max_rows))
    m = draw(st.integers(1, max_rows))
    ref = draw(hnp.arrays(np.float64, (n, k), elements=VALUES))
    cur = draw(hnp.arrays(np.float64, (m, k), elements=VALUES))
    return ref, cur


def _valid(col):
    return col[~np.isnan(col)]


def _scipy_ks(r, c, alternative):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.ks_2samp(r, c, alternative=alternative, method="asymp").statistic


def _check_against_scipy(ref, cur, res, *, ref_index=None):
    for j in range(cur.shape[1]):
        rj = j if ref_index is None else ref_index[j]
        r, c = _valid(ref[:, rj]), _valid(cur[:, j])
        if len(r) == 0 or len(c) == 0:
            assert np.isnan(res.ks_greater[j])
            assert np.isnan(res.ks_less[j])
            continue
        assert res.ks_greater[j] == _scipy_ks(r, c, "greater")
        assert res.ks_less[j] == _scipy_ks(r, c, "less")
        assert res.ks[j] == _scipy_ks(r, c, "two-sided")
        if res.wasserstein is not None:
            expected = stats.wasserstein_distance(r, c)
            assert res.wasserstein[j] == pytest.approx(expected, rel=1e-12, abs=1e-300)
        if res.cvm_u is not None and len(r) > 1 and len(c) > 1:
            n, m = len(r), len(c)
            t = res.cvm_u[j] / (n * m * (n + m)) - (4 * n * m - 1) / (6 * (n + m))
            expected = stats.cramervonmises_2samp(r, c).statistic
            assert t == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(samples())
def test_merge_matches_scipy(data):
    """The full merge gives scipy's KS bit for bit and its W1 and CvM T to 1e-12."""
    ref, cur = data
    res = merge_statistics(
        sort_columns(ref), sort_columns(cur), ks=True, wasserstein=True, cvm=True
    )
    _check_against_scipy(ref, cur, res)


@given(samples(), st.integers(1, 20))
def test_bounded_ks_equals_the_full_merge_for_any_grid(data, cells):
    """Skipping runs by their bound never changes the KS statistic, whatever the grid."""
    ref, cur = data
    rs, cs = sort_columns(ref), sort_columns(cur)
    bounded = ks_bounded(rs, cs, grid=KSGrid.build(rs, cells))
    full = merge_statistics(rs, cs, ks=True)
    np.testing.assert_array_equal(bounded.ks_greater, full.ks_greater)
    np.testing.assert_array_equal(bounded.ks_less, full.ks_less)


@given(samples())
def test_search_path_matches_scipy(data):
    ref, cur = data
    _check_against_scipy(ref, cur, ks_by_search(sort_columns(ref), sort_columns(cur)))


@given(samples(max_rows=60))
def test_ecdf_statistics_match_scipy(data):
    ref, cur = data
    res = ecdf_statistics(
        sort_columns(ref), sort_columns(cur), ks=True, wasserstein=True, cvm=True
    )
    _check_against_scipy(ref, cur, res)


@given(samples(max_rows=30), st.data())
def test_ref_index_maps_current_columns_to_reference_columns(data, draw):
    """Each current column is compared with the reference column ref_index names."""
    ref, cur = data
    index = np.array(
        draw.draw(
            st.lists(
                st.integers(0, ref.shape[1] - 1), min_size=cur.shape[1], max_size=cur.shape[1]
            )
        )
    )
    rs, cs = sort_columns(ref), sort_columns(cur)
    res = ecdf_statistics(rs, cs, ks=True, wasserstein=True, ref_index=index)
    _check_against_scipy(ref, cur, res, ref_index=index)


@pytest.mark.parametrize(("n", "m"), [(400, 20), (2000, 7), (300, 300), (50, 400)])
def test_each_wasserstein_path_matches_scipy(mlkit_rng, n, m):
    """Equal sizes (coupling), small batch (integral table) and general (merge)."""
    ref = mlkit_rng.normal(size=(n, 3)) * [1, 1e6, 1e-6] + [0, 0, 5]
    cur = mlkit_rng.normal(0.3, 1.5, size=(m, 3)) * [1, 1e6, 1e-6] + [0, 0, 5]
    ref[::7, 0] = np.round(ref[::7, 0])
    cur[::3, 0] = np.round(cur[::3, 0])
    rs, cs = sort_columns(ref), sort_columns(cur)
    res = ecdf_statistics(rs, cs, ks=False, wasserstein=True, table=integral_table(rs))
    for j in range(3):
        expected = stats.wasserstein_distance(ref[:, j], cur[:, j])
        assert res.wasserstein[j] == pytest.approx(expected, rel=1e-12)


def test_statistics_use_every_value_when_one_side_is_far_away():
    """A current sample entirely beyond the reference: KS 1, W the mean gap."""
    ref = np.arange(100.0)[:, None]
    cur = (np.arange(10.0) + 1000)[:, None]
    res = ecdf_statistics(sort_columns(ref), sort_columns(cur), ks=True, wasserstein=True)
    assert res.ks[0] == 1.0
    assert res.ks_greater[0] == 1.0
    assert res.ks_less[0] == 0.0
    assert res.wasserstein[0] == pytest.approx(1004.5 - 49.5)


def test_chunking_does_not_change_results(mlkit_rng):
    ref = mlkit_rng.normal(size=(500, 30))
    cur = mlkit_rng.normal(0.1, size=(400, 30))
    rs, cs = sort_columns(ref), sort_columns(cur)
    small = merge_statistics(rs, cs, ks=True, wasserstein=True, cvm=True, chunk_bytes=1)
    large = merge_statistics(rs, cs, ks=True, wasserstein=True, cvm=True)
    for a, b in [
        (small.ks, large.ks),
        (small.wasserstein, large.wasserstein),
        (small.cvm_u, large.cvm_u),
    ]:
        np.testing.assert_array_equal(a, b)
    bounded = ks_bounded(rs, cs, chunk_bytes=1)
    np.testing.assert_array_equal(bounded.ks, large.ks)
