"""Checked by mypy (see pyproject's [tool.mypy] files), not collected by pytest.

Plain user classes, inheriting nothing from mlkit, satisfy every protocol.
The ``type: ignore`` lines prove the converse: with ``warn_unused_ignores``
(on under ``strict``), mypy fails if a non-conforming class were accepted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from mlkit.clock import FakeClock, SystemClock
from mlkit.protocols import (
    ArtifactStore,
    Clock,
    Model,
    Notification,
    Notifier,
    ProbabilisticModel,
    RegistryStore,
    RunStore,
)
from mlkit.versioning import FsspecArtifactStore, LocalArtifactStore, SqliteStore


class Threshold:
    def predict(self, X: Any, /) -> Any:
        return (np.asarray(X)[:, 0] > 0).astype(int)


class Calibrated(Threshold):
    def predict_proba(self, X: Any, /) -> Any:
        p = 1 / (1 + np.exp(-np.asarray(X)[:, 0]))
        return np.column_stack([1 - p, p])


class DictStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        key = f"len:{len(data)}"
        self.blobs[key] = data
        return key

    def get(self, key: str) -> bytes:
        return self.blobs[key]

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def put_file(self, path: str | os.PathLike[str]) -> str:
        with open(path, "rb") as f:
            return self.put(f.read())

    def keys(self) -> Iterator[str]:
        return iter(self.blobs)


class PrintNotifier:
    def __init__(self) -> None:
        self.seen: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.seen.append(notification)


model: Model = Threshold()
proba_model: ProbabilisticModel = Calibrated()
store: ArtifactStore = DictStore()


def mlkit_back_ends(folder: str) -> None:
    """Never called (pytest imports this module for doctests): mypy checks that
    mlkit's own back ends satisfy the protocols users would implement."""
    local_store: ArtifactStore = LocalArtifactStore(folder)
    fsspec_store: ArtifactStore = FsspecArtifactStore("memory://artifacts")
    runs: RunStore = SqliteStore(f"{folder}/mlkit.db")
    registry: RegistryStore = SqliteStore(f"{folder}/mlkit.db")
    not_a_registry: RegistryStore = local_store  # type: ignore[assignment]
    del fsspec_store, runs, registry, not_a_registry


notifier: Notifier = PrintNotifier()
clocks: list[Clock] = [SystemClock(), FakeClock()]

# The converse: each of these must stay an error for mypy.
not_probabilistic: ProbabilisticModel = Threshold()  # type: ignore[assignment]
not_a_store: ArtifactStore = PrintNotifier()  # type: ignore[assignment]
not_a_notifier: Notifier = DictStore()  # type: ignore[assignment]
not_a_run_store: RunStore = DictStore()  # type: ignore[assignment]
not_a_clock: Clock = Threshold()  # type: ignore[assignment]
