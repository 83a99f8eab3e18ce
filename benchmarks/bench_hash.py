"""Hashing benchmark: mlkit's ``hash_frame`` beside pandas' row hash and joblib's hash.

One command measures everything on the same frames in one run::

    python -m benchmarks.bench_hash            # 1,000,000 rows: about 2 minutes
    python -m benchmarks.bench_hash --quick    # 100,000 rows: a smoke test

For each frame it times, with repeats interleaved (the order rotates every
round) and the median kept:

- ``mlkit.versioning.hash_frame(df)`` (SHA-256 over every cell, labels, dtypes
  and index);
- ``pandas.util.hash_pandas_object(df, index=True)``, the baseline of issue 4's
  goal (hash_frame within 1.5x of it); it returns one uint64 per row, not a
  digest, so it is the lower bound of "touch every cell once" in pandas;
- ``joblib.hash(df)`` (md5 over the pickled frame);
- a floor: ``hashlib.sha256`` over the raw bytes of the numeric and datetime
  columns only (contiguous copies made beforehand).

The frames: "mixed" (12 float64 with 1% NaN, 4 int64, an object text column
of 50 city names with 1% None, a high-cardinality text column of unique IDs in
pandas' default string dtype, a 20-category categorical, a datetime64 column;
built from one dict, so pandas consolidates same-dtype columns into 2-D
blocks) and "float64 2-D" (20 float64 columns from one C-ordered 2-D array,
``copy=False``: every column is a strided view, the worst layout for a
per-column hash). It also times each column kind alone, checks that equal
frames hash equal and that a one-cell change in the last row changes the hash,
records the peak memory hash_frame allocates (tracemalloc), judges the goal and
writes ``docs/benchmarks/hashing.md`` (by default), which it also prints.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import shlex
import ssl
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import (
    Entry,
    base_info,
    command_section,
    cpuinfo,
    env_vars,
    make_log,
    run_rounds,
    write_page,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "hashing.md"
DEFAULT_ROWS, QUICK_ROWS = 1_000_000, 100_000
GOAL = 1.5  # hash_frame time over hash_pandas_object time, at most

MLKIT = "mlkit hash_frame(df)"
PANDAS = "pandas hash_pandas_object(df, index=True)"
JOBLIB = "joblib.hash(df) (md5)"
FLOOR = "floor: hashlib.sha256 of the numeric columns' bytes"

DESCRIPTIONS = {
    MLKIT: "`mlkit.versioning.hash_frame(df)`: one SHA-256 digest of every cell, the column "
    "labels, dtypes and the index. Numeric, bool and datetime columns are hashed as their "
    "bytes, text as one joined string per column, categoricals as codes plus categories.",
    PANDAS: "`pandas.util.hash_pandas_object(df, index=True)`: a uint64 per row (SipHash of "
    "each value, combined across columns); the baseline of the goal. It is not a digest of "
    "the frame: turning it into one adds a hash of its 8 bytes per row.",
    JOBLIB: "`joblib.hash(df)`: md5 of the frame's pickle (its default; joblib.hash allows "
    "only md5 and sha1). It depends on the block layout: an equal frame built another way "
    "can hash differently.",
    FLOOR: "`hashlib.sha256` fed every numeric and datetime column's raw bytes (contiguous "
    "copies made before timing): what the numeric part of any exact hash costs at least.",
}


COLUMN_NOTES = {
    "city": "text: 50 names, 1% None",
    "user_id": "text: unique IDs",
    "segment": "20 categories",
}

# --------------------------------------------------------------------------- data


def mixed_frame(n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, n_rows])
    columns: dict[str, Any] = {}
    for j in range(12):
        x = rng.standard_normal(n_rows) * 10.0 ** rng.uniform(-3, 3)
        x[rng.random(n_rows) < 0.01] = np.nan
        columns[f"f{j}"] = x
    for j in range(4):
        columns[f"i{j}"] = rng.integers(-(10**9), 10**9, n_rows)
    cities = np.array([f"city_{i:02d}" for i in range(50)], dtype=object)
    city = cities[rng.integers(0, 50, n_rows)]
    city[rng.random(n_rows) < 0.01] = None
    columns["city"] = pd.Series(city, dtype=object)
    ids = np.array([f"user_{i:09d}" for i in rng.permutation(n_rows)], dtype=object)
    try:
        text: Any = pd.StringDtype(na_value=np.nan)  # pandas 3's default "str"
    except TypeError:  # pandas < 2.3
        text = object
    columns["user_id"] = pd.Series(ids, dtype=text)
    columns["segment"] = pd.Categorical.from_codes(
        rng.integers(0, 20, n_rows), [f"segment_{i}" for i in range(20)]
    )
    seconds = rng.integers(0, 3 * 365 * 86_400, n_rows)
    columns["ts"] = np.datetime64("2024-01-01T00:00:00", "ns") + seconds.astype("m8[s]")
    return pd.DataFrame(columns)


def float_frame(n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, n_rows, 2])
    values = rng.standard_normal((n_rows, 20))
    return pd.DataFrame(values, columns=[f"x{j}" for j in range(20)], copy=False)


def numeric_buffers(df: pd.DataFrame) -> list[np.ndarray]:
    return [
        np.ascontiguousarray(df[c].to_numpy())
        for c in df.columns
        if isinstance(df[c].dtype, np.dtype) and df[c].dtype.kind in "biufcmM"
    ]


def sha256_floor(buffers: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for buffer in buffers:
        h.update(buffer.view(np.uint8))
    return h.hexdigest()


# ------------------------------------------------------------------------ timing


def traced_peak(run: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@dataclass
class FrameResult:
    label: str
    shape: tuple[int, int]
    nbytes: int  # df.memory_usage(deep=True).sum(), index included
    entries: list[Entry]
    columns: list[tuple[str, str, Entry, Entry]]  # (column, dtype, mlkit, pandas)
    checks: list[tuple[str, bool]]
    peak: int
    load: float

    def median(self, name: str) -> float | None:
        return next((e.median for e in self.entries if e.name == name), None)


def bench_frame(
    label: str,
    df: pd.DataFrame,
    repeats: int,
    per_column: bool,
    log: Callable[[str], None],
) -> FrameResult:
    import joblib

    from mlkit.versioning import hash_frame

    load = os.getloadavg()[0]
    nbytes = int(df.memory_usage(deep=True, index=True).sum())
    buffers = numeric_buffers(df)
    entries = [
        Entry(MLKIT, lambda: hash_frame(df)),
        Entry(PANDAS, lambda: pd.util.hash_pandas_object(df, index=True)),
        Entry(JOBLIB, lambda: joblib.hash(df)),
        Entry(FLOOR, lambda: sha256_floor(buffers)),
    ]
    log(f"== {label}: {repeats} interleaved rounds")
    run_rounds(entries, repeats, log)
    buffers.clear()  # free the copies; the floor entry is done

    columns: list[tuple[str, str, Entry, Entry]] = []
    if per_column:
        log(f"== {label}: one column of each kind")
        seen: set[str] = set()
        for name in df.columns:
            dtype = str(df[name].dtype)
            kind = f"{dtype} ({COLUMN_NOTES[name]})" if name in COLUMN_NOTES else dtype
            if kind in seen:
                continue
            seen.add(kind)
            one = df[[name]]
            mine = Entry(MLKIT, lambda one=one: hash_frame(one))
            theirs = Entry(PANDAS, lambda one=one: pd.util.hash_pandas_object(one, index=True))
            run_rounds([mine, theirs], repeats, lambda _: None)
            columns.append((str(name), kind, mine, theirs))

    log(f"== {label}: checks and peak memory")
    expected = hash_frame(df)
    changed = df.copy()
    last, first_column = len(df) - 1, df.columns[0]
    changed.loc[last, first_column] = changed.loc[last, first_column] + 1
    checks = [
        ("hash_frame(df.copy()) equals hash_frame(df)", hash_frame(df.copy()) == expected),
        (
            "a frame rebuilt column by column (one block per column) hashes equal",
            hash_frame(pd.DataFrame({c: df[c].copy() for c in df.columns})) == expected,
        ),
        (
            f"changing the last row's {first_column!r} by 1 changes the hash",
            hash_frame(changed) != expected,
        ),
    ]
    del changed
    peak = traced_peak(lambda: hash_frame(df))
    load = max(load, os.getloadavg()[0])
    return FrameResult(label, df.shape, nbytes, entries, columns, checks, peak, load)


# ----------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:

    flags = cpuinfo("flags").split()
    info = base_info(("numpy", "pandas", "joblib", "mlkit"))
    info["platform"] = platform.platform()
    info["sha_extensions"] = (
        "yes (sha_ni)" if "sha_ni" in flags else ("no" if flags else "unknown")
    )
    info["openssl"] = ssl.OPENSSL_VERSION
    info["env"] = env_vars()
    return info


# ------------------------------------------------------------------------ report


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def fmt_ratio(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def mb_per_s(nbytes: int, seconds: float | None) -> str:
    if not seconds:
        return ""
    return f"{nbytes / 1e6 / seconds:,.0f}"


def frame_table(r: FrameResult) -> list[str]:
    base = r.median(PANDAS)
    lines = [
        "| what | median (s) | MB/s | time / pandas | spread |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e in r.entries:
        if e.status != "ok":
            lines.append(f"| {e.name} | {e.status} | | | |")
            continue
        m = e.median
        ratio = m / base if m and base else None
        lines.append(
            f"| {e.name} | {fmt_seconds(m)} | {mb_per_s(r.nbytes, m)} | "
            f"{fmt_ratio(ratio)} | {fmt_ratio(e.spread)} |"
        )
    return lines


def column_table(r: FrameResult) -> list[str]:
    lines = [
        "| column | dtype | hash_frame (ms) | hash_pandas_object (ms) | time / pandas |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, kind, mine, theirs in r.columns:
        a, b = mine.median, theirs.median
        lines.append(
            f"| `{name}` | {kind} | {a * 1e3:.1f} | {b * 1e3:.1f} | "
            f"{fmt_ratio(a / b if a and b else None)} |"
            if a is not None and b is not None
            else f"| `{name}` | {kind} | {mine.status} | {theirs.status} | |"
        )
    return lines


def render(
    command: str,
    machine: dict[str, Any],
    results: list[FrameResult],
    repeats: int,
    elapsed: float,
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# Hashing benchmarks",
        "",
        "mlkit's `hash_frame` beside `pandas.util.hash_pandas_object` and `joblib.hash`, on "
        "the same frames in one run, repeats interleaved (the order rotates every round), "
        f"medians of {repeats}. The machine is shared: compare the ratios, measured side by "
        "side, rather than seconds across runs. All three are single-threaded.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} |",
        f"| platform | {machine['platform']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| SHA-256 instructions | {machine['sha_extensions']} |",
        f"| load average at start | {load} |",
        f"| Python | {machine['python']} |",
        f"| numpy / pandas / joblib | {machine['numpy']} / {machine['pandas']} / "
        f"{machine['joblib']} |",
        f"| hashlib's OpenSSL | {machine['openssl']} |",
        f"| mlkit | {machine['mlkit']} |",
    ]
    out += [f"| `{k}` | {v} |" for k, v in machine["env"].items()]
    out += [
        "",
        "Hashing uses no BLAS, so `OPENBLAS_CORETYPE` does not matter here (recorded for "
        "comparison with the other pages). SHA-256 speed depends on the CPU's SHA "
        "instructions and on OpenSSL.",
        "",
        "## Goal (issue 4)",
        "",
        "| goal | frame | measured | result |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        mine, base = r.median(MLKIT), r.median(PANDAS)
        if mine is None or base is None:
            out.append(
                f"| hash_frame within {GOAL}x of hash_pandas_object | {r.label} | "
                "not measured | n/a |"
            )
            continue
        ratio = mine / base
        verdict = "PASS" if ratio <= GOAL else "FAIL"
        out.append(
            f"| hash_frame within {GOAL}x of hash_pandas_object | {r.label} | "
            f"{fmt_ratio(ratio)}x ({fmt_seconds(mine)} s vs {fmt_seconds(base)} s) | {verdict} |"
        )
    for r in results:
        shape = f"{r.shape[0]:,} x {r.shape[1]}"
        out += [
            "",
            f"## {r.label}: {shape}",
            "",
            f"{r.nbytes / 1e6:,.0f} MB by `df.memory_usage(deep=True).sum()` (Python str "
            "objects included), the size MB/s refers to. 1-minute load average during the "
            f"frame: {r.load:.2f}. Spread: slowest repeat over fastest.",
            "",
            *frame_table(r),
            "",
            f"Peak memory hash_frame allocated (tracemalloc, numpy included): "
            f"{r.peak / 2**20:,.1f} MiB ({r.peak / r.nbytes:.3f}x the frame).",
        ]
        if r.columns:
            out += [
                "",
                "One column of each kind alone, as a one-column frame (both sides hash the "
                "RangeIndex too):",
                "",
                *column_table(r),
            ]
        out += ["", "Checks:", ""]
        out += [f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in r.checks]
    out += ["", "## What each row measures", ""]
    out += [f"- {name}: {text}" for name, text in DESCRIPTIONS.items()]
    out += [
        "",
        "The frames (seeded `numpy.random.default_rng`): *mixed* has 12 float64 columns "
        "(1% NaN, scales 1e-3 to 1e3), 4 int64, `city` (object: 50 names, 1% None), "
        "`user_id` (pandas' string dtype with NaN as missing, the default `str` of pandas 3: "
        "unique IDs), `segment` (categorical, 20 categories) and `ts` (datetime64[ns]), built "
        "from one dict; *float64 2-D* is `pd.DataFrame(values, copy=False)` on one C-ordered "
        "(rows, 20) array, so each column is a strided view.",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


# -------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_hash",
        description="hash_frame beside pandas.util.hash_pandas_object and joblib.hash.",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"rows per frame (default {DEFAULT_ROWS:,}; --quick: {QUICK_ROWS:,})",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats (default 7; --quick: 3)"
    )
    parser.add_argument("--quick", action="store_true", help="small frames: a smoke test")
    parser.add_argument(
        "--skip-columns", action="store_true", help="skip the per-column-kind timings"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="Markdown page to write (default docs/benchmarks/hashing.md)",
    )
    parser.add_argument("--seed", type=int, default=20260505, help="data seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    repeats = args.repeats or (3 if args.quick else 7)
    command = shlex.join(["python", "-m", "benchmarks.bench_hash", *argv])
    started = time.perf_counter()

    log = make_log(started)

    machine = machine_info()
    results = []
    for label, make, per_column in (
        ("mixed", mixed_frame, not args.skip_columns),
        ("float64 2-D", float_frame, False),
    ):
        log(f"== {label}: generating {rows:,} rows")
        df = make(rows, args.seed)
        result = bench_frame(label, df, repeats, per_column, log)
        results.append(result)
        log("\n".join(frame_table(result)))
        del df
        gc.collect()

    page = render(command, machine, results, repeats, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
