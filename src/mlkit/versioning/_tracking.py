"""Run tracking: params, metrics, tags, artifacts and datasets of a training run."""

from __future__ import annotations

import contextvars
import logging
import numbers
import os
import traceback
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import DataError, NotFoundError
from mlkit.versioning._artifacts import check_name
from mlkit.versioning._env import environment_tags
from mlkit.versioning._hash import DatasetVersion
from mlkit.versioning._sqlite import check_key_text
from mlkit.versioning._workspace import Workspace, as_workspace

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.protocols import Clock

__all__ = ["ArtifactRecord", "Run", "RunInfo", "Tracker"]

logger = logging.getLogger(__name__)

# The runs started and not yet ended in this context (thread or task), innermost last.
_ACTIVE: contextvars.ContextVar[tuple[Run, ...]] = contextvars.ContextVar(
    "mlkit_active_runs", default=()
)
_ERROR_CHARS = 20_000


@attrs.frozen
class ArtifactRecord:
    """One artifact logged by a run: its name in the run, content key and size in bytes."""

    name: str
    key: str
    size: int


@attrs.frozen(repr=False)
class RunInfo:
    """A run as stored: attributes, params, latest metrics, tags, datasets and artifacts.

    ``start_time`` and ``end_time`` are POSIX seconds; ``datasets`` holds
    ``(role, DatasetVersion)`` pairs.
    """

    run_id: str
    name: str
    status: str
    start_time: float
    end_time: float | None
    parent_id: str | None
    error: str | None
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    tags: Mapping[str, str]
    datasets: tuple[tuple[str, DatasetVersion], ...]
    artifacts: tuple[ArtifactRecord, ...]

    def __repr__(self) -> str:
        return (
            f"RunInfo(name={self.name!r}, status={self.status!r}, run_id={self.run_id!r}, "
            f"params={len(self.params)}, metrics={len(self.metrics)}, tags={len(self.tags)}, "
            f"datasets={len(self.datasets)}, artifacts={len(self.artifacts)})"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunInfo:
        """Build from the mapping a run store returns."""
        datasets = []
        for item in data.get("datasets", ()):
            item = dict(item)
            role = item.pop("role")
            datasets.append((role, DatasetVersion.from_dict(item)))
        return cls(
            run_id=data["run_id"],
            name=data["name"],
            status=data["status"],
            start_time=data["start_time"],
            end_time=data.get("end_time"),
            parent_id=data.get("parent_id"),
            error=data.get("error"),
            params=dict(data.get("params", {})),
            metrics=dict(data.get("metrics", {})),
            tags=dict(data.get("tags", {})),
            datasets=tuple(datasets),
            artifacts=tuple(ArtifactRecord(**a) for a in data.get("artifacts", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (NaN metrics stay floats)."""
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "parent_id": self.parent_id,
            "error": self.error,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "datasets": [{"role": r, **d.to_dict()} for r, d in self.datasets],
            "artifacts": [attrs.asdict(a) for a in self.artifacts],
        }


def _param_text(key: str, value: object) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)
    if isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        import json

        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError):
            pass
    return str(value)


def _metric_value(key: str, value: object) -> float:
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
            return float(value)
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    raise DataError(
        f"metric {key!r} must be a real number, got {value!r} ({type(value).__name__})",
        column=key,
        value=value,
        expected="an int or float (NaN and inf allowed)",
    )


class Run:
    """A tracked run; returned by :meth:`Tracker.start_run`.

    Every ``log_*`` call is committed before it returns: a crash later never
    loses it, and several processes may log to one workspace at once.
    Use it as a context manager: on leaving, the run is marked ``finished``;
    if the block raised, ``failed`` with the error text (``killed`` on
    ``KeyboardInterrupt`` or ``SystemExit``), and the exception propagates.
    """

    def __init__(self, tracker: Tracker, run_id: str, name: str) -> None:
        self._tracker = tracker
        self.id = run_id
        self.name = name
        self._steps: dict[str, int] = {}
        self._ended = False

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r})"

    @property
    def _store(self) -> Any:
        return self._tracker.workspace.store

    def _now(self) -> float:
        return float(self._tracker.clock.now())

    def log_param(self, key: str, value: object) -> None:
        """Record a parameter; its text (``str(value)``, JSON for lists/dicts) is immutable."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Record several parameters in one transaction.

        Raises
        ------
        mlkit.errors.ConflictError
            A key was logged before with a different value.
        """
        checked = {check_key_text(k, what="param"): _param_text(k, v) for k, v in params.items()}
        self._store.log_batch(self.id, params=checked)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Record one point of a metric.

        Parameters
        ----------
        key
            Metric name, such as ``"val_loss"`` or ``"train/acc"``.
        value
            A real number; NaN and infinities are kept as such.
        step
            Defaults to one more than the last step this run logged for ``key``
            (0 for the first).
        """
        self.log_metrics({key: value}, step=step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record one point of each of several metrics, in one transaction."""
        now = self._now()
        points = []
        steps = dict(self._steps)
        given: object = step  # checked at run time: callers are not all typed
        for key, value in metrics.items():
            check_key_text(key, what="metric")
            number = _metric_value(key, value)
            if given is None:
                at = steps.get(key, 0)
            elif isinstance(given, bool) or not isinstance(given, numbers.Integral):
                raise DataError(
                    f"step of metric {key!r} must be an int, got {given!r}",
                    column=key,
                    value=given,
                    expected="an int or None",
                )
            else:
                at = int(given)
            steps[key] = max(steps.get(key, 0), at + 1)
            points.append((key, number, at, now))
        self._store.log_batch(self.id, metrics=points)
        self._steps = steps

    def set_tag(self, key: str, value: object) -> None:
        """Set a tag (``str(value)``); unlike params, tags may change."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Set several tags in one transaction."""
        checked = {check_key_text(k, what="tag"): str(v) for k, v in tags.items()}
        self._store.log_batch(self.id, tags=checked)

    def log_artifact(
        self, source: bytes | str | os.PathLike[str], name: str | None = None
    ) -> ArtifactRecord | tuple[ArtifactRecord, ...]:
        """Store a file, a folder or bytes in the artifact store, linked to this run.

        Parameters
        ----------
        source
            Bytes, a file path, or a folder path (every file below it is stored).
        name
            The artifact's name in the run, a relative path such as
            ``"plots/roc.png"``; defaults to the file or folder name (required
            for bytes). A folder's files are named ``<name>/<relative path>``.

        Returns
        -------
        ArtifactRecord or tuple of ArtifactRecord
            One record for bytes or a file, one per file for a folder.

        Raises
        ------
        mlkit.errors.ConflictError
            The run already has an artifact of that name with other content.
        """
        artifacts = self._tracker.workspace.artifacts
        if isinstance(source, (bytes, bytearray, memoryview)):
            if name is None:
                raise DataError(
                    "log_artifact(bytes) needs a name", expected="name='model-card.md' or similar"
                )
            data = bytes(source)
            records = [ArtifactRecord(check_name(name, what="artifact name"), "", len(data))]
            records[0] = attrs.evolve(records[0], key=artifacts.put(data))
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.exists():
                raise NotFoundError(f"no file or folder at {str(path)!r}", value=str(path))
            base = check_name(name if name is not None else path.name, what="artifact name")
            if path.is_dir():
                records = []
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    rel = file.relative_to(path).as_posix()
                    key = artifacts.put_file(file)
                    records.append(ArtifactRecord(f"{base}/{rel}", key, file.stat().st_size))
            else:
                records = [ArtifactRecord(base, artifacts.put_file(path), path.stat().st_size)]
        else:
            raise DataError(
                f"log_artifact takes bytes or a path, got {type(source).__name__}",
                value=type(source).__name__,
                expected="bytes, str or os.PathLike",
            )
        # Bytes first, record second: a crash in between leaves an unreferenced
        # artifact (harmless), never a record pointing at nothing.
        self._store.log_batch(self.id, artifacts=[(r.name, r.key, r.size) for r in records])
        if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            return tuple(records)
        return records[0]

    def log_dataset(
        self, data: Any, role: str = "train", *, source: str | None = None
    ) -> DatasetVersion:
        """Record the content hash and schema of a dataset this run used (its lineage).

        Parameters
        ----------
        data
            A pandas DataFrame (hashed in full) or a :class:`DatasetVersion`.
        role
            What the run used it for: ``"train"``, ``"validation"``, ``"test"``...
        source
            Where the data came from (a path or URL), recorded with the hash.
        """
        check_key_text(role, what="dataset role")
        if isinstance(data, DatasetVersion):
            version = data if source is None else attrs.evolve(data, source=source)
        else:
            import pandas as pd

            if not isinstance(data, pd.DataFrame):
                raise DataError(
                    "log_dataset takes a DataFrame or a DatasetVersion, "
                    f"got {type(data).__name__}",
                    value=type(data).__name__,
                    expected="pandas.DataFrame or DatasetVersion",
                )
            version = DatasetVersion.from_frame(data, source=source)
        self._store.log_batch(self.id, datasets=[(role, version.hash, version.to_dict())])
        return version

    def info(self) -> RunInfo:
        """Return the run as stored now."""
        return self._tracker.get_run(self.id)

    def end(self, status: str = "finished", error: str | None = None) -> None:
        """Mark the run ended (``finished``, ``failed`` or ``killed``); later calls do nothing."""
        if self._ended:
            return
        self._store.end_run(self.id, status=status, end_time=self._now(), error=error)
        self._ended = True
        _ACTIVE.set(tuple(r for r in _ACTIVE.get() if r is not self))

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end("finished")
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))[-_ERROR_CHARS:]
        self.end("failed" if isinstance(exc, Exception) else "killed", error=text)


_UNSET: Any = object()


class Tracker:
    """Track training runs in a workspace (SQLite and an artifact folder by default).

    Parameters
    ----------
    workspace
        A :class:`Workspace` or its folder; default ``$MLKIT_WORKSPACE`` or
        ``./mlkit-workspace``.
    clock
        Time source for run and metric times (default: the system clock).
    capture_environment
        Record the git commit, Python, platform and package versions as
        ``mlkit.*`` tags of every run.

    Examples
    --------
    >>> import tempfile
    >>> tracker = Tracker(tempfile.mkdtemp())
    >>> with tracker.start_run("baseline", tags={"team": "fraud"}) as run:
    ...     run.log_params({"max_depth": 3, "lr": 0.1})
    ...     for epoch, loss in enumerate([0.9, 0.5, 0.4]):
    ...         run.log_metric("loss", loss, step=epoch)
    >>> runs = tracker.search_runs("metrics.loss < 0.5 and params.max_depth = '3'")
    >>> runs[["name", "status", "params.lr", "metrics.loss"]]
           name    status params.lr  metrics.loss
    0  baseline  finished       0.1           0.4
    """

    def __init__(
        self,
        workspace: Workspace | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        capture_environment: bool = True,
    ) -> None:
        self.workspace = as_workspace(workspace)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.capture_environment = capture_environment

    def __repr__(self) -> str:
        return f"Tracker({str(self.workspace.path)!r})"

    def start_run(
        self,
        name: str | None = None,
        *,
        tags: Mapping[str, object] | None = None,
        parent: Run | str | None = _UNSET,
    ) -> Run:
        """Create a run and return it (use it in a ``with`` block).

        Parameters
        ----------
        name
            A label (need not be unique); default ``"run-<first 8 id chars>"``.
        tags
            Initial tags.
        parent
            The parent run or its id. By default a run started while another
            run of this tracker is active (inside its ``with`` block, in the same
            thread or task) becomes its child; pass ``None`` for a top-level run.
        """
        run_id = uuid.uuid4().hex
        name = check_key_text(name if name is not None else f"run-{run_id[:8]}", what="run name")
        if parent is _UNSET:
            mine = [r for r in _ACTIVE.get() if r._tracker.workspace.path == self.workspace.path]
            parent = mine[-1] if mine else None
        parent_id = parent.id if isinstance(parent, Run) else parent
        all_tags = environment_tags() if self.capture_environment else {}
        all_tags.update({check_key_text(k, what="tag"): str(v) for k, v in (tags or {}).items()})
        self.workspace.store.create_run(
            name, tags=all_tags, parent_id=parent_id, start_time=self.clock.now(), run_id=run_id
        )
        run = Run(self, run_id, name)
        _ACTIVE.set((*_ACTIVE.get(), run))
        return run

    def active_run(self) -> Run | None:
        """Return the innermost run of this tracker active in this thread or task."""
        mine = [r for r in _ACTIVE.get() if r._tracker.workspace.path == self.workspace.path]
        return mine[-1] if mine else None

    def get_run(self, run_id: str) -> RunInfo:
        """Return a stored run.

        Raises
        ------
        mlkit.errors.NotFoundError
            No run has that id.
        """
        return RunInfo.from_dict(self.workspace.store.get_run(run_id))

    def metric_history(self, run_id: str, key: str) -> pd.DataFrame:
        """Return every point of a metric: columns ``step``, ``timestamp``, ``value``."""
        import pandas as pd

        rows = self.workspace.store.get_metric_history(run_id, key)
        frame = pd.DataFrame.from_records(rows, columns=["step", "timestamp", "value"])
        out: pd.DataFrame = frame.astype(
            {"step": "int64", "timestamp": "float64", "value": "float64"}
        )
        return out

    def get_artifact(self, run_id: str, name: str) -> bytes:
        """Return the bytes of a run's artifact, verified against its hash."""
        info = self.get_run(run_id)
        for record in info.artifacts:
            if record.name == name:
                data: bytes = self.workspace.artifacts.get(record.key)
                return data
        raise NotFoundError(
            f"run {run_id!r} has no artifact named {name!r}",
            value=name,
            expected=f"one of {[a.name for a in info.artifacts]}",
        )

    def search_runs(
        self,
        filter: str | None = None,
        *,
        order_by: Sequence[str] | str = (),
        max_results: int | None = None,
    ) -> pd.DataFrame:
        """Find runs; one row per run, newest first unless ``order_by`` says otherwise.

        Parameters
        ----------
        filter
            Conditions on ``metrics.<key>`` (latest value, compared as numbers),
            ``params.<key>`` and ``tags.<key>`` (text; compared as numbers when
            the literal is a number), and the attributes ``status``, ``name``,
            ``run_id``, ``parent_id``, ``start_time``, ``end_time`` (POSIX seconds).
            Operators ``= != < <= > >=``, ``LIKE`` (case-sensitive, ``%`` and
            ``_`` wildcards), ``ILIKE``, ``IN (...)``, ``NOT IN (...)``,
            ``IS [NOT] NULL``; combine with ``and``, ``or``, ``not`` and
            parentheses. Quote keys with odd characters: ``metrics."val loss"``.
            Text literals take single quotes. A run without the metric, param or
            tag never matches a comparison on it.
        order_by
            Items such as ``"metrics.acc DESC"`` or ``"start_time"``; runs lacking
            the key sort last.
        max_results
            At most this many rows.

        Returns
        -------
        pandas.DataFrame
            Columns ``run_id, name, status, start_time, end_time, parent_id,
            error`` (times as UTC timestamps), then ``params.*``, ``metrics.*``
            (float) and ``tags.*``, each sorted by key.

        Raises
        ------
        mlkit.errors.ConfigurationError
            The filter or an ``order_by`` item does not parse; the message
            points at the position.
        """
        if isinstance(order_by, str):
            order_by = [order_by]
        return cast(
            "pd.DataFrame",
            self.workspace.store.search_runs(filter, order_by=order_by, max_results=max_results),
        )
