from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from mlkit.errors import ConfigurationError
from mlkit.monitoring import default_registry, set_default_registry
from mlkit.monitoring._registry import family, resolve_registry


@pytest.fixture
def restore_default():
    previous = set_default_registry(None)
    yield
    set_default_registry(previous)


def test_default_registry_is_mlkit_own_and_stable(restore_default):
    reg = default_registry()
    assert isinstance(reg, CollectorRegistry)
    assert reg is not REGISTRY
    assert default_registry() is reg


def test_set_default_registry_returns_previous(restore_default):
    first = default_registry()
    mine = CollectorRegistry()
    assert set_default_registry(mine) is first
    assert default_registry() is mine
    assert resolve_registry(None) is mine
    assert set_default_registry(None) is mine
    fresh = default_registry()
    assert fresh is not mine
    assert fresh is not first


def test_set_default_registry_rejects_non_registry(restore_default):
    with pytest.raises(ConfigurationError, match="registry") as info:
        set_default_registry("nope")  # type: ignore[arg-type]
    assert info.value.column == "registry"
    with pytest.raises(ConfigurationError):
        resolve_registry(object())  # type: ignore[arg-type]


def test_family_is_shared_per_registry():
    a, b = CollectorRegistry(), CollectorRegistry()
    fa = family(a, "counter", "t_requests", "Doc.", ("x",))
    assert family(a, "counter", "t_requests", "Other doc.", ["x"]) is fa
    fb = family(b, "counter", "t_requests", "Doc.", ("x",))
    assert fb is not fa
    fa.labels("1").inc(2)
    assert a.get_sample_value("t_requests_total", {"x": "1"}) == 2.0
    assert b.get_sample_value("t_requests_total", {"x": "1"}) is None


@pytest.mark.parametrize("kind", ["counter", "gauge", "histogram", "summary"])
def test_family_kinds(kind):
    reg = CollectorRegistry()
    metric = family(reg, kind, f"t_{kind}", "Doc.", ("a",))
    assert metric is family(reg, kind, f"t_{kind}", "Doc.", ("a",))


def test_family_mismatch_raises():
    reg = CollectorRegistry()
    family(reg, "histogram", "t_lat", "Doc.", ("m",), buckets=(0.1, 1.0))
    assert family(reg, "histogram", "t_lat", "Doc.", ("m",), buckets=[0.1, 1]) is not None
    with pytest.raises(ConfigurationError, match="t_lat"):
        family(reg, "histogram", "t_lat", "Doc.", ("m", "v"), buckets=(0.1, 1.0))
    with pytest.raises(ConfigurationError, match="buckets"):
        family(reg, "histogram", "t_lat", "Doc.", ("m",), buckets=(0.5, 1.0))
    with pytest.raises(ConfigurationError, match="counter"):
        family(reg, "counter", "t_lat", "Doc.", ("m",))


def test_family_bad_kind():
    with pytest.raises(ConfigurationError, match="kind") as info:
        family(CollectorRegistry(), "meter", "t_x", "Doc.")
    assert info.value.column == "kind"


def test_family_name_registered_outside_raises_configuration_error():
    reg = CollectorRegistry()
    Counter("t_outside", "Doc.", registry=reg)
    with pytest.raises(ConfigurationError, match="t_outside"):
        family(reg, "counter", "t_outside", "Doc.")


def test_family_thread_safe():
    reg = CollectorRegistry()
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(family(reg, "counter", "t_race", "Doc.", ("a",)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert all(r is results[0] for r in results)
