import gc
import logging
import threading
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.monitoring import DriftMonitor, WindowReport


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(0)
    n = 4000
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 10, n),
            "age": rng.integers(18, 90, n),
            "channel": rng.choice(["web", "app", "store"], n),
        }
    )


def records(frame):
    return frame.to_dict(orient="records")


def sample(reference, n, seed, shift=0.0):
    out = reference.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    out["amount"] = out["amount"] + shift
    return out


def gauge(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_drifted_traffic_flips_the_gauges(reference):
    registry = CollectorRegistry()
    seen = []
    monitor = DriftMonitor(reference, window=500, registry=registry, on_report=seen.append)
    for record in records(sample(reference, 500, 1)):
        monitor.observe(record)
    assert monitor.latest is not None
    assert not monitor.latest.drifted_columns
    assert gauge(registry, "mlkit_drift_detected", feature="amount") == 0.0
    calm = gauge(registry, "mlkit_drift_score", feature="amount", test="psi")
    assert calm < 0.1

    for record in records(sample(reference, 500, 2, shift=25.0)):
        monitor.observe(record)
    assert monitor.latest.drifted_columns == ("amount",)
    assert gauge(registry, "mlkit_drift_detected", feature="amount") == 1.0
    assert gauge(registry, "mlkit_drift_detected", feature="channel") == 0.0
    assert gauge(registry, "mlkit_drift_score", feature="amount", test="psi") > 0.25
    assert gauge(registry, "mlkit_drift_windows_total", outcome="not_drifted") == 2.0 - (
        1.0 if monitor.latest.drifted else 0.0
    )
    assert [r.index for r in seen] == [0, 1]
    assert monitor.history == tuple(seen)
    assert all(r.closed_by == "rows" and r.n_rows == 500 for r in seen)


def test_window_equals_detector_on_the_same_rows(reference):
    monitor = DriftMonitor(reference, window=300, registry=CollectorRegistry())
    batch = sample(reference, 300, 3, shift=4.0)
    for record in records(batch):
        monitor.observe(record)
    expected = monitor.detector.test(batch).to_frame()
    got = monitor.latest.report.to_frame()
    pd.testing.assert_frame_equal(
        got[["column", "test", "statistic", "drifted"]],
        expected[["column", "test", "statistic", "drifted"]],
    )


def test_series_dataframe_and_dict_inputs_agree(reference):
    batch = sample(reference, 700, 4)
    reports = []
    for mode in ("dict", "series", "frame"):
        monitor = DriftMonitor(reference, window=250, registry=CollectorRegistry())
        if mode == "dict":
            for record in records(batch):
                monitor.observe(record)
        elif mode == "series":
            for _, row in batch.iterrows():
                monitor.observe(row)
        else:
            monitor.observe(batch.iloc[:100])
            monitor.observe(batch.iloc[100:])
        assert [r.n_rows for r in monitor.history] == [250, 250]
        assert monitor.n_pending == 200
        assert monitor.n_observed == 700
        reports.append(monitor.latest.report.to_frame()["statistic"].to_numpy())
    np.testing.assert_allclose(reports[0], reports[1])
    np.testing.assert_allclose(reports[0], reports[2])


def test_windows_by_time_on_a_fake_clock(reference):
    clock = FakeClock(start=1000.0)
    registry = CollectorRegistry()
    monitor = DriftMonitor(
        reference, window=1000, window_seconds=60, clock=clock, registry=registry
    )
    rows = records(sample(reference, 300, 5))
    for record in rows[:200]:
        monitor.observe(record)
        clock.advance(0.1)  # 20 s of traffic
    assert monitor.latest is None
    clock.advance(45)  # past the end of [1000, 1060)
    assert monitor.tick().n_rows == 200
    first = monitor.latest
    assert (first.start, first.end, first.closed_by) == (1000.0, 1060.0, "time")
    assert monitor.tick() is None
    clock.advance(200)  # quiet: windows [1060, 1120) ... skipped, no empty reports
    for record in rows[200:]:
        monitor.observe(record)
    clock.advance(60)
    monitor.observe(rows[0])  # closes the window holding the 100 rows, opens the next
    second = monitor.latest
    assert second.index == 1
    assert second.n_rows == 100
    assert (second.start, second.end) == (1240.0, 1300.0)
    assert monitor.n_pending == 1
    assert gauge(registry, "mlkit_drift_windows_total", outcome="not_drifted") == 2.0


def test_time_window_overflow_keeps_a_uniform_sample(reference):
    clock = FakeClock()
    monitor = DriftMonitor(
        reference, window=200, window_seconds=10, clock=clock, registry=CollectorRegistry()
    )
    batch = sample(reference, 3000, 6)
    batch["amount"] = np.arange(3000.0)  # position in the stream
    half = records(batch.iloc[:1500])
    for record in half:
        monitor.observe(record)
    monitor.observe(batch.iloc[1500:])
    assert monitor.n_pending == 200
    clock.advance(10)
    report = monitor.tick()
    assert report.n_rows == 200
    assert report.n_observed == 3000
    # Rows from both halves (single records and the frame) are in the sample.
    kept = monitor._num[:200, monitor._numeric.index("amount")]
    assert 20 < (kept < 1500).sum() < 180
    assert len(np.unique(kept)) == 200


def test_flush_tests_a_partial_window(reference):
    monitor = DriftMonitor(reference, window=1000, registry=CollectorRegistry())
    assert monitor.flush() is None
    monitor.observe(sample(reference, 50, 7))
    report = monitor.flush()
    assert report.closed_by == "flush"
    assert report.n_rows == 50
    assert monitor.n_pending == 0


def test_history_is_bounded(reference):
    monitor = DriftMonitor(reference, window=10, history=3, registry=CollectorRegistry())
    monitor.observe(sample(reference, 100, 8))
    assert [r.index for r in monitor.history] == [7, 8, 9]


@pytest.mark.parametrize(
    ("record", "column"),
    [
        ({"amount": 1.0, "age": 30}, "channel"),
        ({"amount": 1.0, "age": 30, "channel": "web", "colour": "red"}, "colour"),
        ({"amount": "lots", "age": 30, "channel": "web"}, "amount"),
    ],
)
def test_bad_records_name_the_column(reference, record, column):
    monitor = DriftMonitor(reference, window=10, registry=CollectorRegistry())
    with pytest.raises(DataError, match=repr(column)) as info:
        monitor.observe(record)
    assert info.value.column == column
    assert monitor.n_pending == 0
    assert monitor.n_observed == 0


def test_bad_frames_name_the_column(reference):
    monitor = DriftMonitor(reference, window=10, registry=CollectorRegistry())
    batch = sample(reference, 5, 9)
    with pytest.raises(DataError, match="'channel'"):
        monitor.observe(batch.drop(columns="channel"))
    with pytest.raises(DataError, match="'extra'"):
        monitor.observe(batch.assign(extra=1))
    with pytest.raises(DataError, match="'amount'"):
        monitor.observe(batch.assign(amount="x"))
    with pytest.raises(DataError, match="list"):
        monitor.observe([1, 2, 3])
    assert monitor.n_observed == 0


def test_missing_values_are_buffered_as_missing(reference):
    monitor = DriftMonitor(reference, window=100, registry=CollectorRegistry())
    rows = records(sample(reference, 100, 10))
    for record in rows[:50]:
        monitor.observe({**record, "amount": None, "channel": None})
    for record in rows[50:]:
        monitor.observe(record)
    frame = monitor.latest.report.to_frame().set_index(["column", "test"])
    assert frame.loc[("amount", "missing"), "missing_current"] == 50
    assert frame.loc[("channel", "missing"), "missing_current"] == 50
    assert monitor.latest.drifted_columns == ("amount", "channel")


def test_bad_arguments(reference):
    with pytest.raises(ConfigurationError, match="window"):
        DriftMonitor(reference, window=1)
    with pytest.raises(ConfigurationError, match="window_seconds"):
        DriftMonitor(reference, window_seconds=0)
    with pytest.raises(ConfigurationError, match="history"):
        DriftMonitor(reference, history=0)
    with pytest.raises(ConfigurationError, match="on_report"):
        DriftMonitor(reference, on_report=3)
    with pytest.raises(ConfigurationError, match="tests"):
        DriftMonitor(reference, detector_kwargs={"tests": ["ks"]})


def test_tests_and_detector_kwargs_reach_the_detector(reference):
    registry = CollectorRegistry()
    monitor = DriftMonitor(
        reference,
        window=100,
        tests=["ks", "chi2"],
        detector_kwargs={"decision": "effect"},
        registry=registry,
    )
    monitor.observe(sample(reference, 100, 11))
    assert set(monitor.latest.report.to_frame()["test"]) == {"ks", "chi2"}
    assert gauge(registry, "mlkit_drift_score", feature="age", test="ks") is not None
    assert gauge(registry, "mlkit_drift_score", feature="amount", test="psi") is None


def test_from_a_saved_profile(reference, tmp_path):
    first = DriftMonitor(reference, window=100, registry=CollectorRegistry())
    path = first.detector.profile_.save(tmp_path / "ref.npz")
    from mlkit.drift import ReferenceProfile

    second = DriftMonitor(ReferenceProfile.load(path), window=100, registry=CollectorRegistry())
    batch = sample(reference, 100, 12, shift=20)
    first.observe(batch)
    second.observe(batch)
    assert first.latest.drifted_columns == second.latest.drifted_columns == ("amount",)


def test_two_monitors_share_a_registry(reference):
    registry = CollectorRegistry()
    a = DriftMonitor(reference, window=50, registry=registry)
    b = DriftMonitor(reference, window=50, registry=registry)
    a.observe(sample(reference, 50, 13))
    b.observe(sample(reference, 50, 14))
    assert gauge(registry, "mlkit_drift_windows_total", outcome="not_drifted") == 2.0


def test_failing_callback_and_test_are_logged_not_raised(reference, caplog, monkeypatch):
    def boom(report):
        raise RuntimeError("callback broke")

    registry = CollectorRegistry()
    monitor = DriftMonitor(reference, window=20, registry=registry, on_report=boom)
    with caplog.at_level(logging.ERROR, logger="mlkit.monitoring._drift_monitor"):
        monitor.observe(sample(reference, 20, 15))
    assert "on_report callback failed" in caplog.text

    def broken(frame):
        raise ValueError("kernel broke")

    monkeypatch.setattr(monitor.detector, "test", broken)
    with caplog.at_level(logging.ERROR, logger="mlkit.monitoring._drift_monitor"):
        monitor.observe(sample(reference, 20, 16))
    assert monitor.latest.report is None
    assert monitor.latest.error == "ValueError: kernel broke"
    assert not monitor.latest.drifted
    assert monitor.latest.to_dict()["report"] is None
    assert gauge(registry, "mlkit_drift_windows_total", outcome="error") == 1.0


def test_concurrent_observers_lose_no_row(reference):
    monitor = DriftMonitor(reference, window=1000, registry=CollectorRegistry())
    rows = records(sample(reference, 500, 17))
    errors = []

    def work():
        try:
            for _ in range(10):
                for record in rows:
                    monitor.observe(record)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert monitor.n_observed == 8 * 10 * 500
    history = monitor.history
    assert len(history) == 40
    assert all(r.n_rows == 1000 for r in history)
    assert sorted(r.index for r in history) == list(range(40))


def test_report_helpers(reference):
    monitor = DriftMonitor(reference, window=100, registry=CollectorRegistry())
    monitor.observe(sample(reference, 100, 18))
    report = monitor.latest
    assert isinstance(report, WindowReport)
    frame = report.to_frame()
    assert list(frame.columns[:4]) == ["window", "window_start", "window_end", "column"]
    assert report.to_dict()["n_rows"] == 100
    assert repr(report).startswith("WindowReport(index=0, n_rows=100, DriftReport(")
    assert repr(monitor) == "DriftMonitor(3 columns, window=100, windows=1, pending=0)"


def test_memory_is_flat_over_a_million_observations(reference):
    monitor = DriftMonitor(reference, window=10_000, history=5, registry=CollectorRegistry())
    rows = records(sample(reference, 1000, 19))
    for record in rows * 20:  # warm up: buffers filled, gauges created, history full
        monitor.observe(record)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(980):
            for record in rows:
                monitor.observe(record)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert monitor.n_observed == 1_000_000
    assert len(monitor.history) == 5
    assert after - before < 2_000_000, after - before
