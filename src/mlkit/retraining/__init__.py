"""Continuous training: triggers, a retraining controller and a promotion gate.

Decides when to retrain (schedule, performance, drift, volume, with cool-down
and hysteresis), calls the user's training callable, and promotes a challenger
only when it beats the champion without breaking behaviour or fairness.
"""

from mlkit.retraining._controller import Decision, RetrainingController
from mlkit.retraining._gate import (
    BehavioralCheck,
    CheckOutcome,
    FairnessCheck,
    GateCheck,
    GateResult,
    LatencyCheck,
    MetricThreshold,
    NotSignificantlyWorse,
    PromotionGate,
)
from mlkit.retraining._triggers import (
    All,
    Any,
    DriftTrigger,
    PerformanceTrigger,
    ScheduleTrigger,
    State,
    Trigger,
    TriggerOutcome,
    VolumeTrigger,
)

__all__ = [
    "All",
    "Any",
    "BehavioralCheck",
    "CheckOutcome",
    "Decision",
    "DriftTrigger",
    "FairnessCheck",
    "GateCheck",
    "GateResult",
    "LatencyCheck",
    "MetricThreshold",
    "NotSignificantlyWorse",
    "PerformanceTrigger",
    "PromotionGate",
    "RetrainingController",
    "ScheduleTrigger",
    "State",
    "Trigger",
    "TriggerOutcome",
    "VolumeTrigger",
]
