"""The tutorial's test file (docs/examples/test_credit_model.py) passes as users would run it."""

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "test_credit_model.py"


def test_the_tutorial_test_file_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_credit_model=EXAMPLE.read_text())
    report = pytester.path / "mlkit-report.json"
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", f"--mlkit-report={report}"
    )
    result.assert_outcomes(passed=8)
    import json

    summary = json.loads(report.read_text())
    kinds = {check["kind"] for check in summary["checks"]}
    assert {"metric", "invariance", "directional", "fairness", "latency"} <= kinds
    assert all(check["passed"] for check in summary["checks"])
