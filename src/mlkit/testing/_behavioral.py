"""Behavioural checks: invariance, directional expectations and minimum functionality.

The three test types of CheckList (Ribeiro et al., 2020), for any model with
``predict`` (and ``predict_proba`` where probabilities are compared):

- :func:`check_invariance` (INV): a perturbation that should not matter
  (upper-casing a review, a little noise on income) must not change the
  output by more than ``tolerance``.
- :func:`check_directional` (DIR): a perturbation must move the output one
  way (more income must not lower the approval probability).
- :func:`check_minimum_functionality` (MFT): simple cases with known answers
  must be answered correctly.

Each returns a frozen :class:`BehaviorResult` and has an ``assert_*`` twin
that raises :class:`AssertionError` with a readable message. Three choices
differ from the tools these are modelled on:

- Rows the perturbation did not change (the input is identical before and
  after, for example ``upper`` on a text already in capitals) are neither
  passes nor failures: they are left out, ``n_changed`` says how many rows
  were really tested, and a perturbation that changed no row fails the check
  instead of passing it vacuously.
- The default ``max_failure_rate`` is ``0.0``: one failing row fails the
  check. (Giskard's metamorphic tests pass by default when more than half
  the rows behave.)
- The model is called once on the changed rows before and once after, never
  row by row.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pandas as pd

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import _session
from mlkit.testing._perturb import Perturbation, RandomState, as_perturbation

__all__ = [
    "BehaviorResult",
    "assert_directional",
    "assert_invariance",
    "assert_minimum_functionality",
    "check_directional",
    "check_invariance",
    "check_minimum_functionality",
]

logger = logging.getLogger(__name__)

#: The expectations :func:`check_directional` accepts.
EXPECTATIONS = ("increase", "decrease", "non_decrease", "non_increase")

# Rows kept in BehaviorResult.examples, and shown in the failure message.
_N_EXAMPLES = 10
_N_SHOWN = 5
_TEXT_WIDTH = 50
_RESERVED = frozenset({"row", "class", "output", "change", "expected", "predicted", "error"})


# ----------------------------------------------------------------------------
# The result


@attrs.frozen(repr=False)
class BehaviorResult:
    """The outcome of one behavioural check.

    Attributes
    ----------
    kind
        ``"invariance"``, ``"directional"`` or ``"minimum_functionality"``.
    name
        What was checked: the perturbation's name unless one was given.
    passed
        True when at least one row was tested and ``failure_rate <= max_failure_rate``.
    n_cases
        Rows of the input.
    n_changed
        Rows the perturbation actually changed: the rows that were tested.
        For minimum functionality every case is tested, so it equals
        ``n_cases``.
    n_failed
        Tested rows that broke the expectation.
    failure_rate
        ``n_failed / n_changed`` (NaN when no row was tested).
    max_failure_rate
        The largest failure rate that passes.
    examples
        The worst failing rows (up to 10), worst first: ``row`` (the index
        label, or the position for lists and arrays), the inputs before and
        after (``<column>_before`` / ``<column>_after``, only the columns
        the perturbation changed; ``text_*`` for a list of texts), and the
        model's outputs (``output_before``, ``output_after``, and ``change``
        where outputs are numbers). Minimum-functionality examples hold the
        inputs, ``expected`` and ``predicted``.
    details
        The settings of the check (``tolerance``, ``output``, ``expect``,
        ``target_class``, ...), JSON-safe.
    reason
        Why the check failed when it is not a matter of rate (for example
        "the perturbation changed no row"); empty otherwise.
    """

    kind: str
    name: str
    passed: bool
    n_cases: int
    n_changed: int
    n_failed: int
    failure_rate: float
    max_failure_rate: float
    examples: pd.DataFrame = attrs.field(eq=False)
    details: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    reason: str = ""
    _failures: pd.DataFrame | None = attrs.field(default=None, eq=False, alias="failures")

    def to_frame(self) -> pd.DataFrame:
        """Return every failing row (not just the worst 10), worst first, as in ``examples``."""
        frame = self.examples if self._failures is None else self._failures
        copied: pd.DataFrame = frame.copy()
        return copied

    def to_dict(self) -> dict[str, Any]:
        """Return the counts, settings and worst failing rows as JSON-safe types (NaN as None)."""
        safe: dict[str, Any] = _session.json_safe(
            {
                "kind": self.kind,
                "name": self.name,
                "passed": self.passed,
                "n_cases": self.n_cases,
                "n_changed": self.n_changed,
                "n_failed": self.n_failed,
                "failure_rate": self.failure_rate,
                "max_failure_rate": self.max_failure_rate,
                "reason": self.reason,
                "details": dict(self.details),
                "examples": self.examples.to_dict(orient="records"),
            }
        )
        return safe

    def _headline(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        what = f"{_KIND_LABELS.get(self.kind, self.kind)} check {self.name!r}"
        if self.reason:
            return f"{what} {verdict}: {self.reason}"
        tested = "cases" if self.kind == "minimum_functionality" else "changed rows"
        return (
            f"{what} {verdict}: {self.n_failed} of {self.n_changed} {tested} failed "
            f"({_percent(self.failure_rate)}), allowed at most "
            f"{_percent(self.max_failure_rate)} (max_failure_rate={self.max_failure_rate:g})"
        )

    def __str__(self) -> str:
        lines = [self._headline()]
        settings = ", ".join(
            f"{k}={v!r}"
            for k, v in self.details.items()
            if not (k == "perturbation" and v == self.name) and k != "n_saturated"
        )
        if self.kind == "minimum_functionality":
            lines.append(f"{self.n_cases} cases; {settings}")
        else:
            lines.append(
                f"{self.n_cases} rows, {self.n_changed} changed by the perturbation "
                f"(unchanged rows are not counted); {settings}"
            )
        stuck = self.details.get("n_saturated")
        if stuck:
            lenient = (
                "non_decrease" if self.details.get("expect") == "increase" else "non_increase"
            )
            lines.append(
                f"{stuck} of the failing rows had a probability within tolerance + atol of "
                f"0 or 1, where it can barely move; expect={lenient!r} accepts rows that "
                "do not move"
            )
        if self.n_failed:
            shown = min(_N_SHOWN, len(self.examples))
            lines.append(f"First failing rows, worst first ({shown} of {self.n_failed}):")
            options = ("display.max_colwidth", _TEXT_WIDTH, "display.width", 250)
            with pd.option_context(*options, "display.max_columns", 40):
                lines.append(self.examples.head(shown).to_string(index=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        rate = "n/a" if math.isnan(self.failure_rate) else _percent(self.failure_rate)
        return (
            f"BehaviorResult({self.kind} {self.name!r}: {verdict}, "
            f"{self.n_failed}/{self.n_changed} failed ({rate}), "
            f"max {_percent(self.max_failure_rate)})"
        )


_KIND_LABELS = {
    "invariance": "invariance",
    "directional": "directional",
    "minimum_functionality": "minimum functionality",
}


def _percent(rate: float) -> str:
    return "n/a" if math.isnan(rate) else f"{rate:.2%}"


def _finish(result: BehaviorResult) -> BehaviorResult:
    """Record ``result`` for the session report, log it, and return it."""
    _session.record(
        result.kind,
        result.name,
        result.passed,
        n_cases=result.n_cases,
        n_changed=result.n_changed,
        n_failed=result.n_failed,
        failure_rate=result.failure_rate,
        max_failure_rate=result.max_failure_rate,
        reason=result.reason,
        **dict(result.details),
    )
    logger.debug("%r", result)
    return result


# ----------------------------------------------------------------------------
# Arguments


def _check_fraction(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ConfigurationError(
            f"{name} must be a number in [0, 1], got {value!r}",
            value=value,
            expected="0 <= value <= 1",
        )
    return float(value)


def _check_nonnegative(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(float(value)) and float(value) >= 0)
    ):
        raise ConfigurationError(
            f"{name} must be a finite number >= 0, got {value!r}",
            value=value,
            expected="a finite number >= 0",
        )
    return float(value)


def _check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ConfigurationError(
            f"{name} must be one of {list(choices)!r}, got {value!r}",
            value=value,
            expected=list(choices),
        )
    return str(value)


# ----------------------------------------------------------------------------
# Inputs: row counts, subsets, and what a perturbation changed


def _n_rows(X: Any) -> int:
    if isinstance(X, (pd.DataFrame, pd.Series, list, tuple)):
        return len(X)
    if isinstance(X, np.ndarray) and X.ndim in (1, 2):
        return int(X.shape[0])
    raise DataError(
        "expected a DataFrame, Series, list, tuple or 1-D/2-D numpy array, "
        f"got {type(X).__name__}",
        value=type(X).__name__,
        expected="pandas.DataFrame | pandas.Series | list | numpy.ndarray",
    )


def _take(X: Any, positions: np.ndarray[Any, Any]) -> Any:
    """Return the rows of ``X`` at ``positions``, in ``X``'s own type."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[positions]
    if isinstance(X, np.ndarray):
        return X[positions]
    rows = list(map(X.__getitem__, positions.tolist()))
    return rows if isinstance(X, list) else tuple(rows)


def _as_frame(X: Any) -> pd.DataFrame:
    """Return ``X`` as a DataFrame with a 0..n-1 index, for comparing and showing rows."""
    frame: pd.DataFrame
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)
    elif isinstance(X, np.ndarray) and X.ndim == 2:
        frame = pd.DataFrame(X)
    else:
        values = (
            X.reset_index(drop=True)
            if isinstance(X, pd.Series)
            else pd.Series(list(X), dtype=object)
        )
        label = "text" if pd.api.types.infer_dtype(values, skipna=True) == "string" else "input"
        frame = pd.DataFrame({label: values})
    return frame


def _row_labels(X: Any) -> np.ndarray[Any, Any]:
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.index.to_numpy()
    return np.arange(_n_rows(X))


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray[Any, Any]:
    """Return, per row, whether ``a`` and ``b`` differ (missing equals missing)."""
    if a.dtype != b.dtype or isinstance(a.dtype, pd.CategoricalDtype):
        a, b = a.astype(object), b.astype(object)
    equal = a.eq(b).to_numpy(dtype=bool, na_value=False)
    both_missing = a.isna().to_numpy(dtype=bool) & b.isna().to_numpy(dtype=bool)
    changed: np.ndarray[Any, Any] = ~(equal | both_missing)
    return changed


@attrs.frozen
class _Pair:
    """An input, its perturbed copy, and where they differ."""

    after: Any
    before_frame: pd.DataFrame
    after_frame: pd.DataFrame
    changed_rows: np.ndarray[Any, Any]
    changed_columns: list[Hashable]


def _perturb(X: Any, perturb: Perturbation, random_state: RandomState) -> _Pair:
    n = _n_rows(X)
    after = perturb(X, random_state=random_state)
    before_frame, after_frame = _as_frame(X), _as_frame(after)
    if len(after_frame) != n:
        raise DataError(
            f"the perturbation {perturb.name!r} returned {len(after_frame)} rows for {n}; "
            "a perturbation must keep the rows",
            value=len(after_frame),
            expected=n,
        )
    if list(after_frame.columns) != list(before_frame.columns):
        raise DataError(
            f"the perturbation {perturb.name!r} changed the columns from "
            f"{list(before_frame.columns)!r} to {list(after_frame.columns)!r}",
            value=list(after_frame.columns),
            expected=list(before_frame.columns),
        )
    # A loop over columns, each compared in one vectorised pass.
    diff = np.zeros((n, before_frame.shape[1]), dtype=bool)
    for j in range(before_frame.shape[1]):
        diff[:, j] = _differs(before_frame.iloc[:, j], after_frame.iloc[:, j])
    hit_columns = np.asarray(diff.any(axis=0), dtype=bool).tolist()
    columns: list[Hashable] = [
        c for c, hit in zip(before_frame.columns, hit_columns, strict=True) if hit
    ]
    return _Pair(after, before_frame, after_frame, np.asarray(diff.any(axis=1)), columns)


def _input_columns(
    pair: _Pair, positions: np.ndarray[Any, Any]
) -> dict[str, pd.Series | np.ndarray[Any, Any]]:
    out: dict[str, pd.Series | np.ndarray[Any, Any]] = {}
    for column in pair.changed_columns:
        label = str(column)
        if label in _RESERVED or label.startswith("output"):
            label = f"input_{label}"
        out[f"{label}_before"] = pair.before_frame[column].iloc[positions].to_numpy()
        out[f"{label}_after"] = pair.after_frame[column].iloc[positions].to_numpy()
    return out


# ----------------------------------------------------------------------------
# Model outputs


def _predict(model: Any, X: Any, n: int, output: str) -> np.ndarray[Any, Any]:
    if output == "predict_proba":
        if not hasattr(model, "predict_proba"):
            raise ConfigurationError(
                f"output='predict_proba' needs a model with predict_proba; "
                f"{type(model).__name__} has none (use output='predict')",
                value=type(model).__name__,
                expected="a model with predict_proba",
            )
        values = np.asarray(model.predict_proba(X), dtype=float)
        if values.ndim != 2:
            raise DataError(
                f"predict_proba returned an array of shape {values.shape}, "
                "expected (n_rows, n_classes)",
                value=values.shape,
                expected="(n_rows, n_classes)",
            )
    else:
        values = np.asarray(model.predict(X))
    if values.shape[0] != n:
        raise DataError(
            f"{output} returned {values.shape[0]} outputs for {n} rows",
            value=values.shape[0],
            expected=n,
        )
    return values


def _is_number(values: np.ndarray[Any, Any]) -> bool:
    return bool(np.issubdtype(values.dtype, np.floating))


def _abs_change(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Return ``|a - b|`` where equal infinities and both-NaN count as 0 and one NaN as inf."""
    a, b = a.astype(float), b.astype(float)
    with np.errstate(invalid="ignore"):
        change = np.where(a == b, 0.0, np.abs(a - b))
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    change[nan_a & nan_b] = 0.0
    change[nan_a ^ nan_b] = np.inf
    return change


def _cells(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | list[Any]:
    """Return one displayable value per row (a tuple for multi-output predictions)."""
    if values.ndim == 1:
        return values
    return [tuple(row) for row in values.tolist()]


def _classes(model: Any, n_classes: int) -> list[Any]:
    classes = getattr(model, "classes_", None)
    if classes is None:
        return list(range(n_classes))
    labels = np.asarray(classes).tolist()
    return labels if len(labels) == n_classes else list(range(n_classes))


def _no_change(
    kind: str, name: str, n: int, max_failure_rate: float, details: dict[str, Any]
) -> BehaviorResult:
    reason = (
        f"the perturbation changed no row of the {n} rows, so nothing was tested; "
        "choose a perturbation (or data) that changes the input"
        if n
        else "the input has no rows, so nothing was tested"
    )
    return BehaviorResult(
        kind=kind,
        name=name,
        passed=False,
        n_cases=n,
        n_changed=0,
        n_failed=0,
        failure_rate=math.nan,
        max_failure_rate=max_failure_rate,
        examples=pd.DataFrame(),
        details=details,
        reason=reason,
    )


def _result(
    kind: str,
    name: str,
    *,
    n_cases: int,
    n_tested: int,
    failed: np.ndarray[Any, Any],
    severity: np.ndarray[Any, Any] | None,
    rows: dict[str, Any],
    max_failure_rate: float,
    details: dict[str, Any],
) -> BehaviorResult:
    """Build the result from per-tested-row failure flags and display columns."""
    n_failed = int(failed.sum())
    rate = n_failed / n_tested
    frame = pd.DataFrame(rows).loc[failed]
    if severity is not None:
        order = np.argsort(-severity[failed], kind="stable")
        frame = frame.iloc[order]
    frame = frame.reset_index(drop=True)
    return BehaviorResult(
        kind=kind,
        name=name,
        passed=rate <= max_failure_rate,
        n_cases=n_cases,
        n_changed=n_tested,
        n_failed=n_failed,
        failure_rate=rate,
        max_failure_rate=max_failure_rate,
        examples=frame.head(_N_EXAMPLES),
        details=details,
        failures=frame,
    )


# ----------------------------------------------------------------------------
# Invariance


def check_invariance(
    model: Any,
    X: Any,
    perturb: Perturbation | Callable[..., Any],
    *,
    tolerance: float = 0.0,
    max_failure_rate: float = 0.0,
    output: str = "predict",
    atol: float = 1e-8,
    random_state: RandomState = 0,
    name: str | None = None,
) -> BehaviorResult:
    """Check that a perturbation that should not matter does not change the model's output.

    The model is called on the rows the perturbation changed, before and
    after. A row fails when its prediction changes: for labels, any change;
    for float predictions (regressors), ``|after - before| > tolerance + atol``;
    with ``output="predict_proba"``, when the largest change of any class's
    probability exceeds ``tolerance + atol``. Rows the perturbation left
    identical are not tested, and a perturbation that changed no row fails.

    Parameters
    ----------
    model
        Any object with ``predict`` (and ``predict_proba`` for
        ``output="predict_proba"``): a scikit-learn estimator or pipeline, or
        your own class.
    X
        The input: DataFrame, 2-D array, or texts (list, array, Series).
    perturb
        A :class:`~mlkit.testing.Perturbation` (``upper()``,
        ``add_noise("income", 100)``, ``a + b``) or any callable
        ``f(X)`` / ``f(X, random_state=...)`` returning a perturbed copy.
    tolerance
        How much a numeric output (prediction or probability) may move.
    max_failure_rate
        The largest share of tested rows allowed to fail; ``0.0`` (the
        default) fails on a single row.
    output
        ``"predict"`` or ``"predict_proba"``.
    atol
        Absolute slack added to ``tolerance``, so floating-point noise in
        the model does not count as a change.
    random_state
        Seed or Generator handed to the perturbation (one built with its own
        ``random_state`` keeps it); the default ``0`` makes the check
        deterministic.
    name
        A label for messages and reports; defaults to the perturbation's name.

    Returns
    -------
    BehaviorResult
        ``kind="invariance"``; ``examples`` show the changed input columns and
        the outputs before and after for the worst rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlkit.testing import add_noise, check_invariance, scale
    >>> X = pd.DataFrame({"income": [10.0, 20, 30, 40], "noise": [0.0, 1, 0, 1]})
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> result = check_invariance(model, X, add_noise("noise", 0.01))
    >>> result.passed, result.n_changed
    (True, 4)
    >>> print(check_invariance(model, X, scale("income", 0.1), max_failure_rate=0.25))
    invariance check "scale('income', factor=0.1)" FAILED: 2 of 4 changed rows failed ...
    """
    p = as_perturbation(perturb)
    tol = _check_nonnegative("tolerance", tolerance)
    slack = tol + _check_nonnegative("atol", atol)
    limit = _check_fraction("max_failure_rate", max_failure_rate)
    output = _check_choice("output", output, ("predict", "predict_proba"))
    label = name or p.name
    details: dict[str, Any] = {
        "perturbation": p.name,
        "output": output,
        "tolerance": tol,
        "atol": float(atol),
    }
    pair = _perturb(X, p, random_state)
    positions = np.flatnonzero(pair.changed_rows)
    if positions.size == 0:
        return _finish(_no_change("invariance", label, _n_rows(X), limit, details))
    before = _predict(model, _take(X, positions), positions.size, output)
    after = _predict(model, _take(pair.after, positions), positions.size, output)
    rows: dict[str, Any] = {"row": _row_labels(X)[positions], **_input_columns(pair, positions)}
    severity: np.ndarray[Any, Any] | None
    if output == "predict_proba":
        moved = _abs_change(before, after)
        # On ties (both classes of a binary model, up to rounding) show the
        # last class, the positive one.
        near = moved >= moved.max(axis=1, keepdims=True) - 1e-12
        worst = moved.shape[1] - 1 - np.argmax(near[:, ::-1], axis=1)
        severity = moved[np.arange(positions.size), worst]
        failed = severity > slack
        classes = _classes(model, before.shape[1])
        at = np.arange(positions.size)
        rows["class"] = [classes[k] for k in worst.tolist()]
        rows["output_before"] = before[at, worst]
        rows["output_after"] = after[at, worst]
        rows["change"] = after[at, worst] - before[at, worst]
    elif _is_number(before) and _is_number(after):
        moved = _abs_change(before, after)
        severity = moved if moved.ndim == 1 else moved.max(axis=1)
        failed = severity > slack
        rows["output_before"] = _cells(before)
        rows["output_after"] = _cells(after)
        rows["change"] = after - before if before.ndim == 1 else severity
    else:
        unequal = before != after
        failed = unequal if unequal.ndim == 1 else unequal.any(axis=1)
        severity = None
        rows["output_before"] = _cells(before)
        rows["output_after"] = _cells(after)
    result = _result(
        "invariance",
        label,
        n_cases=_n_rows(X),
        n_tested=positions.size,
        failed=np.asarray(failed, dtype=bool),
        severity=severity,
        rows=rows,
        max_failure_rate=limit,
        details=details,
    )
    return _finish(result)


def assert_invariance(
    model: Any,
    X: Any,
    perturb: Perturbation | Callable[..., Any],
    *,
    tolerance: float = 0.0,
    max_failure_rate: float = 0.0,
    output: str = "predict",
    atol: float = 1e-8,
    random_state: RandomState = 0,
    name: str | None = None,
) -> BehaviorResult:
    """Assert :func:`check_invariance`: raise :class:`AssertionError` if it fails.

    Takes the same arguments and returns the :class:`BehaviorResult` when the
    check passes. The message gives the failure rate, the threshold and the
    worst failing rows with their inputs and outputs side by side.

    Examples
    --------
    >>> from mlkit.testing import assert_invariance, upper
    >>> class CaseSensitive:
    ...     def predict(self, texts):
    ...         return [int(any(c.isupper() for c in t)) for t in texts]
    >>> assert_invariance(CaseSensitive(), ["good", "Bad", "OK"], upper())
    Traceback (most recent call last):
    ...
    AssertionError: invariance check 'upper' FAILED: 1 of 2 changed rows failed (50.00%), ...
    3 rows, 2 changed by the perturbation (unchanged rows are not counted); output='predict', ...
    First failing rows, worst first (1 of 1):
     row text_before text_after  output_before  output_after
       0        good       GOOD              0             1
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    result = check_invariance(
        model,
        X,
        perturb,
        tolerance=tolerance,
        max_failure_rate=max_failure_rate,
        output=output,
        atol=atol,
        random_state=random_state,
        name=name,
    )
    if not result.passed:
        raise AssertionError(str(result))
    return result


# ----------------------------------------------------------------------------
# Directional expectations


def _target_index(model: Any, target_class: Any, n_classes: int) -> tuple[int, Any]:
    classes = _classes(model, n_classes)
    if target_class is None:
        return n_classes - 1, classes[-1]
    matches = [i for i, c in enumerate(classes) if c == target_class]
    if not matches:
        raise ConfigurationError(
            f"target_class={target_class!r} is not one of the model's classes {classes!r}",
            value=target_class,
            expected=classes,
        )
    return matches[0], classes[matches[0]]


def _passes(delta: np.ndarray[Any, Any], expect: str, slack: float) -> np.ndarray[Any, Any]:
    # Changes within +-slack count as "no change": a strict expectation needs
    # more than that, a non-strict one tolerates that much the wrong way.
    # NaN compares False everywhere, so a NaN output always fails.
    with np.errstate(invalid="ignore"):
        if expect == "increase":
            ok = delta > slack
        elif expect == "decrease":
            ok = delta < -slack
        elif expect == "non_decrease":
            ok = delta >= -slack
        else:
            ok = delta <= slack
    return np.asarray(ok, dtype=bool)


def check_directional(
    model: Any,
    X: Any,
    perturb: Perturbation | Callable[..., Any],
    *,
    expect: str = "increase",
    target_class: Any = None,
    output: str | None = None,
    tolerance: float = 0.0,
    max_failure_rate: float = 0.0,
    atol: float = 1e-8,
    random_state: RandomState = 0,
    name: str | None = None,
) -> BehaviorResult:
    """Check that a perturbation moves the model's output in the expected direction.

    For a classifier the output is the probability of ``target_class``
    (``predict_proba``); for a regressor, the prediction. With ``delta =
    after - before`` and ``slack = tolerance + atol`` (changes within
    ``+-slack`` count as no change), a row passes when:

    - ``"increase"``: ``delta > slack``
    - ``"decrease"``: ``delta < -slack``
    - ``"non_decrease"``: ``delta >= -slack``
    - ``"non_increase"``: ``delta <= slack``

    Rows the perturbation left identical are not tested. Probabilities that
    saturate at 0 or 1 cannot move, so prefer the ``non_*`` expectations
    when some rows are already certain.

    Parameters
    ----------
    model
        Any object with ``predict`` (regressors) or ``predict_proba``
        (classifiers).
    X
        The input: DataFrame, 2-D array, or texts.
    perturb
        Typically :func:`~mlkit.testing.monotone_increase`; any perturbation
        or callable works.
    expect
        ``"increase"``, ``"decrease"``, ``"non_decrease"`` or ``"non_increase"``.
    target_class
        The class whose probability is compared, one of ``model.classes_``
        (a column position for models without ``classes_``); defaults to the
        last class, the positive one of a binary classifier.
    output
        ``"predict_proba"`` or ``"predict"``; by default ``"predict_proba"``
        when the model has it, else ``"predict"`` (which must return numbers).
    tolerance
        Half-width of the band of changes that count as no change.
    max_failure_rate
        The largest share of tested rows allowed to fail (default ``0.0``).
    atol
        Absolute slack added to ``tolerance`` for floating-point noise.
    random_state
        Seed or Generator handed to the perturbation (default ``0``).
    name
        A label for messages and reports; defaults to the perturbation's name.

    Returns
    -------
    BehaviorResult
        ``kind="directional"``; ``change`` in the examples is ``after - before``,
        and the worst rows are those that moved furthest the wrong way.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlkit.testing import check_directional, monotone_increase
    >>> X = pd.DataFrame({"income": [10.0, 20, 30, 40]})
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> check_directional(model, X, monotone_increase("income", by=5)).passed
    True
    >>> check_directional(model, X, monotone_increase("income", by=5), expect="decrease").n_failed
    4
    """
    p = as_perturbation(perturb)
    expect = _check_choice("expect", expect, EXPECTATIONS)
    if output is None:
        output = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    output = _check_choice("output", output, ("predict", "predict_proba"))
    if output == "predict" and target_class is not None:
        raise ConfigurationError(
            "target_class only applies to output='predict_proba'",
            value=target_class,
            expected="target_class=None with output='predict'",
        )
    tol = _check_nonnegative("tolerance", tolerance)
    slack = tol + _check_nonnegative("atol", atol)
    limit = _check_fraction("max_failure_rate", max_failure_rate)
    label = name or p.name
    details: dict[str, Any] = {
        "perturbation": p.name,
        "expect": expect,
        "output": output,
        "tolerance": tol,
        "atol": float(atol),
    }
    pair = _perturb(X, p, random_state)
    positions = np.flatnonzero(pair.changed_rows)
    if positions.size == 0:
        if output == "predict_proba":
            details["target_class"] = target_class
        return _finish(_no_change("directional", label, _n_rows(X), limit, details))
    before_raw = _predict(model, _take(X, positions), positions.size, output)
    after_raw = _predict(model, _take(pair.after, positions), positions.size, output)
    if output == "predict_proba":
        index, target = _target_index(model, target_class, before_raw.shape[1])
        details["target_class"] = target
        before, after = before_raw[:, index], after_raw[:, index]
    else:
        if before_raw.ndim != 1 or not np.issubdtype(before_raw.dtype, np.number):
            raise DataError(
                f"directional checks on predict need one number per row; got {before_raw.dtype} "
                f"of shape {before_raw.shape} (use output='predict_proba' for a classifier)",
                value=str(before_raw.dtype),
                expected="a 1-D numeric prediction",
            )
        before, after = before_raw.astype(float), after_raw.astype(float)
    with np.errstate(invalid="ignore"):
        delta = after - before
    failed = ~_passes(delta, expect, slack)
    if output == "predict_proba" and expect in ("increase", "decrease"):
        # A probability at 0 or 1 barely moves: say so, since such failures
        # usually mean a saturated model rather than a wrong one.
        stuck = (before >= 1 - slack) | (before <= slack)
        n_stuck = int((failed & stuck).sum())
        if n_stuck:
            details["n_saturated"] = n_stuck
    wrong_way = -delta if expect in ("increase", "non_decrease") else delta
    rows: dict[str, Any] = {
        "row": _row_labels(X)[positions],
        **_input_columns(pair, positions),
        "output_before": before,
        "output_after": after,
        "change": delta,
    }
    result = _result(
        "directional",
        label,
        n_cases=_n_rows(X),
        n_tested=positions.size,
        failed=failed,
        severity=np.nan_to_num(wrong_way, nan=np.inf),
        rows=rows,
        max_failure_rate=limit,
        details=details,
    )
    return _finish(result)


def assert_directional(
    model: Any,
    X: Any,
    perturb: Perturbation | Callable[..., Any],
    *,
    expect: str = "increase",
    target_class: Any = None,
    output: str | None = None,
    tolerance: float = 0.0,
    max_failure_rate: float = 0.0,
    atol: float = 1e-8,
    random_state: RandomState = 0,
    name: str | None = None,
) -> BehaviorResult:
    """Assert :func:`check_directional`: raise :class:`AssertionError` if it fails.

    Takes the same arguments and returns the :class:`BehaviorResult` when the
    check passes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlkit.testing import assert_directional, monotone_increase
    >>> X = pd.DataFrame({"rooms": [1.0, 2, 3, 4]})
    >>> model = LinearRegression().fit(X, [100.0, 200, 300, 400])
    >>> assert_directional(model, X, monotone_increase("rooms", by=1)).n_changed
    4
    >>> assert_directional(model, X, monotone_increase("rooms", by=1), expect="non_increase")
    Traceback (most recent call last):
    ...
    AssertionError: directional check "monotone_increase('rooms', by=1)" FAILED: 4 of 4 ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    result = check_directional(
        model,
        X,
        perturb,
        expect=expect,
        target_class=target_class,
        output=output,
        tolerance=tolerance,
        max_failure_rate=max_failure_rate,
        atol=atol,
        random_state=random_state,
        name=name,
    )
    if not result.passed:
        raise AssertionError(str(result))
    return result


# ----------------------------------------------------------------------------
# Minimum functionality


def _expected_values(expected: Any, n: int) -> np.ndarray[Any, Any]:
    if isinstance(expected, (str, bytes)) or np.ndim(expected) == 0:
        values = np.empty(n, dtype=object)
        values.fill(expected)
        return values
    values = np.asarray(list(expected) if not isinstance(expected, np.ndarray) else expected)
    if values.shape[0] != n:
        raise DataError(
            f"expected has {values.shape[0]} values for {n} cases",
            value=values.shape[0],
            expected=n,
        )
    return values


def _all_numbers(values: np.ndarray[Any, Any]) -> bool:
    if values.dtype == object:
        kind = pd.api.types.infer_dtype(values.ravel(), skipna=True)
        return kind in ("integer", "floating", "mixed-integer-float", "decimal")
    return bool(np.issubdtype(values.dtype, np.number))


def check_minimum_functionality(
    model: Any,
    cases: Any,
    expected: Any,
    *,
    max_failure_rate: float = 0.0,
    atol: float = 1e-8,
    name: str | None = None,
) -> BehaviorResult:
    """Check that the model gets simple cases with known answers right.

    ``model.predict(cases)`` is called once. A case fails when its
    prediction differs from the expected label, or, when both are numbers
    and the prediction is a float (regressors), when ``|predicted -
    expected| > atol``. Every case is tested, so ``n_changed == n_cases``.

    Parameters
    ----------
    model
        Any object with ``predict``.
    cases
        The inputs: DataFrame, 2-D array, or texts.
    expected
        One expected label or value per case, or a single one for all cases.
    max_failure_rate
        The largest share of cases allowed to fail (default ``0.0``).
    atol
        Absolute tolerance for numeric predictions.
    name
        A label for messages and reports (default ``"minimum_functionality"``).

    Returns
    -------
    BehaviorResult
        ``kind="minimum_functionality"``; ``examples`` hold the failing cases'
        inputs, ``expected`` and ``predicted`` (and ``error`` for numbers).

    Examples
    --------
    >>> from mlkit.testing import check_minimum_functionality
    >>> class Sentiment:
    ...     def predict(self, texts):
    ...         return ["pos" if "good" in t else "neg" for t in texts]
    >>> result = check_minimum_functionality(
    ...     Sentiment(), ["good film", "not good", "awful"], ["pos", "neg", "neg"], name="negation"
    ... )
    >>> print(result)
    minimum functionality check 'negation' FAILED: 1 of 3 cases failed (33.33%), ...
    3 cases; atol=1e-08
    First failing rows, worst first (1 of 1):
     row     text expected predicted
       1 not good      neg       pos
    """
    limit = _check_fraction("max_failure_rate", max_failure_rate)
    tol = _check_nonnegative("atol", atol)
    label = name or "minimum_functionality"
    details: dict[str, Any] = {"atol": tol}
    n = _n_rows(cases)
    if n == 0:
        return _finish(
            BehaviorResult(
                kind="minimum_functionality",
                name=label,
                passed=False,
                n_cases=0,
                n_changed=0,
                n_failed=0,
                failure_rate=math.nan,
                max_failure_rate=limit,
                examples=pd.DataFrame(),
                details=details,
                reason="no cases were given, so nothing was tested",
            )
        )
    wanted = _expected_values(expected, n)
    predicted = _predict(model, cases, n, "predict")
    inputs = _as_frame(cases)
    rows: dict[str, Any] = {"row": _row_labels(cases)}
    for column in inputs.columns:
        key = str(column)
        rows[f"input_{key}" if key in _RESERVED else key] = inputs[column].to_numpy()
    rows["expected"] = _cells(wanted)
    rows["predicted"] = _cells(predicted)
    severity: np.ndarray[Any, Any] | None = None
    if predicted.shape != wanted.shape:
        raise DataError(
            f"cannot compare predictions of shape {predicted.shape} with expected values "
            f"of shape {wanted.shape}",
            value=wanted.shape,
            expected=predicted.shape,
        )
    if _is_number(predicted) and _all_numbers(wanted):
        error = _abs_change(predicted, wanted.astype(float))
        severity = error if error.ndim == 1 else error.max(axis=1)
        failed = severity > tol
        rows["error"] = predicted - wanted.astype(float) if error.ndim == 1 else severity
    else:
        unequal = np.asarray(predicted != wanted, dtype=bool)
        failed = unequal if unequal.ndim == 1 else unequal.any(axis=1)
    result = _result(
        "minimum_functionality",
        label,
        n_cases=n,
        n_tested=n,
        failed=np.asarray(failed, dtype=bool),
        severity=severity,
        rows=rows,
        max_failure_rate=limit,
        details=details,
    )
    return _finish(result)


def assert_minimum_functionality(
    model: Any,
    cases: Any,
    expected: Any,
    *,
    max_failure_rate: float = 0.0,
    atol: float = 1e-8,
    name: str | None = None,
) -> BehaviorResult:
    """Assert :func:`check_minimum_functionality`: raise :class:`AssertionError` if it fails.

    Takes the same arguments and returns the :class:`BehaviorResult` when the
    check passes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from mlkit.testing import assert_minimum_functionality
    >>> model = DummyRegressor(strategy="constant", constant=3.0).fit([[0]], [0])
    >>> assert_minimum_functionality(model, np.zeros((2, 1)), 3.0).passed
    True
    >>> assert_minimum_functionality(model, np.zeros((2, 1)), [3.0, 4.0], atol=0.5)
    Traceback (most recent call last):
    ...
    AssertionError: minimum functionality check 'minimum_functionality' FAILED: 1 of 2 cases ...
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this one
    result = check_minimum_functionality(
        model, cases, expected, max_failure_rate=max_failure_rate, atol=atol, name=name
    )
    if not result.passed:
        raise AssertionError(str(result))
    return result
