import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    setup = (ROOT / "README.md").read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [line for block in _shell_blocks(setup) for line in block.splitlines() if line]
    assert len(commands) == 2
    assert "mlkit" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    """.ci/run and README cannot drift apart: the test command is the same line in both."""
    readme = (ROOT / "README.md").read_text()
    test_command = next(
        line for block in _shell_blocks(readme) for line in block.splitlines() if "pytest" in line
    )
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines
