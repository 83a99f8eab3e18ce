"""HTML drift report benchmark: ``mlkit.reports.drift_html`` beside Evidently's HTML.

One command measures everything on the same data in one run::

    python -m benchmarks.bench_reports            # a few minutes with Evidently
    python -m benchmarks.bench_reports --quick    # a smoke test, under a minute

The data are seeded frames of 10,000 reference and 10,000 current rows with
50 and 200 columns: four in five numeric (normal, gamma, integers, a few with
missing values), one in five categorical strings (12 categories); about one
column in six drifts. For each size it times, repeats interleaved and the
median kept:

- ``drift_html(report, reference, current)``: the page alone, from a
  :class:`~mlkit.drift.DriftReport` computed before timing (the issue's goal:
  a 200-column report in under 5 seconds);
- ``DriftDetector().fit(reference).test(current)``: the statistics, for
  information;
- ``HtmlReport.save(path)``: writing the file.

With Evidently set up in ``benchmarks/.envs/evidently``
(``bash benchmarks/peers/setup.sh``), the same frames go to a child process
in that environment that times ``Report([DataDriftPreset()]).run(current,
reference)`` and ``snapshot.save_html(path)`` (its page needs the statistics
computed by ``run``, so the two are reported apart and summed). It writes
``docs/benchmarks/reports.md`` (by default), which it also prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import (
    Entry,
    base_info,
    command_section,
    env_vars,
    fmt_seconds,
    make_log,
    run_rounds,
    write_page,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "reports.md"
EVIDENTLY_PYTHON = HERE / ".envs" / "evidently" / "bin" / "python"
ROWS, QUICK_ROWS = 10_000, 2_000
SIZES, QUICK_SIZES = (50, 200), (50,)
GOAL_COLUMNS, GOAL_SECONDS = 200, 5.0
CATEGORIES = 12

PAGE = "mlkit drift_html(report, reference, current)"
DETECT = "mlkit DriftDetector().fit(reference).test(current)"
SAVE = "mlkit HtmlReport.save(path)"

# The child process that times Evidently in its own environment: it reads the
# frames from .npy files (numbers, and category codes turned into the same
# strings as here) and prints one JSON line per repeat.
EVIDENTLY_SCRIPT = r"""
import json, os, re, sys, time, warnings
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
from importlib.metadata import version
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

folder, repeats = sys.argv[1], int(sys.argv[2])

def frame(prefix):
    num = np.load(os.path.join(folder, prefix + "_num.npy"))
    cat = np.load(os.path.join(folder, prefix + "_cat.npy"))
    data = {f"n{j}": num[:, j] for j in range(num.shape[1])}
    for j in range(cat.shape[1]):
        data[f"c{j}"] = np.char.add("k", cat[:, j].astype(str))
    return pd.DataFrame(data)

ref, cur = frame("ref"), frame("cur")
definition = DataDefinition(
    numerical_columns=[c for c in ref.columns if c.startswith("n")],
    categorical_columns=[c for c in ref.columns if c.startswith("c")],
)
print(json.dumps({"event": "start", "evidently": version("evidently"),
                  "pandas": pd.__version__}), flush=True)
for i in range(repeats):
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    ran = time.perf_counter() - start
    path = os.path.join(folder, "evidently.html")
    start = time.perf_counter()
    snapshot.save_html(path)
    saved = time.perf_counter() - start
    text = open(path, encoding="utf-8").read()
    external = [len(re.findall(a + "=[\"']https?://", text)) for a in ("src", "href")]
    print(json.dumps({"event": "timing", "repeat": i, "run": ran, "html": saved,
                      "bytes": os.path.getsize(path), "external": external}), flush=True)
print(json.dumps({"event": "done"}), flush=True)
"""


# ------------------------------------------------------------------- data


def make_frames(n_rows: int, n_columns: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded reference and current frames; every sixth column drifts."""
    rng = np.random.default_rng([seed, n_rows, n_columns])
    n_cat = n_columns // 5
    n_num = n_columns - n_cat
    frames = []
    for drift in (False, True):
        data: dict[str, Any] = {}
        for j in range(n_num):
            shift = 0.25 if drift and j % 6 == 0 else 0.0
            kind = j % 4
            if kind == 0:
                values = rng.normal(shift, 1.0, n_rows)
            elif kind == 1:
                values = rng.gamma(2.0, 10.0 * (1 + shift), n_rows)
            elif kind == 2:
                values = rng.integers(0, 1000, n_rows).astype(np.float64) + 100 * shift
            else:
                values = rng.normal(50.0, 5.0 + 4 * shift, n_rows)
                values[rng.random(n_rows) < (0.05 + 0.1 * shift)] = np.nan
            data[f"n{j}"] = values
        for j in range(n_cat):
            weights = np.ones(CATEGORIES)
            if drift and j % 6 == 0:
                weights[0] = 3.0
            codes = rng.choice(CATEGORIES, n_rows, p=weights / weights.sum())
            data[f"c{j}"] = np.char.add("k", codes.astype(str))
        frames.append(pd.DataFrame(data))
    return frames[0], frames[1]


def save_npy(folder: Path, prefix: str, frame: pd.DataFrame) -> None:
    numeric = [c for c in frame.columns if c.startswith("n")]
    categorical = [c for c in frame.columns if c.startswith("c")]
    np.save(folder / f"{prefix}_num.npy", frame[numeric].to_numpy(np.float64))
    codes = np.column_stack(
        [frame[c].str.slice(1).astype(np.int64).to_numpy() for c in categorical]
    )
    np.save(folder / f"{prefix}_cat.npy", codes)


# ----------------------------------------------------------------- timing


@dataclass
class Case:
    columns: int
    rows: int
    entries: list[Entry]
    load: float
    drifted: int
    charts: int
    html_bytes: int
    evidently: dict[str, Any] = field(default_factory=dict)

    def median(self, name: str) -> float | None:
        return next((e.median for e in self.entries if e.name == name), None)


def bench_case(
    n_rows: int, n_columns: int, repeats: int, seed: int, log: Callable[[str], None]
) -> tuple[Case, pd.DataFrame, pd.DataFrame]:
    from mlkit.drift import DriftDetector
    from mlkit.reports import drift_html

    reference, current = make_frames(n_rows, n_columns, seed)
    report = DriftDetector().fit(reference).test(current)
    page = drift_html(report, reference, current)  # warm: imports, template, fonts
    folder = Path(tempfile.mkdtemp(prefix="mlkit-bench-reports-"))
    entries = [
        Entry(PAGE, lambda: drift_html(report, reference, current)),
        Entry(DETECT, lambda: DriftDetector().fit(reference).test(current)),
        Entry(SAVE, lambda: page.save(folder / "report.html")),
    ]
    load = os.getloadavg()[0]
    log(f"== {n_columns} columns x {n_rows:,} rows: {repeats} interleaved rounds")
    run_rounds(entries, repeats, log)
    case = Case(
        columns=n_columns,
        rows=n_rows,
        entries=entries,
        load=max(load, os.getloadavg()[0]),
        drifted=len(report.drifted_columns),
        charts=page.html.count("<svg"),
        html_bytes=len(page.html.encode("utf-8")),
    )
    return case, reference, current


def bench_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    repeats: int,
    timeout: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    if not EVIDENTLY_PYTHON.exists():
        return {"status": "not set up (bash benchmarks/peers/setup.sh)"}
    with tempfile.TemporaryDirectory(prefix="mlkit-bench-evidently-") as tmp:
        folder = Path(tmp)
        save_npy(folder, "ref", reference)
        save_npy(folder, "cur", current)
        command = [str(EVIDENTLY_PYTHON), "-c", EVIDENTLY_SCRIPT, str(folder), str(repeats)]
        log(f"  Evidently: {repeats} repeats in its own environment (timeout {timeout:.0f} s)")
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
            out, err, code = done.stdout, done.stderr, done.returncode
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err, code = f"timed out after {timeout:.0f} s", -1
    result: dict[str, Any] = {"runs": [], "htmls": [], "bytes": None}
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("event") == "start":
            result["version"] = event.get("evidently")
        elif event.get("event") == "timing":
            result["runs"].append(event["run"])
            result["htmls"].append(event["html"])
            result["bytes"] = event["bytes"]
            result["external"] = event.get("external")
    if result["runs"]:
        result["status"] = "ok" if code == 0 else f"partial: {err.strip()[-200:]}"
    else:
        result["status"] = f"failed (exit {code}): {err.strip()[-300:]}"
    log(f"  Evidently: {result['status']}")
    return result


# ----------------------------------------------------------------- report


def median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def _external(ev: dict[str, Any]) -> str:
    found = ev.get("external")
    if not isinstance(found, list) or len(found) != 2:
        return "?"
    src, href = found
    return f"{src} src (loads) and {href} href (links)"


def machine_info() -> dict[str, Any]:
    info = base_info(("numpy", "pandas", "matplotlib", "jinja2", "mlkit"))
    info["platform"] = platform.platform()
    info["env"] = env_vars()
    return info


def render(
    command: str,
    machine: dict[str, Any],
    cases: list[Case],
    repeats: int,
    elapsed: float,
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# HTML report benchmarks",
        "",
        "mlkit's self-contained drift page (`mlkit.reports.drift_html`: a sortable table, a "
        "histogram + ECDF chart per numeric column and a category-share chart per "
        "categorical one, matplotlib SVG inlined) beside Evidently's `DataDriftPreset` HTML, "
        f"on the same seeded frames in one run; mlkit's repeats interleaved, medians of "
        f"{repeats}. Seconds. The machine is shared: compare within a run.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} |",
        f"| platform | {machine['platform']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| load average at start | {load} |",
        f"| Python | {machine['python']} |",
        f"| numpy / pandas | {machine['numpy']} / {machine['pandas']} |",
        f"| matplotlib / jinja2 | {machine['matplotlib']} / {machine['jinja2']} |",
        f"| mlkit | {machine['mlkit']} |",
    ]
    out += [f"| `{k}` | {v} |" for k, v in machine["env"].items()]
    out += ["", "## Goal (issue 10)", "", "| goal | measured | result |", "| --- | --- | --- |"]
    goal = next((c for c in cases if c.columns == GOAL_COLUMNS and c.rows >= ROWS), None)
    if goal is None or goal.median(PAGE) is None:
        out.append(
            f"| a {GOAL_COLUMNS}-column report renders in under {GOAL_SECONDS:.0f} s "
            "| not measured (--quick) | n/a |"
        )
    else:
        page = goal.median(PAGE) or 0.0
        verdict = "PASS" if page < GOAL_SECONDS else "FAIL"
        out.append(
            f"| a {GOAL_COLUMNS}-column x {goal.rows:,}-row drift report renders in under "
            f"{GOAL_SECONDS:.0f} s | {fmt_seconds(page)} s | {verdict} |"
        )
    for case in cases:
        out += [
            "",
            f"## {case.columns} columns x {case.rows:,} rows",
            "",
            f"{case.drifted} of {case.columns} columns drifted; the page has {case.charts} "
            f"charts and weighs {case.html_bytes / 1e6:.1f} MB. 1-minute load average during "
            f"the case: {case.load:.2f}.",
            "",
            "| what | seconds (median) | per column (ms) | spread |",
            "| --- | ---: | ---: | ---: |",
        ]
        for e in case.entries:
            if e.status != "ok":
                out.append(f"| {e.name} | {e.status} | | |")
                continue
            per = f"{(e.median or 0) / case.columns * 1e3:.1f}"
            spread = f"{e.spread:.2f}" if e.spread else ""
            out.append(f"| {e.name} | {fmt_seconds(e.median)} | {per} | {spread} |")
        ev = case.evidently
        if ev.get("runs"):
            run, html = median(ev["runs"]), median(ev["htmls"])
            total = (run or 0.0) + (html or 0.0)
            version = ev.get("version", "?")
            size = f"{ev['bytes'] / 1e6:.1f} MB" if ev.get("bytes") else ""
            out += [
                f"| Evidently {version} `Report([DataDriftPreset()]).run(...)` "
                f"(statistics) | {fmt_seconds(run)} | | |",
                f"| Evidently `snapshot.save_html(path)` (page, {size}) | {fmt_seconds(html)} "
                "| | |",
                f"| Evidently run + page | {fmt_seconds(total)} | "
                f"{total / case.columns * 1e3:.1f} | |",
            ]
            mine = (case.median(PAGE) or 0.0) + (case.median(DETECT) or 0.0)
            if mine > 0:
                out += [
                    "",
                    f"Statistics + page: mlkit {fmt_seconds(mine)} s, Evidently "
                    f"{fmt_seconds(total)} s ({total / mine:.1f}x). Evidently "
                    f"ran {len(ev['runs'])} repeats (median shown). Both pages open "
                    "offline (Evidently inlines its JavaScript bundle); src/href attributes "
                    f"naming an http(s) URL: Evidently {_external(ev)}, mlkit none.",
                ]
        elif ev:
            out += ["", f"Evidently: {ev.get('status')}."]
    out += [
        "",
        "## What each row measures",
        "",
        f"- {PAGE}: the page from a report computed before timing: per-column table, "
        "numeric data binned for all columns at once with numpy, one reused matplotlib "
        "figure per chart kind drawn straight to SVG, the Jinja2 template.",
        f"- {DETECT}: the drift statistics (default tests), for scale.",
        f"- {SAVE}: the atomic write of the page.",
        "- Evidently: the same frames, numeric and categorical columns declared, in "
        "Evidently's own environment (a child process); `run` computes its statistics and "
        "widgets, `save_html` writes its page.",
        "",
        "The data: four in five columns numeric (normal; gamma; integers 0-999; normal with "
        "5% missing), one in five categorical (12 string categories); every sixth column "
        "drifts in current (a shift, a scale change, more missing values, a heavier "
        "category).",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


# ------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_reports",
        description="drift_html beside Evidently's DataDriftPreset HTML.",
    )
    parser.add_argument("--quick", action="store_true", help="small data, one size")
    parser.add_argument("--rows", type=int, default=None, help=f"rows (default {ROWS:,})")
    parser.add_argument(
        "--columns",
        type=int,
        nargs="+",
        default=None,
        help="column counts (default 50 200; --quick: 50)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 5)")
    parser.add_argument(
        "--peers",
        choices=("evidently", "none"),
        default="evidently",
        help="compare with Evidently when set up (default) or not",
    )
    parser.add_argument("--peer-repeats", type=int, default=2, help="Evidently repeats")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per peer run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="page to write")
    parser.add_argument("--seed", type=int, default=20261126, help="data seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else ROWS)
    sizes = args.columns or (QUICK_SIZES if args.quick else SIZES)
    repeats = args.repeats or (2 if args.quick else 5)
    peers = "none" if args.quick and "--peers" not in argv else args.peers
    command = shlex.join(["python", "-m", "benchmarks.bench_reports", *argv])
    started = time.perf_counter()
    log = make_log(started)
    machine = machine_info()
    cases = []
    for n_columns in sizes:
        case, reference, current = bench_case(rows, n_columns, repeats, args.seed, log)
        if peers == "evidently":
            case.evidently = bench_evidently(
                reference, current, args.peer_repeats, args.timeout, log
            )
        cases.append(case)
    page = render(command, machine, cases, repeats, time.perf_counter() - started)
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
