"""Model testing: behavioural, fairness, performance and latency checks.

Invariance, directional and minimum-functionality tests, fairness metrics by
group with confidence intervals, and assert-style helpers whose failures read
like pytest's. The pytest plugin (:mod:`mlkit.pytest_plugin`) hands out
seeded random generators, fake clocks and metric registries as fixtures.
"""

__all__: list[str] = []
