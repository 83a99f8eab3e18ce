"""Tests of the promotion gate: checks, verdicts, registry promotion and its guards."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, ConflictError, DataError, NotFoundError
from mlkit.retraining import (
    BehavioralCheck,
    CheckOutcome,
    FairnessCheck,
    GateResult,
    LatencyCheck,
    MetricThreshold,
    NotSignificantlyWorse,
    PromotionGate,
)
from mlkit.testing import add_noise
from mlkit.versioning import ModelRegistry

N = 1200


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame(
        {
            "x0": rng.normal(size=N),
            "x1": rng.normal(size=N),
            # The group is independent of the label, so a fair model ignores it.
            "segment": rng.integers(0, 2, size=N).astype(float),
        }
    )
    y = (X["x0"] + 0.3 * rng.normal(size=N) > 0).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def models(data: tuple[pd.DataFrame, np.ndarray[Any, Any]]) -> dict[str, Any]:
    X, y = data
    group = X["segment"].to_numpy() == 1
    # Trained on labels where group 1 is always positive: accurate on group 0,
    # always selects group 1, so its demographic parity difference is large.
    biased_labels = np.where(group, 1, y)
    return {
        "good": LogisticRegression().fit(X, y),
        "weak": LogisticRegression().fit(X[["x1", "segment"]].assign(x0=0.0)[X.columns], y),
        "dummy": DummyClassifier().fit(X, y),
        "biased": LogisticRegression().fit(X, biased_labels),
    }


def standard_gate() -> PromotionGate:
    return PromotionGate(
        [
            MetricThreshold("accuracy", threshold=0.6, min_absolute_change=0.0),
            NotSignificantlyWorse("accuracy", n_boot=300),
            FairnessCheck("segment", max_difference=0.1),
            BehavioralCheck(add_noise("x1", 0.01), options={"max_failure_rate": 0.05}),
        ]
    )


# --- evaluate ----------------------------------------------------------------


def test_better_model_passes_every_check(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    result = standard_gate().evaluate(models["good"], models["dummy"], X, y)
    assert result.passed, str(result)
    assert result.failed == ()
    threshold = result["metric_threshold.accuracy"].numbers
    assert threshold["candidate"] > 0.85
    assert threshold["champion"] < 0.6
    assert threshold["improvement"] == pytest.approx(
        threshold["candidate"] - threshold["champion"]
    )
    assert result["not_worse.accuracy"].numbers["ci_low"] > 0
    json.dumps(result.to_dict())  # JSON-safe
    assert list(result.to_frame().columns) == ["name", "passed", "message"]
    assert "passed=True" in repr(result)


def test_worse_model_fails_with_numbers(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    result = standard_gate().evaluate(models["weak"], models["good"], X, y)
    assert not result.passed
    assert "metric_threshold.accuracy" in result.failed
    assert "not_worse.accuracy" in result.failed
    worse = result["not_worse.accuracy"]
    assert worse.numbers["ci_high"] < 0
    assert "significantly worse" in worse.message
    assert "FAILED" in str(result)


def test_fairness_regression_fails(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    gate = PromotionGate([FairnessCheck("segment", max_difference=0.1, max_regression=0.02)])
    fair = gate.evaluate(models["good"], models["dummy"], X, y)
    assert fair.passed, str(fair)
    result = gate.evaluate(models["biased"], models["good"], X, y)
    assert not result.passed
    outcome = result["fairness.demographic_parity_difference"]
    assert outcome.numbers["candidate"] > 0.1
    assert outcome.numbers["regression"] > 0.02
    assert outcome.numbers["max_difference"] == 0.1
    assert "FAILED" in outcome.message
    assert "worse than the champion" in outcome.message


def test_fairness_regression_alone_fails_within_the_absolute_bound(
    data: Any, models: dict[str, Any]
) -> None:
    X, y = data
    # A loose absolute bound passes the biased model; the regression bound catches it.
    check = FairnessCheck("segment", max_difference=0.9, max_regression=0.02)
    assert check.evaluate(models["biased"], None, X, y).passed
    assert not check.evaluate(models["biased"], models["good"], X, y).passed


def test_fairness_with_sensitive_argument(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    gate = PromotionGate([FairnessCheck(max_difference=0.1)])
    result = gate.evaluate(models["biased"], None, X, y, sensitive=X["segment"].to_numpy())
    assert not result.passed
    with pytest.raises(ConfigurationError, match="sensitive"):
        gate.evaluate(models["good"], None, X, y)
    with pytest.raises(DataError, match="nope"):
        FairnessCheck("nope").evaluate(models["good"], None, X, y)


def test_metric_threshold_mlflow_semantics(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    good, dummy = models["good"], models["dummy"]
    accuracy = MetricThreshold("accuracy", threshold=0.5).evaluate(good, dummy, X, y).numbers
    gain = accuracy["improvement"]
    relative = accuracy["relative_improvement"]
    assert relative == pytest.approx(gain / accuracy["champion"])
    assert (
        MetricThreshold("accuracy", min_absolute_change=gain - 1e-9)
        .evaluate(good, dummy, X, y)
        .passed
    )
    assert (
        not MetricThreshold("accuracy", min_absolute_change=gain + 1e-9)
        .evaluate(good, dummy, X, y)
        .passed
    )
    assert (
        MetricThreshold("accuracy", min_relative_change=relative - 1e-9)
        .evaluate(good, dummy, X, y)
        .passed
    )
    assert (
        not MetricThreshold("accuracy", min_relative_change=relative + 1e-9)
        .evaluate(good, dummy, X, y)
        .passed
    )
    # Lower is better: log_loss of the good model is below the dummy's.
    loss = MetricThreshold("log_loss", threshold=0.5, min_absolute_change=0.1)
    outcome = loss.evaluate(good, dummy, X, y)
    assert outcome.passed
    assert outcome.numbers["greater_is_better"] is False
    assert outcome.numbers["improvement"] > 0.1
    assert not loss.evaluate(dummy, good, X, y).passed


def test_metric_threshold_callable_and_direction(data: Any, models: dict[str, Any]) -> None:
    X, y = data

    def zero_one_error(y_true: Any, y_pred: Any) -> float:
        return float(np.mean(y_true != y_pred))

    check = MetricThreshold(zero_one_error, threshold=0.2)
    assert check.name == "metric_threshold.zero_one_error"
    assert check.evaluate(models["good"], None, X, y).passed
    # Explicit direction overrides a callable's name...
    flipped = MetricThreshold(zero_one_error, threshold=0.2, greater_is_better=True)
    assert not flipped.evaluate(models["good"], None, X, y).passed
    # ...but contradicting a scorer's fixed sign is a configuration error.
    with pytest.raises(ConfigurationError, match="greater_is_better"):
        MetricThreshold("log_loss", threshold=1, greater_is_better=True).evaluate(
            models["good"], None, X, y
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"threshold": float("nan")},
        {"min_absolute_change": -1.0},
        {"min_relative_change": math.inf},
    ],
)
def test_metric_threshold_rejects_bad_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        MetricThreshold("accuracy", **kwargs)


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="alpha"):
        NotSignificantlyWorse(alpha=0.5)
    with pytest.raises(ConfigurationError, match="parity"):
        FairnessCheck("segment", metric="accuracy")
    with pytest.raises(ConfigurationError, match="kind"):
        BehavioralCheck(add_noise("x1", 1.0), kind="sideways")
    with pytest.raises(ConfigurationError, match="p99_below"):
        LatencyCheck(p99_below=0)
    with pytest.raises(ConfigurationError, match="at least one"):
        PromotionGate([])
    with pytest.raises(ConfigurationError, match="unique"):
        PromotionGate([MetricThreshold("accuracy", threshold=0.5)] * 2)
    with pytest.raises(ConfigurationError, match="not a gate check"):
        PromotionGate([object()])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="name this metric"):
        MetricThreshold(lambda a, b: 0.0, threshold=0.5)


def test_no_champion_keeps_absolute_bounds(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    gate = standard_gate()
    first = gate.evaluate(models["good"], None, X, y)
    assert first.passed
    assert first["not_worse.accuracy"].numbers["champion"] is None
    assert "skipped" in first["metric_threshold.accuracy"].message
    # The threshold still applies without a champion.
    assert not gate.evaluate(models["dummy"], None, X, y).passed


def test_self_comparison_refused_in_evaluate(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    with pytest.raises(ConflictError, match="itself"):
        standard_gate().evaluate(models["good"], models["good"], X, y)


def test_behavioral_checks(data: Any, models: dict[str, Any]) -> None:
    X, y = data
    invariance = BehavioralCheck(add_noise("x0", 5.0), options={"max_failure_rate": 0.05})
    outcome = invariance.evaluate(models["good"], models["dummy"], X, y)
    assert not outcome.passed  # x0 drives the label: heavy noise flips predictions
    assert outcome.numbers["champion_failure_rate"] == 0.0  # the dummy ignores x0
    assert outcome.numbers["n_failed"] > 0

    def more_x0(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(x0=frame["x0"] + 1.0)

    directional = BehavioralCheck(
        more_x0, kind="directional", options={"expect": "non_decrease"}, name="x0_up"
    )
    assert directional.name == "x0_up"
    assert directional.evaluate(models["good"], None, X, y).passed


def test_latency_check_with_fake_timer(data: Any, models: dict[str, Any]) -> None:
    X, _ = data
    ticks = iter(np.arange(0.0, 10.0, 0.001))

    def timer() -> float:
        return float(next(ticks))  # every call takes exactly 1 ms

    outcome = LatencyCheck(p99_below=0.002, n=20, warmup=0, timer=timer).evaluate(
        models["good"], None, X, None
    )
    assert outcome.passed
    assert outcome.numbers["p99"] == pytest.approx(0.001)
    slow = LatencyCheck(p99_below=0.0005, n=20, warmup=0, timer=timer, name="fast")
    failed = slow.evaluate(models["good"], None, X, None)
    assert not failed.passed
    assert failed.name == "fast"


def test_custom_check_is_accepted(data: Any, models: dict[str, Any]) -> None:
    X, y = data

    class Always:
        name = "always"

        def evaluate(
            self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
        ) -> CheckOutcome:
            return CheckOutcome("always", True, {"value": np.float64(1.5)}, "fine")

    result = PromotionGate([Always()]).evaluate(models["good"], None, X, y)
    assert result.passed
    assert result["always"].numbers == {"value": 1.5}
    with pytest.raises(NotFoundError):
        result["missing"]


# --- promote -----------------------------------------------------------------


@pytest.fixture
def registry(tmp_path: Any) -> ModelRegistry:
    return ModelRegistry(tmp_path / "ws", clock=FakeClock(start=1_000.0), user="tester")


def test_promote_moves_alias_only_on_pass(
    registry: ModelRegistry, data: Any, models: dict[str, Any]
) -> None:
    X, y = data
    gate = standard_gate()
    dummy = registry.register("clf", models["dummy"]).version
    good = registry.register("clf", models["good"]).version
    weak = registry.register("clf", models["weak"]).version
    registry.set_alias("clf", "champion", dummy)

    rejected = gate.promote(registry, "clf", weak, X=X, y=y)
    assert not rejected.passed
    assert not rejected.promoted
    assert registry.get_by_alias("clf", "champion").version == dummy
    tags = registry.get_version("clf", weak).tags
    assert tags["gate.passed"] == "false"
    assert tags["gate.metric_threshold.accuracy"] == "failed"
    assert tags["gate.champion_version"] == str(dummy)
    assert json.loads(tags["gate.result"])["passed"] is False

    promoted = gate.promote(registry, "clf", good, X=X, y=y)
    assert promoted.passed
    assert promoted.promoted
    assert (promoted.candidate_version, promoted.champion_version) == (good, dummy)
    assert registry.get_by_alias("clf", "champion").version == good
    assert registry.get_version("clf", good).tags["gate.passed"] == "true"
    moves = [(c.from_version, c.to_version) for c in registry.alias_history("clf")]
    assert moves == [(None, dummy), (dummy, good)]  # the rejection moved nothing
    assert "promoted" in str(promoted)


def test_promote_refuses_self_comparison(
    registry: ModelRegistry, data: Any, models: dict[str, Any]
) -> None:
    X, y = data
    gate = standard_gate()
    first = registry.register("clf", models["good"]).version
    # The same model registered again: same bytes, same artifact key.
    again = registry.register("clf", models["good"]).version
    registry.set_alias("clf", "champion", first)
    with pytest.raises(ConflictError, match="already 'champion'"):
        gate.promote(registry, "clf", first, X=X, y=y)
    with pytest.raises(ConflictError, match="same artifact") as info:
        gate.promote(registry, "clf", again, X=X, y=y)
    assert info.value.column == "candidate_version"
    assert info.value.value == again
    assert "gate.passed" not in registry.get_version("clf", again).tags
    assert len(registry.alias_history("clf")) == 1


def test_first_promotion_without_champion(
    registry: ModelRegistry, data: Any, models: dict[str, Any]
) -> None:
    X, y = data
    gate = standard_gate()
    dummy = registry.register("clf", models["dummy"]).version
    good = registry.register("clf", models["good"]).version
    with pytest.raises(NotFoundError):
        gate.promote(registry, "clf", good, X=X, y=y, require_champion=True)
    # The dummy fails the absolute threshold even with nothing to beat.
    assert not gate.promote(registry, "clf", dummy, X=X, y=y).promoted
    result = gate.promote(registry, "clf", good, X=X, y=y, champion_alias="prod")
    assert result.promoted
    assert result.champion_version is None
    assert registry.get_by_alias("clf", "prod").version == good
    assert registry.get_version("clf", good).tags["gate.champion_version"] == "none"


def test_promote_refuses_when_champion_moved_meanwhile(
    registry: ModelRegistry, data: Any, models: dict[str, Any]
) -> None:
    X, y = data
    dummy = registry.register("clf", models["dummy"]).version
    good = registry.register("clf", models["good"]).version
    weak = registry.register("clf", models["weak"]).version
    registry.set_alias("clf", "champion", dummy)

    class MovesChampion:
        name = "moves_champion"

        def evaluate(self, *args: Any, sensitive: Any = None) -> CheckOutcome:
            registry.set_alias("clf", "champion", weak)  # a concurrent promotion
            return CheckOutcome(self.name, True, {}, "ok")

    with pytest.raises(ConflictError, match="moved"):
        PromotionGate([MovesChampion()]).promote(registry, "clf", good, X=X, y=y)
    assert registry.get_by_alias("clf", "champion").version == weak
    assert registry.get_version("clf", good).tags["gate.passed"] == "true"


def test_result_types() -> None:
    outcome = CheckOutcome("a", False, {"x": float("nan")}, "bad")
    assert outcome.numbers == {"x": None}
    result = GateResult(passed=False, checks=(outcome,))
    assert result.failed == ("a",)
    assert repr(outcome) == "CheckOutcome('a', failed)"
    assert json.loads(json.dumps(result.to_dict()))["checks"][0]["numbers"] == {"x": None}
