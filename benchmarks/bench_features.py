"""Point-in-time join benchmark: time and peak memory of ``point_in_time_join`` vs input size.

One command measures everything in one run::

    python -m benchmarks.bench_features            # up to 1,000,000 x 10,000,000 (a few minutes)
    python -m benchmarks.bench_features --quick    # up to 100,000 x 1,000,000

Every size runs in a fresh subprocess so one size's memory cannot leak into the
next. The child builds seeded data (integer keys, one timestamp a second over
a year, three float features and one integer feature; a tenth of the entity
keys have no feature rows; ttl 7 days), then:

- times the join (median of ``--repeats``, default 1 for the largest size);
- runs it once more under ``tracemalloc`` for the peak of what the join
  allocates on top of its inputs (numpy and pandas buffers are traced);
- reports the process's peak RSS (``ru_maxrss``, which includes the inputs).

It writes ``docs/benchmarks/features.md`` (by default) and prints it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import base_info, command_section, fmt_seconds, make_log, write_page

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "features.md"
FULL_SIZES = ((10_000, 100_000), (100_000, 1_000_000), (1_000_000, 10_000_000))
QUICK_SIZES = ((10_000, 100_000), (100_000, 1_000_000))
FEATURE_ROWS_PER_KEY = 100
SECONDS_PER_YEAR = 365 * 24 * 3600


def make_data(n_entities: int, n_features: int, seed: int = 0) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_keys = max(1, n_features // FEATURE_ROWS_PER_KEY)
    start = np.datetime64("2024-01-01T00:00:00", "s")
    features = pd.DataFrame(
        {
            "user": rng.integers(0, n_keys, n_features),
            "ts": start + rng.integers(0, SECONDS_PER_YEAR, n_features).astype("m8[s]"),
            "f0": rng.standard_normal(n_features),
            "f1": rng.standard_normal(n_features),
            "f2": rng.standard_normal(n_features),
            "n": rng.integers(0, 1000, n_features),
        }
    )
    entities = pd.DataFrame(
        {
            # keys beyond n_keys (a tenth) never appear in the features
            "user": rng.integers(0, n_keys + n_keys // 10 + 1, n_entities),
            "ts": start + rng.integers(0, SECONDS_PER_YEAR, n_entities).astype("m8[s]"),
            "label": rng.integers(0, 2, n_entities),
        }
    )
    return entities, features


def child(n_entities: int, n_features: int, repeats: int) -> dict[str, Any]:
    """Run in a fresh process: time, traced peak and RSS of one size."""
    import gc

    from mlkit.features import point_in_time_join

    entities, features = make_data(n_entities, n_features)
    input_bytes = int(
        entities.memory_usage(deep=True).sum() + features.memory_usage(deep=True).sum()
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def run() -> Any:
        return point_in_time_join(entities, features, on="ts", by="user", ttl="7D")

    times = []
    out = None
    for _ in range(repeats):
        del out
        gc.collect()
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    matched = float(out["f0"].notna().mean())
    output_bytes = int(out.memory_usage(deep=True).sum())
    del out
    gc.collect()
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "entities": n_entities,
        "features": n_features,
        "seconds": statistics.median(times),
        "times": times,
        "input_bytes": input_bytes,
        "output_bytes": output_bytes,
        "traced_peak": traced_peak,
        "rss_before": rss_before,
        "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "matched": matched,
    }


def measure(n_entities: int, n_features: int, repeats: int, timeout: float) -> dict[str, Any]:
    code = (
        "import json, sys; from benchmarks.bench_features import child; "
        f"print(json.dumps(child({n_entities}, {n_features}, {repeats})))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"entities": n_entities, "features": n_features, "error": f"timeout {timeout:.0f}s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {
            "entities": n_entities,
            "features": n_features,
            "error": f"exit {proc.returncode}: {tail}",
        }
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def render(
    command: str, machine: dict[str, Any], results: list[dict[str, Any]], elapsed: float
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# Point-in-time join benchmarks",
        "",
        "`mlkit.features.point_in_time_join(entities, features, on='ts', by='user', ttl='7D')` "
        "on seeded data: integer keys with about 100 feature rows each, timestamps at one-second "
        "resolution over a year, three float features and one integer feature; a tenth of the "
        "entity keys have no feature rows. Each size runs in a fresh process. The machine is "
        "shared: compare sizes within a run rather than seconds across runs.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| memory | {machine['memory_gib']} GiB |",
        f"| load average at start | {load} |",
        f"| Python | {machine['python']} |",
        f"| pandas | {machine['pandas']} |",
        f"| numpy | {machine['numpy']} |",
        f"| mlkit | {machine['mlkit']} |",
        "",
        "## Time and memory vs input size",
        "",
        "Inputs and output: `DataFrame.memory_usage(deep=True)`. Join peak: the most the join "
        "allocated at once beyond its inputs (`tracemalloc`, on a separate untimed run). "
        "Process peak RSS: `ru_maxrss` of the child at the end (data generation, inputs, "
        "output and the join).",
        "",
        "| entities | feature rows | seconds (median) | rows/s (entities) | inputs MiB | "
        "output MiB | join peak MiB | join peak / inputs | process peak RSS MiB | matched |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if "error" in r:
            out.append(
                f"| {r['entities']:,} | {r['features']:,} | failed: {r['error']} | | | | | | | |"
            )
            continue
        out.append(
            f"| {r['entities']:,} | {r['features']:,} | {fmt_seconds(r['seconds'])} | "
            f"{r['entities'] / r['seconds']:,.0f} | {mib(r['input_bytes'])} | "
            f"{mib(r['output_bytes'])} | {mib(r['traced_peak'])} | "
            f"{r['traced_peak'] / r['input_bytes']:.2f} | {mib(r['rss_peak'])} | "
            f"{r['matched']:.3f} |"
        )
    ok = [r for r in results if "error" not in r]
    if len(ok) >= 2:
        # the last step only: the smallest size is dominated by fixed per-call costs
        small, big = ok[-2], ok[-1]
        grow_in = big["input_bytes"] / small["input_bytes"]
        grow_peak = big["traced_peak"] / small["traced_peak"]
        grow_t = big["seconds"] / small["seconds"]
        out += [
            "",
            f"From {small['entities']:,} x {small['features']:,} to {big['entities']:,} x "
            f"{big['features']:,} the inputs grow {grow_in:.1f}x, the join's peak "
            f"{grow_peak:.1f}x and its time {grow_t:.1f}x (sorting and hashing add a log "
            "factor and cache misses to time; the peak / inputs column shows whether memory "
            "stays linear).",
        ]
    out += [
        "",
        "## How the join keeps memory linear",
        "",
        "Only the key and time columns (plus an int64 row position) are de-duplicated, sorted "
        "and passed to `pandas.merge_asof`; the feature values are gathered once, by row "
        "position, into the output. So the feature frame's value columns are never copied "
        "by the sort or the merge, unlike a `merge_asof` on the whole frames (the pattern "
        "behind Feast's pandas offline store blowing up, issues #3003 and #3468).",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_features",
        description="Time and peak memory of point_in_time_join vs input size.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes up to 100,000 x 1,000,000: a smoke test"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per size below the largest (default 3)"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds allowed per size (default 900)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="Markdown page to write (default docs/benchmarks/features.md)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    command = shlex.join(["python", "-m", "benchmarks.bench_features", *argv])
    started = time.perf_counter()

    log = make_log(started)

    machine = base_info(("pandas", "numpy", "mlkit"))
    results = []
    for i, (n_e, n_f) in enumerate(sizes):
        # the largest size runs once: it is the slowest and its noise is relatively small
        repeats = 1 if i == len(sizes) - 1 else args.repeats
        log(f"== {n_e:,} entities x {n_f:,} feature rows, {repeats} timed run(s)")
        result = measure(n_e, n_f, repeats, args.timeout)
        if "error" in result:
            log(f"   failed: {result['error']}")
        else:
            log(
                f"   {result['seconds']:.2f} s, join peak {mib(result['traced_peak'])} MiB, "
                f"RSS {mib(result['rss_peak'])} MiB"
            )
        results.append(result)
    page = render(command, machine, results, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
