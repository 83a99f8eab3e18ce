"""What every router shares: the routed-prediction record, model checks, batch splitting.

numpy and pandas are imported lazily, only when a batch is split by key, so a
serving app that routes single records never pays for them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from mlkit.errors import ConfigurationError, DataError

__all__ = ["RoutedPrediction", "check_model", "merge_outputs", "split_batch"]


@attrs.frozen(repr=False)
class RoutedPrediction:
    """A prediction and the variant that served it, for monitors to label metrics with.

    Parameters
    ----------
    output
        What the serving model returned (for a batch routed by key: that row's
        output).
    variant
        The router's name for the model that served it: ``"primary"`` or
        ``"canary"``, ``"blue"`` or ``"green"``.
    key
        The routing key, if one was given.

    Examples
    --------
    >>> from mlkit.routing import RoutedPrediction
    >>> p = RoutedPrediction(0.7, "canary", key="user-1")
    >>> p
    RoutedPrediction(variant='canary', key='user-1', output=0.7)
    >>> p.to_dict()
    {'output': 0.7, 'variant': 'canary', 'key': 'user-1'}
    """

    output: Any
    variant: str
    key: Any = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a dict (``output`` as returned by the model)."""
        return {"output": self.output, "variant": self.variant, "key": self.key}

    def __repr__(self) -> str:
        out = repr(self.output)
        if len(out) > 60:
            out = out[:57] + "..."
        return f"RoutedPrediction(variant={self.variant!r}, key={self.key!r}, output={out})"


def check_model(obj: Any, name: str) -> Any:
    """Return ``obj`` if it has a callable ``predict``, else raise ConfigurationError.

    Parameters
    ----------
    obj
        The model to check.
    name
        The argument's name, for the message.

    Returns
    -------
    Any
        ``obj`` unchanged.

    Examples
    --------
    >>> from mlkit.routing import check_model
    >>> check_model(object(), "canary")
    Traceback (most recent call last):
    ...
    mlkit.errors.ConfigurationError: canary must have a callable predict(X) ...
    """
    if not callable(getattr(obj, "predict", None)):
        raise ConfigurationError(
            f"{name} must have a callable predict(X) (the mlkit.protocols.Model protocol), "
            f"got {type(obj).__name__} {_short(obj)}",
            column=name,
            value=obj,
            expected="an object with a callable predict(X)",
        )
    return obj


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_pandas(X: Any) -> bool:
    return hasattr(X, "iloc") and type(X).__module__.startswith("pandas")


def _is_numpy(X: Any) -> bool:
    return type(X).__module__ == "numpy" and hasattr(X, "shape")


def n_rows(X: Any) -> int:
    """Return the number of rows of a batch (DataFrame, Series, ndarray or sequence)."""
    try:
        return len(X)
    except TypeError:
        raise DataError(
            f"a batch routed by key must have rows (DataFrame, ndarray, list), "
            f"got {type(X).__name__}",
            value=type(X).__name__,
            expected="a DataFrame, ndarray or list",
        ) from None


def iter_rows(X: Any) -> Iterable[Any]:
    """Yield the rows of a batch: dicts for a DataFrame, items otherwise (for ``key_fn``)."""
    if _is_pandas(X) and hasattr(X, "columns"):
        return X.to_dict("records")  # type: ignore[no-any-return]
    if _is_pandas(X):
        return list(X)
    return X  # type: ignore[no-any-return]


def _take(X: Any, mask: Sequence[bool], want: bool) -> Any:
    if _is_pandas(X):
        import numpy as np

        return X.iloc[np.asarray(mask, dtype=bool) == want]
    if _is_numpy(X):
        import numpy as np

        return X[np.asarray(mask, dtype=bool) == want]
    rows = [row for row, m in zip(X, mask, strict=True) if bool(m) == want]
    return tuple(rows) if isinstance(X, tuple) else rows


def split_batch(
    X: Any, keys: Sequence[Any] | None, chosen_mask: Sequence[bool]
) -> tuple[Any, list[Any] | None, Any, list[Any] | None]:
    """Split a batch and its keys by a boolean mask, keeping each part in row order.

    Parameters
    ----------
    X
        A DataFrame or Series (split with ``iloc``, index kept), an ndarray
        (split along the first axis) or a sequence (split into a list).
    keys
        One key per row, or None.
    chosen_mask
        One bool per row: True rows go to the "chosen" part.

    Returns
    -------
    tuple
        ``(rest_X, rest_keys, chosen_X, chosen_keys)``; the key lists are None
        when ``keys`` is None.

    Raises
    ------
    DataError
        When the mask or the keys do not have one entry per row.

    Examples
    --------
    >>> from mlkit.routing import split_batch
    >>> split_batch([10, 11, 12], ["a", "b", "c"], [False, True, False])
    ([10, 12], ['a', 'c'], [11], ['b'])
    """
    n = n_rows(X)
    if len(chosen_mask) != n:
        raise DataError(
            f"the mask has {len(chosen_mask)} entries for a batch of {n} rows",
            column="chosen_mask",
            value=len(chosen_mask),
            expected=f"{n} entries, one per row",
        )
    rest_keys = chosen_keys = None
    if keys is not None:
        if len(keys) != n:
            raise DataError(
                f"got {len(keys)} keys for a batch of {n} rows",
                column="key",
                value=len(keys),
                expected=f"{n} keys, one per row",
            )
        rest_keys = [k for k, m in zip(keys, chosen_mask, strict=True) if not m]
        chosen_keys = [k for k, m in zip(keys, chosen_mask, strict=True) if m]
    return _take(X, chosen_mask, False), rest_keys, _take(X, chosen_mask, True), chosen_keys


def _is_plain_sequence(out: Any) -> bool:
    return isinstance(out, (list, tuple))


def merge_outputs(rest_output: Any, chosen_output: Any, chosen_mask: Sequence[bool]) -> Any:
    """Re-assemble the outputs of the two parts of a split batch in the original row order.

    Parameters
    ----------
    rest_output
        The output for the rows where the mask is False (one entry per row).
    chosen_output
        The output for the rows where the mask is True.
    chosen_mask
        The mask the batch was split with.

    Returns
    -------
    list or numpy.ndarray
        A list when both outputs are lists or tuples; otherwise a numpy array
        (pandas outputs are converted with ``np.asarray``) whose dtype holds
        both parts and whose trailing dimensions are the outputs' (for
        ``predict_proba``-like ``(rows, classes)`` outputs).

    Raises
    ------
    DataError
        When an output does not have one entry per row of its part.

    Examples
    --------
    >>> from mlkit.routing import merge_outputs
    >>> merge_outputs(["p", "p"], ["c"], [False, True, False])
    ['p', 'c', 'p']
    >>> import numpy as np
    >>> merge_outputs(np.array([0.0, 0.0]), np.array([1.0]), [False, True, False])
    array([0., 1., 0.])
    """
    n_chosen = sum(1 for m in chosen_mask if m)
    n_rest = len(chosen_mask) - n_chosen
    for name, out, expected in (
        ("rest", rest_output, n_rest),
        ("chosen", chosen_output, n_chosen),
    ):
        got = n_rows(out)
        if got != expected:
            raise DataError(
                f"the model serving the {name} rows returned {got} outputs for {expected} rows",
                column=name,
                value=got,
                expected=f"{expected} outputs, one per row",
            )
    if _is_plain_sequence(rest_output) and _is_plain_sequence(chosen_output):
        rest_it, chosen_it = iter(rest_output), iter(chosen_output)
        return [next(chosen_it) if m else next(rest_it) for m in chosen_mask]
    import numpy as np

    rest = np.asarray(rest_output)
    chosen = np.asarray(chosen_output)
    # An empty part carries no trustworthy dtype or trailing shape (np.asarray([])
    # is float64, 1-D): take both from the part that has rows.
    if n_rest == 0:
        rest = rest.reshape((0, *chosen.shape[1:])).astype(chosen.dtype)
    if n_chosen == 0:
        chosen = chosen.reshape((0, *rest.shape[1:])).astype(rest.dtype)
    if rest.shape[1:] != chosen.shape[1:]:
        raise DataError(
            f"the two models returned outputs of different shapes per row: "
            f"{rest.shape[1:]} and {chosen.shape[1:]}",
            column="output",
            value=(rest.shape[1:], chosen.shape[1:]),
            expected="the same shape per row from both models",
        )
    mask = np.asarray(chosen_mask, dtype=bool)
    out = np.empty((len(mask), *rest.shape[1:]), dtype=np.result_type(rest, chosen))
    out[~mask] = rest
    out[mask] = chosen
    return out
