import json
import logging
import threading

import pytest

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.routing._rollout import BUILTIN_METRICS, Decision, ProgressiveRollout, Threshold


class Counting:
    """A model returning a constant per row and counting its calls (thread-safe)."""

    def __init__(self, value, *, fail=False, clock=None, delay=0.0):
        self.value = value
        self.fail = fail
        self.clock = clock
        self.delay = delay
        self.calls = 0
        self.rows = 0
        self._lock = threading.Lock()

    def predict(self, X):
        with self._lock:
            self.calls += 1
            self.rows += len(X)
        if self.clock is not None and self.delay:
            self.clock.advance(self.delay)
        if self.fail:
            raise RuntimeError(f"model {self.value} is broken")
        return [self.value] * len(X)


def make(primary=None, candidate=None, **kwargs):
    kwargs.setdefault("steps", (0.25, 0.5, 1.0))
    kwargs.setdefault("min_samples", 20)
    kwargs.setdefault("interval", None)
    kwargs.setdefault("clock", FakeClock(start=1000.0))
    return ProgressiveRollout(
        primary if primary is not None else Counting("p"),
        candidate if candidate is not None else Counting("c"),
        **kwargs,
    )


def serve(rollout, n_candidate, *, prefix="u", swallow=False, limit=100_000):
    """Send single-row requests with fresh keys until the candidate served ``n_candidate``."""
    served = 0
    for i in range(limit):
        if served >= n_candidate:
            return i
        try:
            out = rollout.predict([[float(i)]], key=[f"{prefix}-{i}"])
        except RuntimeError:
            if not swallow:
                raise
            served += 1
            continue
        served += out == ["c"]
    raise AssertionError("candidate never reached")


def test_weight_advances_one_step_per_passing_analysis_and_completes_at_one():
    """Each passing analysis over >= min_samples moves one step; the last one completes."""
    changes = []
    rollout = make(analysis=[Threshold("error_rate", max=0.0)], on_change=changes.append)
    assert rollout.weight == 0.25
    assert rollout.state == "progressing"
    for expected_from, expected_to, action in [
        (0.25, 0.5, "advance"),
        (0.5, 1.0, "advance"),
        (1.0, 1.0, "complete"),
    ]:
        serve(rollout, 20, prefix=f"w{expected_from}")
        decision = rollout.step()
        assert (decision.action, decision.from_weight, decision.to_weight) == (
            action,
            expected_from,
            expected_to,
        )
        assert decision.reasons == ("analysis passed",)
        assert decision.metrics["requests"] >= 20
        assert decision.metrics["error_rate"] == 0.0
    assert rollout.state == "complete"
    assert rollout.weight == 1.0
    assert [d.action for d in changes] == ["advance", "advance", "complete"]
    # Weight 1.0: every request goes to the candidate.
    outputs = [rollout.predict([[0.0]], key=[f"after-{i}"]) for i in range(200)]
    assert all(out == ["c"] for out in outputs)


def test_never_advances_or_rolls_back_on_too_little_traffic():
    """Below min_samples the rollout holds, even when every candidate request failed."""
    clock = FakeClock()
    candidate = Counting("c", fail=True)
    rollout = make(candidate=candidate, analysis=[Threshold("error_rate", max=0.01)], clock=clock)
    # No traffic at all, analysed again and again: hold (Flagger #1035).
    for _ in range(5):
        clock.advance(60)
        decision = rollout.step()
        assert decision.action == "hold"
        assert decision.reasons == ("insufficient samples: 0 of 20",)
    serve(rollout, 3, swallow=True)
    decision = rollout.step()
    assert decision.action == "hold"
    assert decision.reasons == ("insufficient samples: 3 of 20",)
    assert decision.metrics["error_rate"] == 1.0
    assert rollout.state == "progressing"
    assert rollout.weight == 0.25
    assert len(rollout.history) == 6


def test_candidate_errors_are_reraised_counted_and_roll_back():
    """A raising candidate: the caller sees the error; the analysis rolls back to 0."""
    changes = []
    primary = Counting("p")
    candidate = Counting("c", fail=True)
    rollout = make(
        primary=primary,
        candidate=candidate,
        analysis=[Threshold("error_rate", max=0.05)],
        on_change=changes.append,
    )
    with pytest.raises(RuntimeError, match="broken"):
        serve(rollout, 1)
    serve(rollout, 25, swallow=True)
    assert rollout.metrics()["errors"] == candidate.calls
    assert rollout.metrics()["error_rate"] == 1.0
    assert rollout.metrics("primary")["errors"] == 0
    decision = rollout.step()
    assert decision.action == "rollback"
    assert (decision.from_weight, decision.to_weight) == (0.25, 0.0)
    assert decision.reasons[0] == "error_rate=1.0 outside error_rate <= 0.05"
    assert rollout.state == "rolled_back"
    assert rollout.weight == 0.0
    assert changes == [decision]
    calls = candidate.calls
    for i in range(300):
        assert rollout.predict([[0.0]], key=[f"later-{i}"]) == ["p"]
    assert candidate.calls == calls
    # Nothing further to analyse, and that is not recorded.
    assert rollout.step().action == "hold"
    assert rollout.history[-1] is decision


def test_latency_from_an_injected_timer_rolls_back():
    """Latency is measured with the injected timer (here the fake clock, moved by the model)."""
    clock = FakeClock()
    candidate = Counting("c", clock=clock, delay=0.5)
    primary = Counting("p", clock=clock, delay=0.01)
    rollout = make(
        primary=primary,
        candidate=candidate,
        clock=clock,
        timer=clock.now,
        analysis=[Threshold("latency_p99", max=0.1), Threshold("error_rate", max=0.0)],
    )
    serve(rollout, 20)
    metrics = rollout.metrics()
    assert metrics["latency_p99"] == pytest.approx(0.5)
    assert metrics["latency_mean"] == pytest.approx(0.5)
    assert rollout.metrics("primary")["latency_max"] == pytest.approx(0.01)
    decision = rollout.step()
    assert decision.action == "rollback"
    assert decision.reasons[0].startswith("latency_p99=0.5")
    assert "failed checks 1 of 1" in decision.reasons


def test_latency_percentiles_are_nearest_rank():
    ticks = iter(x for i in range(1, 101) for x in (0.0, i / 1000))
    rollout = make(steps=(1.0,), timer=lambda: next(ticks))
    for i in range(100):
        rollout.predict([[0.0]], key=[f"k{i}"])
    metrics = rollout.metrics()
    assert metrics["latency_p50"] == pytest.approx(0.050)
    assert metrics["latency_p99"] == pytest.approx(0.099)
    assert metrics["latency_max"] == pytest.approx(0.100)
    assert metrics["latency_mean"] == pytest.approx(0.0505)


def test_user_metric_from_observe_fails_or_passes_and_missing_holds():
    """A user metric is the mean of observed candidate values; none observed -> hold."""
    rollout = make(analysis=[Threshold("accuracy", min=0.9)])
    serve(rollout, 20)
    decision = rollout.step()
    assert decision.action == "hold"
    assert decision.reasons == ("no value for 'accuracy' in this step",)
    rollout.observe("accuracy", 0.95)
    rollout.observe("accuracy", 0.97)
    rollout.observe("accuracy", 0.10, variant="primary")  # not analysed
    decision = rollout.step()
    assert decision.action == "advance"
    assert decision.metrics["accuracy"] == pytest.approx(0.96)
    # The new step starts empty: old observations do not carry over.
    assert "accuracy" not in rollout.metrics()
    serve(rollout, 20, prefix="second")
    rollout.observe("accuracy", 0.5)
    decision = rollout.step()
    assert decision.action == "rollback"
    assert decision.reasons[0] == "accuracy=0.5 outside 0.9 <= accuracy"


def test_max_failed_checks_holds_before_rolling_back():
    """Like Flagger's threshold: earlier failures hold, the n-th rolls back."""
    rollout = make(analysis=[Threshold("quality", min=0.0, max=1.0)], max_failed_checks=2)
    serve(rollout, 20)
    rollout.observe("quality", 2.0)
    first = rollout.step()
    assert first.action == "hold"
    assert "failed checks 1 of 2; not rolling back yet" in first.reasons
    assert rollout.weight == 0.25
    second = rollout.step()
    assert second.action == "rollback"
    assert rollout.state == "rolled_back"


def test_analysis_runs_inside_predict_when_the_interval_elapsed():
    clock = FakeClock(start=0.0)
    rollout = make(clock=clock, interval=60.0, min_samples=5)
    serve(rollout, 5)
    assert rollout.history == []
    clock.advance(59.0)
    rollout.predict([[0.0]], key=["x"])
    assert rollout.history == []
    clock.advance(1.0)
    rollout.predict([[0.0]], key=["y"])
    assert [d.action for d in rollout.history] == ["advance"]
    assert rollout.history[0].time == 60.0
    assert rollout.weight == 0.5
    # The next analysis is one interval after the last one; too little traffic holds.
    clock.advance(60.0)
    rollout.predict([[0.0]], key=["z"])
    assert [d.action for d in rollout.history] == ["advance", "hold"]
    assert rollout.history[-1].reasons[0].startswith("insufficient samples:")


def test_history_is_json_safe_and_reprs_are_short():
    rollout = make(analysis=[Threshold("error_rate", max=0.1)])
    rollout.step()
    serve(rollout, 20)
    rollout.step()
    payload = json.dumps([d.to_dict() for d in rollout.history])
    loaded = json.loads(payload)
    assert [d["action"] for d in loaded] == ["hold", "advance"]
    assert loaded[1]["metrics"]["requests"] >= 20
    assert repr(rollout.history[1]) == "Decision(advance 0.25 -> 0.5: analysis passed)"
    assert repr(rollout) == "ProgressiveRollout(state='progressing', weight=0.5, step=2/3)"
    assert (
        repr(Threshold("error_rate", min=0, max=0.1)) == "Threshold('error_rate', min=0, max=0.1)"
    )
    assert Threshold("x", max=1).to_dict() == {"metric": "x", "min": None, "max": 1}


def test_on_change_errors_are_logged_not_raised(caplog):
    def boom(decision):
        raise ValueError("callback broke")

    rollout = make(on_change=boom, min_samples=1)
    serve(rollout, 1)
    with caplog.at_level(logging.ERROR, logger="mlkit.routing._rollout"):
        decision = rollout.step()
    assert decision.action == "advance"
    assert "on_change callback failed" in caplog.text


def test_manual_rollback():
    changes = []
    rollout = make(on_change=changes.append)
    decision = rollout.rollback("pager fired")
    assert decision.reasons == ("pager fired",)
    assert rollout.state == "rolled_back"
    assert rollout.weight == 0.0
    assert changes == [decision]
    assert rollout.rollback().action == "hold"
    assert rollout.history == [decision]


def test_batches_are_split_and_counted_per_variant():
    primary, candidate = Counting("p"), Counting("c")
    rollout = make(primary=primary, candidate=candidate, steps=(0.5, 1.0))
    keys = [f"k{i}" for i in range(400)]
    out = rollout.predict([[0.0]] * 400, key=keys)
    assert len(out) == 400
    assert set(out) == {"p", "c"}
    assert primary.rows + candidate.rows == 400
    assert rollout.metrics()["requests"] == candidate.calls
    assert rollout.metrics("primary")["requests"] == primary.calls


def test_concurrent_predicts_count_exactly_while_steps_advance():
    """8 threads serve while the main thread analyses: no error, counts add up."""
    primary, candidate = Counting("p"), Counting("c")
    rollout = make(
        primary=primary,
        candidate=candidate,
        steps=(0.1, 0.2, 0.4, 0.7, 1.0),
        min_samples=50,
        analysis=[Threshold("error_rate", max=0.0)],
    )
    n_threads, per_thread = 8, 1500
    errors = []
    served = [0] * n_threads
    start = threading.Barrier(n_threads + 1)

    def worker(t):
        try:
            start.wait()
            for i in range(per_thread):
                out = rollout.predict([[0.0]], key=[f"t{t}-{i}"])
                assert out in (["p"], ["c"])
                served[t] += 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    start.wait()
    while any(thread.is_alive() for thread in threads):
        rollout.step()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(served) == n_threads * per_thread
    assert primary.calls + candidate.calls == n_threads * per_thread
    # Each advance closes a step's window; the current window holds the rest.
    counted = sum(d.metrics["requests"] for d in rollout.history if d.action == "advance")
    assert counted + rollout.metrics()["requests"] == candidate.calls
    weights = [0.1]
    for decision in rollout.history:
        assert decision.from_weight == weights[-1]
        if decision.action == "advance":
            weights.append(decision.to_weight)
    assert weights == list(rollout.steps[: len(weights)])


@pytest.mark.parametrize(
    "steps",
    [
        (),
        (0.5, 0.25, 1.0),
        (0.1, 0.1, 1.0),
        (0.0, 1.0),
        (0.5, 1.5),
        (0.1, 0.5),
        (-0.1, 1.0),
        (True, 1.0),
        "abc",
        None,
    ],
)
def test_bad_steps_raise_at_construction(steps):
    with pytest.raises(ConfigurationError, match="steps must be strictly increasing"):
        make(steps=steps)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min": 0.5, "max": 0.1}, "min=0.5 is greater than max=0.1"),
        ({}, "give min, max or both"),
        ({"max": "high"}, "max must be a number"),
        ({"min": float("nan")}, "min must be a number"),
    ],
)
def test_bad_thresholds_raise(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        Threshold("error_rate", **kwargs)


def test_threshold_metric_names():
    with pytest.raises(ConfigurationError, match="non-empty string"):
        Threshold("", max=1)
    assert Threshold("latency_p99", max=1).is_builtin
    # Any other name is a user metric, fed by observe().
    assert not Threshold("latency_p42", max=1).is_builtin
    assert "error_rate" in BUILTIN_METRICS
    assert not Threshold("x", max=1.0).check(float("nan"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"analysis": [("error_rate", 0.1)]}, "analysis must hold Threshold"),
        ({"min_samples": 0}, "min_samples must be an int >= 1"),
        ({"min_samples": 2.5}, "min_samples must be an int >= 1"),
        ({"interval": 0}, "interval must be > 0"),
        ({"max_failed_checks": 0}, "max_failed_checks must be an int >= 1"),
        ({"on_change": "not callable"}, "on_change must be callable"),
        ({"candidate": object()}, "candidate must have a callable predict"),
        ({"primary": 42}, "primary must have a callable predict"),
    ],
)
def test_bad_configuration_raises_at_construction(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        make(**kwargs)


def test_a_single_threshold_is_accepted_as_analysis():
    assert make(analysis=Threshold("error_rate", max=0.1)).analysis == (
        Threshold("error_rate", max=0.1),
    )


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("error_rate", 0.1), "measured by the rollout itself"),
        (("accuracy", float("nan")), "finite number"),
        (("accuracy", "high"), "finite number"),
        (("accuracy", 0.5, "canary"), "variant must be"),
    ],
)
def test_observe_rejects_bad_input(args, match):
    with pytest.raises(DataError, match=match):
        make().observe(*args)


def test_decision_is_frozen():
    decision = Decision(0.0, "hold", 0.1, 0.1, ["x"], {})
    assert decision.reasons == ("x",)
    with pytest.raises(AttributeError):
        decision.action = "advance"


def test_single_keys_predict_routed_and_nested_routers_keep_sticky_keys():
    """A keyed single record works, and a router as candidate still receives the key."""
    from mlkit.routing import CanaryRouter

    inner = CanaryRouter(Counting("c-old"), Counting("c-new"), weight=0.5, salt="inner")
    rollout = make(candidate=inner, steps=(1.0,))
    for i in range(50):
        key = f"user-{i}"
        expected = "c-new" if inner.route(key) == "canary" else "c-old"
        assert rollout.predict([[0.0]], key=key) == [expected]
        routed = rollout.predict_routed([[0.0]], key=key)
        assert (routed.variant, routed.output) == ("canary", [expected])
    assert rollout.metrics()["requests"] == 100
