"""Alert rules with Prometheus/Alertmanager semantics, and where their notifications go.

An :class:`AlertManager` is driven by explicit :meth:`~AlertManager.evaluate`
calls with the latest monitor outputs (a mapping of metric name to value); it
is never on the request path, so it favours clarity over speed. State changes
happen under a lock, notifications are delivered after the lock is released so
a slow or failing notifier cannot stall other evaluations.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import queue
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError
from mlkit.protocols import Clock, Notification, Notifier

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Alert",
    "AlertManager",
    "AlertRule",
    "CallbackNotifier",
    "LoggingNotifier",
    "WebhookNotifier",
]

logger = logging.getLogger(__name__)

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
SEVERITIES = ("critical", "error", "warning", "info")
# Labels the manager sets on every notification; a rule may not override them.
_RESERVED_LABELS = frozenset({"alertname", "status"})
_LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
}


def _check_seconds(value: Any, name: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value)
    if not ok or value < 0:
        raise ConfigurationError(
            f"{name} must be a finite number of seconds >= 0, got {value!r}",
            column=name,
            value=value,
            expected="a finite number of seconds >= 0" + (" or None" if allow_none else ""),
        )
    return float(value)


def _check_str_mapping(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(
            f"{name} must be a mapping of str to str, got {value!r}",
            column=name,
            value=value,
            expected="a mapping of str to str",
        )
    return dict(value)


def _check_expr(expr: Any) -> Any:
    if callable(expr):
        return expr
    if isinstance(expr, tuple) and len(expr) == 3:
        metric, op, threshold = expr
        if (
            isinstance(metric, str)
            and op in _OPS
            and not isinstance(threshold, bool)
            and isinstance(threshold, Real)
        ):
            return (metric, op, float(threshold))
    raise ConfigurationError(
        f"expr must be a callable(values) -> bool or a tuple (metric, op, threshold) "
        f"with op in {sorted(_OPS)}, got {expr!r}",
        column="expr",
        value=expr,
        expected="a callable or (str, one of <,<=,>,>=,==,!=, number)",
    )


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"name must be a non-empty str, got {name!r}",
            column="name",
            value=name,
            expected="a non-empty str",
        )
    return name


def _check_severity(severity: Any) -> str:
    if severity not in SEVERITIES:
        raise ConfigurationError(
            f"severity must be one of {SEVERITIES}, got {severity!r}",
            column="severity",
            value=severity,
            expected=f"one of {SEVERITIES}",
        )
    return str(severity)


def _check_labels(labels: Any) -> dict[str, str]:
    checked = _check_str_mapping(labels, "labels")
    reserved = _RESERVED_LABELS.intersection(checked)
    if reserved:
        raise ConfigurationError(
            f"labels {sorted(reserved)} are set by the AlertManager and cannot be given",
            column="labels",
            value=labels,
            expected=f"labels other than {sorted(_RESERVED_LABELS)}",
        )
    return checked


def _check_for(value: Any) -> float:
    return _check_seconds(value, "for_") or 0.0


def _check_keep(value: Any) -> float:
    return _check_seconds(value, "keep_firing_for") or 0.0


def _check_annotations(value: Any) -> dict[str, str]:
    return _check_str_mapping(value, "annotations")


@attrs.frozen(eq=False)
class AlertRule:
    """A condition on monitor outputs that fires an alert once it has held long enough.

    Parameters
    ----------
    name
        The alert's name (the ``alertname`` label of its notifications);
        unique within an :class:`AlertManager`.
    expr
        Either a callable ``expr(values) -> bool`` given the mapping passed to
        :meth:`AlertManager.evaluate`, or a tuple ``(metric, op, threshold)``
        with ``op`` one of ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``,
        true when ``values[metric] op threshold``.
    for_
        Seconds the condition must hold (as seen at successive evaluations)
        before the alert goes from pending to firing; 0 fires at once.
    keep_firing_for
        Seconds a firing alert stays firing after the condition was last
        true, so a flapping condition does not resolve and re-fire.
    severity
        ``"critical"``, ``"error"``, ``"warning"`` or ``"info"``.
    labels
        Extra labels copied onto every notification (``alertname`` and
        ``status`` are reserved).
    annotations
        Texts for humans (``summary``, ``description``, ``runbook_url``, ...),
        written into the notification message. They are formatted with
        :meth:`str.format` against the evaluated values plus ``name``,
        ``metric``, ``threshold`` and ``value`` (the metric's value, tuple
        rules only); a text that does not format is used as written.

    Notes
    -----
    "No data" is not a breach: with a tuple ``expr`` a metric that is missing
    from ``values``, ``None`` or NaN makes the condition false, as an absent
    series does in Prometheus. A firing alert whose metric stops reporting
    therefore resolves (after ``keep_firing_for``). A callable ``expr`` gets
    the raw mapping and decides for itself. An ``expr`` that raises leaves the
    alert's state unchanged for that evaluation and is logged.

    Examples
    --------
    >>> from mlkit.monitoring import AlertRule
    >>> rule = AlertRule("low_accuracy", ("accuracy", "<", 0.8), for_=300)
    >>> rule.condition({"accuracy": 0.7}), rule.condition({"accuracy": None})
    (True, False)
    >>> rule
    AlertRule('low_accuracy': accuracy < 0.8 for 300.0s, warning)
    """

    name: str = attrs.field(converter=_check_name)
    expr: Any = attrs.field(converter=_check_expr)
    for_: float = attrs.field(default=0.0, kw_only=True, converter=_check_for)
    keep_firing_for: float = attrs.field(default=0.0, kw_only=True, converter=_check_keep)
    severity: str = attrs.field(default="warning", kw_only=True, converter=_check_severity)
    labels: dict[str, str] = attrs.field(factory=dict, kw_only=True, converter=_check_labels)
    annotations: dict[str, str] = attrs.field(
        factory=dict, kw_only=True, converter=_check_annotations
    )

    @property
    def metric(self) -> str | None:
        """The metric name of a tuple ``expr``; ``None`` for a callable."""
        return self.expr[0] if isinstance(self.expr, tuple) else None

    def value(self, values: Mapping[str, Any]) -> Any:
        """Return the value a tuple rule compares (``None`` if absent or for a callable)."""
        return values.get(self.expr[0]) if isinstance(self.expr, tuple) else None

    def condition(self, values: Mapping[str, Any]) -> bool:
        """Return whether the condition holds for ``values`` (no data is false)."""
        if not isinstance(self.expr, tuple):
            return bool(self.expr(values))
        metric, op, threshold = self.expr
        value = values.get(metric)
        # value != value is NaN of any numeric type (float, numpy float32, ...).
        if value is None or value != value:
            return False
        return bool(_OPS[op](value, threshold))

    def _render(self, values: Mapping[str, Any]) -> dict[str, str]:
        if not self.annotations:
            return {}
        context = dict(values)
        context.update(
            name=self.name,
            metric=self.metric,
            threshold=self.expr[2] if isinstance(self.expr, tuple) else None,
            value=self.value(values),
        )
        rendered = {}
        for key, text in self.annotations.items():
            try:
                rendered[key] = text.format_map(context)
            except (KeyError, IndexError, ValueError, AttributeError, TypeError):
                rendered[key] = text
        return rendered

    def __repr__(self) -> str:
        if isinstance(self.expr, tuple):
            cond = f"{self.expr[0]} {self.expr[1]} {self.expr[2]!r}"
        else:
            cond = getattr(self.expr, "__name__", "callable")
        return f"AlertRule({self.name!r}: {cond} for {self.for_}s, {self.severity})"


@attrs.frozen
class Alert:
    """The state of one rule at an evaluation, or one state change in the history.

    Parameters
    ----------
    name
        The rule's name.
    state
        ``"inactive"``, ``"pending"`` or ``"firing"``; history records also
        use ``"resolved"`` for the change from firing back to inactive.
    severity
        The rule's severity.
    labels
        The rule's labels.
    annotations
        The rule's annotations as rendered at the last evaluation.
    time
        When this record was taken (clock seconds).
    active_since
        When the condition became true in the current episode (``None`` if
        inactive).
    fired_at
        When the alert last went to firing, if ever.
    resolved_at
        When the alert last resolved, if ever.
    value
        The compared metric value at the last evaluation (tuple rules).
    notifications
        Notifications sent for the current or last episode (firing, repeats
        and the resolve).
    error
        The last error raised by the rule's ``expr``, cleared by a
        successful evaluation.

    Examples
    --------
    >>> from mlkit.monitoring import Alert
    >>> a = Alert("low_accuracy", "firing", "warning", time=130.0, active_since=100.0)
    >>> a
    Alert('low_accuracy' firing since 100.0)
    >>> a.to_dict()["state"]
    'firing'
    """

    name: str
    state: str
    severity: str
    labels: dict[str, str] = attrs.field(factory=dict, kw_only=True)
    annotations: dict[str, str] = attrs.field(factory=dict, kw_only=True)
    time: float | None = attrs.field(default=None, kw_only=True)
    active_since: float | None = attrs.field(default=None, kw_only=True)
    fired_at: float | None = attrs.field(default=None, kw_only=True)
    resolved_at: float | None = attrs.field(default=None, kw_only=True)
    value: float | None = attrs.field(default=None, kw_only=True)
    notifications: int = attrs.field(default=0, kw_only=True)
    error: str | None = attrs.field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-safe dict."""
        out = attrs.asdict(self)
        if out["value"] is not None:
            try:
                out["value"] = float(out["value"])
            except (TypeError, ValueError):
                out["value"] = str(out["value"])
        return out

    def __repr__(self) -> str:
        if self.state in ("pending", "firing"):
            return f"Alert({self.name!r} {self.state} since {self.active_since})"
        return f"Alert({self.name!r} {self.state})"


class _State:
    """The mutable per-rule state behind :class:`Alert` snapshots."""

    __slots__ = (
        "active_since",
        "annotations",
        "error",
        "evaluated_at",
        "fired_at",
        "last_notified",
        "last_true",
        "notifications",
        "resolved_at",
        "state",
        "value",
    )

    def __init__(self) -> None:
        self.state = "inactive"
        self.active_since: float | None = None
        self.fired_at: float | None = None
        self.resolved_at: float | None = None
        self.last_true: float | None = None
        self.last_notified: float | None = None
        self.evaluated_at: float | None = None
        self.value: Any = None
        self.notifications = 0
        self.error: str | None = None
        self.annotations: dict[str, str] = {}


class AlertManager:
    """Evaluate alert rules against monitor outputs and notify on firing and resolve.

    Each rule's alert moves ``inactive -> pending -> firing -> inactive`` as in
    Prometheus and Alertmanager: it is pending while the condition has held
    for less than the rule's ``for_`` seconds, then firing; a firing alert is
    notified once (deduplicated), re-notified every ``repeat_interval``
    seconds if one is set, stays firing for ``keep_firing_for`` seconds after
    the condition was last true, then resolves: one ``status="resolved"``
    notification, and the alert is inactive again. A pending alert whose
    condition clears goes back to inactive without notifying.

    Parameters
    ----------
    rules
        The :class:`AlertRule` objects; names must be unique.
    notifiers
        Where notifications go (anything with ``notify(Notification)``). A
        notifier that raises is logged and counted in
        :attr:`notifier_errors`; the others still get the notification.
    clock
        The time source (default: the system clock). Durations are measured
        between :meth:`evaluate` calls, so evaluate at least as often as the
        shortest ``for_`` you want honoured precisely.
    repeat_interval
        Seconds after which a still-firing alert is notified again; ``None``
        (default) notifies once per firing.
    history
        How many state changes :attr:`history` keeps (oldest dropped).

    Notes
    -----
    Every notification carries the rule's labels plus ``alertname`` and
    ``status`` (``"firing"`` or ``"resolved"``), the rule's severity, a title
    such as ``"[FIRING] low_accuracy"``, the clock time of the evaluation, and a
    message with the condition, the compared value and the rendered
    annotations, one per line.

    Examples
    --------
    >>> from mlkit.clock import FakeClock
    >>> from mlkit.monitoring import AlertManager, AlertRule, CallbackNotifier
    >>> sent = []
    >>> clock = FakeClock(start=0.0)
    >>> manager = AlertManager(
    ...     [AlertRule("low_accuracy", ("accuracy", "<", 0.8), for_=60)],
    ...     [CallbackNotifier(sent.append)],
    ...     clock=clock,
    ... )
    >>> manager.evaluate({"accuracy": 0.7})
    (Alert('low_accuracy' pending since 0.0),)
    >>> _ = clock.advance(60); manager.evaluate({"accuracy": 0.7})
    (Alert('low_accuracy' firing since 0.0),)
    >>> _ = clock.advance(30); manager.evaluate({"accuracy": 0.9})
    (Alert('low_accuracy' resolved),)
    >>> [(n.title, n.labels["status"]) for n in sent]
    [('[FIRING] low_accuracy', 'firing'), ('[RESOLVED] low_accuracy', 'resolved')]
    """

    def __init__(
        self,
        rules: Iterable[AlertRule],
        notifiers: Iterable[Notifier] = (),
        *,
        clock: Clock | None = None,
        repeat_interval: float | None = None,
        history: int = 1000,
    ) -> None:
        self._rules: tuple[AlertRule, ...] = tuple(rules)
        seen: set[str] = set()
        for rule in self._rules:
            if not isinstance(rule, AlertRule):
                raise ConfigurationError(
                    f"rules must be AlertRule objects, got {type(rule).__name__} {rule!r}",
                    column="rules",
                    value=rule,
                    expected="AlertRule",
                )
            if rule.name in seen:
                raise ConfigurationError(
                    f"rule names must be unique, {rule.name!r} appears twice",
                    column="rules",
                    value=rule.name,
                    expected="unique rule names",
                )
            seen.add(rule.name)
        self._notifiers: tuple[Notifier, ...] = tuple(notifiers)
        for notifier in self._notifiers:
            if not callable(getattr(notifier, "notify", None)):
                raise ConfigurationError(
                    f"notifiers must have a notify(notification) method, got {notifier!r}",
                    column="notifiers",
                    value=notifier,
                    expected="a Notifier",
                )
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError(
                f"clock must have a now() method, got {clock!r}",
                column="clock",
                value=clock,
                expected="a Clock",
            )
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._repeat = _check_seconds(repeat_interval, "repeat_interval", allow_none=True)
        if self._repeat == 0.0:
            raise ConfigurationError(
                "repeat_interval must be > 0 or None, got 0",
                column="repeat_interval",
                value=repeat_interval,
                expected="a number of seconds > 0, or None",
            )
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ConfigurationError(
                f"history must be an int >= 1, got {history!r}",
                column="history",
                value=history,
                expected="an int >= 1",
            )
        self._states = {rule.name: _State() for rule in self._rules}
        self._history: deque[Alert] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._notifier_errors = 0

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """The rules, in the order given."""
        return self._rules

    @property
    def notifier_errors(self) -> int:
        """How many ``notify`` calls raised."""
        return self._notifier_errors

    @property
    def history(self) -> tuple[Alert, ...]:
        """The last state changes, oldest first (``"resolved"`` marks a resolve)."""
        with self._lock:
            return tuple(self._history)

    def evaluate(self, values: Mapping[str, Any]) -> tuple[Alert, ...]:
        """Evaluate every rule on ``values`` at the clock's current time.

        Parameters
        ----------
        values
            Metric name to latest value (``None`` means no data), for example
            merged from ``PerformanceMonitor.metrics()`` and drift scores.

        Returns
        -------
        tuple of Alert
            The state changes of this evaluation (also appended to
            :attr:`history`); empty when nothing changed. Re-notifications of a
            still-firing alert are not state changes.
        """
        now = self._clock.now()
        changes: list[Alert] = []
        outbox: list[Notification] = []
        with self._lock:
            for rule in self._rules:
                self._step(rule, self._states[rule.name], values, now, changes, outbox)
            self._history.extend(changes)
        # Outside the lock: notifiers are user code and may be slow or re-enter.
        for notification in outbox:
            for notifier in self._notifiers:
                try:
                    notifier.notify(notification)
                except Exception:
                    with self._lock:
                        self._notifier_errors += 1
                    logger.exception(
                        "notifier %r failed on %r; continuing", notifier, notification.title
                    )
        return tuple(changes)

    def _step(
        self,
        rule: AlertRule,
        st: _State,
        values: Mapping[str, Any],
        now: float,
        changes: list[Alert],
        outbox: list[Notification],
    ) -> None:
        try:
            active = rule.condition(values)
            value = rule.value(values)
        except Exception as exc:
            # As in Prometheus, a failed evaluation leaves the alert as it was.
            st.error = f"{type(exc).__name__}: {exc}"
            st.evaluated_at = now
            logger.warning("alert rule %r failed to evaluate: %s", rule.name, st.error)
            return
        st.error = None
        st.evaluated_at = now
        st.value = value
        st.annotations = rule._render(values)
        if active:
            st.last_true = now
        if st.state == "inactive":
            if not active:
                return
            st.active_since = now
            st.notifications = 0
            if rule.for_ > 0:
                self._change(rule, st, "pending", now, changes)
                return
            self._fire(rule, st, now, changes, outbox)
        elif st.state == "pending":
            if not active:
                st.active_since = None
                self._change(rule, st, "inactive", now, changes)
            elif now - st.active_since >= rule.for_:  # type: ignore[operator]
                self._fire(rule, st, now, changes, outbox)
        else:  # firing
            if not active and now - st.last_true >= rule.keep_firing_for:  # type: ignore[operator]
                st.resolved_at = now
                outbox.append(self._notification(rule, st, "resolved", now))
                st.notifications += 1
                self._change(rule, st, "resolved", now, changes)
                st.state = "inactive"
                st.active_since = None
            elif self._repeat is not None and now - st.last_notified >= self._repeat:  # type: ignore[operator]
                outbox.append(self._notification(rule, st, "firing", now))
                st.notifications += 1
                st.last_notified = now

    def _fire(
        self,
        rule: AlertRule,
        st: _State,
        now: float,
        changes: list[Alert],
        outbox: list[Notification],
    ) -> None:
        st.fired_at = now
        st.last_notified = now
        st.notifications += 1
        # The snapshot is taken after the state change, so it shows fired_at.
        self._change(rule, st, "firing", now, changes)
        outbox.append(self._notification(rule, st, "firing", now))

    @staticmethod
    def _change(rule: AlertRule, st: _State, state: str, now: float, changes: list[Alert]) -> None:
        st.state = state
        changes.append(_snapshot(rule, st, state, now))

    @staticmethod
    def _notification(rule: AlertRule, st: _State, status: str, now: float) -> Notification:
        lines = []
        if isinstance(rule.expr, tuple):
            metric, op, threshold = rule.expr
            lines.append(f"condition: {metric} {op} {threshold!r} (value {st.value!r})")
        lines.extend(f"{key}: {text}" for key, text in st.annotations.items())
        if not lines:
            lines.append(f"alert {rule.name} is {status}")
        return Notification(
            title=f"[{status.upper()}] {rule.name}",
            message="\n".join(lines),
            severity=rule.severity,
            labels={**rule.labels, "alertname": rule.name, "status": status},
            timestamp=now,
        )

    def alerts(self) -> tuple[Alert, ...]:
        """Return the current state of every rule's alert, in rule order."""
        with self._lock:
            return tuple(
                _snapshot(rule, self._states[rule.name], None, None) for rule in self._rules
            )

    def firing(self) -> tuple[Alert, ...]:
        """Return the alerts that are firing now."""
        return tuple(a for a in self.alerts() if a.state == "firing")

    def to_frame(self, *, history: bool = False) -> pd.DataFrame:
        """Return the current alerts (or the history) as a DataFrame, one row each."""
        import pandas as pd

        rows = self.history if history else self.alerts()
        columns = [f.name for f in attrs.fields(Alert)]
        frame: pd.DataFrame = pd.DataFrame([a.to_dict() for a in rows], columns=columns)
        return frame

    def __repr__(self) -> str:
        states = [a.state for a in self.alerts()]
        return (
            f"AlertManager({len(self._rules)} rules, {states.count('firing')} firing, "
            f"{states.count('pending')} pending, {len(self._notifiers)} notifiers)"
        )


def _snapshot(rule: AlertRule, st: _State, state: str | None, now: float | None) -> Alert:
    return Alert(
        rule.name,
        state if state is not None else st.state,
        rule.severity,
        labels=dict(rule.labels),
        annotations=dict(st.annotations),
        time=now if now is not None else st.evaluated_at,
        active_since=st.active_since,
        fired_at=st.fired_at,
        resolved_at=st.resolved_at,
        value=st.value,
        notifications=st.notifications,
        error=st.error,
    )


class LoggingNotifier:
    """Write notifications to a :mod:`logging` logger.

    The level follows the severity (``critical``, ``error``, ``warning``,
    ``info``); a notification labelled ``status="resolved"`` logs at INFO.

    Parameters
    ----------
    logger
        The logger, or its name (default: this module's logger,
        ``mlkit.monitoring._alerts``).

    Examples
    --------
    >>> from mlkit.monitoring import LoggingNotifier
    >>> from mlkit.protocols import Notification
    >>> LoggingNotifier("my.alerts").notify(Notification("[FIRING] x", "details"))
    """

    def __init__(self, logger: logging.Logger | str | None = None) -> None:
        if logger is None:
            self._logger = globals()["logger"]
        elif isinstance(logger, str):
            self._logger = logging.getLogger(logger)
        elif isinstance(logger, logging.Logger):
            self._logger = logger
        else:
            raise ConfigurationError(
                f"logger must be a logging.Logger, a name or None, got {logger!r}",
                column="logger",
                value=logger,
                expected="a logging.Logger, a str or None",
            )

    def notify(self, notification: Notification) -> None:
        """Log ``notification`` at the level of its severity."""
        if notification.labels.get("status") == "resolved":
            level = logging.INFO
        else:
            level = _LOG_LEVELS.get(notification.severity, logging.WARNING)
        self._logger.log(
            level,
            "%s: %s %s",
            notification.title,
            notification.message.replace("\n", "; "),
            dict(notification.labels),
        )

    def __repr__(self) -> str:
        return f"LoggingNotifier({self._logger.name!r})"


class CallbackNotifier:
    """Call a Python function with each notification, on the evaluating thread.

    Parameters
    ----------
    fn
        Called as ``fn(notification)``; keep it quick or hand off to a queue.

    Examples
    --------
    >>> from mlkit.monitoring import CallbackNotifier
    >>> from mlkit.protocols import Notification
    >>> got = []
    >>> CallbackNotifier(got.append).notify(Notification("t", "m"))
    >>> got[0].title
    't'
    """

    def __init__(self, fn: Callable[[Notification], Any]) -> None:
        if not callable(fn):
            raise ConfigurationError(
                f"fn must be callable, got {type(fn).__name__} {fn!r}",
                column="fn",
                value=fn,
                expected="a callable(notification)",
            )
        self._fn = fn

    def notify(self, notification: Notification) -> None:
        """Call the function with ``notification``."""
        self._fn(notification)

    def __repr__(self) -> str:
        return f"CallbackNotifier({getattr(self._fn, '__qualname__', self._fn)!r})"


_STOP = object()


class WebhookNotifier:
    """POST each notification as JSON to a URL, from a background thread.

    :meth:`notify` only serialises the notification and puts it on a bounded
    queue, so it never waits for the network. A daemon thread sends the
    queued bodies one at a time with :func:`urllib.request.urlopen` and a
    timeout. A failed send (connection error, timeout, HTTP status >= 400) is
    logged and counted in :attr:`failed`, and not retried; a notification
    that finds the queue full, or arrives after :meth:`close`, is logged and
    counted in :attr:`dropped`.

    The body is ``{"title", "message", "severity", "labels", "timestamp"}``
    (the :class:`~mlkit.protocols.Notification` fields), sent with
    ``Content-Type: application/json``.

    Parameters
    ----------
    url
        An ``http://`` or ``https://`` URL.
    timeout
        Seconds each request may take.
    max_queue
        How many notifications may wait to be sent.
    headers
        Extra request headers (for example an ``Authorization`` token).

    Examples
    --------
    >>> from mlkit.monitoring import WebhookNotifier
    >>> hook = WebhookNotifier("http://127.0.0.1:9/alerts", timeout=1.0)
    >>> hook.close()
    >>> hook.sent, hook.failed, hook.dropped
    (0, 0, 0)
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_queue: int = 1000,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"url must be an http:// or https:// URL, got {url!r}",
                column="url",
                value=url,
                expected="an http:// or https:// URL",
            )
        checked = _check_seconds(timeout, "timeout")
        if not checked:
            raise ConfigurationError(
                f"timeout must be > 0 seconds, got {timeout!r}",
                column="timeout",
                value=timeout,
                expected="a number of seconds > 0",
            )
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ConfigurationError(
                f"max_queue must be an int >= 1, got {max_queue!r}",
                column="max_queue",
                value=max_queue,
                expected="an int >= 1",
            )
        self._url = url
        self._timeout = checked
        self._headers = {"Content-Type": "application/json", "User-Agent": "mlkit-alerts"}
        self._headers.update(_check_str_mapping(headers, "headers"))
        # One slot more than max_queue so close() can always enqueue its stop marker.
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue + 1)
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._closed = False
        self._sent = 0
        self._failed = 0
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name="mlkit-webhook", daemon=True)
        self._thread.start()

    @property
    def sent(self) -> int:
        """Notifications delivered (HTTP status < 400)."""
        return self._sent

    @property
    def failed(self) -> int:
        """Sends that failed (error, timeout or HTTP status >= 400)."""
        return self._failed

    @property
    def dropped(self) -> int:
        """Notifications dropped because the queue was full or the notifier closed."""
        return self._dropped

    def notify(self, notification: Notification) -> None:
        """Queue ``notification`` for sending; never blocks."""
        body = json.dumps(
            {
                "title": notification.title,
                "message": notification.message,
                "severity": notification.severity,
                "labels": dict(notification.labels),
                "timestamp": notification.timestamp,
            },
            default=str,
        ).encode()
        with self._lock:
            accepted = not self._closed and self._queue.qsize() < self._max_queue
            if accepted:
                self._queue.put_nowait(body)
            else:
                self._dropped += 1
        if not accepted:
            logger.warning(
                "webhook %s: dropped %r (%s)",
                self._url,
                notification.title,
                "notifier closed" if self._closed else "queue full",
            )

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            if body is _STOP:
                return
            request = urllib.request.Request(
                self._url, data=body, headers=self._headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    response.read()
            except Exception as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    exc.close()  # it holds the response body open
                self._failed += 1
                logger.warning("webhook %s: send failed: %s", self._url, exc)
            else:
                self._sent += 1

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop accepting notifications, send those queued, and stop the thread.

        Parameters
        ----------
        timeout
            Seconds to wait for the queue to drain; a thread still sending
            after that is abandoned (it is a daemon and will not block exit).
        """
        with self._lock:
            if not self._closed:
                self._closed = True
                # notify() keeps qsize < max_queue, so the spare slot is free.
                self._queue.put_nowait(_STOP)
        self._thread.join(timeout)

    def __enter__(self) -> WebhookNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebhookNotifier({self._url!r}, sent={self._sent}, failed={self._failed})"
