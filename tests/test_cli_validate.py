"""`mlkit validate DATA`: saved or inferred schemas, severities and exit codes."""

import json

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from mlkit.cli import main
from mlkit.validation import save_schema


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.uniform(1, 100, n).round(3),
            "items": rng.integers(1, 10, n),
            "plan": rng.choice(["free", "pro"], n),
        }
    )


@pytest.fixture
def ref(tmp_path):
    path = tmp_path / "ref.parquet"
    _frame().to_parquet(path, index=False)
    return str(path)


@pytest.fixture
def bad(tmp_path):
    """Data with an out-of-range amount and an unknown plan (errors)."""
    frame = _frame(50, seed=1)
    frame.loc[3, "amount"] = 10_000.0
    frame.loc[7, "plan"] = "enterprise"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_infer_save_then_validate_with_the_saved_schema(ref, bad, tmp_path, capsys):
    schema = tmp_path / "schema.json"
    argv = ["validate", ref, "--infer-from", ref, "--save-schema", str(schema)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"saved the inferred schema to {schema}" in captured.err
    assert "validation passed: 200 rows, no failures" in captured.out
    assert f"schema: inferred from {ref}, saved to {schema}" in captured.out
    assert json.loads(schema.read_text())["format"] == "mlkit.schema"
    assert main(["validate", ref, "--schema", str(schema)]) == 0
    assert main(["validate", bad, "--schema", str(schema)]) == 1
    out = capsys.readouterr().out
    assert "validation failed: 2 failures in 50 rows, worst 'error'" in out
    assert "column 'amount', in_range [error]" in out
    assert "column 'plan', isin [error]" in out


def test_yaml_schema_round_trip(ref, bad, tmp_path, capsys):
    pytest.importorskip("yaml")
    schema = tmp_path / "schema.yaml"
    assert main(["validate", ref, "--infer-from", ref, "--save-schema", str(schema)]) == 0
    assert main(["validate", bad, "--schema", str(schema), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "validation passed" in out  # the first run's table
    document = json.loads(out[out.index("{") :])
    assert document["max_severity"] == "error"


def test_json_output(ref, bad, tmp_path, capsys):
    argv = ["validate", bad, "--infer-from", ref, "--format", "json"]
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["data"] == {"path": bad, "rows": 50, "columns": 3}
    assert document["inferred_from"] == ref
    assert (document["passed"], document["n_failures"]) == (False, 2)
    assert {(c["column"], c["check"]) for c in document["counts"]} == {
        ("amount", "in_range"),
        ("plan", "isin"),
    }
    assert main([*argv, "--max-failures", "1"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert len(document["failures"]) == 1
    assert sum(c["n_failures"] for c in document["counts"]) == 2
    target = tmp_path / "report.json"
    assert main([*argv, "--output", str(target)]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text())["passed"] is False


@pytest.fixture
def severities(tmp_path):
    """A schema whose checks fail at chosen severities, and one data file per severity."""
    schema = pa.DataFrameSchema(
        {
            "x": pa.Column(float, pa.Check.le(10), metadata={"mlkit": {"severity": "warning"}}),
            "y": pa.Column(int, pa.Check.ge(0)),
            "z": pa.Column(float, pa.Check.ge(0), metadata={"mlkit": {"severity": "info"}}),
        }
    )
    path = tmp_path / "schema.json"
    save_schema(schema, path)
    data = {
        "clean": "x,y,z\n1.5,1,0.5\n",
        "info": "x,y,z\n1.5,1,-0.5\n",
        "warning": "x,y,z\n20.5,1,0.5\n",
        "error": "x,y,z\n1.5,-1,0.5\n",
        "critical": "x,z\n1.5,0.5\n",
    }
    files = {}
    for name, text in data.items():
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(text)
    return str(path), files


@pytest.mark.parametrize(
    ("data", "fail_on", "code"),
    [
        ("clean", "info", 0),
        ("info", "warning", 0),
        ("info", "info", 1),
        ("warning", "error", 0),
        ("warning", "warning", 1),
        ("warning", "never", 0),
        ("error", "critical", 0),
        ("error", "error", 1),
        ("critical", "critical", 1),
        ("critical", "never", 0),
    ],
)
def test_exit_code_by_severity(severities, capsys, data, fail_on, code):
    schema, files = severities
    assert main(["validate", str(files[data]), "--schema", schema, "--fail-on", fail_on]) == code
    out = capsys.readouterr().out
    if data != "clean":
        assert f"worst {data!r}" in out


def test_default_fail_on_is_error(severities):
    schema, files = severities
    assert main(["validate", str(files["warning"]), "--schema", schema]) == 0
    assert main(["validate", str(files["error"]), "--schema", schema]) == 1


def test_usage_errors(ref, tmp_path, capsys):
    for argv in (
        ["validate", ref],
        ["validate", ref, "--schema", "s.json", "--infer-from", ref],
        ["validate", ref, "--infer-from", ref, "--fail-on", "fatal"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("mlkit: error: mlkit validate: ")
    schema = tmp_path / "s.json"
    assert main(["validate", ref, "--schema", str(schema), "--save-schema", str(schema)]) == 2
    assert "--save-schema needs --infer-from" in capsys.readouterr().err


def test_input_errors_name_the_file(ref, tmp_path, capsys):
    assert main(["validate", ref, "--schema", str(tmp_path / "none.json")]) == 2
    assert "no such schema file: '" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["validate", ref, "--schema", str(tmp_path / "broken.json")]) == 2
    assert "broken.json' is not valid JSON" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "none.csv"), "--infer-from", ref]) == 2
    assert "no such file: '" in capsys.readouterr().err
    (tmp_path / "other.csv").write_text("q,r\n1,2\n")
    assert main(["validate", str(tmp_path / "other.csv"), "--infer-from", ref]) == 2
    err = capsys.readouterr().err
    assert "other.csv': " in err
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "cut.parquet").write_bytes(b"PAR1")
    assert main(["validate", ref, "--infer-from", str(tmp_path / "cut.parquet")]) == 2
    assert "cut.parquet' as Parquet" in capsys.readouterr().err


def _html_ready():
    try:
        from mlkit.reports import validation_html
        from mlkit.validation import validate

        schema = pa.DataFrameSchema({"a": pa.Column(int)})
        validation_html(validate(pd.DataFrame({"a": [1]}), schema))
    except NotImplementedError:
        return False
    return True


def test_html_report(ref, bad, tmp_path, capsys):
    if not _html_ready():
        pytest.skip("mlkit.reports.validation_html is not implemented yet (reports helper)")
    target = tmp_path / "validation.html"
    argv = ["validate", bad, "--infer-from", ref, "--format", "html", "-o", str(target)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert out.startswith("validation failed")
    assert f"wrote validation report to {target}" in out
    assert "amount" in target.read_text()
