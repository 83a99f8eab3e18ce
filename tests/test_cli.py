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
