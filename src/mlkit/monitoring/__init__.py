"""Monitoring: Prometheus instrumentation, drift and performance monitors, alert rules.

Wraps a model to export prediction counts, latency and score distributions to
an injected Prometheus registry, watches streaming inputs for drift against a
reference, joins late labels to predictions, and evaluates alert rules.
"""

__all__: list[str] = []
