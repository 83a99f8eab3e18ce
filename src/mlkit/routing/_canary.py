"""Canary routing: a sticky share of the traffic, chosen by key, goes to a new model.

The read path takes no lock for routing: the weight and its precomputed bucket
threshold live in one tuple that ``set_weight`` replaces with a single
attribute assignment (atomic in CPython), so a request sees either the old or
the new weight, never half of each. Only the per-variant counters take a lock,
because ``+=`` on a shared int is a read-modify-write.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from mlkit.errors import ConfigurationError, DataError
from mlkit.routing._bucket import (
    DEFAULT_BUCKETS,
    _hasher,
    check_buckets,
    check_weight,
    key_bytes,
)
from mlkit.routing._routed import (
    RoutedPrediction,
    check_model,
    iter_rows,
    merge_outputs,
    n_rows,
    split_batch,
)

__all__ = ["CanaryRouter"]

logger = logging.getLogger(__name__)

# Keys of these exact types route a single record; lists, tuples, arrays and
# Series of keys route a batch row by row.
_SCALAR_KEYS = frozenset({str, bytes, int})
_VARIANTS = ("primary", "canary")


def routes_by_key(model: Any) -> bool:
    """Return whether ``model`` is a router that takes ``predict(X, key=...)``.

    Routers set the class attribute ``_mlkit_routes_by_key = True``; an outer
    router forwards the key to them so that nested routing stays sticky.
    """
    return getattr(type(model), "_mlkit_routes_by_key", False) is True


def check_callable(obj: Any, name: str) -> Any:
    """Return ``obj`` if it is None or callable, else raise ConfigurationError."""
    if obj is not None and not callable(obj):
        raise ConfigurationError(
            f"{name} must be callable or None, got {type(obj).__name__} {obj!r}",
            column=name,
            value=obj,
            expected="a callable or None",
        )
    return obj


def is_single_key(key: Any) -> bool:
    """Return whether ``key`` routes a single record (not a sequence of per-row keys)."""
    if type(key) in _SCALAR_KEYS:
        return True
    if isinstance(key, (str, bytes)):
        return True
    if isinstance(key, (list, tuple, range)):
        return False
    # Arrays, Series and Index hold per-row keys; a numpy scalar (ndim 0) is one key.
    return getattr(key, "ndim", 0) == 0


class CanaryRouter:
    """Send a sticky share of the traffic to a canary model, the rest to the primary.

    A request with a key goes to the canary when the key's bucket
    (:func:`mlkit.routing.bucket`) is below ``round(weight * buckets)``: the
    same key always gets the same model, in every process, and raising the
    weight keeps every key already in the canary. The router is itself a
    :class:`~mlkit.protocols.Model`, so it can wrap, or be wrapped by, other
    routers.

    Parameters
    ----------
    primary
        The model serving most traffic (anything with ``predict(X)``).
    canary
        The new model.
    weight
        The canary's share of keys, in [0, 1].
    salt
        Separates experiments: the same key is bucketed independently under
        different salts. Give nested canaries different salts, or the inner
        one only sees keys from the low buckets.
    key_fn
        Called on each row of a batch passed without ``key`` to get the row's
        key (rows of a DataFrame are dicts, of an ndarray 1-D arrays, of a
        list its items).
    on_route
        Called as ``on_route(variant, key, n_rows)`` after each routing
        decision, on the caller's thread: ``variant`` is ``"primary"`` or
        ``"canary"``; for a single record ``key`` is its key and ``n_rows``
        is 1; for a batch routed by key it is called once per variant that got
        rows, with the list of their keys and their number. Keep it cheap: it
        runs on the request path.
    buckets
        The number of buckets (the weight's resolution).

    Notes
    -----
    ``predict(X, key=k)`` with a single key (str, bytes or int; anything but a
    list, tuple, range or array) sends the whole of ``X`` to one model without
    looking at it: the single-record path. Without a key (and without
    ``key_fn``) each call draws ``random.random() < weight``: not sticky, the
    same caller may see both models. A batch with one key per row
    (a list, tuple, ndarray or Series), or with ``key_fn``, is split row by
    row, each part sent to its model once, and the outputs re-assembled in the
    original order (see :func:`mlkit.routing.merge_outputs`); a part with no
    rows is not predicted.

    Examples
    --------
    >>> from mlkit.routing import CanaryRouter
    >>> class Const:
    ...     def __init__(self, value):
    ...         self.value = value
    ...     def predict(self, X):
    ...         return [self.value] * len(X)
    >>> router = CanaryRouter(Const("v1"), Const("v2"), weight=0.5, salt="demo")
    >>> router.predict([[1.0, 2.0]], key="user-7") == router.predict([[3.0]], key="user-7")
    True
    >>> router.predict_routed([[1.0]], key="user-7").variant == router.route("user-7")
    True
    >>> router.predict([[0], [1], [2], [3]], key=["a", "b", "c", "d"])
    ['v2', 'v1', 'v1', 'v2']
    >>> router.set_weight(1.0)
    >>> router.route("a"), router.route("b")
    ('canary', 'canary')
    >>> router.counts()
    {'primary': 2, 'canary': 5}
    """

    _mlkit_routes_by_key = True

    def __init__(
        self,
        primary: Any,
        canary: Any,
        weight: float = 0.05,
        *,
        salt: str | bytes = "mlkit",
        key_fn: Callable[[Any], Any] | None = None,
        on_route: Callable[[str, Any, int], Any] | None = None,
        buckets: int = DEFAULT_BUCKETS,
    ) -> None:
        self._models = (check_model(primary, "primary"), check_model(canary, "canary"))
        self._keyed = (routes_by_key(primary), routes_by_key(canary))
        self._buckets = check_buckets(buckets)
        weight = check_weight(weight)
        self._salt = salt
        self._hasher = _hasher(salt)  # validates the salt's type
        self._key_fn = check_callable(key_fn, "key_fn")
        self._on_route = check_callable(on_route, "on_route")
        # (weight, threshold) replaced as one object: readers never see a mix.
        self._state = (weight, round(weight * self._buckets))
        self._write_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._counts = [0, 0]

    # ----------------------------------------------------------- configuration

    @property
    def weight(self) -> float:
        """The canary's current share of keys."""
        return self._state[0]

    @property
    def salt(self) -> str | bytes:
        """The salt keys are bucketed with."""
        return self._salt

    @property
    def buckets(self) -> int:
        """The number of buckets."""
        return self._buckets

    @property
    def primary(self) -> Any:
        """The primary model."""
        return self._models[0]

    @property
    def canary(self) -> Any:
        """The canary model."""
        return self._models[1]

    def set_weight(self, weight: float) -> None:
        """Change the canary's share at run time; thread-safe.

        Parameters
        ----------
        weight
            The new share, in [0, 1]. Raising it keeps every key already in
            the canary; lowering it moves keys back to the primary.

        Raises
        ------
        ConfigurationError
            When ``weight`` is not a number in [0, 1]; the weight is unchanged.

        Examples
        --------
        >>> from mlkit.routing import CanaryRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> router = CanaryRouter(M(), M(), weight=0.05)
        >>> router.set_weight(0.25)
        >>> router.weight
        0.25
        """
        weight = check_weight(weight)
        with self._write_lock:
            old = self._state[0]
            self._state = (weight, round(weight * self._buckets))
        logger.info("canary weight changed from %s to %s", old, weight)

    def counts(self) -> dict[str, int]:
        """Return how many predictions each variant served.

        A single-record call counts one; a batch routed by key counts one per row.

        Examples
        --------
        >>> from mlkit.routing import CanaryRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> CanaryRouter(M(), M()).counts()
        {'primary': 0, 'canary': 0}
        """
        with self._count_lock:
            primary, canary = self._counts
        return {"primary": primary, "canary": canary}

    # ----------------------------------------------------------------- routing

    def _index(self, key: Any) -> int:
        """0 for the primary, 1 for the canary."""
        if key is None:
            return 1 if random.random() < self._state[0] else 0
        h = self._hasher.copy()
        h.update(key.encode() if type(key) is str else key_bytes(key))
        return 1 if int.from_bytes(h.digest(), "little") % self._buckets < self._state[1] else 0

    def route(self, key: Any = None) -> str:
        """Return the variant a request with ``key`` goes to now, without predicting.

        Parameters
        ----------
        key
            The routing key; None draws at random with the current weight.

        Returns
        -------
        str
            ``"primary"`` or ``"canary"``.

        Examples
        --------
        >>> from mlkit.routing import CanaryRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> CanaryRouter(M(), M(), weight=0.0).route("anyone")
        'primary'
        """
        return _VARIANTS[self._index(key)]

    def _predict_one(self, X: Any, key: Any) -> tuple[Any, int]:
        i = self._index(key)
        with self._count_lock:
            self._counts[i] += 1
        if self._on_route is not None:
            self._on_route(_VARIANTS[i], key, 1)
        if self._keyed[i]:
            return self._models[i].predict(X, key=key), i
        return self._models[i].predict(X), i

    def _batch_keys(self, X: Any, key: Any) -> list[Any]:
        if key is None:
            assert self._key_fn is not None
            keys = [self._key_fn(row) for row in iter_rows(X)]
        else:
            keys = list(key)
        n = n_rows(X)
        if len(keys) != n:
            raise DataError(
                f"got {len(keys)} keys for a batch of {n} rows",
                column="key",
                value=len(keys),
                expected=f"{n} keys, one per row",
            )
        return keys

    def _call(self, i: int, X: Any, keys: list[Any]) -> Any:
        if self._keyed[i]:
            return self._models[i].predict(X, key=keys)
        return self._models[i].predict(X)

    def _predict_batch(self, X: Any, key: Any) -> tuple[Any, list[bool], list[Any]]:
        keys = self._batch_keys(X, key)
        # One threshold for the whole batch, even if set_weight runs meanwhile.
        threshold = self._state[1]
        base, buckets = self._hasher, self._buckets
        mask = []
        for k in keys:
            h = base.copy()
            h.update(key_bytes(k))
            mask.append(int.from_bytes(h.digest(), "little") % buckets < threshold)
        n_canary = sum(mask)
        n_primary = len(mask) - n_canary
        with self._count_lock:
            self._counts[0] += n_primary
            self._counts[1] += n_canary
        if n_canary == 0 or n_primary == 0:
            i = 1 if n_canary else 0
            output = self._call(i, X, keys)
            if self._on_route is not None:
                self._on_route(_VARIANTS[i], keys, len(keys))
            return output, mask, keys
        rest_X, rest_keys, chosen_X, chosen_keys = split_batch(X, keys, mask)
        assert rest_keys is not None
        assert chosen_keys is not None
        rest_out = self._call(0, rest_X, rest_keys)
        chosen_out = self._call(1, chosen_X, chosen_keys)
        if self._on_route is not None:
            self._on_route("primary", rest_keys, n_primary)
            self._on_route("canary", chosen_keys, n_canary)
        return merge_outputs(rest_out, chosen_out, mask), mask, keys

    def predict(self, X: Any, key: Any = None) -> Any:
        """Predict with the variant(s) the key(s) route to.

        Parameters
        ----------
        X
            One record (whatever the models accept, passed through untouched)
            or a batch (DataFrame, ndarray, list) when ``key`` holds one key
            per row or ``key_fn`` is set.
        key
            A single key (str, bytes, int, or any non-sequence), one key per
            row (list, tuple, ndarray, Series), or None (``key_fn`` per row if
            set, else a random non-sticky draw for the whole call).

        Returns
        -------
        Any
            The serving model's output; for a batch split between the models,
            a list (both returned lists) or a numpy array, in the original row
            order.

        Raises
        ------
        DataError
            When the number of keys differs from the number of rows.
        """
        if key is None:
            if self._key_fn is None:
                return self._predict_one(X, None)[0]
            return self._predict_batch(X, None)[0]
        if type(key) is str or is_single_key(key):
            return self._predict_one(X, key)[0]
        return self._predict_batch(X, key)[0]

    def predict_routed(self, X: Any, key: Any = None) -> Any:
        """Like :meth:`predict`, also saying which variant served each prediction.

        Returns
        -------
        RoutedPrediction or list of RoutedPrediction
            One :class:`RoutedPrediction` for a single record (its ``output``
            is the model's whole output); for a batch routed by key, one per
            row with that row's output and key. The variant is this router's
            (``"primary"`` or ``"canary"``), also when the model is itself a
            router.

        Examples
        --------
        >>> from mlkit.routing import CanaryRouter
        >>> class Name:
        ...     def __init__(self, name):
        ...         self.name = name
        ...     def predict(self, X):
        ...         return [self.name] * len(X)
        >>> router = CanaryRouter(Name("old"), Name("new"), weight=0.5, salt="doc")
        >>> routed = router.predict_routed([[1], [2]], key=["b", "c"])
        >>> [(p.key, p.variant, p.output) for p in routed]
        [('b', 'primary', 'old'), ('c', 'canary', 'new')]
        """
        if (
            type(key) is str
            or (key is None and self._key_fn is None)
            or (key is not None and is_single_key(key))
        ):
            output, i = self._predict_one(X, key)
            return RoutedPrediction(output, _VARIANTS[i], key)
        output, mask, keys = self._predict_batch(X, key)
        if hasattr(output, "iloc"):
            output = output.to_numpy()
        return [
            RoutedPrediction(output[j], _VARIANTS[int(m)], k)
            for j, (m, k) in enumerate(zip(mask, keys, strict=True))
        ]

    def __repr__(self) -> str:
        primary, canary = (type(m).__name__ for m in self._models)
        return (
            f"CanaryRouter(primary={primary}, canary={canary}, weight={self.weight}, "
            f"salt={self._salt!r})"
        )
