"""Shadow traffic: send a copy of live requests to a candidate model, off the caller's thread.

Design
------
The caller's thread runs the primary model, decides whether to sample the
request, and appends ``(key, X, primary_output)`` to a
:class:`queue.SimpleQueue` (a C-level append, no lock taken by us). That is
the whole cost of shadowing on the live path.

``workers`` daemon threads take items off the queue and call the shadow
model. Nothing is ever raised back to the caller:

* the queue is bounded by ``max_pending``: when ``qsize()`` has reached it the
  item is *dropped* (counted), never waited for;
* an exception from the shadow model is counted as *failed*;
* a call that runs longer than ``timeout`` is counted as *timed_out*. Python
  cannot kill a thread, so the call is not interrupted: each worker records
  the start time of its current call, :meth:`ShadowRouter.stats` counts a call
  still running past its deadline as timed out, and when such a call finally
  returns its result is discarded (not passed to ``on_compare``);
* an exception from ``on_compare`` is counted as *compare_failed*.

``close()`` stops accepting new shadow work, lets the workers drain what is
queued, and joins them. The primary keeps serving after ``close()``.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any

import attrs

from mlkit.errors import ConfigurationError
from mlkit.protocols import Model
from mlkit.routing._bucket import DEFAULT_BUCKETS, bucket, check_weight
from mlkit.routing._canary import routes_by_key
from mlkit.routing._routed import check_model

__all__ = ["ShadowRouter", "ShadowStats"]

logger = logging.getLogger(__name__)

# Tells a worker to exit; queued after every real item, so the queue drains first.
_STOP = object()

CompareCallback = Callable[[Any, Any, Any], object]


@attrs.frozen
class ShadowStats:
    """Counters of a :class:`ShadowRouter` since it was created.

    Every call to ``predict`` while the router is open lands in exactly one of
    ``sampled_out``, ``dropped`` or ``submitted``. Every submitted item ends in
    exactly one of ``completed``, ``failed`` or ``timed_out`` once the workers
    have processed it (see :attr:`pending`).

    Parameters
    ----------
    submitted
        Requests queued for the shadow model.
    completed
        Shadow calls that returned within ``timeout``.
    failed
        Shadow calls that raised (within ``timeout``).
    timed_out
        Shadow calls that ran longer than ``timeout``, including calls still
        running past their deadline when the stats were taken.
    dropped
        Sampled requests not queued because ``max_pending`` items were
        already waiting (or queued concurrently with ``close()``).
    sampled_out
        Requests the sampling rate skipped.
    compare_failed
        ``on_compare`` calls that raised.

    Examples
    --------
    >>> from mlkit.routing import ShadowStats
    >>> s = ShadowStats(submitted=3, completed=2, failed=1)
    >>> s.pending
    0
    >>> s.to_dict()["completed"]
    2
    """

    submitted: int = 0
    completed: int = 0
    failed: int = 0
    timed_out: int = 0
    dropped: int = 0
    sampled_out: int = 0
    compare_failed: int = 0

    @property
    def pending(self) -> int:
        """Submitted items not yet finished (queued, or running within their deadline)."""
        return self.submitted - self.completed - self.failed - self.timed_out

    def to_dict(self) -> dict[str, int]:
        """Return the counters as a JSON-safe dict."""
        return attrs.asdict(self)


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            f"{name} must be an integer >= 1, got {value!r}",
            column=name,
            value=value,
            expected="an integer >= 1",
        )
    return value


class ShadowRouter:
    """Serve the primary model and mirror sampled requests to a shadow model.

    The caller always gets the primary's output, computed on its own thread.
    Sampled requests are queued to a small pool of background threads that
    call ``shadow.predict`` on the same input and, when it returns in time,
    pass both outputs to ``on_compare``. Shadow errors, timeouts, a full queue
    and ``on_compare`` errors are counted in :meth:`stats`, never raised. The
    router is itself a model, so it nests inside other routers.

    Parameters
    ----------
    primary
        The live model (anything with ``predict``).
    shadow
        The model under evaluation (anything with ``predict``).
    sample
        Share of requests mirrored, in [0, 1]. With a ``key`` the decision is
        sticky (a stable hash of the key with ``salt``, the same in every
        process); without one it is a fresh random draw per call.
    timeout
        Seconds a shadow call may run. Later results are counted as
        ``timed_out`` and discarded; the call itself is not interrupted.
    max_pending
        Most items waiting in the queue; beyond it shadow work is dropped
        rather than slowing the caller. Under concurrent callers it may be
        exceeded by at most the number of callers racing past the check.
    workers
        Background threads calling the shadow model.
    on_compare
        ``on_compare(key, primary_output, shadow_output)``, called on a worker
        thread for every shadow call that completed in time.
    salt
        Salt of the sampling hash; the same salt gives the same keys.

    Notes
    -----
    The shadow model receives the very object passed to ``predict`` (no copy,
    to keep the caller's path cheap): do not mutate ``X`` after the call
    returns, and the shadow model must not mutate it either.

    Examples
    --------
    >>> from mlkit.routing import ShadowRouter
    >>> class Double:
    ...     def predict(self, X):
    ...         return [2 * x for x in X]
    >>> class Triple:
    ...     def predict(self, X):
    ...         return [3 * x for x in X]
    >>> seen = []
    >>> def compare(key, primary_output, shadow_output):
    ...     seen.append((key, primary_output, shadow_output))
    >>> with ShadowRouter(Double(), Triple(), on_compare=compare) as router:
    ...     router.predict([1, 2], key="req-1")
    [2, 4]
    >>> seen
    [('req-1', [2, 4], [3, 6])]
    >>> router.stats()
    ShadowStats(submitted=1, completed=1, failed=0, timed_out=0, dropped=0,
                sampled_out=0, compare_failed=0)
    """

    # Outer routers pass their key on, so sampling stays sticky per key when nested.
    _mlkit_routes_by_key = True

    def __init__(
        self,
        primary: Model,
        shadow: Model,
        *,
        sample: float = 1.0,
        timeout: float = 1.0,
        max_pending: int = 1000,
        workers: int = 1,
        on_compare: CompareCallback | None = None,
        salt: str | bytes = "mlkit",
    ) -> None:
        check_model(primary, "primary")
        check_model(shadow, "shadow")
        sample = check_weight(sample, "sample")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(
                f"timeout must be a number of seconds > 0, got {timeout!r}",
                column="timeout",
                value=timeout,
                expected="a number of seconds > 0",
            )
        _check_positive_int(max_pending, "max_pending")
        _check_positive_int(workers, "workers")
        if on_compare is not None and not callable(on_compare):
            raise ConfigurationError(
                f"on_compare must be callable or None, got {on_compare!r}",
                column="on_compare",
                value=on_compare,
                expected="a callable (key, primary_output, shadow_output) or None",
            )
        bucket("", salt=salt)  # validates the salt now rather than on the first keyed call
        self._primary: Any = primary  # a Model, or a router taking key=
        self._shadow: Any = shadow
        self._primary_keyed = routes_by_key(primary)
        self._shadow_keyed = routes_by_key(shadow)
        self._sample = sample
        self._timeout = float(timeout)
        self._max_pending = max_pending
        self._on_compare = on_compare
        self._salt = salt
        # Precomputed so the hot path compares ints; matches in_rollout's rounding.
        self._threshold = round(self._sample * DEFAULT_BUCKETS)
        self._sample_all = self._sample >= 1.0
        self._sample_none = self._sample <= 0.0

        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Counters are compound updates from several threads, so they take a lock;
        # an uncontended acquire costs well under a microsecond.
        self._lock = threading.Lock()
        self._submitted = 0
        self._completed = 0
        self._failed = 0
        self._timed_out = 0
        self._dropped = 0
        self._sampled_out = 0
        self._compare_failed = 0
        # Start time (time.monotonic) of each worker's current shadow call, None when idle.
        self._started: list[float | None] = [None] * workers
        self._closed = False
        self._close_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, args=(i,), name=f"mlkit-shadow-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # -- the caller's path -------------------------------------------------

    def predict(self, X: Any, key: Hashable | None = None) -> Any:
        """Return the primary's prediction and queue a shadow call if sampled.

        Parameters
        ----------
        X
            Input passed unchanged to both models.
        key
            Optional request or user id: it makes sampling sticky and is
            passed to ``on_compare``. One key per call (a batch is sampled as
            a whole).

        Returns
        -------
        Any
            ``primary.predict(X)``, whatever happens to the shadow call.

        Examples
        --------
        >>> from mlkit.routing import ShadowRouter
        >>> class Echo:
        ...     def predict(self, X):
        ...         return X
        >>> router = ShadowRouter(Echo(), Echo(), sample=0.0)
        >>> router.predict([5])
        [5]
        >>> router.close()
        >>> router.predict([6])  # still serves the primary after close
        [6]
        """
        output = (
            self._primary.predict(X, key=key)
            if self._primary_keyed and key is not None
            else self._primary.predict(X)
        )
        if self._closed:
            return output
        if not self._sample_all and (
            self._sample_none
            or (
                random.random() >= self._sample
                if key is None
                else bucket(key, salt=self._salt) >= self._threshold
            )
        ):
            with self._lock:
                self._sampled_out += 1
            return output
        if self._queue.qsize() >= self._max_pending:
            with self._lock:
                self._dropped += 1
            return output
        with self._lock:
            self._submitted += 1
        self._queue.put((key, X, output))
        return output

    def sampled(self, key: Hashable) -> bool:
        """Return whether requests with ``key`` are mirrored (sticky for a given salt).

        Examples
        --------
        >>> from mlkit.routing import ShadowRouter
        >>> class Echo:
        ...     def predict(self, X):
        ...         return X
        >>> with ShadowRouter(Echo(), Echo(), sample=1.0) as router:
        ...     router.sampled("user-42")
        True
        """
        if self._sample_all:
            return True
        if self._sample_none:
            return False
        return bucket(key, salt=self._salt) < self._threshold

    # -- the workers ---------------------------------------------------------

    def _work(self, slot: int) -> None:
        get = self._queue.get
        started = self._started
        timeout = self._timeout
        while True:
            item = get()
            if item is _STOP:
                return
            key, X, primary_output = item
            start = time.monotonic()
            started[slot] = start
            try:
                shadow_output = (
                    self._shadow.predict(X, key=key)
                    if self._shadow_keyed and key is not None
                    else self._shadow.predict(X)
                )
            except Exception:
                late = time.monotonic() - start > timeout
                with self._lock:
                    started[slot] = None
                    if late:
                        self._timed_out += 1
                    else:
                        self._failed += 1
                logger.debug("shadow model raised (key=%r)", key, exc_info=True)
                continue
            late = time.monotonic() - start > timeout
            with self._lock:
                started[slot] = None
                if late:
                    self._timed_out += 1
                else:
                    self._completed += 1
            if late or self._on_compare is None:
                continue
            try:
                self._on_compare(key, primary_output, shadow_output)
            except Exception:
                with self._lock:
                    self._compare_failed += 1
                logger.debug("on_compare raised (key=%r)", key, exc_info=True)

    # -- inspection and lifecycle -------------------------------------------

    def stats(self) -> ShadowStats:
        """Return a consistent snapshot of the counters.

        A shadow call still running past its ``timeout`` is counted in
        ``timed_out`` already.

        Examples
        --------
        >>> from mlkit.routing import ShadowRouter
        >>> class Echo:
        ...     def predict(self, X):
        ...         return X
        >>> with ShadowRouter(Echo(), Echo(), sample=0.0) as router:
        ...     _ = router.predict([1])
        >>> router.stats().sampled_out
        1
        """
        now = time.monotonic()
        with self._lock:
            overdue = sum(
                1 for start in self._started if start is not None and now - start > self._timeout
            )
            return ShadowStats(
                submitted=self._submitted,
                completed=self._completed,
                failed=self._failed,
                timed_out=self._timed_out + overdue,
                dropped=self._dropped,
                sampled_out=self._sampled_out,
                compare_failed=self._compare_failed,
            )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the primary still serves)."""
        return self._closed

    @property
    def sample(self) -> float:
        """The share of requests mirrored to the shadow model."""
        return self._sample

    def close(self, timeout: float | None = None) -> None:
        """Stop mirroring, let the workers finish queued work, and join them.

        Parameters
        ----------
        timeout
            Most seconds to wait for the workers in total; ``None`` waits
            until the queue is drained. Workers still busy afterwards (a hung
            shadow model) are daemon threads and are left to finish; a
            warning is logged.

        Examples
        --------
        >>> from mlkit.routing import ShadowRouter
        >>> class Echo:
        ...     def predict(self, X):
        ...         return X
        >>> router = ShadowRouter(Echo(), Echo())
        >>> _ = router.predict([1])
        >>> router.close()
        >>> router.stats().completed
        1
        """
        with self._close_lock:
            if not self._closed:
                self._closed = True
                for _ in self._threads:
                    self._queue.put(_STOP)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning(
                "ShadowRouter.close: %d shadow worker(s) still busy after %ss: %s",
                len(alive),
                timeout,
                ", ".join(alive),
            )
            return
        # A caller that passed the closed check just before close() may have queued
        # behind the stop markers; nobody will run that work, so count it as dropped.
        leftover = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                leftover += 1
        if leftover:
            with self._lock:
                self._submitted -= leftover
                self._dropped += leftover

    def __enter__(self) -> ShadowRouter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"ShadowRouter(primary={type(self._primary).__name__}, "
            f"shadow={type(self._shadow).__name__}, sample={self._sample}, {state})"
        )
