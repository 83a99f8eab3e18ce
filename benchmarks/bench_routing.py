"""Routing overhead benchmark: a single-record predict through a router vs the model directly.

One command measures everything in one run::

    python -m benchmarks.bench_routing            # a few seconds
    python -m benchmarks.bench_routing --quick    # a smoke test

The model is trivial (``predict`` returns a constant), so what is measured is
the router's own cost per call. Per call, in nanoseconds, rounds interleaved
(the order rotates every round) and the median kept, it times:

- ``model.predict(x)``: the floor, in the same loop as every other entry;
- ``CanaryRouter.predict(x, key=k)``: a keyed request (a different key per
  call, 5% canary), the sticky path issue 7's goal is about;
- ``BlueGreenRouter.predict(x)`` and ``ShadowRouter.predict(x, key=k)`` (on the
  caller's thread: the primary, the sampling decision and one enqueue; the
  shadow runs on its worker thread): the other goals;
- for information: ``CanaryRouter.predict(x)`` without a key (a random draw),
  ``CanaryRouter.predict_routed(x, key=k)`` (allocates a RoutedPrediction),
  a CanaryRouter with an ``on_route`` callback, and a CanaryRouter whose
  canary is a BlueGreenRouter (nested);

then the difference from the floor, judged against the goal (< 5 µs added for
canary, blue-green and shadow), and writes ``docs/benchmarks/routing.md`` (by
default), which it also prints.
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

from benchmarks._common import Entry, base_info, command_section, make_log, run_rounds, write_page

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "routing.md"
DEFAULT_CALLS, QUICK_CALLS = 200_000, 20_000
GOAL_NS = 5_000.0  # added per call, at most

DIRECT = "model.predict(x) (direct)"
CANARY = "CanaryRouter.predict(x, key=k)"
BLUEGREEN = "BlueGreenRouter.predict(x)"
CANARY_NOKEY = "CanaryRouter.predict(x) (no key: random)"
CANARY_ROUTED = "CanaryRouter.predict_routed(x, key=k)"
CANARY_CALLBACK = "CanaryRouter.predict(x, key=k), on_route callback"
NESTED = "CanaryRouter(primary, BlueGreenRouter).predict(x, key=k)"
SHADOW = "ShadowRouter.predict(x, key=k) (caller's thread, sample=1)"
SHADOW_HALF = "ShadowRouter.predict(x, key=k) (sample=0.5, by key)"
GOALS = (CANARY, BLUEGREEN, SHADOW)


class Const:
    """The trivial model: whatever it gets, it returns 0."""

    def predict(self, X: Any) -> int:
        return 0


def loop_direct(model: Any, x: Any, keys: Sequence[str]) -> Callable[[], None]:
    predict = model.predict

    def run() -> None:
        for _k in keys:  # the same loop as the routers', so only the call differs
            predict(x)

    return run


def loop_keyed(method: Callable[..., Any], x: Any, keys: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        for k in keys:
            method(x, key=k)

    return run


def loop_unkeyed(method: Callable[..., Any], x: Any, keys: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        for _k in keys:
            method(x)

    return run


def build_entries(n_calls: int) -> tuple[list[Entry], dict[str, Any]]:
    from mlkit.routing import BlueGreenRouter, CanaryRouter, ShadowRouter

    x = [[1.0, 2.0, 3.0]]  # one record; the routers never look at it
    keys = [f"user-{i:08d}" for i in range(n_calls)]
    model = Const()
    canary = CanaryRouter(model, Const(), weight=0.05, salt="bench")
    bluegreen = BlueGreenRouter(model, Const())
    seen = [0]

    def on_route(variant: str, key: Any, n: int) -> None:
        seen[0] += n

    with_callback = CanaryRouter(model, Const(), weight=0.05, salt="bench", on_route=on_route)
    nested = CanaryRouter(model, BlueGreenRouter(Const(), Const()), weight=0.05, salt="bench")
    shadow = ShadowRouter(model, Const(), sample=1.0, max_pending=100_000)
    shadow_half = ShadowRouter(model, Const(), sample=0.5, max_pending=100_000)
    entries = [
        Entry(DIRECT, loop_direct(model, x, keys), n_calls),
        Entry(CANARY, loop_keyed(canary.predict, x, keys), n_calls),
        Entry(BLUEGREEN, loop_unkeyed(bluegreen.predict, x, keys), n_calls),
        Entry(CANARY_NOKEY, loop_unkeyed(canary.predict, x, keys), n_calls),
        Entry(CANARY_ROUTED, loop_keyed(canary.predict_routed, x, keys), n_calls),
        Entry(CANARY_CALLBACK, loop_keyed(with_callback.predict, x, keys), n_calls),
        Entry(NESTED, loop_keyed(nested.predict, x, keys), n_calls),
        # The shadow's worker runs on a background thread; what counts is the
        # caller's cost: the primary, the sampling decision and one enqueue.
        Entry(SHADOW, loop_keyed(shadow.predict, x, keys), n_calls),
        Entry(SHADOW_HALF, loop_keyed(shadow_half.predict, x, keys), n_calls),
    ]
    share = sum(canary.route(k) == "canary" for k in keys) / n_calls
    return entries, {
        "canary_share": share,
        "keys": n_calls,
        "shadows": (shadow, shadow_half),
    }


def machine_info() -> dict[str, Any]:
    info = base_info(("mlkit",))
    info["platform"] = platform.platform()
    info["implementation"] = platform.python_implementation()
    return info


def fmt_ns(seconds: float) -> str:
    return f"{seconds * 1e9:,.0f}"


def render(
    command: str,
    machine: dict[str, Any],
    entries: list[Entry],
    facts: dict[str, Any],
    repeats: int,
    elapsed: float,
) -> str:
    direct = next(e for e in entries if e.name == DIRECT).per_call
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# Routing overhead benchmarks",
        "",
        "The cost a router adds to one single-record prediction, against calling the model "
        "directly, in one run: the model's `predict` returns a constant, so the router's own "
        f"work dominates. Each entry makes {facts['keys']:,} calls per round (a different key "
        f"per call); rounds interleaved (the order rotates every round), medians of {repeats}. "
        "The machine is shared: compare the differences measured side by side rather than "
        "nanoseconds across runs. Everything is single-threaded.",
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
        "",
        "## Goal (issue 7)",
        "",
        "| goal | measured (added per call) | result |",
        "| --- | --- | --- |",
    ]
    for name in GOALS:
        added = next(e for e in entries if e.name == name).per_call - direct
        verdict = "PASS" if added * 1e9 < GOAL_NS else "FAIL"
        out.append(
            f"| `{name}` adds < {GOAL_NS / 1000:.0f} µs over the model | "
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
        added = "" if e.name == DIRECT else fmt_ns(e.per_call - direct)
        spread = f"{e.spread:.2f}" if e.spread else ""
        out.append(f"| {e.name} | {fmt_ns(e.per_call)} | {added} | {spread} |")
    out += [
        "",
        f"Share of the {facts['keys']:,} keys the canary (weight 0.05) served: "
        f"{facts['canary_share']:.4f}.",
        "",
        "## What each row measures",
        "",
        "- direct: the trivial model's bound `predict` in the same `for` loop over the keys as "
        "every router row, so the loop itself cancels out of the difference.",
        "- keyed canary: BLAKE2b of the key (a keyed hasher copied, not re-keyed), the bucket "
        "compared with a threshold precomputed from the weight, a per-variant counter under a "
        "lock, then the model.",
        "- blue-green: one read of the active (variant, model) tuple, the counter, the model.",
        "- no key: `random.random() < weight` instead of the hash.",
        "- predict_routed: also allocates the `RoutedPrediction` record.",
        "- on_route: a Python callback per call, on the caller's thread.",
        "- nested: the canary's 5% go through a BlueGreenRouter with the key forwarded.",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_routing",
        description="Per-call overhead of the canary, blue-green and shadow routers.",
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
        help="Markdown page to write (default docs/benchmarks/routing.md)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    n_calls = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)
    repeats = args.repeats or (3 if args.quick else 7)
    command = shlex.join(["python", "-m", "benchmarks.bench_routing", *argv])
    started = time.perf_counter()

    log = make_log(started)

    machine = machine_info()
    entries, facts = build_entries(n_calls)
    log(f"== {len(entries)} entries x {n_calls:,} calls, {repeats} interleaved rounds")
    run_rounds(entries, repeats, log, warmup=True)
    for router in facts.pop("shadows"):
        router.close(timeout=30)
        stats = router.stats()
        log(f"   shadow: {stats.completed:,} compared, {stats.dropped:,} dropped (queue full)")
    page = render(command, machine, entries, facts, repeats, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
