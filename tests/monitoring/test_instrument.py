from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring import MonitoredModel
from mlkit.protocols import Model, ProbabilisticModel

LABELS = {"model": "m", "version": "1"}


def value(reg: CollectorRegistry, name: str, **labels: str) -> float | None:
    return reg.get_sample_value(name, {**LABELS, **labels})


class Echo:
    """Predicts the first column of each row."""

    def predict(self, X):
        return np.asarray(X)[:, 0]


class Proba:
    classes_ = np.array(["no", "yes"])

    def predict(self, X):
        return self.classes_[(np.asarray(X)[:, 0] > 0.5).astype(int)]

    def predict_proba(self, X):
        p = np.clip(np.asarray(X, dtype=float)[:, 0], 0, 1)
        return np.column_stack([1 - p, p])


class Boom:
    def predict(self, X):
        if X == "value":
            raise ValueError("bad")
        raise KeyError("k")


class KeyedRouter:
    _mlkit_routes_by_key = True

    def __init__(self) -> None:
        self.keys: list[object] = []

    def predict(self, X, key=None):
        self.keys.append(key)
        return ["a"]


@pytest.fixture
def reg() -> CollectorRegistry:
    return CollectorRegistry()


def test_is_a_model_and_probabilistic_only_if_wrapped_is(reg):
    plain = MonitoredModel(Echo(), name="m", version="1", registry=reg)
    assert isinstance(plain, Model)
    assert not isinstance(plain, ProbabilisticModel)
    assert not hasattr(plain, "predict_proba")
    proba = MonitoredModel(Proba(), name="p", version="1", registry=reg)
    assert isinstance(proba, ProbabilisticModel)
    assert isinstance(proba, MonitoredModel)
    assert plain.task == "regression"
    assert proba.task == "classification"
    assert "MonitoredModel(Echo" in repr(plain)


def test_regression_counts_rows_ok_and_latency(reg):
    m = MonitoredModel(Echo(), name="m", version="1", registry=reg)
    out = m.predict([[1.5], [2.5], [3.5]])
    np.testing.assert_array_equal(out, [1.5, 2.5, 3.5])
    m.predict([[0.0]])
    assert value(reg, "mlkit_predictions_total", outcome="ok") == 4
    assert value(reg, "mlkit_predictions_total", outcome="error") == 0
    assert value(reg, "mlkit_prediction_latency_seconds_count") == 2
    assert value(reg, "mlkit_prediction_latency_seconds_bucket", le="10.0") == 2
    assert value(reg, "mlkit_prediction_latency_seconds_bucket", le="0.0005") is not None


def test_classifier_outcomes_and_folding(reg):
    m = MonitoredModel(
        Echo(), name="m", version="1", registry=reg, max_label_values=3, task="classification"
    )
    m.predict([[1], [2], [3], [4], [5], [1]])
    # A large batch goes through np.unique: same counting.
    m.predict(np.array([[1]] * 10 + [[9]] * 10 + [[2]] * 5))
    assert value(reg, "mlkit_predictions_total", outcome="1") == 12
    assert value(reg, "mlkit_predictions_total", outcome="2") == 6
    assert value(reg, "mlkit_predictions_total", outcome="3") == 1
    assert value(reg, "mlkit_predictions_total", outcome="4") is None
    assert value(reg, "mlkit_predictions_total", outcome="other") == 2 + 10
    outcomes = {
        s.labels["outcome"]
        for metric in reg.collect()
        if metric.name == "mlkit_predictions"
        for s in metric.samples
        if s.name == "mlkit_predictions_total"
    }
    assert outcomes == {"1", "2", "3", "other", "error"}


def test_class_labels_fix_the_outcomes(reg):
    m = MonitoredModel(Echo(), name="m", version="1", registry=reg, class_labels=[0, 1])
    m.predict([[0], [1], [7]])
    m.predict(pd.DataFrame({"a": [1] * 20 + [5] * 3}))
    assert value(reg, "mlkit_predictions_total", outcome="0") == 1
    assert value(reg, "mlkit_predictions_total", outcome="1") == 21
    assert value(reg, "mlkit_predictions_total", outcome="other") == 4


def test_cardinality_stays_bounded_under_many_values(reg):
    m = MonitoredModel(
        Echo(), name="m", version="1", registry=reg, max_label_values=5, task="classification"
    )
    for i in range(2000):
        m.predict([[float(i)], [float("nan")]])
    # NaN predictions share the label "nan" (admitted first, with 0.0).
    assert value(reg, "mlkit_predictions_total", outcome="nan") == 2000
    assert value(reg, "mlkit_predictions_total", outcome="other") == 2000 - 4
    assert len(m._children) <= 4 * (5 + len(m._by_label))
    assert len(m._by_label) == 2 + 5


def test_scalar_list_and_series_predictions(reg):
    class Scalar:
        def predict(self, X):
            return X

    m = MonitoredModel(Scalar(), name="m", version="1", registry=reg, class_labels=["a", "b"])
    m.predict("a")
    m.predict(["a", "b"])
    m.predict(pd.Series(["b"] * 20))
    m.predict(np.array("a"))
    m.predict([["a", "b"]])  # an unhashable (multi-output) row folds into "other"
    assert value(reg, "mlkit_predictions_total", outcome="a") == 3
    assert value(reg, "mlkit_predictions_total", outcome="b") == 21
    assert value(reg, "mlkit_predictions_total", outcome="other") == 1


def test_errors_counted_and_reraised(reg):
    m = MonitoredModel(Boom(), name="m", version="1", registry=reg)
    with pytest.raises(ValueError, match="bad"):
        m.predict("value")
    with pytest.raises(KeyError):
        m.predict([[1], [2]])
    with pytest.raises(ValueError, match="bad"):
        m.predict("value")
    assert value(reg, "mlkit_prediction_errors_total", error="ValueError") == 2
    assert value(reg, "mlkit_prediction_errors_total", error="KeyError") == 1
    assert value(reg, "mlkit_predictions_total", outcome="error") == 1 + 2 + 1
    assert value(reg, "mlkit_prediction_latency_seconds_count") == 3


def test_error_labels_bounded(reg):
    class Many:
        def predict(self, X):
            raise type(f"Err{X}", (Exception,), {})()

    m = MonitoredModel(Many(), name="m", version="1", registry=reg, max_label_values=2)
    for i in range(10):
        with pytest.raises(Exception, match=r"^$"):
            m.predict(i)
    assert value(reg, "mlkit_prediction_errors_total", error="Err0") == 1
    assert value(reg, "mlkit_prediction_errors_total", error="Err1") == 1
    assert value(reg, "mlkit_prediction_errors_total", error="other") == 8


def test_key_passed_to_router_only(reg):
    router = KeyedRouter()
    m = MonitoredModel(router, name="m", version="1", registry=reg)
    m.predict([[1]], key="user-1")
    assert router.keys == ["user-1"]
    plain = MonitoredModel(Echo(), name="m", version="2", registry=reg)
    plain.predict([[1]], key="ignored")
    assert type(m)._mlkit_routes_by_key is True


def test_works_behind_a_real_router(reg):
    from mlkit.routing import CanaryRouter

    a = MonitoredModel(Echo(), name="m", version="1", registry=reg)
    b = MonitoredModel(Echo(), name="m", version="2", registry=reg)
    router = CanaryRouter(a, b, weight=0.5, salt="t")
    for i in range(100):
        router.predict([[1.0]], key=f"k{i}")
    v1 = reg.get_sample_value("mlkit_predictions_total", {**LABELS, "outcome": "ok"})
    v2 = reg.get_sample_value(
        "mlkit_predictions_total", {"model": "m", "version": "2", "outcome": "ok"}
    )
    assert v1 + v2 == 100
    assert v1 > 0
    assert v2 > 0


def test_predict_proba_scores_and_outcomes(reg):
    m = MonitoredModel(Proba(), name="m", version="1", registry=reg)
    p = m.predict_proba([[0.9], [0.2], [0.7]])
    assert p.shape == (3, 2)
    assert value(reg, "mlkit_predictions_total", outcome="yes") == 2
    assert value(reg, "mlkit_predictions_total", outcome="no") == 1
    assert value(reg, "mlkit_prediction_score_count") == 3
    assert value(reg, "mlkit_prediction_score_sum") == pytest.approx(1.8)
    assert value(reg, "mlkit_prediction_score_bucket", le="0.25") == 1
    m.predict([[0.9]])
    assert value(reg, "mlkit_predictions_total", outcome="yes") == 3


def test_feature_histograms(reg):
    m = MonitoredModel(Echo(), name="m", version="1", registry=reg, feature_columns=["a", "b"])
    m.predict(pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [-5.0, 0.0, 50.0]}))
    assert value(reg, "mlkit_feature_value_count", feature="a") == 2
    # prometheus_client leaves out _sum when buckets go below zero.
    assert value(reg, "mlkit_feature_value_bucket", feature="a", le="1.0") == 1
    assert value(reg, "mlkit_feature_value_count", feature="b") == 3
    assert value(reg, "mlkit_feature_value_bucket", feature="b", le="-1.0") == 1

    class Any1:
        def predict(self, X):
            return [0]

    rec = MonitoredModel(Any1(), name="r", version="1", registry=reg, feature_columns=["a"])
    rec.predict({"a": 2.0})
    rec.predict(pd.Series({"a": 4.0}))
    rec.predict([{"a": 1.0}, {"a": 1.0}])
    labels = {"model": "r", "version": "1", "feature": "a"}
    assert reg.get_sample_value("mlkit_feature_value_count", labels) == 4
    other = CollectorRegistry()
    pos = MonitoredModel(
        Any1(),
        name="q",
        version="1",
        registry=other,
        feature_columns=[1],
        feature_buckets=(5.0, 7.5, 10.0),
    )
    pos.predict(np.array([[0.0, 7.0], [0.0, 8.0]]))
    labels = {"model": "q", "version": "1", "feature": "1"}
    assert other.get_sample_value("mlkit_feature_value_sum", labels) == 15.0
    assert other.get_sample_value("mlkit_feature_value_bucket", {**labels, "le": "7.5"}) == 1


def test_bad_features_raise_before_predicting(reg):
    m = MonitoredModel(Echo(), name="m", version="1", registry=reg, feature_columns=["a"])
    with pytest.raises(DataError, match="'a'") as info:
        m.predict(pd.DataFrame({"b": [1.0]}))
    assert info.value.column == "a"
    with pytest.raises(DataError, match="non-numeric"):
        m.predict(pd.DataFrame({"a": ["x"]}))
    with pytest.raises(DataError, match="named input"):
        m.predict(np.array([[1.0]]))
    assert value(reg, "mlkit_prediction_latency_seconds_count") == 0
    assert value(reg, "mlkit_predictions_total", outcome="ok") == 0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"name": ""}, "name"),
        ({"version": 3}, "version"),
        ({"max_label_values": 0}, "max_label_values"),
        ({"max_label_values": True}, "max_label_values"),
        ({"task": "ranking"}, "task"),
        ({"task": "regression", "class_labels": ["a"]}, "class_labels"),
        ({"latency_buckets": ()}, "latency_buckets"),
        ({"latency_buckets": (1.0, 0.5)}, "latency_buckets"),
        ({"feature_columns": [1.5]}, "feature_columns"),
    ],
)
def test_bad_arguments(reg, kwargs, argument):
    base = {"name": "m", "version": "1", "registry": reg}
    with pytest.raises(ConfigurationError) as info:
        MonitoredModel(Echo(), **{**base, **kwargs})
    assert info.value.column == argument


def test_model_without_predict(reg):
    with pytest.raises(ConfigurationError, match="predict"):
        MonitoredModel(object(), name="m", version="1", registry=reg)


def test_two_models_share_families_and_bucket_mismatch_raises(reg):
    MonitoredModel(Echo(), name="m", version="1", registry=reg)
    MonitoredModel(Echo(), name="m", version="2", registry=reg)
    with pytest.raises(ConfigurationError, match="mlkit_prediction_latency_seconds"):
        MonitoredModel(Echo(), name="m", version="3", registry=reg, latency_buckets=(1.0,))


def test_default_registry_used_when_none():
    from mlkit.monitoring import set_default_registry

    mine = CollectorRegistry()
    previous = set_default_registry(mine)
    try:
        m = MonitoredModel(Echo(), name="m", version="1")
        m.predict([[1.0]])
        assert m.registry is mine
        assert value(mine, "mlkit_predictions_total", outcome="ok") == 1
    finally:
        set_default_registry(previous)


def test_counters_exact_under_16_threads(reg):
    n_threads, n_calls = 16, 10_000
    m = MonitoredModel(Echo(), name="m", version="1", registry=reg, class_labels=[0, 1, 2])
    records = [np.array([[0]]), np.array([[1]]), np.array([[2]]), np.array([[3]])]
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def worker(seed: int) -> None:
        try:
            barrier.wait()
            for i in range(n_calls):
                m.predict(records[(i + seed) % 4])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = n_threads * n_calls
    for outcome in ("0", "1", "2", "other"):
        assert value(reg, "mlkit_predictions_total", outcome=outcome) == total // 4
    assert value(reg, "mlkit_prediction_latency_seconds_count") == total
    assert value(reg, "mlkit_prediction_latency_seconds_bucket", le="+Inf") == total


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from prometheus_client import CollectorRegistry
    from mlkit.monitoring import MonitoredModel

    class Echo:
        def predict(self, X):
            return np.asarray(X)[:, 0]

    n = int(sys.argv[1])
    m = MonitoredModel(Echo(), name="m", version="1", registry=CollectorRegistry(),
                       class_labels=[0, 1])
    for i in range(n):
        m.predict([[i % 2]])
    try:
        m.predict("not an array")
    except Exception:
        pass
    """
)


def test_multiprocess_two_processes(tmp_path: Path):
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(mp_dir)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in (300, 500)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert len(list(mp_dir.glob("*.db"))) >= 2
    collecting = CollectorRegistry()
    MultiProcessCollector(collecting, path=str(mp_dir))
    assert value(collecting, "mlkit_predictions_total", outcome="0") == 150 + 250
    assert value(collecting, "mlkit_predictions_total", outcome="1") == 150 + 250
    assert value(collecting, "mlkit_predictions_total", outcome="error") == 2
    assert value(collecting, "mlkit_prediction_errors_total", error="IndexError") == 2
    assert value(collecting, "mlkit_prediction_latency_seconds_count") == 802
