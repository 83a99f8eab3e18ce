"""Several processes at once, and processes killed mid-write: nothing is lost or half-written."""

import itertools
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mlkit.versioning import ModelRegistry, Tracker, Workspace

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlkit.versioning import Tracker

    workspace, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    tracker = Tracker(workspace)
    while not go.exists():  # start together, to collide as much as possible
        time.sleep(0.001)
    with tracker.start_run(f"worker-{worker}") as run:
        for i in range(500):
            run.log_metric("loss", worker * 1000 + i, step=i)
    print(run.id)
    """
)


def test_eight_processes_log_4000_points_without_loss(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    Workspace(workspace)  # create the schema once, as a user's first call would
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(workspace), str(w), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    time.sleep(0.5)
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=False):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
    tracker = Tracker(workspace)
    runs = tracker.search_runs()
    assert len(runs) == 8
    assert set(runs["status"]) == {"finished"}
    total = 0
    for run_id, name in zip(runs["run_id"], runs["name"], strict=False):
        worker = int(name.split("-")[1])
        history = tracker.metric_history(run_id, "loss")
        assert history["step"].tolist() == list(range(500))
        assert history["value"].tolist() == [worker * 1000.0 + i for i in range(500)]
        total += len(history)
    assert total == 4000
    assert runs["metrics.loss"].sort_values().tolist() == [w * 1000.0 + 499 for w in range(8)]


def _killed_writer(workspace: Path, seed: int) -> None:
    """Log artifacts and register models until killed (runs in a forked child)."""
    rng = random.Random(seed)
    tracker = Tracker(workspace, capture_environment=False)
    registry = ModelRegistry(workspace)
    while True:
        with tracker.start_run() as run:
            blob = rng.randbytes(rng.choice([1, 300_000, 2_000_000]))
            run.log_artifact(blob, name="blob.bin")
            run.log_metric("size", len(blob))
            registry.register("m", np.arange(rng.randrange(1, 200_000)), run=run)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_sigkill_during_writes_leaves_a_consistent_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    Workspace(workspace)
    rng = random.Random(0)
    kills = 0
    deadline = time.monotonic() + 6.0
    while kills < 40 and time.monotonic() < deadline:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _killed_writer(workspace, seed=kills)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.12))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
    assert kills >= 10

    ws = Workspace(workspace)
    check = ws.verify()
    assert check.ok, str(check)
    registry = ModelRegistry(ws)
    tracker = Tracker(ws)
    versions = registry.list_versions("m") if registry.list_models() else []
    assert versions, "no registration finished: give the writer more time"
    for version in versions:
        assert registry.load(version).dtype == np.arange(1).dtype
    for run_id in tracker.search_runs()["run_id"]:
        for artifact in tracker.get_run(run_id).artifacts:
            assert len(tracker.get_artifact(run_id, artifact.name)) == artifact.size
    # Killed writers leave only temp files, which clean() removes.
    ws.clean(older_than=0.0)
    again = ws.verify()
    assert again.ok
    assert again.temp == ()
    assert set(again.unreferenced) == set(check.unreferenced)


REGISTRAR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlkit.versioning import ModelRegistry

    workspace, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    registry = ModelRegistry(workspace)
    while not go.exists():
        time.sleep(0.001)
    for i in range(10):
        version = registry.register("shared", {"worker": worker, "i": i})
        print(version.version)
        registry.set_alias("shared", "champion", version.version)
    """
)


def test_concurrent_registrations_get_distinct_versions(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    Workspace(workspace)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REGISTRAR, str(workspace), str(w), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    time.sleep(0.5)
    go.touch()
    numbers: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        numbers += [int(line) for line in out.split()]
    assert sorted(numbers) == list(range(1, 41))
    registry = ModelRegistry(workspace)
    loaded = [registry.load(v) for v in registry.list_versions("shared")]
    assert sorted((m["worker"], m["i"]) for m in loaded) == [
        (w, i) for w in range(4) for i in range(10)
    ]
    history = registry.alias_history("shared")
    assert len(history) == 40
    # The audit log chains: each change starts where the previous one ended.
    for before, after in itertools.pairwise(history):
        assert after.from_version == before.to_version
    assert registry.get_by_alias("shared", "champion").version == history[-1].to_version


def test_threads_share_a_tracker(tmp_path: Path) -> None:
    import threading

    tracker = Tracker(tmp_path / "ws", capture_environment=False)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with tracker.start_run(f"thread-{n}") as run:
                for i in range(100):
                    run.log_metric("m", i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runs = tracker.search_runs()
    assert len(runs) == 4
    assert set(runs["parent_id"].isna()) == {True}
    for run_id in runs["run_id"]:
        assert len(tracker.metric_history(run_id, "m")) == 100
