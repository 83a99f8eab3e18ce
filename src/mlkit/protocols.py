"""The small contracts users implement to plug their own parts into mlkit.

Every contract is a :class:`typing.Protocol`: a class satisfies it by having
the methods, never by inheriting from anything of mlkit's. Any scikit-learn
estimator is a :class:`Model` (and a classifier a :class:`ProbabilisticModel`)
unchanged.

Only the protocols that mlkit itself checks with ``isinstance`` at run time are
``runtime_checkable``: :class:`Model`, :class:`ProbabilisticModel` and
:class:`Clock`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ArtifactStore",
    "Clock",
    "Model",
    "Notification",
    "Notifier",
    "ProbabilisticModel",
    "RegistryStore",
    "RunStore",
]


@runtime_checkable
class Model(Protocol):
    """Protocol: anything that predicts.

    Routers, monitors, model tests and the promotion gate accept any object
    with this method: scikit-learn estimators, pipelines, or a thin wrapper
    around a remote endpoint.
    """

    def predict(self, X: Any, /) -> Any:
        """Return one prediction per row of ``X``."""
        ...


@runtime_checkable
class ProbabilisticModel(Model, Protocol):
    """Protocol: a :class:`Model` that also returns class probabilities."""

    def predict_proba(self, X: Any, /) -> Any:
        """Return an ``(n_rows, n_classes)`` array of class probabilities."""
        ...


@runtime_checkable
class Clock(Protocol):
    """Protocol: a source of the current time.

    Monitors, alert rules, triggers and rollouts take a clock instead of
    reading the system time, so tests advance time by hand
    (:class:`mlkit.clock.FakeClock`) instead of sleeping.
    """

    def now(self) -> float:
        """Return the current time as POSIX seconds (UTC)."""
        ...


class ArtifactStore(Protocol):
    """Protocol: content-addressed storage of bytes.

    ``put`` returns the key the bytes are stored under (their algorithm-prefixed
    content hash, for example ``"sha256:9f86..."``); ``get`` must return exactly
    those bytes or raise :class:`mlkit.errors.IntegrityError`. Writes must be
    atomic: a reader never sees a partial artifact under its final key.
    :class:`mlkit.versioning.LocalArtifactStore` and
    :class:`mlkit.versioning.FsspecArtifactStore` implement it.
    """

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key; storing the same bytes twice is a no-op."""
        ...

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store the content of a file (streamed) and return its key."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``; raise ``NotFoundError`` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        ...

    def keys(self) -> Iterator[str]:
        """Yield every stored key."""
        ...


class RunStore(Protocol):
    """Protocol: the back end that run tracking writes to.

    The embedded default is :class:`mlkit.versioning.SqliteStore`, a SQLite file
    in the workspace; an adapter can forward to MLflow or anything else. Each
    call is one short transaction: all of it is recorded, or none of it.
    """

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
        ...

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
        """Record metrics, params, tags, datasets and artifacts in one transaction.

        Metrics are ``(key, value, step, timestamp)``, datasets
        ``(role, hash, manifest)`` and artifacts ``(name, key, size)``.
        """
        ...

    def end_run(
        self, run_id: str, *, status: str, end_time: float, error: str | None = None
    ) -> None:
        """Set the final status: ``"finished"``, ``"failed"`` or ``"killed"``."""
        ...

    def get_run(self, run_id: str) -> Mapping[str, Any]:
        """Return a run; raise ``NotFoundError`` if absent.

        The mapping holds its attributes, ``params``, latest ``metrics``,
        ``tags``, ``datasets`` and ``artifacts``.
        """
        ...

    def get_metric_history(self, run_id: str, key: str) -> Sequence[tuple[int, float, float]]:
        """Return every ``(step, timestamp, value)`` point of a metric."""
        ...

    def search_runs(
        self,
        filter: str | None = None,
        *,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> pd.DataFrame:
        """Return matching runs, one row each, with ``params.*`` and ``metrics.*`` columns."""
        ...


class RegistryStore(Protocol):
    """Protocol: the back end of the model registry.

    A version record is a JSON-safe mapping (artifact key, run id, signature,
    tags, ...). Versions are numbered from 1 by the store, so concurrent
    registrations never get the same number. The embedded default is
    :class:`mlkit.versioning.SqliteStore`.
    """

    def add_version(self, name: str, record: Mapping[str, Any]) -> int:
        """Append a new version of model ``name`` and return its number."""
        ...

    def get_version(self, name: str, version: int | str) -> Mapping[str, Any]:
        """Return the record of ``version`` (a number, an alias, or ``"latest"``)."""
        ...

    def list_versions(self, name: str) -> Sequence[Mapping[str, Any]]:
        """Return the records of every version of ``name``, oldest first."""
        ...

    def list_models(self) -> Sequence[str]:
        """Return the registered model names."""
        ...

    def set_alias(
        self, name: str, alias: str, version: int | None, *, user: str, time: float
    ) -> None:
        """Point ``alias`` at ``version`` (delete it when ``None``) and log the change."""
        ...

    def set_version_tag(self, name: str, version: int, key: str, value: str | None) -> None:
        """Set a version's tag, or delete it when ``value`` is ``None``."""
        ...

    def alias_history(self, name: str | None = None) -> Sequence[Mapping[str, Any]]:
        """Return the alias changes (``name, alias, from_version, to_version, user, time``)."""
        ...


@attrs.frozen
class Notification:
    """One message for a :class:`Notifier`.

    Parameters
    ----------
    title
        A one-line summary, for example ``"drift detected on 'amount'"``.
    message
        The full text.
    severity
        ``"critical"``, ``"error"``, ``"warning"`` or ``"info"``.
    labels
        Short key/value pairs for routing and grouping (model, feature, rule).
    timestamp
        POSIX seconds when the condition was observed.
    """

    title: str
    message: str
    severity: str = "warning"
    labels: Mapping[str, str] = attrs.field(factory=dict)
    timestamp: float | None = None


class Notifier(Protocol):
    """Protocol: where alerts and quality failures go.

    Implementations must not block the caller for long: a webhook notifier
    sends from a background thread with a timeout.
    """

    def notify(self, notification: Notification) -> None:
        """Deliver ``notification``."""
        ...
