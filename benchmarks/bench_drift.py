"""Drift benchmark: mlkit beside the sort floor, the scipy loop and the peer libraries.

One command measures everything on the same data in one run::

    python -m benchmarks.bench_drift            # default sizes, about 20 minutes
    python -m benchmarks.bench_drift --quick    # small sizes, a smoke test

For each size it generates seeded float64 data (reference and current, some
columns shifted, some tied), saves it once as ``.npy`` and times, with repeats
interleaved and the median kept:

- the floor: ``np.sort`` of the current batch, strided (``axis=0``) and on a
  transposed contiguous copy;
- the baselines: a ``scipy.stats.ks_2samp`` loop over columns and a per-column
  ``np.histogram`` loop for PSI on reference-quantile bins;
- mlkit's kernels and ``DriftDetector`` (each skipped as "not available" while
  ``mlkit.drift`` lacks it);
- the peers (Evidently, alibi-detect, NannyML), each in its own environment
  under ``benchmarks/.envs/`` (``bash benchmarks/peers/setup.sh``), through
  ``benchmarks/peers/run_peer.py``, with a timeout per peer and size.

It also checks mlkit's KS against the scipy loop, measures the detector's peak
memory in a fresh process, judges the goals of issue 3 and writes a Markdown
page (``docs/benchmarks/drift.md`` by default) that it also prints.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import (
    NUMERIC_ENV,
    base_info,
    command_section,
    env_vars,
    fmt_seconds,
    make_log,
    spread,
    write_page,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ENVS = HERE / ".envs"
RUN_PEER = HERE / "peers" / "run_peer.py"

DEFAULT_SIZES = "10000x20,100000x50,1000000x20,5000x2000"
QUICK_SIZES = "5000x10,20000x20,2000x200"
PEERS = ("evidently", "alibi-detect", "nannyml")
ALPHA = 0.05
PSI_BINS = 10
PSI_EPS = 1e-4
FULL_TESTS = ["ks", "psi", "wasserstein", "missing"]
MEMORY_SIZE = (1_000_000, 20)

# Shift of each current column, cycling over the columns, in units of the
# column's spread / sqrt(n/2): 0 is no drift (uniform p-values); 2-4 give
# moderate p-values, 6-30 small ones. sqrt(n/2) * D then stays between about
# 1.5 and 19 at every size, the range where scipy's exact asymptotic p-value
# (kstwo.sf) is most expensive.
SHIFTS = (0.0, 0.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0)
TIE_EVERY = 5  # every fifth column (4, 9, ...) is rounded: heavy ties

FLOOR = "floor: np.sort(current, axis=0)"
FLOOR_T = "floor: np.sort(current.T contiguous, axis=1)"
SCIPY_LOOP = "scipy ks_2samp loop (asymp)"
HIST_LOOP = "np.histogram PSI loop (reference quantile bins)"
MLKIT_KS = "mlkit KS (fitted reference)"
MLKIT_DETECTOR = "mlkit detector (KS+PSI+Wasserstein+missing)"
MLKIT_PSI = "mlkit PSI (fitted bins)"
MLKIT_KERNEL = "mlkit ks_2samp kernel (no fit)"
EVIDENTLY_KS = "Evidently DataDriftPreset (KS)"

DESCRIPTIONS = {
    FLOOR: "`np.sort(current, axis=0)` on the C-ordered (rows, columns) batch: the floor for "
    "an exact KS against a reference sorted once at fit time.",
    FLOOR_T: "`np.sort(np.ascontiguousarray(current.T), axis=1)`, the copy included: the "
    "faster way to sort every column.",
    SCIPY_LOOP: '`scipy.stats.ks_2samp(ref[:, j], cur[:, j], method="asymp")` for each column '
    "(what alibi-detect and Evidently do inside).",
    HIST_LOOP: f"fit: {PSI_BINS} reference-quantile bins (outer edges infinite) and reference "
    "counts per column; test: `np.histogram` of each current column on its bins and PSI "
    f"with shares clipped at {PSI_EPS:g}. `np.histogram` sorts each column (in blocks) "
    "to count it, so this loop costs about the floor.",
    MLKIT_KS: '`DriftDetector(tests=["ks"]).fit(ref_df)` then `.test(cur_df)`.',
    MLKIT_DETECTOR: f"`DriftDetector(tests={FULL_TESTS})`: fit, then test (one shared sort).",
    MLKIT_PSI: '`DriftDetector(tests=["psi"])`: bins fixed at fit, test counts the batch.',
    MLKIT_KERNEL: '`ks_2samp(ref, cur, method="fast")`: both samples sorted on every call.',
}


# --------------------------------------------------------------------------- data


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        rows, _, cols = item.strip().lower().partition("x")
        if not rows.isdigit() or not cols.isdigit():
            raise argparse.ArgumentTypeError(
                f"size {item!r}: expected ROWSxCOLUMNS, e.g. 10000x20"
            )
        sizes.append((int(rows), int(cols)))
    return sizes


def make_data(n_rows: int, n_columns: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current float64 samples, ``(n_rows, n_columns)``, C-ordered.

    Each column is a two-component normal mixture (10-30% of the mass in a
    narrower component 1-3 spreads to the right) on its own scale: magnitudes
    from 1e-3 to 1e3 sit side by side. The current batch shifts its columns by
    ``SHIFTS`` (scaled with sqrt(n) so p-values are moderate and small at every
    size); every ``TIE_EVERY``-th column is rounded to a tenth of its spread.
    """
    rng = np.random.default_rng([seed, n_rows, n_columns])
    weight = rng.uniform(0.1, 0.3, n_columns)
    offset = rng.uniform(1.0, 3.0, n_columns)
    scale = 10.0 ** rng.uniform(-3.0, 3.0, n_columns)
    loc = rng.uniform(-5.0, 5.0, n_columns)
    shift = np.resize(np.array(SHIFTS), n_columns) / np.sqrt(n_rows / 2)

    def sample(extra: np.ndarray | float) -> np.ndarray:
        x = rng.standard_normal((n_rows, n_columns))
        second = rng.random((n_rows, n_columns)) < weight
        x = np.where(second, offset + 0.5 * x, x)
        x += loc + extra
        tied = np.arange(n_columns) % TIE_EVERY == TIE_EVERY - 1
        x[:, tied] = np.round(x[:, tied], 1)
        x *= scale
        return np.ascontiguousarray(x, dtype=np.float64)

    return sample(0.0), sample(shift)


def frame(data: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(data, columns=[f"f{j}" for j in range(data.shape[1])])


# --------------------------------------------------------------------- baselines


def scipy_ks_loop(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats

    k = reference.shape[1]
    statistic, pvalue = np.empty(k), np.empty(k)
    for j in range(k):
        result = stats.ks_2samp(reference[:, j], current[:, j], method="asymp")
        statistic[j], pvalue[j] = result.statistic, result.pvalue
    return statistic, pvalue


def histogram_psi_fit(reference: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    fitted = []
    quantiles = np.linspace(0.0, 1.0, PSI_BINS + 1)
    for j in range(reference.shape[1]):
        edges = np.quantile(reference[:, j], quantiles)
        edges[0], edges[-1] = -np.inf, np.inf
        counts = np.histogram(reference[:, j], bins=edges)[0]
        fitted.append((edges, np.clip(counts / reference.shape[0], PSI_EPS, None)))
    return fitted


def histogram_psi_test(
    fitted: list[tuple[np.ndarray, np.ndarray]], current: np.ndarray
) -> np.ndarray:
    values = np.empty(len(fitted))
    for j, (edges, expected) in enumerate(fitted):
        counts = np.histogram(current[:, j], bins=edges)[0]
        actual = np.clip(counts / current.shape[0], PSI_EPS, None)
        values[j] = np.sum((actual - expected) * np.log(actual / expected))
    return values


# ------------------------------------------------------------------------ timing


@dataclass
class Entry:
    """One row of a result table: what is timed, and what was measured."""

    name: str
    group: str  # floor | baseline | mlkit | peer
    test: Callable[[Any], Any] | None = None
    fit: Callable[[], Any] | None = None
    keep: bool = False  # keep the first test's output for the correctness check
    fit_times: list[float] = field(default_factory=list)
    test_times: list[float] = field(default_factory=list)
    status: str = "ok"  # ok | not available ... | error: ... | timeout ...
    note: str = ""
    output: Any = None
    timeout: float | None = None  # seconds, when it timed out before any repeat

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.test_times)

    @property
    def fit_median(self) -> float | None:
        return statistics.median(self.fit_times) if self.fit_times else None

    @property
    def test_median(self) -> float | None:
        return statistics.median(self.test_times) if self.test_times else None

    @property
    def spread(self) -> float | None:
        """Slowest over fastest test repeat: how noisy this entry's timing was."""
        return spread(self.test_times)


def run_rounds(
    entries: list[Entry], rounds: range, repeats: int, log: Callable[[str], None]
) -> None:
    """Time every runnable entry once per round, interleaved, rotating the order."""
    runnable = [e for e in entries if e.status == "ok" and e.test is not None]
    for repeat in rounds:
        shift = repeat % max(len(runnable), 1)
        for entry in runnable[shift:] + runnable[:shift]:
            if entry.status != "ok":
                continue
            gc.collect()
            try:
                start = time.perf_counter()
                state = entry.fit() if entry.fit is not None else None
                fitted = time.perf_counter()
                out = entry.test(state)
                done = time.perf_counter()
            except Exception as exc:
                entry.status = f"error: {type(exc).__name__}: {exc}"[:200]
                log(f"  {entry.name}: {entry.status}")
                continue
            if entry.fit is not None:
                entry.fit_times.append(fitted - start)
            entry.test_times.append(done - fitted)
            if entry.keep and entry.output is None:
                entry.output = out
            del out, state
        log(f"  round {repeat + 1}/{repeats} done")


def mlkit_api() -> tuple[dict[str, Any], str]:
    """The mlkit names the benchmark uses, and why any is missing."""
    try:
        import mlkit.drift as drift
    except Exception as exc:
        return {}, f"not available (import mlkit.drift failed: {exc})"
    found = {
        n: getattr(drift, n) for n in ("DriftDetector", "ks_2samp", "psi") if hasattr(drift, n)
    }
    return found, ""


def in_process_entries(
    reference: np.ndarray, current: np.ndarray, ref_df: Any, cur_df: Any
) -> list[Entry]:
    entries = [
        Entry(FLOOR, "floor", test=lambda _: np.sort(current, axis=0)),
        Entry(
            FLOOR_T,
            "floor",
            test=lambda _: np.sort(np.ascontiguousarray(current.T), axis=1),
        ),
        Entry(SCIPY_LOOP, "baseline", test=lambda _: scipy_ks_loop(reference, current), keep=True),
        Entry(
            HIST_LOOP,
            "baseline",
            fit=lambda: histogram_psi_fit(reference),
            test=lambda fitted: histogram_psi_test(fitted, current),
            keep=True,
        ),
    ]
    api, why = mlkit_api()

    def missing(name: str, *needs: str) -> Entry:
        absent = [n for n in needs if n not in api]
        reason = why or f"not available (mlkit.drift has no {', '.join(absent)})"
        return Entry(name, "mlkit", status=reason)

    if "DriftDetector" in api:
        detector = api["DriftDetector"]

        def fitted(tests: list[str]) -> Callable[[], Any]:
            return lambda: detector(tests=tests).fit(ref_df)

        entries += [
            Entry(MLKIT_KS, "mlkit", fit=fitted(["ks"]), test=lambda d: d.test(cur_df), keep=True),
            Entry(
                MLKIT_DETECTOR,
                "mlkit",
                fit=fitted(FULL_TESTS),
                test=lambda d: d.test(cur_df),
                keep=True,
            ),
            Entry(
                MLKIT_PSI, "mlkit", fit=fitted(["psi"]), test=lambda d: d.test(cur_df), keep=True
            ),
        ]
    else:
        entries += [missing(n, "DriftDetector") for n in (MLKIT_KS, MLKIT_DETECTOR, MLKIT_PSI)]
    if "ks_2samp" in api:
        kernel = api["ks_2samp"]
        entries.append(
            Entry(
                MLKIT_KERNEL,
                "mlkit",
                test=lambda _: kernel(reference, current, method="fast"),
                keep=True,
            )
        )
    else:
        entries.append(missing(MLKIT_KERNEL, "ks_2samp"))
    return entries


# ------------------------------------------------------------------------- peers


def peer_python(peer: str) -> Path:
    return ENVS / peer / "bin" / "python"


def peer_ready(peer: str) -> bool:
    return (ENVS / peer / ".ok").exists() and peer_python(peer).exists()


def peer_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DO_NOT_TRACK="1", NML_DISABLE_USAGE_LOGGING="1", EVIDENTLY_DISABLE_TELEMETRY="1")
    # The peer's own interpreter and site-packages only; nothing from mlkit's venv.
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    return env


def run_peer(
    peer: str,
    data_dir: Path,
    repeats: int,
    slow_repeats: int,
    slow_seconds: float,
    timeout: float,
) -> tuple[list[Entry], dict[str, str]]:
    """Run one peer on one size in its environment: one Entry per method, and its versions."""
    if not peer_ready(peer):
        status = "not set up (run: bash benchmarks/peers/setup.sh)"
        return [Entry(peer, "peer", status=status)], {}
    command = [
        str(peer_python(peer)),
        str(RUN_PEER),
        "--peer",
        peer,
        "--reference",
        str(data_dir / "reference.npy"),
        "--current",
        str(data_dir / "current.npy"),
        "--repeats",
        str(repeats),
        "--slow-repeats",
        str(slow_repeats),
        "--slow-seconds",
        str(slow_seconds),
    ]
    timed_out = False
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=peer_env(), check=False
        )
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        timed_out = True
        stdout = _text(exc.stdout)
        stderr, code = _text(exc.stderr), None

    entries: dict[str, Entry] = {}
    versions: dict[str, str] = {}
    finished = False
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("event") == "start":
            versions = record.get("versions", {})
        elif record.get("event") == "timing":
            entry = entries.setdefault(record["method"], Entry(record["method"], "peer"))
            if record.get("fit") is not None:
                entry.fit_times.append(record["fit"])
            entry.test_times.append(record["test"])
            entry.output = record.get("drifted")
        elif record.get("event") == "done":
            finished = True

    for entry in entries.values():
        done_repeats = len(entry.test_times)
        if timed_out and not finished:
            entry.note = f"{done_repeats} repeat(s) before the {timeout:.0f} s timeout"
        elif done_repeats < repeats:
            entry.note = f"{done_repeats} repeat(s): slow"
    result = list(entries.values())
    if timed_out and not finished:
        # Every method the peer would have started next gets an honest row.
        for name in _peer_methods(peer):
            if name not in entries:
                result.append(Entry(name, "peer", status=f"timeout (> {timeout:.0f} s)"))
                result[-1].timeout = timeout
    elif code not in (0, None) or not finished:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        result.append(Entry(peer, "peer", status=f"error: {last[:160]}"))
    return result, versions


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _peer_methods(peer: str) -> list[str]:
    return {
        "evidently": [EVIDENTLY_KS, "Evidently DataDriftPreset (PSI)"],
        "alibi-detect": ["alibi-detect KSDrift", "alibi-detect TabularDrift"],
        "nannyml": ["NannyML UnivariateDriftCalculator (KS)"],
    }[peer]


# ------------------------------------------------------------------- correctness


def check_ks(entries: dict[str, Entry]) -> list[dict[str, Any]]:
    """mlkit's KS statistic and reject decisions against the scipy loop."""
    scipy_entry = entries.get(SCIPY_LOOP)
    if scipy_entry is None or scipy_entry.output is None:
        return []
    ref_stat, ref_p = scipy_entry.output
    rows = []
    candidates = [
        (MLKIT_KERNEL, 'ks_2samp(method="fast")', _kernel_ks),
        (MLKIT_KS, 'DriftDetector(tests=["ks"])', _detector_ks),
        (MLKIT_DETECTOR, "DriftDetector(full)", _detector_ks),
    ]
    for name, label, extract in candidates:
        entry = entries.get(name)
        if entry is None or not entry.ok or entry.output is None:
            continue
        try:
            stat, p, level = extract(entry.output, len(ref_stat))
        except Exception as exc:
            rows.append({"what": label, "error": f"{type(exc).__name__}: {exc}"[:160]})
            continue
        same = np.mean((p < level) == (ref_p < level))
        rows.append(
            {
                "what": label,
                "stat_diff": float(np.nanmax(np.abs(stat - ref_stat))),
                "p_diff": float(np.nanmax(np.abs(p - ref_p))),
                "same_decision": float(same),
                "level": f"{np.min(level):.3g}",
                "columns": len(ref_stat),
            }
        )
    return rows


def _kernel_ks(result: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    level = np.full(k, ALPHA)
    return np.asarray(result.statistic, float), np.asarray(result.pvalue, float), level


def _detector_ks(report: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The detector rejects where p < its threshold (alpha after its multiple-testing
    # correction): scipy's p-values are judged against the same threshold.
    table = report.to_frame()
    table = table[table["test"] == "ks"].set_index("column")
    names = [f"f{j}" for j in range(k)]
    level = np.full(k, ALPHA)
    if "threshold" in table.columns:
        given = table.loc[names, "threshold"].to_numpy(float)
        level = np.where(np.isfinite(given), given, ALPHA)
    return (
        table.loc[names, "statistic"].to_numpy(float),
        table.loc[names, "p_value"].to_numpy(float),
        level,
    )


# ------------------------------------------------------------------------ memory


def memory_probe(data_dir: Path) -> dict[str, Any]:
    """Peak memory of the floor and of mlkit's detector test; run in a fresh process."""
    import tracemalloc

    reference = np.load(data_dir / "reference.npy")
    current = np.load(data_dir / "current.npy")
    result: dict[str, Any] = {"input_bytes": current.nbytes, "shape": list(current.shape)}

    def measure(run: Callable[[], Any]) -> dict[str, float]:
        gc.collect()
        before = _proc_status("VmRSS")
        # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        run()
        peak = _proc_status("VmHWM")
        gc.collect()
        tracemalloc.start()
        run()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"rss_extra": float(peak - before), "traced_peak": float(traced)}

    result["floor"] = measure(lambda: np.sort(current, axis=0))
    api, why = mlkit_api()
    if "DriftDetector" not in api:
        result["detector"] = why or "not available (mlkit.drift has no DriftDetector)"
        return result
    ref_df, cur_df = frame(reference), frame(current)
    try:
        detector = api["DriftDetector"](tests=FULL_TESTS).fit(ref_df)
        result["detector"] = measure(lambda: detector.test(cur_df))
    except Exception as exc:
        result["detector"] = f"error: {type(exc).__name__}: {exc}"[:200]
    return result


def _proc_status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def run_memory_probe(data_dir: Path, timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_drift", "--memory-probe", str(data_dir)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout (> {timeout:.0f} s)"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


# ----------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    import scipy

    info = base_info()
    info["numpy"] = np.__version__
    info["scipy"] = scipy.__version__
    info["env"] = env_vars(("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", *NUMERIC_ENV))
    info.update(_simd())
    info["blas"] = _blas()
    x = np.random.default_rng(0).standard_normal(1_000_000)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        np.sort(x)
        times.append(time.perf_counter() - start)
    info["sort_1m_ms"] = statistics.median(times) * 1e3
    return info


def _simd() -> dict[str, Any]:
    """numpy's SIMD build and run-time state, as np.show_runtime() reports it."""
    try:
        from numpy._core._multiarray_umath import (  # type: ignore[attr-defined]
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )
    except ImportError:
        return {"simd": "unknown (numpy without the _core._multiarray_umath CPU tables)"}
    enabled = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    disabled = [t for t in __cpu_dispatch__ if not __cpu_features__.get(t)]
    # x86-simd-sort dispatches float64 sort to AVX-512 (SKX, numpy >= 2.4 calls the level
    # X86_V4) or AVX2 (X86_V3); the first enabled one is the one np.sort runs.
    levels = [
        ("X86_V4", "AVX-512 (x86-simd-sort, X86_V4)"),
        ("AVX512_SKX", "AVX-512 (x86-simd-sort, AVX512_SKX)"),
        ("X86_V3", "AVX2 (x86-simd-sort, X86_V3)"),
        ("AVX2", "AVX2 (x86-simd-sort, AVX2)"),
    ]
    sort_path = next(
        (label for key, label in levels if __cpu_features__.get(key)),
        "baseline (no SIMD sort dispatch enabled)",
    )
    if platform.machine() not in ("x86_64", "AMD64"):
        sort_path = f"non-x86 ({platform.machine()}): numpy's own dispatch"
    return {
        "simd_baseline": list(__cpu_baseline__),
        "simd_enabled": enabled,
        "simd_disabled": disabled,
        "sort_path": sort_path,
    }


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    found = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
        f"{p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(found) or "none loaded"


# ------------------------------------------------------------------------ report


def fmt_ratio(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    if value < 0.1:
        return f"{value:.2g}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def size_label(size: tuple[int, int]) -> str:
    return f"{size[0]:,} x {size[1]:,}"


@dataclass
class SizeResult:
    size: tuple[int, int]
    entries: list[Entry]
    checks: list[dict[str, Any]]
    psi_diff: float | None
    peer_versions: dict[str, dict[str, str]]
    load: float  # the higher 1-minute load average, before and after this size

    def get(self, name: str) -> Entry | None:
        return next((e for e in self.entries if e.name == name), None)

    def median(self, name: str) -> float | None:
        entry = self.get(name)
        return entry.test_median if entry is not None and entry.ok else None


def size_table(result: SizeResult) -> list[str]:
    floor = result.median(FLOOR)
    floor_t = result.median(FLOOR_T)
    scipy_loop = result.median(SCIPY_LOOP)
    lines = [
        "| what | fit (s) | test (s) | test / floor | test / transposed floor "
        "| scipy loop / test | spread | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for entry in result.entries:
        test = entry.test_median if entry.ok else None
        notes = [entry.note] if entry.note else []
        if entry.ok and entry.group == "peer" and entry.output is not None:
            notes.append(f"{entry.output} columns flagged")
        if not entry.ok:
            cells = [entry.status, "", "", "", ""]
        else:
            cells = [
                fmt_seconds(test),
                fmt_ratio(test / floor if floor and test else None),
                fmt_ratio(test / floor_t if floor_t and test else None),
                fmt_ratio(scipy_loop / test if scipy_loop and test else None),
                fmt_ratio(entry.spread),
            ]
        fit = fmt_seconds(entry.fit_median) if entry.ok else ""
        row = [entry.name, fit, *cells, "; ".join(notes)]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    return lines


@dataclass
class Goal:
    text: str
    size: str
    measured: str
    verdict: str  # PASS | FAIL | n/a


def judge(results: list[SizeResult], memory: dict[str, Any] | None) -> list[Goal]:
    goals: list[Goal] = []

    def ratio_goal(
        text: str, size: str, num: float | None, den: float | None, ok: Callable[[float], bool]
    ) -> None:
        if num is None or den is None or den == 0:
            goals.append(Goal(text, size, "not available", "n/a"))
            return
        value = num / den
        goals.append(Goal(text, size, f"{fmt_ratio(value)}x", "PASS" if ok(value) else "FAIL"))

    for r in results:
        label = size_label(r.size)
        ks, det = r.median(MLKIT_KS), r.median(MLKIT_DETECTOR)
        floor, scipy_loop = r.median(FLOOR), r.median(SCIPY_LOOP)
        ratio_goal("mlkit KS (fitted) test <= 2x the floor", label, ks, floor, lambda v: v <= 2)
        ratio_goal(
            "mlkit KS (fitted) test >= 8x faster than the scipy loop",
            label,
            scipy_loop,
            ks,
            lambda v: v >= 8,
        )
        ratio_goal("mlkit detector test <= 3x the floor", label, det, floor, lambda v: v <= 3)
        goals.append(_evidently_goal(r, label, det))
        ratio_goal(
            "mlkit PSI (fitted bins) test >= 10x faster than the np.histogram loop",
            label,
            r.median(HIST_LOOP),
            r.median(MLKIT_PSI),
            lambda v: v >= 10,
        )
        for check in r.checks:
            if "error" in check:
                goals.append(
                    Goal(f"{check['what']}: KS equals scipy", label, check["error"], "FAIL")
                )
                continue
            goals.append(
                Goal(
                    f"{check['what']}: KS statistic within 1e-15 of scipy",
                    label,
                    f"max diff {check['stat_diff']:.2g}",
                    "PASS" if check["stat_diff"] <= 1e-15 else "FAIL",
                )
            )
            goals.append(
                Goal(
                    f"{check['what']}: same decision as scipy (asymp) at p < {check['level']}",
                    label,
                    f"{check['same_decision']:.1%} of {check['columns']} columns",
                    "PASS" if check["same_decision"] == 1.0 else "FAIL",
                )
            )
    goals.append(_memory_goal(memory))
    return goals


def _evidently_goal(r: SizeResult, label: str, det: float | None) -> Goal:
    text = "mlkit detector >= 100x faster than Evidently (KS preset)"
    evidently = r.get(EVIDENTLY_KS)
    if det is None or evidently is None:
        return Goal(text, label, "not available", "n/a")
    if evidently.ok and evidently.test_median is not None:
        value = evidently.test_median / det
        return Goal(text, label, f"{fmt_ratio(value)}x", "PASS" if value >= 100 else "FAIL")
    if evidently.timeout is not None:
        # Evidently took longer than the timeout: the ratio is at least this.
        value = evidently.timeout / det
        verdict = "PASS" if value >= 100 else "n/a"
        return Goal(text, label, f"> {fmt_ratio(value)}x (Evidently timed out)", verdict)
    return Goal(text, label, evidently.status, "n/a")


def _memory_goal(memory: dict[str, Any] | None) -> Goal:
    text = "mlkit detector test peak memory < 3x the current array"
    if memory is None:
        return Goal(text, "", "not measured", "n/a")
    label = size_label(tuple(memory.get("shape", (0, 0))))  # type: ignore[arg-type]
    det = memory.get("detector")
    if "error" in memory or not isinstance(det, dict):
        return Goal(text, label, str(memory.get("error") or det), "n/a")
    value = det["rss_extra"] / memory["input_bytes"]
    return Goal(text, label, f"{value:.2f}x", "PASS" if value < 3 else "FAIL")


def render(
    args: argparse.Namespace,
    command: str,
    machine: dict[str, Any],
    results: list[SizeResult],
    memory: dict[str, Any] | None,
    goals: list[Goal],
    elapsed: float,
) -> str:
    out = ["# Drift benchmarks", ""]
    out += [
        "mlkit's drift statistics beside the sort floor, a scipy loop and the peer libraries, "
        "on the same data in one run. The machine is shared and noisy: compare the ratios "
        "(measured in the same run, repeats interleaved), not seconds across runs.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} ({machine['vendor']}) |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| memory | {machine['memory_gib']} GiB |",
        f"| load average at start | {', '.join(f'{x:.2f}' for x in machine['load'])} |",
        f"| Python | {machine['python']} |",
        f"| numpy / scipy / pandas | {machine['numpy']} / {machine['scipy']} / "
        f"{machine['pandas']} |",
        f"| mlkit | {machine['mlkit']} |",
    ]
    if "sort_path" in machine:
        out += [
            f"| numpy SIMD baseline | {' '.join(machine['simd_baseline']) or 'none'} |",
            f"| numpy SIMD dispatch enabled | {' '.join(machine['simd_enabled']) or 'none'} |",
            f"| numpy SIMD dispatch disabled | {' '.join(machine['simd_disabled']) or 'none'} |",
            f"| float64 `np.sort` path | {machine['sort_path']} |",
        ]
    else:
        out.append(f"| numpy SIMD | {machine['simd']} |")
    out += [
        f"| `np.sort` of 1,000,000 float64 | {machine['sort_1m_ms']:.1f} ms |",
        f"| BLAS | {machine['blas']} |",
    ]
    out += [f"| `{k}` | {v} |" for k, v in machine["env"].items()]
    versions: dict[str, dict[str, str]] = {}
    for r in results:
        versions.update(r.peer_versions)
    for peer, found in versions.items():
        others = ", ".join(f"{k} {v}" for k, v in found.items() if k != peer)
        out.append(f"| peer: {peer} | {found.get(peer, '?')} ({others}), own environment |")
    out += [
        "",
        "On some CPUs numpy's AVX-512 sort is slower than its AVX2 one (Zen 4); "
        "`NPY_DISABLE_CPU_FEATURES` set before numpy is imported switches the dispatch "
        "(for example `NPY_DISABLE_CPU_FEATURES=X86_V4` on numpy 2.4).",
        "",
        "## Goals (issue 3)",
        "",
        "Test time only (the reference is fitted beforehand) unless said; "
        "a fitted entry's fit time is in its own column below.",
        "",
        "| goal | size | measured | result |",
        "| --- | --- | --- | --- |",
    ]
    out += [f"| {g.text} | {g.size} | {g.measured} | {g.verdict} |" for g in goals]
    out += ["", "## Results", ""]
    out += [
        f"Seconds are medians of {args.repeats} interleaved repeats (peers: see notes). "
        "*test / floor*: the test time over `np.sort(current, axis=0)`; *scipy loop / test*: "
        "how many times faster than the scipy loop; *spread*: the slowest repeat over the "
        "fastest (noise). In-process entries run half their rounds before the peers and half "
        "after; each peer runs in its own process, its repeats interleaved between its methods.",
        "",
    ]
    for r in results:
        out += [f"### {size_label(r.size)}", "", f"Load average (1 min) up to {r.load:.2f}.", ""]
        out += size_table(r)
        out.append("")
    out += ["## Correctness", ""]
    out += [
        "mlkit's KS against `scipy.stats.ks_2samp(..., method='asymp')` per column, same "
        f"data. Decisions: the kernel's p-values and scipy's against alpha {ALPHA}; the "
        "detector's against its own threshold (alpha after its multiple-testing correction, "
        "from its report), scipy's against the same.",
        "",
        "| size | what | max abs diff, statistic | max abs diff, p-value | reject if p < "
        "| same decision |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    any_check = False
    for r in results:
        for c in r.checks:
            any_check = True
            if "error" in c:
                out.append(f"| {size_label(r.size)} | {c['what']} | {c['error']} | | | |")
            else:
                same = f"{c['same_decision']:.1%} of {c['columns']}"
                out.append(
                    f"| {size_label(r.size)} | {c['what']} | {c['stat_diff']:.3g} | "
                    f"{c['p_diff']:.3g} | {c['level']} | {same} |"
                )
    if not any_check:
        out.append("| | mlkit KS not available | | | | |")
    psi = [(r.size, r.psi_diff) for r in results if r.psi_diff is not None]
    if psi:
        out += [
            "",
            "PSI (informational; edges and smoothing conventions may differ): max abs difference "
            "between mlkit's fitted PSI and the np.histogram loop: "
            + ", ".join(f"{size_label(s)}: {d:.3g}" for s, d in psi)
            + ".",
        ]
    out += ["", "## Peak memory", ""]
    out += _memory_lines(memory)
    out += ["", "## What each row measures", ""]
    out += [f"- {name}: {text}" for name, text in DESCRIPTIONS.items()]
    peer_notes = _peer_notes(results)
    out += [f"- {name}: {text}" for name, text in peer_notes.items()]
    out += [
        "",
        "The data: seeded `numpy.random.default_rng`, float64; every column a two-component "
        "normal mixture on its own scale (1e-3 to 1e3 side by side); the current batch shifts "
        f"its columns by {', '.join(f'{s:g}' for s in SHIFTS)} (cycling) times the spread over "
        "sqrt(n/2), so p-values are moderate and small; every fifth column is rounded (ties). "
        "The same `.npy` files go to every entry and peer.",
        "",
    ]
    out += command_section(
        command, elapsed, setup="bash benchmarks/peers/setup.sh   # once: the peers' environments"
    )
    return "\n".join(out)


def _memory_lines(memory: dict[str, Any] | None) -> list[str]:
    if memory is None:
        return ["Not measured (`--skip-memory`)."]
    if "error" in memory:
        return [f"The probe failed: {memory['error']}"]
    size = size_label(tuple(memory["shape"]))  # type: ignore[arg-type]
    mib = memory["input_bytes"] / 2**20
    lines = [
        f"Measured in a fresh process on {size} (current array {mib:.0f} MiB): the peak "
        "resident memory above what the process held before the call (Linux VmHWM, reset "
        "before it), and tracemalloc's peak of numpy's allocations in a second call.",
        "",
        "| what | peak RSS above start | x current array | tracemalloc peak | x current array |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (("floor", "`np.sort(current, axis=0)`"), ("detector", MLKIT_DETECTOR)):
        value = memory.get(key)
        if isinstance(value, dict):
            rss, traced = value["rss_extra"], value["traced_peak"]
            lines.append(
                f"| {label} | {rss / 2**20:.0f} MiB | {rss / memory['input_bytes']:.2f} | "
                f"{traced / 2**20:.0f} MiB | {traced / memory['input_bytes']:.2f} |"
            )
        else:
            lines.append(f"| {label} | {value} | | | |")
    if tuple(memory["shape"]) != MEMORY_SIZE:
        lines += ["", f"The goal's size, {size_label(MEMORY_SIZE)}, was not in this run."]
    return lines


def _peer_notes(results: list[SizeResult]) -> dict[str, str]:
    notes: dict[str, str] = {}
    for r in results:
        for entry in r.entries:
            if entry.group == "peer" and entry.name not in notes:
                notes[entry.name] = ""
    texts = {
        EVIDENTLY_KS: "`Report([DataDriftPreset(num_method='ks')]).run(current, reference)` "
        "with every column declared numerical; `Dataset.from_pandas` included; no fit step.",
        "Evidently DataDriftPreset (PSI)": "the same with `num_method='psi'`.",
        "alibi-detect KSDrift": "fit: `KSDrift(x_ref, p_val=0.05)`; test: `predict(current)` "
        "(scipy `ks_2samp` per column inside).",
        "alibi-detect TabularDrift": "fit: `TabularDrift(x_ref, p_val=0.05)`; test: "
        "`predict(current)`; every column numeric, so KS per column.",
        "NannyML UnivariateDriftCalculator (KS)": "`UnivariateDriftCalculator(continuous_methods="
        "['kolmogorov_smirnov'], chunk_number=1)`: fit on the reference, calculate on the "
        "current batch as one chunk. At 10,000 reference rows or more NannyML bins (10,000 "
        "equal-width bins over the reference range), so its statistic is approximate, and it "
        "gives no p-value.",
    }
    return {name: texts.get(name, "a peer run that did not start") for name in notes}


# -------------------------------------------------------------------------- main


def bench_size(
    size: tuple[int, int],
    args: argparse.Namespace,
    peers: list[str],
    workdir: Path,
    log: Callable[[str], None],
) -> tuple[SizeResult, Path]:
    n_rows, n_columns = size
    log(f"== {size_label(size)}: generating data")
    reference, current = make_data(n_rows, n_columns, args.seed)
    data_dir = workdir / f"{n_rows}x{n_columns}"
    data_dir.mkdir(parents=True, exist_ok=True)
    np.save(data_dir / "reference.npy", reference)
    np.save(data_dir / "current.npy", current)
    ref_df, cur_df = frame(reference), frame(current)

    load = os.getloadavg()[0]
    entries = in_process_entries(reference, current, ref_df, cur_df)
    # Half the in-process rounds run before the peers and half after, so that a
    # burst of load from elsewhere on this shared machine falls on both sides.
    first = range((args.repeats + 1) // 2 if peers else args.repeats)
    log(f"== {size_label(size)}: {len(first)} interleaved rounds in process")
    run_rounds(entries, first, args.repeats, log)
    peer_versions = {}
    for peer in peers:
        log(f"== {size_label(size)}: {peer}")
        found, versions = run_peer(
            peer,
            data_dir,
            args.repeats,
            args.slow_peer_repeats,
            args.slow_seconds,
            args.peer_timeout,
        )
        entries += found
        if versions:
            peer_versions[peer] = versions
    rest = range(len(first), args.repeats)
    if rest:
        log(f"== {size_label(size)}: {len(rest)} more interleaved rounds in process")
        run_rounds(entries, rest, args.repeats, log)
    del ref_df, cur_df
    load = max(load, os.getloadavg()[0])

    by_name = {e.name: e for e in entries}
    checks = check_ks(by_name)
    psi_diff = _psi_diff(by_name, n_columns)
    for entry in entries:
        if entry.group != "peer":
            entry.output = None  # the correctness check is done; free the memory
    return SizeResult(size, entries, checks, psi_diff, peer_versions, load), data_dir


def _psi_diff(entries: dict[str, Entry], k: int) -> float | None:
    hist, mine = entries.get(HIST_LOOP), entries.get(MLKIT_PSI)
    if hist is None or mine is None or hist.output is None or mine.output is None:
        return None
    try:
        table = mine.output.to_frame()
        table = table[table["test"] == "psi"].set_index("column")
        values = table.loc[[f"f{j}" for j in range(k)], "statistic"].to_numpy(float)
    except Exception:
        return None
    return float(np.nanmax(np.abs(values - hist.output)))


def choose_peers(text: str) -> list[str]:
    if text == "all":
        return [p for p in PEERS if peer_ready(p)]
    if text in ("", "none"):
        return []
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PEERS))
    if unknown:
        raise SystemExit(f"unknown peers: {unknown}; known: {list(PEERS)}")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_drift",
        description="Drift benchmark: mlkit beside the sort floor, a scipy loop and the peers.",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help=f"comma-separated ROWSxCOLUMNS (default {DEFAULT_SIZES}; --quick: {QUICK_SIZES})",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats (default 5; --quick: 3)"
    )
    parser.add_argument(
        "--peers",
        default="all",
        help=f"'all' (every peer set up under benchmarks/.envs), 'none', or a comma list "
        f"of {', '.join(PEERS)}",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "docs" / "benchmarks" / "drift.md",
        help="Markdown page to write (default docs/benchmarks/drift.md)",
    )
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=None,
        help="seconds for one peer on one size, its repeats included (default 900; --quick 180)",
    )
    parser.add_argument(
        "--slow-peer-repeats",
        type=int,
        default=1,
        help="repeats of a peer method whose first repeat exceeded --slow-seconds (default 1)",
    )
    parser.add_argument("--slow-seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=20260503, help="data seed")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak memory probe")
    parser.add_argument("--memory-probe", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        print(json.dumps(memory_probe(args.memory_probe)))
        return 0
    if args.sizes is None:
        args.sizes = parse_sizes(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.peer_timeout is None:
        args.peer_timeout = 180.0 if args.quick else 900.0
    peers = choose_peers(args.peers)
    command = shlex.join(["python", "-m", "benchmarks.bench_drift", *argv])

    started = time.perf_counter()

    log = make_log(started)

    log(f"peers: {', '.join(peers) or 'none'}")
    machine = machine_info()
    results: list[SizeResult] = []
    memory: dict[str, Any] | None = None
    # The probe runs on 1,000,000 x 20 when the run has it, else on the most rows.
    probe_size = (
        MEMORY_SIZE if MEMORY_SIZE in args.sizes else max(args.sizes, key=lambda s: (s[0], s[1]))
    )
    with tempfile.TemporaryDirectory(prefix="mlkit-bench-drift-") as tmp:
        for size in args.sizes:
            result, data_dir = bench_size(size, args, peers, Path(tmp), log)
            results.append(result)
            log("\n".join(size_table(result)))
            if size == probe_size and not args.skip_memory:
                log(f"== {size_label(size)}: peak memory probe")
                memory = run_memory_probe(data_dir, timeout=max(args.peer_timeout, 300.0))
            for name in ("reference.npy", "current.npy"):
                (data_dir / name).unlink()
            gc.collect()

    goals = judge(results, memory)
    page = render(args, command, machine, results, memory, goals, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
