"""Tracking benchmark: mlkit's SQLite workspace beside MLflow's SQLite tracking store.

One command measures both sides on this machine, on the same data and the same
disk, in one run::

    python -m benchmarks.bench_tracking            # 2,000 points, 10,000 runs: ~10 minutes
    python -m benchmarks.bench_tracking --quick    # 300 points, 500 runs: a smoke test

It times, with repeats interleaved between the two sides and the median kept:

- metric logging into a fresh database: one call per point (mlkit
  ``run.log_metric(key, value, step)``; MLflow ``mlflow.log_metric`` and
  ``MlflowClient.log_metric``) and one call per step of 10 points (mlkit
  ``run.log_metrics(dict, step)``; MLflow ``MlflowClient.log_batch`` and
  ``mlflow.log_metrics``);
- ``search_runs`` over 10,000 finished runs (5 params, 5 metrics, 3 tags each):
  every run, a metric filter ordered by that metric with ``max_results=100``,
  and a param + tag filter; both sides must return the same runs (checked by a
  ``trial`` param, in order where the query is ordered);
- the time to fill both databases with those runs (information).

MLflow runs only in its own environment (``bash benchmarks/peers/setup.sh
mlflow``), through ``benchmarks/peers/mlflow_tracking.py`` in a subprocess. The
page (``docs/benchmarks/tracking.md`` by default) judges the goals of issue 4
and is also printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import (
    base_info,
    command_section,
    fmt_seconds,
    make_log,
    spread,
    write_page,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ENVS = HERE / ".envs"
MLFLOW_SCRIPT = HERE / "peers" / "mlflow_tracking.py"
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "tracking.md"

DEFAULT_POINTS, QUICK_POINTS = 2000, 300
DEFAULT_RUNS, QUICK_RUNS = 10_000, 500
KEYS = 10  # metric keys: a single-point call cycles over them, a batch holds one of each
GOAL = 10.0

# (name on the page, MLflow mode in mlflow_tracking.py or None for mlkit, kind)
MLKIT_ONE = "mlkit `run.log_metric(key, value, step)`"
MLKIT_BATCH = f"mlkit `run.log_metrics(dict, step)` ({KEYS} per call)"
MLKIT_FULL = 'mlkit `run.log_metric` with `SqliteStore(..., synchronous="FULL")` (information)'
LOG_ROWS: list[tuple[str, str | None, str]] = [
    (MLKIT_ONE, None, "one"),
    ("MLflow `mlflow.log_metric(key, value, step)`", "fluent", "one"),
    ("MLflow `MlflowClient().log_metric(run_id, ...)`", "client", "one"),
    (MLKIT_BATCH, None, "batch"),
    (f"MLflow `MlflowClient().log_batch(run_id, metrics)` ({KEYS} per call)", "batch", "batch"),
    (f"MLflow `mlflow.log_metrics(dict, step)` ({KEYS} per call)", "fluent-batch", "batch"),
    (MLKIT_FULL, None, "one-full"),
]


@dataclass(frozen=True)
class Query:
    name: str
    label: str
    filter: str | None
    order_by: tuple[str, ...]
    max_results: int | None

    @property
    def ordered(self) -> bool:
        return bool(self.order_by)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "filter": self.filter,
            "order_by": list(self.order_by),
            "max_results": self.max_results,
        }


QUERIES = (
    Query("all", "(a) no filter: every run", None, (), None),
    Query(
        "metric",
        "(b) `metrics.acc > 0.9`, order by `metrics.acc DESC`, max_results=100",
        "metrics.acc > 0.9",
        ("metrics.acc DESC",),
        100,
    ),
    Query(
        "param_tag",
        "(c) `params.optimizer = 'adam' and tags.team = 'a'`",
        "params.optimizer = 'adam' and tags.team = 'a'",
        (),
        None,
    ),
)


# --------------------------------------------------------------------------- data


def make_runs(n_runs: int, seed: int) -> list[dict[str, Any]]:
    """Seeded run specs: 5 params (strings, as MLflow stores them), 5 metrics, 3 tags.

    The ``trial`` param is the run's index: it identifies a run on both sides.
    """
    import numpy as np

    rng = np.random.default_rng([seed, n_runs])
    acc = rng.uniform(0.5, 1.0, n_runs)
    loss = rng.uniform(0.01, 2.0, n_runs)
    f1 = rng.uniform(0.3, 1.0, n_runs)
    auc = rng.uniform(0.5, 1.0, n_runs)
    latency = rng.lognormal(2.0, 0.5, n_runs)
    lr = rng.choice(["0.001", "0.01", "0.1"], n_runs)
    optimizer = rng.choice(["adam", "sgd", "rmsprop"], n_runs)
    depth = rng.integers(2, 11, n_runs)
    batch = rng.choice(["32", "64", "128", "256"], n_runs)
    team = rng.choice(["a", "b", "c", "d"], n_runs)
    stage = rng.choice(["dev", "prod"], n_runs)
    return [
        {
            "name": f"run-{i}",
            "params": {
                "trial": str(i),
                "lr": str(lr[i]),
                "optimizer": str(optimizer[i]),
                "depth": str(depth[i]),
                "batch_size": str(batch[i]),
            },
            "metrics": {
                "acc": float(acc[i]),
                "loss": float(loss[i]),
                "f1": float(f1[i]),
                "auc": float(auc[i]),
                "latency_ms": float(latency[i]),
            },
            "tags": {"team": str(team[i]), "stage": str(stage[i]), "owner": f"user{i % 50}"},
        }
        for i in range(n_runs)
    ]


def points(n: int) -> list[tuple[str, float, int]]:
    """The logged points, the same as mlflow_tracking.py's: key m{i % K}, value sin(i)."""
    return [(f"m{i % KEYS}", math.sin(i), i // KEYS) for i in range(n)]


def steps(data: list[tuple[str, float, int]]) -> list[tuple[int, dict[str, float]]]:
    out: dict[int, dict[str, float]] = {}
    for key, value, step in data:
        out.setdefault(step, {})[key] = value
    return sorted(out.items())


# ------------------------------------------------------------------------- mlkit


def mlkit_api() -> tuple[Any, Any, str]:
    """mlkit's Tracker and Workspace, or why they are missing."""
    try:
        from mlkit.versioning import Tracker, Workspace
    except Exception as exc:
        return None, None, f"not available (from mlkit.versioning import Tracker: {exc})"
    return Tracker, Workspace, ""


def mlkit_workspace(root: Path, kind: str) -> Any:
    """A fresh workspace; ``one-full`` gets a store that syncs every commit to the disk."""
    from mlkit.versioning import SqliteStore, Workspace

    if kind == "one-full":
        return Workspace(root, store=SqliteStore(root / "mlkit.db", synchronous="FULL"))
    return Workspace(root)


def mlkit_sqlite_settings(workspace: Any) -> dict[str, Any]:
    """The PRAGMAs on the connection mlkit's store uses (a private attribute: best effort)."""
    store = getattr(workspace, "store", None)
    try:
        conn = store._connect()  # type: ignore[union-attr]
        settings: dict[str, Any] = {}
        for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
            settings[pragma] = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        return settings
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def mlkit_stored(tracker: Any, run_id: str) -> int | None:
    if not hasattr(tracker, "metric_history"):
        return None
    return sum(len(tracker.metric_history(run_id, f"m{k}")) for k in range(KEYS))


def mlkit_log(root: Path, kind: str, n_points: int) -> dict[str, Any]:
    """One timed repeat of mlkit's logging into a fresh workspace under ``root``."""
    tracker_cls, _, _ = mlkit_api()
    workspace = mlkit_workspace(root, kind)
    tracker = tracker_cls(workspace)
    data = points(n_points)
    batches = steps(data)
    gc.collect()
    with tracker.start_run(name=f"log-{kind}") as run:
        start = time.perf_counter()
        if kind in ("one", "one-full"):
            for key, value, step in data:
                run.log_metric(key, value, step=step)
        else:
            for step, values in batches:
                run.log_metrics(values, step=step)
        elapsed = time.perf_counter() - start
        run_id = run.id
    return {
        "seconds": elapsed,
        "points": n_points,
        "calls": n_points if kind in ("one", "one-full") else len(batches),
        "stored": mlkit_stored(tracker, run_id),
        "sqlite_settings": mlkit_sqlite_settings(workspace),
    }


def mlkit_populate(root: Path, runs: list[dict[str, Any]]) -> tuple[Any, float]:
    tracker_cls, workspace_cls, _ = mlkit_api()
    workspace = workspace_cls(root)
    tracker = tracker_cls(workspace)
    start = time.perf_counter()
    for spec in runs:
        with tracker.start_run(name=spec["name"], tags=spec["tags"]) as run:
            run.log_params(spec["params"])
            run.log_metrics(spec["metrics"])
    return tracker, time.perf_counter() - start


def mlkit_search(tracker: Any, query: Query) -> dict[str, Any]:
    start = time.perf_counter()
    frame = tracker.search_runs(
        query.filter, order_by=list(query.order_by), max_results=query.max_results
    )
    elapsed = time.perf_counter() - start
    trials = [int(t) for t in frame["params.trial"]] if "params.trial" in frame.columns else []
    return {
        "seconds": elapsed,
        "rows": len(frame),
        "columns": len(frame.columns),
        "env_columns": sum(str(c).startswith("tags.mlkit.") for c in frame.columns),
        "trials": trials,
    }


# ------------------------------------------------------------------------ MLflow


def mlflow_python() -> Path:
    return ENVS / "mlflow" / "bin" / "python"


def mlflow_ready() -> bool:
    return (ENVS / "mlflow" / ".ok").exists() and mlflow_python().exists()


def mlflow_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DO_NOT_TRACK="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_ENABLE_ASYNC_LOGGING="false",
        GIT_PYTHON_REFRESH="quiet",
    )
    # MLflow's own interpreter and site-packages only; no tracking server from outside.
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


class PeerError(RuntimeError):
    pass


def run_mlflow(args: list[str], timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run one task of mlflow_tracking.py: its start record and the records after it."""
    command = [str(mlflow_python()), str(MLFLOW_SCRIPT), *args]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=mlflow_env(),
            check=False,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired as exc:
        raise PeerError(f"timeout after {timeout:g} s: {shlex.join(command)}") from exc
    start: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    finished = False
    for line in done.stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("event") == "start":
            start = record
        elif record.get("event") == "done":
            finished = True
        else:
            records.append(record)
    if done.returncode != 0 or not finished:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise PeerError(f"exit {done.returncode}: {tail}"[:400])
    return start, records


# ------------------------------------------------------------------------ timing


@dataclass
class Timing:
    """Repeats of one thing on one side."""

    name: str
    times: list[float] = field(default_factory=list)
    points: int = 0
    calls: int = 0
    stored: list[int | None] = field(default_factory=list)
    status: str = "ok"

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def spread(self) -> float | None:
        return spread(self.times)

    @property
    def us_per_point(self) -> float | None:
        m = self.median
        return None if m is None or not self.points else m / self.points * 1e6


@dataclass
class SearchResult:
    query: Query
    mlkit: Timing
    mlflow: Timing
    mlkit_rows: int | None = None
    mlflow_rows: int | None = None
    mlkit_columns: int | None = None
    mlflow_columns: int | None = None
    mlkit_trials: list[int] = field(default_factory=list)
    mlflow_trials: list[int] = field(default_factory=list)
    same: str = "not checked"  # "yes" | "NO: ..." | "not checked"


@dataclass
class Results:
    log: dict[str, Timing] = field(default_factory=dict)
    search: list[SearchResult] = field(default_factory=list)
    populate: dict[str, float | str] = field(default_factory=dict)
    mlflow_versions: dict[str, str] = field(default_factory=dict)
    mlflow_sqlite: dict[str, Any] = field(default_factory=dict)
    mlkit_sqlite: dict[str, Any] = field(default_factory=dict)
    mlkit_sqlite_full: dict[str, Any] = field(default_factory=dict)
    mlkit_env_columns: int = 0
    problems: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


def bench_logging(
    args: argparse.Namespace, tmp: Path, res: Results, log: Callable[[str], None]
) -> None:
    for name, _, _ in LOG_ROWS:
        res.log[name] = Timing(name)
    tracker_cls, _, why = mlkit_api()
    if tracker_cls is None:
        for name, mode, _ in LOG_ROWS:
            if mode is None:
                res.log[name].status = why
    if not args.with_mlflow:
        for name, mode, _ in LOG_ROWS:
            if mode is not None:
                res.log[name].status = args.mlflow_status
    modes = ",".join(mode for _, mode, _ in LOG_ROWS if mode is not None)

    def mlflow_round(r: int) -> None:
        if not args.with_mlflow:
            return
        root = tmp / f"log-mlflow-{r}"
        try:
            start, records = run_mlflow(
                [
                    "log",
                    *("--dir", str(root), "--points", str(args.points)),
                    *("--keys", str(KEYS), "--modes", modes),
                ],
                timeout=args.mlflow_timeout,
            )
        except PeerError as exc:
            log(f"  MLflow log round {r + 1}: {exc}")
            for name, mode, _ in LOG_ROWS:
                if mode is not None and not res.log[name].times:
                    res.log[name].status = f"error: {exc}"
            return
        finally:
            shutil.rmtree(root, ignore_errors=True)
        res.mlflow_versions = start.get("versions", {})
        by_mode = {rec["mode"]: rec for rec in records if rec.get("event") == "log"}
        for name, mode, _ in LOG_ROWS:
            if mode is None or mode not in by_mode:
                continue
            rec, timing = by_mode[mode], res.log[name]
            timing.times.append(rec["seconds"])
            timing.points, timing.calls = rec["points"], rec["calls"]
            timing.stored.append(rec["stored"])
            res.mlflow_sqlite = rec.get("sqlite_settings", {})

    def mlkit_round(r: int) -> None:
        if tracker_cls is None:
            return
        for name, mode, kind in LOG_ROWS:
            if mode is not None:
                continue
            timing = res.log[name]
            if timing.status != "ok":
                continue
            root = tmp / f"log-mlkit-{kind}-{r}"
            try:
                rec = mlkit_log(root, kind, args.points)
            except Exception as exc:
                timing.status = f"error: {type(exc).__name__}: {exc}"[:300]
                log(f"  {name}: {timing.status}")
                continue
            finally:
                shutil.rmtree(root, ignore_errors=True)
            timing.times.append(rec["seconds"])
            timing.points, timing.calls = rec["points"], rec["calls"]
            timing.stored.append(rec["stored"])
            if kind == "one":
                res.mlkit_sqlite = rec["sqlite_settings"]
            elif kind == "one-full":
                res.mlkit_sqlite_full = rec["sqlite_settings"]

    for r in range(args.repeats):
        res.loads.append(os.getloadavg()[0])
        # Alternate which side goes first, so a burst of load falls on both.
        order = (mlkit_round, mlflow_round) if r % 2 == 0 else (mlflow_round, mlkit_round)
        for step in order:
            step(r)
        log(f"  logging round {r + 1}/{args.repeats} done")
    for name, timing in res.log.items():
        bad = [s for s in timing.stored if s is not None and s != timing.points]
        if bad:
            res.problems.append(f"{name}: {bad[0]} points read back of {timing.points} logged")


def bench_search(
    args: argparse.Namespace, tmp: Path, res: Results, log: Callable[[str], None]
) -> None:
    tracker_cls, _, why = mlkit_api()
    res.search = [SearchResult(q, Timing(q.name), Timing(q.name)) for q in QUERIES]
    runs = make_runs(args.runs, args.seed)
    runs_file = tmp / "runs.json"
    runs_file.write_text(json.dumps(runs))
    queries_file = tmp / "queries.json"
    queries_file.write_text(json.dumps([q.to_dict() for q in QUERIES]))
    mlflow_db = tmp / "search-mlflow" / "mlflow.db"

    tracker = None
    if tracker_cls is None:
        res.populate["mlkit"] = why
        for s in res.search:
            s.mlkit.status = why
    else:
        log(f"  mlkit: filling {args.runs:,} runs")
        try:
            tracker, seconds = mlkit_populate(tmp / "search-mlkit", runs)
            res.populate["mlkit"] = seconds
            log(f"  mlkit: {seconds:.1f} s")
        except Exception as exc:
            status = f"error: {type(exc).__name__}: {exc}"[:300]
            res.populate["mlkit"] = status
            for s in res.search:
                s.mlkit.status = status
            log(f"  mlkit populate: {status}")
    mlflow_ok = args.with_mlflow
    if not args.with_mlflow:
        res.populate["mlflow"] = args.mlflow_status
        for s in res.search:
            s.mlflow.status = args.mlflow_status
    else:
        log(f"  MLflow: filling {args.runs:,} runs (create_run + log_batch + set_terminated)")
        try:
            start, records = run_mlflow(
                ["populate", "--db", str(mlflow_db), "--runs", str(runs_file)],
                timeout=args.populate_timeout,
            )
            res.mlflow_versions = start.get("versions", res.mlflow_versions)
            for rec in records:
                if rec.get("event") == "populate":
                    res.populate["mlflow"] = rec["seconds"]
                    log(f"  MLflow: {rec['seconds']:.1f} s")
        except PeerError as exc:
            mlflow_ok = False
            res.populate["mlflow"] = f"error: {exc}"
            for s in res.search:
                s.mlflow.status = f"error: {exc}"
            log(f"  MLflow populate: {exc}")

    if tracker is not None:
        for q in QUERIES:  # warm-up, as the MLflow side does once per process
            mlkit_search(tracker, q)

    def mlkit_round(r: int) -> None:
        if tracker is None:
            return
        for s in res.search:
            if s.mlkit.status != "ok":
                continue
            gc.collect()
            try:
                rec = mlkit_search(tracker, s.query)
            except Exception as exc:
                s.mlkit.status = f"error: {type(exc).__name__}: {exc}"[:300]
                log(f"  mlkit search {s.query.name}: {s.mlkit.status}")
                continue
            s.mlkit.times.append(rec["seconds"])
            s.mlkit_rows, s.mlkit_columns = rec["rows"], rec["columns"]
            res.mlkit_env_columns = rec["env_columns"]
            s.mlkit_trials = rec["trials"]

    def mlflow_round(r: int) -> None:
        if not mlflow_ok:
            return
        try:
            _, records = run_mlflow(
                ["search", "--db", str(mlflow_db), "--queries", str(queries_file)],
                timeout=args.mlflow_timeout,
            )
        except PeerError as exc:
            log(f"  MLflow search round {r + 1}: {exc}")
            for s in res.search:
                if not s.mlflow.times:
                    s.mlflow.status = f"error: {exc}"
            return
        by_name = {rec["query"]: rec for rec in records if rec.get("event") == "search"}
        for s in res.search:
            rec = by_name.get(s.query.name)
            if rec is None:
                continue
            s.mlflow.times.append(rec["seconds"])
            s.mlflow_rows, s.mlflow_columns = rec["rows"], rec["columns"]
            s.mlflow_trials = rec["trials"]

    for r in range(args.repeats):
        res.loads.append(os.getloadavg()[0])
        order = (mlkit_round, mlflow_round) if r % 2 == 0 else (mlflow_round, mlkit_round)
        for step in order:
            step(r)
        log(f"  search round {r + 1}/{args.repeats} done")

    for s in res.search:
        s.same = compare(s, runs)
        if s.same.startswith("NO"):
            message = f"MISMATCH in search {s.query.label}: {s.same}"
            res.problems.append(message)
            log("!" * 70)
            log(message)
            log("!" * 70)


def statuses(res: Results) -> list[str]:
    """Every distinct reason something was not measured, once each."""
    found: dict[str, None] = {}
    timings = [*res.log.values()] + [t for s in res.search for t in (s.mlkit, s.mlflow)]
    for status in [t.status for t in timings] + [str(v) for v in res.populate.values()]:
        if status != "ok" and not _is_number(status):
            found.setdefault(status)
    return list(found)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def compare(s: SearchResult, runs: list[dict[str, Any]]) -> str:
    """Do both sides return the same runs (in the same order for an ordered query)?"""
    if not (s.mlkit.times and s.mlflow.times):
        return "not checked"
    mine, theirs = s.mlkit_trials, s.mlflow_trials
    expected = expected_trials(s.query, runs)
    notes = []
    if s.mlkit_rows != s.mlflow_rows:
        notes.append(f"rows: mlkit {s.mlkit_rows}, MLflow {s.mlflow_rows}")
    if s.query.ordered:
        if mine != theirs:
            notes.append("different runs or order")
    elif sorted(mine) != sorted(theirs):
        notes.append("different runs")
    if expected is not None:
        for side, got in (("mlkit", mine), ("MLflow", theirs)):
            ok = got == expected if s.query.ordered else sorted(got) == sorted(expected)
            if not ok:
                notes.append(f"{side} differs from the expected {len(expected)} runs")
    return "NO: " + "; ".join(notes) if notes else "yes"


def expected_trials(query: Query, runs: list[dict[str, Any]]) -> list[int] | None:
    """The answer computed in plain Python, for the three queries of this benchmark."""
    if query.name == "all":
        return [int(r["params"]["trial"]) for r in runs]
    if query.name == "metric":
        hits = [r for r in runs if r["metrics"]["acc"] > 0.9]
        hits.sort(key=lambda r: -r["metrics"]["acc"])
        return [int(r["params"]["trial"]) for r in hits[: query.max_results]]
    if query.name == "param_tag":
        return [
            int(r["params"]["trial"])
            for r in runs
            if r["params"]["optimizer"] == "adam" and r["tags"]["team"] == "a"
        ]
    return None


# ----------------------------------------------------------------------- machine


def machine_info(tmp: Path) -> dict[str, Any]:

    info = base_info()
    info["sqlite"] = sqlite3.sqlite_version
    info["disk"] = _filesystem(tmp)
    info["tmp"] = str(tmp)
    return info


def _filesystem(path: Path) -> str:
    """The mount that holds ``path``: filesystem type and device (Linux /proc/mounts)."""
    best, found = "", "unknown"
    try:
        resolved = str(path.resolve())
        with open("/proc/mounts") as f:
            for line in f:
                device, mount, kind = line.split()[:3]
                inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, found = mount, f"{kind} ({device} on {mount})"
    except OSError:
        pass
    return found


# ------------------------------------------------------------------------ report


def fmt_ratio(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def fmt_spread(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class Goal:
    text: str
    measured: str
    verdict: str  # PASS | FAIL | not measured


def best_mlflow(res: Results, kind: str) -> Timing | None:
    """The faster MLflow way of logging this kind (the comparison is against it)."""
    found = [
        res.log[name]
        for name, mode, k in LOG_ROWS
        if mode is not None and k == kind and res.log[name].us_per_point is not None
    ]
    return min(found, key=lambda t: t.us_per_point or math.inf) if found else None


def log_ratio(res: Results, name: str, kind: str) -> float | None:
    mine = res.log[MLKIT_ONE if kind == "one" else MLKIT_BATCH].us_per_point
    other = res.log[name].us_per_point
    return None if mine is None or other is None or mine <= 0 else other / mine


def full_ratio(res: Results) -> float | None:
    """MLflow's faster one-point call over mlkit with synchronous=FULL."""
    mine, other = res.log[MLKIT_FULL].us_per_point, best_mlflow(res, "one")
    if mine is None or other is None or other.us_per_point is None or mine <= 0:
        return None
    return other.us_per_point / mine


def judge(res: Results, n_runs: int) -> list[Goal]:
    goals = []
    for kind, what in (
        ("one", "log_metric, one call per point"),
        ("batch", f"batch logging, {KEYS} points per call"),
    ):
        mine = res.log[MLKIT_ONE if kind == "one" else MLKIT_BATCH]
        other = best_mlflow(res, kind)
        text = f"{what}: mlkit >= {GOAL:g}x faster per point than MLflow's faster call"
        if mine.us_per_point is None or other is None or other.us_per_point is None:
            goals.append(Goal(text, "", "not measured"))
            continue
        ratio = other.us_per_point / mine.us_per_point
        goals.append(
            Goal(
                text,
                f"{fmt_ratio(ratio)} ({mine.us_per_point:.1f} vs {other.us_per_point:.0f} µs)",
                "PASS" if ratio >= GOAL else "FAIL",
            )
        )
    for s in res.search:
        text = (
            f"search_runs over {n_runs:,} runs, {s.query.label}: "
            f"mlkit >= {GOAL:g}x faster than mlflow.search_runs"
        )
        a, b = s.mlkit.median, s.mlflow.median
        if a is None or b is None or a <= 0:
            goals.append(Goal(text, "", "not measured"))
        else:
            goals.append(
                Goal(
                    text,
                    f"{fmt_ratio(b / a)} ({fmt_seconds(a)} s vs {fmt_seconds(b)} s)",
                    "PASS" if b / a >= GOAL else "FAIL",
                )
            )
        same = f"search_runs over {n_runs:,} runs, {s.query.label}: both return the same runs"
        if s.same == "not checked":
            goals.append(Goal(same, "", "not measured"))
        else:
            rows = f"{_opt(s.mlkit_rows)} rows"
            if s.mlkit_rows != s.mlflow_rows:
                rows = f"mlkit {s.mlkit_rows} rows, MLflow {s.mlflow_rows}"
            verdict = "PASS" if s.same == "yes" else "FAIL"
            goals.append(Goal(same, rows if s.same == "yes" else f"{rows}; {s.same}", verdict))
    return goals


def _settings_text(settings: dict[str, Any]) -> str:
    if not settings:
        return "not measured"
    if "error" in settings:
        return f"unknown ({settings['error']})"
    sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    parts = [f"journal_mode={str(settings.get('journal_mode')).upper()}"]
    value = settings.get("synchronous")
    parts.append(f"synchronous={sync.get(value, value)}")  # type: ignore[arg-type]
    parts.append(f"busy_timeout={settings.get('busy_timeout')} ms")
    if "pool" in settings:
        parts.append(f"SQLAlchemy pool {settings['pool']}")
    return ", ".join(parts)


def log_table(res: Results) -> list[str]:
    out = [
        "| what | calls | points | median s | µs per point | points/s | "
        "MLflow / mlkit, per point | spread | read back |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, mode, kind in LOG_ROWS:
        t = res.log[name]
        if t.status != "ok" or t.median is None:
            status = _short(t.status) if t.status != "ok" else "no data"
            out.append(f"| {name} | | | {status} | | | | | |")
            continue
        us = t.us_per_point
        rate = t.points / t.median if t.median > 0 else None
        if kind == "one-full":
            ratio = f"MLflow's faster call: {fmt_ratio(full_ratio(res))}"
        elif mode is None:
            ratio = "1 (reference)"
        else:
            ratio = fmt_ratio(log_ratio(res, name, kind))
        stored = [s for s in t.stored if s is not None]
        back = "" if not stored else ("all" if all(s == t.points for s in stored) else "MISSING")
        out.append(
            f"| {name} | {t.calls:,} | {t.points:,} | {fmt_seconds(t.median)} | "
            f"{us:.1f} | {rate:,.0f} | {ratio} | {fmt_spread(t.spread)} | {back} |"
        )
    return out


def search_table(res: Results) -> list[str]:
    out = [
        "| query | mlkit s | MLflow s | MLflow / mlkit | rows (mlkit / MLflow) | "
        "columns (mlkit / MLflow) | same runs | spread (mlkit / MLflow) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for s in res.search:
        a, b = s.mlkit.median, s.mlflow.median
        ratio = fmt_ratio(b / a) if a and b else ""
        mine = fmt_seconds(a) if a is not None else _short(s.mlkit.status)
        theirs = fmt_seconds(b) if b is not None else _short(s.mlflow.status)
        out.append(
            f"| {s.query.label} | {mine} | {theirs} | {ratio} | "
            f"{_opt(s.mlkit_rows)} / {_opt(s.mlflow_rows)} | "
            f"{_opt(s.mlkit_columns)} / {_opt(s.mlflow_columns)} | {s.same} | "
            f"{fmt_spread(s.mlkit.spread)} / {fmt_spread(s.mlflow.spread)} |"
        )
    return out


def _short(status: str) -> str:
    """A status for a table cell; the full text is listed under the tables."""
    return status.split(" (", 1)[0].split(":", 1)[0]


def _opt(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def render(
    args: argparse.Namespace,
    command: str,
    machine: dict[str, Any],
    res: Results,
    goals: list[Goal],
    elapsed: float,
) -> str:
    versions = res.mlflow_versions
    mlflow_version = versions.get("mlflow") or versions.get("mlflow-skinny")
    if mlflow_version:
        package = "mlflow" if "mlflow" in versions else "mlflow-skinny"
        others = ", ".join(
            f"{k} {v}" for k, v in versions.items() if k not in ("mlflow", "mlflow-skinny")
        )
        mlflow_text = f"{package} {mlflow_version} ({others}), own environment"
    else:
        mlflow_text = args.mlflow_status if not args.with_mlflow else "not measured"
    out = [
        "# Tracking benchmarks",
        "",
        "mlkit's SQLite workspace beside MLflow's own SQLite tracking store "
        '(`mlflow.set_tracking_uri("sqlite:///.../mlflow.db")`), on the same machine, the same '
        "disk and the same data, in one run. The machine is shared and noisy: compare the "
        "ratios (measured in the same run, repeats interleaved between the two sides), not "
        "seconds across runs.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} ({machine['vendor']}) |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| memory | {machine['memory_gib']} GiB |",
        f"| load average at start | {', '.join(f'{x:.2f}' for x in machine['load'])} |",
        f"| load average (1 min) during the rounds | up to {max(res.loads, default=0):.2f} |",
        f"| disk of both databases | {machine['disk']} |",
        f"| Python | {machine['python']} |",
        f"| SQLite (mlkit's Python) | {machine['sqlite']} |",
        f"| pandas | {machine['pandas']} |",
        f"| mlkit | {machine['mlkit']} |",
        f"| MLflow | {mlflow_text} |",
        f"| mlkit's SQLite settings | {_settings_text(res.mlkit_sqlite)} (default; the "
        f"information row: {_settings_text(res.mlkit_sqlite_full)}) |",
        f"| MLflow's SQLite settings | {_settings_text(res.mlflow_sqlite)} |",
        "",
        "The settings are read with `PRAGMA` on a connection of each side's own store "
        "after it logged. With `journal_mode=DELETE` and `synchronous=FULL` (SQLite's "
        "defaults, which MLflow keeps) every commit waits for the disk several times; with "
        "WAL and `synchronous=NORMAL` (mlkit's default) a commit is an append to the log, "
        "durable against a killed process and synced to the disk at checkpoints, so a power "
        "loss can drop the last commits. The information row "
        '`SqliteStore(..., synchronous="FULL")` syncs the log at every commit, as durable as '
        "MLflow's setting.",
        "",
        "## Goals (issue 4)",
        "",
        "| goal | measured | result |",
        "| --- | --- | --- |",
    ]
    out += [f"| {g.text} | {g.measured} | {g.verdict} |" for g in goals]
    if res.problems:
        out += ["", "**Problems and missing measurements in this run:**", ""]
        out += [f"- {p}" for p in res.problems]
    out += [
        "",
        "## Logging metrics",
        "",
        f"{args.points:,} points into a fresh database and a fresh run for each repeat (neither "
        f"timed); point i has key `m{{i % {KEYS}}}`, step `i // {KEYS}` and value `sin(i)`; a "
        f"batch call holds the {KEYS} points of one step. Only the logging calls are timed. "
        f"Medians of {args.repeats} repeats, interleaved between the two sides; *spread* is the "
        "slowest repeat over the fastest; *read back*: every point was found afterwards "
        "(mlkit's `tracker.metric_history`, MLflow's `MlflowClient().get_metric_history`).",
        "",
    ]
    out += log_table(res)
    out += [
        "",
        f"## search_runs over {args.runs:,} runs",
        "",
        f"{args.runs:,} finished runs in one experiment / workspace, each with 5 params "
        "(`trial`, `lr`, `optimizer`, `depth`, `batch_size`), 5 metrics (`acc`, `loss`, `f1`, "
        "`auc`, `latency_ms`) and 3 tags (`team`, `stage`, `owner`), from one seeded generator. "
        "mlkit: `tracker.search_runs(filter, order_by=..., max_results=...)`; MLflow: "
        "`mlflow.search_runs(experiment_ids=[...], filter_string=..., order_by=..., "
        "max_results=...)` (its default max_results, 100,000, where none is given). Both "
        "return a pandas DataFrame with one row per run. One untimed warm-up search on each "
        f"side, then medians of {args.repeats} repeats, interleaved (each MLflow repeat in a "
        "fresh process after its own warm-up). *Same runs*: the `params.trial` column of both "
        "frames holds the same runs (in the same order for the ordered query), and matches "
        "the answer computed in plain Python.",
        "",
    ]
    out += search_table(res)
    if res.mlkit_env_columns:
        out += [
            "",
            f"mlkit's frames carry {res.mlkit_env_columns} `tags.mlkit.*` columns that MLflow's "
            "lack: the environment every run records by default (`Tracker(capture_environment="
            "True)`: git commit, branch and dirty flag, host, user, Python, platform, package "
            "versions). They are stored as tags, so each run has "
            f"{res.mlkit_env_columns + 3} tags on the mlkit side against 3 (and "
            "`mlflow.runName`) on MLflow's.",
        ]
    out += ["", "Time to fill the databases (information, not a goal):", ""]
    out += ["| side | how | seconds | ms per run |", "| --- | --- | ---: | ---: |"]
    for side, how in (
        (
            "mlkit",
            "`with tracker.start_run(name, tags=...) as run:` `run.log_params(...)`; "
            "`run.log_metrics(...)`",
        ),
        (
            "MLflow",
            "`MlflowClient().create_run(experiment_id, run_name, tags)`; "
            "`log_batch(run_id, metrics, params)`; `set_terminated(run_id)`",
        ),
    ):
        value = res.populate.get(side.lower())
        if isinstance(value, float):
            out.append(
                f"| {side} | {how} | {fmt_seconds(value)} | {value / args.runs * 1e3:.2f} |"
            )
        else:
            out.append(f"| {side} | {how} | {_short(value or 'not measured')} | |")
    out += [
        "",
    ]
    out += command_section(
        command,
        elapsed,
        setup="bash benchmarks/peers/setup.sh mlflow   # once: MLflow's environment",
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_tracking",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_POINTS} points and {QUICK_RUNS} runs, 3 repeats",
    )
    parser.add_argument(
        "--points",
        type=int,
        default=None,
        help=f"points logged per repeat (default {DEFAULT_POINTS})",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help=f"runs to search over (default {DEFAULT_RUNS:,})"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5)")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="the Markdown page to write"
    )
    parser.add_argument(
        "--tmp",
        type=Path,
        default=None,
        help="folder for both sides' databases (default: the system temporary folder)",
    )
    parser.add_argument(
        "--skip-mlflow", action="store_true", help="measure mlkit only (no MLflow environment)"
    )
    parser.add_argument(
        "--mlflow-timeout",
        type=float,
        default=900.0,
        help="seconds for one MLflow logging or search round (default 900)",
    )
    parser.add_argument(
        "--populate-timeout",
        type=float,
        default=3600.0,
        help="seconds for MLflow to fill its database (default 3600)",
    )
    parser.add_argument("--seed", type=int, default=20260504, help="data seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.points is None:
        args.points = QUICK_POINTS if args.quick else DEFAULT_POINTS
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else DEFAULT_RUNS
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    args.with_mlflow = not args.skip_mlflow and mlflow_ready()
    args.mlflow_status = (
        "skipped (--skip-mlflow)"
        if args.skip_mlflow
        else "not set up (run: bash benchmarks/peers/setup.sh mlflow)"
    )
    command = shlex.join(["python", "-m", "benchmarks.bench_tracking", *argv])

    started = time.perf_counter()

    log = make_log(started)

    if not args.with_mlflow:
        log(f"MLflow: {args.mlflow_status}")
    _, _, why = mlkit_api()
    if why:
        log(f"mlkit: {why}")
    res = Results()
    if args.tmp is not None:
        args.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlkit-bench-tracking-", dir=args.tmp) as name:
        tmp = Path(name)
        machine = machine_info(tmp)
        log(f"databases under {tmp} ({machine['disk']})")
        log(f"== logging {args.points:,} points, {args.repeats} repeats")
        bench_logging(args, tmp, res, log)
        log("\n".join(log_table(res)))
        log(f"== search_runs over {args.runs:,} runs, {args.repeats} repeats")
        bench_search(args, tmp, res, log)
        log("\n".join(search_table(res)))

    goals = judge(res, args.runs)
    res.problems += statuses(res)
    page = render(args, command, machine, res, goals, time.perf_counter() - started)
    write_page(page, args.output, log)
    for problem in res.problems:
        log(f"PROBLEM: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
