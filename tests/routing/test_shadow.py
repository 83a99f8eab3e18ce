import logging
import statistics
import threading
import time

import pytest

from mlkit.errors import ConfigurationError
from mlkit.protocols import Model
from mlkit.routing import ShadowRouter, ShadowStats


class Add:
    def __init__(self, n, delay=0.0):
        self.n = n
        self.delay = delay
        self.calls = []
        self._lock = threading.Lock()

    def predict(self, X):
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.calls.append(X)
        return [x + self.n for x in X]


class Boom:
    def predict(self, X):
        raise RuntimeError("shadow exploded")


class Gate:
    """A shadow that blocks until released, signalling when a call has started."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def predict(self, X):
        self.started.set()
        assert self.release.wait(5)
        return ["late"]


def _shadow_threads():
    return [t for t in threading.enumerate() if t.name.startswith("mlkit-shadow-")]


@pytest.fixture(autouse=True)
def _no_leaked_workers():
    yield
    assert not _shadow_threads()


def test_raising_shadow_leaves_primary_output_unchanged():
    """A shadow that raises is counted as failed; the caller gets the primary's output."""
    with ShadowRouter(Add(1), Boom()) as router:
        assert [router.predict([i]) for i in range(5)] == [[1], [2], [3], [4], [5]]
    s = router.stats()
    assert (s.submitted, s.failed, s.completed, s.timed_out) == (5, 5, 0, 0)


def test_slow_shadow_does_not_slow_the_caller():
    """A shadow 10x slower than the primary adds no more than noise to the caller's latency."""
    primary = Add(1, delay=0.002)
    shadow = Add(2, delay=0.02)
    direct, routed = [], []
    with ShadowRouter(primary, shadow, max_pending=3) as router:
        for i in range(15):
            t0 = time.perf_counter()
            assert primary.predict([i]) == [i + 1]
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert router.predict([i]) == [i + 1]
            routed.append(time.perf_counter() - t0)
    # Generous bound: the tight figure belongs in the benchmark.
    assert statistics.median(routed) < statistics.median(direct) + 0.003
    s = router.stats()
    assert s.submitted + s.dropped == 15
    assert s.completed == s.submitted


def test_full_queue_drops_instead_of_blocking():
    """Past max_pending queued items shadow work is dropped (counted); the caller never waits."""
    gate = Gate()
    with ShadowRouter(Add(1), gate, max_pending=2) as router:
        router.predict([0])
        assert gate.started.wait(5)  # the worker is busy; the queue is empty
        t0 = time.perf_counter()
        for i in range(5):
            assert router.predict([i]) == [i + 1]
        assert time.perf_counter() - t0 < 0.5
        s = router.stats()
        assert (s.submitted, s.dropped, s.pending) == (3, 3, 3)
        gate.release.set()
    s = router.stats()
    assert (s.submitted, s.completed, s.dropped, s.pending) == (3, 3, 3, 0)


def test_timeout_is_counted_and_late_result_not_compared():
    """A call still running after timeout counts as timed_out; its late result is discarded."""
    gate = Gate()
    compared = []
    with ShadowRouter(
        Add(1), gate, timeout=0.05, on_compare=lambda *a: compared.append(a)
    ) as router:
        router.predict([1], key="k")
        assert gate.started.wait(5)
        time.sleep(0.1)
        assert router.stats().timed_out == 1  # counted while still running
        gate.release.set()
    s = router.stats()
    assert (s.submitted, s.timed_out, s.completed, s.failed) == (1, 1, 0, 0)
    assert compared == []


def test_on_compare_receives_key_and_both_outputs():
    """on_compare gets (key, primary_output, shadow_output) for every completed shadow call."""
    compared = []
    with ShadowRouter(Add(1), Add(10), on_compare=lambda *a: compared.append(a)) as router:
        router.predict([1, 2], key="user-1")
        router.predict([3])
    assert compared == [("user-1", [2, 3], [11, 12]), (None, [4], [13])]


def test_on_compare_errors_are_counted_not_raised():
    """An on_compare that raises is counted; the caller and the workers keep going."""

    def bad(key, p, s):
        raise ValueError("compare bug")

    with ShadowRouter(Add(1), Add(2), on_compare=bad) as router:
        assert router.predict([1]) == [2]
        assert router.predict([2]) == [3]
    s = router.stats()
    assert (s.completed, s.compare_failed) == (2, 2)


@pytest.mark.parametrize(("sample", "expected_calls"), [(0.0, 0), (0, 0), (1.0, 50), (1, 50)])
def test_sample_zero_sends_nothing_and_one_sends_everything(sample, expected_calls):
    """sample=0 mirrors nothing and sample=1 mirrors every request, with or without keys."""
    shadow = Add(2)
    with ShadowRouter(Add(1), shadow, sample=sample) as router:
        for i in range(25):
            router.predict([i])
            router.predict([i], key=f"user-{i}")
    assert len(shadow.calls) == expected_calls
    s = router.stats()
    assert s.submitted == expected_calls
    assert s.sampled_out == 50 - expected_calls


def test_keyed_sampling_is_sticky():
    """With a key, the same key always gets the same decision, matching sampled()."""
    shadow = Add(0)
    keys = [f"user-{i}" for i in range(2000)]
    with ShadowRouter(Add(0), shadow, sample=0.3, salt="exp", max_pending=10_000) as router:
        for _ in range(2):
            for i, k in enumerate(keys):
                router.predict([i], key=k)
        expected = {i for i, k in enumerate(keys) if router.sampled(k)}
    mirrored = [X[0] for X in shadow.calls]
    assert len(mirrored) == 2 * len(expected)
    assert set(mirrored) == expected
    assert abs(len(expected) / len(keys) - 0.3) < 0.05
    with ShadowRouter(Add(0), Add(0), sample=0.3, salt="exp") as again:
        assert {i for i, k in enumerate(keys) if again.sampled(k)} == expected


def test_unkeyed_sampling_is_random_at_the_rate():
    """Without a key, each call is an independent draw at the sampling rate."""
    shadow = Add(0)
    with ShadowRouter(Add(0), shadow, sample=0.5, max_pending=10_000) as router:
        for i in range(2000):
            router.predict([i])
    assert 700 < len(shadow.calls) < 1300
    assert router.stats().sampled_out == 2000 - len(shadow.calls)


def test_close_drains_queue_and_stops_workers():
    """close() drains the queue and stops every worker; predict still serves the primary."""
    shadow = Add(2, delay=0.01)
    router = ShadowRouter(Add(1), shadow, workers=3)
    assert len(_shadow_threads()) == 3
    for i in range(6):
        router.predict([i])
    router.close()
    assert not _shadow_threads()
    assert router.closed
    assert router.stats().completed == 6
    assert router.predict([9]) == [10]
    assert len(shadow.calls) == 6  # nothing mirrored after close
    router.close()  # idempotent


def test_context_manager_closes():
    with ShadowRouter(Add(1), Add(2), workers=2) as router:
        assert router.predict([1]) == [2]
        assert len(_shadow_threads()) == 2
    assert router.closed
    assert not _shadow_threads()


def test_close_with_timeout_returns_despite_hung_shadow(caplog):
    """close(timeout) gives up waiting on a hung shadow and logs it; a later close() joins."""
    gate = Gate()
    router = ShadowRouter(Add(1), gate)
    router.predict([1])
    assert gate.started.wait(5)
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="mlkit.routing._shadow"):
        router.close(timeout=0.05)
    assert time.perf_counter() - t0 < 1
    assert "still busy" in caplog.text
    gate.release.set()
    router.close()
    assert not _shadow_threads()


def test_router_is_a_model_and_nests():
    """ShadowRouter satisfies Model, so it can be the primary or shadow of another router."""
    inner_shadow = Add(100)
    outer_shadow = Add(1000)
    with ShadowRouter(Add(1), inner_shadow) as inner, ShadowRouter(inner, outer_shadow) as outer:
        assert isinstance(inner, Model)
        assert outer.predict([1]) == [2]
        inner.close()
        outer.close()
    assert inner_shadow.calls == [[1]]
    assert outer_shadow.calls == [[1]]


def test_nests_inside_a_canary_router():
    canary_mod = pytest.importorskip("mlkit.routing._canary")
    shadow = Add(100)
    with ShadowRouter(Add(1), shadow) as candidate:
        canary = canary_mod.CanaryRouter(Add(0), candidate, weight=1.0)
        assert canary.predict([1], key="user-1") == [2]
    assert shadow.calls == [[1]]


def test_concurrent_callers_counts_add_up():
    """Many threads calling at once: every call is accounted for exactly once."""
    shadow = Add(0)
    n_threads, n_calls = 8, 300
    with ShadowRouter(Add(1), shadow, sample=0.5, max_pending=50, workers=2) as router:

        def call(t):
            for i in range(n_calls):
                assert router.predict([i], key=f"{t}-{i}" if i % 2 else None) == [i + 1]

        threads = [threading.Thread(target=call, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    s = router.stats()
    assert s.submitted + s.dropped + s.sampled_out == n_threads * n_calls
    assert s.submitted == s.completed == len(shadow.calls)
    assert s.pending == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sample": -0.1}, "sample"),
        ({"sample": 1.5}, "sample"),
        ({"sample": float("nan")}, "sample"),
        ({"sample": True}, "sample"),
        ({"sample": "0.5"}, "sample"),
        ({"max_pending": 0}, "max_pending"),
        ({"max_pending": 2.5}, "max_pending"),
        ({"workers": 0}, "workers"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"on_compare": "print"}, "on_compare"),
        ({"salt": 3}, "salt"),
    ],
)
def test_bad_configuration_raises_at_construction(kwargs, name):
    with pytest.raises(ConfigurationError, match=name) as info:
        ShadowRouter(Add(1), Add(2), **kwargs)
    assert info.value.column == name


@pytest.mark.parametrize("which", ["primary", "shadow"])
def test_model_without_predict_is_rejected(which):
    models = {"primary": Add(1), "shadow": Add(2), which: object()}
    with pytest.raises(ConfigurationError, match=which):
        ShadowRouter(models["primary"], models["shadow"])


def test_stats_to_dict_and_repr():
    s = ShadowStats(submitted=2, completed=1, dropped=4)
    assert s.to_dict() == {
        "submitted": 2,
        "completed": 1,
        "failed": 0,
        "timed_out": 0,
        "dropped": 4,
        "sampled_out": 0,
        "compare_failed": 0,
    }
    assert s.pending == 1
    with ShadowRouter(Add(1), Boom(), sample=0.25) as router:
        assert repr(router) == "ShadowRouter(primary=Add, shadow=Boom, sample=0.25, open)"
        assert router.sample == 0.25
    assert repr(router).endswith("closed)")


def test_nested_routers_receive_the_key() -> None:
    from mlkit.routing import BlueGreenRouter, CanaryRouter, ShadowRouter

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def predict(self, X: object) -> str:
            return self.name

    seen: list[tuple[object, object, object]] = []
    live = CanaryRouter(Named("a"), Named("b"), weight=0.5, salt="inner")
    shadow = CanaryRouter(Named("x"), Named("y"), weight=0.5, salt="inner")
    with ShadowRouter(live, shadow, on_compare=lambda k, p, s: seen.append((k, p, s))) as router:
        outer = BlueGreenRouter(router, Named("green"))
        answers = {key: outer.predict([1], key=key) for key in map(str, range(200))}
    # Sticky by key: the same key gets the same live answer on a second call.
    assert all(live.predict([1], key=key) == answers[key] for key in answers)
    assert set(answers.values()) == {"a", "b"}
    # The shadow canary routed the same key the same way (same salt).
    assert all((p, s) in {("a", "x"), ("b", "y")} for _, p, s in seen)
    assert len(seen) == 200
