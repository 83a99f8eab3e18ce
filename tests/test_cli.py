import subprocess
import sys

import pytest

import mlkit
from mlkit.cli import main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlkit {mlkit.__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: mlkit" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["mlkit", "--help"], [sys.executable, "-m", "mlkit", "--help"]])
def test_console_script_and_module_entry_points(argv):
    """The installed `mlkit` script and `python -m mlkit` both run."""
    if argv[0] == "mlkit":
        import shutil
        from pathlib import Path

        script = Path(sys.executable).with_name("mlkit")
        argv = [str(script) if script.exists() else shutil.which("mlkit") or "mlkit", "--help"]
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert "usage: mlkit" in result.stdout


@pytest.fixture
def workspace(tmp_path):
    from mlkit.versioning import ModelRegistry, Tracker

    path = tmp_path / "ws"
    tracker = Tracker(path, capture_environment=False)
    registry = ModelRegistry(path, user="ci")
    for i, acc in enumerate([0.7, 0.9]):
        with tracker.start_run(f"trial-{i}") as run:
            run.log_param("depth", i + 2)
            run.log_metric("acc", acc)
            registry.register("fraud", {"depth": i + 2}, run=run)
    registry.set_alias("fraud", "champion", 1)
    return path


def test_runs_command_filters_and_formats(workspace, capsys):
    import json

    assert main(["runs", "--workspace", str(workspace), "metrics.acc > 0.8"]) == 0
    out = capsys.readouterr().out
    assert "trial-1" in out
    assert "trial-0" not in out
    assert "metrics.acc" in out
    argv = ["runs", "-w", str(workspace), "--order-by", "metrics.acc", "--format", "json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["trial-0", "trial-1"]
    argv = ["runs", "-w", str(workspace), "--columns", "name", "params.depth", "--format", "csv"]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[0] == "name,params.depth"


def test_runs_command_errors_are_one_line(workspace, tmp_path, capsys):
    assert main(["runs", "-w", str(workspace), "metrics.acc >"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlkit: error: cannot parse run filter")
    assert "Traceback" not in err
    assert main(["runs", "-w", str(tmp_path / "nowhere")]) == 2
    assert "no mlkit workspace" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
    assert main(["runs", "-w", str(workspace), "--columns", "bogus"]) == 2
    assert "no column 'bogus'" in capsys.readouterr().err


def test_models_commands(workspace, capsys):
    w = ["-w", str(workspace)]
    assert main(["models", "list", *w]) == 0
    assert capsys.readouterr().out.strip() == "fraud: 2 versions, latest v2; @champion -> v1"
    assert main(["models", "alias", *w, "fraud", "champion", "2"]) == 0
    assert main(["models", "alias", *w, "fraud", "old", "1"]) == 0
    assert main(["models", "alias", *w, "fraud", "old", "--delete"]) == 0
    capsys.readouterr()
    assert main(["models", "versions", *w, "fraud"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("v1 ")
    assert lines[1].endswith("@champion")
    assert main(["models", "history", *w, "fraud"]) == 0
    history = capsys.readouterr().out.splitlines()
    assert [h.split("  ")[1:3] for h in history] == [
        ["fraud@champion", "- -> v1"],
        ["fraud@champion", "v1 -> v2"],
        ["fraud@old", "- -> v1"],
        ["fraud@old", "v1 -> -"],
    ]
    assert main(["models", "lineage", *w, "models:/fraud@champion"]) == 0
    assert "<- run 'trial-1'" in capsys.readouterr().out
    assert main(["models", "lineage", *w, "models:/fraud/9"]) == 2
    assert "no version 9" in capsys.readouterr().err
    assert main(["models", "alias", *w, "fraud", "x"]) == 2


def test_workspace_verify_exit_codes(workspace, capsys):
    import os

    assert main(["workspace", "verify", "-w", str(workspace), "--clean"]) == 0
    assert "workspace ok" in capsys.readouterr().out
    blob = next(p for p in (workspace / "artifacts" / "sha256").rglob("*") if p.is_file())
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered")
    assert main(["workspace", "verify", "-w", str(workspace)]) == 1
    assert "corrupt artifact: sha256:" in capsys.readouterr().out


def test_runs_list_and_bare_runs_are_the_same(workspace, capsys):
    """`mlkit runs [FILTER]` still lists: it means `mlkit runs list [FILTER]`."""
    outputs = []
    for argv in (
        ["runs", "-w", str(workspace), "metrics.acc > 0.8"],
        ["runs", "list", "-w", str(workspace), "metrics.acc > 0.8"],
        ["runs", "-w", str(workspace), "list", "metrics.acc > 0.8"],
    ):
        assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "trial-1" in outputs[0]
    assert "trial-0" not in outputs[0]
    assert main(["runs", "-w", str(workspace)]) == 0
    assert "trial-0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["runs"], ["runs", "list"]),
        (["runs", "x > 1"], ["runs", "list", "x > 1"]),
        (["runs", "-w", "ws"], ["runs", "list", "-w", "ws"]),
        (["runs", "-w", "ws", "show", "abc"], ["runs", "show", "-w", "ws", "abc"]),
        (["runs", "--format", "json", "list"], ["runs", "list", "--format", "json"]),
        (["runs", "--columns", "a", "b"], ["runs", "list", "--columns", "a", "b"]),
        (["runs", "show", "abc"], ["runs", "show", "abc"]),
        (["runs", "--help"], ["runs", "--help"]),
        (["models", "list"], ["models", "list"]),
        (["drift", "runs", "b"], ["drift", "runs", "b"]),
    ],
)
def test_runs_without_an_action_means_list(argv, expected):
    from mlkit.cli import _with_runs_action

    assert _with_runs_action(argv) == expected


@pytest.fixture
def rich_workspace(tmp_path):
    """A run with params, metric history, tags, a dataset and an artifact, registered twice."""
    import pandas as pd

    from mlkit.versioning import ModelRegistry, Tracker

    path = tmp_path / "rich"
    tracker = Tracker(path, capture_environment=False)
    registry = ModelRegistry(path, user="ci")
    with tracker.start_run("train") as run:
        run.log_params({"depth": 3, "lr": 0.1})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            run.log_metric("loss", loss, step=step)
        run.set_tag("team", "fraud")
        run.log_dataset(pd.DataFrame({"a": [1, 2, 3]}), "train", source="train.csv")
        run.log_artifact(b"# model card\n", name="card.md")
        registry.register("fraud", {"depth": 3}, run=run, description="first model")
        registry.register("fraud", {"depth": 4}, run=run, tags={"stage": "test"})
    registry.set_alias("fraud", "champion", 1)
    return path, run.id


def test_runs_show(rich_workspace, capsys):
    import json

    path, run_id = rich_workspace
    assert main(["runs", "show", "-w", str(path), run_id]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run 'train' ({run_id})\nstatus:   finished\n")
    for line in (
        "  depth = 3",
        "  lr = 0.1",
        "metrics (latest):\n  loss = 0.25",
        "tags:\n  team = fraud",
        "datasets:\n  train: sha256:",
        "(3 x 1) from train.csv",
        "artifacts:\n  card.md: sha256:",
        "(13 bytes)",
    ):
        assert line in out
    assert main(["runs", "-w", str(path), "show", run_id[:8], "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["run_id"] == run_id
    assert document["metrics"] == {"loss": 0.25}
    assert document["artifacts"][0]["name"] == "card.md"
    assert main(["runs", "show", "-w", str(path), "nope"]) == 2
    assert capsys.readouterr().err.startswith("mlkit: error: ")


def test_models_show(rich_workspace, capsys):
    import json

    path, run_id = rich_workspace
    w = ["-w", str(path)]
    assert main(["models", "show", *w, "fraud"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:3] == [
        "model fraud: 2 versions, latest v2",
        "aliases: @champion -> v1",
        "versions:",
    ]
    assert lines[3].startswith("  v1  ")
    assert lines[3].endswith("@champion")
    assert "version 2 (latest):" in out
    assert "  tag stage = test" in out
    assert f"  <- run 'train' ({run_id}, finished)" in out
    assert "  <- train data sha256:" in out
    assert "  run metrics: loss=0.25" in out
    for target in ("models:/fraud@champion", "fraud/1", "models:/fraud/1"):
        assert main(["models", "show", *w, target]) == 0
        out = capsys.readouterr().out
        assert "version 1 (selected):" in out
        assert "description: first model" in out
    assert main(["models", "show", *w, "fraud", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["aliases"] == {"champion": 1}
    assert [v["version"] for v in document["versions"]] == [1, 2]
    assert document["version"]["version"] == 2
    assert document["lineage"]["run"]["run_id"] == run_id
    assert main(["models", "show", *w, "nope"]) == 2
    assert capsys.readouterr().err == "mlkit: error: no registered model 'nope'\n"
    assert main(["models", "show", *w, "models:/fraud/7"]) == 2
    assert "no version 7" in capsys.readouterr().err


def test_demo_command_exit_codes(monkeypatch, tmp_path, capsys):
    """`mlkit demo` passes its options to run_demo and exits 1 when a stage failed."""
    import types

    calls = []

    def fake_run_demo(workdir="mlkit-demo", *, seed=0, small=False, out=None, progress=True):
        calls.append({"workdir": workdir, "seed": seed, "small": small, "progress": progress})
        out.write("demo narration\n")
        return types.SimpleNamespace(ok=seed != 13)

    module = types.ModuleType("mlkit.demo")
    module.run_demo = fake_run_demo
    monkeypatch.setitem(sys.modules, "mlkit.demo", module)
    argv = ["demo", "--workdir", str(tmp_path), "--seed", "3", "--small", "--no-progress"]
    assert main(argv) == 0
    assert calls[-1] == {"workdir": str(tmp_path), "seed": 3, "small": True, "progress": False}
    assert capsys.readouterr().out == "demo narration\n"
    assert main(["demo", "--seed", "13"]) == 1
    assert calls[-1] == {"workdir": "mlkit-demo", "seed": 13, "small": False, "progress": True}


def test_drift_through_the_installed_entry_point(tmp_path):
    """One real process: `python -m mlkit drift` exit codes and streams."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(0, 1, 300)}).to_csv(tmp_path / "ref.csv", index=False)
    pd.DataFrame({"x": rng.normal(2, 1, 200)}).to_parquet(tmp_path / "cur.parquet")
    argv = [sys.executable, "-m", "mlkit", "drift", "ref.csv", "cur.parquet", "--fail-on-drift"]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 1, result.stderr
    assert "drift detected: 1 of 1 tested columns drifted" in result.stdout
    assert result.stderr == ""
    argv[4] = "missing.csv"
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr == "mlkit: error: no such file: 'missing.csv'\n"


@pytest.mark.parametrize(("error", "code"), [(KeyboardInterrupt, 130), (BrokenPipeError, 141)])
def test_interrupt_and_closed_pipe_exit_quietly(monkeypatch, capsys, error, code):
    from mlkit import cli

    def handler(args):
        raise error

    monkeypatch.setattr(cli, "_drift", handler)
    assert main(["drift", "a.csv", "b.csv"]) == code
    assert "Traceback" not in capsys.readouterr().err
