import gc
import json
import math
import random
import threading
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring import MetricsResult, PerformanceMonitor
from mlkit.monitoring._performance import CLASSIFICATION_METRICS, EVENTS, REGRESSION_METRICS


def make(**kwargs):
    kwargs.setdefault("clock", FakeClock(1000.0))
    kwargs.setdefault("registry", CollectorRegistry())
    return PerformanceMonitor(**kwargs)


def sk_classification(y_pred, y_true, pos_label=1):
    kw = {"pos_label": pos_label, "zero_division": np.nan}
    y_pred, y_true = pd.Series(y_pred), pd.Series(y_true)
    out = {
        "accuracy": accuracy_score(y_true, y_pred),
        "error_rate": 1 - accuracy_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred, **kw),
        "recall": recall_score(y_true, y_pred, **kw),
        "f1": f1_score(y_true, y_pred, **kw),
        "mean_prediction": (y_pred == pos_label).mean(),
        "mean_actual": (y_true == pos_label).mean(),
    }
    return {k: None if math.isnan(v) else float(v) for k, v in out.items()}


def sk_regression(y_pred, y_true):
    return {
        "mae": mean_absolute_error(y_true, y_pred),
        "rmse": math.sqrt(mean_squared_error(y_true, y_pred)),
        "mean_prediction": pd.Series(y_pred, dtype=float).mean(),
        "mean_actual": pd.Series(y_true, dtype=float).mean(),
    }


def assert_values(result, expected):
    for metric, value in expected.items():
        got = result[metric]
        if value is None:
            assert got is None, metric
            assert result.reasons[metric]
        else:
            assert got == pytest.approx(value, rel=1e-9, abs=1e-12), metric


def sample(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_every_late_label_case_is_counted_and_metrics_match_sklearn():
    clock = FakeClock(0.0)
    registry = CollectorRegistry()
    monitor = PerformanceMonitor(
        metrics=CLASSIFICATION_METRICS,
        ttl=100.0,
        max_pending=100,
        min_samples=5,
        window=40,
        clock=clock,
        registry=registry,
        name="churn",
    )
    rng = random.Random(7)
    preds = {f"p{i}": rng.randint(0, 1) for i in range(60)}
    truths = {k: rng.randint(0, 1) for k in preds}
    for pid, y in list(preds.items())[:30]:
        monitor.record_prediction(pid, y)
    monitor.record_prediction("p0", 1 - preds["p0"])  # duplicate: ignored, first wins
    clock.advance(60)
    for pid, y in list(preds.items())[30:]:
        monitor.record_prediction(pid, y)
    # Out of order: the newest first, then some of the oldest; p20..p29 never arrive.
    matched = []
    for i in [*range(59, 44, -1), *range(0, 20)]:
        monitor.record_actual(f"p{i}", truths[f"p{i}"])
        matched.append(f"p{i}")
    monitor.record_actual("p3", 1 - truths["p3"])  # duplicate actual: ignored
    monitor.record_actual("ghost", 1)  # never predicted
    clock.advance(50)  # t=110: p20..p29 (t=0) are past ttl, p30..p59 (t=60) are not
    monitor.record_actual("p25", truths["p25"])  # late: expired before its label came
    for i in range(30, 45):  # matched after the sweep, still within ttl
        monitor.record_actual(f"p{i}", truths[f"p{i}"])
        matched.append(f"p{i}")

    result = monitor.metrics()
    counts = result.counts
    assert counts == {
        "prediction": 60,
        "duplicate_prediction": 1,
        "actual": 53,
        "matched": 50,
        "duplicate_actual": 1,
        "late_actual": 1,
        "unmatched_actual": 1,
        "expired": 10,
        "evicted": 0,
        "pending": 0,
    }
    window = matched[-40:]
    assert result.n_samples == 40
    assert_values(
        result, sk_classification([preds[p] for p in window], [truths[p] for p in window])
    )
    assert list(monitor.pairs()["prediction_id"]) == window
    for event in EVENTS:
        assert (
            sample(registry, "mlkit_performance_events_total", model="churn", event=event)
            == (counts[event])
        )
    assert sample(registry, "mlkit_model_metric", model="churn", metric="accuracy") == (
        pytest.approx(result["accuracy"])
    )
    assert sample(registry, "mlkit_performance_window_pairs", model="churn") == 40


def test_max_pending_evicts_the_oldest_and_counts_it():
    clock = FakeClock(0.0)
    monitor = make(max_pending=3, ttl=10.0, min_samples=1, clock=clock)
    for i in range(5):
        monitor.record_prediction(i, 1)
    assert monitor.counts()["evicted"] == 2
    assert monitor.n_pending == 3
    monitor.record_actual(0, 1)  # its prediction was evicted
    monitor.record_actual(4, 1)
    counts = monitor.counts()
    assert (counts["late_actual"], counts["matched"], counts["pending"]) == (1, 1, 2)
    clock.advance(10)
    monitor.record_prediction(9, 0)  # sweeps 2 and 3 as expired
    assert monitor.counts()["expired"] == 2
    # Evicting an entry already past its ttl counts it as expired, not evicted.
    small = make(max_pending=1, ttl=5.0, clock=clock)
    small.record_prediction("a", 1, ts=clock.now() - 10)
    small.record_prediction("b", 1)
    assert (small.counts()["expired"], small.counts()["evicted"]) == (1, 0)


def test_out_of_order_ts_expires_when_its_label_arrives():
    clock = FakeClock(1000.0)
    monitor = make(ttl=100.0, min_samples=1, clock=clock)
    monitor.record_prediction("new", 1)
    monitor.record_prediction("old", 1, ts=850.0)  # already past ttl, behind a live one
    monitor.record_actual("old", 1)
    monitor.record_actual("new", 1)
    counts = monitor.counts()
    assert (counts["expired"], counts["late_actual"], counts["matched"]) == (1, 1, 1)
    assert monitor.pairs()["predicted_at"].tolist() == [1000.0]


def test_a_resolved_id_can_be_predicted_again():
    monitor = make(min_samples=1)
    monitor.record_prediction("user-1", 1)
    monitor.record_actual("user-1", 1)
    monitor.record_prediction("user-1", 0)
    monitor.record_actual("user-1", 0)
    assert monitor.counts()["matched"] == 2
    assert monitor.counts()["duplicate_prediction"] == 0


def test_below_min_samples_every_metric_is_none_with_a_reason():
    registry = CollectorRegistry()
    monitor = make(metrics=("accuracy", "f1"), min_samples=5, registry=registry)
    for i in range(3):
        monitor.record_prediction(i, 1)
        monitor.record_actual(i, 1)
    result = monitor.metrics()
    assert result.values == {"accuracy": None, "f1": None}
    assert "3 matched pairs" in result.reasons["accuracy"]
    assert "min_samples=5" in result.reasons["f1"]
    assert not result.available
    assert math.isnan(sample(registry, "mlkit_model_metric", model="model", metric="accuracy"))


def test_undefined_binary_metrics_are_none_with_a_reason():
    monitor = make(metrics=("precision", "recall", "f1", "accuracy"), min_samples=2)
    for i, (p, t) in enumerate([(0, 0), (0, 0), (0, 0)]):
        monitor.record_prediction(i, p)
        monitor.record_actual(i, t)
    result = monitor.metrics()
    assert result["accuracy"] == 1.0
    assert result["precision"] is None
    assert "no predicted positives" in result.reasons["precision"]
    assert result["recall"] is None
    assert result["f1"] is None
    assert result.reasons["accuracy"] is None


def test_string_labels_and_pos_label():
    monitor = make(metrics=("precision", "recall"), pos_label="spam", min_samples=1)
    pairs = [("spam", "spam"), ("spam", "ham"), ("ham", "spam"), ("ham", "ham")]
    for i, (p, t) in enumerate(pairs):
        monitor.record_prediction(i, p)
        monitor.record_actual(i, t)
    expected = sk_classification([p for p, _ in pairs], [t for _, t in pairs], pos_label="spam")
    assert_values(monitor.metrics(), {k: expected[k] for k in ("precision", "recall")})


@given(
    labels=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=120),
    window=st.integers(1, 50),
    seed=st.integers(0, 2**16),
)
def test_classification_matches_sklearn_on_the_window(labels, window, seed):
    monitor = make(metrics=CLASSIFICATION_METRICS, window=window, min_samples=1)
    rng = random.Random(seed)
    for i, (p, _) in enumerate(labels):
        monitor.record_prediction(i, p)
    order = list(range(len(labels)))
    rng.shuffle(order)
    arrived = [i for i in order if rng.random() < 0.8]  # the rest never arrive
    for i in arrived:
        monitor.record_actual(i, labels[i][1])
    result = monitor.metrics()
    last = arrived[-window:]
    assert result.n_samples == len(last)
    if last:
        expected = sk_classification([labels[i][0] for i in last], [labels[i][1] for i in last])
        assert_values(result, expected)
    assert result.counts["pending"] == len(labels) - len(arrived)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(
    values=st.lists(st.tuples(finite, finite), min_size=1, max_size=80),
    window=st.integers(1, 30),
    seed=st.integers(0, 2**16),
)
def test_regression_matches_sklearn_on_the_window(values, window, seed):
    monitor = make(task="regression", metrics=REGRESSION_METRICS, window=window, min_samples=1)
    rng = random.Random(seed)
    order = list(range(len(values)))
    for i in order:
        monitor.record_prediction(f"r{i}", values[i][0])
    rng.shuffle(order)
    for i in order:
        monitor.record_actual(f"r{i}", values[i][1])
    last = order[-window:]
    expected = sk_regression([values[i][0] for i in last], [values[i][1] for i in last])
    result = monitor.metrics()
    for metric, value in expected.items():
        assert result[metric] == pytest.approx(value, rel=1e-9, abs=1e-6), metric


def test_threads_count_exactly():
    registry = CollectorRegistry()
    monitor = make(max_pending=1_000_000, min_samples=1, window=500, registry=registry)
    n_threads, per_thread = 8, 5_000
    errors = []

    def work(t):
        try:
            for i in range(per_thread):
                monitor.record_prediction((t, i), i % 2)
            for i in range(per_thread):
                monitor.record_actual((t, i), i % 2)
                monitor.record_actual((t, -i - 1), 0)  # unmatched
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    total = n_threads * per_thread
    counts = monitor.counts()
    assert counts["prediction"] == counts["matched"] == counts["unmatched_actual"] == total
    assert counts["actual"] == 2 * total
    assert counts["pending"] == 0
    assert monitor.metrics()["accuracy"] == 1.0
    assert sample(registry, "mlkit_performance_events_total", model="model", event="matched") == (
        total
    )


def test_memory_stays_flat_over_a_million_observations():
    clock = FakeClock(0.0)
    monitor = make(
        metrics=("accuracy", "f1"), window=1000, max_pending=2000, ttl=50.0, clock=clock
    )

    def feed(start, stop):
        # 5 records per step: 2 predictions, 1 matching actual, 1 unmatched, 1 duplicate.
        for i in range(start, stop):
            monitor.record_prediction(2 * i, i % 2)
            monitor.record_prediction(2 * i + 1, 1)  # never labelled: expires or is evicted
            monitor.record_actual(2 * i, (i // 3) % 2)
            monitor.record_actual(-i - 1, 0)
            monitor.record_prediction(2 * i + 1, 0)
            if i % 100 == 0:
                clock.advance(1.0)

    feed(0, 10_000)  # reach steady state before measuring
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        feed(10_000, 200_000)  # 1,000,000 observations in all
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 2_000_000
    counts = monitor.counts()
    assert counts["pending"] <= 2000
    assert counts["matched"] == 200_000
    assert monitor.metrics().n_samples == 1000


def test_gauges_follow_scrapes_and_a_dropped_monitor_is_not_kept_alive():
    registry = CollectorRegistry()
    monitor = make(metrics=("accuracy",), min_samples=2, registry=registry, name="m")
    assert math.isnan(sample(registry, "mlkit_model_metric", model="m", metric="accuracy"))
    for i, (p, t) in enumerate([(1, 1), (1, 0), (0, 0), (1, 1)]):
        monitor.record_prediction(i, p)
        monitor.record_actual(i, t)
        if i == 1:  # fresh without calling metrics()
            assert sample(registry, "mlkit_model_metric", model="m", metric="accuracy") == 0.5
    assert sample(registry, "mlkit_model_metric", model="m", metric="accuracy") == 0.75
    monitor.record_prediction("waiting", 1)
    assert sample(registry, "mlkit_performance_pending_predictions", model="m") == 1
    del monitor
    gc.collect()
    assert math.isnan(sample(registry, "mlkit_model_metric", model="m", metric="accuracy"))


def test_result_to_dict_and_frame():
    monitor = make(metrics=("accuracy", "precision"), min_samples=1)
    monitor.record_prediction("a", 0, features={"x": 1.5})
    monitor.record_actual("a", 0)
    result = monitor.metrics()
    assert isinstance(result, MetricsResult)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["values"] == {"accuracy": 1.0, "precision": None}
    assert data["reasons"]["precision"].startswith("no predicted positives")
    frame = result.to_frame()
    assert list(frame.columns) == ["metric", "value", "reason", "n_samples"]
    assert frame["value"].isna().tolist() == [False, True]
    assert (
        repr(result) == "MetricsResult(model='model', n_samples=1, accuracy=1.0, precision=None)"
    )
    assert monitor.pairs()["features"].tolist() == [{"x": 1.5}]
    assert "PerformanceMonitor(name='model'" in repr(monitor)


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"task": "ranking"}, "task"),
        ({"metrics": ("mae",)}, "metrics"),
        ({"metrics": ()}, "metrics"),
        ({"metrics": ("accuracy", "accuracy")}, "metrics"),
        ({"task": "regression", "metrics": ("accuracy",)}, "metrics"),
        ({"window": 0}, "window"),
        ({"window": 10, "min_samples": 11}, "min_samples"),
        ({"min_samples": 0}, "min_samples"),
        ({"max_pending": True}, "max_pending"),
        ({"ttl": 0}, "ttl"),
        ({"ttl": float("nan")}, "ttl"),
        ({"clock": object()}, "clock"),
        ({"name": ""}, "name"),
        ({"registry": object()}, "registry"),
    ],
)
def test_bad_configuration_names_the_argument(kwargs, column):
    with pytest.raises(ConfigurationError) as info:
        make(**kwargs)
    assert info.value.column == column


def test_bad_data_raises_data_error_and_keeps_state():
    monitor = make(task="regression", metrics=("mae",), min_samples=1)
    with pytest.raises(DataError, match="y_pred"):
        monitor.record_prediction("a", "high")
    with pytest.raises(DataError, match="y_pred"):
        monitor.record_prediction("a", float("nan"))
    monitor.record_prediction("a", 1.0)
    with pytest.raises(DataError, match="y_true"):
        monitor.record_actual("a", None)
    with pytest.raises(DataError, match="prediction_id"):
        monitor.record_prediction(["a"], 1.0)
    with pytest.raises(DataError, match="prediction_id"):
        monitor.record_actual(["a"], 1.0)
    monitor.record_actual("a", 3.0)
    assert monitor.metrics()["mae"] == 2.0
    assert monitor.counts()["actual"] == 1


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_missing_class_labels_are_refused_not_counted_wrong(missing):
    monitor = PerformanceMonitor(registry=CollectorRegistry(), min_samples=1)
    monitor.record_prediction("a", 1)
    with pytest.raises(DataError, match="missing"):
        monitor.record_actual("a", missing)
    with pytest.raises(DataError, match="y_pred"):
        monitor.record_prediction("b", missing)
    monitor.record_actual("a", 1)
    assert monitor.metrics().values["accuracy"] == 1.0
