from __future__ import annotations

import inspect
import logging
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.pipeline import CacheInfo, Step, step
from mlkit.versioning import LocalArtifactStore, Tracker, Workspace

CALLS: list[str] = []


def add_total(df: pd.DataFrame, *, scale: float = 1.0) -> pd.DataFrame:
    """Add a total column."""
    CALLS.append("add_total")
    out: pd.DataFrame = df.copy()
    out["total"] = out.sum(axis=1) * scale
    return out


# Module level so pickling by reference can be tested; no store is opened until a call.
@step(name="pickled", code_version="1")
def pickled_step(x: int) -> int:
    return x


class Scaler:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def apply(self, x: int) -> int:
        return x * self.factor


def make_frame() -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    return frame


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def counter() -> list[Any]:
    return []


def counting(calls: list[Any], ws: Workspace, code_version: str = "v1") -> Step[..., Any]:
    @step(store=ws, code_version=code_version, name="counting")
    def fn(df: pd.DataFrame, factor: float = 2.0) -> Any:
        calls.append(1)
        return df * factor

    return fn


def test_runs_once_for_equal_inputs(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    first = fn(make_frame())
    second = fn(make_frame())
    third = fn(df=make_frame(), factor=2.0)  # keyword and explicit default: same call
    assert len(counter) == 1
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(first, third)
    assert fn.cache_info() == CacheInfo(name="counting", hits=2, misses=1, entries=1)


def test_runs_again_when_a_cell_changes(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    fn(make_frame())
    changed = make_frame()
    changed.loc[2, "b"] = 6.5
    out = fn(changed)
    assert len(counter) == 2
    assert out.loc[2, "b"] == 13.0
    fn(changed)
    assert len(counter) == 2


def test_runs_again_when_a_parameter_changes(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    fn(make_frame())
    out = fn(make_frame(), factor=3.0)
    assert len(counter) == 2
    assert out.loc[0, "a"] == 3.0
    assert fn.cache_info().entries == 2


def test_runs_again_when_code_version_changes(ws: Workspace, counter: list[Any]) -> None:
    counting(counter, ws, code_version="v1")(make_frame())
    counting(counter, ws, code_version="v1")(make_frame())
    assert len(counter) == 1
    counting(counter, ws, code_version="v2")(make_frame())
    assert len(counter) == 2


def test_source_hash_is_the_default_code_version(ws: Workspace) -> None:
    def one(x: int) -> int:
        return x + 1

    def two(x: int) -> int:
        return x + 2

    a = Step(one, store=ws, name="same")
    b = Step(two, store=ws, name="same")
    assert a.code_version.startswith("source:sha256:")
    assert a.code_version != b.code_version
    assert a(1) == 2
    assert b(1) == 3  # same name and inputs, other source: not served one's output


def test_missing_source_needs_code_version(ws: Workspace) -> None:
    namespace: dict[str, Any] = {}
    exec("def made(x):\n    return x\n", namespace)  # no source file to read
    with pytest.raises(ConfigurationError) as info:
        Step(namespace["made"], store=ws)
    assert info.value.column == "code_version"
    assert Step(namespace["made"], store=ws, code_version="1")(5) == 5


def test_unhashable_input_names_the_argument(ws: Workspace, counter: list[Any]) -> None:
    @step(store=ws, code_version="1")
    def locked(data: list[int], lock: Any) -> int:
        counter.append(1)
        return len(data)

    with pytest.raises(DataError) as info:
        locked([1, 2], threading.Lock())
    assert info.value.column == "lock"
    assert "'lock'" in str(info.value)
    assert counter == []  # never ran, nothing stored
    assert locked.cache_info().entries == 0


def test_arguments_not_fitting_the_signature(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    with pytest.raises(DataError):
        fn(make_frame(), 2.0, 3.0)


def test_other_memory_layout_hits_the_cache(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    values = np.arange(12, dtype=np.float64).reshape(4, 3)
    fn(pd.DataFrame(values, columns=["a", "b", "c"]))
    fortran = pd.DataFrame(np.asfortranarray(values), columns=["a", "b", "c"])
    by_column = pd.DataFrame({name: values[:, i].copy() for i, name in enumerate("abc")})
    fn(fortran)
    fn(by_column)
    assert len(counter) == 1
    assert fn.cache_info().hits == 2


def test_fortran_array_hits_the_cache(ws: Workspace, counter: list[Any]) -> None:
    @step(store=ws, code_version="1")
    def total(x: np.ndarray) -> float:
        counter.append(1)
        return float(x.sum())

    values = np.arange(12.0).reshape(3, 4)
    assert total(values) == total(np.asfortranarray(values)) == 66.0
    assert total(values[:, ::1].copy(order="F")) == 66.0
    assert len(counter) == 1


@given(
    st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=20),
    st.data(),
)
def test_key_follows_content_not_layout(values: list[float], data: st.DataObject) -> None:
    fn = Step(lambda df: df, code_version="1", name="keys", store=None)
    frame = pd.DataFrame({"x": values, "y": values[::-1]})
    fortran = pd.DataFrame(np.asfortranarray(frame.to_numpy()), columns=["x", "y"])
    assert fn.cache_key(frame) == fn.cache_key(fortran)
    row = data.draw(st.integers(0, len(values) - 1))
    changed = frame.copy()
    changed.loc[row, "x"] = values[row] + 1.0 if abs(values[row]) < 1e6 else 0.5
    assert fn.cache_key(changed) != fn.cache_key(frame)


def test_cache_survives_a_new_step_object(ws: Workspace, counter: list[Any]) -> None:
    counting(counter, ws)(make_frame())
    fresh = counting(counter, ws)  # as in another process: only the store is shared
    fresh(make_frame())
    assert len(counter) == 1
    assert fresh.cache_info() == CacheInfo(name="counting", hits=1, misses=0, entries=1)


def test_clear_forgets_outputs(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    fn(make_frame())
    fn(make_frame(), factor=5.0)
    assert fn.clear() == 2
    assert fn.cache_info() == CacheInfo(name="counting", hits=0, misses=0, entries=0)
    fn(make_frame())
    assert len(counter) == 3
    assert fn.clear() == 1
    assert fn.clear() == 0


def test_lost_artifact_is_recomputed(
    ws: Workspace, counter: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    fn = counting(counter, ws)
    fn(make_frame())
    for key in list(ws.artifacts.keys()):
        ws.artifacts.delete(key)
    with caplog.at_level(logging.WARNING, logger="mlkit.pipeline._step"):
        out = fn(make_frame())
    assert len(counter) == 2
    assert out.loc[0, "a"] == 2.0
    assert "recomputing" in caplog.text
    fn(make_frame())
    assert len(counter) == 2


def test_torn_index_entry_is_ignored(ws: Workspace, counter: list[Any]) -> None:
    fn = counting(counter, ws)
    fn(make_frame())
    (entry,) = (ws.path / "steps").rglob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    fn(make_frame())
    assert len(counter) == 2
    fn(make_frame())
    assert len(counter) == 2


def test_local_artifact_store_and_path_stores(tmp_path: Path, counter: list[Any]) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")

    def double(x: int) -> int:
        counter.append(1)
        return x * 2

    fn = Step(double, store=store, code_version="1", name="lam")
    assert fn(21) == fn(21) == 42
    assert len(counter) == 1
    assert (tmp_path / "artifacts" / "steps").is_dir()
    by_path = Step(lambda x: x, store=tmp_path / "folder", code_version="1", name="p")
    assert by_path(1) == 1
    assert (tmp_path / "folder" / "steps").is_dir()


def test_invalid_configuration(ws: Workspace) -> None:
    with pytest.raises(ConfigurationError) as info:
        Step(lambda x: x, store=42, code_version="1")(1)  # type: ignore[arg-type]
    assert info.value.column == "store"
    with pytest.raises(ConfigurationError):
        Step(lambda x: x, store=ws, code_version="")
    with pytest.raises(ConfigurationError):
        Step("not callable", store=ws)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Step(lambda x: x, store=ws, code_version="1", tracker="run")  # type: ignore[arg-type]


def test_stays_a_plain_callable(ws: Workspace) -> None:
    wrapped = step(add_total, store=ws)
    assert wrapped.__name__ == "add_total"
    assert wrapped.__doc__ == "Add a total column."
    assert wrapped.__wrapped__ is add_total
    assert inspect.signature(wrapped) == inspect.signature(add_total)
    assert wrapped.name == "tests.pipeline.test_step.add_total" or wrapped.name.endswith(
        "add_total"
    )
    assert "Step(name=" in repr(wrapped)


def test_module_level_step_pickles_by_reference() -> None:
    assert pickle.loads(pickle.dumps(pickled_step)) is pickled_step


def test_local_or_renamed_step_refuses_to_pickle(ws: Workspace, counter: list[Any]) -> None:
    with pytest.raises(TypeError, match="module-level"):
        pickle.dumps(counting(counter, ws))
    with pytest.raises(TypeError, match="module-level"):
        pickle.dumps(step(add_total, store=ws))  # the module name add_total is the raw function


def test_decorates_methods(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = step(Scaler.apply, store=ws, code_version="1", name="scaler.apply")
    monkeypatch.setattr(Scaler, "cached", cached, raising=False)
    assert Scaler(2).cached(5) == 10  # type: ignore[attr-defined]
    assert Scaler(2).cached(5) == 10  # type: ignore[attr-defined]
    assert Scaler(3).cached(5) == 15  # type: ignore[attr-defined]  # instance is in the key
    assert cached.cache_info() == CacheInfo(name="scaler.apply", hits=1, misses=2, entries=2)


def test_tracker_records_lineage(tmp_path: Path) -> None:
    tracker = Tracker(tmp_path / "ws", clock=FakeClock(start=1_000.0), capture_environment=False)
    fn = step(add_total, store=tracker.workspace, name="totals", tracker=tracker)
    fn(make_frame())  # no active run: nothing to record, no error
    with tracker.start_run("train") as run:
        out = fn(make_frame(), scale=2.0)
        first = tracker.get_run(run.id)
        fn(make_frame(), scale=2.0)
    info = tracker.get_run(run.id)
    assert first.tags["step.totals.cache"] == "miss"
    assert info.tags["step.totals.cache"] == "hit"
    assert info.tags["step.totals.input.df"] == fn.input_hashes(make_frame())["df"]
    assert info.tags["step.totals.input.scale"].startswith("sha256:")
    assert info.tags["step.totals.output"] in set(tracker.workspace.artifacts.keys())
    roles = dict(info.datasets)
    assert set(roles) == {"totals.df", "totals.output"}
    assert roles["totals.output"].n_columns == out.shape[1]


def test_run_as_tracker(tmp_path: Path) -> None:
    tracker = Tracker(tmp_path / "ws", clock=FakeClock(start=0.0), capture_environment=False)
    with tracker.start_run("r") as run:
        fn = Step(
            lambda x: x + 1, store=tracker.workspace, code_version="1", name="inc", tracker=run
        )
        assert fn(1) == 2
    assert tracker.get_run(run.id).tags["step.inc.cache"] == "miss"
