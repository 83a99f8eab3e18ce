import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, ConflictError, DataError, MlkitError, NotFoundError
from mlkit.versioning import DatasetVersion, Run, Tracker, Workspace, hash_frame


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    return Tracker(tmp_path / "ws", clock=FakeClock(start=1_000.0))


def test_run_records_everything_and_finishes(tracker: Tracker) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    with tracker.start_run("fit", tags={"team": "risk"}) as run:
        run.log_params({"lr": 0.1, "depth": 3, "layers": [64, 32]})
        run.log_metric("loss", 0.9)
        run.log_metric("loss", 0.5)
        run.log_metrics({"acc": 0.8, "f1": 0.7}, step=5)
        run.set_tag("stage", "dev")
        version = run.log_dataset(df, role="train", source="s3://bucket/train.csv")
        record = run.log_artifact(b"hello", name="notes/readme.txt")
    info = tracker.get_run(run.id)
    assert info.status == "finished"
    assert info.end_time is not None
    assert info.error is None
    assert info.params == {"lr": "0.1", "depth": "3", "layers": "[64, 32]"}
    assert info.metrics == {"loss": 0.5, "acc": 0.8, "f1": 0.7}
    assert info.tags["team"] == "risk"
    assert info.tags["stage"] == "dev"
    assert info.tags["mlkit.python"]
    assert "mlkit.version.numpy" in info.tags
    assert info.datasets == (("train", version),)
    assert version.hash == hash_frame(df)
    assert version.source == "s3://bucket/train.csv"
    assert tracker.get_artifact(run.id, "notes/readme.txt") == b"hello"
    assert record.size == 5
    history = tracker.metric_history(run.id, "loss")
    assert history["step"].tolist() == [0, 1]
    assert history["value"].tolist() == [0.9, 0.5]
    json.dumps(info.to_dict())


def test_failed_run_keeps_error_text_and_exception_propagates(tracker: Tracker) -> None:
    def fail() -> None:
        with tracker.start_run("boom") as run:
            run.log_metric("x", 1.0)
            runs.append(run)
            1 / 0  # noqa: B018

    runs: list[Run] = []
    with pytest.raises(ZeroDivisionError):
        fail()
    (run,) = runs
    info = tracker.get_run(run.id)
    assert info.status == "failed"
    assert info.error is not None
    assert "ZeroDivisionError" in info.error
    assert info.metrics == {"x": 1.0}


def test_keyboard_interrupt_marks_killed(tracker: Tracker) -> None:
    with pytest.raises(KeyboardInterrupt), tracker.start_run() as run:
        raise KeyboardInterrupt
    assert tracker.get_run(run.id).status == "killed"


def test_nested_runs_get_parent(tracker: Tracker) -> None:
    with tracker.start_run("study") as outer:
        with tracker.start_run("trial") as inner:
            assert tracker.active_run() is inner
        with tracker.start_run("top", parent=None) as top:
            pass
        assert tracker.active_run() is outer
    assert tracker.active_run() is None
    assert tracker.get_run(inner.id).parent_id == outer.id
    assert tracker.get_run(top.id).parent_id is None
    assert tracker.get_run(outer.id).parent_id is None


def test_params_are_immutable_but_same_value_is_fine(tracker: Tracker) -> None:
    with tracker.start_run() as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)
        with pytest.raises(ConflictError, match=r"'lr'.*immutable"):
            run.log_param("lr", 0.2)
        # A failing batch writes nothing at all.
        with pytest.raises(ConflictError):
            run.log_params({"new": 1, "lr": 0.3})
    assert tracker.get_run(run.id).params == {"lr": "0.1"}


def test_nan_and_inf_metrics_round_trip(tracker: Tracker) -> None:
    with tracker.start_run() as run:
        run.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
        run.log_metric("np", np.float32(0.5))
        run.log_metric("patched", math.inf)  # a batch without NaN: the patch path
    metrics = tracker.get_run(run.id).metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf
    assert metrics["np"] == 0.5
    row = tracker.search_runs().iloc[0]
    assert row["metrics.inf"] == math.inf
    assert row["metrics.ninf"] == -math.inf
    assert row["metrics.patched"] == math.inf
    assert math.isnan(row["metrics.nan"])
    assert tracker.workspace.verify().ok


@pytest.mark.parametrize("value", ["0.5", None, [1.0], object()])
def test_bad_metric_value_names_key(tracker: Tracker, value: object) -> None:
    with tracker.start_run() as run, pytest.raises(DataError, match="metric 'acc'") as err:
        run.log_metric("acc", value)  # type: ignore[arg-type]
    assert err.value.column == "acc"


@pytest.mark.parametrize("key", ["", " acc", "a\x00b", "x" * 251, 3])
def test_bad_keys_rejected(tracker: Tracker, key: object) -> None:
    with tracker.start_run() as run, pytest.raises(DataError, match="key"):
        run.log_metric(key, 1.0)  # type: ignore[arg-type]


def test_latest_metric_is_highest_step(tracker: Tracker) -> None:
    with tracker.start_run() as run:
        run.log_metric("m", 3.0, step=10)
        run.log_metric("m", 1.0, step=2)  # an older step logged late
    assert tracker.get_run(run.id).metrics["m"] == 3.0
    assert tracker.metric_history(run.id, "m")["step"].tolist() == [2, 10]


def test_artifact_files_folders_and_conflicts(tracker: Tracker, tmp_path: Path) -> None:
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "sub" / "b.txt").write_text("B")
    single = tmp_path / "model-card.md"
    single.write_text("card")
    with tracker.start_run() as run:
        records = run.log_artifact(folder)
        assert isinstance(records, tuple)
        assert [r.name for r in records] == ["plots/a.txt", "plots/sub/b.txt"]
        run.log_artifact(single)
        run.log_artifact(single)  # same content under the same name: fine
        with pytest.raises(ConflictError, match=r"model-card\.md"):
            run.log_artifact(b"other", name="model-card.md")
        with pytest.raises(DataError, match="artifact name"):
            run.log_artifact(b"x", name="../escape")
        with pytest.raises(DataError, match="needs a name"):
            run.log_artifact(b"x")
        with pytest.raises(NotFoundError):
            run.log_artifact(tmp_path / "missing.bin")
    assert tracker.get_artifact(run.id, "plots/sub/b.txt") == b"B"
    with pytest.raises(NotFoundError, match="no artifact named"):
        tracker.get_artifact(run.id, "nope")


def test_log_dataset_accepts_manifest_and_rejects_other(tracker: Tracker) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0]})
    manifest = DatasetVersion.from_frame(df)
    with tracker.start_run() as run:
        assert run.log_dataset(manifest, role="test") == manifest
        with pytest.raises(DataError, match="DataFrame or a DatasetVersion"):
            run.log_dataset([1, 2, 3])
    assert tracker.get_run(run.id).datasets == (("test", manifest),)


def test_get_missing_run(tracker: Tracker) -> None:
    with pytest.raises(NotFoundError, match="no run with id 'nope'"):
        tracker.get_run("nope")


def test_environment_capture_can_be_disabled(tmp_path: Path) -> None:
    tracker = Tracker(tmp_path, capture_environment=False)
    with tracker.start_run(tags={"k": "v"}) as run:
        pass
    assert tracker.get_run(run.id).tags == {"k": "v"}


def test_git_commit_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from mlkit.versioning import _env

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.chdir(repo)
    _env.git_state.cache_clear()
    tracker = Tracker(tmp_path / "ws")
    with tracker.start_run() as run:
        pass
    tags = tracker.get_run(run.id).tags
    assert tags["mlkit.git.commit"] == head
    assert tags["mlkit.git.dirty"] == "false"
    _env.git_state.cache_clear()


def test_workspace_from_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLKIT_WORKSPACE", str(tmp_path / "from-env"))
    assert Workspace().path == tmp_path / "from-env"
    monkeypatch.delenv("MLKIT_WORKSPACE")
    monkeypatch.chdir(tmp_path)
    assert Workspace().path == tmp_path / "mlkit-workspace"


def test_database_is_wal(tracker: Tracker) -> None:
    path = tracker.workspace.path / "mlkit.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- search ----------------------------------------------------------------


@pytest.fixture
def populated(tmp_path: Path) -> Tracker:
    clock = FakeClock(start=0.0)
    tracker = Tracker(tmp_path / "ws", clock=clock, capture_environment=False)
    for i in range(12):
        clock.advance(1.0)
        run = tracker.start_run(f"run{i}", tags={"team": "a" if i % 2 else "b"})
        run.log_params({"lr": [0.1, 0.01, 0.001][i % 3], "model": "gbm" if i < 6 else "lr"})
        if i != 11:
            run.log_metrics({"acc": i / 10, "val loss": 1 - i / 20})
        run.end("failed" if i == 3 else "finished")
    return tracker


def test_search_all_newest_first(populated: Tracker) -> None:
    runs = populated.search_runs()
    assert runs["name"].tolist() == [f"run{i}" for i in reversed(range(12))]
    assert list(runs.columns[:7]) == [
        "run_id",
        "name",
        "status",
        "start_time",
        "end_time",
        "parent_id",
        "error",
    ]
    assert {"params.lr", "params.model", "metrics.acc", "metrics.val loss", "tags.team"} <= set(
        runs.columns
    )
    assert runs["metrics.acc"].dtype == np.float64
    assert runs.loc[runs["name"] == "run11", "metrics.acc"].isna().all()
    assert str(runs["start_time"].dtype).startswith("datetime64")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("metrics.acc > 0.85", {9, 10}),
        ("metrics.acc >= 0.9 and tags.team = 'a'", {9}),
        ("metrics.acc < 0.1 or params.model = 'lr' and metrics.acc > 0.95", {0, 10}),
        ("(metrics.acc < 0.1 or params.model = 'lr') and metrics.acc > 0.95", {10}),
        ("params.lr = '0.1' and status = 'finished'", {0, 6, 9}),
        ("params.lr < 0.05", {1, 2, 4, 5, 7, 8, 10, 11}),
        ("params.lr IN ('0.1', '0.001') and params.model = 'gbm'", {0, 2, 3, 5}),
        ("params.lr NOT IN ('0.1', '0.001') and params.model = 'gbm'", {1, 4}),
        ("status != 'finished'", {3}),
        ("attributes.status = 'failed'", {3}),
        ("name LIKE 'run1%'", {1, 10, 11}),
        ("name LIKE 'RUN1%'", set()),
        ("name ILIKE 'RUN1_'", {10, 11}),
        ('metrics."val loss" < 0.55', {10}),
        ("metrics.`val loss` < 0.55", {10}),
        ("metrics.acc IS NULL", {11}),
        ("not metrics.acc < 1.0", {10, 11}),
        ("tags.team = 'c'", set()),
        ("params.missing = 'x'", set()),
        ("METRICS.acc > 0.95 AND Tags.team = 'b'", {10}),
        ("metrics.acc > 1e-1 and metrics.acc < .25", {2}),
    ],
)
def test_search_filters(populated: Tracker, query: str, expected: set[int]) -> None:
    runs = populated.search_runs(query)
    assert {int(n[3:]) for n in runs["name"]} == expected


def test_search_filter_matches_brute_force(populated: Tracker) -> None:
    everything = populated.search_runs()

    @given(st.floats(-0.2, 1.2), st.sampled_from(["<", "<=", ">", ">=", "=", "!="]))
    def check(threshold: float, op: str) -> None:
        got = populated.search_runs(f"metrics.acc {op} {threshold!r}")
        acc = everything["metrics.acc"]
        mask = {
            "<": acc < threshold,
            "<=": acc <= threshold,
            ">": acc > threshold,
            ">=": acc >= threshold,
            "=": acc == threshold,
            "!=": (acc != threshold) & acc.notna(),
        }[op]
        assert set(got["run_id"]) == set(everything.loc[mask, "run_id"])

    check()


def test_search_order_and_limit(populated: Tracker) -> None:
    runs = populated.search_runs(order_by=["metrics.acc DESC"], max_results=3)
    assert runs["name"].tolist() == ["run10", "run9", "run8"]
    runs = populated.search_runs(order_by="metrics.acc")
    assert runs["name"].tolist()[:2] == ["run0", "run1"]
    assert runs["name"].tolist()[-1] == "run11"  # no metric: last either way
    runs = populated.search_runs(order_by=["params.model", "metrics.acc DESC"])
    assert runs["name"].tolist()[:2] == ["run5", "run4"]
    runs = populated.search_runs(order_by=["start_time ASC"], max_results=0)
    assert len(runs) == 0
    assert "run_id" in runs.columns


@pytest.mark.parametrize(
    "query",
    [
        "metrics.acc >",
        "metrics.acc > 'high'",
        "foo = 1",
        "metrics.acc >> 1",
        "metrics.acc > 1 and",
        "params.lr = 0.1 extra",
        "(metrics.acc > 1",
        "metrics.acc LIKE 3",
        "metrics.acc NOT 3",
        "metrics. > 1",
        "metrics.acc > 1; DROP TABLE runs",
    ],
)
def test_bad_filters_are_clear_errors(populated: Tracker, query: str) -> None:
    with pytest.raises(ConfigurationError, match=r"filter|parse|expected") as err:
        populated.search_runs(query)
    assert isinstance(err.value, MlkitError)
    assert len(populated.search_runs()) == 12


def test_values_cannot_inject_sql(populated: Tracker) -> None:
    runs = populated.search_runs("name = 'x'' OR 1=1 --'")
    assert runs.empty
    assert len(populated.search_runs()) == 12


def test_bad_order_and_max_results(populated: Tracker) -> None:
    with pytest.raises(ConfigurationError):
        populated.search_runs(order_by=["bogus DESC"])
    with pytest.raises(ConfigurationError, match="max_results"):
        populated.search_runs(max_results=-1)


def test_search_empty_workspace(tmp_path: Path) -> None:
    runs = Tracker(tmp_path).search_runs()
    assert runs.empty
    assert "run_id" in runs.columns


def test_verify_notices_search_copies_out_of_step(tracker: Tracker) -> None:
    with tracker.start_run() as run:
        run.log_params({"a": 1})
        run.log_metrics({"m": 1.0, "n": math.nan})
        run.log_metric("m", 2.0)
        run.set_tags({"t": "x"})
    assert tracker.workspace.verify().ok
    path = tracker.workspace.path / "mlkit.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET metrics = '{\"m\": 5.0}' WHERE run_id = ?", (run.id,))
    check = tracker.workspace.verify()
    assert not check.ok
    expected = f"run {run.id}: stored metrics differ from the latest_metrics table"
    assert check.database == (expected,)
