"""Routing between model versions inside any Python serving app.

Stable request bucketing, canary, shadow, blue-green and progressive rollout.
Every router wraps objects that satisfy :class:`mlkit.protocols.Model` and is
itself a model, so routers nest.
"""

from mlkit.routing._bluegreen import BlueGreenRouter, PreflightError, SwitchRecord
from mlkit.routing._bucket import bucket, in_rollout
from mlkit.routing._canary import CanaryRouter
from mlkit.routing._rollout import BUILTIN_METRICS, Decision, ProgressiveRollout, Threshold
from mlkit.routing._routed import RoutedPrediction, check_model, merge_outputs, split_batch
from mlkit.routing._shadow import ShadowRouter, ShadowStats

__all__ = [
    "BUILTIN_METRICS",
    "BlueGreenRouter",
    "CanaryRouter",
    "Decision",
    "PreflightError",
    "ProgressiveRollout",
    "RoutedPrediction",
    "ShadowRouter",
    "ShadowStats",
    "SwitchRecord",
    "Threshold",
    "bucket",
    "check_model",
    "in_rollout",
    "merge_outputs",
    "split_batch",
]
