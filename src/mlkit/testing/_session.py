"""Where check results go when something collects them.

Every ``check_*`` and ``assert_*`` helper of :mod:`mlkit.testing` calls
:func:`record` with its result. Nothing happens unless a collector is active:
the pytest plugin's ``--mlkit-report PATH`` installs one for the session and
writes what it gathered as JSON. The module imports nothing heavy, so the
plugin can use it at no cost.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["collecting", "json_safe", "record"]

_lock = threading.Lock()
_collectors: list[Callable[[dict[str, Any]], None]] = []


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON types.

    NaN and infinities become None, numpy scalars Python numbers; mappings and
    sequences are converted recursively; anything else becomes its ``str``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item) and getattr(value, "ndim", 1) == 0:
        return json_safe(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return json_safe(tolist())
    return str(value)


def record(kind: str, name: str, passed: bool, **details: Any) -> None:
    """Hand one check result to every active collector.

    Parameters
    ----------
    kind
        What was checked: ``"invariance"``, ``"directional"``,
        ``"minimum_functionality"``, ``"fairness"``, ``"metric"``,
        ``"latency"``, ``"comparison"``...
    name
        A readable label of this check (the perturbation, metric or feature).
    passed
        The verdict.
    details
        Numbers worth keeping (rates, thresholds, counts), made JSON-safe.
    """
    with _lock:
        targets = list(_collectors)
    if not targets:
        return
    payload = {"kind": kind, "name": name, "passed": bool(passed), **json_safe(details)}
    for collect in targets:
        collect(dict(payload))


@contextmanager
def collecting() -> Iterator[list[dict[str, Any]]]:
    """Collect every result recorded inside the block into the yielded list.

    Examples
    --------
    >>> with collecting() as results:
    ...     record("metric", "accuracy", True, value=0.91, min=0.85)
    >>> results
    [{'kind': 'metric', 'name': 'accuracy', 'passed': True, 'value': 0.91, 'min': 0.85}]
    """
    results: list[dict[str, Any]] = []
    with _lock:
        _collectors.append(results.append)
    try:
        yield results
    finally:
        with _lock:
            _collectors.remove(results.append)
