"""The end-to-end demo, run once at small size: every stage and its key facts."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from mlkit.demo import DemoResult, StageResult, make_transactions, run_demo
from mlkit.demo import _run as demo_run
from mlkit.errors import ConfigurationError, NotFoundError
from mlkit.versioning import ModelRegistry, Tracker, Workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, str]:
    out = io.StringIO()
    workdir = tmp_path_factory.mktemp("demo") / "run"
    result = run_demo(workdir, seed=0, small=True, out=out, progress=False)
    return result, out.getvalue()


def test_every_stage_ran_and_behaved(demo: tuple[DemoResult, str]) -> None:
    """The small demo passes: seven stages, all ok, no failures."""
    result, _ = demo
    assert [s.name for s in result.stages] == list(demo_run.STAGES)
    assert result.failures == ()
    assert all(s.ok for s in result.stages), [s for s in result.stages if not s.ok]
    assert result.ok
    assert all(isinstance(s, StageResult) and s.seconds >= 0 for s in result.stages)


def test_narration_tells_the_story(demo: tuple[DemoResult, str]) -> None:
    """Every stage has a numbered line, and the log ends with the verdict and the paths."""
    result, text = demo
    for index, name in enumerate(demo_run.STAGES, 1):
        assert f"[{index}/7] {name}: " in text
    assert "demo ok: 7/7 stages" in text
    assert str(result.report_path) in text
    assert "RETRAIN" in text
    assert "ALERT [FIRING] FeatureDrift" in text


def test_data_stage_catches_planted_rows(demo: tuple[DemoResult, str]) -> None:
    """Validation catches every planted bad row, the clean batch passes, the hash is logged."""
    result, _ = demo
    facts = result["data"].facts
    assert set(facts["planted_rows"]) <= set(facts["caught_rows"])
    assert facts["clean_passes"] is True
    assert 0.02 < facts["fraud_rate"] < 0.05
    info = Tracker(result.workdir / "workspace").get_run(facts["run_id"])
    assert info.name == "prepare-data"
    assert facts["dataset_hash"] in {d.hash for _, d in info.datasets}


def test_gate_promotes_v1_then_v2(demo: tuple[DemoResult, str]) -> None:
    """v1 passes every gate check; the champion alias went v1, then v2, in the audit log."""
    result, _ = demo
    gate = result["gate"].facts
    assert gate["passed"]
    assert gate["promoted"]
    assert all(gate["checks"].values())
    assert len(gate["checks"]) == 6
    registry = ModelRegistry(result.workdir / "workspace")
    moves = [
        (c.from_version, c.to_version)
        for c in registry.alias_history("fraud")
        if c.alias == "champion"
    ]
    assert moves == [(None, 1), (1, 2)]


def test_drift_is_detected_only_after_the_wave(demo: tuple[DemoResult, str]) -> None:
    """No window before the injection drifted; windows after it did; alerts fired after."""
    result, _ = demo
    serve = result["serve"].facts
    before = set(serve["windows_before_injection"])
    drifted = set(serve["drifted_windows"])
    assert before
    assert drifted
    assert not before & drifted
    assert serve["first_drift_window"] == min(drifted)
    assert serve["alert_times"]["FeatureDrift"] > serve["inject_at"]
    assert all(t > serve["inject_at"] for t in serve["alert_times"].values())
    assert serve["recall_after"] < serve["recall_before"] - 0.05
    assert serve["schema_flags_new_category"] is True
    assert 0.05 < serve["canary_share"] < 0.15
    assert serve["canary_flag_rate"] > serve["champion_flag_rate_on_canary_users"]
    assert serve["canary_recall"] >= serve["champion_recall_on_canary_users"]


def test_controller_decides_to_retrain_for_drift_or_performance(
    demo: tuple[DemoResult, str],
) -> None:
    """The controller retrains after the wave, for a drift or performance reason."""
    result, _ = demo
    decide = result["decide"].facts
    assert decide["retrain"] is True
    assert decide["fired"]
    assert all(f.startswith(("drift(", "performance(")) for f in decide["fired"])
    assert decide["decided_at"] > result["serve"].facts["inject_at"]
    assert any("consecutive windows" in r or "recall" in r for r in decide["reasons"])


def test_challenger_passes_the_gate_and_rolls_out(demo: tuple[DemoResult, str]) -> None:
    """v2 passes the gate, the rollout completes, and the workdir's registry says champion = v2."""
    result, _ = demo
    retrain = result["retrain"].facts
    assert retrain["gate_passed"] is True
    assert retrain["rollout_state"] == "complete"
    assert retrain["rollout_actions"][-1] == "complete"
    assert retrain["v2"]["roc_auc"] > retrain["v1_on_recent"]["roc_auc"]
    registry = ModelRegistry(result.workdir / "workspace")
    assert registry.get_by_alias("fraud", "champion").version == 2
    with pytest.raises(NotFoundError):
        registry.get_by_alias("fraud", "challenger")
    assert registry.get_version("fraud", 2).tags["gate.passed"] == "true"
    assert registry.lineage("fraud", 2).run.name == "train-v2"


def test_report_and_summary_are_written(demo: tuple[DemoResult, str]) -> None:
    """report.html holds the charts; report.json parses and agrees with the result."""
    result, _ = demo
    assert result.report_path == result.workdir / "report.html"
    html = result.report_path.read_text(encoding="utf-8")
    assert "the life of a fraud model" in html
    assert html.count("<svg") >= 3
    assert "crypto" in (result.workdir / "drift.html").read_text(encoding="utf-8")
    assert "casino" in (result.workdir / "validation.html").read_text(encoding="utf-8")
    summary = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert summary["ok"] is True
    assert [s["name"] for s in summary["stages"]] == list(demo_run.STAGES)
    assert summary["seed"] == 0
    assert summary["windows"]
    times = [e["time"] for e in summary["events"]]
    assert times == sorted(times)
    assert any("fraud wave starts" in e["what"] for e in summary["events"])
    assert summary["rollout_weights"][-1][1] == 1.0


def test_workspace_verifies(demo: tuple[DemoResult, str]) -> None:
    """The workspace the demo leaves behind passes Workspace.verify()."""
    result, _ = demo
    check = Workspace(result.workdir / "workspace").verify()
    assert check.ok, str(check)
    assert check.checked >= 3


def test_same_seed_same_decisions(demo: tuple[DemoResult, str], tmp_path) -> None:
    """A second run with the same seed reaches the same facts, stage by stage (up to decide)."""
    result, _ = demo
    again = demo_run._run(
        tmp_path / "again",
        seed=0,
        small=True,
        out=io.StringIO(),
        progress=False,
        stop_after="decide",
    )
    for stage in ("data", "train", "gate", "serve", "decide"):
        first = {k: v for k, v in result[stage].facts.items() if k != "run_id"}
        second = {k: v for k, v in again[stage].facts.items() if k != "run_id"}
        assert first == second, stage
    assert not again.ok  # it stopped early, so it is not a complete demo


def test_a_failing_gate_makes_the_demo_fail(monkeypatch, tmp_path) -> None:
    """An impossible latency budget fails the gate; the demo goes on, and ok is False."""
    monkeypatch.setattr(demo_run, "LATENCY_BUDGET", 1e-9)
    out = io.StringIO()
    result = demo_run._run(
        tmp_path / "d", seed=0, small=True, out=out, progress=False, stop_after="serve"
    )
    assert not result.ok
    assert not result["gate"].ok
    assert result["serve"].ok  # served v1 without the champion alias
    assert "as no champion was promoted" in out.getvalue()
    assert result["gate"].facts["failed"] == ["latency.p99"]
    assert any("latency.p99" in f for f in result.failures)
    assert "UNEXPECTED: the gate rejected v1" in out.getvalue()
    assert "demo FAILED" in out.getvalue()
    assert json.loads(result.json_path.read_text(encoding="utf-8"))["ok"] is False


def test_a_stage_that_raises_skips_its_dependents(monkeypatch, tmp_path) -> None:
    """Training that raises fails its stage, skips gate and serve, and the demo goes on."""

    def broken(**kwargs: object) -> object:
        raise RuntimeError("no GPU today")

    monkeypatch.setattr(demo_run, "make_model", broken)
    result = demo_run._run(
        tmp_path / "d", seed=0, small=True, out=io.StringIO(), progress=False, stop_after="serve"
    )
    assert not result.ok
    assert result["data"].ok
    assert not result["train"].ok
    assert "no GPU today" in result["train"].detail
    assert result["gate"].detail.startswith("skipped")
    assert result["serve"].detail.startswith("skipped")


def test_workdir_with_foreign_files_is_refused(tmp_path) -> None:
    """A folder holding files the demo did not create is refused and left untouched."""
    (tmp_path / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"thesis\.tex"):
        run_demo(tmp_path, small=True, out=io.StringIO(), progress=False)
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "precious"
    file = tmp_path / "thesis.tex"
    with pytest.raises(ConfigurationError, match="is a file"):
        run_demo(file, small=True, out=io.StringIO(), progress=False)


def test_rerun_replaces_an_earlier_demo_workdir(tmp_path) -> None:
    """Running again into a demo folder replaces its contents cleanly."""
    workdir = tmp_path / "d"
    for attempt in range(2):
        if attempt:  # an interrupted write of the earlier run is the demo's too
            (workdir / ".report.html.x1.tmp").write_text("half", encoding="utf-8")
        result = demo_run._run(
            workdir, seed=0, small=True, out=io.StringIO(), progress=False, stop_after="data"
        )
        assert result["data"].ok
    runs = Tracker(workdir / "workspace").search_runs()
    assert list(runs["name"]) == ["prepare-data"]
    assert sorted(p.name for p in workdir.iterdir()) == [
        ".mlkit-demo",
        "data",
        "report.json",
        "schema.json",
        "workspace",
    ]


def test_bad_arguments_are_refused(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="seed"):
        run_demo(tmp_path / "d", seed=-1, out=io.StringIO())
    with pytest.raises(ConfigurationError, match="stage"):
        demo_run._run(
            tmp_path / "d", seed=0, small=True, out=None, progress=False, stop_after="nope"
        )
    empty = DemoResult(
        ok=True, stages=(), workdir=tmp_path, report_path=tmp_path, json_path=tmp_path
    )
    with pytest.raises(NotFoundError):
        empty["data"]


# --- make_transactions --------------------------------------------------------------


def test_transactions_have_the_documented_columns() -> None:
    frame = make_transactions(3_000, seed=3)
    assert list(frame.columns) == [
        "txn_id",
        "user_id",
        "amount",
        "merchant_category",
        "hour",
        "txn_count_7d",
        "avg_amount_30d",
        "account_age_days",
        "age_group",
        "is_fraud",
    ]
    assert frame["txn_id"].is_unique
    assert frame["amount"].gt(0).all()
    assert frame["hour"].between(0, 23).all()
    assert frame["account_age_days"].gt(0).all()
    assert set(frame["is_fraud"].unique()) == {0, 1}
    assert set(frame["age_group"].unique()) == {"18-25", "26-40", "41-60", "60+"}
    assert pd.api.types.is_integer_dtype(frame["txn_count_7d"])
    assert pd.api.types.is_float_dtype(frame["amount"])


def test_base_rate_is_realistic() -> None:
    rates = [make_transactions(20_000, seed=s)["is_fraud"].mean() for s in range(3)]
    assert all(0.02 < r < 0.05 for r in rates), rates


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    pd.testing.assert_frame_equal(make_transactions(500, seed=9), make_transactions(500, seed=9))
    assert not make_transactions(500, seed=9).equals(make_transactions(500, seed=10))


def test_drift_changes_the_distribution_and_the_fraud() -> None:
    calm = make_transactions(20_000, seed=4)
    wave = make_transactions(20_000, seed=4, drift=1.0)
    half = make_transactions(20_000, seed=4, drift=0.5)
    assert wave["amount"].median() > 1.2 * calm["amount"].median()
    assert "crypto" not in set(calm["merchant_category"])
    share = wave["merchant_category"].eq("crypto").mean()
    assert 0.1 < share < 0.2
    assert 0 < half["merchant_category"].eq("crypto").mean() < share
    assert wave["account_age_days"].median() > calm["account_age_days"].median()
    assert wave["is_fraud"].mean() > 1.5 * calm["is_fraud"].mean()
    crypto_rate = wave.loc[wave["merchant_category"] == "crypto", "is_fraud"].mean()
    assert crypto_rate > 3 * calm["is_fraud"].mean()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be"),
        ({"n": 2.5}, "n must be"),
        ({"n": 10, "drift": 1.5}, "drift must be"),
        ({"n": 10, "drift": float("nan")}, "drift must be"),
        ({"n": 10, "drift": True}, "drift must be"),
    ],
)
def test_bad_generator_arguments(kwargs: dict[str, object], match: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(ConfigurationError, match=match):
        make_transactions(n, **kwargs)  # type: ignore[arg-type]


def test_fraud_follows_the_known_logit() -> None:
    """Rows the logit rates riskier are fraud more often (the label really follows it)."""
    from mlkit.demo._data import fraud_logit

    frame = make_transactions(30_000, seed=5)
    logit = fraud_logit(frame)
    top = frame["is_fraud"][logit > np.quantile(logit, 0.9)].mean()
    bottom = frame["is_fraud"][logit < np.quantile(logit, 0.5)].mean()
    assert top > 5 * bottom


def test_missing_report_extra_fails_before_anything_runs(monkeypatch, tmp_path) -> None:
    import sys

    from mlkit.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "jinja2", None)  # as if the extra were not installed
    workdir = tmp_path / "demo"
    with pytest.raises(MissingDependencyError, match=r"mlkit\[report\]"):
        run_demo(workdir, small=True, out=io.StringIO(), progress=False)
    assert not workdir.exists()


def test_demo_report_in_chromium(demo: tuple[DemoResult, str], browser, artifact_dir) -> None:
    """The report a new user opens first renders cleanly: every stage, charts, no errors."""
    from browser_support import open_file

    result, _ = demo
    with open_file(browser, result.report_path, screenshot=artifact_dir / "demo.png") as loaded:
        page = loaded.page
        titles = page.eval_on_selector_all("section.card h2", "hs => hs.map(h => h.textContent)")
        assert len(titles) >= len(demo_run.STAGES)
        assert any("Timeline" in t for t in titles)
        assert page.locator("section.card svg").count() >= 3
        timeline = page.locator("section.card").first.locator("tbody tr")
        assert timeline.count() >= 10
        assert "champion" in page.locator("body").inner_text()
        assert loaded.problems() == []
