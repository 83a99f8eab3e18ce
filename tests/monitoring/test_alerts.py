import json
import logging
import math
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.clock import FakeClock
from mlkit.errors import ConfigurationError
from mlkit.monitoring import (
    Alert,
    AlertManager,
    AlertRule,
    CallbackNotifier,
    LoggingNotifier,
    WebhookNotifier,
)
from mlkit.protocols import Notification


def _manager(*rules, clock=None, **kwargs):
    sent = []
    clock = clock or FakeClock(start=1000.0)
    manager = AlertManager(rules, [CallbackNotifier(sent.append)], clock=clock, **kwargs)
    return manager, clock, sent


def _statuses(sent):
    return [n.labels["status"] for n in sent]


# --- state machine ---------------------------------------------------------


def test_flapping_faster_than_for_never_fires():
    manager, clock, sent = _manager(AlertRule("flap", ("x", ">", 1.0), for_=60))
    for i in range(2000):
        # true for 50 s, false for 10 s: never 60 s in a row
        manager.evaluate({"x": 2.0 if i % 6 != 5 else 0.0})
        clock.advance(10)
    assert sent == []
    assert {a.state for a in manager.history} == {"pending", "inactive"}
    assert manager.alerts()[0].state in {"pending", "inactive"}


def test_condition_that_holds_fires_once_and_resolves_once():
    manager, clock, sent = _manager(
        AlertRule("high", ("x", ">", 1.0), for_=60, severity="critical", labels={"team": "ml"})
    )
    t0 = clock.now()
    for _ in range(100):  # 1000 s of breach, evaluated every 10 s
        manager.evaluate({"x": 5.0})
        clock.advance(10)
    for _ in range(100):
        manager.evaluate({"x": 0.5})
        clock.advance(10)
    assert _statuses(sent) == ["firing", "resolved"]
    firing, resolved = sent
    assert firing.timestamp == t0 + 60
    assert firing.severity == "critical"
    assert firing.labels == {"team": "ml", "alertname": "high", "status": "firing"}
    assert firing.title == "[FIRING] high"
    assert "x > 1.0 (value 5.0)" in firing.message
    assert resolved.timestamp == t0 + 1000
    assert resolved.title == "[RESOLVED] high"
    assert [a.state for a in manager.history] == ["pending", "firing", "resolved"]
    alert = manager.alerts()[0]
    assert alert.state == "inactive"
    assert (alert.fired_at, alert.resolved_at) == (t0 + 60, t0 + 1000)
    assert alert.notifications == 2


def test_for_zero_fires_at_first_true_evaluation():
    manager, clock, sent = _manager(AlertRule("now", ("x", ">=", 1)))
    changes = manager.evaluate({"x": 1})
    assert [c.state for c in changes] == ["firing"]
    assert _statuses(sent) == ["firing"]
    assert manager.firing()[0].fired_at == clock.now()


def test_pending_that_clears_goes_inactive_without_notifying():
    manager, clock, sent = _manager(AlertRule("p", ("x", "<", 0.0), for_=30))
    assert manager.evaluate({"x": -1})[0].state == "pending"
    clock.advance(29)
    assert manager.evaluate({"x": -1}) == ()
    assert manager.evaluate({"x": 1})[0].state == "inactive"
    # A new episode measures for_ from its own start.
    clock.advance(1)
    manager.evaluate({"x": -1})
    clock.advance(29)
    manager.evaluate({"x": -1})
    assert sent == []
    clock.advance(1)
    manager.evaluate({"x": -1})
    assert _statuses(sent) == ["firing"]


def test_keep_firing_for_holds_the_alert_through_short_gaps():
    manager, clock, sent = _manager(AlertRule("k", ("x", ">", 0), keep_firing_for=120))
    manager.evaluate({"x": 1})  # fires
    # Flaps: false for 100 s, true again: stays firing, no re-notification.
    for _ in range(10):
        clock.advance(100)
        assert manager.evaluate({"x": 0}) == ()
        clock.advance(10)
        assert manager.evaluate({"x": 1}) == ()
    assert _statuses(sent) == ["firing"]
    last_true = clock.now()
    clock.advance(119)
    manager.evaluate({"x": 0})
    assert manager.alerts()[0].state == "firing"
    clock.advance(1)
    manager.evaluate({"x": 0})
    assert _statuses(sent) == ["firing", "resolved"]
    assert manager.alerts()[0].resolved_at == last_true + 120


def test_repeat_interval_renotifies_while_firing():
    manager, clock, sent = _manager(AlertRule("r", ("x", ">", 0)), repeat_interval=300)
    t0 = clock.now()
    for _ in range(100):  # 1000 s firing, evaluated every 10 s
        manager.evaluate({"x": 1})
        clock.advance(10)
    manager.evaluate({"x": 0})
    assert _statuses(sent) == ["firing"] * 4 + ["resolved"]
    assert [n.timestamp - t0 for n in sent[:4]] == [0, 300, 600, 900]
    # Repeats are not state changes.
    assert [a.state for a in manager.history] == ["firing", "resolved"]


def test_no_repeat_without_repeat_interval():
    manager, clock, sent = _manager(AlertRule("r", ("x", ">", 0)))
    for _ in range(1000):
        manager.evaluate({"x": 1})
        clock.advance(3600)
    assert _statuses(sent) == ["firing"]


@pytest.mark.parametrize("no_data", [{}, {"x": None}, {"x": math.nan}, {"x": Decimal("NaN")}])
def test_no_data_is_false_and_resolves_a_firing_alert(no_data):
    rule = AlertRule("nd", ("x", "!=", 0.0))
    assert rule.condition(no_data) is False
    manager, clock, sent = _manager(rule)
    manager.evaluate({"x": 1.0})
    clock.advance(1)
    manager.evaluate(no_data)
    assert _statuses(sent) == ["firing", "resolved"]


@pytest.mark.parametrize(
    ("op", "expected"),
    [("<", False), ("<=", True), (">", False), (">=", True), ("==", True), ("!=", False)],
)
def test_tuple_operators(op, expected):
    assert AlertRule("o", ("x", op, 2)).condition({"x": 2}) is expected


def test_callable_expr_gets_the_whole_mapping():
    def both_bad(values):
        return values["accuracy"] < 0.8 and values["drift"] > 0.2

    manager, _, sent = _manager(AlertRule("both", both_bad, annotations={"summary": "bad"}))
    manager.evaluate({"accuracy": 0.7, "drift": 0.1})
    assert sent == []
    manager.evaluate({"accuracy": 0.7, "drift": 0.3})
    assert _statuses(sent) == ["firing"]
    assert sent[0].message == "summary: bad"


def test_expr_that_raises_leaves_state_unchanged_and_others_evaluate(caplog):
    def broken(values):
        if values.get("boom"):
            raise KeyError("missing")
        return values["y"] > 0

    manager, clock, sent = _manager(AlertRule("b", broken), AlertRule("ok", ("y", ">", 0)))
    manager.evaluate({"y": 1})
    assert _statuses(sent) == ["firing", "firing"]
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="mlkit.monitoring._alerts"):
        manager.evaluate({"y": 0, "boom": True})
    b, ok = manager.alerts()
    assert b.state == "firing"
    assert b.error == "KeyError: 'missing'"
    assert ok.state == "inactive"
    assert "failed to evaluate" in caplog.text
    manager.evaluate({"y": 0})
    assert manager.alerts()[0].error is None
    assert manager.alerts()[0].state == "inactive"


def test_annotations_are_formatted_with_values_or_kept_verbatim():
    rule = AlertRule(
        "acc",
        ("accuracy", "<", 0.8),
        annotations={
            "summary": "{name}: accuracy {value:.2f} < {threshold}",
            "description": "drift was {drift}",
            "broken": "literal {unknown} and {",
        },
    )
    manager, _, sent = _manager(rule)
    manager.evaluate({"accuracy": 0.7123, "drift": 0.05})
    assert sent[0].message.splitlines() == [
        "condition: accuracy < 0.8 (value 0.7123)",
        "summary: acc: accuracy 0.71 < 0.8",
        "description: drift was 0.05",
        "broken: literal {unknown} and {",
    ]
    assert manager.alerts()[0].annotations["summary"] == "acc: accuracy 0.71 < 0.8"


def test_a_raising_notifier_does_not_break_evaluate(caplog):
    got = []

    def bad(notification):
        raise RuntimeError("smtp down")

    clock = FakeClock()
    manager = AlertManager(
        [AlertRule("a", ("x", ">", 0))],
        [CallbackNotifier(bad), CallbackNotifier(got.append)],
        clock=clock,
    )
    with caplog.at_level(logging.ERROR, logger="mlkit.monitoring._alerts"):
        changes = manager.evaluate({"x": 1})
    assert [c.state for c in changes] == ["firing"]
    assert len(got) == 1
    assert manager.notifier_errors == 1
    assert "smtp down" in caplog.text
    clock.advance(1)
    manager.evaluate({"x": 0})
    assert _statuses(got) == ["firing", "resolved"]
    assert manager.notifier_errors == 2


def test_history_is_bounded_and_tabular():
    manager, clock, _ = _manager(AlertRule("h", ("x", ">", 0)), history=5)
    for i in range(100):
        manager.evaluate({"x": i % 2})
        clock.advance(1)
    assert len(manager.history) == 5
    frame = manager.to_frame(history=True)
    assert list(frame["state"]) == [a.state for a in manager.history]
    current = manager.to_frame()
    assert list(current["name"]) == ["h"]
    json.dumps([a.to_dict() for a in manager.history])


def test_repr_and_to_dict_are_short_and_json_safe():
    rule = AlertRule("r", ("x", ">", 1), for_=5, labels={"model": "m"})
    assert repr(rule) == "AlertRule('r': x > 1.0 for 5.0s, warning)"
    manager, _, _ = _manager(rule)
    manager.evaluate({"x": 2})
    assert repr(manager.alerts()[0]) == "Alert('r' pending since 1000.0)"
    assert repr(manager) == "AlertManager(1 rules, 0 firing, 1 pending, 1 notifiers)"
    d = manager.alerts()[0].to_dict()
    assert d["labels"] == {"model": "m"}
    assert json.loads(json.dumps(d)) == d
    assert isinstance(manager.alerts()[0], Alert)


def test_concurrent_evaluations_notify_once():
    manager, _, sent = _manager(AlertRule("c", ("x", ">", 0)))
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(200):
            manager.evaluate({"x": 1})

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _statuses(sent) == ["firing"]


@given(
    st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=40)), max_size=60),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_firing_only_after_condition_held_for_and_notifications_alternate(steps, for_, keep):
    manager, clock, sent = _manager(
        AlertRule("p", lambda v: v["c"], for_=for_, keep_firing_for=keep)
    )
    since = None  # start of the current run of true evaluations
    for cond, dt in steps:
        now = clock.now()
        since = (now if since is None else since) if cond else None
        before = len(sent)
        manager.evaluate({"c": cond})
        new = sent[before:]
        for n in new:
            if n.labels["status"] == "firing" and manager.alerts()[0].fired_at == now:
                # A fresh firing needs the condition to have held for for_ seconds.
                assert since is not None
                assert now - since >= for_
        clock.advance(dt)
    statuses = _statuses(sent)
    # Without repeat_interval: firing, resolved, firing, resolved, ...
    assert statuses == ["firing", "resolved"] * (len(statuses) // 2) + ["firing"] * (
        len(statuses) % 2
    )


# --- configuration errors ----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"expr": ("x", "=>", 1)}, "expr"),
        ({"expr": ("x", ">", "1")}, "expr"),
        ({"expr": ("x", ">")}, "expr"),
        ({"expr": 3}, "expr"),
        ({"for_": -1}, "for_"),
        ({"for_": math.inf}, "for_"),
        ({"keep_firing_for": "5"}, "keep_firing_for"),
        ({"severity": "fatal"}, "severity"),
        ({"labels": {"status": "x"}}, "labels"),
        ({"labels": {"team": 1}}, "labels"),
        ({"annotations": ["summary"]}, "annotations"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rule_arguments_raise_configuration_error(kwargs, column):
    args = {"name": "r", "expr": ("x", ">", 1), **kwargs}
    with pytest.raises(ConfigurationError) as info:
        AlertRule(args.pop("name"), args.pop("expr"), **args)
    assert info.value.column == column


def test_bad_manager_arguments_raise_configuration_error():
    rule = AlertRule("r", ("x", ">", 1))
    with pytest.raises(ConfigurationError, match="unique"):
        AlertManager([rule, AlertRule("r", ("y", ">", 1))])
    with pytest.raises(ConfigurationError, match="AlertRule"):
        AlertManager([("x", ">", 1)])
    with pytest.raises(ConfigurationError, match="notify"):
        AlertManager([rule], [print])
    with pytest.raises(ConfigurationError, match="repeat_interval"):
        AlertManager([rule], repeat_interval=0)
    with pytest.raises(ConfigurationError, match="history"):
        AlertManager([rule], history=0)
    with pytest.raises(ConfigurationError, match="clock"):
        AlertManager([rule], clock=time.time)
    with pytest.raises(ConfigurationError, match="callable"):
        CallbackNotifier("not callable")
    with pytest.raises(ConfigurationError, match="logger"):
        LoggingNotifier(42)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "ftp://example.com"},
        {"url": "http://127.0.0.1/x", "timeout": 0},
        {"url": "http://127.0.0.1/x", "max_queue": 0},
        {"url": "http://127.0.0.1/x", "headers": {"X": 1}},
    ],
)
def test_bad_webhook_arguments_raise_configuration_error(kwargs):
    with pytest.raises(ConfigurationError):
        WebhookNotifier(**kwargs)


# --- notifiers ---------------------------------------------------------------


def test_logging_notifier_uses_severity_and_info_for_resolved(caplog):
    notifier = LoggingNotifier("test.alerts")
    with caplog.at_level(logging.DEBUG, logger="test.alerts"):
        notifier.notify(Notification("[FIRING] a", "l1\nl2", "critical", {"status": "firing"}))
        notifier.notify(Notification("[RESOLVED] a", "m", "critical", {"status": "resolved"}))
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels[0][0] == logging.CRITICAL
    assert "[FIRING] a: l1; l2" in levels[0][1]
    assert levels[1][0] == logging.INFO


class _Server:
    """A real HTTP server on 127.0.0.1 recording POSTed JSON bodies (test-only)."""

    def __init__(self, status=200, gate=None):
        self.bodies = []
        self.headers = []
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.arrived.set()
                if gate is not None:
                    gate.wait(10)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(json.loads(body))
                outer.headers.append(dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.stop()


def test_webhook_posts_json_to_a_real_http_server(server):
    hook = WebhookNotifier(server.url, timeout=5.0, headers={"Authorization": "Bearer t"})
    clock = FakeClock(start=50.0)
    manager = AlertManager(
        [AlertRule("hi", ("x", ">", 1), labels={"model": "m"}, annotations={"summary": "s"})],
        [hook],
        clock=clock,
    )
    manager.evaluate({"x": 2})
    clock.advance(5)
    manager.evaluate({"x": 0})
    hook.close()
    assert not hook._thread.is_alive()
    assert (hook.sent, hook.failed, hook.dropped) == (2, 0, 0)
    assert server.bodies == [
        {
            "title": "[FIRING] hi",
            "message": "condition: x > 1.0 (value 2)\nsummary: s",
            "severity": "warning",
            "labels": {"model": "m", "alertname": "hi", "status": "firing"},
            "timestamp": 50.0,
        },
        {
            "title": "[RESOLVED] hi",
            "message": "condition: x > 1.0 (value 0)\nsummary: s",
            "severity": "warning",
            "labels": {"model": "m", "alertname": "hi", "status": "resolved"},
            "timestamp": 55.0,
        },
    ]
    assert server.headers[0]["Content-Type"] == "application/json"
    assert server.headers[0]["Authorization"] == "Bearer t"
    # After close, notifications are dropped, never raised.
    hook.notify(Notification("late", "m"))
    assert hook.dropped == 1


def test_webhook_never_blocks_and_drops_past_max_queue():
    gate = threading.Event()
    server = _Server(gate=gate)
    try:
        hook = WebhookNotifier(server.url, timeout=10.0, max_queue=2)
        hook.notify(Notification("n0", "m"))
        assert server.arrived.wait(10)  # the worker is now stuck on n0
        start = time.perf_counter()
        for i in range(1, 6):
            hook.notify(Notification(f"n{i}", "m"))
        elapsed = time.perf_counter() - start
        assert elapsed < 2.0  # generous: the server holds the request for up to 10 s
        assert hook.dropped == 3
        gate.set()
        hook.close()
        assert (hook.sent, hook.failed, hook.dropped) == (3, 0, 3)
        assert [b["title"] for b in server.bodies] == ["n0", "n1", "n2"]
    finally:
        gate.set()
        server.stop()


def test_webhook_failures_are_counted_and_logged(caplog):
    server = _Server(status=500)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="mlkit.monitoring._alerts"),
            WebhookNotifier(server.url, timeout=5.0) as hook,
        ):
            hook.notify(Notification("t", "m"))
        assert (hook.sent, hook.failed) == (0, 1)
        assert "send failed" in caplog.text
    finally:
        server.stop()


def test_webhook_unreachable_endpoint_is_counted_as_failed():
    probe = _Server()
    url = probe.url
    probe.stop()  # the port is now closed: connection refused
    hook = WebhookNotifier(url, timeout=2.0)
    hook.notify(Notification("t", "m"))
    hook.close()
    assert (hook.sent, hook.failed) == (0, 1)
