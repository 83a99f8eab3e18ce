import json
import math

import pytest

from mlkit.errors import ConfigurationError
from mlkit.retraining import (
    All,
    Any,
    DriftTrigger,
    PerformanceTrigger,
    ScheduleTrigger,
    State,
    Trigger,
    VolumeTrigger,
)


def check(trigger, state, memory=None, hysteresis=0.0):
    return trigger.check(state, memory or {}, hysteresis)


def test_state_to_dict_is_json_safe_and_hides_nan():
    state = State(
        now=5,
        metrics={"auc": float("nan"), "loss": 0.3, "f1": None},
        n_samples=10,
        drift_share=float("nan"),
        drifted_features=["b", "a"],
        drift_window=3,
        new_rows=7,
        last_retrain=1,
    )
    data = state.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["metrics"] == {"auc": None, "f1": None, "loss": 0.3}
    assert data["drift_share"] is None
    assert data["drifted_features"] == ["a", "b"]
    assert state.metric("auc") is None
    assert state.metric("missing") is None


def test_schedule_fires_at_exactly_every_seconds():
    trigger = ScheduleTrigger(every=100)
    assert not check(trigger, State(now=99.0, last_retrain=0.0)).fired
    assert check(trigger, State(now=100.0, last_retrain=0.0)).fired
    unknown = check(trigger, State(now=1.0))
    assert unknown.fired
    assert "no previous retrain" in unknown.reason


@pytest.mark.parametrize("every", [0, -1, float("inf"), "1", True])
def test_schedule_rejects_bad_every(every):
    with pytest.raises(ConfigurationError, match="every"):
        ScheduleTrigger(every=every)


def test_performance_below_above_and_missing():
    low = PerformanceTrigger("auc", below=0.8, min_samples=10)
    assert check(low, State(now=0, metrics={"auc": 0.79}, n_samples=10)).fired
    assert not check(low, State(now=0, metrics={"auc": 0.8}, n_samples=10)).fired
    assert not check(low, State(now=0, metrics={"auc": float("nan")}, n_samples=10)).fired
    assert "not measured" in check(low, State(now=0, n_samples=10)).reason
    high = PerformanceTrigger("loss", above=1.0, min_samples=0)
    assert check(high, State(now=0, metrics={"loss": 1.5})).fired
    band = PerformanceTrigger("x", below=0.0, above=1.0, min_samples=0)
    assert band.name == "performance(x<0 or x>1)"
    assert [check(band, State(now=0, metrics={"x": v})).fired for v in (-1, 0.5, 2)] == [
        True,
        False,
        True,
    ]


def test_performance_min_samples_blocks_and_explains():
    trigger = PerformanceTrigger("auc", below=0.8, min_samples=100)
    outcome = check(trigger, State(now=0, metrics={"auc": 0.5}, n_samples=99))
    assert not outcome.fired
    assert outcome.blocked_by == "min_samples"
    assert outcome.would_fire
    assert "99 labelled samples < min_samples=100" in outcome.reason
    fine = check(trigger, State(now=0, metrics={"auc": 0.9}, n_samples=1))
    assert fine.blocked_by is None
    assert not fine.would_fire


def test_performance_hysteresis_memory():
    trigger = PerformanceTrigger("auc", below=0.8, min_samples=0)
    disarmed = {trigger: False}
    still_bad = check(trigger, State(now=0, metrics={"auc": 0.7}), disarmed, 0.05)
    assert not still_bad.fired
    assert still_bad.blocked_by == "hysteresis"
    hovering = check(trigger, State(now=0, metrics={"auc": 0.84}), disarmed, 0.05)
    assert not hovering.fired
    assert hovering.blocked_by is None
    assert not hovering.updates
    recovered = check(trigger, State(now=0, metrics={"auc": 0.85}), disarmed, 0.05)
    assert not recovered.fired
    assert recovered.updates == {trigger: True}
    assert "re-armed" in recovered.reason
    assert trigger.after_retrain(
        check(trigger, State(now=0, metrics={"auc": 0.1}), {}, 0), {}
    ) == {trigger: False}


def test_performance_requires_a_threshold():
    with pytest.raises(ConfigurationError, match="below= and/or above="):
        PerformanceTrigger("auc")
    with pytest.raises(ConfigurationError, match="min_samples"):
        PerformanceTrigger("auc", below=0.5, min_samples=-1)


def run_drift(trigger, states):
    memory, fired = {}, []
    for state in states:
        outcome = check(trigger, state, memory)
        memory.update(outcome.updates)
        fired.append(outcome.fired)
    return fired


def test_drift_consecutive_windows_counts_each_window_once():
    trigger = DriftTrigger(share_above=0.3, consecutive_windows=2)
    # Window 0 seen three times, then window 1: fires only on window 1.
    states = [State(now=0, drift_share=0.5, drift_window=w) for w in (0, 0, 0, 1, 1)]
    assert run_drift(trigger, states) == [False, False, False, True, True]


def test_drift_gap_or_quiet_window_restarts_the_count():
    trigger = DriftTrigger(share_above=0.3, consecutive_windows=2)
    gap = [State(now=0, drift_share=0.5, drift_window=w) for w in (0, 2)]
    assert run_drift(trigger, gap) == [False, False]
    quiet = [State(now=0, drift_share=s, drift_window=w) for w, s in enumerate([0.5, 0.1, 0.5])]
    assert run_drift(trigger, quiet) == [False, False, False]
    no_index = [State(now=0, drift_share=0.5), State(now=0, drift_share=0.5)]
    assert run_drift(trigger, no_index) == [False, True]


def test_drift_by_features_and_no_result():
    trigger = DriftTrigger(features=["age"])
    assert check(trigger, State(now=0, drifted_features={"age"})).fired
    assert not check(trigger, State(now=0, drifted_features={"zip"})).fired
    assert check(trigger, State(now=0)).reason.endswith("no drift result")
    either = DriftTrigger(share_above=0.9, features=["age"])
    assert check(either, State(now=0, drift_share=0.95)).fired
    with pytest.raises(ConfigurationError, match="share_above"):
        DriftTrigger()
    with pytest.raises(ConfigurationError, match="consecutive_windows"):
        DriftTrigger(share_above=0.1, consecutive_windows=0)


def test_volume():
    trigger = VolumeTrigger(new_rows_at_least=10)
    assert not check(trigger, State(now=0, new_rows=9)).fired
    assert check(trigger, State(now=0, new_rows=10)).fired
    with pytest.raises(ConfigurationError, match="new_rows_at_least"):
        VolumeTrigger(0)


def test_combinators_and_operators():
    drift = DriftTrigger(share_above=0.3)
    perf = PerformanceTrigger("auc", below=0.8, min_samples=0)
    sched = ScheduleTrigger(every=100)
    policy = drift & (perf | sched)
    assert isinstance(policy, All)
    assert isinstance(policy.triggers[1], Any)
    assert policy.leaves() == [drift, perf, sched]
    state = State(now=10, drift_share=0.5, metrics={"auc": 0.9}, last_retrain=0)
    outcome = check(policy, state)
    assert not outcome.fired
    assert len(outcome.children) == 2
    assert check(policy, State(now=100, drift_share=0.5, last_retrain=0)).fired
    assert [
        leaf.name
        for leaf in check(policy, State(now=100, drift_share=0.5, last_retrain=0)).fired_leaves()
    ] == [drift.name, sched.name]
    data = outcome.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert len(data["children"]) == 2


def test_combinator_reports_blocking_guard():
    perf = PerformanceTrigger("auc", below=0.8, min_samples=100)
    policy = All(DriftTrigger(share_above=0.3), perf)
    outcome = check(policy, State(now=0, drift_share=0.5, metrics={"auc": 0.5}, n_samples=5))
    assert not outcome.fired
    assert outcome.blocked_by == "min_samples"
    assert outcome.blockers() == ["min_samples"]


def test_combinator_rejects_non_triggers():
    with pytest.raises(ConfigurationError, match="triggers"):
        Any()
    with pytest.raises(ConfigurationError, match="triggers"):
        All(VolumeTrigger(1), "schedule")


def test_custom_name_and_base_class():
    assert VolumeTrigger(5, name="enough data").name == "enough data"
    with pytest.raises(NotImplementedError):
        Trigger().check(State(now=0), {}, 0.0)
    assert math.isclose(ScheduleTrigger(every=1.5).every, 1.5)
