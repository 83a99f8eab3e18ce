"""The drift detector on chunks and Dask frames: equal to pandas, or within the stated bound."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from dask_support import dask_on
from mlkit.drift import DriftDetector, ReferenceProfile
from mlkit.drift._common import sort_columns
from mlkit.drift._scale import ks_bounds, ks_count, ks_gap_sums, wasserstein_bounds
from mlkit.errors import ConfigurationError, DataError

dd = pytest.importorskip("dask.dataframe")

EXACT_TESTS = ["ks", "psi", "jensen_shannon", "hellinger", "chi2", "tvd", "missing"]
PARTITIONS = [1, 3, 17]


def make_frame(rng, n, *, shift=0.0):
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3 + shift, 1, n),
            "score": np.round(rng.normal(shift, 1, n), 1),  # heavy ties
            "hour": rng.integers(0, 24, n),  # integer, 24 values: numeric
            "city": rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]),
            "rating": rng.integers(1, 6, n),  # integer, 5 values: categorical
        }
    )
    frame.loc[rng.random(n) < 0.05, "score"] = np.nan
    frame.loc[rng.random(n) < 0.03, "city"] = None
    return frame


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(11)
    return make_frame(rng, 3000), make_frame(rng, 2000, shift=0.15)


def chunks_of(frame, size):
    return (frame.iloc[i : i + size] for i in range(0, len(frame), size))


def key(frame):
    return frame.set_index(["column", "test"])


def assert_rows_equal(got, want):
    """Every row of ``got`` equals ``want``'s: statistics, p-values and verdicts."""
    got, want = key(got), key(want)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got["statistic"], want["statistic"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["p_value"], want["p_value"], rtol=1e-9, atol=1e-300)
    assert (got["drifted"] == want["drifted"]).all()
    for name in ["n_reference", "n_current", "missing_reference", "missing_current"]:
        assert (got[name] == want[name]).all(), name
    assert got["exact"].all()


def test_pandas_reports_keep_their_columns_and_summaries_add_exact(frames):
    ref, cur = frames
    det = DriftDetector(tests=EXACT_TESTS).fit(ref)
    pandas_report = det.test(cur)
    assert "exact" not in pandas_report.to_frame().columns
    assert pandas_report.to_frame(exact=True)["exact"].all()
    assert all(row["exact"] for row in pandas_report.to_dict()["rows"])
    chunked = det.test(chunks_of(cur, 700)).to_frame()
    assert list(chunked.columns) == [*pandas_report.to_frame().columns, "exact"]


@pytest.mark.parametrize("parts", PARTITIONS)
def test_dask_current_equals_pandas(frames, parts):
    """Every exact statistic of a Dask current equals the pandas one, for any partitioning."""
    ref, cur = frames
    det = DriftDetector(tests=EXACT_TESTS).fit(ref)
    want = det.test(cur)
    got = det.test(dd.from_pandas(cur, npartitions=parts))
    assert_rows_equal(got.to_frame(), want.to_frame(exact=True))
    assert got.drifted_columns == want.drifted_columns
    assert got.drifted == want.drifted


@pytest.mark.parametrize("parts", PARTITIONS)
def test_dask_reference_fits_the_same_profile(frames, parts):
    """A reference fitted from partitions holds the same profile as the pandas one."""
    ref, _ = frames
    want = DriftDetector().fit(ref).profile_
    got = DriftDetector().fit(dd.from_pandas(ref, npartitions=parts)).profile_
    assert got.held_sorted
    assert got.columns == want.columns
    assert got.kinds == want.kinds
    assert got.categories == want.categories
    assert dict(got.missing) == dict(want.missing)
    assert got.fingerprint == want.fingerprint
    for name in ["edges", "grid", "std", "category_counts"]:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    np.testing.assert_array_equal(got.sorted.values, want.sorted.values)
    np.testing.assert_array_equal(got.sorted.n_valid, want.sorted.n_valid)


@pytest.mark.parametrize("parts", PARTITIONS)
def test_chunked_reference_and_current_equal_pandas(frames, parts):
    ref, cur = frames
    want = DriftDetector(tests=EXACT_TESTS).fit(ref).test(cur)
    size = -(-len(cur) // parts)
    det = DriftDetector(tests=EXACT_TESTS).fit(list(chunks_of(ref, -(-len(ref) // parts))))
    got = det.test(chunks_of(cur, size))
    assert_rows_equal(got.to_frame(), want.to_frame(exact=True))


def test_raw_value_statistics_are_untestable_on_summaries(frames):
    """Cramér-von Mises needs the raw values; Wasserstein is bounded from the summaries."""
    ref, cur = frames
    det = DriftDetector(tests=["ks", "wasserstein", "cvm"]).fit(ref)
    rows = key(det.test(chunks_of(cur, 500)).to_frame())
    assert "raw values" in rows.loc[("amount", "cvm"), "reason"]
    assert not rows.loc[("amount", "cvm"), "exact"]
    assert not rows.loc[("amount", "wasserstein"), "reason"]
    assert np.isfinite(rows.loc[("amount", "wasserstein"), "statistic"])
    assert rows.loc[("amount", "ks"), "exact"]


def test_absent_and_extra_columns_match_pandas(frames):
    ref, cur = frames
    cur = cur.drop(columns=["city"]).assign(extra=1.0)
    det = DriftDetector().fit(ref)
    want = det.test(cur)
    got = det.test(dd.from_pandas(cur, npartitions=3))
    assert got.untestable == want.untestable
    assert got.extra_columns == want.extra_columns == ("extra",)


def ks_scipy(ref, cur):
    """scipy's KS statistic (its p-value warns on one-value samples: not used here)."""
    ref, cur = np.asarray(ref), np.asarray(cur)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ks_2samp(ref[~np.isnan(ref)], cur[~np.isnan(cur)], method="asymp")
    return result.statistic


values = st.lists(
    st.one_of(
        st.integers(-5, 5).map(float),  # ties with the other sample
        st.floats(-100, 100, allow_nan=False),
        st.just(np.nan),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(values, values, st.integers(1, 4))
def test_ks_from_counts_equals_scipy(ref, cur, pieces):
    """Counts at the reference's distinct values give scipy's KS statistic, merged or not."""
    ref, cur = np.array(ref), np.array(cur)
    points = np.unique(ref[~np.isnan(ref)])
    offsets = np.array([0, len(points)])
    ref_below, ref_equal = ks_count(ref[:, None], points, offsets)
    below = np.zeros(len(points) + 1, dtype=np.int64)
    equal = np.zeros(len(points), dtype=np.int64)
    for part in np.array_split(cur, pieces):  # merge by addition
        b, e = ks_count(part[:, None], points, offsets)
        below, equal = below + b, equal + e
    d_grid, d_upper, _ = ks_bounds(ref_below, ref_equal, below, equal, offsets)
    if np.isnan(ref).all() or np.isnan(cur).all():
        assert np.isnan(d_grid[0])
        return
    assert d_grid[0] == d_upper[0]
    assert d_grid[0] == pytest.approx(ks_scipy(ref, cur), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(values, values, st.lists(st.floats(-120, 120, allow_nan=False), max_size=8))
def test_ks_bound_holds_on_any_points(ref, cur, points):
    """D_grid <= D <= D_upper <= D_grid + w whatever the points."""
    ref, cur = np.array(ref), np.array(cur)
    if np.isnan(ref).all() or np.isnan(cur).all():
        return
    points = np.unique(points)
    offsets = np.array([0, len(points)])
    d_grid, d_upper, w = ks_bounds(
        *ks_count(ref[:, None], points, offsets), *ks_count(cur[:, None], points, offsets), offsets
    )
    d = ks_scipy(ref, cur)
    assert d_grid[0] <= d + 1e-12
    assert d <= d_upper[0] + 1e-12
    assert d_upper[0] <= d_grid[0] + w[0] + 1e-12


def w_bounds(ref, cur, pieces=1):
    """``(W_lo, W_hi)`` of one column from summaries of ``pieces`` parts of ``cur``, merged."""
    ref, cur = np.asarray(ref, dtype=float), np.asarray(cur, dtype=float)
    points = np.unique(ref[~np.isnan(ref)])
    offsets = np.array([0, len(points)])
    ref_below, ref_equal = ks_count(ref[:, None], points, offsets)
    below = np.zeros(len(points) + 1, dtype=np.int64)
    equal = np.zeros(len(points), dtype=np.int64)
    gaps = np.zeros(len(points) + 1)
    for part in np.array_split(cur, pieces):  # merge by addition
        b, e = ks_count(part[:, None], points, offsets)
        below, equal = below + b, equal + e
        gaps = gaps + ks_gap_sums(sort_columns(part[:, None]), points, offsets)
    lo, hi = wasserstein_bounds(ref_below, ref_equal, below, equal, gaps, points, offsets)
    return lo[0], hi[0]


def w_scipy(ref, cur):
    ref, cur = np.asarray(ref, dtype=float), np.asarray(cur, dtype=float)
    return scipy.stats.wasserstein_distance(ref[~np.isnan(ref)], cur[~np.isnan(cur)])


wide_values = st.lists(
    st.one_of(
        st.integers(-5, 5).map(float),  # ties with the other sample
        st.floats(-100, 100, allow_nan=False),
        st.floats(-1e4, 1e4, allow_nan=False),  # often outside the reference's range
        st.just(np.nan),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(values, wide_values, st.integers(1, 4))
def test_wasserstein_bounds_hold_and_are_exact_when_they_meet(ref, cur, pieces):
    """W_lo <= scipy's W1 <= W_hi, merged or not; W_lo == W_hi means equal to scipy."""
    lo, hi = w_bounds(ref, cur, pieces)
    if np.isnan(ref).all() or np.isnan(cur).all():
        assert np.isnan(lo)
        assert np.isnan(hi)
        return
    w = w_scipy(ref, cur)
    tol = 1e-9 * max(w, 1e-300) + 1e-12
    assert 0.0 <= lo <= hi
    assert lo <= w + tol
    assert w <= hi + tol
    if lo == hi:
        assert lo == pytest.approx(w, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("pieces", [1, 7])
def test_wasserstein_bounds_on_tiny_and_constant_samples(pieces):
    for ref, cur in [
        ([1.0], [2.0]),
        ([1.0], [1.0]),
        ([1.0, 1.0], [0.0, 3.0, np.nan]),
        ([0.0, 1.0], [0.5]),
        ([0.0, 1.0], [-2.0, 5.0]),
        ([0.0, 2.0, 4.0], [1.0, 3.0]),
    ]:
        lo, hi = w_bounds(ref, cur, pieces)
        w = w_scipy(ref, cur)
        assert lo <= w + 1e-12
        assert w <= hi + 1e-12
        if lo == hi:
            assert lo == pytest.approx(w, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("n", "m", "shift"), [(1000, 1000, 0.5), (2000, 300, 1.0), (300, 2000, 1.0)]
)
def test_wasserstein_is_mostly_exact_on_continuous_drifted_data(n, m, shift):
    """No ties between the samples and the ECDFs apart: exact in most draws, then equal to scipy.

    Exactness needs every crossing of the two ECDFs to fall on a reference
    value. Under a clear shift the ECDFs rarely cross, so the bound closes;
    with no drift they cross often inside cells and the bound stays open
    (then narrow: see the next test).
    """
    rng = np.random.default_rng(n + m)
    n_exact = 0
    for _ in range(40):
        ref, cur = rng.normal(size=n), rng.normal(shift, 1, size=m)
        lo, hi = w_bounds(ref, cur, pieces=3)
        w = w_scipy(ref, cur)
        assert lo <= w * (1 + 1e-9)
        assert w <= hi * (1 + 1e-9)
        if lo == hi:
            n_exact += 1
            assert lo == pytest.approx(w, rel=1e-9)
    assert n_exact > 20


def test_wasserstein_bound_is_narrow_without_drift():
    """With no drift the bound is seldom exact, but its width is a small share of W."""
    rng = np.random.default_rng(5)
    widths = []
    for _ in range(20):
        ref, cur = rng.normal(size=3000), rng.normal(size=2000)
        lo, hi = w_bounds(ref, cur, pieces=4)
        w = w_scipy(ref, cur)
        assert lo <= w * (1 + 1e-9)
        assert w <= hi * (1 + 1e-9)
        widths.append((hi - lo) / w)
    assert np.median(widths) < 0.1


@pytest.mark.parametrize("decision", ["both", "effect", "any"])
@pytest.mark.parametrize("dask", [False, True])
def test_wasserstein_on_chunks_matches_pandas_when_exact(frames, decision, dask):
    """Chunked and Dask Wasserstein rows equal pandas when exact, else bound it from below."""
    ref, cur = frames
    det = DriftDetector(tests=["ks", "wasserstein", "psi"], decision=decision).fit(ref)
    want = key(det.test(cur).to_frame())
    data = dd.from_pandas(cur, npartitions=5) if dask else chunks_of(cur, 450)
    report = det.test(data)
    got = key(report.to_frame())
    rows = got.xs("wasserstein", level="test")
    pandas_rows = want.xs("wasserstein", level="test")
    assert rows["exact"].any()
    for column, row in rows.iterrows():
        exact_w = pandas_rows.loc[column, "statistic"]
        if row["exact"]:
            assert row["statistic"] == pytest.approx(exact_w, rel=1e-9)
            assert row["drifted"] == pandas_rows.loc[column, "drifted"]
            assert not row["note"]
        else:
            assert row["statistic"] <= exact_w * (1 + 1e-9)
            lo, hi = (float(v) for v in row["note"].split("[")[1].split("]")[0].split(","))
            assert lo <= exact_w * (1 + 1e-6)
            assert exact_w <= hi * (1 + 1e-6)
            assert "approximate" in row["note"]
    exact_columns = [c for c, e in rows["exact"].items() if e]
    if rows["exact"].all():
        assert report.drifted_columns == det.test(cur).drifted_columns
    for column in exact_columns:
        assert got.loc[(column, "ks"), "drifted"] == want.loc[(column, "ks"), "drifted"]


def test_wasserstein_verdict_on_chunks_matches_pandas_on_a_clear_shift():
    """When Wasserstein's effect size decides (decision="both"), chunks agree with pandas."""
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "y": rng.normal(size=4000)})
    cur = pd.DataFrame({"x": rng.normal(0.05, 1, size=3000), "y": rng.normal(0.6, 1, size=3000)})
    det = DriftDetector(tests=["ks", "wasserstein"]).fit(ref)
    want = det.test(cur)
    got = det.test(chunks_of(cur, 700))
    w = key(got.to_frame()).loc[("y", "wasserstein")]
    assert w["exact"]
    assert w["statistic"] == pytest.approx(
        key(want.to_frame()).loc[("y", "wasserstein"), "statistic"], rel=1e-9
    )
    assert "y" in got.drifted_columns
    assert got.drifted_columns == want.drifted_columns


def test_wasserstein_stays_untestable_above_max_sorted(frames):
    ref, cur = frames
    det = DriftDetector(tests=["ks", "wasserstein"], max_sorted=500).fit(list(chunks_of(ref, 400)))
    rows = key(det.test(chunks_of(cur, 500)).to_frame())
    assert "raw values" in rows.loc[("amount", "wasserstein"), "reason"]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 40),
    st.floats(-0.5, 0.5),
    st.sampled_from([1, 3, 7]),
)
def test_approximate_reference_stays_within_the_stated_bound(seed, max_sorted, shift, parts):
    """Above max_sorted, the reported KS interval holds scipy's statistic; the rule is honest."""
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"x": np.round(rng.normal(0, 1, 300), 2), "y": rng.exponential(1, 300)})
    cur = pd.DataFrame({"x": np.round(rng.normal(shift, 1, 200), 2), "y": rng.exponential(1, 200)})
    ref_chunks = [ref.iloc[i : i + 100] for i in range(0, 300, 100)]
    det = DriftDetector(tests=["ks", "psi"], max_sorted=max_sorted).fit(ref_chunks)
    assert not det.profile_.held_sorted
    rows = key(det.test(chunks_of(cur, -(-len(cur) // parts))).to_frame())
    for col in ["x", "y"]:
        row = rows.loc[(col, "ks")]
        d = ks_scipy(ref[col], cur[col])
        assert row["statistic"] <= d + 1e-12
        if row["exact"]:
            assert row["statistic"] == pytest.approx(d, abs=1e-12)
            continue
        lo, hi, w = _bound_of(row["note"])
        assert lo == pytest.approx(row["statistic"], rel=1e-5)
        assert d <= hi * (1 + 1e-5) + 1e-12
        assert hi <= lo + w + 1e-3
        # Drift is flagged only when the lower end of D rejects.
        assert row["drifted"] == (row["p_value"] <= row["threshold"])
        assert not rows.loc[(col, "psi"), "exact"]


def _bound_of(note):
    inside = note.split("lies in [")[1].split("]")[0]
    lo, hi = (float(v) for v in inside.split(","))
    w = float(note.split("w = ")[1].split(")")[0])
    return lo, hi, w


def test_approximate_reference_on_dask_and_saved(frames, tmp_path):
    """A reference above max_sorted summarises in two passes and survives save/load."""
    ref, cur = frames
    det = DriftDetector(tests=EXACT_TESTS, max_sorted=100).fit(dd.from_pandas(ref, npartitions=3))
    profile = det.profile_
    assert not profile.held_sorted
    report = det.test(dd.from_pandas(cur, npartitions=3)).to_frame()
    assert not key(report).loc[("amount", "ks"), "exact"]
    assert key(report).loc[("city", "chi2"), "exact"]
    # The categorical statistics do not depend on max_sorted.
    want = key(DriftDetector(tests=EXACT_TESTS).fit(ref).test(cur).to_frame())
    for test in ["chi2", "tvd", "psi"]:
        assert key(report).loc[("city", test), "statistic"] == pytest.approx(
            want.loc[("city", test), "statistic"], rel=1e-12
        )
    loaded = ReferenceProfile.load(profile.save(tmp_path / "ref.npz"))
    again = DriftDetector.from_profile(loaded, tests=EXACT_TESTS).test(cur).to_frame()
    pd.testing.assert_frame_equal(again, report)


def test_one_shot_iterator_above_max_sorted_is_refused(frames):
    ref, _ = frames
    with pytest.raises(ConfigurationError, match="one-shot iterator"):
        DriftDetector(max_sorted=100).fit(chunks_of(ref, 500))


def test_max_sorted_is_checked():
    with pytest.raises(ConfigurationError, match="max_sorted"):
        DriftDetector(max_sorted=1).fit(pd.DataFrame({"a": [1.0, 2.0]}))


def test_exact_ks_profile_is_opt_in(frames):
    """profile(exact_ks=True) gives the exact KS; the default keeps the grid bound."""
    ref, cur = frames
    det = DriftDetector(tests=["ks"]).fit(ref)
    want = key(det.test(cur).to_frame())
    exact = key(det.test_profile(det.profile(cur, exact_ks=True)).to_frame())
    grid = key(det.test_profile(det.profile(cur)).to_frame())
    for col in ["amount", "score"]:
        assert exact.loc[(col, "ks"), "statistic"] == pytest.approx(
            want.loc[(col, "ks"), "statistic"], abs=1e-12
        )
        assert exact.loc[(col, "ks"), "exact"]
        assert not grid.loc[(col, "ks"), "exact"]


def test_import_does_not_load_dask():
    script = "import sys, json, mlkit.drift\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert not {m for m in loaded if m.split(".")[0] in ("dask", "distributed")}


def test_local_cluster_with_processes_equals_pandas(frames, dask_client):
    """Two worker processes: only summaries travel, and the result equals pandas."""
    ref, cur = frames
    want = DriftDetector(tests=EXACT_TESTS).fit(ref).test(cur).to_frame(exact=True)
    with dask_on(dask_client) as tasks:
        det = DriftDetector(tests=EXACT_TESTS).fit(dd.from_pandas(ref, npartitions=4))
        got = det.test(dd.from_pandas(cur, npartitions=5)).to_frame()
    assert tasks.data  # the work ran on the cluster's workers
    assert_rows_equal(got, want)


@pytest.mark.parametrize("nan_policy", ["omit", "propagate"])
def test_nan_policies_match_pandas_on_chunks(frames, nan_policy):
    ref, cur = frames
    det = DriftDetector(tests=EXACT_TESTS, nan_policy=nan_policy).fit(ref)
    want = det.test(cur).to_frame(exact=True)
    got = det.test(chunks_of(cur, 300)).to_frame()
    pd.testing.assert_series_equal(got["reason"], want["reason"])
    assert_rows_equal(got, want)


def test_nan_policy_raise_names_the_column_on_chunks(frames):
    ref, cur = frames
    det = DriftDetector(nan_policy="raise").fit(ref.dropna())
    with pytest.raises(DataError, match=r"current column '(score|city)' has"):
        det.test(chunks_of(cur, 300))
    with pytest.raises(DataError, match=r"reference column '(score|city)' has"):
        DriftDetector(nan_policy="raise").fit(list(chunks_of(ref, 300)))


def test_empty_partitions_and_no_rows(frames):
    ref, cur = frames
    det = DriftDetector(tests=EXACT_TESTS).fit(ref)
    want = det.test(cur).to_frame(exact=True)
    pieces = [cur.iloc[:0], cur.iloc[:900], cur.iloc[900:900], cur.iloc[900:]]
    assert_rows_equal(det.test(pieces).to_frame(), want)
    with pytest.raises(DataError, match="no rows"):
        det.test([cur.iloc[:0]])


def test_arrays_and_dicts_still_take_the_pandas_path(frames):
    ref, cur = frames
    det = DriftDetector().fit(ref[["amount", "score"]].to_numpy())
    report = det.test(cur[["amount", "score"]].to_numpy())
    assert not report.summarised
    assert report.tested_columns == ("0", "1")
    assert not DriftDetector().fit(dict(ref)).test(dict(cur)).summarised


def test_integer_column_labels_match_pandas(frames):
    ref, cur = frames
    ref, cur = ref.set_axis(range(5), axis=1), cur.set_axis(range(5), axis=1)
    want = DriftDetector(tests=EXACT_TESTS).fit(ref).test(cur).to_frame(exact=True)
    det = DriftDetector(tests=EXACT_TESTS).fit(list(chunks_of(ref, 1000)))
    assert_rows_equal(det.test(chunks_of(cur, 700)).to_frame(), want)
