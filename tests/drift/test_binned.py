"""Binned drift statistics: edges, counts, PSI, Jensen-Shannon and Hellinger."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from mlkit.drift import _binned
from mlkit.drift._binned import (
    PSI_MODERATE,
    PSI_SIGNIFICANT,
    bin_counts,
    bin_counts_sorted,
    bin_edges,
    hellinger,
    hellinger_from_counts,
    jensen_shannon,
    jensen_shannon_from_counts,
    psi,
    psi_band,
    psi_from_counts,
)
from mlkit.drift._common import sort_columns
from mlkit.errors import ConfigurationError, DataError

SCALES = (1.0, 1e6, 1e-9)
# Small integers make heavy ties; bounded floats keep linspace/quantile finite.
ELEMENTS = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
)


@st.composite
def frames(draw, *, n_cols=None, min_rows=1, max_rows=25, nan=True):
    """A float (n_rows, n_cols) array: ties, constants, NaNs, 1e6 beside 1e-9 columns."""
    k = n_cols if n_cols is not None else draw(st.integers(1, 4))
    n = draw(st.integers(min_rows, max_rows))
    data = draw(hnp.arrays(np.float64, (n, k), elements=ELEMENTS))
    scales = np.array(draw(st.lists(st.sampled_from(SCALES), min_size=k, max_size=k)))
    data = data * scales
    constant = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    constant &= draw(st.booleans())
    data[:, constant] = 7.0 * scales[constant]
    if nan and draw(st.booleans()):
        data[draw(hnp.arrays(np.bool_, (n, k), elements=st.booleans()))] = np.nan
    return data


@st.composite
def pairs(draw, *, nan=True):
    k = draw(st.integers(1, 4))
    return draw(frames(n_cols=k, nan=nan)), draw(frames(n_cols=k, nan=nan))


def histogram_loop(data, edges):
    """The reference: np.histogram per column with open-ended outer bins, NaN dropped."""
    out = []
    for j in range(data.shape[1]):
        col = data[:, j][~np.isnan(data[:, j])]
        if np.isnan(edges[j]).any():
            out.append(np.zeros(edges.shape[1] - 1, dtype=np.int64))
            continue
        bins = np.concatenate([[-np.inf], edges[j, 1:-1], [np.inf]])
        out.append(np.histogram(col, bins=bins)[0])
    return np.array(out, dtype=np.int64).reshape(data.shape[1], edges.shape[1] - 1)


def brute_edges(col, bins, binning):
    col = col[~np.isnan(col)]
    if col.size == 0:
        return np.full(bins + 1, np.nan)
    if binning == "quantile":
        return np.quantile(col, np.linspace(0, 1, bins + 1))
    return np.linspace(col.min(), col.max(), bins + 1)


def brute_counts(ref, cur, bins, binning, nan_policy):
    """Per-column histograms with reference edges; None where the column is NaN-propagated."""
    out = []
    for j in range(ref.shape[1]):
        r, c = ref[:, j], cur[:, j]
        if nan_policy == "propagate" and (np.isnan(r).any() or np.isnan(c).any()):
            out.append(None)
            continue
        edges = brute_edges(r, bins, binning)
        if np.isnan(edges).any():
            out.append(None)
            continue
        inner = [-np.inf, *edges[1:-1], np.inf]
        rc = np.histogram(r[~np.isnan(r)], bins=inner)[0]
        cc = np.histogram(c[~np.isnan(c)], bins=inner)[0]
        out.append((rc, cc))
    return out


def brute_psi(rc, cc, eps):
    nr, nc = sum(rc), sum(cc)
    if nr == 0 or nc == 0:
        return math.nan
    total = 0.0
    for a, b in zip(rc, cc, strict=True):
        pr, pc = max(a / nr, eps), max(b / nc, eps)
        total += (pc - pr) * math.log(pc / pr)
    return total


def brute_hellinger(rc, cc):
    nr, nc = sum(rc), sum(cc)
    if nr == 0 or nc == 0:
        return math.nan
    s = sum((math.sqrt(a / nr) - math.sqrt(b / nc)) ** 2 for a, b in zip(rc, cc, strict=True))
    return math.sqrt(s / 2)


# --------------------------------------------------------------------------- edges


@given(frames(), st.integers(1, 12), st.sampled_from(["quantile", "uniform"]))
def test_bin_edges_match_numpy(data, bins, binning):
    """Edges equal np.quantile / np.linspace on each column's non-NaN values, bit for bit."""
    edges = bin_edges(sort_columns(data), bins=bins, binning=binning)
    assert edges.shape == (data.shape[1], bins + 1)
    for j in range(data.shape[1]):
        np.testing.assert_array_equal(edges[j], brute_edges(data[:, j], bins, binning))


def test_bin_edges_all_nan_column_is_nan_not_an_error():
    """A column without valid values gets NaN edges (untestable), the others are unaffected."""
    data = np.array([[np.nan, 1.0], [np.nan, 2.0], [np.nan, 3.0]])
    edges = bin_edges(sort_columns(data), bins=2)
    assert np.isnan(edges[0]).all()
    np.testing.assert_array_equal(edges[1], [1.0, 2.0, 3.0])
    assert np.isnan(bin_edges(sort_columns(data), bins=2, binning="uniform")[0]).all()


def test_bin_edges_with_infinities_do_not_warn():
    """Infinite reference values give finite or NaN edges silently (no RuntimeWarning)."""
    data = np.array([[1.0, -np.inf], [2.0, 0.0], [np.inf, 1.0], [np.inf, np.inf]])
    quantile = bin_edges(sort_columns(data), bins=4)
    assert quantile[0, 0] == 1.0
    assert quantile[0, -1] == np.inf
    assert np.isnan(bin_edges(sort_columns(data), bins=4, binning="uniform")).all()


def test_explicit_edges_are_validated_and_broadcast():
    """Explicit edges: (B+1,) for all columns or (k, B+1); decreasing or NaN edges raise."""
    ref = sort_columns(np.zeros((3, 2)))
    np.testing.assert_array_equal(bin_edges(ref, bins=[0, 1, 2]), [[0, 1, 2], [0, 1, 2]])
    two = [[0, 1, 2], [5, 6, 7]]
    np.testing.assert_array_equal(bin_edges(ref, bins=two), two)
    with pytest.raises(ConfigurationError, match=r"'b'.*decrease.*\[0\.0, 2\.0, 1\.0\]") as info:
        bin_edges(ref, bins=[[0, 1, 2], [0, 2, 1]], columns=["a", "b"])
    assert info.value.column == "b"
    with pytest.raises(ConfigurationError, match="NaN"):
        bin_edges(ref, bins=[0, np.nan, 2])
    with pytest.raises(ConfigurationError, match="shape"):
        bin_edges(ref, bins=[1.0])
    with pytest.raises(ConfigurationError, match="shape"):
        bin_edges(ref, bins=np.zeros((3, 4)))


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "10", None])
def test_bad_bins_raise_configuration_error(bad):
    """bins must be an integer >= 1 (not bool, float or str) or a sequence of edges."""
    with pytest.raises(ConfigurationError, match="bins") as info:
        bin_edges(sort_columns(np.zeros((3, 1))), bins=bad)
    assert info.value.value == bad


def test_unknown_binning_raises():
    """An unknown binning names the value and the choices."""
    with pytest.raises(ConfigurationError, match=r"quantile.*got 'deciles'"):
        bin_edges(sort_columns(np.zeros((3, 1))), binning="deciles")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- counting


@st.composite
def data_and_edges(draw):
    data = draw(frames(max_rows=40))
    k = data.shape[1]
    n_edges = draw(st.integers(2, 12))
    raw = draw(
        hnp.arrays(np.float64, (k, n_edges), elements=st.sampled_from([-2.0, -1.0, 0.0, 0.5, 3.0]))
    )
    edges = np.sort(raw, axis=1) * np.array(draw(st.sampled_from(SCALES)))
    if draw(st.booleans()):
        edges[0] = np.nan  # an untestable column
    return data, edges


@given(data_and_edges())
def test_bin_counts_equal_histogram_loop(case):
    """Both counters equal a per-column np.histogram loop, duplicate edges included."""
    data, edges = case
    expected = histogram_loop(data, edges)
    np.testing.assert_array_equal(bin_counts(data, edges), expected)
    np.testing.assert_array_equal(bin_counts(np.asfortranarray(data), edges), expected)
    np.testing.assert_array_equal(bin_counts_sorted(sort_columns(data), edges), expected)


def test_bin_counts_layouts_and_tiles(mlkit_rng, monkeypatch):
    """C-ordered, column-major and strided input, several tiles and a short last tile."""
    monkeypatch.setattr(_binned, "_ROW_LENGTH", 64)
    monkeypatch.setattr(_binned, "_BLOCK_VALUES", 200)
    monkeypatch.setattr(_binned, "_TRANSPOSE_ROWS", 16)
    data = mlkit_rng.normal(size=(1001, 9)) * np.logspace(-9, 6, 9)
    data[mlkit_rng.random(data.shape) < 0.05] = np.nan
    edges = bin_edges(sort_columns(data[:300]), bins=10)
    expected = histogram_loop(data, edges)
    for layout in (data, np.asfortranarray(data), data[::1, ::-1][:, ::-1], data.T.copy().T):
        np.testing.assert_array_equal(bin_counts(layout, edges), expected)
    strided = data[::3]
    np.testing.assert_array_equal(bin_counts(strided, edges), histogram_loop(strided, edges))


def test_bin_counts_many_edges_use_a_sort(mlkit_rng):
    """Past _MAX_COMPARISON_EDGES the counter sorts instead; the counts are the same."""
    data = mlkit_rng.normal(size=(500, 3))
    edges = bin_edges(sort_columns(data), bins=200)
    np.testing.assert_array_equal(bin_counts(data, edges), histogram_loop(data, edges))


def test_bin_counts_outer_bins_are_open_ended():
    """Values beyond the first and last edges count in the outer bins: nothing is dropped."""
    counts = bin_counts(np.array([-1e9, 0.0, 0.5, 1.0, 1e9, np.inf, -np.inf]), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(counts, [[3, 4]])


def test_bin_counts_empty_and_bad_input():
    """Zero rows count nothing; non-numeric data and mismatched edges raise, naming the column."""
    np.testing.assert_array_equal(bin_counts(np.zeros((0, 2)), [0.0, 1.0, 2.0]), np.zeros((2, 2)))
    data = np.array([[1.0, "x"], [2.0, "y"]], dtype=object)
    with pytest.raises(DataError, match=r"'size'.*'x'") as info:
        bin_counts(data, [0.0, 1.0], columns=["weight", "size"])
    assert info.value.column == "size"
    with pytest.raises(ConfigurationError, match="shape"):
        bin_counts(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ConfigurationError, match="decrease"):
        bin_counts_sorted(sort_columns(np.zeros((3, 1))), [1.0, 0.0])


# --------------------------------------------------------------------------- statistics


@given(
    pairs(),
    st.integers(1, 8),
    st.sampled_from(["quantile", "uniform"]),
    st.sampled_from(["omit", "propagate"]),
    st.sampled_from([1e-4, 1e-2]),
)
def test_psi_equals_brute_force(case, bins, binning, nan_policy, eps):
    """PSI equals a per-column loop: numpy edges, np.histogram, proportions floored at eps."""
    ref, cur = case
    res = psi(ref, cur, bins=bins, binning=binning, eps=eps, nan_policy=nan_policy)
    for j, counts in enumerate(brute_counts(ref, cur, bins, binning, nan_policy)):
        expected = math.nan if counts is None else brute_psi(*counts, eps)
        np.testing.assert_allclose(res.statistic[j], expected, rtol=1e-12, atol=1e-14)
    assert np.isnan(res.pvalue).all()
    np.testing.assert_array_equal(res.n_reference, (~np.isnan(ref)).sum(axis=0))
    np.testing.assert_array_equal(res.n_current, (~np.isnan(cur)).sum(axis=0))
    assert res.name == "psi"


@given(
    pairs(),
    st.integers(1, 8),
    st.sampled_from(["omit", "propagate"]),
    st.sampled_from([2, None, 10]),
)
def test_jensen_shannon_equals_scipy(case, bins, nan_policy, base):
    """The JS distance equals scipy's jensenshannon on the same two histograms and base."""
    ref, cur = case
    res = jensen_shannon(ref, cur, bins=bins, base=base, nan_policy=nan_policy)
    for j, counts in enumerate(brute_counts(ref, cur, bins, "quantile", nan_policy)):
        if counts is None or min(sum(counts[0]), sum(counts[1])) == 0:
            assert np.isnan(res.statistic[j])
            continue
        with np.errstate(invalid="ignore"):
            expected = jensenshannon(counts[0], counts[1], base=base)
        if np.isnan(expected):  # scipy's sqrt of a rounding-negative divergence
            assert 0.0 <= res.statistic[j] < 1e-7
        else:
            np.testing.assert_allclose(res.statistic[j], expected, rtol=1e-12, atol=1e-12)
    if base == 2:
        assert (res.statistic[~np.isnan(res.statistic)] <= 1.0).all()


@given(pairs(), st.integers(1, 8), st.sampled_from(["omit", "propagate"]))
def test_hellinger_equals_brute_force(case, bins, nan_policy):
    """Hellinger distance equals the textbook formula on the same histograms, within [0, 1]."""
    ref, cur = case
    res = hellinger(ref, cur, bins=bins, nan_policy=nan_policy)
    for j, counts in enumerate(brute_counts(ref, cur, bins, "quantile", nan_policy)):
        expected = math.nan if counts is None else brute_hellinger(*counts)
        np.testing.assert_allclose(res.statistic[j], expected, rtol=1e-12, atol=1e-14)
    finite = res.statistic[~np.isnan(res.statistic)]
    assert ((finite >= 0) & (finite <= 1)).all()


@pytest.mark.parametrize("kernel", [psi, jensen_shannon, hellinger])
def test_nan_policy_raise_names_the_column(kernel):
    """nan_policy='raise' raises DataError naming the sample and the column with a NaN."""
    ref = np.array([[1.0, 2.0], [3.0, 4.0]])
    cur = np.array([[1.0, np.nan], [3.0, 4.0]])
    with pytest.raises(DataError, match=r"current column 'b' holds NaN") as info:
        kernel(ref, cur, nan_policy="raise", columns=["a", "b"])
    assert info.value.column == "b"
    assert kernel(ref, ref, nan_policy="raise").statistic.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("kernel", [psi, jensen_shannon, hellinger])
def test_identical_samples_and_tiny_samples(kernel):
    """Identical samples give 0, one- and two-row samples work, all-NaN columns give NaN."""
    ref = np.array([[1.0, np.nan, 5.0], [2.0, np.nan, 5.0]])
    res = kernel(ref, ref, nan_policy="omit")
    assert res.statistic[0] == 0.0
    assert np.isnan(res.statistic[1])
    assert res.statistic[2] == 0.0
    one = kernel(np.array([3.0]), np.array([4.0]))
    assert one.statistic.shape == (1,)
    assert one.n_reference.tolist() == [1]


def test_bins_parameter_changes_psi(mlkit_rng):
    """bins is really used (Evidently ignores n_bins, issue #1400)."""
    ref = mlkit_rng.normal(size=(4000, 1))
    cur = mlkit_rng.normal(0.3, 1.2, size=(4000, 1))
    values = {b: psi(ref, cur, bins=b).statistic[0] for b in (2, 5, 10, 50)}
    assert len(set(values.values())) == 4
    explicit = bin_edges(sort_columns(ref), bins=2)[0]
    assert psi(ref, cur, bins=explicit).statistic[0] == values[2]


def test_heavy_ties_make_duplicate_edges_harmless(mlkit_rng):
    """90% zeros give equal quantile edges: their empty bins add nothing and values are kept."""
    ref = np.where(mlkit_rng.random((1000, 1)) < 0.9, 0.0, mlkit_rng.normal(size=(1000, 1)))
    edges = bin_edges(sort_columns(ref), bins=10)
    assert len(np.unique(edges)) < edges.size
    assert psi(ref, ref).statistic[0] == 0.0
    assert jensen_shannon(ref, ref).statistic[0] == 0.0
    assert bin_counts(ref, edges).sum() == 1000
    # The zeros all sit in the bin of the last zero edge; moving them below it is seen.
    assert psi(ref, ref - 0.1).statistic[0] > PSI_SIGNIFICANT


def test_mixed_scales_are_independent(mlkit_rng):
    """A 1e6 column beside a 1e-9 column: each column's result equals its result alone."""
    ref = mlkit_rng.normal(size=(300, 2)) * [1e6, 1e-9]
    cur = mlkit_rng.normal(0.2, size=(200, 2)) * [1e6, 1e-9]
    both = psi(ref, cur).statistic
    for j in range(2):
        assert both[j] == psi(ref[:, j], cur[:, j]).statistic[0]


def test_from_counts_rules():
    """Count-level functions: empty rows give NaN, eps floors empty bins, JS is 1 when disjoint."""
    ref = np.array([[10, 0], [0, 0], [5, 5]])
    cur = np.array([[0, 10], [3, 3], [5, 5]])
    p = psi_from_counts(ref, cur, eps=1e-4)
    assert p[0] == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4))
    assert np.isnan(p[1])
    assert p[2] == 0.0
    np.testing.assert_array_equal(jensen_shannon_from_counts(ref, cur)[[0, 2]], [1.0, 0.0])
    np.testing.assert_array_equal(hellinger_from_counts(ref, cur)[[0, 2]], [1.0, 0.0])
    assert psi_from_counts([3, 1], [1, 3]).shape == (1,)


def test_from_counts_bad_input():
    """Mismatched or negative counts raise DataError; eps and base are checked."""
    with pytest.raises(DataError, match="shape"):
        psi_from_counts(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(DataError, match="negative"):
        hellinger_from_counts([[1, -1]], [[1, 1]])
    for eps in (0, -1e-3, 1.0, "x"):
        with pytest.raises(ConfigurationError, match="eps"):
            psi_from_counts([[1]], [[1]], eps=eps)  # type: ignore[arg-type]
    for base in (1, 0, -2):
        with pytest.raises(ConfigurationError, match="base"):
            jensen_shannon_from_counts([[1]], [[1]], base=base)


def test_kernel_bad_input():
    """Mismatched columns, empty samples, non-numeric data and bad options raise MlkitErrors."""
    ref = np.zeros((5, 2))
    with pytest.raises(DataError, match="2 columns but current has 3"):
        psi(ref, np.zeros((5, 3)))
    with pytest.raises(DataError, match="current has no rows"):
        psi(ref, np.zeros((0, 2)))
    with pytest.raises(DataError, match="reference has no rows"):
        hellinger(np.zeros((0, 2)), ref)
    with pytest.raises(DataError, match=r"'b'.*'x'"):
        jensen_shannon(ref, np.array([[0.0, "x"]], dtype=object), columns=["a", "b"])
    with pytest.raises(DataError, match="2-D"):
        psi(np.zeros((2, 2, 2)), ref)
    with pytest.raises(ConfigurationError, match="eps"):
        psi(ref, ref, eps=0)
    with pytest.raises(ConfigurationError, match="bins"):
        psi(ref, ref, bins=0)
    with pytest.raises(ConfigurationError, match="binning"):
        hellinger(ref, ref, binning="log")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="nan_policy"):
        psi(ref, ref, nan_policy="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="base"):
        jensen_shannon(ref, ref, base=1)


def test_psi_band_boundaries():
    """Below 0.1 stable, [0.1, 0.25) moderate, 0.25 and above significant, NaN untestable."""
    assert (PSI_MODERATE, PSI_SIGNIFICANT) == (0.1, 0.25)
    values = [0.0, 0.0999, 0.1, 0.2499, 0.25, 3.0, float("nan")]
    assert psi_band(values).tolist() == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "significant",
        "significant",
        "untestable",
    ]
    assert psi_band(0.3).tolist() == "significant"


def test_result_frame_and_names(mlkit_rng):
    """Results carry names and sizes; to_frame has one row per column."""
    ref = mlkit_rng.normal(size=(50, 2))
    res = psi(ref, ref[:20], columns=["x", "y"])
    assert res.columns == ("x", "y")
    frame = res.to_frame()
    assert frame["column"].tolist() == ["x", "y"]
    assert frame["n_current"].tolist() == [20, 20]
