"""The mlkit pytest plugin, registered through the ``pytest11`` entry point.

It is active whenever mlkit is installed. Fixtures:

- ``mlkit_rng``: a :class:`numpy.random.Generator` seeded from the session seed
  and the test's id, so a test draws the same numbers whatever runs before it.
  The session seed comes from ``--mlkit-seed`` or the ``mlkit_seed`` ini option
  (default 0; ``random`` draws a fresh one) and is printed in the header.
- ``mlkit_clock``: a :class:`mlkit.clock.FakeClock` at a fixed start time.
- ``mlkit_metrics_registry``: a fresh ``prometheus_client.CollectorRegistry``.

Markers: ``model``, ``fairness``, ``behavioral`` and ``slow``.

Only pytest is imported at module level: numpy and prometheus_client load when
a test first asks for their fixture, so the plugin costs test suites that do
not use it nothing.
"""

from __future__ import annotations

import secrets
import zlib
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import numpy as np
    from prometheus_client import CollectorRegistry

    from mlkit.clock import FakeClock

__all__ = ["mlkit_clock", "mlkit_metrics_registry", "mlkit_rng"]

DEFAULT_SEED = 0
#: Start time of ``mlkit_clock``: 2024-01-01T00:00:00Z, far from 0 so that
#: code subtracting durations never sees negative times.
CLOCK_START = 1_704_067_200.0

MARKERS = {
    "model": "a test of a trained model's quality or behaviour",
    "fairness": "a fairness test across groups of a sensitive feature",
    "behavioral": "a behavioural (invariance, directional, minimum functionality) test",
    "slow": "a slow test; deselect with -m 'not slow'",
}

_seed_key = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--mlkit-seed`` and the ``mlkit_seed`` ini option."""
    group = parser.getgroup("mlkit")
    group.addoption(
        "--mlkit-seed",
        action="store",
        default=None,
        metavar="SEED",
        help="session seed for the mlkit_rng fixture: an integer or 'random'.",
    )
    parser.addini(
        "mlkit_seed",
        help="session seed for the mlkit_rng fixture: an integer or 'random'.",
        default=str(DEFAULT_SEED),
    )


def _parse_seed(raw: str) -> int:
    text = raw.strip().lower()
    if text == "random":
        return secrets.randbelow(2**32)
    try:
        seed = int(text)
    except ValueError:
        raise pytest.UsageError(
            f"mlkit seed must be a non-negative integer or 'random', got {raw!r}"
        ) from None
    if seed < 0:
        raise pytest.UsageError(f"mlkit seed must be a non-negative integer, got {raw!r}")
    return seed


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and fix the session seed."""
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    raw = config.getoption("mlkit_seed")
    if raw is None:
        raw = str(config.getini("mlkit_seed"))
    config.stash[_seed_key] = _parse_seed(raw)


def pytest_report_header(config: pytest.Config) -> str:
    """Print the session seed so a failing run can be replayed."""
    return f"mlkit: seed={config.stash[_seed_key]} (replay with --mlkit-seed)"


def session_seed(config: pytest.Config) -> int:
    """Return the session seed the plugin chose for ``config``."""
    return config.stash[_seed_key]


@pytest.fixture
def mlkit_rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """Return a seeded :class:`numpy.random.Generator`, distinct per test and reproducible."""
    import numpy as np

    test_key = zlib.crc32(request.node.nodeid.encode("utf-8"))
    return np.random.default_rng([session_seed(request.config), test_key])


@pytest.fixture
def mlkit_clock() -> FakeClock:
    """Return a :class:`~mlkit.clock.FakeClock` starting at 2024-01-01T00:00:00Z."""
    from mlkit.clock import FakeClock

    return FakeClock(start=CLOCK_START)


@pytest.fixture
def mlkit_metrics_registry() -> CollectorRegistry:
    """Return a fresh, empty ``prometheus_client.CollectorRegistry`` for one test."""
    from prometheus_client import CollectorRegistry

    return CollectorRegistry(auto_describe=True)
