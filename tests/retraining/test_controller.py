import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError
from mlkit.retraining import (
    Decision,
    DriftTrigger,
    PerformanceTrigger,
    RetrainingController,
    ScheduleTrigger,
    State,
    VolumeTrigger,
)
from mlkit.versioning import Tracker

HOUR = 3600.0
DAY = 24 * HOUR
START = 1_700_000_000.0


def auc_at(hour):
    """The serving model's AUC over a scripted month (hour 0 = model trained)."""
    if 100 <= hour <= 110:
        return 0.75  # bad, but measured on too few labels (see labels_at)
    if hour == 150:
        return 0.78  # first real breach: retrain
    if 151 <= hour <= 199 or 201 <= hour <= 210:
        return 0.79  # the new model hovers just under the threshold
    if hour == 200 or 211 <= hour <= 219:
        return 0.81  # above the threshold but not past threshold + hysteresis
    if hour == 300:
        return 0.70  # breach after recovery at 220: retrain
    if 310 <= hour <= 330:
        return 0.70  # breach inside the cool-down of 300; retrain when it ends (324)
    return 0.85


def labels_at(hour):
    return 50 if 100 <= hour <= 110 else 500


def drift_share_at(hour):
    return 0.6 if hour // 24 in (20, 21) else 0.1


def simulate_month(tracker=None):
    clock = FakeClock(start=START)
    calls = []
    perf = PerformanceTrigger("auc", below=0.80, min_samples=200)
    controller = RetrainingController(
        [
            perf,
            ScheduleTrigger(every=8 * DAY),
            DriftTrigger(share_above=0.5, consecutive_windows=2) & VolumeTrigger(5000),
        ],
        cooldown=DAY,
        clock=clock,
        on_retrain=lambda decision: calls.append(decision) or f"model-{len(calls)}",
        hysteresis=0.02,
        tracker=tracker,
    )
    states = []
    for hour in range(720):
        last = controller.last_retrain if controller.last_retrain is not None else START
        state = State(
            metrics={"auc": auc_at(hour)},
            n_samples=labels_at(hour),
            drift_share=drift_share_at(hour),
            drift_window=hour // 24,
            new_rows=int(30 * (clock.now() - last) / HOUR),
            last_retrain=START if hour == 0 else None,
        )
        states.append(state)
        controller.step(state)
        clock.advance(HOUR)
    return controller, calls, states


def hour_of(decision):
    return round((decision.time - START) / HOUR)


def test_simulated_month_retrains_exactly_when_expected():
    controller, calls, _states = simulate_month()
    history = controller.history
    assert len(history) == 720
    retrains = [hour_of(d) for d in history if d.retrain]
    # 150 performance; 300 performance; 324 performance once the cool-down of
    # 300 ends; 504 drift on a second consecutive day with enough new rows;
    # 696 the 8-day schedule counted from 504.
    assert retrains == [150, 300, 324, 504, 696]
    assert [hour_of(d) for d in calls] == retrains
    assert controller.last_result == "model-5"
    fired = {hour_of(d): d.fired for d in history if d.retrain}
    assert fired[150] == fired[300] == fired[324] == ("performance(auc<0.8)",)
    assert fired[504] == ("drift(share>0.5, x2)", "volume(>=5000)")
    assert fired[696] == ("schedule(every=691200s)",)


def test_simulated_month_never_inside_cooldown():
    controller, _, _ = simulate_month()
    times = [d.time for d in controller.history if d.retrain]
    assert all(b - a >= DAY for a, b in itertools.pairwise(times))
    suppressed = [hour_of(d) for d in controller.history if d.suppressed_by == "cooldown"]
    assert suppressed == list(range(310, 324))
    assert all(
        any(r.startswith("cooldown:") for r in d.reasons)
        for d in controller.history
        if d.suppressed_by == "cooldown"
    )


def test_simulated_month_never_on_too_few_samples():
    controller, _, states = simulate_month()
    for decision, state in zip(controller.history, states, strict=False):
        if decision.retrain and any(f.startswith("performance") for f in decision.fired):
            assert state.n_samples >= 200
    few = [hour_of(d) for d in controller.history if d.suppressed_by == "min_samples"]
    assert few == list(range(100, 111))
    assert not any(d.retrain for d in controller.history[100:111])


def test_simulated_month_hysteresis_and_explanations():
    controller, _, _ = simulate_month()
    history = controller.history
    held = [hour_of(d) for d in history if d.suppressed_by == "hysteresis"]
    # Under the threshold after the retrains at 150 and 324, until recovery.
    assert held == [*range(151, 200), *range(201, 211), *range(325, 331)]
    for decision in history:
        assert decision.reasons
        assert all(isinstance(r, str) and r for r in decision.reasons)
        assert len(decision.reasons) >= 4  # the implicit Any plus its three triggers
        data = decision.to_dict()
        assert json.loads(json.dumps(data)) == data
    assert "re-armed" in " ".join(history[220].reasons)


def test_evaluate_is_pure():
    clock = FakeClock(start=0.0)
    drift = DriftTrigger(share_above=0.5, consecutive_windows=2)
    controller = RetrainingController(drift, cooldown=0, clock=clock)
    first = State(drift_share=0.9, drift_window=0)
    second = State(drift_share=0.9, drift_window=1)
    assert not controller.evaluate(first).retrain
    # evaluate remembered nothing: window 1 alone is still the first drifted window.
    assert not controller.evaluate(second).retrain
    assert controller.history == ()
    assert controller.last_retrain is None
    controller.step(first)
    assert controller.evaluate(second).retrain
    assert controller.evaluate(second) == controller.evaluate(second)
    assert len(controller.history) == 1


def test_on_retrain_failure_is_recorded_and_starts_cooldown():
    clock = FakeClock(start=0.0)

    def boom(decision):
        raise RuntimeError("pipeline down")

    controller = RetrainingController(
        VolumeTrigger(1), cooldown=HOUR, clock=clock, on_retrain=boom
    )
    with pytest.raises(RuntimeError, match="pipeline down"):
        controller.step(State(new_rows=5))
    (decision,) = controller.history
    assert decision.retrain
    assert decision.error == "RuntimeError: pipeline down"
    clock.advance(60)
    assert controller.step(State(new_rows=5)).suppressed_by == "cooldown"


def test_tracker_gets_one_run_per_decision(tmp_path):
    clock = FakeClock(start=0.0)
    tracker = Tracker(tmp_path, clock=clock, capture_environment=False)
    controller = RetrainingController(
        VolumeTrigger(10), cooldown=HOUR, clock=clock, tracker=tracker
    )
    for rows in (5, 20, 30):
        controller.step(State(new_rows=rows))
        clock.advance(60)
    runs = tracker.search_runs("name = 'retraining-decision'", order_by="start_time")
    assert len(runs) == 3
    assert list(runs["tags.retraining.retrain"]) == ["False", "True", "False"]
    assert list(runs["tags.retraining.suppressed_by"]) == ["", "", "cooldown"]
    assert json.loads(runs["tags.retraining.reasons"].iloc[1]) == list(
        controller.history[1].reasons
    )
    assert list(runs["metrics.retraining.retrain"]) == [0.0, 1.0, 0.0]


def test_caller_reported_last_retrain_is_remembered():
    clock = FakeClock(start=10 * DAY)
    controller = RetrainingController(ScheduleTrigger(every=7 * DAY), cooldown=0, clock=clock)
    assert not controller.step(State(last_retrain=5 * DAY)).retrain
    assert controller.last_retrain == 5 * DAY
    clock.set(12 * DAY)
    assert controller.step(State()).retrain  # 7 days after the reported retrain


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cooldown": -1}, "cooldown"),
        ({"cooldown": 1, "hysteresis": -0.1}, "hysteresis"),
    ],
)
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        RetrainingController([VolumeTrigger(1)], **kwargs)


def test_rejects_shared_trigger_object():
    volume = VolumeTrigger(1)
    with pytest.raises(ConfigurationError, match="twice"):
        RetrainingController([volume, volume & ScheduleTrigger(every=1)], cooldown=0)


def reference(values, samples, *, below, min_samples, cooldown, hysteresis):
    """A plain loop: the performance-only policy spelled out."""
    armed, last, taken = True, None, []
    for t, (value, n) in enumerate(zip(values, samples, strict=False)):
        if n >= min_samples and not armed and value >= below + hysteresis:
            armed = True
        fires = armed and n >= min_samples and value < below
        if fires and (last is None or t - last >= cooldown):
            taken.append(t)
            last, armed = t, False
    return taken


@given(
    values=st.lists(st.sampled_from([0.6, 0.75, 0.79, 0.8, 0.81, 0.83, 0.9]), max_size=80),
    data=st.data(),
    cooldown=st.integers(0, 10),
)
def test_performance_policy_matches_reference(values, data, cooldown):
    samples = data.draw(st.lists(st.integers(0, 40), min_size=len(values), max_size=len(values)))
    clock = FakeClock(start=0.0)
    controller = RetrainingController(
        PerformanceTrigger("auc", below=0.8, min_samples=20),
        cooldown=cooldown,
        clock=clock,
        hysteresis=0.025,
    )
    taken = []
    for t, (value, n) in enumerate(zip(values, samples, strict=False)):
        decision: Decision = controller.step(State(metrics={"auc": value}, n_samples=n))
        if decision.retrain:
            taken.append(t)
        assert decision.reasons
        clock.advance(1)
    expected = reference(
        values, samples, below=0.8, min_samples=20, cooldown=cooldown, hysteresis=0.025
    )
    assert taken == expected
