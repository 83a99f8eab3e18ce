"""Serving fast path: validate one record against a pandera schema without building a frame.

A serving app checks every request payload against the schema its model was
trained under. ``schema.validate(pd.DataFrame([record]))`` does that, but
builds a one-row frame and runs pandera's machinery for it on every request:
milliseconds per call. :class:`RecordValidator` compiles a
``DataFrameSchema`` once into plain Python tests on single values and runs
them in microseconds; :func:`validate_record` keeps one compiled validator
per schema object.

What is compiled:

- the presence of required columns, extra keys when ``strict=True``, the
  order of keys when ``ordered=True``, column defaults (``default=``) and
  ``add_missing_columns``;
- nullability: ``None``, ``NaN``, ``pd.NA`` and ``NaT`` are null;
- the dtype, as the *kind* of the value (below), with coercion through
  pandera's own ``coerce_value`` when the column or schema has
  ``coerce=True``;
- pandera's built-in value checks (``in_range``, ``greater_than``,
  ``greater_than_or_equal_to``, ``less_than``, ``less_than_or_equal_to``,
  ``equal_to``, ``not_equal_to``, ``isin``, ``notin``, ``str_length``,
  ``str_matches``, ``str_contains``, ``str_startswith``, ``str_endswith``),
  rebuilt from each check's name and statistics;
- mlkit's own registered checks (``mlkit_finite``, ...), through their
  per-value predicates in ``mlkit.validation._checks.MLKIT_CHECKS``;
- custom checks built with ``element_wise=True`` (their function takes one
  value already).

What runs through pandera instead, on a one-row frame, only when the schema
has it (correct, slower: :attr:`RecordValidator.fallback_checks` lists them):
other custom checks, checks with ``groupby``, checks of the whole frame
(``DataFrameSchema(checks=...)``), ``unique_values_eq`` and the schema's
index. A schema with parsers, regex columns, tuple (MultiIndex) column
labels or a schema-wide ``dtype`` runs through pandera entirely
(:attr:`RecordValidator.fallback_reason` says why).

Dtypes. A value's kind must match the column's: a ``bool`` (or
``numpy.bool_``) for bool columns; an ``int`` or numpy integer, not a bool,
that fits the column's width for integer columns (``Int64`` included); a
``float`` or numpy float for float columns; a ``str`` for string columns; a
``datetime``, ``pd.Timestamp`` or ``numpy.datetime64`` for datetime columns,
naive for naive columns and timezone-aware for aware ones; a ``timedelta``,
``pd.Timedelta`` or ``numpy.timedelta64`` for timedelta columns; one of the
categories for categorical columns; anything for ``object`` columns. Other
dtypes are checked by pandera on a one-element Series. This mirrors what
pandera reports for ``pd.DataFrame([record])``, where pandas infers the
column's dtype from the value: in particular a Python ``int`` in a float
column fails ``dtype`` (pandas infers int64) unless the column coerces.

Intentional differences from ``schema.validate(pd.DataFrame([record]))``,
where the one-row frame says more about pandas' inference than about the
payload:

- a null value is checked for nullability only (and by checks built with
  ``ignore_na=False``): pandas makes ``None`` an object column and ``NaN`` a
  float64 one, so pandera also reports ``dtype`` for a null in a nullable
  int, bool or datetime column, and a check that cannot even compare its
  bounds with that empty column (``in_range`` with Timestamp bounds on
  float64, ``str_length`` on float64) fails too;
- a value of the right kind passes whatever the column's width or unit: an
  ``int`` in an ``int32`` column, a ``numpy.float32`` in a ``float64`` one,
  a timezone-aware timestamp (any zone: it is one instant) in a
  ``datetime64[ns, UTC]`` column (pandas infers int64, float32 and
  ``datetime64[us, <zone>]``, which pandera rejects); an integer too large
  for the width fails ``dtype``;
- categorical columns accept their categories (pandas infers ``str``, never
  ``category``, so pandera rejects every value); ``object`` columns accept
  any value;
- failures of checks of the whole frame are reported with column None;
- uniqueness (``unique=True``, ``DataFrameSchema(unique=...)``) cannot fail
  on one record and is not checked; ``drop_invalid_rows`` is ignored: the
  record's failures are reported, never dropped.

Records. A mapping is checked by its values; a Series like
``pd.DataFrame([series])``, that is by its values too; a one-row DataFrame
by its cells, not its column dtypes. ``df.iloc[i]`` is a Series pandas
upcasts to one dtype (ints become floats next to float columns): pass
``df.iloc[[i]]``, a one-row frame, to keep each column's values.

Severities come from :func:`~mlkit.validation.severity_of`: a missing
column and a wrong dtype are ``critical``, value checks ``error``, checks
built with ``raise_warning=True`` ``warning`` (reported as failures, never
as Python warnings, on every path), unless the schema's metadata says
otherwise. pandera's ``add_missing_has_default`` (a missing column that
``add_missing_columns`` cannot fill) has the severity of a missing column.

A schema changed in place after its first :func:`validate_record` keeps
its compiled validator: build a new :class:`RecordValidator` (pandera's
``update_column`` and mlkit's ``with_severity`` return new schemas, which
compile afresh).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import decimal
import importlib
import logging
import math
import re
import reprlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeAlias, cast

import attrs
import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines.pandas_engine import Engine

from mlkit.errors import ConfigurationError, DataError, SchemaError
from mlkit.validation._severity import at_least, check_severity, max_severity, severity_of

__all__ = ["RecordFailure", "RecordResult", "RecordValidator", "validate_record"]

logger = logging.getLogger(__name__)

#: A per-value test: True when the value passes.
Predicate: TypeAlias = Callable[[Any], Any]

_MISSING: Any = object()

# --------------------------------------------------------------------- results


def _json_safe(value: Any) -> Any:
    """Return ``value`` as something :func:`json.dumps` accepts (NaN and NaT as None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (dt.datetime, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    return str(value)


def _as_failures(failures: Iterable[RecordFailure]) -> tuple[RecordFailure, ...]:
    return tuple(failures)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40


@attrs.frozen(repr=False)
class RecordFailure:
    """One failed check of one record.

    Parameters
    ----------
    column
        The column (key) the failure is about; None for a check of the whole
        record (pandera's frame-wide checks).
    check
        The check's name as pandera reports it, without arguments:
        ``column_in_dataframe`` (a required key is missing),
        ``column_in_schema`` (an extra key under ``strict=True``),
        ``column_ordered``, ``dtype``, ``coerce_dtype``, ``not_nullable``,
        ``in_range``, ``isin``, ``mlkit_finite``, a custom check's name, ...
    value
        The offending value (None for a missing key).
    severity
        ``critical``, ``error``, ``warning`` or ``info``, from the schema's
        metadata via :func:`~mlkit.validation.severity_of`.
    expected
        What was expected, in pandera's words (``in_range(0, 120)``,
        ``dtype float64``, ...).

    Examples
    --------
    >>> failure = RecordFailure("age", "in_range", -3, "error", "in_range(0, 120)")
    >>> failure
    RecordFailure('age', 'in_range', value=-3, severity='error')
    >>> failure.to_dict()["expected"]
    'in_range(0, 120)'
    """

    column: Any
    check: str
    value: Any
    severity: str = attrs.field(validator=lambda _, __, value: check_severity(value))
    expected: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the failure as a JSON-safe dict (NaN and NaT as None)."""
        return {
            "column": _json_safe(self.column),
            "check": self.check,
            "value": _json_safe(self.value),
            "severity": self.severity,
            "expected": self.expected,
        }

    def describe(self) -> str:
        """Return one readable line naming the column, the check, the value and the expectation."""
        where = "the record" if self.column is None else f"column {self.column!r}"
        if self.check == "column_in_dataframe":
            what = "is missing"
        elif self.check == "column_in_schema":
            what = f"is not in the schema (value {_SHORT.repr(self.value)})"
        else:
            what = f"failed {self.check} with value {_SHORT.repr(self.value)}"
        expected = f" (expected {self.expected})" if self.expected else ""
        return f"{where} {what}{expected} [{self.severity}]"

    def __repr__(self) -> str:
        return (
            f"RecordFailure({self.column!r}, {self.check!r}, value={_SHORT.repr(self.value)}, "
            f"severity={self.severity!r})"
        )


@attrs.frozen(repr=False)
class RecordResult:
    """The outcome of validating one record: every failed check, with its severity.

    Parameters
    ----------
    failures
        One :class:`RecordFailure` per failed check, in the schema's column
        order, then extra keys, then checks that ran through pandera.

    Examples
    --------
    >>> result = RecordResult((RecordFailure("age", "in_range", -3, "error"),))
    >>> result
    RecordResult(passed=False, failures=1, max_severity='error')
    >>> result.passed, result.to_dict()["failures"][0]["column"]
    (False, 'age')
    >>> RecordResult(()).passed
    True
    """

    failures: tuple[RecordFailure, ...] = attrs.field(converter=_as_failures)

    @property
    def passed(self) -> bool:
        """Whether no failure is at severity ``error`` or worse."""
        return not any(at_least(f.severity, "error") for f in self.failures)

    @property
    def max_severity(self) -> str | None:
        """The worst severity among the failures, or None when there are none."""
        return max_severity(f.severity for f in self.failures)

    def summary(self, max_rows: int = 10) -> str:
        """Return a readable summary: one line per failure, at most ``max_rows`` of them."""
        if not self.failures:
            return "the record passed every check"
        lines = [f"the record failed {len(self.failures)} check(s), worst {self.max_severity}:"]
        lines += [f"- {f.describe()}" for f in self.failures[:max_rows]]
        if len(self.failures) > max_rows:
            lines.append(f"- ... and {len(self.failures) - max_rows} more")
        return "\n".join(lines)

    def raise_for_errors(self, at: str = "error") -> None:
        """Raise :class:`~mlkit.errors.SchemaError` if a failure is at severity ``at`` or worse.

        The message lists those failures (column, check, value, expectation);
        the error's ``column``, ``value`` and ``expected`` are the first one's.

        Examples
        --------
        >>> result = RecordResult((RecordFailure("age", "in_range", -3, "error"),))
        >>> result.raise_for_errors(at="critical")
        >>> result.raise_for_errors()
        Traceback (most recent call last):
        ...
        mlkit.errors.SchemaError: the record failed 1 check(s) at error or worse:
        - column 'age' failed in_range with value -3 [error]
        """
        check_severity(at, what="at")
        bad = [f for f in self.failures if at_least(f.severity, at)]
        if not bad:
            return
        lines = [f"the record failed {len(bad)} check(s) at {at} or worse:"]
        lines += [f"- {f.describe()}" for f in bad[:20]]
        if len(bad) > 20:
            lines.append(f"- ... and {len(bad) - 20} more")
        first = bad[0]
        raise SchemaError(
            "\n".join(lines),
            column=first.column,
            value=first.value,
            expected=first.expected or first.check,
        )

    def to_frame(self) -> pd.DataFrame:
        """Return one row per failure: column, check, value, severity, expected."""
        columns = ["column", "check", "value", "severity", "expected"]
        rows = [[f.column, f.check, f.value, f.severity, f.expected] for f in self.failures]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns, dtype=object)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"passed", "max_severity", "failures": [...]}``, JSON-safe."""
        return {
            "passed": self.passed,
            "max_severity": self.max_severity,
            "failures": [f.to_dict() for f in self.failures],
        }

    def __repr__(self) -> str:
        return (
            f"RecordResult(passed={self.passed}, failures={len(self.failures)}, "
            f"max_severity={self.max_severity!r})"
        )


# ---------------------------------------------------------------- value kinds


def _is_null(value: Any) -> bool:
    """Whether pandas would call ``value`` null: None, NaN, pd.NA, NaT (any flavour)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    kind = type(value)
    if kind is float:
        return bool(value != value)
    if kind is str or kind is int or kind is bool:
        return False
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    if isinstance(value, decimal.Decimal):
        return value.is_nan()
    return False


def _accept_any(value: Any) -> bool:
    return True


def _is_bool(value: Any) -> bool:
    return type(value) is bool or isinstance(value, np.bool_)


def _is_float(value: Any) -> bool:
    return type(value) is float or isinstance(value, (float, np.floating))


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_naive_datetime(value: Any) -> bool:
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        return value.tzinfo is None
    return isinstance(value, np.datetime64)


def _is_aware_datetime(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _is_timedelta(value: Any) -> bool:
    return isinstance(value, (dt.timedelta, np.timedelta64))


def _int_within(low: int, high: int) -> Predicate:
    def accepts(value: Any) -> bool:
        if type(value) is int:
            return low <= value <= high
        if isinstance(value, (bool, np.bool_)):
            return False
        if isinstance(value, (int, np.integer)):
            return low <= int(value) <= high
        return False

    return accepts


def _in_categories(categories: Iterable[Any]) -> Predicate:
    allowed = frozenset(categories)

    def accepts(value: Any) -> bool:
        try:
            return value in allowed
        except TypeError:  # unhashable
            return False

    return accepts


def _pandera_dtype_check(dtype: Any) -> Predicate:
    """Check a value's dtype the way pandera checks a one-element column."""

    def accepts(value: Any) -> bool:
        try:
            series = pd.Series([value])
            result = dtype.check(Engine.dtype(series.dtype), series)
            return bool(result if isinstance(result, bool) else result.all())
        except Exception:  # pandera cannot even compare: not this dtype
            return False

    return accepts


def _to_timestamp(value: Any) -> Any:
    return value if type(value) is pd.Timestamp else pd.Timestamp(value)


def _to_timedelta(value: Any) -> Any:
    return value if type(value) is pd.Timedelta else pd.Timedelta(value)


@attrs.frozen
class _DtypeRule:
    """How one column's dtype treats a single value."""

    kind: str  # any, bool, int, float, str, datetime, datetime_tz, timedelta, category, other
    accepts: Predicate
    # Turns an accepted value into what a pandas column of that dtype would
    # hand to a check (a pd.Timestamp for any datetime), or None.
    prepare: Predicate | None = None


def _dtype_rule(dtype: Any) -> _DtypeRule:
    if dtype is None:
        return _DtypeRule("any", _accept_any)
    native = getattr(dtype, "type", None)
    text = str(dtype)
    if isinstance(native, pd.StringDtype) or text in ("str", "string"):
        return _DtypeRule("str", _is_str)
    if isinstance(native, pd.BooleanDtype):
        return _DtypeRule("bool", _is_bool)
    if isinstance(native, pd.DatetimeTZDtype):
        return _DtypeRule("datetime_tz", _is_aware_datetime, _to_timestamp)
    if isinstance(native, pd.CategoricalDtype):
        categories: Any = native.categories  # None when the dtype fixes none
        if categories is None:
            return _DtypeRule("category", _accept_any)
        return _DtypeRule("category", _in_categories(categories))
    if isinstance(native, pd.api.extensions.ExtensionDtype):
        numpy_dtype = getattr(native, "numpy_dtype", None)
        if pd.api.types.is_integer_dtype(native) and isinstance(numpy_dtype, np.dtype):
            info = np.iinfo(numpy_dtype)
            return _DtypeRule("int", _int_within(int(info.min), int(info.max)))
        if pd.api.types.is_float_dtype(native):
            return _DtypeRule("float", _is_float)
        return _DtypeRule("other", _pandera_dtype_check(dtype))
    if isinstance(native, np.dtype):
        if native.kind == "b":
            return _DtypeRule("bool", _is_bool)
        if native.kind in "iu":
            info = np.iinfo(native)
            return _DtypeRule("int", _int_within(int(info.min), int(info.max)))
        if native.kind == "f":
            return _DtypeRule("float", _is_float)
        if native.kind == "M":
            return _DtypeRule("datetime", _is_naive_datetime, _to_timestamp)
        if native.kind == "m":
            return _DtypeRule("timedelta", _is_timedelta, _to_timedelta)
        if native.kind == "O" and text == "object":
            return _DtypeRule("any", _accept_any)
    return _DtypeRule("other", _pandera_dtype_check(dtype))


def _coercer(dtype: Any, rule: _DtypeRule) -> Predicate | None:
    if dtype is None or rule.kind in ("any", "category"):
        return None
    coerce_value: Predicate = dtype.coerce_value
    return coerce_value


# --------------------------------------------------------------------- checks


def _bound(value: Any, rule: _DtypeRule) -> Any:
    """Return a check's statistic as pandas compares it with a column of ``rule``'s kind."""
    # pandas parses strings (and converts datetimes) compared with datetime columns.
    try:
        if rule.kind in ("datetime", "datetime_tz") and isinstance(
            value, (str, dt.datetime, np.datetime64)
        ):
            return pd.Timestamp(value)
        if rule.kind == "timedelta" and isinstance(value, (str, dt.timedelta, np.timedelta64)):
            return pd.Timedelta(value)
    except (ValueError, TypeError):
        pass
    return value


def _membership(values: Iterable[Any], rule: _DtypeRule) -> frozenset[Any]:
    return frozenset(_bound(v, rule) for v in values)


def _str_length(
    min_value: int | None = None, max_value: int | None = None, exact_value: int | None = None
) -> Predicate:
    def predicate(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        n = len(value)
        if exact_value is not None:
            return n == exact_value
        if min_value is None and max_value is None:
            return False  # pandera raises: the check fails
        return (min_value is None or n >= min_value) and (max_value is None or n <= max_value)

    return predicate


def _regex(pattern: str | re.Pattern[str], search: bool) -> Predicate:
    compiled = re.compile(pattern)
    find = compiled.search if search else compiled.match

    def predicate(value: Any) -> bool:
        return isinstance(value, str) and find(value) is not None

    return predicate


def _builtin_predicate(name: str, stats: Mapping[str, Any], rule: _DtypeRule) -> Predicate | None:
    """Rebuild pandera's built-in check ``name`` as a test of one value; None if it has none."""
    if name in ("greater_than", "greater_than_or_equal_to"):
        low = _bound(stats["min_value"], rule)
        if name == "greater_than":
            return lambda v: v > low
        return lambda v: v >= low
    if name in ("less_than", "less_than_or_equal_to"):
        high = _bound(stats["max_value"], rule)
        if name == "less_than":
            return lambda v: v < high
        return lambda v: v <= high
    if name == "in_range":
        low = _bound(stats["min_value"], rule)
        high = _bound(stats["max_value"], rule)
        closed_low = stats.get("include_min", True)
        closed_high = stats.get("include_max", True)
        if closed_low and closed_high:
            return lambda v: low <= v <= high
        if closed_low:
            return lambda v: low <= v < high
        if closed_high:
            return lambda v: low < v <= high
        return lambda v: low < v < high
    if name == "equal_to":
        target = _bound(stats["value"], rule)
        return lambda v: v == target
    if name == "not_equal_to":
        target = _bound(stats["value"], rule)
        return lambda v: v != target
    if name == "isin":
        allowed = _membership(stats["allowed_values"], rule)
        return lambda v: v in allowed
    if name == "notin":
        forbidden = _membership(stats["forbidden_values"], rule)
        return lambda v: v not in forbidden
    if name == "str_length":
        return _str_length(
            stats.get("min_value"), stats.get("max_value"), stats.get("exact_value")
        )
    if name == "str_matches":
        return _regex(stats["pattern"], search=False)
    if name == "str_contains":
        return _regex(stats["pattern"], search=True)
    if name == "str_startswith":
        prefix = stats["string"]
        return lambda v: isinstance(v, str) and v.startswith(prefix)
    if name == "str_endswith":
        suffix = stats["string"]
        return lambda v: isinstance(v, str) and v.endswith(suffix)
    return None  # unique_values_eq and any later built-in: a property of the whole column


def _mlkit_checks() -> Mapping[str, Callable[[dict[str, Any]], Predicate]]:
    # Imported when a schema is compiled, not when this module is: the two are
    # written independently, and a missing table only means those checks run
    # through pandera.
    try:
        module = importlib.import_module("mlkit.validation._checks")
    except ImportError:
        return {}
    table = getattr(module, "MLKIT_CHECKS", None)
    return table if isinstance(table, Mapping) else {}


def _is_builtin(check: pa.Check, name: str) -> bool:
    # Schemas deep-copy their checks, so compare pandera's dispatcher by kind
    # and name rather than identity; a user function called "in_range" is not one.
    registered = pa.Check.CHECK_FUNCTION_REGISTRY.get(name)
    fn = check._check_fn
    return (
        registered is not None
        and type(fn) is type(registered)
        and getattr(fn, "__name__", None) == name
    )


def _compile_check(
    check: pa.Check, rule: _DtypeRule, mlkit_checks: Mapping[str, Any]
) -> Predicate | None:
    """Return a per-value predicate equivalent to ``check``, or None when it needs pandera."""
    if isinstance(check, pa.Hypothesis) or check.groupby is not None or check.groups:
        return None
    name = check.name
    stats = check.statistics if isinstance(check.statistics, Mapping) else {}
    try:
        if isinstance(name, str) and _is_builtin(check, name):
            return _builtin_predicate(name, stats, rule)
        if (
            isinstance(name, str)
            and name in mlkit_checks
            and name in pa.Check.REGISTERED_CUSTOM_CHECKS
        ):
            predicate: Predicate = mlkit_checks[name](dict(stats))
            return predicate
    except (KeyError, TypeError, ValueError, re.error) as exc:
        logger.debug("check %r with statistics %r not compiled: %s", name, stats, exc)
        return None
    if check.element_wise:
        fn = check._check_fn
        kwargs = dict(check._check_kwargs or {})
        return (lambda v: fn(v, **kwargs)) if kwargs else fn
    return None


def _describe_check(check: pa.Check) -> str:
    error = check.error
    return error if isinstance(error, str) and error else str(check.name)


@attrs.frozen
class _Test:
    """One compiled value check of one column."""

    name: str
    predicate: Predicate
    ignore_na: bool
    severity: str
    expected: str


@attrs.frozen
class _Column:
    """One compiled column: what to do with its value in a record."""

    name: Hashable
    required: bool
    nullable: bool
    default: Any  # _MISSING when the column has none
    when_missing: Any  # the value add_missing_columns supplies, or _MISSING
    missing_check: str  # what pandera calls a missing required column
    coerce: Predicate | None
    accepts: Predicate
    prepare: Predicate | None
    tests: tuple[_Test, ...]
    null_tests: tuple[_Test, ...]  # the checks that also run on nulls (ignore_na=False)
    dtype_text: str
    sev_missing: str
    sev_null: str
    sev_dtype: str
    sev_coerce: str


@attrs.frozen
class _Fallback:
    """A check that runs through pandera on a one-row frame."""

    column: Hashable | None  # None: a check of the whole frame
    check: pa.Check
    name: str
    severity: str
    expected: str


# ------------------------------------------------------------------ validator


class RecordValidator:
    """A pandera ``DataFrameSchema`` compiled into fast tests of one record.

    Parameters
    ----------
    schema
        The pandera ``DataFrameSchema`` to validate against. It is compiled
        once, here; a schema changed in place afterwards needs a new
        validator.

    Attributes
    ----------
    schema
        The schema it was compiled from.
    fallback_checks
        ``(column, check)`` pairs that run through pandera on a one-row
        frame because they cannot be checked on one value (custom checks
        that are not element-wise, ``groupby`` checks, checks of the whole
        frame with column None, ``unique_values_eq``, the index as
        ``(None, "index")``). Empty when the whole record is checked in
        plain Python; ``((None, "*"),)`` when the whole schema runs through
        pandera.
    fallback_reason
        Why the whole schema runs through pandera (parsers, regex columns,
        tuple column labels, a schema-wide dtype), or None.

    Notes
    -----
    See the module documentation (:mod:`mlkit.validation._record`) for the
    dtype rules and where they differ, on purpose, from
    ``schema.validate(pd.DataFrame([record]))``. A validator holds no state
    between calls and is safe to share between threads.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({
    ...     "age": pa.Column(int, pa.Check.in_range(0, 120)),
    ...     "country": pa.Column(str, pa.Check.isin(["fr", "de"])),
    ...     "income": pa.Column(float, nullable=True),
    ... })
    >>> validator = RecordValidator(schema)
    >>> validator({"age": 42, "country": "fr", "income": None})
    RecordResult(passed=True, failures=0, max_severity=None)
    >>> validator({"age": -3, "country": "it"}).failures
    (RecordFailure('age', 'in_range', value=-3, severity='error'),
     RecordFailure('country', 'isin', value='it', severity='error'),
     RecordFailure('income', 'column_in_dataframe', value=None, severity='critical'))
    >>> validator.fallback_checks
    ()
    """

    def __init__(self, schema: pa.DataFrameSchema) -> None:
        if not isinstance(schema, pa.DataFrameSchema):
            raise ConfigurationError(
                f"RecordValidator needs a pandera DataFrameSchema, got {type(schema).__name__}",
                value=type(schema).__name__,
                expected="pandera.pandas.DataFrameSchema",
            )
        self.fallback_checks: tuple[tuple[Hashable | None, str], ...] = ()
        self._schema: pa.DataFrameSchema | None = schema
        self._schema_ref: Callable[[], pa.DataFrameSchema | None] = _weak(schema)
        self.fallback_reason = _whole_schema_reason(schema)
        self._columns: tuple[_Column, ...] = ()
        self._names: frozenset[Any] = frozenset()
        self._fallbacks: tuple[_Fallback, ...] = ()
        self._index_schema: pa.DataFrameSchema | None = None
        self._pandera_schema: pa.DataFrameSchema | None = None
        self._warning_checks: frozenset[tuple[str, Any, int]] = frozenset()
        # (column, default or None, dtype to coerce to or None) for the one-row
        # frame the pandera fallback sees.
        self._prep: tuple[tuple[Hashable, Any, Any], ...] = ()
        self._has_default: frozenset[Any] = frozenset()
        self._strict = schema.strict is True
        self._filter = schema.strict == "filter"
        self._ordered = bool(schema.ordered)
        self._sev_extra = severity_of(schema, None, "column_in_schema")
        self._sev_order = severity_of(schema, None, "column_ordered")
        if self.fallback_reason is not None:
            logger.info(
                "RecordValidator: the whole schema runs through pandera (%s)",
                self.fallback_reason,
            )
            self._pandera_schema, self._warning_checks = _without_warnings(schema)
            self.fallback_checks = ((None, "*"),)
        else:
            self._compile(schema)

    def _compile(self, schema: pa.DataFrameSchema) -> None:
        mlkit_checks = _mlkit_checks()
        coerce_all = bool(schema.coerce)
        columns: list[_Column] = []
        fallbacks: list[_Fallback] = []
        for name, column in schema.columns.items():
            rule = _dtype_rule(column.dtype)
            tests: list[_Test] = []
            for check in column.checks:
                name_text = str(check.name)
                severity = severity_of(schema, name, name_text, warning=check.raise_warning)
                predicate = _compile_check(check, rule, mlkit_checks)
                if predicate is None:
                    fallbacks.append(
                        _Fallback(name, check, name_text, severity, _describe_check(check))
                    )
                    continue
                tests.append(
                    _Test(name_text, predicate, check.ignore_na, severity, _describe_check(check))
                )
            default = (
                _MISSING
                if column.default is None or _is_null(column.default)
                else (column.default)
            )
            when_missing: Any = _MISSING
            if schema.add_missing_columns:
                if default is not _MISSING:
                    when_missing = default
                elif column.nullable:
                    when_missing = None
            columns.append(
                _Column(
                    name=name,
                    required=bool(column.required),
                    nullable=bool(column.nullable),
                    default=default,
                    when_missing=when_missing,
                    missing_check=(
                        "add_missing_has_default"
                        if schema.add_missing_columns
                        else "column_in_dataframe"
                    ),
                    coerce=_coercer(column.dtype, rule) if coerce_all or column.coerce else None,
                    accepts=rule.accepts,
                    prepare=rule.prepare,
                    tests=tuple(tests),
                    null_tests=tuple(t for t in tests if not t.ignore_na),
                    dtype_text=str(column.dtype),
                    sev_missing=severity_of(schema, name, "column_in_dataframe"),
                    sev_null=severity_of(schema, name, "not_nullable"),
                    sev_dtype=severity_of(schema, name, "dtype"),
                    sev_coerce=severity_of(schema, name, "coerce_dtype"),
                )
            )
        for check in schema.checks:
            name_text = str(check.name)
            severity = severity_of(schema, None, name_text, warning=check.raise_warning)
            fallbacks.append(_Fallback(None, check, name_text, severity, _describe_check(check)))
        self._columns = tuple(columns)
        self._names = frozenset(schema.columns)
        self._fallbacks = tuple(fallbacks)
        self._has_default = frozenset(c.name for c in columns if c.default is not _MISSING)
        self._prep = tuple(
            (name, column.default, column.dtype if coerce_all or column.coerce else None)
            for name, column in schema.columns.items()
        )
        if schema.index is not None:
            index_schema = pa.DataFrameSchema(index=schema.index, metadata=schema.metadata)
            self._index_schema, self._warning_checks = _without_warnings(index_schema)
        pairs: list[tuple[Hashable | None, str]] = [(f.column, f.name) for f in self._fallbacks]
        if self._index_schema is not None:
            pairs.append((None, "index"))
        self.fallback_checks = tuple(pairs)
        if pairs:
            logger.info(
                "RecordValidator: %d check(s) run through pandera on a one-row frame: %s",
                len(pairs),
                pairs,
            )

    @property
    def schema(self) -> pa.DataFrameSchema | None:
        """The schema it was compiled from (None if a cached validator outlived it)."""
        return self._schema if self._schema is not None else self._schema_ref()

    def __repr__(self) -> str:
        compiled = sum(len(c.tests) for c in self._columns)
        return (
            f"RecordValidator(columns={len(self._columns)}, compiled_checks={compiled}, "
            f"fallback_checks={len(self.fallback_checks)})"
        )

    # ----------------------------------------------------------------- calls

    def __call__(self, record: Any) -> RecordResult:
        """Validate one record; see :meth:`validate`."""
        return self.validate(record)

    def validate(self, record: Any) -> RecordResult:
        """Validate one record: a mapping, a Series or a one-row DataFrame.

        Parameters
        ----------
        record
            A mapping of column to value (a request's JSON payload), a
            ``pd.Series`` indexed by column, or a DataFrame with exactly one
            row.

        Returns
        -------
        RecordResult
            Every failed check; never raises for the data's content.

        Raises
        ------
        DataError
            If ``record`` is none of those, a DataFrame without exactly one
            row, or has duplicate column labels.
        """
        values = _as_mapping(record)
        if self._pandera_schema is not None:
            return RecordResult(self._run_pandera(self._pandera_schema, record, values))
        failures = self._check_columns(values)
        if self._strict or self._ordered:
            self._check_keys(values, failures)
        if self._fallbacks or self._index_schema is not None:
            failures.extend(self._run_fallbacks(record, values))
        return RecordResult(failures)

    def _check_columns(self, values: Mapping[Any, Any]) -> list[RecordFailure]:
        failures: list[RecordFailure] = []
        get = values.get
        for column in self._columns:
            value = get(column.name, _MISSING)
            if value is _MISSING:
                value = column.when_missing
                if value is _MISSING:
                    if column.required:
                        failures.append(
                            RecordFailure(
                                column.name,
                                column.missing_check,
                                None,
                                column.sev_missing,
                                "a value (the column is required)",
                            )
                        )
                    continue
            if _is_null(value):
                if column.default is _MISSING:
                    if not column.nullable:
                        failures.append(
                            RecordFailure(
                                column.name, "not_nullable", value, column.sev_null, "not null"
                            )
                        )
                    for test in column.null_tests:
                        _run_test(test, column.name, value, failures)
                    continue
                value = column.default
            if column.coerce is not None:
                try:
                    value = column.coerce(value)
                except Exception:
                    failures.append(
                        RecordFailure(
                            column.name,
                            "coerce_dtype",
                            value,
                            column.sev_coerce,
                            f"a value coercible to {column.dtype_text}",
                        )
                    )
            if not column.accepts(value):
                failures.append(
                    RecordFailure(
                        column.name, "dtype", value, column.sev_dtype, f"dtype {column.dtype_text}"
                    )
                )
            elif column.prepare is not None:
                value = column.prepare(value)
            for test in column.tests:
                _run_test(test, column.name, value, failures)
        return failures

    def _check_keys(self, values: Mapping[Any, Any], failures: list[RecordFailure]) -> None:
        names = self._names
        if self._strict:
            for key in values:
                if key not in names:
                    failures.append(
                        RecordFailure(
                            key,
                            "column_in_schema",
                            values[key],
                            self._sev_extra,
                            "no keys outside the schema (strict=True)",
                        )
                    )
        if self._ordered:
            # pandera's rule: the schema's columns present in the record, in
            # the schema's order, must be the order they appear in.
            expected = iter([c.name for c in self._columns if c.name in values])
            for key in values:
                if key in names and next(expected, _MISSING) != key:
                    failures.append(
                        RecordFailure(
                            key,
                            "column_ordered",
                            values[key],
                            self._sev_order,
                            "keys in the schema's column order",
                        )
                    )

    # -------------------------------------------------------------- fallback

    def _frame(self, record: Any, values: Mapping[Any, Any]) -> pd.DataFrame:
        """Build the one-row frame pandera would see: defaults filled, columns coerced."""
        frame: pd.DataFrame
        if isinstance(record, pd.DataFrame):
            frame = record.copy()
        elif isinstance(record, pd.Series):
            frame = pd.DataFrame([record])
        else:
            frame = pd.DataFrame([dict(values)])
        if self._filter:
            frame = frame[[c for c in frame.columns if c in self._names]]
        for name, default, coerce_to in self._prep:
            if name not in frame.columns:
                continue
            if default is not None and frame[name].hasnans:
                frame[name] = frame[name].fillna(default)
            if coerce_to is not None:
                # pandera checks the uncoerced column when coercion fails
                with contextlib.suppress(Exception):
                    frame[name] = coerce_to.try_coerce(frame[name])
        return frame

    def _run_fallbacks(self, record: Any, values: Mapping[Any, Any]) -> list[RecordFailure]:
        frame = self._frame(record, values)
        failures: list[RecordFailure] = []
        for fallback in self._fallbacks:
            column = fallback.column
            if column is not None:
                if column not in frame.columns:
                    continue  # pandera runs no checks of a missing column
                if (
                    fallback.check.ignore_na
                    and _is_null(values.get(column))
                    and column not in self._has_default
                ):
                    # As on the fast path (pandas may give a lone null a dtype the
                    # check cannot handle even once the null is dropped).
                    continue
            try:
                result = fallback.check(frame, cast(Any, column))
                passed = bool(result.check_passed)
            except Exception:  # pandera reports an error inside a check as its failure
                passed = False
            if not passed:
                value = values.get(column) if column is not None else None
                failures.append(
                    RecordFailure(
                        column, fallback.name, value, fallback.severity, fallback.expected
                    )
                )
        if self._index_schema is not None:
            failures.extend(self._run_pandera(self._index_schema, frame, values))
        return failures

    def _run_pandera(
        self,
        schema: pa.DataFrameSchema,
        record: Any,
        values: Mapping[Any, Any],
    ) -> list[RecordFailure]:
        if isinstance(record, pd.DataFrame):
            frame = record
        elif isinstance(record, pd.Series):
            frame = pd.DataFrame([record])
        else:
            frame = pd.DataFrame([dict(values)])
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            return _failures_from_pandera(schema, exc, values, self._warning_checks)
        return []


def _run_test(test: _Test, column: Hashable, value: Any, failures: list[RecordFailure]) -> None:
    try:
        passed = bool(test.predicate(value))
    except Exception:  # pandera reports an error inside a check as its failure
        passed = False
    if not passed:
        failures.append(RecordFailure(column, test.name, value, test.severity, test.expected))


def _whole_schema_reason(schema: pa.DataFrameSchema) -> str | None:
    if getattr(schema, "parsers", None):
        return "the schema has parsers"
    if schema.dtype is not None:
        return "the schema sets a dtype for every column"
    for name, column in schema.columns.items():
        if column.regex:
            return f"column {name!r} is a regex"
        if isinstance(name, tuple):
            return f"column {name!r} is a tuple (MultiIndex columns)"
        if getattr(column, "parsers", None):
            return f"column {name!r} has parsers"
    return None


def _without_warnings(
    schema: pa.DataFrameSchema,
) -> tuple[pa.DataFrameSchema, frozenset[tuple[str, Any, int]]]:
    """Copy ``schema`` so that its ``raise_warning`` checks fail instead of warning.

    pandera emits a Python warning for them, which is global state a serving
    thread must not touch; mlkit reports them as failures at severity warning.
    The checks are returned as ``(context, key, check number)``, the context
    being ``column``, ``frame`` or ``index``.
    """
    out = copy.deepcopy(schema)
    warned: set[tuple[str, Any, int]] = set()
    components: list[tuple[str, Any, Any]] = [
        ("column", name, column) for name, column in out.columns.items()
    ]
    components.append(("frame", None, out))
    if out.index is not None:
        components.append(("index", None, out.index))
    for context, key, component in components:
        for number, check in enumerate(component.checks):
            if check.raise_warning:
                check.raise_warning = False
                warned.add((context, key, number))
    return out, frozenset(warned)


def _normalise_check(text: Any) -> str:
    return str(text).split("(", 1)[0]


# pandera's schema-level problems whose failure case is a column label.
_LABEL_CHECKS = frozenset(
    {"column_in_dataframe", "column_in_schema", "column_ordered", "add_missing_has_default"}
)


def _schema_key(schema: pa.DataFrameSchema, column: Any) -> Any:
    """Return the key of ``schema.columns`` that validated ``column`` (a regex's pattern)."""
    if column in schema.columns:
        return column
    for key, component in schema.columns.items():
        if component.regex and re.match(str(key), str(column)):
            return key
    return column


def _failures_from_pandera(
    schema: pa.DataFrameSchema,
    exc: pa.errors.SchemaErrors,
    values: Mapping[Any, Any],
    warned: frozenset[tuple[str, Any, int]],
) -> list[RecordFailure]:
    failures: list[RecordFailure] = []
    for row in exc.failure_cases.itertuples(index=False):
        check = _normalise_check(row.check)
        column = None if pd.isna(row.column) else row.column
        number = None if pd.isna(row.check_number) else int(row.check_number)
        if row.schema_context == "DataFrameSchema":
            if check in _LABEL_CHECKS:
                column = row.failure_case
                key = column
            else:  # a check of the whole frame: pandera names a column when it can
                column = key = None
            context = "frame"
        elif row.schema_context in ("Index", "MultiIndex"):
            context, key = "index", None
        else:
            context, key = "column", _schema_key(schema, column)
        is_warning = number is not None and (context, key, number) in warned
        if check in _LABEL_CHECKS:
            check_for_severity = (
                "column_in_dataframe" if check == "add_missing_has_default" else check
            )
            severity = severity_of(schema, None, check_for_severity)
        else:
            severity = severity_of(schema, key, check, warning=is_warning)
        in_record = context == "column" and column in values
        value = values[column] if in_record else row.failure_case
        if check in _LABEL_CHECKS and check != "column_in_schema":
            value = values.get(column)
        if check != "not_nullable" and in_record and _is_null(value):
            # As on the fast path: a null is checked for nullability and by the
            # checks that do not ignore nulls only.
            component = schema.columns.get(key)
            if number is None or component is None or component.checks[number].ignore_na:
                continue
        failures.append(RecordFailure(column, check, value, severity, str(row.check)))
    return failures


def _as_mapping(record: Any) -> Mapping[Any, Any]:
    """Return the record's values by column, as pandas would put them in a one-row frame."""
    if type(record) is dict or isinstance(record, Mapping):
        return record
    if isinstance(record, pd.DataFrame):
        if len(record) != 1:
            raise DataError(
                f"validate_record takes one record; got a DataFrame with {len(record)} rows "
                "(use mlkit.validation.validate for a batch)",
                value=len(record),
                expected="a DataFrame with exactly one row",
            )
        _no_duplicates(record.columns)
        return {name: record.iat[0, j] for j, name in enumerate(record.columns)}
    if isinstance(record, pd.Series):
        _no_duplicates(record.index)
        return dict(record.items())
    raise DataError(
        f"validate_record takes a mapping, a Series or a one-row DataFrame, "
        f"got {type(record).__name__}",
        value=type(record).__name__,
        expected="dict | pd.Series | one-row pd.DataFrame",
    )


def _no_duplicates(labels: pd.Index) -> None:
    if labels.has_duplicates:
        duplicated = list(dict.fromkeys(labels[labels.duplicated()]))
        raise DataError(
            f"the record has duplicate column labels {duplicated}",
            column=duplicated[0],
            expected="unique column labels",
        )


# ---------------------------------------------------------------------- cache

# Reentrant: a weakref callback can run (through garbage collection) in a thread
# that already holds the lock.
_LOCK = threading.RLock()
# id(schema) -> (weak reference to the schema, its validator); an entry goes
# when its schema is collected.
_BY_ID: dict[int, tuple[weakref.ref[pa.DataFrameSchema], RecordValidator]] = {}
# For a schema that cannot be weakly referenced: the schema itself is kept alive
# so its id cannot be reused while the entry exists.
_LRU: OrderedDict[int, tuple[pa.DataFrameSchema, RecordValidator]] = OrderedDict()
_LRU_SIZE = 64


def _weak(schema: pa.DataFrameSchema) -> Callable[[], pa.DataFrameSchema | None]:
    try:
        return weakref.ref(schema)
    except TypeError:
        return lambda: None


def _forget(key: int) -> Callable[[weakref.ref[pa.DataFrameSchema]], None]:
    # Bound now: at interpreter exit the module's globals may be gone before
    # the last schemas are collected.
    lock, table = _LOCK, _BY_ID

    def callback(ref: weakref.ref[pa.DataFrameSchema]) -> None:
        with lock:
            entry = table.get(key)
            if entry is not None and entry[0] is ref:
                del table[key]

    return callback


def _validator_for(schema: pa.DataFrameSchema) -> RecordValidator:
    key = id(schema)
    entry = _BY_ID.get(key)
    if entry is not None and entry[0]() is schema:
        return entry[1]
    with _LOCK:
        kept = _LRU.get(key)
        if kept is not None and kept[0] is schema:
            _LRU.move_to_end(key)
            return kept[1]
    # Compiled outside the lock: two threads may both compile a new schema,
    # and the first one stored wins; compiling is pure.
    validator = RecordValidator(schema)
    try:
        ref = weakref.ref(schema, _forget(key))
    except TypeError:
        ref = None
    else:
        # The cache must not keep the schema alive through its validator.
        validator._schema = None
    with _LOCK:
        if ref is not None:
            entry = _BY_ID.get(key)
            if entry is not None and entry[0]() is schema:
                return entry[1]
            _BY_ID[key] = (ref, validator)
            return validator
        kept = _LRU.get(key)
        if kept is not None and kept[0] is schema:
            return kept[1]
        _LRU[key] = (schema, validator)
        while len(_LRU) > _LRU_SIZE:
            _LRU.popitem(last=False)
        return validator


def validate_record(record: Any, schema: pa.DataFrameSchema) -> RecordResult:
    """Validate one request payload against ``schema`` in microseconds.

    The schema is compiled into a :class:`RecordValidator` on first use and
    kept for as long as the schema object lives (thread-safe), so a serving
    app can call this on every request with the schema it loaded once.

    Parameters
    ----------
    record
        A mapping of column to value (a request's JSON payload), a
        ``pd.Series`` indexed by column, or a DataFrame with exactly one row.
    schema
        A pandera ``DataFrameSchema`` (from :func:`~mlkit.validation.infer_schema`,
        :func:`~mlkit.validation.load_schema` or written by hand).

    Returns
    -------
    RecordResult
        Which (column, check) pairs failed, with severities; the same pairs
        pandera reports for ``schema.validate(pd.DataFrame([record]),
        lazy=True)``, apart from the differences the module documents (a
        null is never a dtype failure; widths and units do not matter).

    Raises
    ------
    DataError
        If ``record`` is not a mapping, a Series or a one-row DataFrame.
    ConfigurationError
        If ``schema`` is not a pandera ``DataFrameSchema``.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({
    ...     "amount": pa.Column(float, pa.Check.ge(0)),
    ...     "currency": pa.Column(str, pa.Check.isin(["EUR", "USD"])),
    ... }, strict=True)
    >>> validate_record({"amount": 12.5, "currency": "EUR"}, schema).passed
    True
    >>> result = validate_record({"amount": "12", "currency": "GBP", "x": 1}, schema)
    >>> [(f.column, f.check) for f in result.failures]
    [('amount', 'dtype'), ('amount', 'greater_than_or_equal_to'), ('currency', 'isin'),
     ('x', 'column_in_schema')]
    >>> result.raise_for_errors(at="critical")
    Traceback (most recent call last):
    ...
    mlkit.errors.SchemaError: the record failed 1 check(s) at critical or worse:
    - column 'amount' failed dtype with value '12' (expected dtype float64) [critical]
    """
    if not isinstance(schema, pa.DataFrameSchema):
        raise ConfigurationError(
            f"validate_record needs a pandera DataFrameSchema, got {type(schema).__name__}",
            value=type(schema).__name__,
            expected="pandera.pandas.DataFrameSchema",
        )
    return _validator_for(schema).validate(record)
