"""Progressive rollout: a canary whose weight moves by analysis, Flagger-style.

:class:`ProgressiveRollout` wraps a :class:`~mlkit.routing._canary.CanaryRouter`
and records, per variant and per step, the requests it served, the errors
(the model's ``predict`` raising) and the latency. At each analysis (``step()``,
or automatically inside ``predict`` once ``interval`` seconds passed on the
clock) it checks the candidate's metrics against the :class:`Threshold` list:

- fewer than ``min_samples`` candidate requests in the current step: hold,
  never advance and never roll back on too little evidence (Flagger #1035: a
  canary rolled back while it received no traffic);
- a threshold fails: count a failed check, and roll back to weight 0 once
  ``max_failed_checks`` checks have failed;
- a user metric has no value in this step: hold (no evidence either way);
- everything passes: move up one step, or complete at the last step.

Each decision is a frozen :class:`Decision` in :attr:`ProgressiveRollout.history`.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.protocols import Clock, Model
from mlkit.routing._canary import CanaryRouter, routes_by_key
from mlkit.routing._routed import check_model

__all__ = ["BUILTIN_METRICS", "Decision", "ProgressiveRollout", "Threshold"]

logger = logging.getLogger(__name__)

#: Metrics the rollout measures itself, over the candidate's requests in the
#: current step. Latencies are in seconds, over successful requests only;
#: percentiles are nearest-rank.
BUILTIN_METRICS: frozenset[str] = frozenset(
    {
        "requests",
        "errors",
        "error_rate",
        "latency_mean",
        "latency_p50",
        "latency_p90",
        "latency_p95",
        "latency_p99",
        "latency_max",
    }
)
_PERCENTILES = {"latency_p50": 0.50, "latency_p90": 0.90, "latency_p95": 0.95, "latency_p99": 0.99}

# Latencies kept per variant and step for the percentiles: a uniform reservoir
# sample beyond this, so memory stays bounded however long a step lasts.
_MAX_LATENCIES = 10_000

Action = Literal["advance", "rollback", "hold", "complete"]
State = Literal["progressing", "complete", "rolled_back"]
_VARIANTS = ("primary", "candidate")


def _check_bound(name: str, value: float | None, metric: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigurationError(
            f"Threshold({metric!r}): {name} must be a number or None, got {value!r}",
            column=metric,
            value=value,
            expected="a number or None",
        )


@attrs.frozen(repr=False)
class Threshold:
    """An acceptable range for one metric of the candidate, like Flagger's ``thresholdRange``.

    Parameters
    ----------
    metric
        A name from :data:`BUILTIN_METRICS` (``"error_rate"``,
        ``"latency_p99"``, ...) or any other name, which is then a user metric:
        the mean of the values given to :meth:`ProgressiveRollout.observe` for
        the candidate in the current step.
    min, max
        Inclusive bounds; at least one must be given, and ``min <= max``.

    Raises
    ------
    ConfigurationError
        If the metric name is empty, no bound is given, a bound is not a
        number, or ``min > max``.

    Examples
    --------
    >>> from mlkit.routing import Threshold
    >>> t = Threshold("error_rate", max=0.01)
    >>> t
    Threshold('error_rate', max=0.01)
    >>> t.check(0.02)
    False
    >>> Threshold("accuracy", min=0.9, max=1.0).check(0.95)
    True
    """

    metric: str
    min: float | None = None
    max: float | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ConfigurationError(
                f"Threshold: metric must be a non-empty string, got {self.metric!r}",
                value=self.metric,
                expected="a metric name such as 'error_rate' or a user metric",
            )
        _check_bound("min", self.min, self.metric)
        _check_bound("max", self.max, self.metric)
        if self.min is None and self.max is None:
            raise ConfigurationError(
                f"Threshold({self.metric!r}): give min, max or both",
                column=self.metric,
                expected="at least one bound",
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigurationError(
                f"Threshold({self.metric!r}): min={self.min!r} is greater than max={self.max!r}",
                column=self.metric,
                value=(self.min, self.max),
                expected="min <= max",
            )

    @property
    def is_builtin(self) -> bool:
        """Whether the rollout measures this metric itself (else it is a user metric)."""
        return self.metric in BUILTIN_METRICS

    def check(self, value: float) -> bool:
        """Return whether ``value`` is within the bounds (inclusive; NaN never is)."""
        if math.isnan(value):
            return False
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def describe(self) -> str:
        """Return the range as text, for example ``"0.9 <= accuracy <= 1.0"``."""
        low = f"{self.min!r} <= " if self.min is not None else ""
        high = f" <= {self.max!r}" if self.max is not None else ""
        return f"{low}{self.metric}{high}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {"metric": self.metric, "min": self.min, "max": self.max}

    def __repr__(self) -> str:
        bounds = "".join(
            f", {name}={value!r}"
            for name, value in (("min", self.min), ("max", self.max))
            if value is not None
        )
        return f"Threshold({self.metric!r}{bounds})"


def _to_reasons(reasons: Iterable[str]) -> tuple[str, ...]:
    return tuple(reasons)


@attrs.frozen(repr=False)
class Decision:
    """One analysis of a :class:`ProgressiveRollout` and what it did.

    Parameters
    ----------
    time
        The clock's time of the decision (POSIX seconds).
    action
        ``"advance"`` (one step up), ``"rollback"`` (weight 0), ``"hold"``
        (nothing changed) or ``"complete"`` (the last step passed).
    from_weight, to_weight
        The candidate's share of traffic before and after.
    reasons
        Why, in words: each failed or missing threshold, ``"insufficient
        samples: n of min"``, or ``"analysis passed"``.
    metrics
        The candidate's metrics in the step that was analysed (metrics without
        a value, such as latency with no successful request, are absent).

    Examples
    --------
    >>> from mlkit.routing import Decision
    >>> d = Decision(time=60.0, action="hold", from_weight=0.01, to_weight=0.01,
    ...              reasons=("insufficient samples: 3 of 100",), metrics={"requests": 3.0})
    >>> d
    Decision(hold 0.01 -> 0.01: insufficient samples: 3 of 100)
    >>> d.to_dict()["action"]
    'hold'
    """

    time: float
    action: Action
    from_weight: float
    to_weight: float
    reasons: tuple[str, ...] = attrs.field(converter=_to_reasons)
    metrics: Mapping[str, float] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "time": self.time,
            "action": self.action,
            "from_weight": self.from_weight,
            "to_weight": self.to_weight,
            "reasons": list(self.reasons),
            "metrics": dict(self.metrics),
        }

    def __repr__(self) -> str:
        return (
            f"Decision({self.action} {self.from_weight!r} -> {self.to_weight!r}: "
            f"{'; '.join(self.reasons)})"
        )


class _StepStats:
    """Counters of one variant over one step; mutated only under the rollout's lock."""

    __slots__ = ("errors", "latencies", "latency_count", "latency_sum", "requests", "user")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.latency_count = 0
        self.latency_sum = 0.0
        self.latencies: list[float] = []
        self.user: dict[str, list[float]] = {}  # name -> [sum, count]

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {"requests": float(self.requests), "errors": float(self.errors)}
        if self.requests:
            out["error_rate"] = self.errors / self.requests
        if self.latency_count:
            out["latency_mean"] = self.latency_sum / self.latency_count
            ordered = sorted(self.latencies)
            n = len(ordered)
            for name, q in _PERCENTILES.items():
                # Nearest rank: the smallest sample with at least q of the samples <= it.
                out[name] = ordered[max(0, math.ceil(q * n) - 1)]
            out["latency_max"] = ordered[-1]
        for name, (total, count) in self.user.items():
            out[name] = total / count
        return out


class _Recorder:
    """Wraps one variant's model to count its requests, errors and latency."""

    __slots__ = ("_keyed", "_model", "_owner", "_variant")

    # The router hands every call's key(s) here; they go on to the model only
    # when it is itself a router, so nested routing stays sticky.
    _mlkit_routes_by_key = True

    def __init__(self, model: Model, owner: ProgressiveRollout, variant: str) -> None:
        self._model = model
        self._owner = owner
        self._variant = variant
        self._keyed = routes_by_key(model)

    def predict(self, X: Any, /, key: Any = None) -> Any:
        owner = self._owner
        timer = owner._timer
        start = timer()
        try:
            out = (
                self._model.predict(X, key=key)  # type: ignore[call-arg]
                if self._keyed
                else self._model.predict(X)
            )
        except Exception:
            owner._record(self._variant, None)
            raise  # the serving app decides what a failed prediction means
        owner._record(self._variant, timer() - start)
        return out

    def __repr__(self) -> str:
        return f"_Recorder({self._variant}: {self._model!r})"


class ProgressiveRollout:
    """Move traffic to a candidate model step by step while its metrics stay in range.

    The rollout is a :class:`~mlkit.protocols.Model`: serve with
    :meth:`predict` (or :meth:`predict_routed`) exactly as with a
    :class:`CanaryRouter`, whose sticky per-key assignment it uses, so raising
    the weight keeps every key already on the candidate there. The candidate's
    weight starts at ``steps[0]``.

    Parameters
    ----------
    primary, candidate
        The current model and the new one; anything with ``predict``.
    steps
        Increasing weights in (0, 1], ending at 1.0 (the candidate serving
        all traffic): the rollout completes when the analysis passes at 1.0.
    analysis
        :class:`Threshold` objects over the candidate's metrics. Empty means
        only the sample count gates each step.
    min_samples
        Candidate requests needed in the current step before any decision
        other than "hold". Each call of the candidate counts once (a batch, or
        the candidate's share of a split batch, is one request).
    interval
        Seconds between automatic analyses run inside :meth:`predict`;
        ``None`` analyses only when :meth:`step` is called.
    max_failed_checks
        Failed analyses (over the whole rollout) that trigger the rollback;
        like Flagger's ``threshold``. Earlier failures hold.
    clock
        Time source for ``interval`` and decision times; default system clock.
    timer
        Monotonic seconds for measuring latency; default
        :func:`time.perf_counter`.
    salt, key_fn
        Passed to the :class:`CanaryRouter`.
    on_change
        Called with the :class:`Decision` after every advance, rollback or
        completion (not holds), outside the lock; its exceptions are logged
        and swallowed so that a serving request never fails because of it.

    Raises
    ------
    ConfigurationError
        For a model without ``predict``, bad steps, a non-Threshold in
        ``analysis``, ``min_samples < 1``, a non-positive interval or
        ``max_failed_checks < 1``.

    Examples
    --------
    >>> from mlkit.clock import FakeClock
    >>> from mlkit.routing import ProgressiveRollout, Threshold
    >>> class Const:
    ...     def __init__(self, value):
    ...         self.value = value
    ...     def predict(self, X):
    ...         return [self.value for _ in X]
    >>> rollout = ProgressiveRollout(
    ...     Const(0), Const(1), steps=(0.5, 1.0),
    ...     analysis=[Threshold("error_rate", max=0.01)],
    ...     min_samples=10, interval=None, clock=FakeClock(),
    ... )
    >>> rollout.weight
    0.5
    >>> rollout.step()
    Decision(hold 0.5 -> 0.5: insufficient samples: 0 of 10)
    >>> for user in range(100):
    ...     _ = rollout.predict([[1.0]], key=[f"user-{user}"])
    >>> rollout.step()
    Decision(advance 0.5 -> 1.0: analysis passed)
    >>> for user in range(10):
    ...     _ = rollout.predict([[1.0]], key=[f"user-{user}"])
    >>> rollout.step()
    Decision(complete 1.0 -> 1.0: analysis passed)
    >>> rollout.state
    'complete'
    """

    # Takes predict(X, key=...): an outer router forwards its keys here.
    _mlkit_routes_by_key = True

    def __init__(
        self,
        primary: Model,
        candidate: Model,
        steps: Sequence[float] = (0.01, 0.05, 0.25, 0.5, 1.0),
        *,
        analysis: Sequence[Threshold] = (),
        min_samples: int = 100,
        interval: float | None = 60.0,
        max_failed_checks: int = 1,
        clock: Clock | None = None,
        timer: Callable[[], float] = time.perf_counter,
        salt: str = "mlkit",
        key_fn: Callable[[Any], Any] | None = None,
        on_change: Callable[[Decision], object] | None = None,
    ) -> None:
        check_model(primary, "primary")
        check_model(candidate, "candidate")
        self._steps = _validate_steps(steps)
        self._analysis = _validate_analysis(analysis)
        if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
            raise ConfigurationError(
                f"ProgressiveRollout: min_samples must be an int >= 1, got {min_samples!r}",
                column="min_samples",
                value=min_samples,
                expected="an int >= 1",
            )
        if interval is not None and not (
            isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0
        ):
            raise ConfigurationError(
                f"ProgressiveRollout: interval must be > 0 seconds or None, got {interval!r}",
                column="interval",
                value=interval,
                expected="a positive number of seconds, or None for manual step() only",
            )
        if (
            isinstance(max_failed_checks, bool)
            or not isinstance(max_failed_checks, int)
            or max_failed_checks < 1
        ):
            raise ConfigurationError(
                "ProgressiveRollout: max_failed_checks must be an int >= 1, "
                f"got {max_failed_checks!r}",
                column="max_failed_checks",
                value=max_failed_checks,
                expected="an int >= 1",
            )
        if on_change is not None and not callable(on_change):
            raise ConfigurationError(
                f"ProgressiveRollout: on_change must be callable, got {on_change!r}",
                column="on_change",
                value=on_change,
                expected="a callable taking a Decision, or None",
            )
        self._primary = primary
        self._candidate = candidate
        self._min_samples = min_samples
        self._interval = None if interval is None else float(interval)
        self._max_failed_checks = max_failed_checks
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._timer = timer
        self._on_change = on_change
        self._lock = threading.Lock()
        self._random = random.Random()
        self._stats = {variant: _StepStats() for variant in _VARIANTS}
        self._history: list[Decision] = []
        self._index = 0
        self._failed_checks = 0
        self._state: State = "progressing"
        now = self._clock.now()
        # Read without the lock on every predict: a float compare is all the
        # hot path pays when no analysis is due (inf when interval is None).
        self._next_analysis = math.inf if self._interval is None else now + self._interval
        self._router = CanaryRouter(
            _Recorder(primary, self, "primary"),
            _Recorder(candidate, self, "candidate"),
            weight=self._steps[0],
            salt=salt,
            key_fn=key_fn,
        )

    # -- serving -------------------------------------------------------------------------

    def predict(self, X: Any, key: Any = None) -> Any:
        """Predict through the canary router, running an analysis first if one is due.

        Errors of either model are counted for its variant and re-raised.
        """
        if self._next_analysis <= self._clock.now():
            self._auto_step()
        return self._router.predict(X, key=key)

    def predict_routed(self, X: Any, key: Any = None) -> Any:
        """Like :meth:`predict`, returning :class:`RoutedPrediction` object(s).

        The router names the variants ``"primary"`` and ``"canary"`` (the candidate).
        """
        if self._next_analysis <= self._clock.now():
            self._auto_step()
        return self._router.predict_routed(X, key=key)

    def observe(self, metric: str, value: float, variant: str = "candidate") -> None:
        """Record one value of a user metric for the current step.

        The analysis uses the mean of the candidate's values in the step.

        Raises
        ------
        DataError
            If ``metric`` is a built-in name, ``value`` is not a finite
            number, or ``variant`` is not ``"candidate"`` or ``"primary"``.
        """
        if metric in BUILTIN_METRICS or not isinstance(metric, str) or not metric:
            raise DataError(
                f"observe: {metric!r} is measured by the rollout itself or not a name; "
                "use another metric name",
                column=metric,
                value=metric,
                expected=f"a non-empty name not in {sorted(BUILTIN_METRICS)}",
            )
        if variant not in _VARIANTS:
            raise DataError(
                f"observe: variant must be 'candidate' or 'primary', got {variant!r}",
                column=metric,
                value=variant,
                expected="'candidate' or 'primary'",
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            raise DataError(
                f"observe: value of {metric!r} must be a finite number, got {value!r}",
                column=metric,
                value=value,
                expected="a finite number",
            )
        with self._lock:
            slot = self._stats[variant].user.setdefault(metric, [0.0, 0])
            slot[0] += number
            slot[1] += 1

    def _record(self, variant: str, latency: float | None) -> None:
        with self._lock:
            stats = self._stats[variant]
            stats.requests += 1
            if latency is None:
                stats.errors += 1
                return
            stats.latency_count += 1
            stats.latency_sum += latency
            if len(stats.latencies) < _MAX_LATENCIES:
                stats.latencies.append(latency)
            else:
                slot = self._random.randrange(stats.latency_count)
                if slot < _MAX_LATENCIES:
                    stats.latencies[slot] = latency

    # -- analysis ------------------------------------------------------------------------

    def step(self) -> Decision:
        """Analyse the current step now and act on it; return the decision.

        After the rollout completed or rolled back, nothing is analysed: a
        "hold" decision saying so is returned but not added to the history.
        """
        with self._lock:
            decision, changed = self._analyse(self._clock.now())
        if changed:
            self._notify(decision)
        return decision

    def _auto_step(self) -> None:
        with self._lock:
            now = self._clock.now()
            # Several threads may see the analysis due at once; only the first runs it.
            if self._next_analysis > now:
                return
            decision, changed = self._analyse(now)
        if changed:
            self._notify(decision)

    def _analyse(self, now: float) -> tuple[Decision, bool]:
        """Decide and apply; the caller holds the lock. Returns (decision, changed)."""
        weight = self._router.weight
        if self._state != "progressing":
            self._next_analysis = math.inf
            reason = f"rollout is {self._state.replace('_', ' ')}; nothing to analyse"
            return Decision(now, "hold", weight, weight, (reason,), {}), False
        if self._interval is not None:
            self._next_analysis = now + self._interval
        metrics = self._stats["candidate"].metrics()
        samples = self._stats["candidate"].requests
        action: Action
        if samples < self._min_samples:
            action = "hold"
            reasons = [f"insufficient samples: {samples} of {self._min_samples}"]
        else:
            failed, missing = [], []
            for threshold in self._analysis:
                value = metrics.get(threshold.metric)
                if value is None:
                    missing.append(f"no value for {threshold.metric!r} in this step")
                elif not threshold.check(value):
                    failed.append(f"{threshold.metric}={value!r} outside {threshold.describe()}")
            if failed:
                self._failed_checks += 1
                if self._failed_checks >= self._max_failed_checks:
                    action = "rollback"
                    failed.append(
                        f"failed checks {self._failed_checks} of {self._max_failed_checks}"
                    )
                else:
                    action = "hold"
                    failed.append(
                        f"failed checks {self._failed_checks} of {self._max_failed_checks}; "
                        "not rolling back yet"
                    )
                reasons = failed + missing
            elif missing:
                action = "hold"
                reasons = missing
            else:
                action = "complete" if self._index == len(self._steps) - 1 else "advance"
                reasons = ["analysis passed"]
        to_weight = weight
        if action == "rollback":
            to_weight = 0.0
            self._state = "rolled_back"
            self._next_analysis = math.inf
            self._router.set_weight(0.0)
            self._new_step()
        elif action == "complete":
            self._state = "complete"
            self._next_analysis = math.inf
        elif action == "advance":
            self._index += 1
            to_weight = self._steps[self._index]
            self._router.set_weight(to_weight)
            self._new_step()
        decision = Decision(now, action, weight, to_weight, tuple(reasons), metrics)
        self._history.append(decision)
        return decision, action != "hold"

    def _new_step(self) -> None:
        # Requests still in flight across the change are counted in the new step.
        self._stats = {variant: _StepStats() for variant in _VARIANTS}

    def _notify(self, decision: Decision) -> None:
        if decision.action == "rollback":
            logger.warning("rollout rolled back: %s", "; ".join(decision.reasons))
        else:
            logger.info(
                "rollout %s: weight %s -> %s",
                decision.action,
                decision.from_weight,
                decision.to_weight,
            )
        if self._on_change is None:
            return
        try:
            self._on_change(decision)
        except Exception:
            logger.exception("ProgressiveRollout on_change callback failed for %r", decision)

    def rollback(self, reason: str = "manual rollback") -> Decision:
        """Roll back to weight 0 now, whatever the metrics say; return the decision.

        Does nothing (returns a "hold" not added to the history) once the
        rollout is no longer progressing.
        """
        with self._lock:
            now = self._clock.now()
            weight = self._router.weight
            if self._state != "progressing":
                msg = f"rollout is {self._state.replace('_', ' ')}; nothing to roll back"
                return Decision(now, "hold", weight, weight, (msg,), {})
            metrics = self._stats["candidate"].metrics()
            self._state = "rolled_back"
            self._next_analysis = math.inf
            self._router.set_weight(0.0)
            self._new_step()
            decision = Decision(now, "rollback", weight, 0.0, (reason,), metrics)
            self._history.append(decision)
        self._notify(decision)
        return decision

    # -- inspection ----------------------------------------------------------------------

    @property
    def weight(self) -> float:
        """The candidate's current share of traffic."""
        return self._router.weight

    @property
    def state(self) -> State:
        """``"progressing"``, ``"complete"`` or ``"rolled_back"``."""
        return self._state

    @property
    def steps(self) -> tuple[float, ...]:
        """The configured weights."""
        return self._steps

    @property
    def analysis(self) -> tuple[Threshold, ...]:
        """The configured thresholds."""
        return self._analysis

    @property
    def history(self) -> list[Decision]:
        """Every decision so far, oldest first (a copy)."""
        with self._lock:
            return list(self._history)

    @property
    def router(self) -> CanaryRouter:
        """The underlying canary router (its models are this rollout's recorders)."""
        return self._router

    def metrics(self, variant: str = "candidate") -> dict[str, float]:
        """Return a variant's metrics in the current step (as the analysis would see them)."""
        if variant not in _VARIANTS:
            raise DataError(
                f"metrics: variant must be 'candidate' or 'primary', got {variant!r}",
                value=variant,
                expected="'candidate' or 'primary'",
            )
        with self._lock:
            return self._stats[variant].metrics()

    def __repr__(self) -> str:
        return (
            f"ProgressiveRollout(state={self._state!r}, weight={self.weight!r}, "
            f"step={self._index + 1}/{len(self._steps)})"
        )


def _validate_steps(steps: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(steps)
    except TypeError:
        values = ()
    ok = bool(values) and all(
        isinstance(w, (int, float)) and not isinstance(w, bool) and 0 < w <= 1 for w in values
    )
    ok = ok and all(a < b for a, b in itertools.pairwise(values)) and values[-1] == 1.0
    if not ok:
        raise ConfigurationError(
            f"ProgressiveRollout: steps must be strictly increasing weights in (0, 1] "
            f"ending at 1.0, got {steps!r}",
            column="steps",
            value=steps,
            expected="for example (0.01, 0.05, 0.25, 0.5, 1.0)",
        )
    return tuple(float(w) for w in values)


def _validate_analysis(analysis: Sequence[Threshold]) -> tuple[Threshold, ...]:
    if isinstance(analysis, Threshold):
        analysis = (analysis,)
    out = tuple(analysis)
    for item in out:
        if not isinstance(item, Threshold):
            raise ConfigurationError(
                f"ProgressiveRollout: analysis must hold Threshold objects, got {item!r}",
                column="analysis",
                value=item,
                expected="Threshold(metric, min=..., max=...)",
            )
    return out
