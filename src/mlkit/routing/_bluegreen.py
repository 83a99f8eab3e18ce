"""Blue-green routing: all traffic to one of two models, switched atomically.

The serving model is one tuple attribute; a request reads it once, so it is
served wholly by the model that was active when it arrived. ``switch`` and
``rollback`` replace that tuple under a lock, which serialises switches (and
their preflight checks) without ever blocking a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import ConfigurationError, ConflictError, MlkitError
from mlkit.protocols import Clock
from mlkit.routing._canary import check_callable, routes_by_key
from mlkit.routing._routed import RoutedPrediction, check_model

__all__ = ["BlueGreenRouter", "PreflightError", "SwitchRecord"]

logger = logging.getLogger(__name__)

_NAMES = ("blue", "green")


class PreflightError(MlkitError, RuntimeError):
    """The preflight check rejected the idle model, so the switch was aborted."""


@attrs.frozen(repr=False)
class SwitchRecord:
    """One switch of a :class:`BlueGreenRouter`.

    Parameters
    ----------
    time
        POSIX seconds (from the router's clock) when the switch took effect.
    from_variant
        ``"blue"`` or ``"green"``: what served before.
    to_variant
        What serves after.
    reason
        Why: the text given to ``switch``/``rollback``, or ``"switch"`` /
        ``"rollback"``.

    Examples
    --------
    >>> from mlkit.routing import SwitchRecord
    >>> r = SwitchRecord(100.0, "blue", "green", "v2 passed the gate")
    >>> r
    SwitchRecord(blue->green at 100.0: 'v2 passed the gate')
    >>> r.to_dict()["to_variant"]
    'green'
    """

    time: float
    from_variant: str
    to_variant: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-safe dict."""
        return attrs.asdict(self)

    def __repr__(self) -> str:
        return (
            f"SwitchRecord({self.from_variant}->{self.to_variant} at {self.time}: {self.reason!r})"
        )


class BlueGreenRouter:
    """Serve all traffic from one of two models and switch between them atomically.

    Parameters
    ----------
    blue, green
        The two models (anything with ``predict(X)``).
    active
        Which one serves first: ``"blue"`` or ``"green"``.
    preflight
        Optional ``preflight(idle_model) -> bool`` called before each
        :meth:`switch`: a falsy result or an exception aborts the switch with
        :class:`PreflightError` (the reason is logged) and traffic stays where
        it was. It runs on the caller's thread while requests keep being
        served.
    on_route
        Called as ``on_route(variant, key, 1)`` for each prediction, on the
        caller's thread. Keep it cheap.
    clock
        The time source for :attr:`history` (default: the system clock).

    Examples
    --------
    >>> from mlkit.routing import BlueGreenRouter
    >>> class Name:
    ...     def __init__(self, name):
    ...         self.name = name
    ...     def predict(self, X):
    ...         return [self.name] * len(X)
    >>> router = BlueGreenRouter(Name("v1"), Name("v2"))
    >>> router.predict([[1.0]])
    ['v1']
    >>> router.switch("v2 passed the gate")
    'green'
    >>> router.predict_routed([[1.0]])
    RoutedPrediction(variant='green', key=None, output=['v2'])
    >>> router.rollback("error rate up")
    'blue'
    >>> [(h.from_variant, h.to_variant) for h in router.history]
    [('blue', 'green'), ('green', 'blue')]
    """

    _mlkit_routes_by_key = True

    def __init__(
        self,
        blue: Any,
        green: Any,
        active: str = "blue",
        *,
        preflight: Callable[[Any], Any] | None = None,
        on_route: Callable[[str, Any, int], Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._models = (check_model(blue, "blue"), check_model(green, "green"))
        self._keyed = (routes_by_key(blue), routes_by_key(green))
        if active not in _NAMES:
            raise ConfigurationError(
                f"active must be 'blue' or 'green', got {active!r}",
                column="active",
                value=active,
                expected="'blue' or 'green'",
            )
        self._preflight = check_callable(preflight, "preflight")
        self._on_route = check_callable(on_route, "on_route")
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError(
                f"clock must have a now() method, got {type(clock).__name__}",
                column="clock",
                value=clock,
                expected="an mlkit.protocols.Clock or None",
            )
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._current = self._entry(_NAMES.index(active))
        self._switch_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._counts = [0, 0]
        self._history: list[SwitchRecord] = []

    def _entry(self, i: int) -> tuple[int, Any, bool]:
        return (i, self._models[i], self._keyed[i])

    @property
    def active(self) -> str:
        """The variant serving now: ``"blue"`` or ``"green"``."""
        return _NAMES[self._current[0]]

    @property
    def idle(self) -> str:
        """The variant not serving now."""
        return _NAMES[1 - self._current[0]]

    @property
    def blue(self) -> Any:
        """The blue model."""
        return self._models[0]

    @property
    def green(self) -> Any:
        """The green model."""
        return self._models[1]

    @property
    def history(self) -> tuple[SwitchRecord, ...]:
        """Every switch and rollback that took effect, oldest first."""
        with self._switch_lock:
            return tuple(self._history)

    def counts(self) -> dict[str, int]:
        """Return how many predictions each variant served.

        Examples
        --------
        >>> from mlkit.routing import BlueGreenRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> router = BlueGreenRouter(M(), M())
        >>> _ = router.predict([1])
        >>> router.counts()
        {'blue': 1, 'green': 0}
        """
        with self._count_lock:
            blue, green = self._counts
        return {"blue": blue, "green": green}

    def _flip(self, reason: str) -> str:
        # Called with _switch_lock held.
        old = self._current[0]
        self._current = self._entry(1 - old)
        record = SwitchRecord(float(self._clock.now()), _NAMES[old], _NAMES[1 - old], reason)
        self._history.append(record)
        logger.info("blue-green: %s -> %s (%s)", _NAMES[old], _NAMES[1 - old], reason)
        return _NAMES[1 - old]

    def switch(self, reason: str | None = None) -> str:
        """Send all traffic to the idle model, after its preflight check passes.

        Parameters
        ----------
        reason
            Recorded in :attr:`history` (default ``"switch"``).

        Returns
        -------
        str
            The variant now active.

        Raises
        ------
        PreflightError
            When ``preflight(idle_model)`` returned a falsy value or raised;
            nothing changed.

        Examples
        --------
        >>> from mlkit.routing import BlueGreenRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> router = BlueGreenRouter(M(), M(), preflight=lambda model: False)
        >>> router.switch()
        Traceback (most recent call last):
        ...
        mlkit.routing._bluegreen.PreflightError: preflight check of 'green' failed ...
        >>> router.active
        'blue'
        """
        with self._switch_lock:
            idle = 1 - self._current[0]
            if self._preflight is not None:
                try:
                    ok = self._preflight(self._models[idle])
                    why = f"preflight returned {ok!r}"
                except Exception as exc:
                    ok, why = False, f"preflight raised {type(exc).__name__}: {exc}"
                if not ok:
                    logger.warning(
                        "blue-green switch to %s aborted: %s; %s keeps serving",
                        _NAMES[idle],
                        why,
                        _NAMES[1 - idle],
                    )
                    raise PreflightError(
                        f"preflight check of {_NAMES[idle]!r} failed ({why}); the switch was "
                        f"aborted and {_NAMES[1 - idle]!r} keeps serving",
                        column="preflight",
                        value=_NAMES[idle],
                        expected="a truthy preflight result",
                    )
            return self._flip(reason or "switch")

    def rollback(self, reason: str | None = None) -> str:
        """Undo the last switch at once, without a preflight check.

        The previous model was serving until the switch, so it is not checked
        again: a rollback must not be blocked by a slow or failing check.

        Parameters
        ----------
        reason
            Recorded in :attr:`history` (default ``"rollback"``).

        Returns
        -------
        str
            The variant now active.

        Raises
        ------
        ConflictError
            When there was no switch to undo.

        Examples
        --------
        >>> from mlkit.routing import BlueGreenRouter
        >>> class M:
        ...     def predict(self, X):
        ...         return X
        >>> BlueGreenRouter(M(), M()).rollback()
        Traceback (most recent call last):
        ...
        mlkit.errors.ConflictError: nothing to roll back: no switch has happened yet
        """
        with self._switch_lock:
            if not self._history:
                raise ConflictError(
                    "nothing to roll back: no switch has happened yet",
                    column="history",
                    value=0,
                    expected="at least one switch",
                )
            return self._flip(reason or "rollback")

    def predict(self, X: Any, key: Any = None) -> Any:
        """Predict with the active model.

        Parameters
        ----------
        X
            Passed to the active model untouched (one record or a batch).
        key
            Not used for choosing; forwarded to the active model when it is
            itself a router, so nested canaries stay sticky.

        Returns
        -------
        Any
            The active model's output.
        """
        i, model, keyed = self._current  # one read: a switch never splits a request
        with self._count_lock:
            self._counts[i] += 1
        if self._on_route is not None:
            self._on_route(_NAMES[i], key, 1)
        if keyed:
            return model.predict(X, key=key)
        return model.predict(X)

    def predict_routed(self, X: Any, key: Any = None) -> RoutedPrediction:
        """Like :meth:`predict`, returning a :class:`RoutedPrediction` naming the variant."""
        i, model, keyed = self._current
        with self._count_lock:
            self._counts[i] += 1
        if self._on_route is not None:
            self._on_route(_NAMES[i], key, 1)
        output = model.predict(X, key=key) if keyed else model.predict(X)
        return RoutedPrediction(output, _NAMES[i], key)

    def __repr__(self) -> str:
        blue, green = (type(m).__name__ for m in self._models)
        return f"BlueGreenRouter(blue={blue}, green={green}, active={self.active!r})"
