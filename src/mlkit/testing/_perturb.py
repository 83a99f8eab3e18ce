"""Perturbations: seeded, composable, non-mutating transformations of model input.

A perturbation is a small frozen object called as ``perturb(X, random_state=None)``:
it returns a perturbed copy of ``X`` and never touches ``X`` itself. The
behavioural checks (:func:`mlkit.testing.check_invariance`,
:func:`mlkit.testing.check_directional`) feed it the batch, compare the model's
outputs before and after, and only count the rows it actually changed.

Tabular perturbations work on a pandas DataFrame (columns by label) or a 2-D
numpy array (columns by integer position) and keep every column's dtype:
integer columns stay integers, rounded to the nearest value where a noise,
factor or shift would make them fractional. Text perturbations work on a list,
tuple, 1-D array or Series of strings, or on one text column of a DataFrame
(``column=``); missing values stay missing.

Randomness comes from numpy Generators only. A ``random_state`` given when the
perturbation is built wins over the one given when it is called (the checks
pass theirs, ``0`` by default), so ``add_noise("age", 1.0, random_state=7)``
perturbs the same way in every check. An int seed gives the same result on
every call; ``None`` at both places draws fresh entropy, as numpy does.

``a + b`` (or :func:`compose`) applies ``a`` then ``b``, each with its own seed
derived from the composition's, so adding a step never changes what another
step draws. Any callable ``f(X)`` or ``f(X, random_state=...)`` can take part
in a composition and is given a numpy Generator.
"""

from __future__ import annotations

import abc
import inspect
import logging
import math
import numbers
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs
import numpy as np
import pandas as pd

from mlkit.errors import ConfigurationError, DataError

__all__ = [
    "Perturbation",
    "RandomState",
    "add_noise",
    "add_typos",
    "as_perturbation",
    "compose",
    "lower",
    "make_rng",
    "monotone_increase",
    "replace_words",
    "scale",
    "set_value",
    "shift",
    "strip_punctuation",
    "swap_category",
    "upper",
]

logger = logging.getLogger(__name__)

#: What every ``random_state`` argument accepts: an int seed, a numpy Generator, or None.
RandomState: TypeAlias = "int | np.random.Generator | None"

# Everything that is neither a word character nor whitespace, Unicode-aware
# (curly quotes and dashes too, not just ASCII string.punctuation).
_PUNCTUATION = re.compile(r"[^\w\s]")


def make_rng(random_state: RandomState) -> np.random.Generator:
    """Return a numpy Generator for ``random_state`` (an int seed, a Generator, or None).

    A Generator is returned as is (so draws advance it); an int or None seeds a
    new one with :func:`numpy.random.default_rng`.

    Examples
    --------
    >>> make_rng(3).integers(100) == make_rng(3).integers(100)
    np.True_
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ConfigurationError(
        f"random_state must be an int, a numpy Generator or None, got {random_state!r}",
        value=random_state,
        expected="int | numpy.random.Generator | None",
    )


def _check_random_state(_: Any, __: Any, value: RandomState) -> None:
    make_rng(value)


def _label(value: Any) -> str:
    """Return a short repr for perturbation names (plain values, not np.float64(...))."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, tuple) and len(value) == 1:
        return _label(value[0])
    if isinstance(value, tuple):
        return "[" + ", ".join(_label(v) for v in value) + "]"
    return repr(value)


class Perturbation(abc.ABC):
    """A seeded transformation of model input that returns a new object.

    Build one with the factory functions (:func:`add_noise`, :func:`upper`,
    ...) or :func:`as_perturbation`; combine them with ``+`` or
    :func:`compose`. Call it as ``perturb(X, random_state=None)``: the input
    is never modified, and a ``random_state`` given at construction wins over
    the call's.

    Attributes
    ----------
    name
        A readable description used in check names and failure messages, for
        example ``"add_noise('income', scale=0.1)"``.
    """

    __slots__ = ()

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A readable description of the perturbation."""

    @abc.abstractmethod
    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        """Return the perturbed copy of ``X``, drawing from ``rng``."""

    def __call__(self, X: Any, random_state: RandomState = None) -> Any:
        """Return a perturbed copy of ``X``; ``X`` itself is left untouched.

        Parameters
        ----------
        X
            The model input: a DataFrame or 2-D array for tabular
            perturbations; a list, array or Series of strings (or a DataFrame
            with ``column=``) for text perturbations.
        random_state
            Seed or Generator used when the perturbation was built without one.
        """
        own = getattr(self, "random_state", None)
        return self._apply(X, make_rng(own if own is not None else random_state))

    def __add__(self, other: Perturbation | Callable[..., Any]) -> Perturbation:
        return compose(self, other)

    def __radd__(self, other: Perturbation | Callable[..., Any]) -> Perturbation:
        return compose(other, self)

    def __repr__(self) -> str:
        return f"<Perturbation {self.name}>"


# ----------------------------------------------------------------------------
# Composition and plain callables


@attrs.frozen(repr=False)
class _Function(Perturbation):
    func: Callable[..., Any]
    label: str
    takes_random_state: bool

    @property
    def name(self) -> str:
        return self.label

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        if self.takes_random_state:
            return self.func(X, random_state=rng)
        return self.func(X)


def _accepts_random_state(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return any(p.name == "random_state" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def as_perturbation(
    perturb: Perturbation | Callable[..., Any], *, name: str | None = None
) -> Perturbation:
    """Return ``perturb`` as a :class:`Perturbation`.

    A perturbation is returned as is; any other callable is wrapped: it is
    called as ``func(X, random_state=rng)`` (``rng`` a numpy Generator) when it
    has a ``random_state`` parameter or ``**kwargs``, else as ``func(X)``. It
    must return a new object, not modify ``X``.

    Parameters
    ----------
    perturb
        A perturbation or a callable.
    name
        The name to show in messages; defaults to the callable's ``__name__``.

    Examples
    --------
    >>> import pandas as pd
    >>> def double_income(X):
    ...     return X.assign(income=X["income"] * 2)
    >>> p = as_perturbation(double_income)
    >>> p.name
    'double_income'
    >>> p(pd.DataFrame({"income": [1, 2]}))["income"].tolist()
    [2, 4]
    """
    if isinstance(perturb, Perturbation) and name is None:
        return perturb
    if not callable(perturb):
        raise ConfigurationError(
            f"a perturbation must be callable as perturb(X, random_state=None), got {perturb!r}",
            value=perturb,
            expected="a Perturbation or a callable",
        )
    label = name or getattr(perturb, "name", None) or getattr(perturb, "__name__", None)
    return _Function(
        func=perturb,
        label=str(label or repr(perturb)),
        takes_random_state=isinstance(perturb, Perturbation) or _accepts_random_state(perturb),
    )


@attrs.frozen(repr=False)
class _Composed(Perturbation):
    steps: tuple[Perturbation, ...]
    random_state: RandomState = attrs.field(default=None, validator=_check_random_state)

    @property
    def name(self) -> str:
        return " + ".join(step.name for step in self.steps)

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        # One child Generator per step: a step's draws depend on its position
        # and the composition's seed only, never on what other steps consumed.
        for step, child in zip(self.steps, rng.spawn(len(self.steps)), strict=True):
            X = step(X, random_state=child)
        return X


def compose(
    *perturbations: Perturbation | Callable[..., Any], random_state: RandomState = None
) -> Perturbation:
    """Return a perturbation that applies ``perturbations`` in order.

    ``compose(a, b)`` is ``a + b``: ``b`` is applied to the output of ``a``.
    Each step gets its own Generator derived from the composition's seed
    (``random_state`` here, else the call's); a step built with its own
    ``random_state`` keeps it. Nested compositions are flattened.

    Parameters
    ----------
    *perturbations
        Perturbations or callables (see :func:`as_perturbation`), at least one.
    random_state
        Seed or Generator of the composition; wins over the call's.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"income": [10.0, 20.0]})
    >>> p = compose(scale("income", 2), shift("income", 1))
    >>> p.name
    "scale('income', factor=2) + shift('income', by=1)"
    >>> p(X)["income"].tolist()
    [21.0, 41.0]
    >>> (shift("income", 1) + scale("income", 2))(X)["income"].tolist()
    [22.0, 42.0]
    """
    if not perturbations:
        raise ConfigurationError(
            "compose needs at least one perturbation", expected="one or more perturbations"
        )
    steps: list[Perturbation] = []
    for item in perturbations:
        step = as_perturbation(item)
        if isinstance(step, _Composed) and step.random_state is None:
            steps.extend(step.steps)
        else:
            steps.append(step)
    return _Composed(steps=tuple(steps), random_state=random_state)


# ----------------------------------------------------------------------------
# Tabular helpers


def _as_columns(columns: Hashable | Sequence[Hashable]) -> tuple[Hashable, ...]:
    if isinstance(columns, (list, tuple)):
        if not columns:
            raise ConfigurationError("columns must name at least one column", value=columns)
        return tuple(columns)
    return (columns,)


def _check_number(name: str, value: object, *, positive: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise ConfigurationError(
            f"{name} must be a finite number, got {value!r}",
            value=value,
            expected="a finite number",
        )
    if positive and value <= 0:
        raise ConfigurationError(
            f"{name} must be > 0, got {value!r}", value=value, expected="a number > 0"
        )
    return float(value)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _require_numeric(s: pd.Series, column: Hashable, who: str) -> None:
    if not _is_numeric(s):
        raise DataError(
            f"{who}: column {column!r} has dtype {s.dtype}, expected a numeric column",
            column=column,
            value=str(s.dtype),
            expected="a numeric (non-boolean) dtype",
        )


def _cast_like(new: pd.Series, old: pd.Series) -> pd.Series:
    """Return ``new`` in ``old``'s dtype; integer columns are rounded (and clipped)."""
    if pd.api.types.is_integer_dtype(old.dtype):
        info = np.iinfo(old.dtype.numpy_dtype if hasattr(old.dtype, "numpy_dtype") else old.dtype)
        new = new.round().clip(info.min, info.max)
    return new.astype(old.dtype)


def _check_frame_columns(X: pd.DataFrame, columns: tuple[Hashable, ...], who: str) -> None:
    available = list(X.columns)
    for column in columns:
        if column not in X.columns:
            raise DataError(
                f"{who}: no column {column!r}; available columns: {available!r}",
                column=column,
                expected=available,
            )
        if (X.columns == column).sum() > 1:
            raise DataError(
                f"{who}: column {column!r} appears more than once in the frame",
                column=column,
                expected="unique column labels",
            )


def _check_array_columns(X: np.ndarray[Any, Any], columns: tuple[Hashable, ...], who: str) -> None:
    n = X.shape[1]
    for column in columns:
        if (
            isinstance(column, bool)
            or not isinstance(column, (int, np.integer))
            or not 0 <= int(column) < n
        ):
            raise DataError(
                f"{who}: no column {column!r} in a 2-D array with {n} columns; "
                f"available columns: 0 to {n - 1} (integer positions)",
                column=column,
                expected=list(range(n)),
            )


def _map_columns(
    X: Any,
    columns: tuple[Hashable, ...],
    func: Callable[[pd.Series, Hashable], pd.Series],
    who: str,
) -> Any:
    """Return a copy of ``X`` with each of ``columns`` replaced by ``func(column, label)``."""
    if isinstance(X, pd.DataFrame):
        _check_frame_columns(X, columns, who)
        out = X.copy()
        for column in columns:
            out[column] = func(X[column], column)
        return out
    if isinstance(X, np.ndarray) and X.ndim == 2:
        _check_array_columns(X, columns, who)
        out_array = X.copy()
        for column in columns:
            j = int(column)  # type: ignore[call-overload]
            values = pd.Series(X[:, j])
            if X.dtype == object:
                values = values.infer_objects()
            new = func(values, j).to_numpy()
            try:
                out_array[:, j] = new
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"{who}: cannot write the new values of column {j} into a {X.dtype} array",
                    column=j,
                    value=str(X.dtype),
                    expected=f"values castable to {X.dtype}",
                ) from exc
        return out_array
    raise DataError(
        f"{who}: expected a pandas DataFrame or a 2-D numpy array, got {_describe(X)}",
        value=type(X).__name__,
        expected="pandas.DataFrame | 2-D numpy.ndarray",
    )


def _describe(X: Any) -> str:
    if isinstance(X, np.ndarray):
        return f"a {X.ndim}-D numpy array"
    return f"a {type(X).__name__}"


# ----------------------------------------------------------------------------
# Tabular perturbations


@attrs.frozen(repr=False)
class _Noise(Perturbation):
    columns: tuple[Hashable, ...]
    scale: float
    relative: bool
    random_state: RandomState = attrs.field(default=None, validator=_check_random_state)

    @property
    def name(self) -> str:
        extra = ", relative=True" if self.relative else ""
        return f"add_noise({_label(self.columns)}, scale={self.scale:g}{extra})"

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        def noisy(s: pd.Series, column: Hashable) -> pd.Series:
            _require_numeric(s, column, self.name)
            noise = rng.normal(0.0, self.scale, size=len(s))
            if self.relative:
                noise *= np.abs(s.to_numpy(dtype=float, na_value=np.nan))
            return _cast_like(s + noise, s)

        return _map_columns(X, self.columns, noisy, self.name)


def add_noise(
    columns: Hashable | Sequence[Hashable],
    scale: float,
    *,
    relative: bool = False,
    random_state: RandomState = None,
) -> Perturbation:
    """Add Gaussian noise to numeric columns.

    Each value gets ``normal(0, scale)`` added, or ``normal(0, scale * |x|)``
    when ``relative``. Integer columns stay integers: the noisy values are
    rounded, so small noise leaves many of their rows unchanged (and the
    checks then do not count those rows). Missing values stay missing.

    Parameters
    ----------
    columns
        A column label (a DataFrame) or integer position (a 2-D array), or a
        list of them.
    scale
        Standard deviation of the noise (``>= 0``); relative to ``|x|`` when
        ``relative``.
    relative
        Scale the noise by each value's magnitude.
    random_state
        Seed or Generator; wins over the one given at call time.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"income": [100.0, 200.0], "age": [30, 40]})
    >>> p = add_noise("income", 1.0, random_state=0)
    >>> p(X).round(2)
       income  age
    0  100.13   30
    1  199.87   40
    >>> X["income"].tolist()  # the input is never modified
    [100.0, 200.0]
    """
    value = _check_number("scale", scale)
    if value < 0:
        raise ConfigurationError(
            f"scale must be >= 0, got {scale!r}", value=scale, expected="a number >= 0"
        )
    return _Noise(
        columns=_as_columns(columns),
        scale=value,
        relative=bool(relative),
        random_state=random_state,
    )


@attrs.frozen(repr=False)
class _Scale(Perturbation):
    columns: tuple[Hashable, ...]
    factor: float

    @property
    def name(self) -> str:
        return f"scale({_label(self.columns)}, factor={self.factor:g})"

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        def scaled(s: pd.Series, column: Hashable) -> pd.Series:
            _require_numeric(s, column, self.name)
            return _cast_like(s * self.factor, s)

        return _map_columns(X, self.columns, scaled, self.name)


def scale(columns: Hashable | Sequence[Hashable], factor: float) -> Perturbation:
    """Multiply numeric columns by ``factor`` (integer columns are rounded back to integers).

    Parameters
    ----------
    columns
        A column label or integer position, or a list of them.
    factor
        The multiplier.

    Examples
    --------
    >>> import pandas as pd
    >>> scale("income", 1.1)(pd.DataFrame({"income": [100, 250]}))["income"].tolist()
    [110, 275]
    """
    return _Scale(columns=_as_columns(columns), factor=_check_number("factor", factor))


def _check_whole(s: pd.Series, column: Hashable, by: float, who: str) -> None:
    if pd.api.types.is_integer_dtype(s.dtype) and not float(by).is_integer():
        raise DataError(
            f"{who}: column {column!r} holds integers ({s.dtype}) but by={by:g} is not a "
            "whole number; use a whole number or cast the column to float",
            column=column,
            value=by,
            expected="a whole number for an integer column",
        )


@attrs.frozen(repr=False)
class _Shift(Perturbation):
    columns: tuple[Hashable, ...]
    by: float
    verb: str = "shift"

    @property
    def name(self) -> str:
        return f"{self.verb}({_label(self.columns)}, by={self.by:g})"

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        def shifted(s: pd.Series, column: Hashable) -> pd.Series:
            _require_numeric(s, column, self.name)
            _check_whole(s, column, self.by, self.name)
            return _cast_like(s + self.by, s)

        return _map_columns(X, self.columns, shifted, self.name)


def shift(columns: Hashable | Sequence[Hashable], by: float) -> Perturbation:
    """Add ``by`` to numeric columns.

    Parameters
    ----------
    columns
        A column label or integer position, or a list of them.
    by
        The amount to add; it must be a whole number for integer columns
        (a :class:`~mlkit.errors.DataError` otherwise, rather than a shift
        that rounding would make uneven).

    Examples
    --------
    >>> import pandas as pd
    >>> shift("age", -5)(pd.DataFrame({"age": [30, 40]}))["age"].tolist()
    [25, 35]
    """
    return _Shift(columns=_as_columns(columns), by=_check_number("by", by))


def monotone_increase(column: Hashable, by: float) -> Perturbation:
    """Increase one numeric column by ``by > 0``: the input of a directional test.

    Pair it with :func:`mlkit.testing.check_directional` to assert, for
    example, that more income never lowers the approval probability.

    Parameters
    ----------
    column
        A column label or integer position.
    by
        A positive amount (a whole number for integer columns).

    Examples
    --------
    >>> import pandas as pd
    >>> p = monotone_increase("income", by=1000)
    >>> p.name
    "monotone_increase('income', by=1000)"
    >>> p(pd.DataFrame({"income": [100, 200]}))["income"].tolist()
    [1100, 1200]
    """
    return _Shift(
        columns=(column,), by=_check_number("by", by, positive=True), verb="monotone_increase"
    )


def _fill_like(s: pd.Series, value: Any) -> pd.Series:
    """Return ``value`` on every row of ``s``, in ``s``'s dtype where that loses nothing."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        dtype = s.dtype
        if value not in dtype.categories:
            dtype = pd.CategoricalDtype([*dtype.categories, value], ordered=dtype.ordered)
        filled: pd.Series = pd.Series(
            pd.Categorical([value] * len(s), dtype=dtype), index=s.index, name=s.name
        )
        return filled
    new: pd.Series = pd.Series(value, index=s.index, name=s.name)
    try:
        cast: pd.Series = new.astype(s.dtype)
        if bool((cast == new).all()):
            return cast
    except (TypeError, ValueError, OverflowError):
        pass
    return new


@attrs.frozen(repr=False)
class _SetValue(Perturbation):
    column: Hashable
    value: Any

    @property
    def name(self) -> str:
        return f"set_value({_label(self.column)}, {_label(self.value)})"

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        return _map_columns(X, (self.column,), lambda s, _: _fill_like(s, self.value), self.name)


def set_value(column: Hashable, value: Any) -> Perturbation:
    """Set one column to ``value`` on every row.

    Rows that already hold ``value`` are unchanged, so the checks do not
    count them. The column keeps its dtype when ``value`` fits it (a
    categorical column gains the category if needed).

    Parameters
    ----------
    column
        A column label or integer position.
    value
        The value to put on every row.

    Examples
    --------
    >>> import pandas as pd
    >>> set_value("country", "FR")(pd.DataFrame({"country": ["DE", "FR"]}))["country"].tolist()
    ['FR', 'FR']
    """
    return _SetValue(column=column, value=value)


_NO_TARGET = object()


def _objects(values: list[Any]) -> np.ndarray[Any, Any]:
    """Return a 1-D object array of ``values`` (tuples stay elements, not rows)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _replace_categories(
    s: pd.Series, codes: np.ndarray[Any, Any], values: np.ndarray[Any, Any]
) -> pd.Series:
    """Return ``values[codes]`` where ``codes >= 0`` (else ``s``), in ``s``'s dtype if possible."""
    original = s.to_numpy(dtype=object)
    new_values = np.where(codes >= 0, values[np.maximum(codes, 0)], original)
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = pd.unique(pd.Series(new_values[codes >= 0], dtype=object))
        extra = [v for v in present if v not in s.dtype.categories]
        dtype = pd.CategoricalDtype([*s.dtype.categories, *extra], ordered=s.dtype.ordered)
        swapped: pd.Series = pd.Series(
            pd.Categorical(new_values, dtype=dtype), index=s.index, name=s.name
        )
        return swapped
    new: pd.Series = pd.Series(new_values, index=s.index, name=s.name, dtype=object)
    try:
        cast: pd.Series = new.astype(s.dtype)
        same = (cast.to_numpy(dtype=object) == new_values) | (pd.isna(cast) & pd.isna(new))
        if bool(np.all(same)):
            return cast
    except (TypeError, ValueError, OverflowError):
        pass
    inferred: pd.Series = new.infer_objects()
    return inferred


@attrs.frozen(repr=False)
class _SwapCategory(Perturbation):
    column: Hashable
    # Pairs rather than a dict, so the perturbation stays hashable.
    mapping: tuple[tuple[Any, Any], ...] | None
    to: Any
    random_state: RandomState = attrs.field(default=None, validator=_check_random_state)

    @property
    def name(self) -> str:
        if self.mapping is not None:
            return f"swap_category({_label(self.column)}, mapping={dict(self.mapping)!r})"
        if self.to is not _NO_TARGET:
            return f"swap_category({_label(self.column)}, to={_label(self.to)})"
        return f"swap_category({_label(self.column)})"

    def _swap(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        categories = np.asarray(uniques, dtype=object)
        if self.mapping is not None:
            # A loop over the distinct categories, not over rows.
            lookup = dict(self.mapping)
            mapped = _objects([lookup.get(c, c) for c in categories])
            return _replace_categories(s, codes, mapped)
        if self.to is not _NO_TARGET:
            return _replace_categories(s, codes, _objects([self.to] * len(categories)))
        k = len(categories)
        if k < 2:
            logger.warning(
                "%s: column %r has %d distinct value(s): no other category to swap to",
                self.name,
                self.column,
                k,
            )
            unchanged: pd.Series = s.copy()
            return unchanged
        # Adding 1..k-1 modulo k draws uniformly among the k-1 other categories.
        new_codes = np.where(codes >= 0, (codes + rng.integers(1, k, size=len(s))) % k, -1)
        return _replace_categories(s, new_codes, categories)

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        return _map_columns(X, (self.column,), lambda s, _: self._swap(s, rng), self.name)


def swap_category(
    column: Hashable,
    mapping: Mapping[Any, Any] | None = None,
    *,
    to: Any = _NO_TARGET,
    random_state: RandomState = None,
) -> Perturbation:
    """Replace the categories of one column.

    With ``mapping``, each category found in it is replaced by its value
    (others are unchanged); with ``to``, every category becomes ``to``;
    with neither, each row gets a uniformly random *other* category among the
    column's own distinct values in ``X``. Missing values stay missing. A
    categorical dtype is kept (new categories are added).

    Parameters
    ----------
    column
        A column label or integer position.
    mapping
        ``{old: new}`` categories.
    to
        The one category every row is set to (rows already in it are unchanged).
    random_state
        Seed or Generator for the random swap; wins over the call's.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"gender": ["f", "m", "f", None]})
    >>> swap_category("gender", {"f": "m", "m": "f"})(X)["gender"].tolist()
    ['m', 'f', 'm', nan]
    >>> swap_category("gender", random_state=0)(X)["gender"].tolist()
    ['m', 'f', 'm', nan]
    """
    if mapping is not None and to is not _NO_TARGET:
        raise ConfigurationError(
            "swap_category takes mapping or to, not both", expected="mapping= or to="
        )
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ConfigurationError(
            f"mapping must be a mapping {{old: new}}, got {type(mapping).__name__}",
            value=mapping,
            expected="a dict {old category: new category}",
        )
    return _SwapCategory(
        column=column,
        mapping=tuple(mapping.items()) if mapping is not None else None,
        to=to,
        random_state=random_state,
    )


# ----------------------------------------------------------------------------
# Text helpers


def _check_text(s: pd.Series, who: str) -> None:
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return
    # Only on the error path: find the first offending value to name it.
    bad = s[s.notna() & ~s.map(lambda v: isinstance(v, str))]
    row, value = bad.index[0], bad.iloc[0]
    raise DataError(
        f"{who}: expected strings, got {type(value).__name__} {value!r} at row {row!r}",
        column=s.name,
        value=value,
        expected="str (or a missing value)",
    )


def _map_text(
    X: Any, column: Hashable | None, func: Callable[[pd.Series], pd.Series], who: str
) -> Any:
    """Return a copy of ``X`` with its text (or text ``column``) replaced by ``func(text)``."""
    if isinstance(X, pd.DataFrame):
        if column is None:
            raise DataError(
                f"{who}: got a DataFrame; pass column= to say which text column to perturb "
                f"(available columns: {list(X.columns)!r})",
                expected=list(X.columns),
            )
        _check_frame_columns(X, (column,), who)
        out = X.copy()
        out[column] = _text_series(X[column], func, who)
        return out
    if column is not None:
        raise DataError(
            f"{who}: column={column!r} needs a DataFrame, got {_describe(X)}",
            column=column,
            expected="pandas.DataFrame",
        )
    if isinstance(X, pd.Series):
        return _text_series(X, func, who)
    if isinstance(X, (list, tuple)):
        values = _text_series(pd.Series(list(X), dtype=object), func, who).tolist()
        return values if isinstance(X, list) else tuple(values)
    if isinstance(X, np.ndarray) and X.ndim == 1:
        result = _text_series(pd.Series(X, dtype=object), func, who)
        if X.dtype.kind == "U":
            return np.array(result.tolist(), dtype=str)
        return result.to_numpy(dtype=object)
    raise DataError(
        f"{who}: expected a list, tuple, 1-D array or Series of strings, or a DataFrame "
        f"with column=, got {_describe(X)}",
        value=type(X).__name__,
        expected="texts",
    )


def _text_series(s: pd.Series, func: Callable[[pd.Series], pd.Series], who: str) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    _check_text(s, who)
    result = func(s)
    return result.astype(s.dtype) if result.dtype != s.dtype else result


@attrs.frozen(repr=False)
class _Text(Perturbation):
    column: Hashable | None = attrs.field(default=None, kw_only=True)

    @property
    @abc.abstractmethod
    def verb(self) -> str:
        """The factory's name and arguments, without the column."""

    @property
    def name(self) -> str:
        if self.column is None:
            return self.verb
        suffix = f"column={_label(self.column)}"
        if self.verb.endswith(")"):
            return f"{self.verb[:-1]}, {suffix})"
        return f"{self.verb}({suffix})"

    @abc.abstractmethod
    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        """Return the perturbed texts (``s`` holds strings and missing values)."""

    def _apply(self, X: Any, rng: np.random.Generator) -> Any:
        return _map_text(X, self.column, lambda s: self._text(s, rng), self.name)


@attrs.frozen(repr=False)
class _Upper(_Text):
    @property
    def verb(self) -> str:
        return "upper"

    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        return s.str.upper()


@attrs.frozen(repr=False)
class _Lower(_Text):
    @property
    def verb(self) -> str:
        return "lower"

    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        return s.str.lower()


@attrs.frozen(repr=False)
class _StripPunctuation(_Text):
    @property
    def verb(self) -> str:
        return "strip_punctuation"

    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        return s.str.replace(_PUNCTUATION, "", regex=True)


def upper(*, column: Hashable | None = None) -> Perturbation:
    """Upper-case the texts.

    Parameters
    ----------
    column
        The text column when ``X`` is a DataFrame.

    Examples
    --------
    >>> upper()(["Good movie", "bad"])
    ['GOOD MOVIE', 'BAD']
    """
    return _Upper(column=column)


def lower(*, column: Hashable | None = None) -> Perturbation:
    """Lower-case the texts.

    Parameters
    ----------
    column
        The text column when ``X`` is a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"review": ["Great FILM"], "stars": [5]})
    >>> lower(column="review")(X)
      review  stars
    0  great film  5
    """
    return _Lower(column=column)


def strip_punctuation(*, column: Hashable | None = None) -> Perturbation:
    """Remove every character that is neither a word character nor whitespace.

    That is ASCII punctuation and symbols (``!?.,;:'"-$%...``) and their
    Unicode counterparts (curly quotes, dashes, emoji).

    Parameters
    ----------
    column
        The text column when ``X`` is a DataFrame.

    Examples
    --------
    >>> strip_punctuation()(["Great, isn't it?!"])
    ['Great isnt it']
    """
    return _StripPunctuation(column=column)


def _match_case(source: str, target: str) -> str:
    """Give ``target`` the simple casing of ``source``: lower, UPPER or Title."""
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source[:1].isupper() and (len(source) == 1 or source[1:].islower()):
        return target[:1].upper() + target[1:]
    return target


@attrs.frozen(repr=False)
class _ReplaceWords(_Text):
    mapping: tuple[tuple[str, str], ...] = attrs.field(kw_only=True)

    @property
    def verb(self) -> str:
        return f"replace_words({dict(self.mapping)!r})"

    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        lookup = {k.lower(): v for k, v in self.mapping}
        # Longest first, so "new york" wins over "new"; lookarounds instead of
        # \b so keys that start or end with punctuation still match whole.
        keys = sorted(lookup, key=len, reverse=True)
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)", re.IGNORECASE
        )

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            return _match_case(found, lookup[found.lower()])

        # The callable runs once per match, inside pandas' string method.
        return s.str.replace(pattern, replace, regex=True)


def replace_words(mapping: Mapping[str, str], *, column: Hashable | None = None) -> Perturbation:
    """Replace whole words (or phrases), matching case-insensitively and keeping simple case.

    A match that is all lower case gets the replacement as written, an ALL
    CAPS match gets it upper-cased, a Title-case match gets its first letter
    upper-cased; mixed-case matches get the replacement as written. Only whole
    words match: ``{"he": "she"}`` leaves "the" alone.

    Parameters
    ----------
    mapping
        ``{word: replacement}``; keys are matched case-insensitively, so two
        keys that differ only in case are an error.
    column
        The text column when ``X`` is a DataFrame.

    Examples
    --------
    >>> replace_words({"good": "great", "he": "she"})(["Good, he said. GOOD!", "the hero"])
    ['Great, she said. GREAT!', 'the hero']
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigurationError(
            f"mapping must be a non-empty dict {{word: replacement}}, got {mapping!r}",
            value=mapping,
            expected="a non-empty dict of strings",
        )
    seen: dict[str, str] = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ConfigurationError(
                "replace_words: mapping entries must be non-empty str -> str, "
                f"got {key!r}: {value!r}",
                value=key,
                expected="str -> str",
            )
        if key.lower() in seen:
            raise ConfigurationError(
                f"replace_words: keys {seen[key.lower()]!r} and {key!r} differ only in case; "
                "keys are matched case-insensitively",
                value=key,
                expected="keys distinct ignoring case",
            )
        seen[key.lower()] = key
    return _ReplaceWords(mapping=tuple(mapping.items()), column=column)


def _typo_plan(
    codes: np.ndarray[Any, Any], owner: np.ndarray[Any, Any], rate: float, rng: np.random.Generator
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Decide the typos of a concatenated text: (selected, swap, counts).

    Each alphanumeric character is selected with probability ``rate`` and
    gets one of three typos with equal odds: swapped with the next character
    (when that one is alphanumeric, in the same text and not selected itself;
    else duplicated instead), dropped, or duplicated. ``counts`` says how many
    times each (possibly swapped) position is emitted: 0, 1 or 2.
    """
    n = codes.size
    word = np.char.isalnum(codes.view("<U1")) if n else np.zeros(0, dtype=bool)
    selected = word & (rng.random(n) < rate)
    kind = rng.integers(0, 3, size=n)
    next_free = np.zeros(n, dtype=bool)
    next_free[:-1] = word[1:] & (owner[1:] == owner[:-1]) & ~selected[1:]
    swap = selected & (kind == 0) & next_free
    counts = np.ones(n, dtype=np.int64)
    counts[selected & (kind == 1)] = 0
    counts[selected & ~swap & (kind != 1)] = 2
    return selected, swap, counts


@attrs.frozen(repr=False)
class _Typos(_Text):
    rate: float = attrs.field(kw_only=True)
    random_state: RandomState = attrs.field(
        default=None, validator=_check_random_state, kw_only=True
    )

    @property
    def verb(self) -> str:
        return f"add_typos(rate={self.rate:g})"

    def _text(self, s: pd.Series, rng: np.random.Generator) -> pd.Series:
        present = s.notna().to_numpy()
        texts = s[present].tolist()
        # The whole corpus is handled as one array of code points; only the
        # final split back into one string per row is a Python loop.
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        codes = np.frombuffer(
            "".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
        ).copy()
        owner = np.repeat(np.arange(len(texts)), lengths)
        _, swap, counts = _typo_plan(codes, owner, self.rate, rng)
        order = np.arange(codes.size)
        at = np.flatnonzero(swap)
        order[at], order[at + 1] = at + 1, at
        out = np.repeat(codes[order], counts)
        new_lengths = np.bincount(owner, weights=counts, minlength=len(texts)).astype(np.int64)
        joined = out.tobytes().decode("utf-32-le", "surrogatepass")
        ends = np.cumsum(new_lengths)
        starts = ends - new_lengths
        pieces = [joined[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        values = s.to_numpy(dtype=object, copy=True)
        values[present] = np.array(pieces, dtype=object)
        typed: pd.Series = pd.Series(values, index=s.index, name=s.name, dtype=object)
        return typed


def add_typos(
    rate: float = 0.05,
    *,
    column: Hashable | None = None,
    random_state: RandomState = None,
) -> Perturbation:
    """Add keyboard-style typos: swap, drop or duplicate characters, seeded.

    Each letter or digit is hit with probability ``rate``; a hit swaps it
    with the next letter or digit of the same word, drops it, or duplicates
    it (equal odds). Spaces and punctuation are never touched, so the text
    keeps its word boundaries. The whole batch is processed as one numpy
    array of code points; only splitting it back into strings loops over rows.

    Parameters
    ----------
    rate
        Probability, in ``[0, 1]``, that a given letter or digit gets a typo.
    column
        The text column when ``X`` is a DataFrame.
    random_state
        Seed or Generator; wins over the one given at call time.

    Examples
    --------
    >>> add_typos(rate=0.2, random_state=1)(["the quick brown fox", "jumps"])
    ['thee quick brown ox', 'jumps']
    """
    value = _check_number("rate", rate)
    if not 0.0 <= value <= 1.0:
        raise ConfigurationError(
            f"rate must be in [0, 1], got {rate!r}", value=rate, expected="0 <= rate <= 1"
        )
    return _Typos(rate=value, column=column, random_state=random_state)
