"""The mlkit pytest plugin, registered through the ``pytest11`` entry point.

It is active whenever mlkit is installed. Fixtures:

- ``mlkit_rng``: a :class:`numpy.random.Generator` seeded from the session seed
  and the test's id, so a test draws the same numbers whatever runs before it.
  The session seed comes from ``--mlkit-seed`` or the ``mlkit_seed`` ini option
  (default 0; ``random`` draws a fresh one) and is printed in the header.
- ``mlkit_clock``: a :class:`mlkit.clock.FakeClock` at a fixed start time.
- ``mlkit_metrics_registry``: a fresh ``prometheus_client.CollectorRegistry``.
- ``mlkit_model_check``: a :class:`ModelCheck`, the :mod:`mlkit.testing`
  assertions bound to the test's seed (``.metric``, ``.latency``,
  ``.not_worse``, ``.invariance``, ``.directional``, ``.fairness``, ...).
- ``mlkit_toy_classifier`` / ``mlkit_toy_regressor``: a small fitted
  scikit-learn pipeline with its data (:class:`mlkit.testing.ToyModel`), built
  once per session from a fixed seed.

Markers: ``model``, ``fairness``, ``behavioral`` and ``slow``.

``--mlkit-report PATH`` writes a JSON summary of every mlkit check the session
ran (kind, name, verdict, numbers, and the id of the test that ran it).

Only pytest is imported at module level: numpy and prometheus_client load when
a test first asks for their fixture, so the plugin costs test suites that do
not use it nothing.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import zlib
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import numpy as np
    from prometheus_client import CollectorRegistry

    from mlkit.clock import FakeClock
    from mlkit.testing import (
        BehaviorResult,
        Comparison,
        FairnessResult,
        GroupMetrics,
        LatencyResult,
        MetricResult,
        ToyModel,
    )

__all__ = [
    "ModelCheck",
    "mlkit_clock",
    "mlkit_metrics_registry",
    "mlkit_model_check",
    "mlkit_rng",
    "mlkit_toy_classifier",
    "mlkit_toy_regressor",
]

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
    """Add ``--mlkit-seed``, ``--mlkit-report`` and the ``mlkit_seed`` ini option."""
    group = parser.getgroup("mlkit")
    group.addoption(
        "--mlkit-seed",
        action="store",
        default=None,
        metavar="SEED",
        help="session seed for the mlkit_rng fixture: an integer or 'random'.",
    )
    group.addoption(
        "--mlkit-report",
        action="store",
        default=None,
        metavar="PATH",
        help="write a JSON summary of every mlkit check run in the session to PATH.",
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
    """Register the markers, fix the session seed and set up ``--mlkit-report``."""
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    raw = config.getoption("mlkit_seed")
    if raw is None:
        raw = str(config.getini("mlkit_seed"))
    config.stash[_seed_key] = _parse_seed(raw)
    report = config.getoption("mlkit_report")
    if report:
        path = Path(config.invocation_params.dir, report)
        config.pluginmanager.register(_Reporter(config, path), _REPORTER_NAME)


def pytest_report_header(config: pytest.Config) -> str:
    """Print the session seed so a failing run can be replayed."""
    return f"mlkit: seed={config.stash[_seed_key]} (replay with --mlkit-seed)"


def session_seed(config: pytest.Config) -> int:
    """Return the session seed the plugin chose for ``config``."""
    return config.stash[_seed_key]


def _test_entropy(request: pytest.FixtureRequest) -> list[int]:
    """Return what seeds a test's randomness: the session seed and a hash of the test's id."""
    return [session_seed(request.config), zlib.crc32(request.node.nodeid.encode("utf-8"))]


@pytest.fixture
def mlkit_rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """Return a seeded :class:`numpy.random.Generator`, distinct per test and reproducible."""
    import numpy as np

    return np.random.default_rng(_test_entropy(request))


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


# --- model checks ------------------------------------------------------------


class ModelCheck:
    """The :mod:`mlkit.testing` assertions, bound to one test's seed.

    Handed out by the ``mlkit_model_check`` fixture. Each method calls the
    assertion it is named after with the same arguments, and passes
    ``random_state=check.seed`` to those that draw random numbers unless the
    test gives its own. The seed derives from the session seed and the test's
    id, like ``mlkit_rng``, without drawing from that generator: a test's
    checks are reproducible and replay under ``--mlkit-seed``.

    Attributes
    ----------
    seed
        The test's seed, an integer.
    rng
        The test's ``mlkit_rng`` generator, for drawing test data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> check = ModelCheck(seed=7, rng=np.random.default_rng(7))
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> check.metric(model, X, [0, 0, 1, 1], "accuracy", min=0.75)
    MetricResult(accuracy=1, min=0.75, n=4, passed)
    """

    def __init__(self, *, seed: int, rng: np.random.Generator) -> None:
        self.seed = seed
        self.rng = rng

    def __repr__(self) -> str:
        return f"ModelCheck(seed={self.seed})"

    def _seeded(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("random_state", self.seed)
        return kwargs

    def metric(
        self,
        model: Any,
        X: Any,
        y: Any,
        metric: Any = "accuracy",
        *,
        min: float | None = None,
        max: float | None = None,
        name: str | None = None,
    ) -> MetricResult:
        """Run :func:`mlkit.testing.assert_metric`."""
        __tracebackhide__ = True
        from mlkit.testing import assert_metric

        return assert_metric(model, X, y, metric, min=min, max=max, name=name)

    def latency(self, model: Any, example: Any, **kwargs: Any) -> LatencyResult:
        """Run :func:`mlkit.testing.assert_latency` (``p99_below=...`` and the like)."""
        __tracebackhide__ = True
        from mlkit.testing import assert_latency

        return assert_latency(model, example, **kwargs)

    def compare(
        self,
        candidate: Any,
        baseline: Any,
        X: Any,
        y: Any,
        metrics: Any = ("accuracy",),
        **kwargs: Any,
    ) -> Comparison:
        """Run :func:`mlkit.testing.compare_models` with the test's seed (no assertion)."""
        __tracebackhide__ = True
        from mlkit.testing import compare_models

        return compare_models(candidate, baseline, X, y, metrics, **self._seeded(kwargs))

    def not_worse(
        self,
        candidate: Any,
        baseline: Any,
        X: Any,
        y: Any,
        metric: Any = "accuracy",
        margin: float = 0.0,
        **kwargs: Any,
    ) -> Comparison:
        """Run :func:`mlkit.testing.assert_not_worse` with the test's seed."""
        __tracebackhide__ = True
        from mlkit.testing import assert_not_worse

        return assert_not_worse(candidate, baseline, X, y, metric, margin, **self._seeded(kwargs))

    def invariance(self, model: Any, X: Any, perturb: Any, **kwargs: Any) -> BehaviorResult:
        """Run :func:`mlkit.testing.assert_invariance` with the test's seed."""
        __tracebackhide__ = True
        from mlkit.testing import assert_invariance

        return assert_invariance(model, X, perturb, **self._seeded(kwargs))

    def directional(self, model: Any, X: Any, perturb: Any, **kwargs: Any) -> BehaviorResult:
        """Run :func:`mlkit.testing.assert_directional` with the test's seed."""
        __tracebackhide__ = True
        from mlkit.testing import assert_directional

        return assert_directional(model, X, perturb, **self._seeded(kwargs))

    def minimum_functionality(
        self, model: Any, cases: Any, expected: Any, **kwargs: Any
    ) -> BehaviorResult:
        """Run :func:`mlkit.testing.assert_minimum_functionality`."""
        __tracebackhide__ = True
        from mlkit.testing import assert_minimum_functionality

        return assert_minimum_functionality(model, cases, expected, **kwargs)

    def fairness(
        self, y_true: Any, y_pred: Any, sensitive_features: Any, **kwargs: Any
    ) -> FairnessResult:
        """Run :func:`mlkit.testing.assert_fairness` (``max_difference=...`` and the like)."""
        __tracebackhide__ = True
        from mlkit.testing import assert_fairness

        return assert_fairness(y_true, y_pred, sensitive_features, **kwargs)

    def four_fifths(
        self, y_true: Any, y_pred: Any, sensitive_features: Any, **kwargs: Any
    ) -> FairnessResult:
        """Run :func:`mlkit.testing.assert_four_fifths`."""
        __tracebackhide__ = True
        from mlkit.testing import assert_four_fifths

        return assert_four_fifths(y_true, y_pred, sensitive_features, **kwargs)

    def group_metrics(
        self, y_true: Any, y_pred: Any, sensitive_features: Any, **kwargs: Any
    ) -> GroupMetrics:
        """Run :func:`mlkit.testing.group_metrics` with the test's seed (no assertion)."""
        __tracebackhide__ = True
        from mlkit.testing import group_metrics

        return group_metrics(y_true, y_pred, sensitive_features, **self._seeded(kwargs))


@pytest.fixture
def mlkit_model_check(
    request: pytest.FixtureRequest, mlkit_rng: np.random.Generator
) -> ModelCheck:
    """Return a :class:`ModelCheck` bound to this test's seed and ``mlkit_rng``."""
    import numpy as np

    seed = int(np.random.SeedSequence(_test_entropy(request)).generate_state(1)[0])
    return ModelCheck(seed=seed, rng=mlkit_rng)


@pytest.fixture(scope="session")
def mlkit_toy_classifier() -> ToyModel:
    """Return a fitted toy classifier with its data (:func:`mlkit.testing.make_toy_classifier`).

    Built once per session and shared by every test that asks for it: do not
    change its frames in place (``toy.copy()`` gives frames you may change).
    """
    from mlkit.testing import make_toy_classifier

    return make_toy_classifier()


@pytest.fixture(scope="session")
def mlkit_toy_regressor() -> ToyModel:
    """Return a fitted toy regressor with its data (:func:`mlkit.testing.make_toy_regressor`).

    Built once per session and shared by every test that asks for it: do not
    change its frames in place (``toy.copy()`` gives frames you may change).
    """
    from mlkit.testing import make_toy_regressor

    return make_toy_regressor()


# --- --mlkit-report ----------------------------------------------------------

_REPORTER_NAME = "mlkit-report"


class _Reporter:
    """Collects every check recorded during the session and writes them as JSON at its end."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.checks: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()
        self._written = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from mlkit.testing import _session

        self.checks = self._stack.enter_context(_session.collecting())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        # Setup, call and teardown all run inside this hook, so checks made in
        # fixtures are credited to the test too.
        start = len(self.checks)
        try:
            return (yield)
        finally:
            for check in self.checks[start:]:
                check.setdefault("nodeid", item.nodeid)

    def summary(self) -> dict[str, Any]:
        """Return the JSON document: version, seed, every check and the totals."""
        import mlkit

        checks = [{"nodeid": c.get("nodeid"), **c} for c in self.checks]
        by_kind: dict[str, dict[str, int]] = {}
        for check in checks:
            counts = by_kind.setdefault(str(check["kind"]), {"passed": 0, "failed": 0})
            counts["passed" if check["passed"] else "failed"] += 1
        passed = sum(1 for check in checks if check["passed"])
        return {
            "mlkit_version": mlkit.__version__,
            "seed": session_seed(self.config),
            "checks": checks,
            "totals": {
                "passed": passed,
                "failed": len(checks) - passed,
                "by_kind": dict(sorted(by_kind.items())),
            },
        }

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stack.close()
        _write_json(self.path, self.summary())
        self._written = True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._written:
            failed = sum(1 for check in self.checks if not check["passed"])
            terminalreporter.write_line(
                f"mlkit: {len(self.checks)} checks ({failed} failed) written to {self.path}"
            )

    def pytest_unconfigure(self) -> None:
        self._stack.close()


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically: a temporary file, then a rename."""
    from mlkit._atomic import atomic_open

    with atomic_open(path) as handle:
        json.dump(document, handle, indent=2, allow_nan=False)
        handle.write("\n")
