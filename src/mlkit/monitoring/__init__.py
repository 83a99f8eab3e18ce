"""Monitoring: Prometheus instrumentation, drift and performance monitors, alert rules.

Wraps a model to export prediction counts, latency and score distributions to
an injected Prometheus registry, watches streaming inputs for drift against a
reference, joins late labels to predictions, and evaluates alert rules.
"""

from mlkit.monitoring._alerts import (
    Alert,
    AlertManager,
    AlertRule,
    CallbackNotifier,
    LoggingNotifier,
    WebhookNotifier,
)
from mlkit.monitoring._drift_monitor import DriftMonitor, WindowReport
from mlkit.monitoring._instrument import MonitoredModel
from mlkit.monitoring._performance import MetricsResult, PerformanceMonitor
from mlkit.monitoring._registry import default_registry, set_default_registry

__all__ = [
    "Alert",
    "AlertManager",
    "AlertRule",
    "CallbackNotifier",
    "DriftMonitor",
    "LoggingNotifier",
    "MetricsResult",
    "MonitoredModel",
    "PerformanceMonitor",
    "WebhookNotifier",
    "WindowReport",
    "default_registry",
    "set_default_registry",
]
