import logging
import threading
from collections import Counter

import pytest

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, ConflictError
from mlkit.routing import (
    BlueGreenRouter,
    CanaryRouter,
    PreflightError,
    RoutedPrediction,
    SwitchRecord,
)


class Name:
    def __init__(self, name):
        self.name = name

    def predict(self, X):
        return [self.name] * len(X)


def make(**kwargs):
    return BlueGreenRouter(Name("blue"), Name("green"), **kwargs)


def test_switch_rollback_and_history():
    clock = FakeClock(start=1000.0)
    router = make(clock=clock)
    assert (router.active, router.idle) == ("blue", "green")
    assert router.predict([0, 1]) == ["blue", "blue"]
    clock.advance(5)
    assert router.switch("v2 passed") == "green"
    assert router.predict([0]) == ["green"]
    clock.advance(5)
    assert router.rollback("errors up") == "blue"
    assert router.history == (
        SwitchRecord(1005.0, "blue", "green", "v2 passed"),
        SwitchRecord(1010.0, "green", "blue", "errors up"),
    )
    assert router.history[0].to_dict() == {
        "time": 1005.0,
        "from_variant": "blue",
        "to_variant": "green",
        "reason": "v2 passed",
    }
    assert router.counts() == {"blue": 1, "green": 1}


def test_start_green_and_predict_routed():
    seen = []
    router = make(active="green", on_route=lambda *a: seen.append(a))
    p = router.predict_routed([0], key="u1")
    assert p == RoutedPrediction(["green"], "green", "u1")
    assert seen == [("green", "u1", 1)]


def test_preflight_failure_aborts_the_switch(caplog):
    """A falsy preflight result aborts: traffic, history and counts stay as they were."""
    checked = []

    def preflight(model):
        checked.append(model.name)
        return False

    router = make(preflight=preflight)
    with (
        caplog.at_level(logging.WARNING, logger="mlkit.routing._bluegreen"),
        pytest.raises(PreflightError, match="preflight check of 'green' failed") as info,
    ):
        router.switch()
    assert checked == ["green"]
    assert isinstance(info.value, RuntimeError)
    assert router.active == "blue"
    assert router.history == ()
    assert router.predict([0]) == ["blue"]
    assert "switch to green aborted: preflight returned False" in caplog.text


def test_preflight_exception_aborts_the_switch():
    def preflight(model):
        raise ValueError("smoke test failed")

    router = make(preflight=preflight)
    with pytest.raises(PreflightError, match="ValueError: smoke test failed"):
        router.switch()
    assert router.active == "blue"


def test_preflight_success_switches_and_rollback_skips_it():
    calls = []
    router = make(preflight=lambda m: calls.append(m.name) or True)
    assert router.switch() == "green"
    assert router.rollback() == "blue"
    assert calls == ["green"]


def test_rollback_without_switch_raises():
    with pytest.raises(ConflictError, match="nothing to roll back"):
        make().rollback()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"active": "red"}, "active must be 'blue' or 'green', got 'red'"),
        ({"preflight": True}, "preflight must be callable"),
        ({"on_route": "x"}, "on_route must be callable"),
        ({"clock": 3.0}, "clock must have a now"),
    ],
)
def test_bad_configuration_raises(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        make(**kwargs)


def test_model_without_predict_raises():
    with pytest.raises(ConfigurationError, match="green must have a callable predict"):
        BlueGreenRouter(Name("b"), "not a model")


def test_blue_green_forwards_key_to_a_nested_canary():
    inner = CanaryRouter(Name("p"), Name("c"), weight=0.5, salt="bg")
    router = BlueGreenRouter(inner, Name("green"))
    keys = [f"k{i}" for i in range(30)]
    for k in keys:
        assert router.predict([0], key=k) == ["c" if inner.route(k) == "canary" else "p"]


def test_concurrent_requests_weight_changes_and_switches():
    """16 threads predicting through a canary, a blue-green and a nested router while another
    thread changes weights and switches: no exception, each request served by exactly one
    variant, and the counts add up."""
    canary = CanaryRouter(Name("primary"), Name("canary"), weight=0.3, salt="threads")
    bg = BlueGreenRouter(Name("blue"), Name("green"))
    nested_bg = BlueGreenRouter(Name("nblue"), Name("ngreen"))
    nested = CanaryRouter(Name("nprimary"), nested_bg, weight=0.5, salt="nested")
    n_threads, n_calls = 16, 300
    stop = threading.Event()
    errors: list[BaseException] = []
    tallies: list[Counter] = [Counter() for _ in range(n_threads)]
    start = threading.Barrier(n_threads + 1)

    def worker(t):
        tally = tallies[t]
        try:
            start.wait()
            for i in range(n_calls):
                key = f"t{t}-{i}"
                p = canary.predict_routed([key], key=key)
                assert p.output == [p.variant]
                tally["c:" + p.variant] += 1
                q = bg.predict_routed([key])
                assert q.output == [q.variant]
                tally["b:" + q.variant] += 1
                out = nested.predict([key], key=key)
                assert out in (["nprimary"], ["nblue"], ["ngreen"])
                tally["n:" + out[0]] += 1
                batch = canary.predict([[0], [1], [2]], key=[key, key + "x", key + "y"])
                assert all(v in ("primary", "canary") for v in batch)
                tally["c:batch"] += 3
        except BaseException as exc:
            errors.append(exc)

    def changer():
        try:
            start.wait()
            j = 0
            while not stop.is_set():
                canary.set_weight((j % 11) / 10)
                nested.set_weight(((j + 5) % 11) / 10)
                bg.switch(f"flip {j}")
                nested_bg.switch()
                j += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    control = threading.Thread(target=changer)
    for th in [*threads, control]:
        th.start()
    for th in threads:
        th.join(timeout=60)
    stop.set()
    control.join(timeout=60)
    assert not any(th.is_alive() for th in [*threads, control])
    assert errors == []

    total = sum(tallies, Counter())
    n = n_threads * n_calls
    c = canary.counts()
    assert c["primary"] + c["canary"] == n + total["c:batch"]
    assert c["primary"] >= total["c:primary"]
    assert c["canary"] >= total["c:canary"]
    assert bg.counts() == {"blue": total["b:blue"], "green": total["b:green"]}
    assert total["b:blue"] + total["b:green"] == n
    assert nested.counts()["primary"] == total["n:nprimary"]
    assert nested.counts()["canary"] == total["n:nblue"] + total["n:ngreen"]
    assert nested_bg.counts() == {"blue": total["n:nblue"], "green": total["n:ngreen"]}
    assert len(bg.history) >= 1


def test_repr():
    assert repr(make()) == "BlueGreenRouter(blue=Name, green=Name, active='blue')"
    assert repr(SwitchRecord(1.0, "blue", "green", "x")) == "SwitchRecord(blue->green at 1.0: 'x')"
