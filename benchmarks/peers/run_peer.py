"""Time one peer library's drift computation, inside that peer's own environment.

Run by ``benchmarks/bench_drift.py`` with the interpreter of
``benchmarks/.envs/<peer>/``; it imports nothing from mlkit, only numpy, pandas
and the peer. It loads the reference and current samples from ``.npy`` files
(float64, ``(n_rows, n_columns)``, columns named ``f0, f1, ...``), builds what
the peer needs, and prints one JSON object per line on stdout:

- ``{"event": "start", "peer": ..., "versions": {...}}`` once;
- ``{"event": "timing", "method": ..., "repeat": i, "fit": s, "test": s, ...}``
  after each timed repeat of each method (``fit`` is null where the peer has no
  separate fit step), flushed at once so that a caller that kills this process
  at its timeout still has every repeat finished before then;
- ``{"event": "done"}`` at the end.

Repeats of the peer's methods are interleaved. A method whose first repeat took
longer than ``--slow-seconds`` is repeated only ``--slow-repeats`` times in all.

Usage::

    benchmarks/.envs/nannyml/bin/python benchmarks/peers/run_peer.py \\
        --peer nannyml --reference ref.npy --current cur.npy --repeats 3
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

# Before any peer is imported: no usage telemetry.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

import numpy as np
import pandas as pd

ALPHA = 0.05

# A method is (name, note, run) where run(reference, current) returns
# (fit_seconds or None, test_seconds, n_drifted_columns or None).
Run = Callable[[np.ndarray, np.ndarray], tuple[float | None, float, int | None]]
Method = tuple[str, str, Run]

PACKAGES = {
    "evidently": "evidently",
    "alibi-detect": "alibi-detect",
    "nannyml": "nannyml",
}


def _frame(data: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(data, columns=[f"f{j}" for j in range(data.shape[1])])


def _evidently_methods() -> list[Method]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def run_with(method: str) -> Run:
        def run(reference: np.ndarray, current: np.ndarray) -> tuple[None, float, int | None]:
            ref_df, cur_df = _frame(reference), _frame(current)
            # Declared numeric: Evidently would otherwise guess that the rounded
            # (tied) columns are categorical and test them with chi-square.
            definition = DataDefinition(numerical_columns=list(ref_df.columns))
            start = time.perf_counter()
            ref_ds = Dataset.from_pandas(ref_df, data_definition=definition)
            cur_ds = Dataset.from_pandas(cur_df, data_definition=definition)
            snapshot = Report([DataDriftPreset(num_method=method)]).run(cur_ds, ref_ds)
            elapsed = time.perf_counter() - start
            return None, elapsed, _evidently_drifted(snapshot)

        return run

    note_common = (
        "Report([DataDriftPreset(num_method=...)]).run(current, reference), "
        "Dataset.from_pandas included; no separate fit step"
    )
    return [
        ("Evidently DataDriftPreset (KS)", note_common, run_with("ks")),
        ("Evidently DataDriftPreset (PSI)", note_common, run_with("psi")),
    ]


def _evidently_drifted(snapshot: Any) -> int | None:
    # The drifted-columns count is the first metric of the preset; its layout
    # changes between releases, so a failure here only loses the count.
    try:
        for metric in snapshot.dict()["metrics"]:
            if "DriftedColumnsCount" in str(metric.get("metric_name", "")):
                return int(metric["value"]["count"])
    except Exception:
        return None
    return None


def _alibi_methods() -> list[Method]:
    from alibi_detect.cd import KSDrift, TabularDrift

    def run_with(cls: Any) -> Run:
        def run(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, int]:
            start = time.perf_counter()
            detector = cls(reference, p_val=ALPHA)
            fitted = time.perf_counter()
            prediction = detector.predict(current)
            done = time.perf_counter()
            p_values = np.asarray(prediction["data"]["p_val"])
            return fitted - start, done - fitted, int((p_values < ALPHA).sum())

        return run

    note = "fit: constructor with x_ref; test: predict(current); scipy ks_2samp per column"
    return [
        ("alibi-detect KSDrift", note, run_with(KSDrift)),
        ("alibi-detect TabularDrift", note + " (all columns numeric)", run_with(TabularDrift)),
    ]


def _nannyml_methods() -> list[Method]:
    import nannyml

    def run(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, None]:
        ref_df, cur_df = _frame(reference), _frame(current)
        columns = list(ref_df.columns)
        calculator = nannyml.UnivariateDriftCalculator(
            column_names=columns,
            continuous_methods=["kolmogorov_smirnov"],
            # One chunk: the whole current batch against the whole reference.
            chunk_number=1,
        )
        start = time.perf_counter()
        calculator.fit(ref_df)
        fitted = time.perf_counter()
        result = calculator.calculate(cur_df)
        done = time.perf_counter()
        # No drift count: with one reference chunk NannyML's alert threshold
        # (from the spread over reference chunks) is 0, so every column alerts.
        del result
        return fitted - start, done - fitted, None

    note = (
        "UnivariateDriftCalculator(continuous_methods=['kolmogorov_smirnov'], chunk_number=1); "
        "at >= 10,000 reference rows it bins (10,000 equal-width bins) and the statistic "
        "is approximate; no p-value"
    )
    return [("NannyML UnivariateDriftCalculator (KS)", note, run)]


METHODS: dict[str, Callable[[], list[Method]]] = {
    "evidently": _evidently_methods,
    "alibi-detect": _alibi_methods,
    "nannyml": _nannyml_methods,
}


def _versions(peer: str) -> dict[str, str]:
    found = {}
    for name in (PACKAGES[peer], "numpy", "pandas", "scipy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = sys.version.split()[0]
    return found


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True, choices=sorted(METHODS))
    parser.add_argument("--reference", required=True, help="reference .npy (n_rows, n_columns)")
    parser.add_argument("--current", required=True, help="current .npy (n_rows, n_columns)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=10.0,
        help="a method whose first repeat took longer than this is a slow one",
    )
    parser.add_argument(
        "--slow-repeats", type=int, default=1, help="repeats in all of a slow method"
    )
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    reference = np.load(args.reference)
    current = np.load(args.current)
    methods = METHODS[args.peer]()
    _emit({"event": "start", "peer": args.peer, "versions": _versions(args.peer)})

    wanted = {name: args.repeats for name, _, _ in methods}
    for repeat in range(args.repeats):
        for name, note, run in methods:
            if repeat >= wanted[name]:
                continue
            gc.collect()
            fit, test, drifted = run(reference, current)
            total = test + (fit or 0.0)
            if repeat == 0 and total > args.slow_seconds:
                wanted[name] = min(args.repeats, args.slow_repeats)
            _emit(
                {
                    "event": "timing",
                    "method": name,
                    "note": note,
                    "repeat": repeat,
                    "fit": fit,
                    "test": test,
                    "drifted": drifted,
                }
            )
    _emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
