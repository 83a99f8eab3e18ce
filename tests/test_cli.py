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
