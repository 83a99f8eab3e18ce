"""Categorical drift statistics: category counts, chi-square, TVD, PSI and Jensen-Shannon."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from mlkit.drift import _categorical
from mlkit.drift._categorical import (
    category_counts,
    chi2,
    chi2_from_counts,
    counts_from_codes,
    jensen_shannon_categorical,
    jensen_shannon_categorical_from_counts,
    psi_categorical,
    psi_categorical_from_counts,
    tvd,
    tvd_from_counts,
)
from mlkit.errors import ConfigurationError, DataError

# Mixed label types; 1 and True (and 0 and False) are one category, like in pandas.
LABELS = st.sampled_from(["a", "b", "c", "1", 1, 2, 2.5, True, False, "long label"])
MISSING = st.sampled_from([None, np.nan, pd.NA, pd.NaT])


@st.composite
def label_frames(draw, *, n_cols, min_rows=1, max_rows=25, missing=True):
    n = draw(st.integers(min_rows, max_rows))
    # Each column draws from its own small pool so that some categories are
    # unseen in the other sample and column category sets differ.
    cells = []
    for _ in range(n_cols):
        pool = draw(st.lists(LABELS, min_size=1, max_size=4))
        element = st.sampled_from(pool)
        if missing and draw(st.booleans()):
            element = st.one_of(element, MISSING)
        cells.append(draw(st.lists(element, min_size=n, max_size=n)))
    arr = np.empty((n, n_cols), dtype=object)
    for j, column in enumerate(cells):
        arr[:, j] = column
    return arr


@st.composite
def label_pairs(draw, *, missing=True):
    k = draw(st.integers(1, 3))
    return (
        draw(label_frames(n_cols=k, missing=missing)),
        draw(label_frames(n_cols=k, missing=missing)),
    )


def column_counters(arr):
    """Per column: Counter of non-missing labels and the missing count (the reference)."""
    out = []
    for j in range(arr.shape[1]):
        values = [v for v in arr[:, j] if not pd.isna(v)]
        out.append((Counter(values), arr.shape[0] - len(values)))
    return out


def brute_tables(ref, cur):
    """Per column: (reference counts, current counts) over the union of categories."""
    tables = []
    for (rc, _), (cc, _) in zip(column_counters(ref), column_counters(cur), strict=True):
        cats = list(rc.keys() | cc.keys())
        tables.append(([rc[c] for c in cats], [cc[c] for c in cats]))
    return tables


def propagated(ref, cur):
    return [
        bool(pd.isna(ref[:, j]).any() or pd.isna(cur[:, j]).any()) for j in range(ref.shape[1])
    ]


# --------------------------------------------------------------------------- counts


@given(label_pairs(), st.booleans())
def test_category_counts_equal_counters(case, sparse):
    """Counts, missing and unseen equal a per-column Counter loop; dense and sparse agree."""
    ref, cur = case
    limit = 0 if sparse else _categorical._DENSE_CELL_LIMIT
    original = _categorical._DENSE_CELL_LIMIT
    _categorical._DENSE_CELL_LIMIT = limit
    try:
        counts = category_counts(ref, cur)
    finally:
        _categorical._DENSE_CELL_LIMIT = original
    ref_counters, cur_counters = column_counters(ref), column_counters(cur)
    assert counts.ref_counts.shape == counts.cur_counts.shape
    for j in range(ref.shape[1]):
        (rc, rmiss), (cc, cmiss) = ref_counters[j], cur_counters[j]
        labels = counts.categories[j]
        width = len(labels)
        assert width == len(rc.keys() | cc.keys())
        assert dict(zip(labels, counts.ref_counts[j, :width], strict=True)) == {
            c: rc[c] for c in labels
        }
        assert dict(zip(labels, counts.cur_counts[j, :width], strict=True)) == {
            c: cc[c] for c in labels
        }
        assert not counts.ref_counts[j, width:].any()
        assert not counts.cur_counts[j, width:].any()
        assert counts.missing_ref[j] == rmiss
        assert counts.missing_cur[j] == cmiss
        assert counts.unseen[j] == sum(n for c, n in cc.items() if c not in rc)
    np.testing.assert_array_equal(counts.n_reference, [sum(c.values()) for c, _ in ref_counters])
    np.testing.assert_array_equal(counts.unseen_mask.sum(axis=1) > 0, counts.unseen > 0)


def test_category_counts_example_and_sorting():
    """Categories are per column, sorted when comparable; padding is zero in both samples."""
    ref = np.array([["b", 1], ["a", 1], ["b", None]], dtype=object)
    cur = np.array([["z", 3], ["a", 2]], dtype=object)
    counts = category_counts(ref, cur)
    assert counts.categories[0].tolist() == ["a", "b", "z"]
    assert counts.categories[1].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(counts.ref_counts, [[1, 2, 0], [2, 0, 0]])
    np.testing.assert_array_equal(counts.cur_counts, [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(counts.missing_ref, [0, 1])
    np.testing.assert_array_equal(counts.unseen, [1, 2])
    np.testing.assert_array_equal(counts.n_categories, [3, 3])
    assert repr(counts) == "CategoryCounts(2 columns, up to 3 categories, 3 unseen current values)"


def test_category_counts_input_types():
    """Categoricals, DataFrames, ints, bools, datetimes and str arrays of any width work."""
    cat = pd.Categorical(["a", "b", None, "a"])
    counts = category_counts(cat, pd.Categorical(["z", "a"]))
    assert counts.categories[0].tolist() == ["a", "b", "z"]
    assert counts.missing_ref.tolist() == [1]
    frame = pd.DataFrame({"c": pd.Categorical(["x", "y"]), "n": [1, 2]})
    assert category_counts(frame, frame).ref_counts.tolist() == [[1, 1], [1, 1]]
    ints = category_counts(np.array([[1], [2]]), np.array([[2.0], [np.nan]]))
    assert ints.ref_counts.tolist() == [[1, 1]]
    assert ints.cur_counts.tolist() == [[0, 1]]
    assert ints.missing_cur.tolist() == [1]
    bools = category_counts(np.array([True, False, True]), np.array([True]))
    assert bools.ref_counts.tolist() == [[1, 2]]
    days = np.array(["2024-01-01", "NaT", "2024-01-02"], dtype="M8[ns]")
    assert category_counts(days, days).missing_ref.tolist() == [1]
    stamps = np.array([pd.Timestamp("2024-01-01"), "other"], dtype=object)
    mixed = category_counts(days, stamps)
    assert mixed.cur_counts.tolist() == [[1, 0, 1]]
    assert mixed.unseen.tolist() == [1]
    widths = category_counts(np.array(["a", "bb"]), np.array(["bb", "cccc"]))
    assert widths.categories[0].tolist() == ["a", "bb", "cccc"]
    assert widths.unseen.tolist() == [1]


def test_mixed_list_labels_keep_their_type():
    """A list [1, "1"] keeps 1 and "1" apart (numpy alone would turn both into "1")."""
    counts = category_counts([1, "1", 1], ["1"])
    assert sorted(map(repr, counts.categories[0])) == ["'1'", "1"]
    assert counts.unseen.tolist() == [0]


def test_category_counts_empty_and_all_missing():
    """Zero rows and all-missing columns count nothing without error."""
    empty = category_counts(np.empty((0, 2), dtype=object), np.empty((0, 2), dtype=object))
    assert empty.ref_counts.shape == (2, 0)
    none = category_counts(np.array([[None], [None]]), np.array([["a"]], dtype=object))
    assert none.missing_ref.tolist() == [2]
    assert none.unseen.tolist() == [1]


def test_category_counts_bad_input():
    """Mismatched columns, 3-D arrays and unhashable labels raise DataError naming the column."""
    with pytest.raises(DataError, match="2 columns but current has 1"):
        category_counts(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(DataError, match="2-D"):
        category_counts(np.zeros((2, 2, 2)), np.zeros((2, 2)))
    bad = np.empty((2, 2), dtype=object)
    bad[:, 0] = ["a", "b"]
    bad[:, 1] = [["x"], "y"]
    with pytest.raises(DataError, match=r"'tags'.*\['x'\].*not hashable") as info:
        category_counts(bad, bad, columns=["name", "tags"])
    assert info.value.column == "tags"


@given(st.integers(1, 30), st.integers(1, 4), st.integers(1, 5), st.data())
def test_counts_from_codes_equal_loop(n, k, n_cat, data):
    """counts_from_codes equals np.bincount per column, ignoring -1."""
    codes = np.array(
        data.draw(st.lists(st.integers(-1, n_cat - 1), min_size=n * k, max_size=n * k))
    ).reshape(n, k)
    counts = counts_from_codes(codes, n_cat)
    for j in range(k):
        col = codes[:, j]
        np.testing.assert_array_equal(counts[j], np.bincount(col[col >= 0], minlength=n_cat))


def test_counts_from_codes_bad_input():
    """Codes out of range name the column and value; float codes and bad widths raise."""
    with pytest.raises(DataError, match=r"'b' holds 3, outside \[-1, 3\)") as info:
        counts_from_codes([[0, 1], [2, 3]], 3, columns=["a", "b"])
    assert info.value.value == 3
    with pytest.raises(DataError, match="-2"):
        counts_from_codes([[-2]], 3)
    with pytest.raises(DataError, match="integer"):
        counts_from_codes([[0.5]], 3)
    for bad in (0, True, 2.0):
        with pytest.raises(ConfigurationError, match="n_categories"):
            counts_from_codes([[0]], bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- statistics


@given(label_pairs(), st.booleans(), st.sampled_from(["omit", "propagate"]))
def test_chi2_equals_scipy(case, correction, nan_policy):
    """Statistic and p-value equal scipy.stats.chi2_contingency on each column's 2 x C table."""
    ref, cur = case
    res = chi2(ref, cur, correction=correction, nan_policy=nan_policy)
    skip = propagated(ref, cur) if nan_policy == "propagate" else [False] * ref.shape[1]
    for j, (rc, cc) in enumerate(brute_tables(ref, cur)):
        if skip[j] or sum(rc) == 0 or sum(cc) == 0:
            assert np.isnan(res.statistic[j])
            assert np.isnan(res.pvalue[j])
            continue
        expected = chi2_contingency([rc, cc], correction=correction)
        np.testing.assert_allclose(res.statistic[j], expected.statistic, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res.pvalue[j], expected.pvalue, rtol=1e-12, atol=1e-12)
    assert res.name == "chi2"


def test_chi2_yates_only_for_one_degree_of_freedom():
    """Yates' correction applies to 2 x 2 tables only, exactly as scipy does."""
    two = chi2_from_counts([[12, 5]], [[7, 9]], correction=True)
    raw = chi2_from_counts([[12, 5]], [[7, 9]], correction=False)
    assert two[0][0] < raw[0][0]
    assert two[0][0] == pytest.approx(chi2_contingency([[12, 5], [7, 9]]).statistic, rel=1e-12)
    three = chi2_from_counts([[12, 5, 3]], [[7, 9, 1]], correction=True)
    assert three[0][0] == chi2_from_counts([[12, 5, 3]], [[7, 9, 1]], correction=False)[0][0]
    # A zero-total category does not count towards the degrees of freedom.
    padded = chi2_from_counts([[12, 5, 0]], [[7, 9, 0]], correction=True)
    assert padded[0][0] == two[0][0]


def test_chi2_degenerate_columns():
    """One category overall: statistic 0, p-value 1 (as scipy); an empty sample: NaN."""
    stat, p = chi2_from_counts([[5, 0], [0, 0], [3, 1]], [[2, 0], [4, 1], [0, 0]])
    assert (stat[0], p[0]) == (0.0, 1.0)
    assert np.isnan(stat[1:]).all()
    assert np.isnan(p[1:]).all()
    ref = np.array(["a"] * 5, dtype=object)
    res = chi2(ref, ref)
    assert (res.statistic[0], res.pvalue[0]) == (0.0, 1.0)


@given(label_pairs(), st.sampled_from(["omit", "propagate"]))
def test_tvd_psi_js_equal_brute_force(case, nan_policy):
    """TVD and categorical PSI equal textbook loops; JS equals scipy on the frequency vectors."""
    ref, cur = case
    results = {
        "tvd": tvd(ref, cur, nan_policy=nan_policy),
        "psi": psi_categorical(ref, cur, nan_policy=nan_policy, eps=1e-3),
        "js": jensen_shannon_categorical(ref, cur, nan_policy=nan_policy),
    }
    skip = propagated(ref, cur) if nan_policy == "propagate" else [False] * ref.shape[1]
    unseen = [
        sum(c for r, c in zip(rc, cc, strict=True) if r == 0) for rc, cc in brute_tables(ref, cur)
    ]
    for res in results.values():
        np.testing.assert_array_equal(res.unseen, unseen)
        assert np.isnan(res.pvalue).all()
    for j, (rc, cc) in enumerate(brute_tables(ref, cur)):
        nr, nc = sum(rc), sum(cc)
        if skip[j] or nr == 0 or nc == 0:
            assert all(np.isnan(res.statistic[j]) for res in results.values())
            continue
        p = [a / nr for a in rc]
        q = [b / nc for b in cc]
        expected_tvd = sum(abs(a - b) for a, b in zip(p, q, strict=True)) / 2
        expected_psi = sum(
            (max(b, 1e-3) - max(a, 1e-3)) * math.log(max(b, 1e-3) / max(a, 1e-3))
            for a, b in zip(p, q, strict=True)
        )
        with np.errstate(invalid="ignore"):
            expected_js = jensenshannon(rc, cc, base=2)
        np.testing.assert_allclose(results["tvd"].statistic[j], expected_tvd, atol=1e-14)
        np.testing.assert_allclose(
            results["psi"].statistic[j], expected_psi, rtol=1e-12, atol=1e-14
        )
        if np.isnan(expected_js):
            assert results["js"].statistic[j] < 1e-7
        else:
            np.testing.assert_allclose(results["js"].statistic[j], expected_js, atol=1e-12)


def test_unseen_category_counts_with_eps_floor():
    """An unseen category adds p * ln(p / eps) to PSI instead of infinity, and is reported."""
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 50 + ["b"] * 40 + ["new"] * 10
    res = psi_categorical(ref, cur, eps=1e-4)
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert res.statistic[0] == pytest.approx(expected, rel=1e-12)
    assert res.unseen.tolist() == [10]
    assert res.to_frame()["unseen_categories"].tolist() == [10]
    assert res.to_dict()["columns"][0]["unseen_categories"] == 10


@pytest.mark.parametrize("kernel", [chi2, tvd, psi_categorical, jensen_shannon_categorical])
def test_nan_policies(kernel):
    """propagate gives NaN, omit drops missing labels, raise names the column."""
    ref = np.array([["a", "x"], ["b", None], ["a", "x"]], dtype=object)
    cur = np.array([["a", "x"], ["b", "y"]], dtype=object)
    propagate = kernel(ref, cur)
    assert not np.isnan(propagate.statistic[0])
    assert np.isnan(propagate.statistic[1])
    omit = kernel(ref, cur, nan_policy="omit")
    assert not np.isnan(omit.statistic).any()
    assert omit.n_reference.tolist() == [3, 2]
    with pytest.raises(DataError, match="reference column 'tag' holds missing") as info:
        kernel(ref, cur, nan_policy="raise", columns=["kind", "tag"])
    assert info.value.column == "tag"


@pytest.mark.parametrize("kernel", [chi2, tvd, psi_categorical, jensen_shannon_categorical])
def test_kernel_bad_input(kernel):
    """Empty samples, mismatched columns and a bad nan_policy raise MlkitErrors."""
    ref = np.array([["a", "b"]], dtype=object)
    with pytest.raises(DataError, match="current has no rows"):
        kernel(ref, np.empty((0, 2), dtype=object))
    with pytest.raises(DataError, match="2 columns but current has 1"):
        kernel(ref, np.array([["a"]], dtype=object))
    with pytest.raises(ConfigurationError, match="nan_policy"):
        kernel(ref, ref, nan_policy="drop")


def test_options_are_checked():
    """eps and base are validated by the categorical kernels too."""
    with pytest.raises(ConfigurationError, match="eps"):
        psi_categorical(["a"], ["a"], eps=0)
    with pytest.raises(ConfigurationError, match="base"):
        jensen_shannon_categorical(["a"], ["a"], base=1)


def test_from_counts_twins():
    """The count-level twins agree with their label-level functions."""
    ref = np.array(["a"] * 30 + ["b"] * 20 + ["c"] * 5, dtype=object)
    cur = np.array(["a"] * 10 + ["b"] * 40 + ["d"] * 5, dtype=object)
    counts = category_counts(ref, cur)
    r, c = counts.ref_counts, counts.cur_counts
    assert tvd(ref, cur).statistic[0] == tvd_from_counts(r, c)[0]
    assert psi_categorical(ref, cur).statistic[0] == psi_categorical_from_counts(r, c)[0]
    js = jensen_shannon_categorical(ref, cur, base=None).statistic[0]
    assert js == jensen_shannon_categorical_from_counts(r, c, base=None)[0]
    stat, p = chi2_from_counts(r, c)
    assert chi2(ref, cur).statistic[0] == stat[0]
    assert chi2(ref, cur).pvalue[0] == p[0]
