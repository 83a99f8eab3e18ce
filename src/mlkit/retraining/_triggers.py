"""Retraining triggers: schedule, performance, drift, volume, and their combinations.

A trigger looks at one :class:`State` (what the caller observed at one point in
time) and says whether it calls for a retrain and why. Triggers hold no state
of their own: what they must remember between evaluations (consecutive drifted
windows, whether a performance trigger is disarmed by hysteresis) lives in the
:class:`~mlkit.retraining.RetrainingController`, so evaluating is pure.

Examples
--------
>>> from mlkit.retraining import DriftTrigger, PerformanceTrigger, ScheduleTrigger, State
>>> policy = DriftTrigger(share_above=0.3) & (
...     PerformanceTrigger("auc", below=0.8, min_samples=100) | ScheduleTrigger(every=7 * 86400)
... )
>>> policy
All(drift(share>0.3), Any(performance(auc<0.8), schedule(every=604800s)))
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable, Mapping
from numbers import Real

import attrs

from mlkit.errors import ConfigurationError

__all__ = [
    "All",
    "Any",
    "DriftTrigger",
    "PerformanceTrigger",
    "ScheduleTrigger",
    "State",
    "Trigger",
    "TriggerOutcome",
    "VolumeTrigger",
]

# Why a trigger that would have fired did not: a performance metric inside its
# hysteresis band, or measured on too few labelled samples.
HYSTERESIS = "hysteresis"
MIN_SAMPLES = "min_samples"


def _number(
    value: object, name: str, *, minimum: float | None = None, strict: bool = False
) -> float:
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(float(value))
    if ok and minimum is not None:
        ok = float(value) > minimum if strict else float(value) >= minimum  # type: ignore[arg-type]
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise ConfigurationError(
            f"{name} must be a finite number{bound}, got {value!r}",
            column=name,
            value=value,
            expected=f"a finite number{bound}",
        )
    return float(value)  # type: ignore[arg-type]


def _optional_number(value: object, name: str, **kw: typing.Any) -> float | None:
    return None if value is None else _number(value, name, **kw)


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(
            f"{name} must be an int >= {minimum}, got {value!r}",
            column=name,
            value=value,
            expected=f"an int >= {minimum}",
        )
    return value


def _positive_seconds(value: object) -> float:
    return _number(value, "every", minimum=0, strict=True)


def _below(value: object) -> float | None:
    return _optional_number(value, "below")


def _above(value: object) -> float | None:
    return _optional_number(value, "above")


def _min_samples(value: object) -> int:
    return _count(value, "min_samples", 0)


def _share_above(value: object) -> float | None:
    return _optional_number(value, "share_above", minimum=0)


def _consecutive(value: object) -> int:
    return _count(value, "consecutive_windows", 1)


def _rows(value: object) -> int:
    return _count(value, "new_rows_at_least", 1)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _dict(value: Mapping[str, float | None]) -> dict[str, float | None]:
    return dict(value)


def _names(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@attrs.frozen
class State:
    """What the caller observed at one evaluation; every field but ``now`` is optional.

    Parameters
    ----------
    now
        POSIX seconds of the observation; ``None`` lets the controller read its
        clock (the usual case).
    metrics
        Latest performance metrics of the serving model on labelled data, by
        name; ``None`` or NaN means "not measured" and never fires a trigger.
    n_samples
        Number of labelled samples behind ``metrics``.
    drift_share
        Share (0..1) of monitored features that drifted in the latest drift
        window, or ``None`` when no drift result is available.
    drifted_features
        Names of the features that drifted in that window.
    drift_window
        Index of that drift window (increasing). Evaluating the same window
        several times (hourly states, daily drift windows) counts it once for
        :class:`DriftTrigger`'s ``consecutive_windows``; ``None`` counts every
        evaluation as a new window.
    new_rows
        Rows of new training data gathered since the last retrain.
    last_retrain
        POSIX seconds of the last retrain (for instance when the serving model
        was trained), or ``None`` if unknown. The controller uses the later of
        this, the last retrain it ran itself and any ``last_retrain`` of a
        state it stepped through before; the cool-down counts from it too.

    Examples
    --------
    >>> State(now=3600.0, metrics={"auc": 0.81}, n_samples=500).to_dict()["metrics"]
    {'auc': 0.81}
    """

    now: float | None = attrs.field(default=None, converter=_optional_float)
    metrics: Mapping[str, float | None] = attrs.field(factory=dict, converter=_dict, repr=False)
    n_samples: int = attrs.field(default=0, converter=int)
    drift_share: float | None = attrs.field(default=None, converter=_finite_or_none)
    drifted_features: frozenset[str] = attrs.field(
        default=frozenset(), converter=frozenset, repr=False
    )
    drift_window: int | None = None
    new_rows: int = attrs.field(default=0, converter=int)
    last_retrain: float | None = attrs.field(default=None, converter=_optional_float)

    def metric(self, name: str) -> float | None:
        """Return a metric's value, ``None`` when missing, ``None`` or NaN."""
        value = self.metrics.get(name)
        return None if value is None else _finite_or_none(value)

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the state as JSON-safe builtins (NaN metrics become ``None``)."""
        return {
            "now": self.now,
            "metrics": {k: self.metric(k) for k in sorted(self.metrics)},
            "n_samples": self.n_samples,
            "drift_share": self.drift_share,
            "drifted_features": sorted(self.drifted_features),
            "drift_window": self.drift_window,
            "new_rows": self.new_rows,
            "last_retrain": self.last_retrain,
        }


@attrs.frozen
class TriggerOutcome:
    """One trigger's verdict on one state.

    Attributes
    ----------
    name
        The trigger's name.
    fired
        Whether it calls for a retrain.
    reason
        Why (or why not), in words, with the numbers.
    blocked_by
        ``"hysteresis"`` or ``"min_samples"`` when the trigger's condition held
        but that guard kept it from firing; else ``None``.
    children
        The outcomes of a combinator's triggers.
    """

    name: str
    fired: bool
    reason: str
    blocked_by: str | None = None
    children: tuple[TriggerOutcome, ...] = attrs.field(default=(), repr=False)
    # Memory the controller should keep if it adopts this evaluation.
    updates: Mapping[Trigger, typing.Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def would_fire(self) -> bool:
        """Whether it would have fired but for its ``blocked_by`` guards."""
        return self.fired or self.blocked_by is not None

    def blockers(self) -> list[str]:
        """Every guard that blocked this outcome or one below it, in order."""
        found = [self.blocked_by] if self.blocked_by else []
        for child in self.children:
            found += [b for b in child.blockers() if b not in found]
        return found

    def fired_leaves(self) -> list[TriggerOutcome]:
        """Return the non-combinator outcomes that made this one fire, in order.

        A leaf that fired inside a combinator that did not fire (one half of an
        unmet "all") is not listed.
        """
        if not self.fired:
            return []
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.fired_leaves()]

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the outcome as JSON-safe builtins."""
        out: dict[str, typing.Any] = {
            "name": self.name,
            "fired": self.fired,
            "reason": self.reason,
            "blocked_by": self.blocked_by,
        }
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


class Trigger:
    """Base class of triggers; combine them with ``&`` (:class:`All`) and ``|`` (:class:`Any`).

    Subclasses implement ``check(state, memory, hysteresis)``: ``memory`` maps
    triggers to what the controller remembers for them (read only), and the
    returned :class:`TriggerOutcome` carries the updates to remember.
    """

    name: str

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        """Evaluate the trigger on ``state``; must not mutate anything."""
        raise NotImplementedError

    def after_retrain(
        self, outcome: TriggerOutcome, memory: Mapping[Trigger, typing.Any]
    ) -> dict[Trigger, typing.Any]:
        """Return memory updates once a retrain was taken after ``outcome``."""
        return {}

    def leaves(self) -> list[Trigger]:
        """Return the non-combinator triggers in this one (itself for a leaf)."""
        return [self]

    def __and__(self, other: Trigger) -> All:
        return All(self, other)

    def __or__(self, other: Trigger) -> Any:
        return Any(self, other)

    def __repr__(self) -> str:
        return self.name


def _name_field() -> typing.Any:
    # "" means "derive the name from the parameters" in __attrs_post_init__.
    return attrs.field(default="", kw_only=True, repr=False)


@attrs.frozen(eq=False, repr=False)
class ScheduleTrigger(Trigger):
    """Fire when at least ``every`` seconds have passed since the last retrain.

    With no retrain known (``State.last_retrain`` is ``None`` and the
    controller has run none), it fires: a model of unknown age is due.

    Examples
    --------
    >>> from mlkit.retraining import State
    >>> ScheduleTrigger(every=86400).check(State(now=90000.0, last_retrain=0.0), {}, 0.0).reason
    'schedule(every=86400s): 90000s since last retrain >= 86400s'
    """

    every: float = attrs.field(converter=_positive_seconds)
    name: str = _name_field()

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"schedule(every={self.every:g}s)")

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        if state.last_retrain is None:
            return TriggerOutcome(self.name, True, f"{self.name}: no previous retrain known")
        assert state.now is not None
        age = state.now - state.last_retrain
        fired = age >= self.every
        op = ">=" if fired else "<"
        return TriggerOutcome(
            self.name, fired, f"{self.name}: {age:g}s since last retrain {op} {self.every:g}s"
        )


@attrs.frozen(eq=False, repr=False)
class PerformanceTrigger(Trigger):
    """Fire when a metric is below ``below`` or above ``above``, on enough labelled samples.

    Parameters
    ----------
    metric
        Key of :attr:`State.metrics`.
    below, above
        Fire when the metric is strictly below ``below`` (a score such as AUC)
        or strictly above ``above`` (a loss); give at least one.
    min_samples
        Never fire (nor re-arm) on a metric measured on fewer labelled samples
        (:attr:`State.n_samples`): such a metric is noise.
    name
        Defaults to e.g. ``"performance(auc<0.8)"``.

    Notes
    -----
    Hysteresis (the controller's ``hysteresis``): after a retrain taken while
    this trigger fired, it is disarmed until the metric recovers to at least
    ``below + hysteresis`` (at most ``above - hysteresis``), so a metric
    hovering at the threshold does not retrain again and again. If the new
    model never recovers, this trigger stays disarmed: combine it with a
    :class:`ScheduleTrigger` as a backstop.

    Examples
    --------
    >>> from mlkit.retraining import State
    >>> trigger = PerformanceTrigger("auc", below=0.8, min_samples=100)
    >>> trigger.check(State(now=0.0, metrics={"auc": 0.7}, n_samples=50), {}, 0.0).reason
    'performance(auc<0.8): auc=0.7 breaches but only 50 labelled samples < min_samples=100'
    """

    metric: str
    below: float | None = attrs.field(default=None, converter=_below)
    above: float | None = attrs.field(default=None, converter=_above)
    min_samples: int = attrs.field(default=100, converter=_min_samples)
    name: str = _name_field()

    def __attrs_post_init__(self) -> None:
        if self.below is None and self.above is None:
            raise ConfigurationError(
                f"PerformanceTrigger({self.metric!r}): give below= and/or above=",
                column="below",
                value=None,
                expected="a threshold in below= or above=",
            )
        if not self.name:
            parts = []
            if self.below is not None:
                parts.append(f"{self.metric}<{self.below:g}")
            if self.above is not None:
                parts.append(f"{self.metric}>{self.above:g}")
            object.__setattr__(self, "name", f"performance({' or '.join(parts)})")

    def _breach(self, value: float) -> bool:
        return (self.below is not None and value < self.below) or (
            self.above is not None and value > self.above
        )

    def _recovered(self, value: float, hysteresis: float) -> bool:
        # A relative tolerance so 0.85 counts as recovered past 0.8 + 0.05
        # (0.8500000000000001 in binary floating point).
        tol = 1e-9 * max(1.0, abs(value))
        low_ok = self.below is None or value >= self.below + hysteresis - tol
        high_ok = self.above is None or value <= self.above - hysteresis + tol
        return low_ok and high_ok

    def _recovery_text(self, hysteresis: float) -> str:
        parts = []
        if self.below is not None:
            parts.append(f">= {self.below + hysteresis:g}")
        if self.above is not None:
            parts.append(f"<= {self.above - hysteresis:g}")
        return " and ".join(parts)

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        value = state.metric(self.metric)
        if value is None:
            return TriggerOutcome(self.name, False, f"{self.name}: {self.metric} not measured")
        shown = f"{self.metric}={value:g}"
        breach = self._breach(value)
        if state.n_samples < self.min_samples:
            what = "breaches" if breach else "within threshold"
            return TriggerOutcome(
                self.name,
                False,
                f"{self.name}: {shown} {what} but only {state.n_samples} labelled samples"
                f" < min_samples={self.min_samples}",
                blocked_by=MIN_SAMPLES if breach else None,
            )
        armed = memory.get(self, True)
        updates: dict[Trigger, typing.Any] = {}
        if not armed:
            if not self._recovered(value, hysteresis):
                return TriggerOutcome(
                    self.name,
                    False,
                    f"{self.name}: {shown}; disarmed since the last retrain until"
                    f" {self.metric} {self._recovery_text(hysteresis)}",
                    blocked_by=HYSTERESIS if breach else None,
                )
            updates[self] = True
            shown += f" (recovered {self._recovery_text(hysteresis)}: re-armed)"
        text = "breaches threshold" if breach else "within threshold"
        return TriggerOutcome(
            self.name,
            breach,
            f"{self.name}: {shown} {text} on {state.n_samples} samples",
            updates=updates,
        )

    def after_retrain(
        self, outcome: TriggerOutcome, memory: Mapping[Trigger, typing.Any]
    ) -> dict[Trigger, typing.Any]:
        return {self: False} if outcome.fired else {}


@attrs.frozen(eq=False, repr=False)
class DriftTrigger(Trigger):
    """Fire when drift held for ``consecutive_windows`` drift windows in a row.

    Parameters
    ----------
    share_above
        A window drifted when :attr:`State.drift_share` is strictly above this.
    features
        A window drifted when any of these features is in
        :attr:`State.drifted_features`. With both given, either condition counts.
    consecutive_windows
        Consecutive drifted windows needed; a window without drift, or a gap in
        :attr:`State.drift_window`, restarts the count, and so does a retrain.

    Examples
    --------
    >>> from mlkit.retraining import State
    >>> DriftTrigger(features=["age"]).check(
    ...     State(now=0.0, drifted_features={"age", "zip"}), {}, 0.0
    ... ).reason
    "drift(features=['age']): drifted features ['age'] (1/1 consecutive windows)"
    """

    share_above: float | None = attrs.field(default=None, converter=_share_above)
    features: frozenset[str] | None = attrs.field(default=None, converter=_names)
    consecutive_windows: int = attrs.field(default=1, converter=_consecutive)
    name: str = _name_field()

    def __attrs_post_init__(self) -> None:
        if self.share_above is None and not self.features:
            raise ConfigurationError(
                "DriftTrigger: give share_above= and/or a non-empty features=",
                column="share_above",
                value=None,
                expected="share_above= or features=",
            )
        if not self.name:
            parts = []
            if self.share_above is not None:
                parts.append(f"share>{self.share_above:g}")
            if self.features:
                parts.append(f"features={sorted(self.features)}")
            if self.consecutive_windows > 1:
                parts.append(f"x{self.consecutive_windows}")
            object.__setattr__(self, "name", f"drift({', '.join(parts)})")

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        if state.drift_share is None and not state.drifted_features:
            return TriggerOutcome(self.name, False, f"{self.name}: no drift result")
        why = []
        share, limit = state.drift_share, self.share_above
        if share is not None and limit is not None and share > limit:
            why.append(f"drifted share {share:g} > {limit:g}")
        hit = sorted(self.features & state.drifted_features) if self.features else []
        if hit:
            why.append(f"drifted features {hit}")
        drifted = bool(why)
        last_window, count = memory.get(self, (None, 0))
        window = state.drift_window
        if window is not None and last_window is not None and window == last_window:
            pass  # the same window seen again: already counted
        elif drifted:
            follows = window is None or last_window is None or window == last_window + 1
            count = count + 1 if follows and count else 1
        else:
            count = 0
        fired = count >= self.consecutive_windows
        detail = "; ".join(why) if why else "no drift in this window"
        return TriggerOutcome(
            self.name,
            fired,
            f"{self.name}: {detail} ({count}/{self.consecutive_windows} consecutive windows)",
            updates={self: (window, count)},
        )

    def after_retrain(
        self, outcome: TriggerOutcome, memory: Mapping[Trigger, typing.Any]
    ) -> dict[Trigger, typing.Any]:
        # Drift seen before a retrain was measured against the old reference.
        last_window, _ = memory.get(self, (None, 0))
        return {self: (last_window, 0)}


@attrs.frozen(eq=False, repr=False)
class VolumeTrigger(Trigger):
    """Fire when at least ``new_rows_at_least`` new rows arrived since the last retrain.

    Examples
    --------
    >>> from mlkit.retraining import State
    >>> VolumeTrigger(10_000).check(State(now=0.0, new_rows=12_000), {}, 0.0).fired
    True
    """

    new_rows_at_least: int = attrs.field(converter=_rows)
    name: str = _name_field()

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"volume(>={self.new_rows_at_least})")

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        fired = state.new_rows >= self.new_rows_at_least
        op = ">=" if fired else "<"
        return TriggerOutcome(
            self.name,
            fired,
            f"{self.name}: {state.new_rows} new rows {op} {self.new_rows_at_least}",
        )


def _triggers(items: Iterable[Trigger], what: str) -> tuple[Trigger, ...]:
    out = tuple(items)
    bad = [t for t in out if not isinstance(t, Trigger)]
    if not out or bad:
        raise ConfigurationError(
            f"{what} needs one or more triggers, got {bad or out!r}",
            column="triggers",
            value=bad or out,
            expected="Trigger instances",
        )
    return out


class _Combinator(Trigger):
    triggers: tuple[Trigger, ...]
    _all: bool

    def __init__(self, *triggers: Trigger, name: str | None = None) -> None:
        kind = type(self).__name__
        self.triggers = _triggers(triggers, kind)
        self.name = name or f"{kind}({', '.join(t.name for t in self.triggers)})"

    def leaves(self) -> list[Trigger]:
        return [leaf for t in self.triggers for leaf in t.leaves()]

    def check(
        self, state: State, memory: Mapping[Trigger, typing.Any], hysteresis: float
    ) -> TriggerOutcome:
        # Every child is evaluated (no short cut) so each decision explains all
        # of them and stateful children (drift counts) see every window.
        children = tuple(t.check(state, memory, hysteresis) for t in self.triggers)
        updates: dict[Trigger, typing.Any] = {}
        for child in children:
            updates.update(child.updates)
        combine = all if self._all else any
        fired = combine(c.fired for c in children)
        blocked = None
        if not fired and combine(c.would_fire for c in children):
            blockers = [b for c in children for b in c.blockers()]
            blocked = blockers[0] if blockers else None
        verdict = "fired" if fired else "not fired"
        return TriggerOutcome(
            self.name,
            fired,
            f"{self.name}: {verdict} ({sum(c.fired for c in children)}/{len(children)} fired)",
            blocked_by=blocked,
            children=children,
            updates=updates,
        )

    def after_retrain(
        self, outcome: TriggerOutcome, memory: Mapping[Trigger, typing.Any]
    ) -> dict[Trigger, typing.Any]:
        updates: dict[Trigger, typing.Any] = {}
        for trigger, child in zip(self.triggers, outcome.children, strict=True):
            updates.update(trigger.after_retrain(child, memory))
        return updates


class All(_Combinator):
    """Fire when every one of ``triggers`` fires ("drift AND performance").

    Examples
    --------
    >>> from mlkit.retraining import DriftTrigger, State, VolumeTrigger
    >>> both = All(DriftTrigger(share_above=0.2), VolumeTrigger(1000))
    >>> both.check(State(now=0.0, drift_share=0.5, new_rows=10), {}, 0.0).fired
    False
    """

    _all = True


class Any(_Combinator):
    """Fire when at least one of ``triggers`` fires ("performance OR schedule").

    Examples
    --------
    >>> from mlkit.retraining import DriftTrigger, State, VolumeTrigger
    >>> either = Any(DriftTrigger(share_above=0.2), VolumeTrigger(1000))
    >>> either.check(State(now=0.0, drift_share=0.5, new_rows=10), {}, 0.0).fired
    True
    """

    _all = False
