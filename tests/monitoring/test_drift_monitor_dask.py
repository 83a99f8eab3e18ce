"""DriftMonitor.observe_batch: a Dask frame or chunks tested as one window, from profiles."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from dask_support import dask_on
from mlkit.clock import FakeClock
from mlkit.errors import DataError
from mlkit.monitoring import DriftMonitor

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

# Statistics a profile computes exactly from counts on the reference bins.
BINNED = ("psi", "chi2", "jensen_shannon", "hellinger", "tvd", "missing")


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(0)
    n = 3000
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 10, n),
            "age": rng.integers(18, 90, n),
            "channel": rng.choice(["web", "app", "store"], n),
        }
    )


@pytest.fixture(scope="module")
def current():
    rng = np.random.default_rng(1)
    n = 2000
    amount = rng.normal(104, 12, n)
    amount[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "age": rng.integers(18, 95, n),
            "channel": rng.choice(["web", "app", "store", "kiosk"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def monitor_of(reference, **kwargs):
    return DriftMonitor(reference, registry=CollectorRegistry(), clock=FakeClock(), **kwargs)


def table(window):
    frame = window.report.to_frame()
    return frame.sort_values(["column", "test"]).reset_index(drop=True)


def cut(frame, bounds):
    edges = [0, *sorted(bounds), len(frame)]
    return [frame.iloc[a:b] for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("npartitions", [1, 3, 17])
def test_dask_partitions_give_the_pandas_batch_report(reference, current, npartitions):
    """1, 3 and 17 partitions give exactly the report of the same rows as one pandas piece."""
    expected = table(monitor_of(reference).observe_batch(current))
    got = monitor_of(reference).observe_batch(dd.from_pandas(current, npartitions=npartitions))
    assert got.n_rows == len(current)
    assert got.closed_by == "batch"
    pd.testing.assert_frame_equal(table(got), expected)


def test_binned_statistics_equal_a_pandas_window_of_the_same_rows(reference, current):
    """PSI, chi-square, ... from merged profiles equal the raw-value window test."""
    raw = monitor_of(reference, window=len(current))
    raw.observe(current)  # one full pandas window, tested on the raw values
    batch = monitor_of(reference).observe_batch(dd.from_pandas(current, npartitions=17))
    a, b = table(raw.latest), table(batch)
    a, b = (t[t["test"].isin(BINNED)].reset_index(drop=True) for t in (a, b))
    assert len(a) == 8  # psi + missing x 3 columns, chi2 and tvd on channel
    pd.testing.assert_series_equal(a["column"], b["column"])
    pd.testing.assert_series_equal(a["test"], b["test"])
    np.testing.assert_allclose(b["statistic"], a["statistic"], rtol=1e-12, atol=1e-15)
    ks = table(batch)
    ks = ks[ks["test"] == "ks"]
    raw_ks = table(raw.latest)
    raw_ks = raw_ks[raw_ks["test"] == "ks"]
    # KS from a profile never exceeds the exact statistic (it errs towards not flagging).
    assert (ks["statistic"].to_numpy() <= raw_ks["statistic"].to_numpy() + 1e-12).all()


@settings(max_examples=25)
@given(st.lists(st.integers(0, 2000), max_size=8))
def test_any_chunking_gives_the_same_report(reference, current, bounds):
    """Chunks cut anywhere, empty ones included, give the one-piece report."""
    expected = table(monitor_of(reference).observe_batch(current))
    got = monitor_of(reference).observe_batch(iter(cut(current, bounds)))
    pd.testing.assert_frame_equal(table(got), expected)


def test_the_batch_is_one_window_exported_and_recorded(reference, current):
    """The batch window is numbered, kept in history, exported, and leaves pending rows alone."""
    registry = CollectorRegistry()
    seen = []
    monitor = DriftMonitor(
        reference, window=100, registry=registry, clock=FakeClock(), on_report=seen.append
    )
    monitor.observe(current.iloc[:30])
    shifted = current.assign(amount=current["amount"] + 40)
    monitor.observe(dd.from_pandas(shifted, npartitions=3))  # delegates to observe_batch
    assert monitor.n_pending == 30
    assert monitor.n_observed == 30 + len(current)
    (window,) = seen
    assert window is monitor.latest
    assert monitor.history == (window,)
    assert window.index == 0
    assert window.n_observed == len(current)
    assert "amount" in window.drifted_columns
    assert registry.get_sample_value("mlkit_drift_detected", {"feature": "amount"}) == 1.0
    assert registry.get_sample_value("mlkit_drift_windows_total", {"outcome": "drifted"}) == 1.0
    monitor.observe(current.iloc[:70])  # completes the buffered window
    assert monitor.latest.index == 1
    assert monitor.latest.closed_by == "rows"


def test_bad_batches_are_refused(reference, current):
    """Missing, unknown and non-numeric columns and empty batches raise DataError."""
    monitor = monitor_of(reference)
    with pytest.raises(DataError, match="lacks reference column 'age'"):
        monitor.observe_batch(dd.from_pandas(current.drop(columns="age"), npartitions=2))
    with pytest.raises(DataError, match="column 'extra'"):
        monitor.observe_batch(dd.from_pandas(current.assign(extra=1), npartitions=2))
    words = current.assign(amount="many")
    with pytest.raises(DataError, match="'amount' must hold numbers"):
        monitor.observe_batch([current.iloc[:10], words.iloc[10:20]])
    with pytest.raises(DataError, match="no rows"):
        monitor.observe_batch([current.iloc[:0]])
    with pytest.raises(DataError, match="no chunk"):
        monitor.observe_batch([])
    assert monitor.history == ()
    assert monitor.observe_batch(current).index == 0  # refused batches took no number


def test_a_two_worker_cluster_gives_the_pandas_batch_report(reference, current, dask_client):
    """On a real LocalCluster (2 worker processes) 17 partitions give the one-piece report."""
    expected = table(monitor_of(reference).observe_batch(current))
    ddf = dd.from_pandas(current, npartitions=17)
    with dask_on(dask_client) as tasks:
        got = monitor_of(reference).observe_batch(ddf, split_every=3)
    assert tasks.data  # the work ran on the cluster's workers
    pd.testing.assert_frame_equal(table(got), expected)
