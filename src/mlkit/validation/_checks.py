"""mlkit's own named pandera checks, for what pandera's built-in checks lack.

Each check is registered with :func:`pandera.extensions.register_check_method`
when :mod:`mlkit.validation` is imported, with its arguments declared as
statistics, so a schema using it round-trips through
:func:`mlkit.validation.save_schema` / :func:`mlkit.validation.load_schema`
(and through pandera's own ``to_yaml`` / ``from_yaml``) with the check intact.
After the import they are also reachable the pandera way, as
``pandera.Check.mlkit_finite()`` and so on.

- ``mlkit_finite``: no value is +inf or -inf (NaN is a missing value, not an
  infinite one, and is left to ``nullable``).
- ``mlkit_integral``: every value is a whole number, for counts stored as
  floats because a missing value forced the column to float.
- ``mlkit_not_in_future(tolerance_seconds)``: no timestamp is later than now
  plus the tolerance; tz-naive timestamps are read as UTC.

:data:`MLKIT_CHECKS` maps each name to a plain-Python predicate factory, so a
serving path can check one value without building a pandas object: the
predicate gives, for every single value, the same answer as the vectorised
check gives for that value in a column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.extensions import register_check_method

from mlkit.errors import ConfigurationError

__all__ = [
    "MLKIT_CHECKS",
    "ScalarCheck",
    "mlkit_finite",
    "mlkit_integral",
    "mlkit_not_in_future",
]

ScalarCheck = Callable[[Mapping[str, Any]], Callable[[object], bool]]
"""A factory: the check's statistics in, a one-value predicate out."""


# --- one value at a time -------------------------------------------------


def _is_finite_value(value: object) -> bool:
    if isinstance(value, decimal.Decimal):
        return not value.is_infinite()
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        try:
            return not math.isinf(value)
        except OverflowError:  # a Fraction too large for a float is still finite
            return True
    return True


def _is_integral_value(value: object) -> bool:
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return True
    if isinstance(value, decimal.Decimal):
        return value.is_finite() and value == value.to_integral_value()
    if isinstance(value, numbers.Rational):  # a Fraction may be too large for a float
        return value.denominator == 1
    if isinstance(value, numbers.Real):
        number = float(value)
        return math.isfinite(number) and number.is_integer()
    return False


def _as_utc_seconds(value: object) -> float | None:
    """POSIX seconds of a timestamp-like value (tz-naive read as UTC), else None."""
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except ValueError:
            return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if not isinstance(value, dt.datetime) or pd.isna(value):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _tolerance(statistics: Mapping[str, Any]) -> float:
    tolerance = statistics.get("tolerance_seconds")
    return 0.0 if tolerance is None else float(tolerance)


def _finite_predicate(statistics: Mapping[str, Any]) -> Callable[[object], bool]:
    return _is_finite_value


def _integral_predicate(statistics: Mapping[str, Any]) -> Callable[[object], bool]:
    return _is_integral_value


def _not_in_future_predicate(statistics: Mapping[str, Any]) -> Callable[[object], bool]:
    tolerance = _tolerance(statistics)

    def not_in_future(value: object) -> bool:
        seconds = _as_utc_seconds(value)
        # "now" is read per call: a compiled predicate lives as long as a server.
        return seconds is not None and seconds <= time.time() + tolerance

    return not_in_future


MLKIT_CHECKS: dict[str, ScalarCheck] = {
    "mlkit_finite": _finite_predicate,
    "mlkit_integral": _integral_predicate,
    "mlkit_not_in_future": _not_in_future_predicate,
}
"""Each mlkit check's name mapped to its one-value predicate factory.

Examples
--------
>>> predicate = MLKIT_CHECKS["mlkit_finite"]({})
>>> predicate(1.5), predicate(float("inf")), predicate(float("nan"))
(True, False, True)
"""


# --- whole columns ---------------------------------------------------------


def _bool_series(values: Any, series: pd.Series) -> pd.Series:
    result: pd.Series = pd.Series(values, index=series.index, dtype=bool)
    return result


def _elementwise(series: pd.Series, predicate: Callable[[object], bool]) -> pd.Series:
    return _bool_series([predicate(value) for value in series], series)


def _as_float_array(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite_series(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        return _bool_series(True, series)
    if pd.api.types.is_float_dtype(series.dtype):
        return _bool_series(~np.isinf(_as_float_array(series)), series)
    return _elementwise(series, _is_finite_value)


def _integral_series(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        return _bool_series(True, series)
    if pd.api.types.is_float_dtype(series.dtype):
        values = _as_float_array(series)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(values) & (np.floor(values) == values)
        return _bool_series(whole, series)
    return _elementwise(series, _is_integral_value)


def _not_in_future_series(series: pd.Series, tolerance: float) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        limit = pd.Timestamp(time.time() + tolerance, unit="s", tz="UTC")
        if getattr(series.dtype, "tz", None) is None:
            limit = limit.tz_localize(None)
        return _bool_series((series <= limit).to_numpy(dtype=bool), series)
    return _elementwise(series, _not_in_future_predicate({"tolerance_seconds": tolerance}))


def _per_column(
    data: pd.Series | pd.DataFrame, check: Callable[[pd.Series], pd.Series]
) -> pd.Series | pd.DataFrame:
    """Apply a column check to a column, or to each column of a frame-level check."""
    if isinstance(data, pd.DataFrame):
        frame: pd.DataFrame = pd.DataFrame(
            {name: check(data[name]) for name in data.columns}, index=data.index
        )
        return frame
    return check(data)


def _register_checks() -> None:
    """Register the checks with pandera once; a second import or a reload is a no-op."""

    def mlkit_finite(data: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
        return _per_column(data, _finite_series)

    def mlkit_integral(data: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
        return _per_column(data, _integral_series)

    def mlkit_not_in_future(
        data: pd.Series | pd.DataFrame, *, tolerance_seconds: float = 0.0
    ) -> pd.Series | pd.DataFrame:
        tolerance = _tolerance({"tolerance_seconds": tolerance_seconds})
        return _per_column(data, lambda series: _not_in_future_series(series, tolerance))

    for fn, statistics in (
        (mlkit_finite, []),
        (mlkit_integral, []),
        (mlkit_not_in_future, ["tolerance_seconds"]),
    ):
        # pandera refuses to register a name twice; a reloaded module keeps
        # the first registration, whose behaviour is the same.
        if not hasattr(pa.Check, fn.__name__):
            register_check_method(
                fn, statistics=statistics, supported_types=(pd.Series, pd.DataFrame)
            )


_register_checks()


# --- public constructors -------------------------------------------------


def _named(
    factory: Callable[..., pa.Check], statistics: dict[str, Any], kwargs: dict[str, Any]
) -> pa.Check:
    # A registered check passes its own name to pandera.Check, so a custom
    # name can only be set afterwards.
    name = kwargs.pop("name", None)
    check = factory(**statistics, **kwargs)
    if name is not None:
        check.name = name
    return check


def mlkit_finite(**kwargs: Any) -> pa.Check:
    """Return a pandera check that no value is +inf or -inf.

    NaN passes: missingness is the column's ``nullable`` setting.

    Parameters
    ----------
    **kwargs
        Passed to :class:`pandera.Check` (``raise_warning``, ``name``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"x": pa.Column(float, mlkit_finite(), nullable=True)})
    >>> _ = schema.validate(pd.DataFrame({"x": [1.0, np.nan]}))
    >>> schema.validate(pd.DataFrame({"x": [1.0, np.inf]}))
    Traceback (most recent call last):
    ...
    pandera.errors.SchemaError: ...mlkit_finite...
    """
    return _named(pa.Check.mlkit_finite, {}, kwargs)


def mlkit_integral(**kwargs: Any) -> pa.Check:
    """Return a pandera check that every value is a whole number.

    Meant for counts stored as floats because a missing value forced the
    column to float: ``3.0`` passes, ``3.5`` and ``inf`` fail.

    Parameters
    ----------
    **kwargs
        Passed to :class:`pandera.Check`.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"n": pa.Column(float, mlkit_integral())})
    >>> _ = schema.validate(pd.DataFrame({"n": [1.0, 2.0]}))
    >>> schema.validate(pd.DataFrame({"n": [1.5]}))
    Traceback (most recent call last):
    ...
    pandera.errors.SchemaError: ...mlkit_integral...
    """
    return _named(pa.Check.mlkit_integral, {}, kwargs)


def mlkit_not_in_future(tolerance_seconds: float = 0.0, **kwargs: Any) -> pa.Check:
    """Return a pandera check that no timestamp is later than now + ``tolerance_seconds``.

    "Now" is the system clock at validation time. tz-naive timestamps are
    read as UTC.

    Parameters
    ----------
    tolerance_seconds
        Allowed lead over the current time, for clock skew between the
        producer and the validator. Must be finite and >= 0.
    **kwargs
        Passed to :class:`pandera.Check`.

    Raises
    ------
    ConfigurationError
        If ``tolerance_seconds`` is negative or not finite.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"t": pa.Column("datetime64[ns]", mlkit_not_in_future(60))})
    >>> _ = schema.validate(pd.DataFrame({"t": pd.to_datetime(["2020-01-01"])}))
    >>> schema.validate(pd.DataFrame({"t": pd.to_datetime(["2999-01-01"])}))
    Traceback (most recent call last):
    ...
    pandera.errors.SchemaError: ...mlkit_not_in_future...
    """
    try:
        tolerance = float(tolerance_seconds)
    except (TypeError, ValueError):
        tolerance = math.nan
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ConfigurationError(
            f"mlkit_not_in_future: tolerance_seconds must be a finite number >= 0, "
            f"got {tolerance_seconds!r}",
            value=tolerance_seconds,
            expected="a finite number of seconds >= 0",
        )
    return _named(pa.Check.mlkit_not_in_future, {"tolerance_seconds": tolerance}, kwargs)
