"""Expectations: checks of a whole frame (row count, null share, uniqueness, ...) with a severity.

A pandera schema checks values row by row; an :class:`Expectation` checks a
property of the whole batch: how many rows it has, what share of a column is
missing, whether a key is unique, whether the target's class balance moved,
whether the newest timestamp is recent. Each one has a severity
(``critical``, ``error``, ``warning``, ``info``) and returns an
:class:`ExpectationResult` with what it observed and what it expected, both
JSON-safe, in the spirit of Great Expectations' ``observed_value`` and
``unexpected_count`` but without a data context: an expectation is a
function of a DataFrame.

Every ready-made expectation (``expect_*``) checks its arguments when it is
built (a :class:`~mlkit.errors.ConfigurationError` naming the argument) and
computes on whole columns with pandas, never looping over rows. When the data
cannot be checked (a missing column, a column of the wrong kind, no non-null
values) the result is a failure saying so, not an exception; so is an
exception raised inside a custom expectation's function, so a monitor
running many expectations always gets a result from each.

Nulls are what :func:`pandas.isna` calls null (None, NaN, NaT, ``pd.NA``).
Only :func:`expect_null_share_below` counts them; the other expectations
look at the non-null values.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import numbers
import reprlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import attrs
import numpy as np
import pandas as pd

from mlkit._frames import is_dask_frame, map_reduce
from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError, DataError
from mlkit.protocols import Clock
from mlkit.validation._scale import is_chunks, merge_counts, value_counts
from mlkit.validation._severity import check_severity

__all__ = [
    "Expectation",
    "ExpectationResult",
    "expect_column_mean_between",
    "expect_column_stat_between",
    "expect_columns",
    "expect_fresh",
    "expect_null_share_below",
    "expect_row_count_between",
    "expect_share_between",
    "expect_unique",
    "expect_values_in",
    "to_json_safe",
]

logger = logging.getLogger(__name__)

#: Statistics :func:`expect_column_stat_between` can bound (``std`` with ``ddof=1``).
STATS = ("mean", "median", "std", "min", "max", "sum")

# Enough distinct bad values to see what went wrong without flooding a report.
_MAX_EXAMPLES = 20


def to_json_safe(value: object) -> Any:
    """Return ``value`` as plain JSON types: None, bool, int, float, str, list, dict.

    NaN, infinities, ``pd.NA`` and ``NaT`` become None (strict JSON has no
    such numbers); numpy scalars become Python numbers; datetimes become ISO
    8601 strings and timedeltas seconds; tuples, sets (sorted when possible),
    arrays and Series become lists; mapping keys become strings; anything
    else becomes its ``str``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> to_json_safe({"n": np.int64(3), "share": np.float64("nan"), 1: ("a", pd.Timestamp(0))})
    {'n': 3, 'share': None, '1': ['a', '1970-01-01T00:00:00']}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    elif isinstance(value, np.generic):
        value = value.item()
        if value is None or isinstance(value, (bool, str)):
            return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [to_json_safe(v) for v in value]
        try:
            return sorted(items)
        except TypeError:  # mixed types have no order
            return items
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index, pd.Categorical)):
        return [to_json_safe(v) for v in value]
    return str(value)


def _check_severity_field(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_severity(value, what=attribute.name)


@attrs.frozen(repr=False)
class ExpectationResult:
    """The outcome of one :class:`Expectation` on one frame.

    Parameters
    ----------
    name
        The expectation's name.
    severity
        How bad a failure is: ``critical``, ``error``, ``warning`` or ``info``.
    passed
        Whether the expectation held.
    observed
        What was measured (a share, a count, a mean, an age in seconds, the
        bad values seen, ...), converted by :func:`to_json_safe`; None when
        nothing could be measured.
    expected
        What was required (a bound, ``[lo, hi]`` with None for an open side,
        the allowed values, ...), converted by :func:`to_json_safe`.
    column
        The column checked, a tuple of columns for a compound key, or None
        for the whole frame.
    message
        A readable sentence naming the column, the observation and the
        requirement, or why the frame could not be checked.
    n_unexpected
        How many rows broke the expectation (null rows, duplicated rows,
        values outside the allowed set), when that is meaningful, else None.

    Examples
    --------
    >>> result = ExpectationResult("row_count_between", "error", False, 3, [10, None])
    >>> result
    ExpectationResult('row_count_between', passed=False, severity='error', observed=3)
    >>> result.to_dict()["expected"]
    [10, None]
    """

    name: str
    severity: str = attrs.field(validator=_check_severity_field)
    passed: bool = attrs.field(converter=bool)
    observed: Any = attrs.field(default=None, converter=to_json_safe)
    expected: Any = attrs.field(default=None, converter=to_json_safe)
    column: Any = None
    message: str = ""
    n_unexpected: int | None = attrs.field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-safe dict."""
        return {
            "name": self.name,
            "severity": self.severity,
            "passed": self.passed,
            "observed": self.observed,
            "expected": self.expected,
            "column": to_json_safe(self.column),
            "message": self.message,
            "n_unexpected": self.n_unexpected,
        }

    def __repr__(self) -> str:
        short = reprlib.Repr()
        short.maxstring = short.maxother = 40
        return (
            f"ExpectationResult({self.name!r}, passed={self.passed}, "
            f"severity={self.severity!r}, observed={short.repr(self.observed)})"
        )


#: What an expectation's function may return.
Outcome: TypeAlias = "ExpectationResult | bool | np.bool_ | tuple[bool | np.bool_, Any]"


def _nonempty_str(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"Expectation: {attribute.name} must be a non-empty string, got {value!r}",
            value=value,
            expected="a non-empty string",
        )


def _is_callable(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ConfigurationError(
            f"Expectation: fn must be a callable taking a DataFrame, got {value!r}",
            value=value,
            expected="fn(df) -> ExpectationResult | bool | (bool, observed)",
        )


def _is_str(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(
            f"Expectation: {attribute.name} must be a string, got {value!r}",
            value=value,
            expected="a string",
        )


@attrs.frozen(repr=False)
class Expectation:
    """A named check of a whole frame, with a severity.

    Parameters
    ----------
    name
        A short name, unique within a monitor (it keys reports and trends).
    fn
        ``fn(df)`` returning a bool, a ``(bool, observed)`` pair or an
        :class:`ExpectationResult`. The result's name and severity always
        come from the expectation; its column does when the result has none.
    severity
        ``critical``, ``error`` (the default), ``warning`` or ``info``.
    description
        What the expectation means, for people reading reports.
    column
        The column it is about, if any.
    dask
        Whether ``fn`` can take a ``dask.dataframe.DataFrame`` (and computes
        what it needs itself). On a Dask frame, an expectation that is not
        marked is not evaluated: its result fails at ``warning`` severity
        with a message saying so, whatever its own severity, so the gap shows
        in reports without failing the batch. The ready-made ``expect_*``
        expectations need no mark: they run on a Dask frame or chunks from
        merged per-piece statistics.

    Notes
    -----
    :meth:`check` never raises for the data: an exception inside ``fn``
    becomes a failed result whose message names it (and is logged with its
    traceback), as does a return value of the wrong type.

    Examples
    --------
    >>> import pandas as pd
    >>> positive = Expectation(
    ...     "amount_positive", lambda df: bool((df["amount"] > 0).all()), severity="warning")
    >>> positive.check(pd.DataFrame({"amount": [3.0, -1.0]}))
    ExpectationResult('amount_positive', passed=False, severity='warning', observed=None)
    >>> share = Expectation("refund_share", lambda df: (True, df["refund"].mean()))
    >>> share.check(pd.DataFrame({"refund": [0, 0, 1, 0]})).observed
    0.25
    >>> share.check(pd.DataFrame({"amount": [1.0]})).message
    "the expectation raised KeyError: 'refund'"
    """

    name: str = attrs.field(validator=_nonempty_str)
    fn: Callable[[pd.DataFrame], Outcome] = attrs.field(validator=_is_callable)
    severity: str = attrs.field(default="error", validator=_check_severity_field)
    description: str = attrs.field(default="", validator=_is_str)
    column: Any = None
    dask: bool = attrs.field(default=False, kw_only=True, converter=bool)
    _pieces: _Pieces | None = attrs.field(
        default=None, kw_only=True, alias="_pieces", repr=False, eq=False
    )

    def check(self, df: Any) -> ExpectationResult:
        """Evaluate the expectation on ``df``.

        ``df`` is a pandas frame, a ``dask.dataframe.DataFrame`` or a list
        of pandas chunks (see the class notes for which expectations run on
        the latter two).

        Raises
        ------
        DataError
            If ``df`` is none of those.
        """
        if not isinstance(df, pd.DataFrame):
            if is_dask_frame(df) and self.dask:
                return self._call(df)
            if is_dask_frame(df) or is_chunks(df):
                if self._pieces is None:
                    return self.not_evaluated(df)
                summarise, merge = self._piece_functions()
                state = map_reduce(df, summarise, merge, name="the data")
                return self._finish(state)
            raise DataError(
                f"expectation {self.name!r} needs a pandas DataFrame, got "
                f"{type(df).__name__} (a Dask DataFrame or a list of DataFrames work too)",
                value=type(df).__name__,
                expected="a pandas DataFrame",
            )
        return self._call(df)

    def not_evaluated(self, df: Any) -> ExpectationResult:
        """Return the result of an expectation that cannot run on ``df`` (a Dask frame, chunks)."""
        what = "a Dask frame" if is_dask_frame(df) else "chunks"
        hint = (
            "pass dask=True if fn works on a Dask frame"
            if self._pieces is None
            else "it needs the whole column at once"
        )
        return ExpectationResult(
            self.name,
            "warning",
            False,
            None,
            None,
            self.column,
            f"not evaluated on {what}: {hint}",
        )

    # -- piece by piece (the ready-made expectations) --------------------------

    def _piece_functions(
        self,
    ) -> tuple[Callable[[pd.DataFrame], Any], Callable[[Any, Any], Any]]:
        """Return (summarise, merge) for the pieces; they do not hold the expectation.

        They travel to Dask workers, so they must pickle: ``fn`` may hold
        what does not (a clock with a lock), and only ``finish`` needs it.
        """
        assert self._pieces is not None
        return (
            functools.partial(_summarise_guarded, self._pieces.summarise),
            functools.partial(_merge_guarded, self._pieces.merge),
        )

    def _finish(self, state: Any) -> ExpectationResult:
        assert self._pieces is not None
        if isinstance(state, _Cannot) and state.raised:
            return self._failed(state.message)
        return self._call(state, fn=self._pieces.finish)

    def _call(self, df: Any, fn: Callable[[Any], Outcome] | None = None) -> ExpectationResult:
        try:
            out = (self.fn if fn is None else fn)(df)
        except Exception as exc:
            # A broken check must not hide the others: report it as a failure.
            logger.warning(
                "expectation %r raised %s", self.name, type(exc).__name__, exc_info=True
            )
            return self._failed(f"the expectation raised {type(exc).__name__}: {exc}")
        return self._result(out)

    def _failed(self, message: str) -> ExpectationResult:
        return ExpectationResult(
            self.name, self.severity, False, column=self.column, message=message
        )

    def _result(self, out: object) -> ExpectationResult:
        if isinstance(out, ExpectationResult):
            column = self.column if out.column is None else out.column
            return attrs.evolve(out, name=self.name, severity=self.severity, column=column)
        observed: object = None
        if isinstance(out, tuple) and len(out) == 2:
            out, observed = out
        if not isinstance(out, (bool, np.bool_)):
            return self._failed(
                f"the expectation returned {type(out).__name__}, not a bool, a (bool, observed) "
                "pair or an ExpectationResult"
            )
        verdict = "passed" if out else "failed"
        message = f"{verdict}: {self.description}" if self.description else verdict
        return ExpectationResult(
            self.name, self.severity, bool(out), observed, column=self.column, message=message
        )

    def __repr__(self) -> str:
        return f"Expectation({self.name!r}, severity={self.severity!r})"


def _summarise_guarded(summarise: Callable[[pd.DataFrame], Any], piece: pd.DataFrame) -> Any:
    try:
        return summarise(piece)
    except _CannotCheck as exc:
        return _Cannot(str(exc))
    except Exception as exc:
        return _Cannot(f"the expectation raised {type(exc).__name__}: {exc}", raised=True)


def _merge_guarded(merge: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if isinstance(a, _Cannot):
        return a
    if isinstance(b, _Cannot):
        return b
    return merge(a, b)


@attrs.frozen
class _Cannot:
    """A piece could not be checked (missing column, wrong dtype, or fn raised)."""

    message: str
    raised: bool = False


@attrs.frozen
class _Pieces:
    """How a ready-made expectation runs piece by piece: summarise, merge, finish."""

    summarise: Callable[[pd.DataFrame], Any]
    merge: Callable[[Any, Any], Any]
    evaluate: Callable[[Any], _Eval]
    finish: Callable[[Any], ExpectationResult]


# ---------------------------------------------------------------------------
# The library of ready-made expectations.


class _CannotCheck(Exception):
    """The frame cannot be checked (missing column, wrong dtype, no values)."""


class _Eval(NamedTuple):
    passed: bool
    observed: object
    message: str
    n_unexpected: int | None = None


def _build(
    *,
    name: str,
    severity: str,
    description: str,
    column: Any,
    expected: object,
    evaluate: Callable[[pd.DataFrame], _Eval],
    pieces: tuple[Callable[[pd.DataFrame], Any], Callable[[Any, Any], Any], Callable[[Any], _Eval]]
    | None = None,
) -> Expectation:
    def result_of(evaluate: Callable[[Any], _Eval], data: Any) -> ExpectationResult:
        try:
            ev = evaluate(data)
        except _CannotCheck as exc:
            return ExpectationResult(
                name, severity, False, None, expected, column, str(exc), n_unexpected=None
            )
        return ExpectationResult(
            name,
            severity,
            ev.passed,
            ev.observed,
            expected,
            column,
            ev.message,
            n_unexpected=ev.n_unexpected,
        )

    def fn(df: pd.DataFrame) -> ExpectationResult:
        return result_of(evaluate, df)

    split = None
    if pieces is not None:
        summarise, merge, finish_eval = pieces

        def finish(state: Any) -> ExpectationResult:
            if isinstance(state, _Cannot):
                return ExpectationResult(
                    name, severity, False, None, expected, column, state.message
                )
            return result_of(finish_eval, state)

        split = _Pieces(summarise, merge, finish_eval, finish)
    return Expectation(
        name, fn, severity=severity, description=description, column=column, _pieces=split
    )


def _add(a: int, b: int) -> int:
    return a + b


def _add_pairs(a: tuple[int, Any], b: tuple[int, Any]) -> tuple[int, Any]:
    return a[0] + b[0], a[1] + b[1]


def _first(a: Any, b: Any) -> Any:
    return a


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@attrs.frozen
class _Moments:
    """Count, sum, mean, sum of squared deviations, min and max: merged exactly but for rounding.

    Means and variances merge with Chan et al.'s pairwise update, so the
    merged mean, std and sum equal pandas' up to floating-point rounding
    (about 1e-15 relative); min and max are exact.
    """

    n: int
    total: float
    mean: float
    m2: float
    lo: float
    hi: float

    @classmethod
    def of(cls, values: np.ndarray[Any, Any]) -> _Moments:
        n = len(values)
        if not n:
            return cls(0, 0.0, 0.0, 0.0, math.inf, -math.inf)
        with np.errstate(invalid="ignore", over="ignore"):
            total = float(values.sum())
            mean = total / n
            m2 = float(((values - mean) ** 2).sum())
        return cls(n, total, mean, m2, float(values.min()), float(values.max()))

    @staticmethod
    def merge(a: _Moments, b: _Moments) -> _Moments:
        if not a.n:
            return b
        if not b.n:
            return a
        n = a.n + b.n
        with np.errstate(invalid="ignore", over="ignore"):
            delta = b.mean - a.mean
            mean = a.mean + delta * b.n / n
            m2 = a.m2 + b.m2 + delta * delta * a.n * b.n / n
        return _Moments(n, a.total + b.total, mean, m2, min(a.lo, b.lo), max(a.hi, b.hi))

    def stat(self, name: str) -> float:
        if name == "mean":
            return self.total / self.n
        if name == "sum":
            return self.total
        if name == "min":
            return self.lo
        if name == "max":
            return self.hi
        # sample standard deviation, ddof=1 as pandas
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else math.nan


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def _examples(values: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(_fmt(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"at most {_fmt(hi)}"
    if hi is None:
        return f"at least {_fmt(lo)}"
    return f"between {_fmt(lo)} and {_fmt(hi)}"


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    # NaN compares False both ways, so it never counts as within.
    return (lo is None or value >= lo) and (hi is None or value <= hi) and not math.isnan(value)


def _check_name(name: str | None, default: str, func: str) -> str:
    if name is None:
        return default
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"{func}: name must be a non-empty string, got {name!r}",
            value=name,
            expected="a non-empty string or None",
        )
    return name


def _check_column(column: object, func: str, what: str = "column") -> Hashable:
    if column is None or isinstance(column, (list, set, dict)) or not isinstance(column, Hashable):
        raise ConfigurationError(
            f"{func}: {what} must be one column label, got {column!r}",
            column=column,
            value=column,
            expected="a column label such as 'amount'",
        )
    return column


def _check_number(value: object, name: str, func: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise ConfigurationError(
            f"{func}: {name} must be a finite number, got {value!r}",
            value=value,
            expected="a finite number",
        )
    return float(value)


def _check_bounds(
    lo: object,
    hi: object,
    func: str,
    *,
    names: tuple[str, str] = ("lo", "hi"),
    share: bool = False,
    count: bool = False,
) -> tuple[Any, Any]:
    bounds: list[float | int | None] = []
    for value, name in ((lo, names[0]), (hi, names[1])):
        if value is None:
            bounds.append(None)
            continue
        number = _check_number(value, name, func)
        if share and not 0.0 <= number <= 1.0:
            raise ConfigurationError(
                f"{func}: {name} must be a share between 0 and 1, got {value!r}",
                value=value,
                expected="a number in [0, 1]",
            )
        if count:
            if not isinstance(value, numbers.Integral) or number < 0:
                raise ConfigurationError(
                    f"{func}: {name} must be a non-negative whole number of rows, got {value!r}",
                    value=value,
                    expected="an int >= 0",
                )
            bounds.append(int(value))
        else:
            bounds.append(number)
    low, high = bounds
    if low is None and high is None:
        raise ConfigurationError(
            f"{func}: give {names[0]} or {names[1]} (or both); both are None",
            expected=f"{names[0]} and/or {names[1]}",
        )
    if low is not None and high is not None and low > high:
        raise ConfigurationError(
            f"{func}: {names[0]}={lo!r} is greater than {names[1]}={hi!r}",
            value=(lo, hi),
            expected=f"{names[0]} <= {names[1]}",
        )
    return low, high


def _series(df: pd.DataFrame, column: Hashable) -> pd.Series[Any]:
    if column not in df.columns:
        shown = _examples(list(df.columns), limit=10)
        raise _CannotCheck(f"column {column!r} is missing from the frame (it has: {shown})")
    found: Any = df[column]
    if isinstance(found, pd.DataFrame):
        raise _CannotCheck(f"column label {column!r} appears {found.shape[1]} times in the frame")
    series: pd.Series[Any] = found
    return series


def expect_row_count_between(
    min: int | None = None,
    max: int | None = None,
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the frame to have between ``min`` and ``max`` rows (inclusive).

    Parameters
    ----------
    min, max
        Whole numbers of rows; None leaves that side open (not both).
    severity
        Severity of a failure.
    name
        Overrides the default name ``"row_count_between"``.
    description
        Overrides the generated description.

    Examples
    --------
    >>> import pandas as pd
    >>> result = expect_row_count_between(2, 100).check(pd.DataFrame({"a": [1]}))
    >>> result.passed, result.observed, result.expected
    (False, 1, [2, 100])
    >>> result.message
    '1 rows, expected between 2 and 100'
    """
    func = "expect_row_count_between"
    lo, hi = _check_bounds(min, max, func, names=("min", "max"), count=True)

    def verdict(n: int) -> _Eval:
        return _Eval(_within(n, lo, hi), n, f"{n} rows, expected {_range_text(lo, hi)}")

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(len(df))

    return _build(
        name=_check_name(name, "row_count_between", func),
        severity=check_severity(severity),
        description=description or f"the frame has {_range_text(lo, hi)} rows",
        column=None,
        expected=[lo, hi],
        evaluate=evaluate,
        pieces=(len, _add, verdict),
    )


def expect_null_share_below(
    column: Hashable | None,
    share: float,
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect at most ``share`` of a column's values (or of every column's) to be null.

    Parameters
    ----------
    column
        The column, or None to require it of every column (the observed
        value is then the worst column's share and the message lists the
        columns over the limit).
    share
        The largest share of nulls allowed, in [0, 1]; ``0`` forbids nulls.
    severity
        Severity of a failure.
    name
        Overrides the default name ``"null_share_below(<column>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    A frame without rows has no nulls, so it passes: pair this with
    :func:`expect_row_count_between` to catch empty batches.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": ["x", None, None, "y"]})
    >>> expect_null_share_below("a", 0.3).check(df).passed
    True
    >>> result = expect_null_share_below(None, 0.3).check(df)
    >>> result.passed, result.observed
    (False, 0.5)
    >>> result.message
    "1 of 2 columns have a null share above 0.3: 'b' 0.5"
    """
    func = "expect_null_share_below"
    if column is not None:
        _check_column(column, func)
    limit = _check_number(share, "share", func)
    if not 0.0 <= limit <= 1.0:
        raise ConfigurationError(
            f"{func}: share must be between 0 and 1, got {share!r}",
            value=share,
            expected="a number in [0, 1]",
        )

    def nulls(df: pd.DataFrame) -> tuple[int, Any]:
        if column is not None:
            return len(df), int(_series(df, column).isna().sum())
        return len(df), df.isna().sum()

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(nulls(df))

    def verdict(state: tuple[int, Any]) -> _Eval:
        n, found = state
        if column is not None:
            n_null = int(found)
            observed = n_null / n if n else 0.0
            return _Eval(
                observed <= limit,
                observed,
                f"{n_null} of {n} values of {column!r} are null ({observed:.4g}), "
                f"expected at most {limit:.4g}",
                n_null,
            )
        counts = found
        shares = counts / n if n else counts * 0.0
        worst = float(shares.max()) if len(shares) else 0.0
        over = shares[shares > limit].sort_values(ascending=False)
        if over.empty:
            message = f"every column has a null share of at most {limit:.4g} (worst {worst:.4g})"
        else:
            pairs = [f"{c!r} {s:.4g}" for c, s in over.head(5).items()]
            more = ", ..." if len(over) > 5 else ""
            message = (
                f"{len(over)} of {len(shares)} columns have a null share above {limit:.4g}: "
                + ", ".join(pairs)
                + more
            )
        return _Eval(over.empty, worst, message)

    where = "every column" if column is None else repr(column)
    return _build(
        name=_check_name(
            name, "null_share_below" if column is None else f"null_share_below({column})", func
        ),
        severity=check_severity(severity),
        description=description or f"at most {limit:.4g} of {where} is null",
        column=column,
        expected=limit,
        evaluate=evaluate,
        pieces=(nulls, _add_pairs, verdict),
    )


def expect_unique(
    column: Hashable | Sequence[Hashable],
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the non-null values of a column, or a compound key, to be distinct.

    Parameters
    ----------
    column
        A column label, or a list or tuple of labels forming a compound key.
    severity
        Severity of a failure.
    name
        Overrides the default name ``"unique(<column>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    Nulls are left out (as Great Expectations does): several missing ids are
    :func:`expect_null_share_below`'s business. For a compound key, rows
    with a null in any key column are left out. The observed value is the
    number of rows whose value occurs more than once (every copy counts).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 2, 2, 3, None], "day": [1, 1, 2, 1, 1]})
    >>> result = expect_unique("id").check(df)
    >>> result.passed, result.observed, result.message
    (False, 2, "2 rows of 'id' share their value with another row, e.g. 2")
    >>> expect_unique(["id", "day"]).check(df).passed
    True
    """
    func = "expect_unique"
    compound = isinstance(column, (list, tuple))
    if compound:
        columns: list[Hashable] = list(column)  # type: ignore[arg-type]
        if not columns:
            raise ConfigurationError(
                f"{func}: column is an empty list",
                value=column,
                expected="a column label or a non-empty list of labels",
            )
        for c in columns:
            _check_column(c, func)
        if len(set(columns)) != len(columns):
            raise ConfigurationError(
                f"{func}: the key {columns!r} repeats a column",
                value=column,
                expected="distinct column labels",
            )
        label: Any = tuple(columns)
        shown = ", ".join(str(c) for c in columns)
    else:
        label = _check_column(column, func)
        columns = [label]
        shown = str(label)

    def evaluate(df: pd.DataFrame) -> _Eval:
        if compound:
            for c in columns:
                _series(df, c)
            keys = df[columns].dropna(how="any")
            dup = keys.duplicated(keep=False)
            examples = [list(row) for row in keys[dup].drop_duplicates().head(5).itertuples(False)]
        else:
            values = _series(df, label).dropna()
            dup = values.duplicated(keep=False)
            examples = values[dup].drop_duplicates().head(5).tolist()
        return verdict(int(dup.sum()), len(dup), examples)

    def counts(df: pd.DataFrame) -> pd.Series:
        for c in columns:
            _series(df, c)
        return value_counts(df, columns if compound else label)

    def from_counts(found: pd.Series) -> _Eval:
        repeated = found[found > 1]
        examples = [
            [_scalar(v) for v in key] if compound else _scalar(key)
            for key in repeated.index[:5].tolist()
        ]
        return verdict(int(repeated.sum()), int(found.sum()), examples)

    def verdict(n_dup: int, n_values: int, examples: list[Any]) -> _Eval:
        what = repr(label) if not compound else f"key ({shown})"
        if n_dup:
            message = (
                f"{n_dup} rows of {what} share their value with another row, "
                f"e.g. {_examples(examples)}"
            )
        else:
            message = f"all {n_values} non-null values of {what} are distinct"
        return _Eval(n_dup == 0, n_dup, message, n_dup)

    return _build(
        name=_check_name(name, f"unique({shown})", func),
        severity=check_severity(severity),
        description=description or f"the non-null values of ({shown}) are distinct",
        column=label,
        expected=0,
        evaluate=evaluate,
        pieces=(counts, merge_counts, from_counts),
    )


def expect_values_in(
    column: Hashable,
    values: Iterable[object],
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect every non-null value of ``column`` to be one of ``values``.

    Parameters
    ----------
    column
        The column label.
    values
        The allowed values (a list, tuple, set, ...; not a string).
    severity
        Severity of a failure.
    name
        Overrides the default name ``"values_in(<column>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    Membership is :meth:`pandas.Series.isin`, so ``1`` and ``1.0`` match but
    ``1`` and ``"1"`` do not. The observed value lists up to 20 distinct
    values found outside the set (in order of appearance), and
    ``n_unexpected`` counts the rows holding them.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"colour": ["red", "blue", "teal", None, "teal"]})
    >>> result = expect_values_in("colour", ["red", "green", "blue"]).check(df)
    >>> result.passed, result.observed, result.n_unexpected
    (False, ['teal'], 2)
    """
    func = "expect_values_in"
    _check_column(column, func)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ConfigurationError(
            f"{func}: values must be a collection of allowed values, got {values!r}",
            column=column,
            value=values,
            expected="a list, tuple or set such as ['red', 'green']",
        )
    allowed = list(values)
    if not allowed:
        raise ConfigurationError(
            f"{func}: values is empty, so no value of {column!r} could pass",
            column=column,
            value=values,
            expected="at least one allowed value",
        )

    def outside_of(df: pd.DataFrame) -> tuple[int, int, list[Any]]:
        present = _series(df, column).dropna()
        outside = present[~present.isin(allowed)]
        bad = outside.drop_duplicates().head(_MAX_EXAMPLES).tolist()
        return len(present), len(outside), bad

    def merge(
        a: tuple[int, int, list[Any]], b: tuple[int, int, list[Any]]
    ) -> tuple[int, int, list[Any]]:
        bad = list(a[2])
        bad.extend(v for v in b[2] if v not in bad)
        return a[0] + b[0], a[1] + b[1], bad[:_MAX_EXAMPLES]

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(outside_of(df))

    def verdict(state: tuple[int, int, list[Any]]) -> _Eval:
        n_present, n_out, bad = state
        if n_out:
            message = (
                f"{n_out} of {n_present} non-null values of {column!r} are not among the "
                f"{len(allowed)} allowed, e.g. {_examples(bad)}"
            )
        else:
            message = f"all {n_present} non-null values of {column!r} are allowed"
        return _Eval(n_out == 0, bad, message, n_out)

    return _build(
        name=_check_name(name, f"values_in({column})", func),
        severity=check_severity(severity),
        description=description or f"{column!r} takes only the values {_examples(allowed)}",
        column=column,
        expected=allowed,
        evaluate=evaluate,
        pieces=(outside_of, merge, verdict),
    )


def expect_column_stat_between(
    column: Hashable,
    stat: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect a statistic of a numeric column's non-null values to lie in ``[lo, hi]``.

    Parameters
    ----------
    column
        The column label; numeric or boolean (booleans count as 0/1).
    stat
        One of ``"mean"``, ``"median"``, ``"std"`` (sample, ``ddof=1``),
        ``"min"``, ``"max"``, ``"sum"``.
    lo, hi
        Inclusive bounds; None leaves that side open (not both).
    severity
        Severity of a failure.
    name
        Overrides the default name ``"<stat>_between(<column>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    A column that is not numeric, or has no non-null values, or whose
    statistic is undefined (``std`` of one value) or infinite fails with a
    message saying so; an infinite statistic is observed as None (strict
    JSON has no infinity) and named in the message.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [20, 30, 70]})
    >>> result = expect_column_stat_between("age", "median", 18, 25).check(df)
    >>> result.passed, result.observed, result.message
    (False, 30.0, "median of 'age' is 30, expected between 18 and 25")
    """
    func = "expect_column_stat_between"
    _check_column(column, func)
    if stat not in STATS:
        raise ConfigurationError(
            f"{func}: stat must be one of {list(STATS)}, got {stat!r}",
            column=column,
            value=stat,
            expected=" | ".join(STATS),
        )
    low, high = _check_bounds(lo, hi, func)

    def numbers(df: pd.DataFrame) -> pd.Series:
        series = _series(df, column)
        if not pd.api.types.is_numeric_dtype(series.dtype):
            raise _CannotCheck(
                f"column {column!r} has dtype {series.dtype}, not numeric, so its {stat} "
                "cannot be checked"
            )
        values: pd.Series = series.dropna().astype("float64")
        return values

    def evaluate(df: pd.DataFrame) -> _Eval:
        values = numbers(df)
        if values.empty:
            raise _CannotCheck(f"column {column!r} has no non-null values to take the {stat} of")
        return verdict(float(getattr(values, stat)()))

    def moments(df: pd.DataFrame) -> _Moments:
        return _Moments.of(numbers(df).to_numpy())

    def from_moments(state: _Moments) -> _Eval:
        if state.n == 0:
            raise _CannotCheck(f"column {column!r} has no non-null values to take the {stat} of")
        return verdict(state.stat(stat))

    def verdict(observed: float) -> _Eval:
        return _Eval(
            _within(observed, low, high),
            observed,
            f"{stat} of {column!r} is {_fmt(observed)}, expected {_range_text(low, high)}",
        )

    return _build(
        name=_check_name(name, f"{stat}_between({column})", func),
        severity=check_severity(severity),
        description=description or f"the {stat} of {column!r} is {_range_text(low, high)}",
        column=column,
        expected=[low, high],
        evaluate=evaluate,
        # A median needs every value at once: not evaluated on a Dask frame or chunks.
        pieces=None if stat == "median" else (moments, _Moments.merge, from_moments),
    )


def expect_column_mean_between(
    column: Hashable,
    lo: float | None = None,
    hi: float | None = None,
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the mean of a numeric column's non-null values to lie in ``[lo, hi]``.

    :func:`expect_column_stat_between` with ``stat="mean"``, named
    ``"mean_between(<column>)"``.

    Parameters
    ----------
    column
        The column label; numeric or boolean (the mean of a boolean column
        is its share of True).
    lo, hi
        Inclusive bounds; None leaves that side open (not both).
    severity
        Severity of a failure.
    name
        Overrides the default name.
    description
        Overrides the generated description.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"amount": [10.0, 20.0, None]})
    >>> result = expect_column_mean_between("amount", 0, 12).check(df)
    >>> result.passed, result.observed, result.expected
    (False, 15.0, [0.0, 12.0])
    """
    return expect_column_stat_between(
        column, "mean", lo, hi, severity=severity, name=name, description=description
    )


def expect_share_between(
    column: Hashable,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the share of ``column``'s non-null values equal to ``value`` to lie in ``[lo, hi]``.

    The check for a target's class balance (``expect_share_between("label",
    1, 0.02, 0.10)``) or any category's frequency.

    Parameters
    ----------
    column
        The column label.
    value
        The value counted (equality as :meth:`pandas.Series.eq`); not null.
    lo, hi
        Inclusive shares in [0, 1]; None leaves that side open (not both).
    severity
        Severity of a failure.
    name
        Overrides the default name ``"share_between(<column>=<value>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    The share is of the non-null values: missing labels neither count for
    nor against the value. A column with no non-null values fails.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"label": [0, 0, 0, 1, None]})
    >>> result = expect_share_between("label", 1, 0.3, 0.7).check(df)
    >>> result.passed, result.observed
    (False, 0.25)
    """
    func = "expect_share_between"
    _check_column(column, func)
    if not pd.api.types.is_scalar(value):
        raise ConfigurationError(
            f"{func}: value must be a single value, got {value!r}",
            column=column,
            value=value,
            expected="a scalar such as 1 or 'fraud'",
        )
    if pd.isna(value):
        raise ConfigurationError(
            f"{func}: value must not be null, got {value!r}; use expect_null_share_below "
            "for the share of nulls",
            column=column,
            value=value,
            expected="a non-null value",
        )
    low, high = _check_bounds(lo, hi, func, share=True)

    def tally(df: pd.DataFrame) -> tuple[int, int]:
        present = _series(df, column).dropna()
        return len(present), int(present.eq(value).sum())

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(tally(df))

    def verdict(state: tuple[int, int]) -> _Eval:
        n_present, hits = state
        if not n_present:
            raise _CannotCheck(f"column {column!r} has no non-null values")
        share = hits / n_present
        return _Eval(
            _within(share, low, high),
            share,
            f"{hits} of {n_present} non-null values of {column!r} are {value!r} "
            f"({share:.4g}), expected a share {_range_text(low, high)}",
        )

    return _build(
        name=_check_name(name, f"share_between({column}={value!r})", func),
        severity=check_severity(severity),
        description=description
        or f"the share of {column!r} equal to {value!r} is {_range_text(low, high)}",
        column=column,
        expected=[low, high],
        evaluate=evaluate,
        pieces=(tally, _add_pairs, verdict),
    )


def expect_columns(
    columns: Iterable[Hashable],
    *,
    exact: bool = False,
    severity: str = "critical",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the frame to have ``columns`` (and, with ``exact``, no others).

    Parameters
    ----------
    columns
        The required column labels.
    exact
        Also fail when the frame has a column not in ``columns`` (order is
        never checked).
    severity
        Severity of a failure; ``critical`` by default, as a missing column
        is in a schema.
    name
        Overrides the default name ``"columns"``.
    description
        Overrides the generated description.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1], "z": [2]})
    >>> result = expect_columns(["a", "b"], exact=True).check(df)
    >>> result.passed, result.observed
    (False, {'missing': ['b'], 'unexpected': ['z']})
    """
    func = "expect_columns"
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        raise ConfigurationError(
            f"{func}: columns must be a list of column labels, got {columns!r}",
            value=columns,
            expected="a list such as ['id', 'amount']",
        )
    required = list(columns)
    if not required:
        raise ConfigurationError(
            f"{func}: columns is empty", value=columns, expected="at least one column label"
        )
    for c in required:
        _check_column(c, func)
    if not isinstance(exact, bool):
        raise ConfigurationError(
            f"{func}: exact must be True or False, got {exact!r}", value=exact, expected="a bool"
        )
    required_set = set(required)

    def labels(df: pd.DataFrame) -> list[Any]:
        return list(df.columns)

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(labels(df))

    def verdict(found: list[Any]) -> _Eval:
        present = set(found)
        missing = [c for c in required if c not in present]
        extra = [c for c in found if c not in required_set] if exact else []
        parts = []
        if missing:
            parts.append(f"missing {_examples(missing, limit=10)}")
        if extra:
            parts.append(f"unexpected {_examples(extra, limit=10)}")
        message = "; ".join(parts) if parts else f"all {len(required)} required columns present"
        return _Eval(
            not parts,
            {"missing": missing, "unexpected": extra},
            message,
            len(missing) + len(extra),
        )

    return _build(
        name=_check_name(name, "columns", func),
        severity=check_severity(severity),
        description=description
        or f"the frame has {'exactly ' if exact else ''}the columns {_examples(required)}",
        column=None,
        expected=required,
        evaluate=evaluate,
        pieces=(labels, _first, verdict),
    )


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    if rest < 60:
        return f"{sign}{rest:.3g}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{int(amount)}{unit}")
    return sign + " ".join(parts[:2])


def expect_fresh(
    timestamp_column: Hashable,
    max_age: float | dt.timedelta | np.timedelta64,
    *,
    clock: Clock | None = None,
    severity: str = "error",
    name: str | None = None,
    description: str | None = None,
) -> Expectation:
    """Expect the newest timestamp of a column to be at most ``max_age`` old.

    Parameters
    ----------
    timestamp_column
        A datetime column (``datetime64``, with or without a time zone).
        Naive timestamps are taken to be UTC.
    max_age
        Seconds (a positive number) or a :class:`datetime.timedelta` (a
        ``pandas.Timedelta`` works too).
    clock
        Where "now" comes from; :class:`mlkit.clock.SystemClock` by default,
        :class:`mlkit.clock.FakeClock` in tests.
    severity
        Severity of a failure.
    name
        Overrides the default name ``"fresh(<column>)"``.
    description
        Overrides the generated description.

    Notes
    -----
    The observed value is the age in seconds of the newest non-null
    timestamp. A timestamp in the future gives a negative age, which passes
    here (``mlkit_not_in_future`` in a schema catches those). A column that
    is not a datetime column (strings, epoch numbers) fails with a message
    suggesting :func:`pandas.to_datetime`.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlkit.clock import FakeClock
    >>> clock = FakeClock(start=pd.Timestamp("2024-05-01 12:00", tz="UTC").timestamp())
    >>> df = pd.DataFrame({"ts": pd.to_datetime(["2024-05-01 09:00", "2024-05-01 10:30"])})
    >>> result = expect_fresh("ts", 3600, clock=clock).check(df)
    >>> result.passed, result.observed
    (False, 5400.0)
    >>> result.message
    "newest 'ts' is 2024-05-01T10:30:00+00:00, 1h 30m old, expected at most 1h old"
    """
    func = "expect_fresh"
    _check_column(timestamp_column, func, what="timestamp_column")
    if isinstance(max_age, dt.timedelta):
        limit = max_age.total_seconds()
    elif isinstance(max_age, np.timedelta64):
        limit = pd.Timedelta(max_age).total_seconds()
    else:
        limit = _check_number(max_age, "max_age", func)
    if not limit > 0:
        raise ConfigurationError(
            f"{func}: max_age must be positive, got {max_age!r}",
            column=timestamp_column,
            value=max_age,
            expected="seconds > 0 or a positive timedelta",
        )
    if clock is None:
        clock = SystemClock()
    elif not isinstance(clock, Clock):
        raise ConfigurationError(
            f"{func}: clock must have a now() method returning POSIX seconds, got {clock!r}",
            value=clock,
            expected="an mlkit.protocols.Clock",
        )
    now = clock.now

    def newest_of(df: pd.DataFrame) -> Any:
        series = _series(df, timestamp_column)
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise _CannotCheck(
                f"column {timestamp_column!r} has dtype {series.dtype}, not a datetime: "
                "convert it with pandas.to_datetime"
            )
        return series.max()

    def later(a: Any, b: Any) -> Any:
        if pd.isna(a):
            return b
        if pd.isna(b):
            return a
        return b if b > a else a

    def evaluate(df: pd.DataFrame) -> _Eval:
        return verdict(newest_of(df))

    def verdict(newest: Any) -> _Eval:
        if pd.isna(newest):
            raise _CannotCheck(f"column {timestamp_column!r} has no non-null timestamps")
        stamp = pd.Timestamp(newest)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        age = now() - stamp.timestamp()
        when = "old" if age >= 0 else "in the future"
        return _Eval(
            age <= limit,
            age,
            f"newest {timestamp_column!r} is {stamp.isoformat()}, {_duration(abs(age))} {when}, "
            f"expected at most {_duration(limit)} old",
        )

    return _build(
        name=_check_name(name, f"fresh({timestamp_column})", func),
        severity=check_severity(severity),
        description=description
        or f"the newest {timestamp_column!r} is at most {_duration(limit)} old",
        column=timestamp_column,
        expected=limit,
        evaluate=evaluate,
        pieces=(newest_of, later, verdict),
    )
