"""Accuracy and speed of ``ks_pvalue(method="fast")`` against scipy's methods.

Run from the repository root::

    python -m benchmarks.ks_pvalue_accuracy            # about 3 minutes
    python -m benchmarks.ks_pvalue_accuracy --quick    # about 40 seconds

Part 1 measures, over a grid of sample sizes (1 to 1e6, equal and unequal)
and statistics chosen so that the p-value spans 1e-20 to 1, the deviation of
"fast" from "auto" and from "asymp". The references are mlkit's "auto" and
"asymp", which the test suite checks against ``scipy.stats.ks_2samp`` to
1e-9 (they are much faster than a scipy loop where scipy's exact or
``kstwo.sf`` is slow, which keeps this grid affordable). It also prints the
coefficient of the error model that ``ks_pvalue_decide`` uses for its safety
band, which must stay below half of the library's constant (a margin of 2).

Part 2 times ``ks_pvalue`` per method for the two shapes of the issue's
benchmark where p-values dominate: 2000 columns at n = m = 5000, and 20
columns at n = m = 1e6.
"""

from __future__ import annotations

import argparse
import itertools
import math
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import scipy
from scipy import special

from mlkit.drift import _pvalues as pv

# Two-sided only: "fast" equals "auto" for one-sided tests (checked below).
Z_GRID = np.concatenate([np.linspace(0.15, 1.0, 8), np.linspace(1.1, 5.0, 27)])
EN_BUCKETS = [0.0, 10, 100, 300, 1000, 3000, 5001, 5e4, 5.1e5]


def _pairs(quick: bool, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Sizes (reference, current): equal, near-equal, simple ratios, random, lopsided."""
    out: set[tuple[int, int]] = set()
    equal = [1, 2, 3, 5, 8, 13, 30, 100, 333, 1000, 4000, 10000, 10001, 40000, 250000, 1000000]
    for n in equal:
        out.add((n, n))
    small = [3, 7, 20, 60, 150, 400, 1000, 2500, 6000, 10000]
    for n in small:
        for m in {n - 1, n // 2 + 1, (2 * n) // 3, n * 9 // 10, 1, 2, 5}:
            if 1 <= m <= 10000 and m != n:
                out.add((n, m))
    for _ in range(12 if quick else 40):
        n = int(np.exp(rng.uniform(np.log(150), np.log(10000))))
        m = int(np.exp(rng.uniform(np.log(150), np.log(10000))))
        if n != m:
            out.add((n, m))
    large = [(20000, 19999), (30000, 20000), (1000000, 999999), (200000, 100001), (50000, 300)]
    large += [(10001, 150), (20000, 1000), (1000000, 5000), (100000, 100000)]
    large += [(100000, 145), (12000, 400), (30000, 2500), (10001, 10000)]
    if not quick:
        large += [(400000, 333333), (1000000, 100000), (60000, 59999), (15000, 12000)]
    out.update(large)
    return sorted(out)


def _statistics(n: int, m: int) -> np.ndarray:
    """Statistics on the pair's lattice whose p-values span about 1e-20 to 1."""
    en = n * m / (n + m)
    g = math.gcd(n, m)
    lcm = n // g * m
    d = np.clip(Z_GRID / math.sqrt(en), 0.0, 1.0)
    if lcm < 2**52:
        d = np.unique(np.round(d * lcm) / lcm)
    return np.asarray(d[d > 0])


def accuracy(quick: bool) -> None:
    rng = np.random.default_rng(20240611)
    rows = []
    started = time.perf_counter()
    for n, m in _pairs(quick, rng):
        d = _statistics(n, m)
        if d.size == 0:
            continue
        fast = pv.ks_pvalue(d, n, m, method="fast")
        methods = pv.ks_pvalue_details(d, n, m, method="fast").method
        auto = pv.ks_pvalue(d, n, m, method="auto")
        asymp = pv.ks_pvalue(d, n, m, method="asymp")
        en = n * m / (n + m)
        for j in range(d.size):
            rows.append((n, m, en, d[j], fast[j], auto[j], asymp[j], methods[j] == "fast"))
    elapsed = time.perf_counter() - started
    n_, m_, en, d, fast, auto, asymp, approximated = (np.array(c) for c in zip(*rows, strict=True))
    z = np.sqrt(en) * d

    def logdev(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.abs(np.log(a / b))
        return np.where((a == 0) & (b == 0), 0.0, r)

    print(f"Part 1: two-sided accuracy of 'fast', {len(rows)} cases, {elapsed:.0f} s")
    print("  |log| columns: max |log(fast/ref)| over cases with ref p in the range;")
    print("  model: max |log(fast/auto)| / (max(z,.5)**2/sqrt(en)) up to 10000,")
    print("         max |log(fast/auto)| / (max(z,1)**5/en**1.5) above (z = sqrt(en) d)")
    header = (
        f"{'en range':>18} {'cases':>6} {'approx':>6} | {'abs vs auto':>11} "
        f"{'|log| p>=1e-12':>14} {'|log| [1e-20,1e-12)':>19} {'model':>6} | "
        f"{'abs vs asymp':>12} {'|log| p>=1e-12':>14}"
    )
    dev = logdev(fast, auto)
    dev_as = logdev(fast, asymp)
    small_sizes = np.maximum(n_, m_) <= 10000
    with np.errstate(divide="ignore", invalid="ignore"):
        model = np.where(
            small_sizes,
            dev * np.sqrt(en) / np.maximum(z, 0.5) ** 2,
            dev * np.round(en) ** 1.5 / np.maximum(z, 1.0) ** 5,
        )
    coefs = {}
    for region, in_region in [
        ("max(n, m) <= 10000: auto is exact", small_sizes),
        ("max(n, m) > 10000: auto is asymp (kstwo.sf)", ~small_sizes),
    ]:
        print(region)
        print(header)
        print("-" * len(header))
        for lo, hi in itertools.pairwise(EN_BUCKETS):
            s = in_region & (en >= lo) & (en < hi)
            if not s.any():
                continue
            body = s & (auto >= 1e-12)
            deep = s & (auto < 1e-12) & (auto >= 1e-20)
            sel = s & approximated & (auto >= 1e-20)
            coef = float(model[sel].max()) if sel.any() else 0.0
            coefs[region] = max(coefs.get(region, 0.0), coef)
            body_as = s & (asymp >= 1e-12)
            print(
                f"[{lo:>7g}, {hi:>7g}) {int(s.sum()):>6} {int((s & approximated).sum()):>6} | "
                f"{np.nanmax(np.abs(fast - auto)[s]):>11.1e} "
                f"{(dev[body].max() if body.any() else 0):>14.1e} "
                f"{(dev[deep].max() if deep.any() else 0):>19.1e} {coef:>6.3f} | "
                f"{np.nanmax(np.abs(fast - asymp)[s]):>12.1e} "
                f"{(dev_as[body_as].max() if body_as.any() else 0):>14.1e}"
            )
    lattice_coef, one_sample_coef = coefs.values()
    print(
        f"model coefficients: sizes <= 10000: {lattice_coef:.3f} "
        f"(library uses {pv._LATTICE_BOUND_COEF}), above 10000: {one_sample_coef:.3f} "
        f"(library uses {pv._ONE_SAMPLE_BOUND_COEF})"
    )
    exact_cases = ~approximated & (np.maximum(n_, m_) <= 10000)
    print(
        "columns where 'fast' is not approximated: max |fast - auto| = "
        f"{np.nanmax(np.abs(fast - auto)[exact_cases]):.1e}"
    )
    one = [
        pv.ks_pvalue(_statistics(a, b), a, b, alternative="greater", method=meth)
        for a, b in [(700, 330), (20000, 15000), (5000, 5000)]
        for meth in ("fast", "auto")
    ]
    print(
        "one-sided: max |fast - auto| = "
        f"{max(np.nanmax(np.abs(one[i] - one[i + 1])) for i in range(0, len(one), 2)):.1e}"
    )


def _time(func: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def _statistics_like(regime: str, k: int, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """k lattice statistics: "null" (sqrt(en) d ~ Kolmogorov) or "drift" (z in [1.5, 8])."""
    en = n * m / (n + m)
    if regime == "null":
        z = special.kolmogi(rng.uniform(1e-3, 1.0, k))
    else:
        z = rng.uniform(1.5, 8.0, k)
    lcm = n * m // math.gcd(n, m)
    return np.asarray(np.clip(np.round(z / np.sqrt(en) * lcm) / lcm, 0, 1))


def speed(quick: bool) -> None:
    print()
    print("Part 2: seconds per call (best of repeats), two-sided; 'null' statistics have")
    print("sqrt(en) d ~ Kolmogorov (p uniform), 'drift' ones sqrt(en) d uniform in [1.5, 8]")
    print("(where scipy's kstwo.sf sums Smirnov's series, O(en) per value)")
    rng = np.random.default_rng(7)
    print(f"{'shape':>34} {'fast':>8} {'decide':>8} {'asymp':>8} {'auto':>8}")
    shapes = [(2000, 5000, 5000), (20, 1_000_000, 1_000_000), (20, 10000, 9000)]
    for (k, n, m), regime in itertools.product(shapes, ["null", "drift"]):
        d = _statistics_like(regime, k, n, m, rng)
        calls: dict[str, Callable[[], object]] = {
            "fast": lambda d=d, n=n, m=m: pv.ks_pvalue(d, n, m, method="fast"),
            "decide": lambda d=d, n=n, m=m: pv.ks_pvalue_decide(d, n, m, threshold=0.05),
            "asymp": lambda d=d, n=n, m=m: pv.ks_pvalue(d, n, m, method="asymp"),
            "auto": lambda d=d, n=n, m=m: pv.ks_pvalue(d, n, m, method="auto"),
        }
        times = {}
        for name, call in calls.items():
            slow = name in ("asymp", "auto")
            if quick and slow and (regime == "drift" or n != m):
                times[name] = math.nan
                continue
            times[name] = _time(call, 1 if slow else 5)
        label = f"{k} cols, {n} vs {m}, {regime}"
        print(
            f"{label:>34} {times['fast']:>8.4f} {times['decide']:>8.4f} "
            f"{times['asymp']:>8.3f} {times['auto']:>8.3f}"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grid, skip slow timings")
    args = parser.parse_args(argv)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"{platform.machine()} {platform.processor() or ''}".rstrip()
    )
    accuracy(args.quick)
    speed(args.quick)


if __name__ == "__main__":
    main(sys.argv[1:])
