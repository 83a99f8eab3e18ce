"""Time MLflow's SQLite tracking store, inside MLflow's own environment.

Run by ``benchmarks/bench_tracking.py`` with the interpreter of
``benchmarks/.envs/mlflow/``; it imports nothing from mlkit. Every task prints
one JSON object per line on stdout, flushed at once:

- ``{"event": "start", "versions": {...}, "sqlite": {...}}`` once (versions of
  MLflow and its SQL stack; the SQLite settings of MLflow's own engine);
- then the task's records (below);
- ``{"event": "done"}`` at the end.

Tasks:

``log --dir D --points N --keys K --modes fluent,client,batch,fluent-batch``
    For each mode, a fresh database ``D/<mode>/mlflow.db`` and a fresh run
    (neither timed), then N metric points logged into it, timed:
    ``fluent`` is ``mlflow.log_metric(key, value, step)`` inside
    ``mlflow.start_run()``, ``client`` is ``MlflowClient().log_metric(run_id,
    ...)``, one call per point; ``batch`` is ``MlflowClient().log_batch(run_id,
    metrics=[...K Metric...])`` and ``fluent-batch`` ``mlflow.log_metrics(dict,
    step)``, one call per step of K points. Point i has key ``m{i % K}``, step
    ``i // K`` and value ``sin(i)``. Record: ``{"event": "log", "mode", "seconds",
    "points", "calls", "stored"}`` (``stored``: the points read back afterwards).

``populate --db PATH --runs runs.json``
    One experiment, then for each run in the file ``create_run(run_name, tags)``,
    ``log_batch(params, metrics)`` and ``set_terminated`` (FINISHED). Record:
    ``{"event": "populate", "seconds", "runs"}``.

``search --db PATH --queries queries.json``
    One untimed warm-up search (engine, caches), then each query once, timed:
    ``mlflow.search_runs(experiment_ids, filter_string, max_results, order_by)``
    (a pandas DataFrame). Record per query: ``{"event": "search", "query",
    "seconds", "rows", "trials"}`` where ``trials`` is the ``params.trial``
    column in row order (the benchmark checks it against mlkit's).

Usage::

    benchmarks/.envs/mlflow/bin/python benchmarks/peers/mlflow_tracking.py \\
        log --dir /tmp/x --points 1000 --keys 10 --modes fluent,batch
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sqlite3
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# Before MLflow is imported: no telemetry, no async logging, nothing from outside.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
os.environ["MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"] = "false"
os.environ["GIT_PYTHON_REFRESH"] = "quiet"
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("MLFLOW_REGISTRY_URI", None)

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

EXPERIMENT = "bench"


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def _versions() -> dict[str, str]:
    found = {}
    for name in ("mlflow-skinny", "mlflow", "sqlalchemy", "alembic", "pandas"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    found["sqlite"] = sqlite3.sqlite_version
    found["python"] = sys.version.split()[0]
    return found


def _use(db: Path) -> MlflowClient:
    db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    return MlflowClient()


def _sqlite_settings(client: MlflowClient) -> dict[str, Any]:
    """The PRAGMAs on a connection of MLflow's own engine, and its pool class."""
    try:
        store = client._tracking_client.store
        engine = store.engine
        settings: dict[str, Any] = {"pool": type(engine.pool).__name__}
        # The same session factory MLflow's own calls use (it sets busy_timeout etc.).
        with store.ManagedSessionMaker() as session:
            for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
                value = session.execute(mlflow.store.db.utils.sql.text(f"PRAGMA {pragma}"))
                settings[pragma] = value.scalar()
        return settings
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def _experiment(client: MlflowClient) -> str:
    found = client.get_experiment_by_name(EXPERIMENT)
    return found.experiment_id if found else client.create_experiment(EXPERIMENT)


def _points(n: int, keys: int) -> list[tuple[str, float, int]]:
    return [(f"m{i % keys}", math.sin(i), i // keys) for i in range(n)]


def _log_one_mode(root: Path, mode: str, points: int, keys: int) -> dict[str, Any]:
    client = _use(root / mode / "mlflow.db")
    experiment_id = _experiment(client)
    data = _points(points, keys)
    steps = [
        (step, {key: value for key, value, _ in data[step * keys : (step + 1) * keys]})
        for step in range(math.ceil(points / keys))
    ]
    calls = points if mode in ("fluent", "client") else len(steps)
    if mode in ("fluent", "fluent-batch"):
        with mlflow.start_run(experiment_id=experiment_id) as run:
            run_id = run.info.run_id
            start = time.perf_counter()
            if mode == "fluent":
                for key, value, step in data:
                    mlflow.log_metric(key, value, step=step)
            else:
                for step, values in steps:
                    mlflow.log_metrics(values, step=step)
            elapsed = time.perf_counter() - start
    else:
        run_id = client.create_run(experiment_id).info.run_id
        start = time.perf_counter()
        if mode == "client":
            for key, value, step in data:
                client.log_metric(run_id, key, value, step=step)
        else:
            for step, values in steps:
                now = int(time.time() * 1000)
                client.log_batch(
                    run_id, metrics=[Metric(k, v, now, step) for k, v in values.items()]
                )
        elapsed = time.perf_counter() - start
        client.set_terminated(run_id)
    stored = sum(len(client.get_metric_history(run_id, f"m{k}")) for k in range(keys))
    return {
        "event": "log",
        "mode": mode,
        "seconds": elapsed,
        "points": points,
        "calls": calls,
        "stored": stored,
        "sqlite_settings": _sqlite_settings(client),
    }


def task_log(args: argparse.Namespace) -> None:
    for mode in args.modes.split(","):
        _emit(_log_one_mode(Path(args.dir), mode, args.points, args.keys))


def task_populate(args: argparse.Namespace) -> None:
    runs = json.loads(Path(args.runs).read_text())
    client = _use(Path(args.db))
    experiment_id = _experiment(client)
    start = time.perf_counter()
    for spec in runs:
        run = client.create_run(experiment_id, run_name=spec["name"], tags=spec["tags"])
        now = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in spec["metrics"].items()],
            params=[Param(k, v) for k, v in spec["params"].items()],
        )
        client.set_terminated(run.info.run_id)
    elapsed = time.perf_counter() - start
    _emit({"event": "populate", "seconds": elapsed, "runs": len(runs)})
    _emit({"event": "settings", "sqlite_settings": _sqlite_settings(client)})


def task_search(args: argparse.Namespace) -> None:
    queries = json.loads(Path(args.queries).read_text())
    client = _use(Path(args.db))
    experiment_id = _experiment(client)
    mlflow.search_runs(experiment_ids=[experiment_id], max_results=1)  # warm-up
    for query in queries:
        kwargs: dict[str, Any] = {"filter_string": query["filter"] or ""}
        if query["max_results"] is not None:
            kwargs["max_results"] = query["max_results"]
        if query["order_by"]:
            kwargs["order_by"] = list(query["order_by"])
        start = time.perf_counter()
        frame = mlflow.search_runs(experiment_ids=[experiment_id], **kwargs)
        elapsed = time.perf_counter() - start
        trials = [int(t) for t in frame["params.trial"]] if "params.trial" in frame.columns else []
        _emit(
            {
                "event": "search",
                "query": query["name"],
                "seconds": elapsed,
                "rows": len(frame),
                "columns": len(frame.columns),
                "trials": trials,
            }
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    log = tasks.add_parser("log")
    log.add_argument("--dir", required=True)
    log.add_argument("--points", type=int, required=True)
    log.add_argument("--keys", type=int, default=10)
    log.add_argument("--modes", default="fluent,client,batch,fluent-batch")
    populate = tasks.add_parser("populate")
    populate.add_argument("--db", required=True)
    populate.add_argument("--runs", required=True)
    search = tasks.add_parser("search")
    search.add_argument("--db", required=True)
    search.add_argument("--queries", required=True)
    args = parser.parse_args(argv)

    # MLflow logs its database migrations at INFO; keep stderr for real problems.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _emit({"event": "start", "versions": _versions()})
    {"log": task_log, "populate": task_populate, "search": task_search}[args.task](args)
    _emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
