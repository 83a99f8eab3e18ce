"""The Prometheus registry mlkit's monitors export to, and shared metric families.

mlkit never writes to ``prometheus_client.REGISTRY`` implicitly: every monitor
takes a ``registry`` argument, and when it is None uses mlkit's own explicit
default, :func:`default_registry`, which the application can replace with
:func:`set_default_registry` (for example with ``prometheus_client.REGISTRY``
to have mlkit's metrics served by ``start_http_server()`` unchanged).

prometheus_client raises when the same metric name is registered twice in one
registry, yet several monitors (two ``MonitoredModel`` of different versions,
say) share one family and differ only by label values. :func:`family` creates
each family once per registry and hands the same object to every later caller.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary

from mlkit.errors import ConfigurationError

__all__ = ["default_registry", "family", "set_default_registry"]

_KINDS: dict[str, type[Any]] = {
    "counter": Counter,
    "gauge": Gauge,
    "histogram": Histogram,
    "summary": Summary,
}

# One lock for both the default and the family table: creation is rare (once
# per family per registry), so contention does not matter, and one lock cannot
# deadlock against itself in a different order.
_LOCK = threading.Lock()
_default: CollectorRegistry | None = None
# Keyed weakly so that a registry dropped by a test (or an app) takes its
# families with it instead of pinning them for the life of the process.
_FAMILIES: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, tuple[Any, tuple[Any, ...]]]] = (
    weakref.WeakKeyDictionary()
)


def default_registry() -> CollectorRegistry:
    """Return the registry monitors use when given ``registry=None``.

    It is a :class:`prometheus_client.CollectorRegistry` of mlkit's own,
    created on first use (not ``prometheus_client.REGISTRY``) unless replaced
    with :func:`set_default_registry`. Serve it with, for example,
    ``prometheus_client.make_wsgi_app(registry=default_registry())``.

    Returns
    -------
    prometheus_client.CollectorRegistry
        The current default registry (the same object on every call until
        :func:`set_default_registry` replaces it).

    Examples
    --------
    >>> from mlkit.monitoring import default_registry
    >>> default_registry() is default_registry()
    True
    """
    global _default
    registry = _default
    if registry is None:
        with _LOCK:
            if _default is None:
                _default = CollectorRegistry()
            registry = _default
    return registry


def set_default_registry(registry: CollectorRegistry | None) -> CollectorRegistry | None:
    """Replace the registry monitors use when given ``registry=None``.

    Monitors created before the call keep the registry they were built with.

    Parameters
    ----------
    registry
        The new default, or None to go back to a fresh mlkit registry on the
        next :func:`default_registry` call.

    Returns
    -------
    prometheus_client.CollectorRegistry or None
        The previous default (None if none had been created yet), so a test
        can restore it.

    Raises
    ------
    ConfigurationError
        If ``registry`` is not a ``CollectorRegistry`` or None.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> from mlkit.monitoring import default_registry, set_default_registry
    >>> mine = CollectorRegistry()
    >>> previous = set_default_registry(mine)
    >>> default_registry() is mine
    True
    >>> _ = set_default_registry(previous)
    """
    global _default
    if registry is not None and not isinstance(registry, CollectorRegistry):
        raise ConfigurationError(
            f"registry must be a prometheus_client.CollectorRegistry or None, "
            f"got {type(registry).__name__} {registry!r}",
            column="registry",
            value=registry,
            expected="a CollectorRegistry or None",
        )
    with _LOCK:
        previous, _default = _default, registry
    return previous


def resolve_registry(registry: CollectorRegistry | None) -> CollectorRegistry:
    """Return ``registry``, or the default one if None; reject anything else.

    Raises
    ------
    ConfigurationError
        If ``registry`` is neither None nor a ``CollectorRegistry``.
    """
    if registry is None:
        return default_registry()
    if not isinstance(registry, CollectorRegistry):
        raise ConfigurationError(
            f"registry must be a prometheus_client.CollectorRegistry or None, "
            f"got {type(registry).__name__} {registry!r}",
            column="registry",
            value=registry,
            expected="a CollectorRegistry or None",
        )
    return registry


def family(
    registry: CollectorRegistry | None,
    kind: str,
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    **kwargs: Any,
) -> Any:
    """Return the metric family ``name`` in ``registry``, creating it on first use.

    Thread-safe: concurrent callers get the same object. Every monitor on a
    registry shares the family and only picks its own label values (cache
    ``family.labels(...)`` once per label set: ``labels`` takes a lock).

    Parameters
    ----------
    registry
        Where the family lives; None means :func:`default_registry`.
    kind
        ``"counter"``, ``"gauge"``, ``"histogram"`` or ``"summary"``.
    name
        The metric name. For a counter, leave off ``_total``: prometheus_client
        appends it (``"mlkit_predictions"`` is exposed as
        ``mlkit_predictions_total``).
    documentation
        The HELP text (used only when the family is created).
    labelnames
        The label names; must match on every call for the same name.
    **kwargs
        Passed to the metric's constructor (``buckets=`` for a histogram,
        ``multiprocess_mode=`` for a gauge); must match on every call.

    Returns
    -------
    prometheus_client.Counter, Gauge, Histogram or Summary
        The shared family.

    Raises
    ------
    ConfigurationError
        If ``kind`` is unknown, or ``name`` already exists in the registry with
        another kind, other label names or other arguments, or was registered
        in the registry by something other than this function.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> from mlkit.monitoring._registry import family
    >>> registry = CollectorRegistry()
    >>> a = family(registry, "counter", "demo_requests", "Requests.", ("route",))
    >>> b = family(registry, "counter", "demo_requests", "Requests.", ("route",))
    >>> a is b
    True
    >>> a.labels(route="/predict").inc()
    >>> registry.get_sample_value("demo_requests_total", {"route": "/predict"})
    1.0
    """
    cls = _KINDS.get(kind)
    if cls is None:
        raise ConfigurationError(
            f"kind must be one of {sorted(_KINDS)}, got {kind!r}",
            column="kind",
            value=kind,
            expected=f"one of {sorted(_KINDS)}",
        )
    registry = resolve_registry(registry)
    labels = tuple(labelnames)
    # Buckets may come as a list or a tuple; compare them as tuples.
    signature = (kind, labels, tuple(sorted((k, _freeze(v)) for k, v in kwargs.items())))
    with _LOCK:
        table = _FAMILIES.setdefault(registry, {})
        found = table.get(name)
        if found is not None:
            metric, existing = found
            if existing != signature:
                raise ConfigurationError(
                    f"metric {name!r} already exists in this registry as {_describe(existing)}, "
                    f"asked for {_describe(signature)}",
                    column=name,
                    value=_describe(signature),
                    expected=_describe(existing),
                )
            return metric
        try:
            metric = cls(name, documentation, labels, registry=registry, **kwargs)
        except ValueError as exc:
            # Most often "Duplicated timeseries": the name was registered in
            # this registry directly, not through family().
            raise ConfigurationError(
                f"cannot create {kind} {name!r} with labels {list(labels)}: {exc}",
                column=name,
                value=kwargs or list(labels),
                expected="a name not registered in the registry outside mlkit.monitoring",
            ) from exc
        table[name] = (metric, signature)
        return metric


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(float(v) if isinstance(v, (int, float)) else v for v in value)
    return value


def _describe(signature: tuple[Any, ...]) -> str:
    kind, labels, kwargs = signature
    extra = "".join(f", {k}={v!r}" for k, v in kwargs)
    return f"{kind} with labels {list(labels)}{extra}"
