"""DataQualityMonitor and QualityReport: schema plus expectations, notifications, history."""

from __future__ import annotations

import json
import logging
import threading

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError, DataError, SchemaError
from mlkit.protocols import Notification
from mlkit.validation._expectations import (
    Expectation,
    ExpectationResult,
    expect_null_share_below,
    expect_row_count_between,
    expect_unique,
)
from mlkit.validation._monitor import (
    FRAME_COLUMNS,
    TREND_COLUMNS,
    DataQualityMonitor,
    QualityReport,
)
from mlkit.validation._severity import SEVERITIES, rank
from mlkit.validation._validate import validate


class Recorder:
    """A Notifier that keeps what it is told."""

    def __init__(self):
        self.received: list[Notification] = []

    def notify(self, notification):
        self.received.append(notification)


class Broken:
    def notify(self, notification):
        raise ConnectionError("webhook down")


def switch(severity):
    """An expectation of `severity` that fails when the frame's column `severity` is 1."""
    return Expectation(
        f"switch_{severity}", lambda df: not bool(df[severity].iloc[0]), severity=severity
    )


SWITCHES = [switch(s) for s in SEVERITIES]


def batch(failing):
    return pd.DataFrame({s: [int(s in failing)] for s in SEVERITIES})


SCHEMA = pa.DataFrameSchema(
    {
        "age": pa.Column(int, pa.Check.in_range(0, 120)),
        "name": pa.Column(str, metadata={"mlkit": {"severity": "warning"}}),
        "when": pa.Column("datetime64[ns, UTC]", nullable=True, required=False),
    },
    checks=[pa.Check(lambda df: df["age"] != 7, name="not_seven")],
    strict=True,
)


# --- notifications ------------------------------------------------------------------------


@given(
    st.lists(st.sets(st.sampled_from(SEVERITIES)), min_size=1, max_size=8),
    st.sampled_from(SEVERITIES),
)
def test_notifier_is_told_once_per_check_failing_at_or_above_notify_at(batches, notify_at):
    recorder = Recorder()
    monitor = DataQualityMonitor(
        expectations=SWITCHES, notifier=recorder, notify_at=notify_at, clock=FakeClock()
    )
    expected = []
    for failing in batches:
        report = monitor.check(batch(failing))
        worst = max(failing, key=rank, default=None)
        assert report.max_severity == worst
        if worst is not None and rank(worst) >= rank(notify_at):
            expected.append(worst)
    assert [n.severity for n in recorder.received] == expected
    assert monitor.notifications_sent == len(expected)
    assert monitor.notification_errors == 0


@given(st.sets(st.sampled_from(SEVERITIES)), st.sampled_from(SEVERITIES))
def test_passed_at_is_false_iff_something_at_or_above_failed(failing, at):
    report = DataQualityMonitor(expectations=SWITCHES).check(batch(failing))
    assert report.passed(at) == (not any(rank(s) >= rank(at) for s in failing))
    assert report.passed() == report.passed("error")
    counts = report.counts()
    assert counts == {s: int(s in failing) for s in SEVERITIES}


def test_notification_title_message_severity_labels_and_time():
    recorder = Recorder()
    monitor = DataQualityMonitor(
        expectations=[
            expect_row_count_between(5, None),
            expect_unique("id"),
            expect_null_share_below("x", 0.1, severity="warning"),
            expect_null_share_below("id", 0.5, severity="info"),
        ],
        notifier=recorder,
        clock=FakeClock(start=1_700_000_000),
        labels={"model": "fraud", "monitor": "ignored"},
    )
    monitor.check(pd.DataFrame({"id": [1, 1, 2], "x": [None, 1.0, 2.0]}))
    [notification] = recorder.received
    assert notification.title == "data quality: 2 errors, 1 warning"
    assert notification.severity == "error"
    assert notification.timestamp == 1_700_000_000
    assert notification.labels == {
        "alertname": "DataQuality",
        "model": "fraud",
        "monitor": "data quality",
        "severity": "error",
    }
    lines = notification.message.splitlines()
    assert lines[0].startswith("data quality: FAILED, 2 errors, 1 warning (3 rows at 2023-11-14")
    assert lines[1].startswith("- [error] expectation row_count_between: 3 rows")
    assert lines[3].startswith("- [warning] expectation null_share_below(x)")
    assert lines[-1] == "1 of 4 expectations passed"


def test_monitor_name_starts_the_title_and_labels():
    recorder = Recorder()
    monitor = DataQualityMonitor(
        expectations=[expect_row_count_between(5, None, severity="critical")],
        notifier=recorder,
        name="payments batch",
    )
    monitor.check(pd.DataFrame({"a": [1]}))
    assert recorder.received[0].title == "payments batch: 1 critical"
    assert recorder.received[0].labels["monitor"] == "payments batch"


def test_failing_notifier_is_logged_counted_and_does_not_break_check(caplog):
    monitor = DataQualityMonitor(
        expectations=[expect_row_count_between(5, None)], notifier=Broken(), clock=FakeClock()
    )
    with caplog.at_level(logging.ERROR, logger="mlkit.validation._monitor"):
        report = monitor.check(pd.DataFrame({"a": [1]}))
        monitor.check(pd.DataFrame({"a": [1]}))
    assert not report.passed()
    assert monitor.notification_errors == 2
    assert monitor.notifications_sent == 0
    assert len(monitor.history) == 2
    assert "notifier" in caplog.text
    assert "webhook down" in caplog.text


def test_passing_checks_never_notify():
    recorder = Recorder()
    monitor = DataQualityMonitor(SCHEMA, [expect_unique("age")], notifier=recorder)
    report = monitor.check(pd.DataFrame({"age": [1, 2], "name": ["a", "b"]}))
    assert report.passed("info")
    assert report.max_severity is None
    assert recorder.received == []


def test_schema_severities_decide_whether_to_notify():
    """A missing column marked warning in the schema does not notify at error."""
    recorder = Recorder()
    monitor = DataQualityMonitor(SCHEMA, notifier=recorder)
    report = monitor.check(pd.DataFrame({"age": [1, 2]}))
    assert report.max_severity == "critical"  # missing columns are schema-level
    relaxed = SCHEMA.update_column("name", required=False)
    report = DataQualityMonitor(relaxed, notifier=recorder).check(
        pd.DataFrame({"age": [1, 2], "name": [1, 2]})
    )
    assert report.max_severity == "critical"  # a wrong dtype
    assert len(recorder.received) == 2
    quiet = DataQualityMonitor(
        pa.DataFrameSchema(
            {"age": pa.Column(int, pa.Check.lt(100), metadata={"mlkit": {"severity": "warning"}})}
        ),
        notifier=recorder,
    )
    report = quiet.check(pd.DataFrame({"age": [1, 200]}))
    assert report.max_severity == "warning"
    assert report.passed()
    assert len(recorder.received) == 2


# --- the report ---------------------------------------------------------------------------


def bad_people():
    return pd.DataFrame(
        {
            "age": [30, -1, 200, 7, -1],
            "name": ["a", "b", None, "d", "e"],
            "extra": [1, 2, 3, 4, 5],
        }
    )


def test_to_frame_has_one_row_per_failing_schema_group_and_per_expectation():
    df = bad_people()
    monitor = DataQualityMonitor(
        SCHEMA,
        [expect_unique("age"), expect_row_count_between(1, 10), expect_null_share_below("x", 0)],
        clock=FakeClock(),
    )
    report = monitor.check(df)
    frame = report.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    counts = validate(df, SCHEMA).counts()
    schema_rows = frame[frame["source"] == "schema"]
    assert len(schema_rows) == len(counts)
    got = {
        (c, n): (s, k)
        for c, n, s, k in schema_rows[["column", "name", "severity", "n_failures"]].itertuples(
            index=False
        )
    }
    want = {
        (c, n): (s, k)
        for c, n, s, k in counts[["column", "check", "severity", "n_failures"]].itertuples(
            index=False
        )
    }
    assert got == want
    assert not schema_rows["passed"].any()
    assert got[("age", "in_range")] == ("error", 3)
    assert got[(None, "not_seven")] == ("error", 1)
    assert got[("name", "not_nullable")] == ("warning", 1)
    rows = frame[frame["source"] == "expectation"].set_index("name")
    assert list(rows.index) == ["unique(age)", "row_count_between", "null_share_below(x)"]
    assert rows.loc["unique(age)", "n_failures"] == 2
    assert rows.loc["row_count_between", "n_failures"] == 0
    assert rows.loc["null_share_below(x)", "n_failures"] == 1  # the column is missing
    assert frame["n_failures"].dtype == np.int64
    assert frame["passed"].dtype == bool
    in_range = schema_rows.set_index("name").loc["in_range"]
    assert in_range["observed"] == [-1, 200]
    assert in_range["expected"] == "in_range(0, 120)"


def test_max_severity_and_passed_cover_schema_and_expectations():
    monitor = DataQualityMonitor(SCHEMA, [expect_row_count_between(100, None, severity="info")])
    report = monitor.check(bad_people())
    # errors: extra column, in_range, not_seven; warning: a null name; info: row count
    assert report.max_severity == "error"
    assert not report.passed()
    assert report.passed("critical")
    with pytest.raises(SchemaError, match="in_range"):
        report.raise_for_errors()
    report.raise_for_errors(at="critical")
    assert repr(report) == "QualityReport(passed=False, max_severity='error', failures=5)"


def test_to_dict_is_strict_json_with_awkward_values():
    df = bad_people().assign(
        when=pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04", "2024-01-05"]),
        extra=[np.inf, -np.inf, np.nan, 1.0, 2.0],
    )
    monitor = DataQualityMonitor(
        SCHEMA,
        [
            expect_unique(["age", "name"]),
            Expectation("stats", lambda d: (False, {"max": d["extra"].max(), "ts": d["when"]})),
            Expectation("boom", lambda d: 1 / 0),
        ],
        clock=FakeClock(start=1.5),
    )
    report = monitor.check(df)
    out = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert out["time"] == "1970-01-01T00:00:01.500000+00:00"
    assert out["counts"]["critical"] == 1  # 'when' has the wrong dtype (naive)
    assert len(out["results"]) == len(report.to_frame())
    stats = next(r for r in out["results"] if r["name"] == "stats")
    assert stats["observed"]["max"] is None
    assert stats["observed"]["ts"][0] == "2024-01-01T00:00:00"


def test_expectation_raising_inside_fn_is_a_failed_row_and_others_still_run(caplog):
    def boom(df):
        raise KeyError("label")

    monitor = DataQualityMonitor(
        expectations=[Expectation("boom", boom, severity="critical"), expect_unique("a")]
    )
    with caplog.at_level(logging.WARNING):
        report = monitor.check(pd.DataFrame({"a": [1, 2]}))
    boom_result, unique_result = report.expectations
    assert not boom_result.passed
    assert "KeyError" in boom_result.message
    assert unique_result.passed
    assert report.max_severity == "critical"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (pd.DataFrame({"age": pd.Series([], dtype="int64"), "name": []}), "empty"),
        (pd.DataFrame([[1, 2]], columns=["age", "age"]), "duplicate column names"),
        (pd.DataFrame({"other": [1]}), "schema is for other columns"),
    ],
)
def test_frames_the_schema_cannot_validate_are_one_critical_row(frame, reason):
    monitor = DataQualityMonitor(SCHEMA, [expect_row_count_between(1, None)])
    report = monitor.check(frame)
    assert report.validation is None
    rows = report.to_frame()
    first = rows.iloc[0]
    assert (first["source"], first["name"], first["severity"]) == (
        "schema",
        "validate",
        "critical",
    )
    assert reason in first["message"]
    assert len(rows) == 2  # the expectation still ran
    assert report.max_severity == "critical"


def test_check_needs_a_dataframe():
    with pytest.raises(DataError, match="needs a pandas DataFrame, got dict"):
        DataQualityMonitor().check({"a": [1]})


def test_report_built_by_hand():
    report = QualityReport(None, [ExpectationResult("x", "info", False, 1, 0)], timestamp=0.0)
    assert report.expectations[0].name == "x"
    assert report.max_severity == "info"
    assert report.passed("warning")
    assert report.to_dict()["n_rows"] is None


# --- history and trend --------------------------------------------------------------------


def test_history_keeps_the_last_reports_only():
    clock = FakeClock()
    monitor = DataQualityMonitor(expectations=SWITCHES, history=3, clock=clock)
    for i in range(5):
        clock.set(float(i))
        monitor.check(batch({"warning"} if i % 2 else set()))
    assert [r.timestamp for r in monitor.history] == [2.0, 3.0, 4.0]
    assert monitor.latest is monitor.history[-1]
    assert "history=3/3" in repr(monitor)


def test_history_is_thread_safe():
    monitor = DataQualityMonitor(expectations=SWITCHES, history=1000, notifier=Recorder())
    df = batch({"error"})

    def work():
        for _ in range(25):
            monitor.check(df)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(monitor.history) == 200
    assert monitor.notifications_sent == 200


def test_trend_has_one_row_per_report():
    clock = FakeClock(start=1_000)
    monitor = DataQualityMonitor(expectations=SWITCHES, clock=clock)
    assert list(monitor.trend().columns) == list(TREND_COLUMNS)
    assert monitor.trend().empty
    for failing in [set(), {"warning", "info"}, {"critical", "error"}]:
        monitor.check(batch(failing))
        clock.advance(60)
    trend = monitor.trend()
    assert list(trend.columns) == list(TREND_COLUMNS)
    assert list(trend["time"]) == [
        pd.Timestamp(1_000 + 60 * i, unit="s", tz="UTC") for i in range(3)
    ]
    assert list(trend["passed"]) == [True, True, False]
    assert list(trend["max_severity"]) == [None, "warning", "critical"]
    assert list(trend["n_warning"]) == [0, 1, 0]
    assert list(trend["n_critical"]) == [0, 0, 1]
    assert list(trend["n_rows"]) == [1, 1, 1]


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schema": {"a": int}}, "schema must be a pandera DataFrameSchema"),
        ({"expectations": [lambda df: True]}, r"expectations\[0\] is"),
        (
            {"expectations": [expect_unique("a"), expect_unique("a")]},
            "two expectations are named 'unique\\(a\\)'",
        ),
        ({"notifier": print}, "notifier must have a notify"),
        ({"notify_at": "fatal"}, "notify_at must be one of"),
        ({"history": 0}, "history must be a positive int"),
        ({"history": True}, "history must be a positive int"),
        ({"clock": 3}, "clock must have a now"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"labels": {"team": 1}}, "labels must map strings to strings"),
    ],
)
def test_bad_configuration_raises(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        DataQualityMonitor(**kwargs)


def test_a_single_expectation_is_accepted():
    monitor = DataQualityMonitor(expectations=expect_unique("a"))
    assert len(monitor.expectations) == 1
