"""Several processes at once, and processes killed mid-write: nothing is lost or half-written."""

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
