"""Monitoring overhead benchmark: MonitoredModel and DriftMonitor.observe on single records.

One command measures everything in one run::

    python -m benchmarks.bench_monitoring            # about a minute
    python -m benchmarks.bench_monitoring --quick    # a smoke test

The model is trivial (``predict`` returns a precomputed one-element array), so
what is measured is the monitoring's own cost per request. Per call, rounds
interleaved (the order rotates every round) and the median kept, it times:

- ``model.predict(x)``: the floor, in the same loop as every other entry;
- ``MonitoredModel.predict(x)``: a regressor (outcome "ok"), a classifier with
  ``class_labels``, and a classifier exporting 3 feature histograms;
- ``DriftMonitor.observe(record)`` alone (a dict of 3 numeric columns, windows
  of 1,000 rows, so the cost of testing each completed window is amortised in);
- both on each request: ``MonitoredModel.predict(x)`` then ``observe(x)``,
  the issue 8 goal (< 20 µs added over the bare model).

DriftMonitor comes from helper work in progress: if ``mlkit.monitoring`` has
no ``DriftMonitor`` its rows read "not available". Writes
``docs/benchmarks/monitoring.md`` (by default), which it also prints.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import Entry, base_info, command_section, make_log, run_rounds, write_page

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "monitoring.md"
DEFAULT_CALLS, QUICK_CALLS = 100_000, 10_000
GOAL_NS = 20_000.0  # MonitoredModel + DriftMonitor.observe, added per request

DIRECT = "model.predict(x) (direct)"
MON_REG = "MonitoredModel.predict(x) (regressor)"
MON_CLS = "MonitoredModel.predict(x) (classifier, class_labels)"
MON_FEAT = "MonitoredModel.predict(x) (classifier, 3 feature histograms)"
DRIFT = "DriftMonitor.observe(x) (3 columns, window 1,000)"
BOTH = "MonitoredModel.predict(x) + DriftMonitor.observe(x)"
COLUMNS = ("a", "b", "c")


class Const:
    """The trivial model: whatever it gets, it returns the same one-element array."""

    def __init__(self, value: Any) -> None:
        self.out = np.array([value])

    def predict(self, X: Any) -> Any:
        return self.out


def loop(fn: Callable[[Any], Any], records: Sequence[Any]) -> Callable[[], None]:
    def run() -> None:
        for x in records:
            fn(x)

    return run


def loop_both(
    predict: Callable[[Any], Any], observe: Callable[[Any], Any], records: Sequence[Any]
) -> Callable[[], None]:
    def run() -> None:
        for x in records:
            predict(x)
            observe(x)

    return run


def build_entries(n_calls: int) -> tuple[list[Entry], dict[str, Any]]:
    import pandas as pd
    from prometheus_client import CollectorRegistry

    import mlkit.monitoring as monitoring
    from mlkit.monitoring import MonitoredModel

    rng = np.random.default_rng(20260503)
    # Distinct dict records, as a serving app would parse them from JSON.
    values = rng.normal(size=(n_calls, len(COLUMNS))).tolist()
    records = [dict(zip(COLUMNS, row, strict=False)) for row in values]
    registry = CollectorRegistry()
    regressor = Const(0.5)
    classifier = Const(1)
    mon_reg = MonitoredModel(regressor, name="reg", version="1", registry=registry)
    mon_cls = MonitoredModel(
        classifier, name="cls", version="1", registry=registry, class_labels=[0, 1]
    )
    mon_feat = MonitoredModel(
        classifier,
        name="feat",
        version="1",
        registry=registry,
        class_labels=[0, 1],
        feature_columns=list(COLUMNS),
    )
    entries = [
        Entry(DIRECT, loop(regressor.predict, records), n_calls),
        Entry(MON_REG, loop(mon_reg.predict, records), n_calls),
        Entry(MON_CLS, loop(mon_cls.predict, records), n_calls),
        Entry(MON_FEAT, loop(mon_feat.predict, records), n_calls),
    ]
    facts: dict[str, Any] = {"calls": n_calls, "drift": "available"}
    drift_cls = getattr(monitoring, "DriftMonitor", None)
    if drift_cls is None:
        facts["drift"] = "not available (mlkit.monitoring has no DriftMonitor)"
        entries += [Entry(DRIFT, None, n_calls), Entry(BOTH, None, n_calls)]
    else:
        reference = pd.DataFrame(rng.normal(size=(10_000, len(COLUMNS))), columns=list(COLUMNS))
        drift_alone = drift_cls(reference, window=1000, registry=registry)
        drift_both = drift_cls(reference, window=1000, registry=CollectorRegistry())
        entries += [
            Entry(DRIFT, loop(drift_alone.observe, records), n_calls),
            Entry(BOTH, loop_both(mon_reg.predict, drift_both.observe, records), n_calls),
        ]
    return entries, facts


def machine_info() -> dict[str, Any]:
    info = base_info(("mlkit", "prometheus_client"))
    info["platform"] = platform.platform()
    info["implementation"] = platform.python_implementation()
    return info


def fmt_ns(seconds: float | None) -> str:
    return "not available" if seconds is None else f"{seconds * 1e9:,.0f}"


def render(
    command: str,
    machine: dict[str, Any],
    entries: list[Entry],
    facts: dict[str, Any],
    repeats: int,
    elapsed: float,
) -> str:
    by_name = {e.name: e for e in entries}
    direct = by_name[DIRECT].per_call
    assert direct is not None
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# Monitoring overhead benchmarks",
        "",
        "The cost `MonitoredModel` and `DriftMonitor.observe` add to one single-record "
        "request, against calling the model directly, in one run: the model's `predict` "
        "returns a precomputed array, so the monitoring's own work dominates. Each entry "
        f"makes {facts['calls']:,} calls per round on distinct dict records of 3 numeric "
        f"columns; rounds interleaved (the order rotates every round), medians of {repeats}. "
        "The machine is shared: compare the differences measured side by side rather than "
        "nanoseconds across runs. Everything is single-threaded; metrics go to a fresh "
        "`CollectorRegistry` (not multiprocess mode, where every update also writes to an "
        "mmap file).",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} |",
        f"| platform | {machine['platform']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| load average at start | {load} |",
        f"| Python | {machine['python']} ({machine['implementation']}) |",
        f"| mlkit | {machine['mlkit']} |",
        f"| prometheus_client | {machine['prometheus_client']} |",
        "",
        "## Goal (issue 8)",
        "",
        "| goal | measured (added per request) | result |",
        "| --- | --- | --- |",
    ]
    both = by_name[BOTH].per_call
    if both is None:
        out.append(
            f"| `{BOTH}` adds < {GOAL_NS / 1000:.0f} µs over the model | not available | "
            "not judged |"
        )
    else:
        added = both - direct
        verdict = "PASS" if added * 1e9 < GOAL_NS else "FAIL"
        out.append(
            f"| `{BOTH}` adds < {GOAL_NS / 1000:.0f} µs over the model | "
            f"{fmt_ns(added)} ns | {verdict} |"
        )
    out += [
        "",
        "## Per call",
        "",
        "Spread: slowest round over fastest.",
        "",
        "| what | ns per call | added over direct (ns) | spread |",
        "| --- | ---: | ---: | ---: |",
    ]
    for e in entries:
        per = e.per_call
        added = "" if e.name == DIRECT or per is None else fmt_ns(per - direct)
        spread = f"{e.spread:.2f}" if e.spread else ""
        out.append(f"| {e.name} | {fmt_ns(per)} | {added} | {spread} |")
    out += [
        "",
        f"DriftMonitor: {facts['drift']}.",
        "",
        "## What each row measures",
        "",
        "- direct: the trivial model's bound `predict` in the same `for` loop over the records "
        "as every other row, so the loop itself cancels out of the difference.",
        "- regressor: two `perf_counter` reads, one latency histogram observation and one "
        'increment of the precomputed `outcome="ok"` counter child.',
        "- classifier: the same, the outcome looked up by the predicted value in a dict "
        "(no lock once a value has been seen).",
        "- 3 feature histograms: also reads the 3 values from the record and observes them.",
        "- DriftMonitor.observe: appends the record into the per-column window buffers; every "
        "1,000th call also tests the completed window and updates the gauges.",
        "- both: what an app calling both on every request pays.",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_monitoring",
        description="Per-request overhead of MonitoredModel and DriftMonitor.observe.",
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=None,
        help=f"calls per entry per round (default {DEFAULT_CALLS:,}; --quick: {QUICK_CALLS:,})",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds (default 7; --quick: 3)"
    )
    parser.add_argument("--quick", action="store_true", help="few calls: a smoke test")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="Markdown page to write (default docs/benchmarks/monitoring.md)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    n_calls = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)
    repeats = args.repeats or (3 if args.quick else 7)
    command = shlex.join(["python", "-m", "benchmarks.bench_monitoring", *argv])
    started = time.perf_counter()

    log = make_log(started)

    machine = machine_info()
    entries, facts = build_entries(n_calls)
    log(f"== {len(entries)} entries x {n_calls:,} calls, {repeats} interleaved rounds")
    run_rounds(entries, repeats, log, warmup=True)
    page = render(command, machine, entries, facts, repeats, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
