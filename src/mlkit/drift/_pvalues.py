"""P-values of the two-sample Kolmogorov-Smirnov and Cramér-von Mises tests.

The statistics are computed elsewhere (one vectorised pass over all columns);
this module turns ``(statistic, n, m)`` per column into p-values that equal
:func:`scipy.stats.ks_2samp` and :func:`scipy.stats.cramervonmises_2samp`
to 1e-9, including scipy's choice of method and its fallbacks.

Columns are grouped by what their computation shares: sample sizes (the
lattice-path recursions and the binomial tables), and unique statistic
values within a size group. The loops left run over unique sizes or over one
axis of a lattice, never over columns.

KS methods (scipy's rules, which are mirrored exactly):

* ``"exact"``: the distribution of the statistic over the lattice paths from
  ``(0, 0)`` to ``(n, m)``. Equal sizes have closed forms; unequal sizes run
  a recursion row by row over the smaller sample, each row one linear filter
  (:func:`scipy.signal.lfilter`) across every column of the size group. scipy
  switches to ``"asymp"`` with a ``RuntimeWarning`` when the exact value
  cannot be computed (lcm of the sizes beyond int32, one-sided counts that
  overflow float64, a rounding excursion above 1); here no warning is
  issued: :func:`ks_pvalue_details` reports those columns in ``fell_back``.
* ``"asymp"``: ``kstwo.sf(d, round(en))`` two-sided, Hodges' formula
  one-sided, with ``en = n*m/(n+m)``.
* ``"auto"``: exact when ``max(n, m) <= 10000``, else asymp.
* ``"fast"`` (mlkit's own): equal to ``"auto"`` wherever ``"auto"`` is cheap
  and a vectorised approximation elsewhere; see :func:`ks_pvalue`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal, special, stats

from mlkit.drift._common import check_choice
from mlkit.errors import ConfigurationError

__all__ = [
    "KSPValues",
    "cvm_pvalue",
    "ks_pvalue",
    "ks_pvalue_decide",
    "ks_pvalue_details",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

KSAlternative = Literal["two-sided", "less", "greater"]
KSMethod = Literal["auto", "exact", "asymp", "fast"]
CvMMethod = Literal["auto", "exact", "asymptotic"]

_KS_ALTERNATIVES = ("two-sided", "less", "greater")
_KS_METHODS = ("auto", "exact", "asymp", "fast")
_CVM_METHODS = ("auto", "exact", "asymptotic")

#: scipy's ks_2samp: "auto" is exact when both sizes are at most this.
_MAX_AUTO_N = 10000
#: scipy's ks_2samp: "exact" gives up when lcm(n, m) reaches int32's maximum.
_INT32_MAX = float(np.iinfo(np.int32).max)
#: scipy's cramervonmises_2samp: "auto" is exact when both sizes are at most this.
_CVM_MAX_EXACT_N = 20

#: "fast", two-sided, unequal sizes up to _MAX_AUTO_N: below this ``en`` the
#: exact recursion is cheap (at most ``2 * en`` rows) and the approximation poor.
_FAST_EXACT_EN = 100.0
#: "fast", two-sided, sizes above _MAX_AUTO_N: up to this ``round(en)`` scipy's
#: kstwo.sf is cheap (Durbin/Pomeranz on small matrices) and used as is.
_FAST_KSTWO_N = 140

#: Bounds of ``|log(fast / auto)|`` per column, ``coef * f(z) / g(en)`` with
#: ``z = sqrt(en) * d``, measured for p-values down to 1e-20 by
#: ``benchmarks/ks_pvalue_accuracy.py`` and used here with a margin of 2:
#: unequal sizes up to 10000, ``max(z, 0.5)**2 / sqrt(en)`` (measured
#: coefficient 0.50 for p >= 1e-12, 0.71 below);
_LATTICE_BOUND_COEF = 1.5
#: sizes above 10000, ``max(z, 1)**5 / round(en)**1.5`` (measured 0.11).
_ONE_SAMPLE_BOUND_COEF = 0.25
#: Thresholds below this are outside the measured range: always recompute.
_BOUND_MIN_P = 1e-12


@attrs.frozen(eq=False)
class KSPValues:
    """KS p-values of every column and how each was obtained.

    Attributes
    ----------
    pvalue
        ``(n_columns,)`` float64; NaN where a sample is empty or the
        statistic is NaN.
    method
        ``(n_columns,)`` str: ``"exact"``, ``"asymp"`` (scipy's asymptotic
        formulas), ``"fast"`` (mlkit's approximation) or ``""`` (NaN p-value).
    fell_back
        ``(n_columns,)`` bool: the exact computation was asked for (by
        ``"exact"``, or by ``"auto"`` at small sizes) but is not possible, so
        the asymptotic value was used; scipy warns in that case.
    """

    pvalue: FloatArray
    method: NDArray[np.str_]
    fell_back: BoolArray


# --------------------------------------------------------------------------
# argument checks


def _as_sizes(values: ArrayLike, name: str) -> IntArray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        sizes = arr.astype(np.int64)
    elif arr.dtype.kind in "fb":
        as_float = arr.astype(np.float64)
        bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
        if bad.any():
            j = int(np.flatnonzero(bad.reshape(-1))[0])
            value = as_float.reshape(-1)[j]
            raise ConfigurationError(
                f"{name}[{j}] = {value!r} is not a whole number; sample sizes are counts",
                column=j,
                value=value,
                expected="a non-negative integer",
            )
        sizes = as_float.astype(np.int64)
    else:
        raise ConfigurationError(
            f"{name} must be integer sample sizes, got an array of dtype {arr.dtype}",
            value=str(arr.dtype),
            expected="a non-negative integer",
        )
    negative = sizes < 0
    if negative.any():
        j = int(np.flatnonzero(negative.reshape(-1))[0])
        value = int(sizes.reshape(-1)[j])
        raise ConfigurationError(
            f"{name}[{j}] = {value} is negative; sample sizes are counts",
            column=j,
            value=value,
            expected="a non-negative integer",
        )
    return sizes


def _as_columns(
    stat: ArrayLike, n: ArrayLike, m: ArrayLike, stat_name: str
) -> tuple[FloatArray, IntArray, IntArray]:
    try:
        s = np.asarray(stat, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{stat_name} must be numeric statistics",
            value=stat,
            expected="an array of floats",
        ) from None
    n_arr = _as_sizes(n, "n")
    m_arr = _as_sizes(m, "m")
    try:
        s, n_arr, m_arr = np.broadcast_arrays(s, n_arr, m_arr)
    except ValueError:
        raise ConfigurationError(
            f"{stat_name}, n and m must have one value per column; got shapes "
            f"{np.shape(s)}, {np.shape(n_arr)} and {np.shape(m_arr)}",
            value=(np.shape(s), np.shape(n_arr), np.shape(m_arr)),
            expected="equal shapes (n_columns,), or scalars",
        ) from None
    if s.ndim > 1:
        raise ConfigurationError(
            f"{stat_name}, n and m must be 1-D (one value per column), got shape {s.shape}",
            value=s.shape,
            expected="shape (n_columns,)",
        )
    return (
        np.atleast_1d(np.array(s, dtype=np.float64)),
        np.atleast_1d(np.array(n_arr, dtype=np.int64)),
        np.atleast_1d(np.array(m_arr, dtype=np.int64)),
    )


def _check_ks_statistic(d: FloatArray) -> FloatArray:
    # Tolerate rounding just outside [0, 1]; anything further is a caller bug.
    bad = (d < -1e-12) | (d > 1.0 + 1e-12)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ConfigurationError(
            f"d[{j}] = {float(d[j])!r} is not a KS statistic: it must lie in [0, 1]",
            column=j,
            value=float(d[j]),
            expected="a value in [0, 1]",
        )
    return np.clip(d, 0.0, 1.0)


# --------------------------------------------------------------------------
# KS: exact distribution, equal sizes


def _log_binomial_ratios(n: int) -> FloatArray:
    """``L[x] = log(C(2n, n-x) / C(2n, n))`` for ``x = 0..X``; smaller terms underflow.

    Built as a running sum of ``log((n-j)/(n+j+1))``: no large intermediate
    (``gammaln(2n)`` would carry an absolute error of ``2n*log(2n)*eps``).
    """
    # L[x] <= -x**2 / (2n) for x <= n, so beyond this exp(L) < 1e-320.
    top = min(n, math.isqrt(1500 * n) + 2)
    j = np.arange(top, dtype=np.float64)
    steps = np.log1p(-(2.0 * j + 1.0) / (n + j + 1.0))
    out = np.empty(top + 1)
    out[0] = 0.0
    np.cumsum(steps, out=out[1:])
    return out


def _square_one_sided(n: int, h: IntArray) -> FloatArray:
    """``P(D+ >= h/n)`` for two samples of size ``n``: ``C(2n, n-h) / C(2n, n)``."""
    table = _log_binomial_ratios(n)
    inside = h < table.size
    return np.where(inside, np.exp(table[np.minimum(h, table.size - 1)]), 0.0)


#: Up to this size, p-values within 1e-9 of 1 are re-evaluated in scipy's
#: order to find its rounding fallbacks. They are frequent but harmless beyond
#: tiny sizes: for every n up to 6000, a fallback moved the p-value by more
#: than 1e-9 only for n <= 7 (by at most 3.5e-13 for n > 100), so larger
#: sizes (reachable with method="exact" only) skip the check.
_HORNER_CHECK_MAX_N = _MAX_AUTO_N


def _square_two_sided(n: int, h: IntArray) -> tuple[FloatArray, BoolArray]:
    """``P(D >= h/n)`` for two samples of size ``n``, and where scipy falls back.

    ``P = 2 * sum_k (-1)**(k+1) C(2n, n-kh) / C(2n, n)`` (reflection principle),
    summed here from a table of log ratios. scipy evaluates the same sum with a
    Horner scheme and falls back to the asymptotic value when rounding pushes
    it above 1, which only happens when ``P`` is within a few ulps of 1.
    """
    table = _log_binomial_ratios(n)
    top = table.size - 1
    out = np.empty(h.size)
    # Chunks keep the (columns x terms) table under about 4M entries.
    order = np.argsort(h)
    start = 0
    while start < h.size:
        n_terms = max(1, top // max(1, int(h[order[start]])))
        stop = min(h.size, start + max(1, 4_000_000 // n_terms))
        rows = order[start:stop]
        hr = h[rows]
        k = np.arange(1, n_terms + 1, dtype=np.int64)
        x = hr[:, None] * k[None, :]
        terms = np.where(x <= top, np.exp(table[np.minimum(x, top)]), 0.0)
        terms[:, 1::2] *= -1.0
        out[rows] = 2.0 * terms.sum(axis=1)
        start = stop
    fallback = np.zeros(h.size, dtype=bool)
    near_one = np.flatnonzero(out > 1.0 - 1e-9)
    if near_one.size and n <= _HORNER_CHECK_MAX_N:
        for hv in np.unique(h[near_one]):
            value = _scipy_square_horner(n, int(hv))
            cols = near_one[h[near_one] == hv]
            if not 0.0 <= value <= 1.0:
                fallback[cols] = True
            out[cols] = value
    return np.clip(out, 0.0, 1.0), fallback


def _scipy_square_horner(n: int, h: int) -> float:
    """Evaluate the two-sided equal-size sum in scipy's floating-point order.

    Only used where the value is within 1e-9 of 1, to learn whether scipy's
    rounding lands above 1 (and scipy then falls back to the asymptotic value).
    """
    k_max = n // h
    k = np.arange(k_max + 1, dtype=np.int64)
    ratio = np.ones(k_max + 1)
    for j in range(h):
        num = (n - k * h - j).astype(np.float64)
        den = (n + k * h + j + 1).astype(np.float64)
        ratio = num * ratio / den
    total = 0.0
    for r in ratio[::-1].tolist():
        total = r * (1.0 - total)
    return 2.0 * total


# --------------------------------------------------------------------------
# KS: exact distribution, unequal sizes


def _lattice_pvalues(big: int, small: int, h: IntArray, *, two_sided: bool) -> FloatArray:
    """Exact ``P(D >= h/lcm)`` (or ``D+``) for sizes ``big >= small``, one value per ``h``.

    A path from ``(0, 0)`` to ``(big, small)`` steps right for a value of the
    larger sample and up for one of the smaller; with ``a = small/g`` and
    ``b = big/g`` it stays inside while ``|a*x - b*y| < h`` (one-sided:
    ``a*x - b*y < h``). Row ``y`` holds, for the cells inside, the number of
    paths to ``(x, y)`` that have already left the band, weighted by
    ``p**x * q**y`` (``p = big / (big + small)``, the band's slope) so that
    values stay of order one along the band. A row follows from the previous
    one by ``v[x] = p * v[x-1] + q * v_prev[x]``: a first-order linear filter
    along ``x``, run for all ``h`` at once by :func:`scipy.signal.lfilter`.
    Cells outside the band feed in their whole weighted binomial mass
    ``binom.pmf(x, x + y, p)``. The p-value is the weighted count at
    ``(big, small)`` over the binomial probability of that point. Every term
    is positive, so the relative error stays near ``(big + small) * eps``
    even for tiny p-values.
    """
    g = math.gcd(big, small)
    a, b = small // g, big // g
    p = big / (big + small)
    q = 1.0 - p  # exact: p >= 1/2
    hs = np.asarray(h, dtype=np.int64)[:, None]
    rows = hs.shape[0]
    y = np.arange(small + 1, dtype=np.int64)
    # Absolute band edges per (h, y): inside is lo_abs <= x <= hi_abs.
    hi_abs = np.minimum((b * y[None, :] + hs - 1) // a, big)
    lo_abs = np.maximum((b * y[None, :] - hs) // a + 1, 0) if two_sided else np.zeros_like(hi_abs)
    # One window per row of the lattice, wide enough for the widest band.
    base = lo_abs.min(axis=0)
    width = int((hi_abs.max(axis=0) - base).max()) + 1
    shifts = np.diff(base).tolist()
    buf = np.zeros((rows, width + int(max(shifts, default=0))))
    kk = np.arange(width, dtype=np.int64)
    lo, hi = lo_abs - base, hi_abs - base

    # Mass of the cells just above the band, read by the next row: cell x
    # joins the band at row y_in(x) and is outside (fully exited) at y_in - 1.
    x_all = np.arange(big + 1 + width, dtype=np.int64)
    y_in = np.maximum(-((hs - 1 - a * x_all[None, :]) // b), 1)
    above = np.where(
        (x_all[None, :] > hi_abs[:, :1]) & (x_all[None, :] <= big),
        stats.binom.pmf(x_all[None, :], x_all[None, :] + y_in - 1, p),
        0.0,
    )
    if two_sided:
        # Mass of the cell just left of the band, scaled for the filter's gain
        # q, added at the band's first cell (flat index into the row block).
        left_x = lo_abs - 1
        usable = (left_x >= 0) & (lo <= hi)
        left = np.where(usable, stats.binom.pmf(left_x, left_x + y, p), 0.0) * (p / q)
        left_at = np.arange(rows)[:, None] * width + np.clip(lo, 0, width - 1)
    # The previous row's band end, in the current row's window.
    prev_hi = hi[:, :-1] - np.asarray(shifts, dtype=np.int64)

    num, den = np.array([q]), np.array([1.0, -p])
    for yy in range(1, small + 1):
        sh = shifts[yy - 1]
        start = int(base[yy])
        step = np.where(
            kk > prev_hi[:, yy - 1, None], above[:, start : start + width], buf[:, sh : sh + width]
        )
        if two_sided:
            # Cells below the band must not leak into it through the filter;
            # cells above it only affect cells above it, zeroed below.
            step *= kk >= lo[:, yy, None]
            step.reshape(-1)[left_at[:, yy]] += left[:, yy]
        step = signal.lfilter(num, den, step, axis=1)
        np.multiply(step, kk <= hi[:, yy, None], out=buf[:, :width])
    exited = buf[:, big - int(base[small])]
    total = float(stats.binom.pmf(big, big + small, p))
    empty = (hi < lo).any(axis=1)  # a row with no inside cell: every path exits
    return np.asarray(np.where(empty, 1.0, np.clip(exited / total, 0.0, 1.0)), dtype=np.float64)


def _lattice_by_group(
    big: IntArray, small: IntArray, h: IntArray, *, two_sided: bool
) -> FloatArray:
    """:func:`_lattice_pvalues` once per unique ``(big, small)`` and unique ``h``.

    Within a pair, statistics whose bands differ in width by more than a
    factor of two run in separate batches (unless the batch would be tiny),
    so narrow bands do not pay for the widest one: a batch costs about 15 us
    per row of the lattice plus a few ns per cell. Batches also stay under
    about 4M cells of boundary masses (memory).
    """
    out = np.empty(h.size)
    pairs, pair_index = np.unique(np.stack([big, small]), axis=1, return_inverse=True)
    pair_index = pair_index.reshape(-1)
    for i in range(pairs.shape[1]):
        cols = np.flatnonzero(pair_index == i)
        uniq, inv = np.unique(h[cols], return_inverse=True)
        values = np.empty(uniq.size)
        cap = max(1, 4_000_000 // int(pairs[0, i] + pairs[1, i] + 1))
        start = 0
        while start < uniq.size:
            stop = start + 1
            while (
                stop < uniq.size
                and stop - start < cap
                and (uniq[stop] <= 2 * uniq[start] or uniq.size - start <= 8 or stop - start < 8)
            ):
                stop += 1
            values[start:stop] = _lattice_pvalues(
                int(pairs[0, i]), int(pairs[1, i]), uniq[start:stop], two_sided=two_sided
            )
            start = stop
        out[cols] = values[inv.reshape(-1)]
    return out


def _one_sided_counts_overflow(n1: IntArray, n2: IntArray) -> BoolArray:
    """Where scipy's one-sided exact path count overflows float64 (it then falls back)."""
    return np.asarray(np.isinf(special.binom(n1 + n2, n1)), dtype=bool)


# --------------------------------------------------------------------------
# KS: asymptotic (scipy's formulas)


def _scipy_en(n1: IntArray, n2: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Scipy's ``(m, n, en)`` with ``m >= n`` the sizes as floats, ``en = m*n/(m+n)``."""
    big = np.maximum(n1, n2).astype(np.float64)
    small = np.minimum(n1, n2).astype(np.float64)
    return big, small, big * small / (big + small)


def _unique_apply(
    func: Callable[[FloatArray, FloatArray], FloatArray], x: FloatArray, y: FloatArray
) -> FloatArray:
    if x.size == 0:
        return np.empty(0)
    pairs, inv = np.unique(np.stack([x, y]), axis=1, return_inverse=True)
    values = np.asarray(func(pairs[0], pairs[1]), dtype=np.float64)
    return np.asarray(values[inv.reshape(-1)], dtype=np.float64)


def _kstwo_sf(d: FloatArray, n_eff: FloatArray) -> FloatArray:
    """Scipy's two-sided asymptotic p-value ``kstwo.sf(d, round(en))``."""

    def sf(dd: FloatArray, nn: FloatArray) -> FloatArray:
        return np.asarray(stats.kstwo.sf(dd, nn), dtype=np.float64)

    return _unique_apply(sf, d, n_eff)


def _hodges_one_sided(d: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    """Scipy's one-sided asymptotic p-value (Hodges 1958, eq. 5.3)."""
    big, small, en = _scipy_en(n1, n2)
    z = np.sqrt(en) * d
    expt = -2 * z**2 - 2 * z * (big + 2 * small) / np.sqrt(big * small * (big + small)) / 3.0
    return np.asarray(np.exp(expt), dtype=np.float64)


# --------------------------------------------------------------------------
# KS: "fast" approximations


def _pelz_good_cdf(n: FloatArray, x: FloatArray) -> FloatArray:
    """Pelz-Good expansion of the one-sample ``P(D_n <= x)`` to ``O(n**-1.5)``.

    The Li-Chien/Korolyuk series in the Jacobi-transformed form of Pelz and
    Good (1976), as scipy uses it for ``kstwo`` at ``n > 140`` and
    ``n*x**2 < 2.2``; vectorised over columns.
    """
    z = np.sqrt(n) * x
    out = np.zeros(z.shape)
    live = (x > 0) & (-(np.pi**2) / 8 / np.maximum(z, 1e-300) ** 2 >= -708)
    if not live.any():
        return out
    z, nl = z[live], n[live]
    z2, z4, z6 = z * z, z**4, z**6
    n_terms = np.ceil(16 * z / np.pi).astype(np.int64)
    k = np.arange(1, int(n_terms.max()) + 1, dtype=np.float64)
    used = k[None, :] <= n_terms[:, None]
    odd = 2 * k - 1
    m2, m4, m6 = odd**2, odd**4, odd**6
    q = np.exp(-(np.pi**2) / 8 / z2)
    qpow = np.where(used, q[:, None] ** m2[None, :], 0.0)
    pi2, pi4, pi6 = np.pi**2, np.pi**4, np.pi**6
    c1 = -z2[:, None] + pi2 / 4 * m2
    c2 = (
        (6 * z6 + 2 * z4)[:, None]
        + ((2 * z4 - 5 * z2) * pi2 / 4)[:, None] * m2
        + (pi4 * (1 - 2 * z2) / 16)[:, None] * m4
    )
    c3 = (
        (-30 * z6 - 90 * z**8)[:, None]
        + (pi2 * (135 * z4 - 96 * z6) / 4)[:, None] * m2
        + (pi4 * (-60 * z2 + 212 * z4) / 16)[:, None] * m4
        + (pi6 * (5 - 30 * z2) / 64)[:, None] * m6
    )
    root = math.sqrt(2 * math.pi)
    k0 = qpow.sum(axis=1) * root / z
    k1 = (c1 * qpow).sum(axis=1) * root / (6 * z4)
    k2 = (c2 * qpow).sum(axis=1) * root / (72 * z**7)
    k3 = (c3 * qpow).sum(axis=1) * root / (6480 * z**10)
    q2 = np.exp(-(np.pi**2) / 2 / z2)
    k_sq = k**2
    q2pow = np.where(used, q2[:, None] ** k_sq[None, :], 0.0)
    k2 += (k_sq * q2pow).sum(axis=1) * pi2 * root / (-36 * z**3)
    k3 += ((3 * z2[:, None] - pi2 * k_sq) * k_sq * q2pow).sum(axis=1) * pi2 * root / (216 * z6)
    out[live] = k0 + k1 / np.sqrt(nl) + k2 / nl + k3 / nl**1.5
    return out


def _one_sample_sf_fast(n: FloatArray, x: FloatArray) -> FloatArray:
    """Approximate ``scipy.stats.kstwo.sf(x, n)`` for ``n > 140`` in microseconds.

    Follows scipy's own regions (Simard and L'Ecuyer 2011): the body
    (``n*x**2 < 2.2``) is the Pelz-Good expansion scipy itself uses there; the
    tail, where scipy sums Smirnov's exact one-sided series in ``O(n)``
    (``2 * smirnov(n, x)``, about 1.4 us per unit of ``n``), uses that series'
    asymptotic expansion to second order,
    ``log P(D+ >= x) = -2z**2 - 2z/(3 sqrt(n)) + 4z**2 (1 - z**2) / (9n)``,
    ``z = sqrt(n) x`` (relative error about ``0.1 z**5 / n**1.5``).
    """
    out = np.empty(x.shape)
    nx2 = n * x * x
    t = n * x
    z = np.sqrt(nx2)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        tail_log = -2 * nx2 - 2 * z / (3 * np.sqrt(n)) + 4 * nx2 * (1 - nx2) / (9 * n)
        tail = np.minimum(2 * np.exp(tail_log), 1.0)
        body = 1.0 - _pelz_good_cdf(n, x)
        # Ruben-Gambino: exact for x <= 1/n.
        lower = 1.0 - np.exp(special.gammaln(n + 1) - n * np.log(n) + n * np.log(2 * t - 1))
    out[:] = np.where(nx2 >= 2.2, tail, body)
    out = np.where(nx2 >= 370.0, 0.0, out)
    out = np.where(t <= 1.0, np.where(t <= 0.5, 1.0, lower), out)
    out = np.where(x >= 1.0, 0.0, np.where(x <= 0.0, 1.0, out))
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _lattice_approx(d: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    """Approximate the exact two-sided p-value for unequal sizes (up to 10000).

    The limiting Kolmogorov distribution at ``z = sqrt(en) * d``, shifted by
    Hodges' first-order term ``(m + 2n) / (6 sqrt(mn(m+n)))`` (``m >= n``; for
    one sample this is the familiar ``1 / (6 sqrt(n))``), with half a lattice
    step ``1/lcm`` of continuity correction (which makes the two cancel for
    ``n == m``, where the closed form has neither).
    """
    big, small, en = _scipy_en(n1, n2)
    g = np.gcd(n1, n2)
    lcm = (n1 // g).astype(np.float64) * n2
    shift = (big + 2 * small) / (6 * np.sqrt(big * small * (big + small)))
    z = np.sqrt(en) * (d - 0.5 / lcm) + shift
    return np.asarray(special.kolmogorov(np.maximum(z, 0.0)), dtype=np.float64)


# --------------------------------------------------------------------------
# KS: dispatch


@attrs.frozen(eq=False)
class _KSComputed:
    pvalue: FloatArray
    method: NDArray[np.str_]
    fell_back: BoolArray
    #: ``|log(fast / auto)|`` stays below this; 0 where "fast" equals "auto".
    log_bound: FloatArray


def _ks_compute(
    d: FloatArray, n1: IntArray, n2: IntArray, alternative: str, method: str
) -> _KSComputed:
    k = d.size
    pvalue = np.full(k, np.nan)
    used = np.full(k, "", dtype="<U5")
    fell_back = np.zeros(k, dtype=bool)
    log_bound = np.zeros(k)
    ok = (n1 > 0) & (n2 > 0) & ~np.isnan(d)
    two_sided = alternative == "two-sided"
    small_sizes = ok & (np.maximum(n1, n2) <= _MAX_AUTO_N)
    # Placeholders keep the arithmetic finite on columns that are not ok.
    n1_ok, n2_ok = np.where(ok, n1, 1), np.where(ok, n2, 1)
    g = np.gcd(n1_ok, n2_ok)
    _, _, en = _scipy_en(n1_ok, n2_ok)

    approx_lattice = np.zeros(k, dtype=bool)
    approx_one_sample = np.zeros(k, dtype=bool)
    if method == "auto":
        want_exact = small_sizes
    elif method == "exact":
        want_exact = ok.copy()
        # scipy's test, in floating point: lcm(n1, n2) would reach int32's maximum.
        too_big = ok & ((n1_ok // g) >= _INT32_MAX / (n2_ok // g))
        fell_back |= too_big
        want_exact &= ~too_big
    elif method == "asymp":
        want_exact = np.zeros(k, dtype=bool)
    else:
        want_exact = small_sizes.copy()
        if two_sided:
            approx_lattice = want_exact & (n1 != n2) & (en >= _FAST_EXACT_EN)
            want_exact &= ~approx_lattice
            approx_one_sample = ok & ~small_sizes & (np.round(en) > _FAST_KSTWO_N)

    # The asymptotic formulas see scipy's d: the lattice-rounded one after a fallback.
    asymp_d = d.copy()
    lattice = want_exact | approx_lattice
    if lattice.any():
        lcm = (n1_ok // g) * n2_ok
        h = np.where(lattice, np.round(d * lcm.astype(np.float64)), 0).astype(np.int64)
        asymp_d = np.where(lattice, h / lcm, d)
        exact_p, exact_fb = _ks_exact(h, n1_ok, n2_ok, want_exact & (h > 0), two_sided)
        done = want_exact & ~exact_fb
        pvalue = np.where(done & (h > 0), exact_p, pvalue)
        pvalue = np.where(want_exact & (h == 0), 1.0, pvalue)
        used[done] = "exact"
        fell_back |= exact_fb
        if approx_lattice.any():
            sel = approx_lattice
            pvalue[sel] = _lattice_approx(asymp_d[sel], n1[sel], n2[sel])
            used[sel] = "fast"
            z = np.sqrt(en[sel]) * asymp_d[sel]
            log_bound[sel] = _LATTICE_BOUND_COEF * np.maximum(z, 0.5) ** 2 / np.sqrt(en[sel])
    if approx_one_sample.any():
        sel = approx_one_sample
        n_eff = np.round(en[sel])
        pvalue[sel] = _one_sample_sf_fast(n_eff, asymp_d[sel])
        used[sel] = "fast"
        z = np.sqrt(n_eff) * asymp_d[sel]
        log_bound[sel] = _ONE_SAMPLE_BOUND_COEF * np.maximum(z, 1.0) ** 5 / n_eff**1.5

    asymp = ok & (used == "")
    if asymp.any():
        sel = asymp
        if two_sided:
            # kstwo with n = round(0.5) = 0 (both sizes 1) is undefined: NaN, as in scipy.
            n_eff = np.round(en[sel])
            values = np.full(n_eff.size, np.nan)
            live = n_eff > 0
            values[live] = _kstwo_sf(asymp_d[sel][live], n_eff[live])
        else:
            values = _hodges_one_sided(asymp_d[sel], n1[sel], n2[sel])
        pvalue[sel] = np.clip(values, 0.0, 1.0)
        used[sel] = "asymp"
    used[np.isnan(pvalue)] = ""
    return _KSComputed(pvalue, used, fell_back, log_bound)


def _ks_exact(
    h: IntArray, n1: IntArray, n2: IntArray, sel: BoolArray, two_sided: bool
) -> tuple[FloatArray, BoolArray]:
    """Exact p-values where ``sel`` (``h >= 1``), and where scipy falls back."""
    k = h.size
    out = np.full(k, np.nan)
    fallback = np.zeros(k, dtype=bool)
    equal = sel & (n1 == n2)
    for size in np.unique(n1[equal]).tolist():
        cols = np.flatnonzero(equal & (n1 == size))
        if two_sided:
            out[cols], fallback[cols] = _square_two_sided(int(size), h[cols])
        else:
            out[cols] = _square_one_sided(int(size), h[cols])
    unequal = sel & (n1 != n2)
    if not two_sided and unequal.any():
        overflow = unequal & _one_sided_counts_overflow(n1, n2)
        fallback |= overflow
        unequal &= ~overflow
    if unequal.any():
        cols = np.flatnonzero(unequal)
        out[cols] = _lattice_by_group(
            np.maximum(n1, n2)[cols], np.minimum(n1, n2)[cols], h[cols], two_sided=two_sided
        )
    return out, fallback


# --------------------------------------------------------------------------
# KS: public functions


def ks_pvalue_details(
    d: ArrayLike,
    n: ArrayLike,
    m: ArrayLike,
    *,
    alternative: KSAlternative = "two-sided",
    method: KSMethod = "auto",
) -> KSPValues:
    """Return KS p-values with the method used for each column.

    Takes the same arguments as :func:`ks_pvalue`, whose p-values it returns in
    ``pvalue``. Use it to learn where scipy would have warned: ``fell_back``
    marks the columns whose exact p-value could not be computed (scipy's
    ``RuntimeWarning`` "Exact calculation unsuccessful. Switching to
    method=asymp"); no warning is issued here.

    Parameters
    ----------
    d, n, m, alternative, method
        As in :func:`ks_pvalue`.

    Returns
    -------
    KSPValues
        ``pvalue``, ``method`` and ``fell_back``, one entry per column.

    Examples
    --------
    >>> from mlkit.drift._pvalues import ks_pvalue_details
    >>> res = ks_pvalue_details([0.2, 0.2], [600, 20000], [500, 20001], alternative="greater")
    >>> res.method.tolist(), res.fell_back.tolist()
    (['asymp', 'asymp'], [True, False])
    """
    check_choice(alternative, _KS_ALTERNATIVES, "alternative")
    check_choice(method, _KS_METHODS, "method")
    dd, n1, n2 = _as_columns(d, n, m, "d")
    dd = _check_ks_statistic(dd)
    res = _ks_compute(dd, n1, n2, alternative, method)
    return KSPValues(res.pvalue, res.method, res.fell_back)


def ks_pvalue(
    d: ArrayLike,
    n: ArrayLike,
    m: ArrayLike,
    *,
    alternative: KSAlternative = "two-sided",
    method: KSMethod = "auto",
) -> FloatArray:
    """Return the two-sample KS p-value of every column.

    Parameters
    ----------
    d
        ``(n_columns,)`` KS statistics as :func:`scipy.stats.ks_2samp`
        computes them with ``data1`` the reference: ``max|F_ref - F_cur|``
        (two-sided), ``max(F_ref - F_cur)`` (``"greater"``) or
        ``max(F_cur - F_ref)`` (``"less"``). NaN gives a NaN p-value.
    n, m
        ``(n_columns,)`` (or scalar) sizes of the reference and current
        samples of each column, which may differ per column (NaNs omitted).
        A column with an empty sample gets a NaN p-value.
    alternative
        ``"two-sided"``, ``"less"`` or ``"greater"``, as in scipy.
    method
        ``"auto"``, ``"exact"`` and ``"asymp"`` give scipy's p-value
        (``ks_2samp(ref, cur, alternative, method).pvalue``) to 1e-9,
        including its fallbacks from exact to asymp (silently here; see
        :func:`ks_pvalue_details`). ``"fast"`` approximates ``"auto"``:

        * equal to ``"auto"`` for equal sizes up to 10000 (closed forms),
          one-sided tests (exact counts or Hodges' formula), unequal sizes
          with ``en = n*m/(n+m) < 100`` (exact recursion, at most ``2 en``
          rows), and ``round(en) <= 140`` above 10000;
        * two-sided, unequal sizes up to 10000, ``en >= 100``: the limiting
          Kolmogorov distribution with Hodges' first-order shift and a
          lattice continuity correction. Measured ``|log(fast / auto)|`` at
          en in [100, 300), [300, 1000), [1000, 3000), [3000, 5000]: 0.41,
          0.23, 0.075, 0.036 for p in [1e-12, 1] (about a quarter of that
          for p >= 1e-3) and 1.2, 0.65, 0.18, 0.075 for p in [1e-20, 1e-12);
          absolute deviation at most 5.3e-3, 3.4e-3, 2.2e-3, 1.1e-3;
        * two-sided, sizes above 10000 (where ``"auto"`` is ``kstwo.sf``, up
          to 0.7 s per value at ``en = 5e5``): scipy's own Pelz-Good
          expansion for ``en*d**2 < 2.2`` and a second-order expansion of
          Smirnov's one-sided series in the tail. Measured
          ``|log(fast / auto)|`` for p in [1e-12, 1]: 3.2e-2 at round(en) in
          (140, 300), 4.8e-3 in [300, 1000), 1.9e-4 in [1000, 3000), 5e-5 in
          [3000, 50000), 1.1e-6 in [5e4, 5e5]; absolute deviation at most
          7e-6, and 1e-7 from en = 1000.

        The bounds come from ``python -m benchmarks.ks_pvalue_accuracy``.

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64 p-values in [0, 1], NaN where undefined.

    Notes
    -----
    Work is shared across columns: the exact recursion runs once per unique
    pair of sizes for all the statistics of that pair, and asymptotic values
    once per unique ``(d, en)``. The exact recursion for unequal sizes
    (``"auto"`` up to 10000, two-sided) costs ``min(n, m)`` rows of one
    linear filter, about 15 us per row plus a few ns per cell. It is slower
    than scipy's compiled loop: at 10000 x 9000, 0.13-0.16 s for one column
    (scipy: 0.01-0.04 s), 0.85-2.6 s for 20 columns (scipy's loop: 0.2-1.1 s).
    ``"fast"`` and :func:`ks_pvalue_decide` avoid it except near a threshold.

    Examples
    --------
    >>> from mlkit.drift._pvalues import ks_pvalue
    >>> ks_pvalue([0.5, 0.5, 0.02], [10, 10, 20000], [10, 12, 30000])
    array([1.6782...e-01, 9.2702...e-02, 1.3357...e-04])
    """
    return ks_pvalue_details(d, n, m, alternative=alternative, method=method).pvalue


def ks_pvalue_decide(
    d: ArrayLike,
    n: ArrayLike,
    m: ArrayLike,
    *,
    alternative: KSAlternative = "two-sided",
    threshold: ArrayLike,
) -> FloatArray:
    """Return KS p-values that give scipy's decision at ``threshold``, cheaply.

    Every column gets its ``"fast"`` p-value, except columns whose fast value
    lies so close to their threshold that the approximation error could flip
    the decision: those are recomputed with ``"auto"`` (scipy's p-value).
    So for every column ``(result <= threshold) == (auto <= threshold)``,
    where ``auto = ks_pvalue(d, n, m, alternative=alternative)``.

    The safety band is multiplicative: a column is recomputed when
    ``|log(fast / threshold)| <= B``, where ``B`` bounds ``|log(fast / auto)|``
    at that column's sizes and statistic (``z = sqrt(en) * d``) with a margin
    of at least 2 over the largest error measured for p-values down to 1e-20
    (``python -m benchmarks.ks_pvalue_accuracy``):

    * two-sided, unequal sizes up to 10000, ``en >= 100``:
      ``B = 1.5 * max(z, 0.5)**2 / sqrt(en)`` (measured coefficient 0.71);
      about +-9% at en = 1000 and p = 0.05, +-4% at en = 5000;
    * two-sided, sizes above 10000: ``B = 0.25 * max(z, 1)**5 / round(en)**1.5``
      (measured 0.11); about 3e-6 at en = 5000 and p = 0.05;
    * everywhere else "fast" is "auto" and nothing is recomputed.

    Thresholds below 1e-12 make every approximated column recompute.

    Parameters
    ----------
    d, n, m, alternative
        As in :func:`ks_pvalue`.
    threshold
        Scalar or ``(n_columns,)``: the level each p-value is compared with
        (``alpha``, or ``alpha / k`` under Bonferroni), in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64 p-values: scipy's where recomputed,
        approximate elsewhere.

    Examples
    --------
    >>> from mlkit.drift._pvalues import ks_pvalue_decide
    >>> p = ks_pvalue_decide([0.0115, 0.03], 20000, 30000, threshold=0.05)
    >>> p
    array([8.302...e-02, 8.126...e-10])
    >>> (p <= 0.05).tolist()
    [False, True]
    """
    check_choice(alternative, _KS_ALTERNATIVES, "alternative")
    dd, n1, n2 = _as_columns(d, n, m, "d")
    dd = _check_ks_statistic(dd)
    try:
        t = np.broadcast_to(np.asarray(threshold, dtype=np.float64), dd.shape)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"threshold must be a number or one per column ({dd.size}), got {threshold!r}",
            value=threshold,
            expected=f"a scalar or shape ({dd.size},)",
        ) from None
    bad = ~((t >= 0.0) & (t <= 1.0))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ConfigurationError(
            f"threshold[{j}] = {float(t[j])!r} is not a probability in [0, 1]",
            column=j,
            value=float(t[j]),
            expected="a value in [0, 1]",
        )
    fast = _ks_compute(dd, n1, n2, alternative, "fast")
    pvalue = fast.pvalue.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.abs(np.log(pvalue) - np.log(t))
    near = (fast.log_bound > 0) & ((gap <= fast.log_bound) | (t < _BOUND_MIN_P))
    if near.any():
        exact = _ks_compute(dd[near], n1[near], n2[near], alternative, "auto")
        pvalue[near] = exact.pvalue
    return np.asarray(pvalue, dtype=np.float64)


# --------------------------------------------------------------------------
# Cramér-von Mises


def _cvm_cdf_inf(x: FloatArray) -> FloatArray:
    """Limiting CDF of the Cramér-von Mises statistic, scipy's series term by term.

    Csörgő and Faraway (1996), eq. 1.2; each value stops adding terms after
    its first term below 1e-7, as scipy's does, so the values agree with it.
    """
    total = np.zeros_like(x)
    active = np.ones(x.shape, dtype=bool)
    k = 0
    while active.any():
        xs = x[active]
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (
            np.pi**1.5 * np.sqrt(xs)
        )
        y = 4 * k + 1
        q = y**2 / (16 * xs)
        term = u * math.sqrt(y) * np.exp(-q) * special.kv(0.25, q)
        total[active] += term
        active[active] = np.abs(term) >= 1e-7
        k += 1
    return total


def _cvm_asymptotic(t: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    """Scipy's asymptotic p-value: T standardised by its exact moments (Anderson 1962)."""
    et = np.empty(t.size)
    vt = np.empty(t.size)
    pairs, inv = np.unique(np.stack([n1, n2]), axis=1, return_inverse=True)
    inv = inv.reshape(-1)
    for i in range(pairs.shape[1]):
        # Python integers, as scipy: 4*k*N overflows int64 for samples of millions.
        nx, ny = int(pairs[0, i]), int(pairs[1, i])
        k, big_n = nx * ny, nx + ny
        cols = inv == i
        et[cols] = (1 + 1 / big_n) / 6
        vt[cols] = (
            (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k) / (45 * big_n**2 * 4 * k)
        )
    tn = 1 / 6 + (t - et) / np.sqrt(45 * vt)
    out = np.ones(t.size)
    live = tn >= 0.003  # below, 1 - cdf is 1 to 1e-18 (scipy's shortcut)
    out[live] = np.maximum(1.0 - _cvm_cdf_inf(tn[live]), 0.0)
    return out


@attrs.frozen(eq=False)
class _CvMNull:
    """The exact null distribution of the CvM path sum for one pair of sizes."""

    values: FloatArray  # sorted distinct path sums
    at_least: NDArray[Any]  # number of paths with sum >= values[i] (int64 or float64)
    n_paths: int


@lru_cache(maxsize=32)
def _cvm_null(nx: int, ny: int) -> _CvMNull:
    """Distribution of ``sum (a*v - b*u)**2`` over the lattice paths to ``(ny, nx)``.

    Xiao, Gordon and Yakovlev (2006), Algorithm 1 (``a = lcm/nx``,
    ``b = lcm/ny``): node ``(u, v)`` holds the frequency table of the sums of
    the paths reaching it, merged from its two predecessors and shifted by
    the node's own term. Tables are sorted value arrays with counts; counts
    are exact int64 while the number of paths fits, float64 beyond.
    """
    lcm = nx * ny // math.gcd(nx, ny)
    a, b = lcm // nx, lcm // ny
    n_paths = math.comb(nx + ny, nx)
    count_dtype = np.int64 if n_paths < 2**62 else np.float64
    empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=count_dtype))
    column = [(np.zeros(1, dtype=np.int64), np.ones(1, dtype=count_dtype))] + [empty] * nx
    for u in range(ny + 1):
        left = empty
        for v in range(nx + 1):
            vals = np.concatenate([left[0], column[v][0]])
            counts = np.concatenate([left[1], column[v][1]])
            if left[0].size and column[v][0].size:
                # Two sorted runs: the stable sort merges them in linear time.
                order = np.argsort(vals, kind="stable")
                vals, counts = vals[order], counts[order]
                starts = np.flatnonzero(np.r_[True, vals[1:] != vals[:-1]])
                vals, counts = vals[starts], np.add.reduceat(counts, starts)
            left = (vals + (a * v - b * u) ** 2, counts)
            column[v] = left
    vals, counts = column[nx]
    at_least = np.cumsum(counts[::-1])[::-1]
    return _CvMNull(vals.astype(np.float64), at_least, n_paths)


def _cvm_exact(u: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    out = np.empty(u.size)
    pairs, inv = np.unique(np.stack([n1, n2]), axis=1, return_inverse=True)
    inv = inv.reshape(-1)
    for i in range(pairs.shape[1]):
        nx, ny = int(pairs[0, i]), int(pairs[1, i])
        cols = inv == i
        null = _cvm_null(nx, ny)
        lcm = nx * ny // math.gcd(nx, ny)
        mn = nx * ny
        # scipy's threshold on the path sum, in its floating-point order.
        zeta = np.floor_divide(
            float(lcm**2 * (nx + ny)) * (6 * u[cols] - float(mn * (4 * mn - 1))),
            float(6 * mn**2),
        )
        idx = np.searchsorted(null.values, zeta, side="left")
        tail = np.append(null.at_least, 0)[idx]
        out[cols] = tail / null.n_paths
    return out


def cvm_pvalue(
    t: ArrayLike,
    n: ArrayLike,
    m: ArrayLike,
    *,
    method: CvMMethod = "auto",
    u: ArrayLike | None = None,
) -> FloatArray:
    """Return the two-sample Cramér-von Mises p-value of every column.

    Equal to ``scipy.stats.cramervonmises_2samp(ref, cur, method=method).pvalue``
    to 1e-9.

    Parameters
    ----------
    t
        ``(n_columns,)`` statistics T as scipy computes them (mid-ranks for
        ties); NaN gives a NaN p-value.
    n, m
        ``(n_columns,)`` (or scalar) sizes of the reference and current
        samples. A column with fewer than two values in a sample gets NaN,
        as in scipy.
    method
        ``"auto"`` (exact when both sizes are at most 20, else asymptotic),
        ``"exact"`` or ``"asymptotic"``.
    u
        Optional ``(n_columns,)`` U statistics (Anderson's
        ``U = n*sum(r_i - i)**2 + m*sum(s_j - j)**2``, a multiple of 1/4),
        which the exact p-value is a function of. Without ``u`` it is
        recovered from T as ``U = (T + (4nm - 1)/(6(n+m))) * nm(n+m)``
        rounded to the nearest 1/4, which is exact while ``nm`` is below
        about 1e7 (far beyond where the exact method is affordable).

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64 p-values.

    Notes
    -----
    The exact null distribution is computed once per pair of sizes and
    cached for the 32 most recent pairs: about 10 ms for 20 x 20 and 0.2 s
    for 20 x 19 (coprime sizes have many distinct path sums); its cost grows
    quickly with the sizes, as scipy's does. The asymptotic series runs over
    all columns at once.

    Examples
    --------
    >>> from mlkit.drift._pvalues import cvm_pvalue
    >>> cvm_pvalue([0.4, 0.4], [10, 100], [10, 120])
    array([0.0765..., 0.0723...])
    """
    check_choice(method, _CVM_METHODS, "method")
    tt, n1, n2 = _as_columns(t, n, m, "t")
    out = np.full(tt.size, np.nan)
    ok = (n1 >= 2) & (n2 >= 2) & ~np.isnan(tt)
    if method == "exact":
        exact = ok.copy()
    elif method == "asymptotic":
        exact = np.zeros(tt.size, dtype=bool)
    else:
        exact = ok & (np.maximum(n1, n2) <= _CVM_MAX_EXACT_N)
    asym = ok & ~exact
    if asym.any():
        out[asym] = _cvm_asymptotic(tt[asym], n1[asym], n2[asym])
    if exact.any():
        if u is None:
            k = (n1 * n2).astype(np.float64)
            big_n = (n1 + n2).astype(np.float64)
            uu = (tt + (4 * k - 1) / (6 * big_n)) * k * big_n
        else:
            uu = np.broadcast_to(np.asarray(u, dtype=np.float64), tt.shape)
        uu = np.round(uu * 4.0) / 4.0
        live = exact & ~np.isnan(uu)
        out[live] = _cvm_exact(uu[live], n1[live], n2[live])
    return out
