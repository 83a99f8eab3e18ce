"""The retraining controller: triggers, cool-down, hysteresis and an audit trail.

:meth:`RetrainingController.evaluate` is a pure decision (usable from an
Airflow or Prefect sensor); :meth:`RetrainingController.step` also acts on it,
calling the user's training callable at most once per cool-down and
recording every decision, taken or suppressed.
"""

from __future__ import annotations

import json
import logging
import threading
import typing
from collections.abc import Callable, Iterable

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError
from mlkit.protocols import Clock
from mlkit.retraining._triggers import (
    Any,
    State,
    Trigger,
    TriggerOutcome,
    _number,
)

if typing.TYPE_CHECKING:
    from mlkit.versioning import Tracker

__all__ = ["Decision", "RetrainingController"]

logger = logging.getLogger(__name__)

COOLDOWN = "cooldown"


@attrs.frozen
class Decision:
    """One decision of a :class:`RetrainingController`.

    Attributes
    ----------
    time
        POSIX seconds of the evaluated state.
    retrain
        Whether to retrain now.
    reasons
        One explanation per trigger (fired or not), then the guard that
        suppressed the retrain, if any; never empty.
    suppressed_by
        When a retrain was called for but not taken: ``"cooldown"`` (a
        trigger fired inside the cool-down), ``"hysteresis"`` or
        ``"min_samples"`` (a performance condition held but its guard kept the
        trigger from firing); else ``None``.
    fired
        Names of the (non-combinator) triggers that fired.
    outcomes
        The full outcome tree of the controller's triggers.
    error
        For a decision taken by :meth:`RetrainingController.step` whose
        ``on_retrain`` raised: the error's text.
    """

    time: float
    retrain: bool
    reasons: tuple[str, ...]
    suppressed_by: str | None = None
    fired: tuple[str, ...] = ()
    outcomes: TriggerOutcome | None = attrs.field(default=None, repr=False, eq=False)
    error: str | None = None

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the decision as JSON-safe builtins."""
        return {
            "time": self.time,
            "retrain": self.retrain,
            "reasons": list(self.reasons),
            "suppressed_by": self.suppressed_by,
            "fired": list(self.fired),
            "outcomes": None if self.outcomes is None else self.outcomes.to_dict(),
            "error": self.error,
        }


class RetrainingController:
    """Decide when to retrain, call the training callable, and keep an audit trail.

    Parameters
    ----------
    triggers
        A :class:`~mlkit.retraining.Trigger` or several; several mean "any of
        them" (build "drift AND (performance OR schedule)" with ``&``/``|``).
    cooldown
        Seconds that must pass after a retrain before another one is taken,
        whatever the triggers say.
    clock
        Time source for states without ``now`` (default: the system clock).
    on_retrain
        The training callable, called by :meth:`step` with the
        :class:`Decision`; its return value is kept in :attr:`last_result`.
    hysteresis
        How far (in the metric's units) a :class:`PerformanceTrigger`'s metric
        must recover past its threshold before the trigger can fire again
        after a retrain it caused.
    tracker
        A :class:`mlkit.versioning.Tracker`: each decision of :meth:`step`
        becomes one run named ``"retraining-decision"`` with tags
        ``retraining.retrain``, ``retraining.suppressed_by``,
        ``retraining.fired`` and ``retraining.reasons`` (JSON), and metric
        ``retraining.retrain`` (0 or 1).

    Examples
    --------
    >>> from mlkit.clock import FakeClock
    >>> from mlkit.retraining import (
    ...     PerformanceTrigger, RetrainingController, ScheduleTrigger, State)
    >>> clock = FakeClock(start=2 * 86400)  # the serving model was trained at 0
    >>> trained = []
    >>> controller = RetrainingController(
    ...     [PerformanceTrigger("auc", below=0.8, min_samples=100),
    ...      ScheduleTrigger(every=7 * 86400)],
    ...     cooldown=86400, clock=clock, on_retrain=trained.append, hysteresis=0.02)
    >>> controller.step(State(metrics={"auc": 0.85}, n_samples=500, last_retrain=0.0)).retrain
    False
    >>> _ = clock.advance(3600)
    >>> decision = controller.step(State(metrics={"auc": 0.75}, n_samples=500))
    >>> decision.retrain, decision.fired, len(trained)
    (True, ('performance(auc<0.8)',), 1)
    >>> _ = clock.advance(3600)
    >>> controller.step(State(metrics={"auc": 0.7}, n_samples=500)).suppressed_by
    'hysteresis'

    The metric stayed below 0.8 after the retrain: the performance trigger
    waits until it recovers to 0.82 before it can fire again.
    """

    def __init__(
        self,
        triggers: Trigger | Iterable[Trigger],
        *,
        cooldown: float,
        clock: Clock | None = None,
        on_retrain: Callable[[Decision], object] | None = None,
        hysteresis: float = 0.0,
        tracker: Tracker | None = None,
    ) -> None:
        items = [triggers] if isinstance(triggers, Trigger) else list(triggers)
        self.trigger: Trigger = items[0] if len(items) == 1 else Any(*items)
        leaves = self.trigger.leaves()
        if len(set(map(id, leaves))) != len(leaves):
            # Memory is kept per trigger object: one object in two places
            # would share drift counts and hysteresis between them.
            raise ConfigurationError(
                "the same trigger object appears twice; create one per use",
                column="triggers",
                value=self.trigger.name,
                expected="distinct trigger objects",
            )
        self.cooldown = _number(cooldown, "cooldown", minimum=0)
        self.hysteresis = _number(hysteresis, "hysteresis", minimum=0)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.on_retrain = on_retrain
        self.tracker = tracker
        self.last_result: object = None
        self._last_retrain: float | None = None
        self._memory: dict[Trigger, typing.Any] = {}
        self._history: list[Decision] = []
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"RetrainingController({self.trigger.name}, cooldown={self.cooldown:g},"
            f" decisions={len(self._history)})"
        )

    @property
    def history(self) -> tuple[Decision, ...]:
        """Every decision :meth:`step` made, oldest first."""
        with self._lock:
            return tuple(self._history)

    @property
    def last_retrain(self) -> float | None:
        """Time of the last retrain: taken by :meth:`step` or reported in a stepped state."""
        with self._lock:
            return self._last_retrain

    def _resolve(self, state: State) -> State:
        now = state.now if state.now is not None else float(self.clock.now())
        known = [t for t in (state.last_retrain, self._last_retrain) if t is not None]
        return attrs.evolve(state, now=now, last_retrain=max(known) if known else None)

    def _decide(self, state: State) -> tuple[Decision, dict[Trigger, typing.Any]]:
        state = self._resolve(state)
        assert state.now is not None
        outcome = self.trigger.check(state, self._memory, self.hysteresis)
        leaves = outcome.fired_leaves()
        # The combinator's own line first, then one line per child trigger.
        reasons = [outcome.reason, *(c.reason for c in outcome.children)]
        suppressed = None
        retrain = outcome.fired
        if retrain and state.last_retrain is not None:
            since = state.now - state.last_retrain
            if since < self.cooldown:
                retrain = False
                suppressed = COOLDOWN
                reasons.append(
                    f"cooldown: {since:g}s since last retrain < {self.cooldown:g}s; suppressed"
                )
        elif not retrain and outcome.would_fire:
            blockers = outcome.blockers()
            suppressed = blockers[0] if blockers else None
        decision = Decision(
            time=state.now,
            retrain=retrain,
            reasons=tuple(reasons),
            suppressed_by=suppressed,
            fired=tuple(leaf.name for leaf in leaves),
            outcomes=outcome,
        )
        updates = dict(outcome.updates)
        if retrain:
            updates.update(self.trigger.after_retrain(outcome, {**self._memory, **updates}))
        return decision, updates

    def evaluate(self, state: State) -> Decision:
        """Decide on ``state`` without acting or remembering anything.

        Parameters
        ----------
        state
            What was observed; ``now=None`` reads the clock.

        Returns
        -------
        Decision
            Whether :meth:`step` would retrain on this state now, and why.
        """
        with self._lock:
            return self._decide(state)[0]

    def step(self, state: State) -> Decision:
        """Decide on ``state``, call ``on_retrain`` if retraining, and record the decision.

        The retrain's time starts the cool-down even when ``on_retrain``
        raises (so a failing pipeline is not hammered every step); the error
        is recorded in the decision and re-raised.
        """
        with self._lock:
            decision, updates = self._decide(state)
            self._memory.update(updates)
            if state.last_retrain is not None:
                # Remember a retrain the caller reports, so later states need not repeat it.
                self._last_retrain = max(
                    self._last_retrain or state.last_retrain, state.last_retrain
                )
            if decision.retrain:
                self._last_retrain = decision.time
                logger.info("retraining at %s: %s", decision.time, "; ".join(decision.fired))
                if self.on_retrain is not None:
                    try:
                        self.last_result = self.on_retrain(decision)
                    except Exception as error:
                        decision = attrs.evolve(decision, error=f"{type(error).__name__}: {error}")
                        self._record(decision)
                        raise
            self._record(decision)
            return decision

    def _record(self, decision: Decision) -> None:
        self._history.append(decision)
        if decision.suppressed_by:
            logger.debug("retrain suppressed by %s at %s", decision.suppressed_by, decision.time)
        if self.tracker is None:
            return
        with self.tracker.start_run(
            "retraining-decision",
            tags={
                "retraining.retrain": decision.retrain,
                "retraining.suppressed_by": decision.suppressed_by or "",
                "retraining.fired": ",".join(decision.fired),
                "retraining.reasons": json.dumps(list(decision.reasons)),
                "retraining.time": decision.time,
                "retraining.error": decision.error or "",
            },
        ) as run:
            run.log_metric("retraining.retrain", float(decision.retrain))
