"""Decorators that validate a pipeline step's input or output frame.

Each runs :func:`mlkit.validation.validate` and then
:meth:`ValidationReport.raise_for_errors`, so a step fails with an
:class:`mlkit.errors.SchemaError` naming the columns, checks and example
values, and lets warnings through. The decorated function keeps its name,
docstring and signature, and receives the frame it was given (validation does
not coerce it).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from mlkit.errors import ConfigurationError
from mlkit.validation._severity import check_severity
from mlkit.validation._validate import _as_schema, validate

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = ["validate_input", "validate_output"]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _locate(fn: Callable[..., Any], arg: int | str) -> tuple[int | None, str | None]:
    """Return the positional index and the keyword name under which ``arg`` is passed."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError) as exc:  # builtins without a signature
        raise ConfigurationError(
            f"cannot read the signature of {fn!r} to find the frame argument: {exc}",
            value=fn,
            expected="a Python function",
        ) from exc
    names = [p.name for p in parameters]
    # Like pandera's check_input, positions skip the instance of a method.
    skip = 1 if names and names[0] in ("self", "cls") else 0
    where = f"{getattr(fn, '__qualname__', fn)}{inspect.signature(fn)}"
    if isinstance(arg, bool) or not isinstance(arg, (int, str)):
        raise ConfigurationError(
            f"arg must be a parameter position (int) or name (str), got {arg!r}",
            value=arg,
            expected="int or str",
        )
    if isinstance(arg, str):
        if arg not in names:
            raise ConfigurationError(
                f"{where} has no parameter {arg!r} to validate; its parameters are {names}",
                value=arg,
                expected=f"one of {names}",
            )
        parameter = parameters[names.index(arg)]
    else:
        usable = [p for p in parameters[skip:] if p.kind in _POSITIONAL]
        if not 0 <= arg < len(usable):
            raise ConfigurationError(
                f"{where} has no positional parameter number {arg} to validate "
                f"(it has {len(usable)}{', not counting ' + names[0] if skip else ''})",
                value=arg,
                expected=f"0 <= arg < {len(usable)}",
            )
        parameter = usable[arg]
    if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        raise ConfigurationError(
            f"{where}: cannot validate *{parameter.name} or **{parameter.name}; "
            "name a single parameter",
            value=parameter.name,
            expected="a plain parameter",
        )
    position = parameters.index(parameter) if parameter.kind in _POSITIONAL else None
    keyword = None if parameter.kind == inspect.Parameter.POSITIONAL_ONLY else parameter.name
    return position, keyword


def _check(frame: Any, schema: pa.DataFrameSchema, at: str, what: str) -> None:
    report = validate(frame, schema)
    if not report.n_failures:
        return
    logger.debug("%s: %r", what, report)
    report.raise_for_errors(at=at)


def validate_input(
    schema: pa.DataFrameSchema | type[pa.DataFrameModel], *, arg: int | str = 0, at: str = "error"
) -> Callable[[F], F]:
    """Validate a function's input frame before it runs.

    Parameters
    ----------
    schema
        The pandera schema (or ``DataFrameModel`` class) the frame must meet.
    arg
        Which argument is the frame: its position among the parameters (not
        counting ``self`` or ``cls`` of a method), or its name. Resolved once,
        when the function is decorated; a frame passed by keyword is found
        too.
    at
        The least severity that raises :class:`mlkit.errors.SchemaError`;
        failures below it are let through.

    Returns
    -------
    Callable
        The decorator. It works on plain and async functions and methods.

    Raises
    ------
    mlkit.errors.ConfigurationError
        At decoration time: ``arg`` is not a parameter of the function,
        ``at`` is not a severity, or ``schema`` is not a pandera schema.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from mlkit.validation import validate_input
    >>> schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))})
    >>> @validate_input(schema, arg="frame")
    ... def total(scale, frame):
    ...     return scale * frame["x"].sum()
    >>> total(2, pd.DataFrame({"x": [1.0, 2.0]}))
    np.float64(6.0)
    >>> total(2, frame=pd.DataFrame({"x": [-1.0]}))
    Traceback (most recent call last):
    ...
    mlkit.errors.SchemaError: validation failed: 1 failure in 1 rows, worst 'error' (1 error)
    - column 'x', greater_than_or_equal_to [error]: ...
    """
    check_severity(at, what="at")
    resolved = _as_schema(schema)

    def decorate(fn: F) -> F:
        position, keyword = _locate(fn, arg)
        what = f"input of {getattr(fn, '__qualname__', fn)}"

        def frame_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
            if position is not None and position < len(args):
                return True, args[position]
            if keyword is not None and keyword in kwargs:
                return True, kwargs[keyword]
            return False, None  # missing: the call itself raises TypeError

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                found, frame = frame_of(args, kwargs)
                if found:
                    _check(frame, resolved, at, what)
                return await fn(*args, **kwargs)

            return cast("F", async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found, frame = frame_of(args, kwargs)
            if found:
                _check(frame, resolved, at, what)
            return fn(*args, **kwargs)

        return cast("F", wrapper)

    return decorate


def validate_output(
    schema: pa.DataFrameSchema | type[pa.DataFrameModel], *, at: str = "error"
) -> Callable[[F], F]:
    """Validate the frame a function returns.

    Parameters
    ----------
    schema
        The pandera schema (or ``DataFrameModel`` class) the result must meet.
    at
        The least severity that raises :class:`mlkit.errors.SchemaError`.

    Returns
    -------
    Callable
        The decorator. It works on plain and async functions and methods.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from mlkit.validation import validate_output
    >>> @validate_output(pa.DataFrameSchema({"score": pa.Column(float, pa.Check.in_range(0, 1))}))
    ... def scores(n):
    ...     return pd.DataFrame({"score": [0.5] * n})
    >>> len(scores(3))
    3
    """
    check_severity(at, what="at")
    resolved = _as_schema(schema)

    def decorate(fn: F) -> F:
        what = f"output of {getattr(fn, '__qualname__', fn)}"

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                result = await fn(*args, **kwargs)
                _check(result, resolved, at, what)
                return result

            return cast("F", async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            _check(result, resolved, at, what)
            return result

        return cast("F", wrapper)

    return decorate
