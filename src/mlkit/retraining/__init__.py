"""Continuous training: triggers, a retraining controller and a promotion gate.

Decides when to retrain (schedule, performance, drift, volume, with cool-down
and hysteresis), calls the user's training callable, and promotes a challenger
only when it beats the champion without breaking behaviour or fairness.
"""

__all__: list[str] = []
