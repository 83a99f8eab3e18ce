"""The embedded back end: one SQLite file for runs and the model registry.

Several processes may write to one database at once. What makes that safe
(MLflow's SQLite store answers "database is locked" under the same load):

- WAL journal: readers never block the writer, the writer never blocks readers.
- Every write is one short ``BEGIN IMMEDIATE`` transaction, so a writer takes
  the lock up front and never has to upgrade a read lock (the upgrade is what
  fails immediately, whatever the busy timeout, in SQLite's default mode).
- A busy timeout, plus a retry loop with jittered back-off around each write
  transaction for the cases where SQLite returns ``SQLITE_BUSY`` at once.
- ``synchronous=NORMAL``: a commit survives the process being killed at any
  moment; only a power loss may lose the last commits (never corrupt the file).
  Pass ``synchronous="FULL"`` to trade speed for that too.

Connections are per thread and are reopened after a ``fork``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlkit.errors import ConfigurationError, ConflictError, DataError, NotFoundError
from mlkit.versioning._filter import as_number, compile_filter, compile_order

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SqliteStore"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id TEXT,
    status TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    error TEXT,
    -- JSON copies of the run's params, latest metrics and tags, rebuilt from
    -- their tables in the same transaction as every write: search_runs reads
    -- one string per run instead of one row per value.
    params TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (start_time);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_id);
CREATE TABLE IF NOT EXISTS params (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS params_by_key ON params (key, value);
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key, value);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
    timestamp REAL NOT NULL, value REAL
);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, key, step);
CREATE TABLE IF NOT EXISTS latest_metrics (
    run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
    timestamp REAL NOT NULL, value REAL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_by_key ON latest_metrics (key, value);
CREATE TABLE IF NOT EXISTS datasets (
    run_id TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, manifest TEXT NOT NULL,
    PRIMARY KEY (run_id, role, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, artifact_key TEXT NOT NULL,
    run_id TEXT, created REAL NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS version_tags (
    name TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (name, version, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (name, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alias_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL, alias TEXT NOT NULL, from_version INTEGER, to_version INTEGER,
    user TEXT NOT NULL, time REAL NOT NULL
);
"""

STATUSES = ("running", "finished", "failed", "killed")
_INHERITED: list[sqlite3.Connection] = []
_RETRY_SECONDS = 120.0
# The JSON copy of each value table, as stored in the runs table.
_DOCS = {"params": "params", "latest_metrics": "metrics", "tags": "tags"}
# SQLite before 3.41 writes infinities into JSON as Inf, which is no JSON:
# the copies hold them as the strings "inf" and "-inf" (float() reads both).
_DOC_OBJECT = (
    "json_group_object(key, CASE WHEN typeof(value) = 'real' "
    "AND abs(value) > 1.7976931348623157e308 "
    "THEN CASE WHEN value > 0 THEN 'inf' ELSE '-inf' END ELSE value END)"
)


def _refresh_doc(conn: sqlite3.Connection, run_id: str, table: str) -> None:
    conn.execute(
        f"UPDATE runs SET {_DOCS[table]} = (SELECT {_DOC_OBJECT} "
        f"FROM {table} WHERE run_id = ?) WHERE run_id = ?",
        (run_id, run_id),
    )


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _to_float(value: float | None) -> float:
    # SQLite stores NaN as NULL; NULL in a metric value always means NaN.
    return math.nan if value is None else float(value)


class SqliteStore:
    """Runs and model registry in one SQLite file (the embedded default).

    It implements both :class:`mlkit.protocols.RunStore` and
    :class:`mlkit.protocols.RegistryStore`. Every method is one short
    transaction and is safe to call from several threads and processes.

    Parameters
    ----------
    path
        The database file; created with its folder if absent.
    timeout
        Seconds a write waits for the lock before giving up with
        :class:`mlkit.errors.ConflictError`.
    synchronous
        SQLite's ``synchronous`` setting: ``"NORMAL"`` (default; commits survive
        a killed process) or ``"FULL"`` (commits also survive a power loss).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = SqliteStore(pathlib.Path(tempfile.mkdtemp()) / "mlkit.db")
    >>> run_id = store.create_run("baseline", tags={}, parent_id=None, start_time=0.0)
    >>> store.log_batch(run_id, params={"lr": "0.1"}, metrics=[("acc", 0.9, 0, 1.0)])
    >>> store.get_run(run_id)["metrics"]
    {'acc': 0.9}
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 60.0,
        synchronous: str = "NORMAL",
    ) -> None:
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ConfigurationError(
                f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}",
                value=synchronous,
                expected="'NORMAL' or 'FULL'",
            )
        self.path = Path(path)
        self.timeout = float(timeout)
        self.synchronous = synchronous.upper()
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # -- connections and transactions ------------------------------------

    def _connect(self) -> sqlite3.Connection:
        pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == pid:
            return conn
        if conn is not None:
            # Inherited through fork: SQLite forbids using it, closing included,
            # so keep it referenced (never closed) and open our own.
            _INHERITED.append(conn)
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=True
        )
        conn.create_function("mlkit_number", 1, as_number, deterministic=True)
        self._retry(lambda: conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}"))
        self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        self._local.conn = conn
        self._local.pid = pid
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def _retry(self, action: Any) -> Any:
        deadline = time.monotonic() + max(self.timeout, _RETRY_SECONDS)
        delay = 0.001
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    if _is_busy(exc):
                        raise ConflictError(
                            f"the workspace database {str(self.path)!r} stayed locked for "
                            f"{self.timeout:g} s: {exc}",
                            value=str(self.path),
                        ) from exc
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.05)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, retried while the database is busy."""
        conn = self._connect()
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
            self._retry(lambda: conn.execute("COMMIT"))
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        conn = self._connect()
        return list(self._retry(lambda: conn.execute(sql, params).fetchall()))

    def _init_schema(self) -> None:
        with self._write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the workspace database {str(self.path)!r} has schema version {version}; "
                    f"this mlkit understands up to {SCHEMA_VERSION}: upgrade mlkit",
                    value=version,
                    expected=f"<= {SCHEMA_VERSION}",
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- runs --------------------------------------------------------------

    def create_run(
        self,
        name: str,
        *,
        tags: Mapping[str, str],
        parent_id: str | None,
        start_time: float,
        run_id: str | None = None,
    ) -> str:
        """Create a run in state ``"running"`` and return its id."""
        run_id = run_id or uuid.uuid4().hex
        with self._write() as conn:
            if parent_id is not None:
                self._require_run(conn, parent_id)
            conn.execute(
                "INSERT INTO runs (run_id, name, parent_id, status, start_time) "
                "VALUES (?, ?, ?, 'running', ?)",
                (run_id, name, parent_id, float(start_time)),
            )
            conn.executemany(
                "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                [(run_id, k, v) for k, v in tags.items()],
            )
            _refresh_doc(conn, run_id, "tags")
        return run_id

    @staticmethod
    def _require_run(conn: sqlite3.Connection, run_id: str) -> str:
        row = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}", value=run_id)
        return str(row[0])

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: Sequence[tuple[str, float, int, float]] | None = None,
        tags: Mapping[str, str] | None = None,
        datasets: Sequence[tuple[str, str, Mapping[str, Any]]] | None = None,
        artifacts: Sequence[tuple[str, str, int]] | None = None,
    ) -> None:
        """Record everything given in one transaction: all of it or none of it.

        Parameters
        ----------
        run_id
            The run.
        params
            Parameters; a key logged before must keep its value
            (:class:`mlkit.errors.ConflictError` otherwise).
        metrics
            ``(key, value, step, timestamp)`` points.
        tags
            Tags; a new value replaces the old one.
        datasets
            ``(role, hash, manifest)`` records.
        artifacts
            ``(name, key, size)`` records; a name keeps its content once logged.
        """
        with self._write() as conn:
            self._require_run(conn, run_id)
            if params:
                self._insert_params(conn, run_id, params)
                _refresh_doc(conn, run_id, "params")
            if metrics:
                rows = [(run_id, k, int(s), float(t), float(v)) for k, v, s, t in metrics]
                conn.executemany(
                    "INSERT INTO metrics (run_id, key, step, timestamp, value) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                # The latest point is the highest step, then the latest time (MLflow's rule).
                conn.executemany(
                    "INSERT INTO latest_metrics (run_id, key, step, timestamp, value) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET "
                    "step = excluded.step, timestamp = excluded.timestamp, value = excluded.value "
                    "WHERE excluded.step > latest_metrics.step OR (excluded.step = "
                    "latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
                    rows,
                )
                if any(math.isnan(r[4]) for r in rows):
                    _refresh_doc(conn, run_id, "latest_metrics")
                else:
                    # Patch only the logged keys (O(1) rows read, not all of the run's
                    # keys); a NaN would be a JSON null, which json_patch reads as delete.
                    conn.execute(
                        "UPDATE runs SET metrics = json_patch(metrics, (SELECT "
                        f"{_DOC_OBJECT} FROM latest_metrics WHERE run_id = ? "
                        "AND key IN (SELECT value FROM json_each(?)))) WHERE run_id = ?",
                        (run_id, json.dumps([r[1] for r in rows]), run_id),
                    )
            if tags:
                conn.executemany(
                    "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    [(run_id, k, v) for k, v in tags.items()],
                )
                _refresh_doc(conn, run_id, "tags")
            if datasets:
                conn.executemany(
                    "INSERT OR IGNORE INTO datasets (run_id, role, hash, manifest) "
                    "VALUES (?, ?, ?, ?)",
                    [(run_id, r, h, json.dumps(dict(m), sort_keys=True)) for r, h, m in datasets],
                )
            if artifacts:
                self._insert_artifacts(conn, run_id, artifacts)

    @staticmethod
    def _insert_params(conn: sqlite3.Connection, run_id: str, params: Mapping[str, str]) -> None:
        old = dict(
            conn.execute(
                "SELECT key, value FROM params WHERE run_id = ? AND key IN "
                "(SELECT value FROM json_each(?))",
                (run_id, json.dumps(list(params))),
            ).fetchall()
        )
        for key, value in params.items():
            if key in old and old[key] != value:
                raise ConflictError(
                    f"param {key!r} of run {run_id!r} is already {old[key]!r}; "
                    f"params are immutable, cannot set {value!r}",
                    column=key,
                    value=value,
                    expected=old[key],
                )
        conn.executemany(
            "INSERT OR IGNORE INTO params (run_id, key, value) VALUES (?, ?, ?)",
            [(run_id, k, v) for k, v in params.items()],
        )

    @staticmethod
    def _insert_artifacts(
        conn: sqlite3.Connection, run_id: str, artifacts: Sequence[tuple[str, str, int]]
    ) -> None:
        for name, key, size in artifacts:
            row = conn.execute(
                "SELECT key FROM artifacts WHERE run_id = ? AND name = ?", (run_id, name)
            ).fetchone()
            if row is not None and row[0] != key:
                raise ConflictError(
                    f"artifact {name!r} of run {run_id!r} is already {row[0]}; "
                    f"log the new content under another name",
                    value=name,
                    expected=row[0],
                )
            conn.execute(
                "INSERT OR IGNORE INTO artifacts (run_id, name, key, size) VALUES (?, ?, ?, ?)",
                (run_id, name, key, int(size)),
            )

    def end_run(
        self, run_id: str, *, status: str, end_time: float, error: str | None = None
    ) -> None:
        """Set the final ``status`` (finished, failed or killed) of a run."""
        if status not in STATUSES or status == "running":
            raise ConfigurationError(
                f"a run ends as 'finished', 'failed' or 'killed', got {status!r}",
                value=status,
                expected="'finished', 'failed' or 'killed'",
            )
        with self._write() as conn:
            self._require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET status = ?, end_time = ?, error = ? WHERE run_id = ?",
                (status, float(end_time), error, run_id),
            )

    def get_run(self, run_id: str) -> dict[str, Any]:
        """Return a run: its attributes, params, latest metrics, tags, datasets, artifacts."""
        conn = self._connect()

        def read() -> dict[str, Any]:
            conn.execute("BEGIN")  # one snapshot for all the reads
            try:
                row = conn.execute(
                    "SELECT run_id, name, parent_id, status, start_time, end_time, error "
                    "FROM runs WHERE run_id = ?",
                    (run_id,),
                ).fetchone()
                if row is None:
                    raise NotFoundError(f"no run with id {run_id!r}", value=run_id)
                keys = ("run_id", "name", "parent_id", "status", "start_time", "end_time", "error")
                run = dict(zip(keys, row, strict=False))
                q = "FROM {} WHERE run_id = ? ORDER BY key"
                run["params"] = dict(
                    conn.execute("SELECT key, value " + q.format("params"), (run_id,))
                )
                run["tags"] = dict(
                    conn.execute("SELECT key, value " + q.format("tags"), (run_id,))
                )
                run["metrics"] = {
                    k: _to_float(v)
                    for k, v in conn.execute(
                        "SELECT key, value " + q.format("latest_metrics"), (run_id,)
                    )
                }
                run["datasets"] = [
                    {"role": role, **json.loads(manifest)}
                    for role, manifest in conn.execute(
                        "SELECT role, manifest FROM datasets WHERE run_id = ? ORDER BY role, hash",
                        (run_id,),
                    )
                ]
                run["artifacts"] = [
                    {"name": n, "key": k, "size": s}
                    for n, k, s in conn.execute(
                        "SELECT name, key, size FROM artifacts WHERE run_id = ? ORDER BY name",
                        (run_id,),
                    )
                ]
                return run
            finally:
                conn.execute("COMMIT")

        result: dict[str, Any] = self._retry(read)
        return result

    def get_metric_history(self, run_id: str, key: str) -> list[tuple[int, float, float]]:
        """Return every ``(step, timestamp, value)`` point of a metric, by step then time."""
        rows = self._read(
            "SELECT step, timestamp, value FROM metrics WHERE run_id = ? AND key = ? "
            "ORDER BY step, timestamp, rowid",
            (run_id, key),
        )
        return [(int(s), float(t), _to_float(v)) for s, t, v in rows]

    def search_runs(
        self,
        filter: str | None = None,
        *,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> pd.DataFrame:
        """Return matching runs, one row each, with ``params.*``, ``metrics.*`` and ``tags.*``.

        See :meth:`mlkit.versioning.Tracker.search_runs` for the filter syntax.
        """
        import pandas as pd

        if max_results is not None and (
            not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 0
        ):
            raise ConfigurationError(
                f"max_results must be a non-negative int or None, got {max_results!r}",
                value=max_results,
                expected="an int >= 0 or None",
            )
        where, where_params = compile_filter(filter)
        joins, terms, order_params = compile_order(order_by)
        terms.append("r.start_time DESC, r.run_id")  # newest first, then a stable tie-break
        sql = (
            "SELECT r.run_id, r.name, r.status, r.start_time, r.end_time, r.parent_id, r.error, "
            f"r.params, r.metrics, r.tags FROM runs r {' '.join(joins)} "
            f"WHERE {where} ORDER BY {', '.join(terms)}"
        )
        params: list[object] = [*order_params, *where_params]
        if max_results is not None:
            sql += " LIMIT ?"
            params.append(max_results)
        rows = self._read(sql, params)
        import numpy as np

        names = ["run_id", "name", "status", "start_time", "end_time", "parent_id", "error"]
        columns = list(zip(*rows, strict=True)) if rows else [()] * 10
        data: dict[str, Any] = {}
        for name, values in zip(names, columns[:7], strict=True):
            if name.endswith("_time"):
                seconds = np.array(values, dtype=np.float64)  # None (still running) is NaN
                data[name] = pd.to_datetime(seconds, unit="s", utc=True)
            else:
                data[name] = np.array(values, dtype=object)
        for prefix, docs_text in zip(("params.", "metrics.", "tags."), columns[7:], strict=True):
            # One json.loads for all runs: parsing is per value in C, not per row in Python.
            docs = json.loads("[" + ",".join(docs_text) + "]")
            data.update(_spread(docs, prefix, numeric=prefix == "metrics."))
        out: pd.DataFrame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
        return out

    # -- registry ------------------------------------------------------------

    def add_version(self, name: str, record: Mapping[str, Any]) -> int:
        """Append a new version of model ``name`` (created if new) and return its number."""
        created = float(record.get("created", time.time()))
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO models (name, created) VALUES (?, ?)", (name, created)
            )
            (last,) = conn.execute(
                "SELECT coalesce(max(version), 0) FROM model_versions WHERE name = ?", (name,)
            ).fetchone()
            version = int(last) + 1
            stored = {k: v for k, v in record.items() if k != "tags"}
            conn.execute(
                "INSERT INTO model_versions "
                "(name, version, artifact_key, run_id, created, record) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    name,
                    version,
                    record["artifact_key"],
                    record.get("run_id"),
                    created,
                    json.dumps(stored, sort_keys=True),
                ),
            )
            conn.executemany(
                "INSERT INTO version_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
                [(name, version, k, v) for k, v in dict(record.get("tags") or {}).items()],
            )
        return version

    def get_version(self, name: str, version: int | str) -> dict[str, Any]:
        """Return the record of ``version``: a number, an alias, or ``"latest"``."""
        conn = self._connect()

        def read() -> dict[str, Any]:
            conn.execute("BEGIN")
            try:
                number = self._resolve(conn, name, version)
                return self._record(conn, name, number)
            finally:
                conn.execute("COMMIT")

        result: dict[str, Any] = self._retry(read)
        return result

    def _resolve(self, conn: sqlite3.Connection, name: str, version: int | str) -> int:
        if conn.execute("SELECT 1 FROM models WHERE name = ?", (name,)).fetchone() is None:
            raise NotFoundError(f"no registered model named {name!r}", value=name)
        if isinstance(version, str):
            if version == "latest":
                row = conn.execute(
                    "SELECT max(version) FROM model_versions WHERE name = ?", (name,)
                ).fetchone()
            else:
                row = conn.execute(
                    "SELECT version FROM aliases WHERE name = ? AND alias = ?", (name, version)
                ).fetchone()
            if row is None or row[0] is None:
                raise NotFoundError(
                    f"model {name!r} has no alias {version!r}", column=name, value=version
                )
            return int(row[0])
        found = conn.execute(
            "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
        if found is None:
            raise NotFoundError(
                f"model {name!r} has no version {version!r}", column=name, value=version
            )
        return int(version)

    @staticmethod
    def _record(conn: sqlite3.Connection, name: str, version: int) -> dict[str, Any]:
        (text,) = conn.execute(
            "SELECT record FROM model_versions WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
        record: dict[str, Any] = json.loads(text)
        record["name"] = name
        record["version"] = version
        record["tags"] = dict(
            conn.execute(
                "SELECT key, value FROM version_tags WHERE name = ? AND version = ? ORDER BY key",
                (name, version),
            )
        )
        record["aliases"] = [
            a
            for (a,) in conn.execute(
                "SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias",
                (name, version),
            )
        ]
        return record

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        """Return the records of every version of ``name``, oldest first."""
        conn = self._connect()

        def read() -> list[dict[str, Any]]:
            conn.execute("BEGIN")
            try:
                self._resolve(conn, name, "latest")
                numbers = conn.execute(
                    "SELECT version FROM model_versions WHERE name = ? ORDER BY version", (name,)
                ).fetchall()
                return [self._record(conn, name, int(v)) for (v,) in numbers]
            finally:
                conn.execute("COMMIT")

        result: list[dict[str, Any]] = self._retry(read)
        return result

    def list_models(self) -> list[str]:
        """Return the names of the registered models, sorted."""
        return [n for (n,) in self._read("SELECT name FROM models ORDER BY name")]

    def set_alias(
        self, name: str, alias: str, version: int | None, *, user: str, time: float
    ) -> None:
        """Point ``alias`` at ``version`` (delete it when ``None``), and log the change."""
        with self._write() as conn:
            if version is not None:
                self._resolve(conn, name, int(version))
            else:
                self._resolve(conn, name, "latest")
            row = conn.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", (name, alias)
            ).fetchone()
            old = None if row is None else int(row[0])
            if version is None and old is None:
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r} to delete", column=name, value=alias
                )
            if old == version:
                return
            if version is None:
                conn.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (name, alias))
            else:
                conn.execute(
                    "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) "
                    "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
                    (name, alias, int(version)),
                )
            conn.execute(
                "INSERT INTO alias_log (name, alias, from_version, to_version, user, time) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, alias, old, version, user, float(time)),
            )

    def set_version_tag(self, name: str, version: int, key: str, value: str | None) -> None:
        """Set (or delete, when ``value`` is None) a tag of a model version."""
        with self._write() as conn:
            self._resolve(conn, name, int(version))
            if value is None:
                conn.execute(
                    "DELETE FROM version_tags WHERE name = ? AND version = ? AND key = ?",
                    (name, version, key),
                )
            else:
                conn.execute(
                    "INSERT INTO version_tags (name, version, key, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
                    (name, version, key, value),
                )

    def alias_history(self, name: str | None = None) -> list[dict[str, Any]]:
        """Return every alias change (oldest first), of one model or all."""
        sql = "SELECT name, alias, from_version, to_version, user, time FROM alias_log"
        params: tuple[object, ...] = ()
        if name is not None:
            sql += " WHERE name = ?"
            params = (name,)
        keys = ("name", "alias", "from_version", "to_version", "user", "time")
        return [
            dict(zip(keys, row, strict=False)) for row in self._read(sql + " ORDER BY id", params)
        ]

    # -- integrity -----------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Return SQLite's own integrity check findings (empty when the file is sound)."""
        rows = self._read("PRAGMA integrity_check")
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        if problems:
            return problems
        # The JSON copies that search reads must say what the tables say.
        for table, column in _DOCS.items():
            pairs = self._read(
                f"SELECT r.run_id, r.{column}, (SELECT {_DOC_OBJECT} "
                f"FROM {table} x WHERE x.run_id = r.run_id) FROM runs r"
            )
            for run_id, doc, truth in pairs:
                if json.loads(doc) != json.loads(truth):
                    problems.append(f"run {run_id}: stored {column} differ from the {table} table")
        return problems

    def referenced_keys(self) -> dict[str, list[str]]:
        """Return every artifact key the database refers to, with who refers to it."""
        refs: dict[str, list[str]] = {}
        for run_id, name, key in self._read("SELECT run_id, name, key FROM artifacts"):
            refs.setdefault(key, []).append(f"run {run_id} artifact {name!r}")
        for name, version, key in self._read(
            "SELECT name, version, artifact_key FROM model_versions"
        ):
            refs.setdefault(key, []).append(f"model {name!r} version {version}")
        return refs


def _spread(docs: list[dict[str, Any]], prefix: str, *, numeric: bool) -> dict[str, Any]:
    """One column per key of the per-run dicts, keys sorted; absent is None (NaN if numeric)."""
    import numpy as np

    keys = sorted(set().union(*docs)) if docs else []
    dtype = np.float64 if numeric else object
    return {prefix + k: np.array([d.get(k) for d in docs], dtype=dtype) for k in keys}


def check_key_text(key: object, *, what: str) -> str:
    """Check a metric, param or tag key: a short printable string."""
    if not isinstance(key, str) or not key or len(key) > 250 or key != key.strip():
        raise DataError(
            f"{what} key must be a non-empty string of at most 250 characters without "
            f"surrounding spaces, got {key!r}",
            value=key,
            expected="a string such as 'val_loss' or 'train/acc'",
        )
    if any(ord(c) < 32 or c == "\x7f" for c in key):
        raise DataError(
            f"{what} key {key!r} contains a control character",
            value=key,
            expected="printable characters",
        )
    return key
