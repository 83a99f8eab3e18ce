"""The champion/challenger promotion gate.

A :class:`PromotionGate` runs a list of checks on a candidate model and the
current champion, scored on the same holdout rows, and reports every check's
verdict with the numbers behind it (:class:`GateResult`).
:meth:`PromotionGate.promote` does the same for two versions of a
:class:`~mlkit.versioning.ModelRegistry` model, records the verdict as version
tags, and moves the champion alias only when every check passed.

Ready checks reuse :mod:`mlkit.testing`:

- :class:`MetricThreshold`: MLflow's ``MetricThreshold`` semantics, an
  absolute bound on the candidate's metric and a minimum absolute or relative
  improvement over the champion.
- :class:`NotSignificantlyWorse`: a paired bootstrap of candidate - champion
  (:func:`mlkit.testing.compare_models`).
- :class:`FairnessCheck`: a parity metric bound
  (:func:`mlkit.testing.assert_fairness`), optionally no worse than the champion's.
- :class:`BehavioralCheck`: invariance or directional expectations
  (:func:`mlkit.testing.check_invariance`, :func:`mlkit.testing.check_directional`).
- :class:`LatencyCheck`: the candidate's p99 latency
  (:func:`mlkit.testing.measure_latency`).

Any object with a ``name`` and an ``evaluate(candidate, champion, X, y, *,
sensitive=None) -> CheckOutcome`` method is a check (:class:`GateCheck`).

With no champion yet (the first promotion) the champion is None: checks that
compare with it skip that comparison (their ``numbers`` say
``"champion": None``) and keep their absolute bounds, so the first model must
still meet every threshold, fairness bound, behavioural expectation and
latency budget.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import numpy as np

from mlkit.errors import ConfigurationError, ConflictError, DataError, NotFoundError
from mlkit.testing import (
    assert_fairness,
    check_directional,
    check_invariance,
    check_metric,
    compare_models,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    measure_latency,
)
from mlkit.testing._session import json_safe

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.versioning import ModelRegistry

__all__ = [
    "BehavioralCheck",
    "CheckOutcome",
    "FairnessCheck",
    "GateCheck",
    "GateResult",
    "LatencyCheck",
    "MetricThreshold",
    "NotSignificantlyWorse",
    "PromotionGate",
]

logger = logging.getLogger(__name__)

_PARITY: dict[str, Callable[..., Any]] = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
}


def _fmt(value: float | None) -> str:
    if value is None:
        return "None"
    if math.isnan(value):
        return "NaN"
    return f"{value:.4g}"


def _metric_label(metric: Any) -> str:
    if isinstance(metric, str):
        return metric
    label = getattr(metric, "__name__", None)
    if not isinstance(label, str) or label == "<lambda>":
        raise ConfigurationError(
            f"name this metric: a callable's name sets its direction and the check's name, "
            f"got {metric!r}",
            column="metric",
            value=metric,
            expected="a scorer name or a named function",
        )
    return label


def _check_nonnegative(label: str, value: float | None) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError(
            f"{label} must be a finite number >= 0, got {value!r}",
            column=label,
            value=value,
            expected="a finite number >= 0",
        )
    return float(value)


# --- results -----------------------------------------------------------------


@attrs.frozen(repr=False)
class CheckOutcome:
    """The verdict of one gate check.

    Attributes
    ----------
    name
        The check's name, unique within a gate (also its version-tag suffix).
    passed
        Whether the candidate passed.
    numbers
        The figures behind the verdict (JSON-safe: numbers, None, strings),
        such as ``{"candidate": 0.91, "champion": 0.89, "threshold": 0.8}``.
    message
        One line saying what was compared and why it passed or failed.
    """

    name: str
    passed: bool
    numbers: Mapping[str, Any] = attrs.field(factory=dict, converter=json_safe, hash=False)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every field."""
        return {
            "name": self.name,
            "passed": self.passed,
            "numbers": dict(self.numbers),
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{'passed' if self.passed else 'FAILED'} {self.name}: {self.message}"

    def __repr__(self) -> str:
        return f"CheckOutcome({self.name!r}, {'passed' if self.passed else 'failed'})"


@attrs.frozen(repr=False)
class GateResult:
    """The verdict of a :class:`PromotionGate`: every check's outcome.

    Index it by check name (``result["not_worse.accuracy"]``).

    Attributes
    ----------
    passed
        True when every check passed.
    checks
        Each check's :class:`CheckOutcome`, in the gate's order.
    candidate_version, champion_version
        The registry versions compared (set by :meth:`PromotionGate.promote`;
        ``champion_version`` is None when there was no champion).
    promoted
        Whether :meth:`PromotionGate.promote` moved the alias to the candidate.
    """

    passed: bool
    checks: tuple[CheckOutcome, ...]
    candidate_version: int | None = None
    champion_version: int | None = None
    promoted: bool = False

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the checks that failed."""
        return tuple(c.name for c in self.checks if not c.passed)

    def __getitem__(self, name: str) -> CheckOutcome:
        for outcome in self.checks:
            if outcome.name == name:
                return outcome
        names = [c.name for c in self.checks]
        raise NotFoundError(
            f"no check {name!r} in this result; it has {names}",
            value=name,
            expected=f"one of {names}",
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: the verdict, the versions and every check."""
        return {
            "passed": self.passed,
            "promoted": self.promoted,
            "candidate_version": self.candidate_version,
            "champion_version": self.champion_version,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy frame: one row per check (``name``, ``passed``, ``message``)."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame(
            {
                "name": [c.name for c in self.checks],
                "passed": [c.passed for c in self.checks],
                "message": [c.message for c in self.checks],
            }
        )
        return frame

    def __str__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED ({', '.join(self.failed)})"
        head = f"promotion gate {verdict}"
        if self.candidate_version is not None:
            champion = "none" if self.champion_version is None else f"v{self.champion_version}"
            head += f": candidate v{self.candidate_version} vs champion {champion}"
            head += ", promoted" if self.promoted else ", not promoted"
        return "\n".join([head, *(f"  {c}" for c in self.checks)])

    def __repr__(self) -> str:
        shown = ", ".join(f"{c.name}={'ok' if c.passed else 'FAIL'}" for c in self.checks)
        return f"GateResult(passed={self.passed}, promoted={self.promoted}, {shown})"


# --- checks ------------------------------------------------------------------


@runtime_checkable
class GateCheck(Protocol):
    """What a :class:`PromotionGate` needs of a check: a name and ``evaluate``.

    ``champion`` is None when there is no champion yet; ``sensitive`` is
    whatever was passed to :meth:`PromotionGate.evaluate`.
    """

    @property
    def name(self) -> str: ...

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome: ...


@attrs.frozen
class MetricThreshold:
    """A bound on the candidate's metric and a minimum improvement over the champion.

    MLflow's ``MetricThreshold`` semantics, with improvement measured in the
    metric's better direction (``delta = candidate - champion`` when higher is
    better, ``champion - candidate`` when lower is better):

    - ``threshold``: candidate ``>= threshold`` (higher is better) or
      ``<= threshold`` (lower is better);
    - ``min_absolute_change``: ``delta >= min_absolute_change``;
    - ``min_relative_change``: ``delta / |champion| >= min_relative_change``;
      with a champion of exactly 0 the relative change is undefined and the
      candidate must simply improve (``delta > 0``).

    Change conditions are skipped when there is no champion. A NaN metric
    fails every condition it takes part in.

    Parameters
    ----------
    metric
        A scikit-learn scorer name, the error's name without ``neg_``, or a
        named callable ``metric(y_true, y_pred)`` (see :mod:`mlkit.testing`).
    threshold, min_absolute_change, min_relative_change
        At least one; the changes are >= 0.
    greater_is_better
        The metric's direction. None (default) follows :mod:`mlkit.testing`'s
        rule (scorer names are higher-is-better, ``*_error``/``*_loss`` names
        lower); a value contradicting a scorer name is an error, since its
        sign is fixed.
    name
        The check's name; default ``"metric_threshold.<metric>"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> good = LogisticRegression().fit(X, y)
    >>> dummy = DummyClassifier().fit(X, y)
    >>> check = MetricThreshold("accuracy", threshold=0.8, min_absolute_change=0.1)
    >>> outcome = check.evaluate(good, dummy, X, y)
    >>> outcome.passed, outcome.numbers["candidate"], outcome.numbers["champion"]
    (True, 1.0, 0.5)
    """

    metric: Any
    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool | None = None
    _name: str | None = attrs.field(default=None, alias="name")

    def __attrs_post_init__(self) -> None:
        label = _metric_label(self.metric)
        if self.threshold is not None and (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, (int, float, np.number))
            or math.isnan(self.threshold)
        ):
            raise ConfigurationError(
                f"threshold must be a number, got {self.threshold!r}",
                column="threshold",
                value=self.threshold,
                expected="a number",
            )
        _check_nonnegative("min_absolute_change", self.min_absolute_change)
        _check_nonnegative("min_relative_change", self.min_relative_change)
        if (
            self.threshold is None
            and self.min_absolute_change is None
            and self.min_relative_change is None
        ):
            raise ConfigurationError(
                f"MetricThreshold({label!r}) has no condition",
                value=None,
                expected="threshold, min_absolute_change or min_relative_change",
            )

    @property
    def name(self) -> str:
        """The check's name."""
        return self._name or f"metric_threshold.{_metric_label(self.metric)}"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome:
        """Score both models on ``X, y`` and apply every condition."""
        label = _metric_label(self.metric)
        # min=-inf never binds: check_metric is used for its value and direction.
        scored = check_metric(candidate, X, y, self.metric, min=-math.inf, name=label)
        higher = scored.greater_is_better
        if self.greater_is_better is not None:
            if isinstance(self.metric, str) and self.greater_is_better != higher:
                raise ConfigurationError(
                    f"{label!r} is {'higher' if higher else 'lower'}-is-better in mlkit's "
                    f"convention, but greater_is_better={self.greater_is_better}",
                    column="greater_is_better",
                    value=self.greater_is_better,
                    expected=higher,
                )
            higher = self.greater_is_better
        value = scored.value
        base = (
            None
            if champion is None
            else check_metric(champion, X, y, self.metric, min=-math.inf, name=label).value
        )
        failures: list[str] = []
        if self.threshold is not None:
            ok = value >= self.threshold if higher else value <= self.threshold
            if not ok:  # NaN compares False, so it fails here
                op = ">=" if higher else "<="
                failures.append(f"{label} = {_fmt(value)} is not {op} {_fmt(self.threshold)}")
        delta = relative = None
        if base is not None:
            delta = (value - base) if higher else (base - value)
            relative = delta / abs(base) if base != 0 else math.nan
            if self.min_absolute_change is not None and not delta >= self.min_absolute_change:
                failures.append(
                    f"improvement {_fmt(delta)} < min_absolute_change "
                    f"{_fmt(self.min_absolute_change)}"
                )
            if self.min_relative_change is not None:
                ok = relative >= self.min_relative_change if base != 0 else delta > 0
                if not ok:
                    failures.append(
                        f"relative improvement {_fmt(relative)} < min_relative_change "
                        f"{_fmt(self.min_relative_change)}"
                    )
        direction = "higher" if higher else "lower"
        summary = f"{label} ({direction} is better): candidate {_fmt(value)}"
        summary += (
            ", no champion (change conditions skipped)"
            if base is None
            else f", champion {_fmt(base)}, improvement {_fmt(delta)}"
        )
        return CheckOutcome(
            name=self.name,
            passed=not failures,
            numbers={
                "candidate": value,
                "champion": base,
                "improvement": delta,
                "relative_improvement": relative,
                "threshold": self.threshold,
                "min_absolute_change": self.min_absolute_change,
                "min_relative_change": self.min_relative_change,
                "greater_is_better": higher,
                "n": scored.n,
            },
            message=summary + ("; " + "; ".join(failures) if failures else ""),
        )


@attrs.frozen
class NotSignificantlyWorse:
    """The candidate is not significantly worse than the champion (paired bootstrap).

    Runs :func:`mlkit.testing.compare_models` and fails when the one-sided
    test at level ``alpha`` shows the candidate worse by more than ``margin``:
    the ``1 - 2 * alpha`` interval of ``candidate - champion`` lies entirely
    on the worse side of ``margin``. Lenient by design (a small holdout lets a
    worse model through); pair it with :class:`MetricThreshold` to require an
    improvement. Passes, with a note, when there is no champion.

    Parameters
    ----------
    metric
        As for :class:`MetricThreshold`.
    n_boot
        Bootstrap resamples.
    alpha
        One-sided significance level, in (0, 0.5).
    margin
        How much worse the candidate may be, in the metric's units (>= 0).
    random_state
        Seed of the resamples.
    name
        Default ``"not_worse.<metric>"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> dummy = DummyClassifier().fit(X, y)
    >>> check = NotSignificantlyWorse("accuracy", n_boot=200)
    >>> check.evaluate(good, dummy, X, y).passed, check.evaluate(dummy, good, X, y).passed
    (True, False)
    """

    metric: Any = "accuracy"
    n_boot: int = 1000
    alpha: float = 0.05
    margin: float = 0.0
    random_state: int | None = 0
    _name: str | None = attrs.field(default=None, alias="name")

    def __attrs_post_init__(self) -> None:
        _metric_label(self.metric)
        if (
            isinstance(self.alpha, bool)
            or not isinstance(self.alpha, (int, float))
            or not 0 < self.alpha < 0.5
        ):
            raise ConfigurationError(
                f"alpha must be a one-sided significance level in (0, 0.5), got {self.alpha!r}",
                column="alpha",
                value=self.alpha,
                expected="0 < alpha < 0.5",
            )
        _check_nonnegative("margin", self.margin)

    @property
    def name(self) -> str:
        """The check's name."""
        return self._name or f"not_worse.{_metric_label(self.metric)}"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome:
        """Compare the candidate with the champion on the same bootstrap resamples."""
        label = _metric_label(self.metric)
        if champion is None:
            return CheckOutcome(
                self.name,
                True,
                {"champion": None, "alpha": self.alpha, "margin": self.margin},
                f"{label}: no champion to compare with (skipped)",
            )
        comparison = compare_models(
            candidate,
            champion,
            X,
            y,
            {label: self.metric},
            n_boot=self.n_boot,
            ci=1 - 2 * self.alpha,
            random_state=self.random_state,
        ).metrics[0]
        return CheckOutcome(
            name=self.name,
            passed=comparison.not_worse(self.margin),
            numbers={
                "candidate": comparison.candidate,
                "champion": comparison.baseline,
                "difference": comparison.difference,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
                "p_value": comparison.p_value,
                "alpha": self.alpha,
                "margin": self.margin,
                "greater_is_better": comparison.greater_is_better,
                "n": comparison.n,
                "n_boot": comparison.n_boot,
            },
            message=comparison.explain(self.margin).splitlines()[0]
            + f" (difference {comparison.difference:+.4g}, "
            f"{1 - 2 * self.alpha:.0%} CI [{comparison.ci_low:+.4g}, {comparison.ci_high:+.4g}])",
        )


def _sensitive(features: str | Sequence[str] | None, X: Any, given: Any, check: str) -> Any:
    if features is None:
        if given is None:
            raise ConfigurationError(
                f"{check} needs sensitive features: name columns of X in "
                "FairnessCheck(sensitive_features=...) or pass sensitive=... to evaluate/promote",
                column="sensitive",
                value=None,
                expected="column names of X or an array per row",
            )
        return given
    columns = [features] if isinstance(features, str) else list(features)
    available = getattr(X, "columns", None)
    if available is None:
        raise DataError(
            f"{check} reads columns {columns} of X, but X is a {type(X).__name__}",
            column="X",
            value=type(X).__name__,
            expected="a DataFrame, or pass sensitive=... instead",
        )
    missing = [c for c in columns if c not in available]
    if missing:
        raise DataError(
            f"{check}: X has no column(s) {missing}",
            column=missing[0],
            value=missing,
            expected=f"columns of X: {list(available)[:20]}",
        )
    return X[columns[0]] if len(columns) == 1 else X[columns]


@attrs.frozen
class FairnessCheck:
    """A parity metric of the candidate's predictions within its bound.

    The verdict is :func:`mlkit.testing.assert_fairness` on the candidate's
    ``predict(X)`` (groups smaller than ``min_group_size`` fail by default).
    With ``max_regression`` the candidate's metric may also be at most that
    much worse than the champion's (higher for a ``*_difference``, lower for a
    ``*_ratio``), so a model that was fair enough cannot quietly get less fair.

    Parameters
    ----------
    sensitive_features
        Column name(s) of ``X`` holding the sensitive features (the model is
        still called on all of ``X``), or None to use the ``sensitive``
        argument of :meth:`PromotionGate.evaluate`.
    metric
        A parity metric name (see :func:`mlkit.testing.assert_fairness`).
    max_difference, min_ratio
        The bound, for ``*_difference`` and ``*_ratio`` metrics (defaults
        0.1 and 0.8).
    max_regression
        How much worse than the champion the metric may be (>= 0); None: no
        comparison.
    min_group_size, on_small_groups, pos_label
        As for :func:`mlkit.testing.assert_fairness`.
    name
        Default ``"fairness.<metric>"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> X = pd.DataFrame({"x": np.arange(80.0), "sex": ["F", "M"] * 40})
    >>> y = np.array([0, 1] * 40)
    >>> model = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    >>> FairnessCheck("sex", max_difference=0.1).evaluate(model, None, X, y).passed
    True
    """

    sensitive_features: str | Sequence[str] | None = None
    metric: str = "demographic_parity_difference"
    max_difference: float | None = None
    min_ratio: float | None = None
    max_regression: float | None = None
    min_group_size: int = 30
    on_small_groups: str = "fail"
    pos_label: Any = None
    _name: str | None = attrs.field(default=None, alias="name")

    def __attrs_post_init__(self) -> None:
        if self.metric not in _PARITY:
            raise ConfigurationError(
                f"unknown parity metric {self.metric!r}",
                column="metric",
                value=self.metric,
                expected=f"one of {sorted(_PARITY)}",
            )
        _check_nonnegative("max_regression", self.max_regression)

    @property
    def name(self) -> str:
        """The check's name."""
        return self._name or f"fairness.{self.metric}"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome:
        """Check the candidate's parity metric against its bound and the champion's."""
        groups = _sensitive(self.sensitive_features, X, sensitive, self.name)
        parity = _PARITY[self.metric]
        y_true = np.asarray(y)
        predicted = np.asarray(candidate.predict(X))
        value = float(
            parity(y_true, predicted, sensitive_features=groups, pos_label=self.pos_label)
        )
        base = (
            None
            if champion is None
            else float(
                parity(
                    y_true,
                    np.asarray(champion.predict(X)),
                    sensitive_features=groups,
                    pos_label=self.pos_label,
                )
            )
        )
        try:
            result = assert_fairness(
                y_true,
                predicted,
                groups,
                metric=self.metric,
                max_difference=self.max_difference,
                min_ratio=self.min_ratio,
                pos_label=self.pos_label,
                min_group_size=self.min_group_size,
                on_small_groups=self.on_small_groups,  # type: ignore[arg-type]
            )
            passed, message = True, result.summary
            bound, limit = result.bound, result.threshold
        except AssertionError as failure:
            passed, message = False, str(failure).splitlines()[0]
            ratio = self.metric.endswith("_ratio")
            bound = "min_ratio" if ratio else "max_difference"
            given = self.min_ratio if ratio else self.max_difference
            limit = given if given is not None else (0.8 if ratio else 0.1)
        regression = None
        if base is not None:
            regression = (base - value) if self.metric.endswith("_ratio") else (value - base)
            if self.max_regression is not None and not regression <= self.max_regression:
                passed = False
                message += (
                    f"; worse than the champion's {_fmt(base)} by {_fmt(regression)} > "
                    f"max_regression {_fmt(self.max_regression)}"
                )
        return CheckOutcome(
            name=self.name,
            passed=passed,
            numbers={
                "candidate": value,
                "champion": base,
                "regression": regression,
                str(bound): limit,
                "max_regression": self.max_regression,
            },
            message=message,
        )


@attrs.frozen
class BehavioralCheck:
    """An invariance or directional expectation the candidate must meet.

    Runs :func:`mlkit.testing.check_invariance` (``kind="invariance"``) or
    :func:`mlkit.testing.check_directional` (``kind="directional"``) on the
    candidate with ``X``. The champion's failure rate is reported alongside
    for context but does not decide the verdict.

    Parameters
    ----------
    perturb
        A :class:`~mlkit.testing.Perturbation` or callable ``f(X)``.
    kind
        ``"invariance"`` or ``"directional"``.
    options
        Keyword arguments for the check function (``expect``,
        ``max_failure_rate``, ``tolerance``, ``output``, ...).
    name
        Default ``"<kind>.<perturbation name>"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlkit.testing import add_noise
    >>> X = pd.DataFrame({"x": np.linspace(-3, 3, 50), "noise": 0.0})
    >>> model = LogisticRegression().fit(X[["x"]], X["x"] > 0)
    >>> class OnX:
    ...     def predict(self, X):
    ...         return model.predict(X[["x"]])
    >>> check = BehavioralCheck(add_noise("noise", 1.0))
    >>> check.evaluate(OnX(), None, X, None).passed
    True
    """

    perturb: Any
    kind: str = "invariance"
    options: Mapping[str, Any] = attrs.field(factory=dict)
    _name: str | None = attrs.field(default=None, alias="name")

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("invariance", "directional"):
            raise ConfigurationError(
                f"kind must be 'invariance' or 'directional', got {self.kind!r}",
                column="kind",
                value=self.kind,
                expected="'invariance' or 'directional'",
            )

    @property
    def name(self) -> str:
        """The check's name."""
        if self._name:
            return self._name
        label = getattr(self.perturb, "name", None) or getattr(self.perturb, "__name__", "perturb")
        return f"{self.kind}.{label}"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome:
        """Run the behavioural check on the candidate (and the champion, for context)."""
        run = check_invariance if self.kind == "invariance" else check_directional
        result = run(candidate, X, self.perturb, name=self.name, **self.options)
        base = (
            None
            if champion is None
            else run(champion, X, self.perturb, name=self.name, **self.options).failure_rate
        )
        return CheckOutcome(
            name=self.name,
            passed=result.passed,
            numbers={
                "n_cases": result.n_cases,
                "n_changed": result.n_changed,
                "n_failed": result.n_failed,
                "failure_rate": result.failure_rate,
                "max_failure_rate": result.max_failure_rate,
                "champion_failure_rate": base,
            },
            message=result._headline(),
        )


@attrs.frozen
class LatencyCheck:
    """The candidate's p99 per-call latency is below a budget.

    Times the candidate with :func:`mlkit.testing.measure_latency` on
    ``example`` (default: the gate's ``X``, walked through ``batch_size``
    rows per call). The champion is not timed.

    Parameters
    ----------
    p99_below
        The budget, in seconds (> 0).
    example
        Rows to time with; None uses ``X``.
    n, warmup, batch_size, method
        As for :func:`mlkit.testing.measure_latency`.
    timer
        Monotonic clock in seconds; inject a fake one in tests.
    name
        Default ``"latency.p99"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X = np.zeros((10, 1))
    >>> model = DummyClassifier().fit(X, [0, 1] * 5)
    >>> LatencyCheck(p99_below=1.0, n=20, warmup=2).evaluate(model, None, X, None).passed
    True
    """

    p99_below: float
    example: Any = None
    n: int = 200
    warmup: int = 20
    batch_size: int = 1
    method: str = "predict"
    timer: Callable[[], float] = time.perf_counter
    _name: str | None = attrs.field(default=None, alias="name")

    def __attrs_post_init__(self) -> None:
        budget = _check_nonnegative("p99_below", self.p99_below)
        if not budget:
            raise ConfigurationError(
                f"p99_below must be > 0 seconds, got {self.p99_below!r}",
                column="p99_below",
                value=self.p99_below,
                expected="a number of seconds > 0",
            )

    @property
    def name(self) -> str:
        """The check's name."""
        return self._name or "latency.p99"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> CheckOutcome:
        """Time the candidate and compare its p99 with the budget."""
        latency = measure_latency(
            candidate,
            X if self.example is None else self.example,
            n=self.n,
            warmup=self.warmup,
            batch_size=self.batch_size,
            timer=self.timer,
            method=self.method,
        )
        passed = latency.p99 < self.p99_below
        return CheckOutcome(
            name=self.name,
            passed=passed,
            numbers={**latency.to_dict(), "p99_below": self.p99_below},
            message=(
                f"p99 {latency.p99 * 1e3:.3g} ms {'<' if passed else '>='} "
                f"{self.p99_below * 1e3:.3g} ms over {latency.n} calls"
            ),
        )


# --- the gate ----------------------------------------------------------------


class PromotionGate:
    """Run every check on a candidate and the champion; promote only on a clean pass.

    Parameters
    ----------
    checks
        :class:`GateCheck` objects with unique names, run in order. Every
        check runs even after one fails, so the result shows the whole
        picture; an exception inside a check propagates.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> good = LogisticRegression().fit(X, y)
    >>> dummy = DummyClassifier().fit(X, y)
    >>> gate = PromotionGate([
    ...     MetricThreshold("accuracy", threshold=0.7, min_absolute_change=0.0),
    ...     NotSignificantlyWorse("accuracy", n_boot=200),
    ... ])
    >>> gate.evaluate(good, dummy, X, y).passed
    True
    >>> result = gate.evaluate(dummy, good, X, y)
    >>> result.passed, result.failed
    (False, ('metric_threshold.accuracy', 'not_worse.accuracy'))
    """

    def __init__(self, checks: Sequence[GateCheck]) -> None:
        checks = tuple(checks)
        if not checks:
            raise ConfigurationError(
                "a promotion gate needs at least one check",
                column="checks",
                value=[],
                expected="a non-empty list of checks",
            )
        for check in checks:
            if not isinstance(check, GateCheck):
                raise ConfigurationError(
                    f"{check!r} is not a gate check",
                    column="checks",
                    value=check,
                    expected="an object with name and evaluate(candidate, champion, X, y)",
                )
        names = [c.name for c in checks]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigurationError(
                f"check names must be unique, {duplicates} repeat; pass name=...",
                column="checks",
                value=duplicates,
                expected="unique names",
            )
        self.checks: tuple[GateCheck, ...] = checks

    def __repr__(self) -> str:
        return f"PromotionGate([{', '.join(c.name for c in self.checks)}])"

    def evaluate(
        self, candidate: Any, champion: Any, X: Any, y: Any, *, sensitive: Any = None
    ) -> GateResult:
        """Run every check on ``candidate`` vs ``champion`` on the same rows.

        Parameters
        ----------
        candidate
            The challenger model.
        champion
            The current champion, or None for a first promotion (see the
            module docstring).
        X, y
            Holdout rows and their true targets, shared by every check.
        sensitive
            Sensitive features per row, for :class:`FairnessCheck` objects
            that do not name columns of ``X``.

        Raises
        ------
        ConflictError
            ``candidate`` and ``champion`` are the same object.
        """
        if champion is not None and candidate is champion:
            raise ConflictError(
                "candidate and champion are the same object: a model compared with itself "
                "always passes",
                column="champion",
                value=type(champion).__name__,
                expected="a different model",
            )
        outcomes = tuple(
            c.evaluate(candidate, champion, X, y, sensitive=sensitive) for c in self.checks
        )
        result = GateResult(passed=all(o.passed for o in outcomes), checks=outcomes)
        logger.debug("%r", result)
        return result

    def promote(
        self,
        registry: ModelRegistry,
        name: str,
        candidate_version: int,
        *,
        X: Any,
        y: Any,
        champion_alias: str = "champion",
        sensitive: Any = None,
        require_champion: bool = False,
    ) -> GateResult:
        """Gate a registered version against the champion; move the alias only on a pass.

        Loads the candidate and the version ``champion_alias`` points at
        (hash-checked by :meth:`~mlkit.versioning.ModelRegistry.load`), runs
        :meth:`evaluate`, and records the verdict on the candidate version as
        tags: ``gate.passed`` (``"true"``/``"false"``), ``gate.<check>``
        (``"passed"``/``"failed"``), ``gate.champion_version`` (``"none"``
        without a champion) and ``gate.result`` (the JSON of
        :meth:`GateResult.to_dict`). Tags hold the latest evaluation. Only
        when every check passed is ``champion_alias`` moved to the candidate,
        which the registry's alias audit log records.

        With no champion yet the candidate is gated alone (absolute bounds
        only) and becomes the champion if it passes; pass
        ``require_champion=True`` to refuse instead.

        Raises
        ------
        ConflictError
            The candidate is the champion already, or has the same artifact
            hash as the champion (the same model registered twice), or the
            alias moved while the gate ran.
        NotFoundError
            No such version, or no champion and ``require_champion=True``.
        """
        candidate_info = registry.get_version(name, candidate_version)
        try:
            champion_info = registry.get_by_alias(name, champion_alias)
        except NotFoundError:
            if require_champion:
                raise
            champion_info = None
        if champion_info is not None:
            if champion_info.version == candidate_info.version:
                raise ConflictError(
                    f"{name} version {candidate_version} is already {champion_alias!r}: "
                    "a model compared with itself always passes",
                    column="candidate_version",
                    value=candidate_version,
                    expected=f"a version other than {champion_alias} ({champion_info.version})",
                )
            if champion_info.artifact_key == candidate_info.artifact_key:
                raise ConflictError(
                    f"{name} version {candidate_version} has the same artifact "
                    f"({candidate_info.artifact_key[:19]}...) as {champion_alias} version "
                    f"{champion_info.version}: the same model registered twice",
                    column="candidate_version",
                    value=candidate_version,
                    expected="a model whose bytes differ from the champion's",
                )
        candidate = registry.load(candidate_info)
        champion = None if champion_info is None else registry.load(champion_info)
        result = attrs.evolve(
            self.evaluate(candidate, champion, X, y, sensitive=sensitive),
            candidate_version=candidate_info.version,
            champion_version=None if champion_info is None else champion_info.version,
        )
        if result.passed:
            # Re-read just before moving: another promotion may have won meanwhile,
            # and this verdict was against the old champion.
            try:
                now = registry.get_by_alias(name, champion_alias).version
            except NotFoundError:
                now = None
            if now != result.champion_version:
                self._tag(registry, name, result)
                raise ConflictError(
                    f"{champion_alias!r} of {name} moved from {result.champion_version} to {now} "
                    "while the gate ran; evaluate again against the new champion",
                    column=champion_alias,
                    value=now,
                    expected=result.champion_version,
                )
            registry.set_alias(name, champion_alias, candidate_info.version)
            result = attrs.evolve(result, promoted=True)
        self._tag(registry, name, result)
        logger.info(
            "gate %s %s v%d vs %s: %s",
            "promoted" if result.promoted else "rejected",
            name,
            candidate_info.version,
            result.champion_version,
            ", ".join(result.failed) or "all checks passed",
        )
        return result

    @staticmethod
    def _tag(registry: ModelRegistry, name: str, result: GateResult) -> None:
        assert result.candidate_version is not None
        version = result.candidate_version
        champion = "none" if result.champion_version is None else result.champion_version
        registry.set_version_tag(name, version, "gate.passed", str(result.passed).lower())
        registry.set_version_tag(name, version, "gate.champion_version", champion)
        for outcome in result.checks:
            verdict = "passed" if outcome.passed else "failed"
            registry.set_version_tag(name, version, f"gate.{outcome.name}", verdict)
        registry.set_version_tag(
            name, version, "gate.result", json.dumps(result.to_dict(), sort_keys=True)
        )
