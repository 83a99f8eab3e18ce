"""mlkit: small, composable MLOps primitives.

Importing :mod:`mlkit` is cheap: it loads no pandas, scipy, scikit-learn or
pandera. The subpackages load those when they are first used:

- :mod:`mlkit.versioning`: content hashes, artifact stores, run tracking, model registry.
- :mod:`mlkit.validation`: schemas inferred from reference data, expectations, quality reports.
- :mod:`mlkit.drift`: column-vectorised drift statistics, a fitted detector, mergeable profiles.
- :mod:`mlkit.testing`: behavioural, fairness, performance and latency checks; pytest plugin.
- :mod:`mlkit.routing`: canary, shadow, blue-green and progressive rollout.
- :mod:`mlkit.monitoring`: Prometheus instrumentation, drift and performance monitors, alerts.
- :mod:`mlkit.retraining`: triggers, a retraining controller, a promotion gate.
- :mod:`mlkit.reports`: self-contained HTML and JSON reports.
- :mod:`mlkit.demo`: the end-to-end lifecycle demo behind ``mlkit demo``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlkit import (
        demo,
        drift,
        errors,
        features,
        monitoring,
        pipeline,
        protocols,
        reports,
        retraining,
        routing,
        testing,
        validation,
        versioning,
    )

__all__ = [
    "__version__",
    "demo",
    "drift",
    "errors",
    "features",
    "monitoring",
    "pipeline",
    "protocols",
    "reports",
    "retraining",
    "routing",
    "testing",
    "validation",
    "versioning",
]

_SUBMODULES = frozenset(__all__) - {"__version__"}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlkit")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    # Lazy attributes keep `import mlkit` light; each is cached on first use.
    if name == "__version__":
        value: Any = _version()
    elif name in _SUBMODULES:
        value = importlib.import_module(f"mlkit.{name}")
    else:
        raise AttributeError(f"module 'mlkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
