"""Checked by mypy (see pyproject's [tool.mypy] files), not collected by pytest.

Plain user classes, inheriting nothing from mlkit, satisfy every protocol.
The ``type: ignore`` lines prove the converse: with ``warn_unused_ignores``
(on under ``strict``), mypy fails if a non-conforming class were accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

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


class ListRunStore:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def create_run(self, name: str, *, tags: Mapping[str, str], parent_id: str | None) -> str:
        self.rows.append({"name": name, **tags})
        return str(len(self.rows))

    def log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: Sequence[tuple[str, float, int | None, float]] | None = None,
        tags: Mapping[str, str] | None = None,
        status: str | None = None,
    ) -> None:
        self.rows[int(run_id) - 1].update(params or {})

    def search_runs(
        self,
        filter: str | None = None,
        *,
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> pd.DataFrame:
        frame: pd.DataFrame = pd.DataFrame(self.rows)
        return frame


class DictRegistry:
    def __init__(self) -> None:
        self.versions: dict[str, list[Mapping[str, Any]]] = {}
        self.aliases: dict[tuple[str, str], int] = {}

    def add_version(self, name: str, record: Mapping[str, Any]) -> int:
        self.versions.setdefault(name, []).append(record)
        return len(self.versions[name])

    def get_version(self, name: str, version: int | str) -> Mapping[str, Any]:
        number = self.aliases[name, version] if isinstance(version, str) else version
        return self.versions[name][number - 1]

    def set_alias(self, name: str, alias: str, version: int | None) -> None:
        if version is None:
            self.aliases.pop((name, alias), None)
        else:
            self.aliases[name, alias] = version


class PrintNotifier:
    def __init__(self) -> None:
        self.seen: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.seen.append(notification)


model: Model = Threshold()
proba_model: ProbabilisticModel = Calibrated()
store: ArtifactStore = DictStore()
runs: RunStore = ListRunStore()
registry: RegistryStore = DictRegistry()
notifier: Notifier = PrintNotifier()
clocks: list[Clock] = [SystemClock(), FakeClock()]

# The converse: each of these must stay an error for mypy.
not_probabilistic: ProbabilisticModel = Threshold()  # type: ignore[assignment]
not_a_store: ArtifactStore = PrintNotifier()  # type: ignore[assignment]
not_a_notifier: Notifier = DictStore()  # type: ignore[assignment]
not_a_clock: Clock = Threshold()  # type: ignore[assignment]
