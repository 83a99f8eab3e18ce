"""KS and Cramér-von Mises p-values from (statistic, sizes) against scipy, column by column."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from mlkit.drift._pvalues import (
    cvm_pvalue,
    ks_pvalue,
    ks_pvalue_decide,
    ks_pvalue_details,
)
from mlkit.errors import ConfigurationError

ALTERNATIVES = ["two-sided", "less", "greater"]
KS_METHODS = ["auto", "exact", "asymp"]
THRESHOLDS = [0.05, 0.01, 0.05 / 20, 0.05 / 2000]


def _data(size, seed, ties, shift):
    """A sample of ``size`` values: normal, shifted, optionally heavily tied."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, size)
    return np.round(x * ties) if ties else x


def _scipy_ks(x, y, alternative, method):
    """scipy's result and whether it warned about falling back to asymp."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(x, y, alternative=alternative, method=method)
    fell_back = any("Switching to" in str(w.message) for w in caught)
    return res, fell_back


def _assert_close(mine, ref, atol=1e-9):
    mine, ref = np.asarray(mine), np.asarray(ref)
    assert np.array_equal(np.isnan(mine), np.isnan(ref)), (mine, ref)
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(mine[ok], ref[ok], rtol=0, atol=atol)


# Sizes: tiny, small, around scipy's thresholds, occasionally large. One-sided
# exact p-values cost scipy O(min(n, m)**2) Python steps, so they stay smaller.
SIZES = st.one_of(
    st.integers(1, 3),
    st.integers(1, 40),
    st.integers(30, 400),
    st.sampled_from([999, 2500, 9999, 10000, 10001, 12345]),
)


@st.composite
def ks_columns(draw):
    alternative = draw(st.sampled_from(ALTERNATIVES))
    method = draw(st.sampled_from(KS_METHODS))
    columns = []
    for _ in range(draw(st.integers(1, 5))):
        n, m = draw(SIZES), draw(SIZES)
        if alternative != "two-sided" and min(n, m) > 100 and n + m < 1100:
            m = draw(st.integers(1, 100))
        ties = draw(st.sampled_from([0, 0, 1, 4]))
        shift = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 3.0]))
        seed = draw(st.integers(0, 2**32 - 1))
        columns.append((_data(n, seed, ties, 0.0), _data(m, seed + 1, ties, shift)))
    return alternative, method, columns


@given(ks_columns())
def test_ks_pvalue_matches_scipy(case):
    """Several columns of different sizes at once equal scipy's p-value per column."""
    alternative, method, columns = case
    ref = [_scipy_ks(x, y, alternative, method) for x, y in columns]
    d = [r.statistic for r, _ in ref]
    n = [len(x) for x, _ in columns]
    m = [len(y) for _, y in columns]
    res = ks_pvalue_details(d, n, m, alternative=alternative, method=method)
    _assert_close(res.pvalue, [r.pvalue for r, _ in ref])
    assert res.fell_back.tolist() == [fb for _, fb in ref]
    np.testing.assert_array_equal(
        ks_pvalue(d, n, m, alternative=alternative, method=method), res.pvalue
    )


@given(ks_columns())
def test_ks_decide_agrees_with_scipy(case):
    """The cheap p-values give scipy's (method="auto") decision at every threshold."""
    alternative, _, columns = case
    ref = np.array([_scipy_ks(x, y, alternative, "auto")[0].pvalue for x, y in columns])
    d = [_scipy_ks(x, y, alternative, "auto")[0].statistic for x, y in columns]
    n = [len(x) for x, _ in columns]
    m = [len(y) for _, y in columns]
    for t in THRESHOLDS:
        p = ks_pvalue_decide(d, n, m, alternative=alternative, threshold=t)
        np.testing.assert_array_equal(p <= t, ref <= t)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("method", KS_METHODS)
def test_ks_equal_tiny_sizes_every_statistic(alternative, method):
    """n == m <= 12, every attainable d: covers scipy's rounding fallbacks near p = 1."""
    d, n, ref, fell = [], [], [], []
    for size in range(1, 13):
        x = np.arange(size, dtype=float)
        for h in range(size + 1):
            y = x + h - 0.5 if alternative != "greater" else x - h + 0.5
            res, fb = _scipy_ks(x, y, alternative, method)
            d.append(res.statistic)
            n.append(size)
            ref.append(res.pvalue)
            fell.append(fb)
    res = ks_pvalue_details(d, n, n, alternative=alternative, method=method)
    _assert_close(res.pvalue, ref)
    assert res.fell_back.tolist() == fell
    assert method != "exact" or alternative != "two-sided" or any(fell)


def _climb(n, m, h):
    """A merge order of x (0) and y (1) values whose F_x - F_y peaks at h/lcm, or None.

    Climbs greedily to a point (i, j) with ``i/n - j/m = h/lcm`` without
    passing that level, then returns greedily to the diagonal; the level
    never leaves ``[-h, h]`` when ``h/lcm >= max(1/n, 1/m)``.
    """
    lcm = n * m // math.gcd(n, m)
    step_x, step_y = lcm // n, lcm // m
    target = next(
        (
            ((h + j * step_y) // step_x, j)
            for j in range(m + 1)
            if (h + j * step_y) % step_x == 0 and (h + j * step_y) // step_x <= n
        ),
        None,
    )
    if target is None:
        return None
    order, level, i, j = [], 0, 0, 0
    while (i, j) != target:
        take_x = i < target[0] and (level + step_x <= h or j == target[1])
        order.append(0 if take_x else 1)
        level += step_x if take_x else -step_y
        i, j = i + take_x, j + (not take_x)
    while i < n or j < m:
        take_x = j == m or (i < n and level <= 0)
        order.append(0 if take_x else 1)
        level += step_x if take_x else -step_y
        i, j = i + take_x, j + (not take_x)
    return np.array(order)


def _samples_with_statistic(n, m, d):
    """Two samples of sizes n, m whose two-sided KS statistic is the lattice value d."""
    lcm = n * m // math.gcd(n, m)
    h = round(d * lcm)
    order = _climb(n, m, h)
    if order is None:  # attained with y ahead instead
        order = 1 - _climb(m, n, h)
    values = np.arange(order.size, dtype=float)
    return values[order == 0], values[order == 1]


def _scipy_exact_two_sided(n, m, d):
    """scipy's exact two-sided p-value of a lattice statistic, through its public API."""
    x, y = _samples_with_statistic(n, m, d)
    res, _ = _scipy_ks(x, y, "two-sided", "exact")
    assert res.statistic == pytest.approx(d, abs=1e-12)
    return res.pvalue


@pytest.mark.parametrize(
    ("n", "m"),
    [(10000, 10000), (10000, 9999), (10001, 10000), (10001, 9000), (10000, 37), (2, 10000)],
)
def test_ks_auto_rule_boundary(n, m):
    """Sizes at scipy's auto threshold (exact up to 10000, asymp above)."""
    lcm = n * m // math.gcd(n, m)
    en = n * m / (n + m)
    d = np.round(np.array([0.8, 1.36, 2.2]) / math.sqrt(en) * lcm) / lcm
    d = np.unique(np.clip(d, max(1 / n, 1 / m), 1.0))
    res = ks_pvalue_details(d, n, m)
    if max(n, m) <= 10000:
        assert set(res.method.tolist()) == {"exact"}
        ref = [_scipy_exact_two_sided(n, m, dd) for dd in d]
    else:
        assert set(res.method.tolist()) == {"asymp"}
        ref = [
            _scipy_ks(*_samples_with_statistic(n, m, dd), "two-sided", "auto")[0].pvalue
            for dd in d
        ]
    _assert_close(res.pvalue, ref)


@pytest.mark.parametrize(
    ("n", "m"), [(5, 5), (7, 4), (1, 1), (1, 30), (3000, 2000), (40000, 40000)]
)
def test_ks_extremes(n, m):
    """Identical and fully separated samples: d = 0 and d = 1, p = 1 and p ~ 0."""
    x = np.arange(n, dtype=float)
    for y in [np.arange(m, dtype=float), np.arange(m) + n + 1.0, np.arange(m) - m - 1.0]:
        for alternative in ALTERNATIVES:
            for method in KS_METHODS:
                res, fell = _scipy_ks(x, y, alternative, method)
                mine = ks_pvalue_details(
                    res.statistic, n, m, alternative=alternative, method=method
                )
                _assert_close(mine.pvalue, [res.pvalue])
                assert mine.fell_back.tolist() == [fell]


def test_ks_undefined_columns():
    """NaN statistics, empty samples, and asymp with n = m = 1 (kstwo at n = 0) give NaN."""
    p = ks_pvalue([np.nan, 0.5, 0.5, 0.3], [10, 0, 10, 4], [10, 10, 0, 4])
    assert np.isnan(p[:3]).all()
    assert not np.isnan(p[3])
    assert np.isnan(ks_pvalue(1.0, 1, 1, method="asymp")[0])
    details = ks_pvalue_details([np.nan], [3], [3])
    assert details.method.tolist() == [""]


def test_ks_exact_fallbacks_reported():
    """Where scipy warns and switches to asymp, the value matches and fell_back is set."""
    cases = [
        (100000, 99999, "two-sided", "exact"),  # lcm beyond int32
        (600, 500, "greater", "auto"),  # one-sided path counts overflow float64
        (600, 500, "less", "exact"),
    ]
    for n, m, alternative, method in cases:
        x = _data(n, 1, 0, 0.0)
        y = _data(m, 2, 0, 0.2)
        res, fell = _scipy_ks(x, y, alternative, method)
        assert fell
        mine = ks_pvalue_details(res.statistic, n, m, alternative=alternative, method=method)
        _assert_close(mine.pvalue, [res.pvalue])
        assert mine.fell_back.tolist() == [True]
        assert mine.method.tolist() == ["asymp"]


def test_ks_large_equal_sizes_exact():
    """n = m = 200000 with method="exact": scipy's closed form, here vectorised."""
    n = 200_000
    x = _data(n, 3, 0, 0.0)
    for shift in [0.0, 0.004, 0.01]:
        y = _data(n, 4, 0, shift)
        res, _ = _scipy_ks(x, y, "two-sided", "exact")
        _assert_close(ks_pvalue(res.statistic, n, n, method="exact"), [res.pvalue])


def test_ks_tiny_pvalues_keep_relative_accuracy():
    """Deep tails of the unequal-size recursion stay relatively accurate (no 1 - p)."""
    n, m = 300, 201
    lcm = n * m // math.gcd(n, m)
    en = n * m / (n + m)
    d = np.round(np.array([5.0, 7.0]) / math.sqrt(en) * lcm) / lcm
    ref = [_scipy_exact_two_sided(n, m, dd) for dd in d]
    mine = ks_pvalue(d, n, m)
    np.testing.assert_allclose(mine, ref, rtol=1e-10)
    assert min(ref) < 1e-35


def test_ks_shared_sizes_vectorised():
    """Many columns sharing sizes give the same values as one column at a time."""
    rng = np.random.default_rng(0)
    n, m = 700, 500
    lcm = n * m // math.gcd(n, m)
    d = np.round(rng.uniform(0, 0.2, 50) * lcm) / lcm
    d[:5] = d[5]  # repeated statistics
    together = ks_pvalue(d, n, m)
    alone = np.array([ks_pvalue(dd, n, m)[0] for dd in d])
    np.testing.assert_array_equal(together, alone)


# --------------------------------------------------------------------------
# ks_pvalue_decide on a corpus built around the thresholds


def _decision_corpus(seed):
    """Columns whose p-values sit at and around each threshold, for many size pairs.

    For every pair and threshold, the statistics are lattice values at
    relative distances from 1e-4 to 25% of the crossing point in z, so both
    sides of the safety band's edges are represented.
    """
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < 20:  # unequal, small to moderate (exact recursion)
        n = int(np.exp(rng.uniform(np.log(2), np.log(1500))))
        m = int(np.exp(rng.uniform(np.log(2), np.log(1500))))
        if n != m:
            pairs.add((n, m))
    pairs |= {(1, 7), (2, 3), (5, 5), (150, 151), (3000, 3001), (400, 200), (6000, 4001)}
    pairs |= {(12000, 300), (20011, 2000), (250000, 1500), (10001, 10000)}
    offsets = np.r_[0.0, np.logspace(-4, np.log10(0.25), 12)]
    offsets = np.r_[-offsets[1:], offsets]
    d_all, n_all, m_all, t_all = [], [], [], []
    for n, m in sorted(pairs):
        en = n * m / (n + m)
        lcm = n * m // math.gcd(n, m)
        for t in THRESHOLDS:
            z_t = special.kolmogi(t)
            # Larger pairs cost more (exact recursion) or have tiny bands: thinner.
            steps = offsets if max(n, m) <= 2000 else offsets[::3]
            d = np.clip(z_t * (1 + steps) / math.sqrt(en), 0, 1)
            d = np.unique(np.round(d * lcm) / lcm)
            d_all += d.tolist()
            n_all += [n] * d.size
            m_all += [m] * d.size
            t_all += [t] * d.size
    return np.array(d_all), np.array(n_all), np.array(m_all), np.array(t_all)


@pytest.mark.parametrize("seed", [1, 2])
def test_ks_decide_corpus(seed):
    """On every column (result <= threshold) == (auto <= threshold), with few recomputed."""
    d, n, m, t = _decision_corpus(seed)
    auto = ks_pvalue(d, n, m, method="auto")
    decided = ks_pvalue_decide(d, n, m, threshold=t)
    wrong = (decided <= t) != (auto <= t)
    assert not wrong.any(), np.c_[d, n, m, t, auto][wrong]
    fast = ks_pvalue(d, n, m, method="fast")
    recomputed = decided != fast
    # Not vacuous: many columns within 10% of their threshold were decided by
    # the approximation alone, and most columns were not recomputed.
    close_calls = ~recomputed & (np.abs(np.log(fast / t)) < 0.1)
    assert close_calls.sum() >= 20
    assert recomputed.mean() < 0.3


def test_ks_decide_one_sided_and_tiny_thresholds():
    """One-sided "fast" is "auto"; thresholds below 1e-12 recompute every approximation."""
    d = np.array([0.05, 0.1, 0.2, 0.3])
    n, m = [5000, 20000, 20000, 800], [4000, 30000, 20000, 700]
    for alternative in ALTERNATIVES:
        auto = ks_pvalue(d, n, m, alternative=alternative)
        for t in [1e-30, 1e-13, 0.0, 1.0]:
            p = ks_pvalue_decide(d, n, m, alternative=alternative, threshold=t)
            np.testing.assert_array_equal(p <= t, auto <= t)


# --------------------------------------------------------------------------
# Cramér-von Mises

CVM_SIZES = st.one_of(st.integers(2, 9), st.sampled_from([12, 15, 20]), st.integers(21, 300))


@st.composite
def cvm_columns(draw):
    method = draw(st.sampled_from(["auto", "exact", "asymptotic"]))
    columns = []
    for _ in range(draw(st.integers(1, 4))):
        n, m = draw(CVM_SIZES), draw(CVM_SIZES)
        if method == "exact":
            n, m = min(n, 9), min(m, 9)
        ties = draw(st.sampled_from([0, 0, 1, 3]))
        shift = draw(st.sampled_from([0.0, 0.3, 2.0]))
        seed = draw(st.integers(0, 2**32 - 1))
        columns.append((_data(n, seed, ties, 0.0), _data(m, seed + 1, ties, shift)))
    return method, columns


@given(cvm_columns(), st.booleans())
def test_cvm_pvalue_matches_scipy(case, give_u):
    """T (and optionally U) per column gives scipy's p-value; ties use mid-ranks."""
    method, columns = case
    ref = [stats.cramervonmises_2samp(x, y, method=method) for x, y in columns]
    n = np.array([len(x) for x, _ in columns])
    m = np.array([len(y) for _, y in columns])
    t = np.array([r.statistic for r in ref])
    u = (t + (4 * n * m - 1) / (6 * (n + m))) * n * m * (n + m) if give_u else None
    _assert_close(cvm_pvalue(t, n, m, method=method, u=u), [r.pvalue for r in ref])


@pytest.mark.parametrize(("n", "m"), [(20, 20), (20, 19), (2, 20), (13, 7)])
def test_cvm_exact_largest_auto_sizes(n, m):
    """The largest sizes "auto" computes exactly, ties included."""
    rng = np.random.default_rng(n * 100 + m)
    for ties in [0, 2]:
        x, y = rng.normal(size=n), rng.normal(0.5, size=m)
        if ties:
            x, y = np.round(x * ties), np.round(y * ties)
        res = stats.cramervonmises_2samp(x, y)
        _assert_close(cvm_pvalue(res.statistic, n, m), [res.pvalue])


def test_cvm_small_samples_and_nan():
    """Samples of fewer than two values, and NaN statistics, give NaN (as scipy)."""
    p = cvm_pvalue([0.3, 0.3, np.nan, 0.3], [1, 5, 5, 0], [5, 1, 5, 5])
    assert np.isnan(p).all()


# --------------------------------------------------------------------------
# bad arguments


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ks_pvalue([0.1], [5], [5], method="bogus"), "method must be one of"),
        (lambda: ks_pvalue([0.1], [5], [5], alternative="two"), "alternative must be one of"),
        (lambda: ks_pvalue([0.1], [-5], [5]), r"n\[0\] = -5 is negative"),
        (lambda: ks_pvalue([0.1, 0.2], [5, 5], [5, -1]), r"m\[1\] = -1 is negative"),
        (lambda: ks_pvalue([0.1], [5.5], [5]), "not a whole number"),
        (lambda: ks_pvalue([0.1], ["a"], [5]), "integer sample sizes"),
        (lambda: ks_pvalue([1.5], [5], [5]), r"d\[0\] = 1.5 is not a KS statistic"),
        (lambda: ks_pvalue([0.1, 0.2], [5, 5, 5], [5]), "one value per column"),
        (lambda: ks_pvalue([[0.1]], [5], [5]), "1-D"),
        (lambda: ks_pvalue_decide([0.1], [5], [5], threshold=1.5), "not a probability"),
        (lambda: ks_pvalue_decide([0.1], [5], [5], threshold=[0.1, 0.2]), "one per column"),
        (lambda: cvm_pvalue([0.1], [5], [5], method="asymp"), "method must be one of"),
        (lambda: cvm_pvalue([0.1], [-2], [5]), "negative"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ConfigurationError, match=match):
        call()


def test_error_names_column_and_value():
    with pytest.raises(ConfigurationError) as info:
        ks_pvalue([0.1, 0.2, 0.3], [5, 5, -3], [5, 5, 5])
    assert info.value.column == 2
    assert info.value.value == -3
