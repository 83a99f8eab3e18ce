"""Feature data helpers: point-in-time correct joins of features to entities."""

from mlkit.features._pit import point_in_time_join

__all__ = [
    "point_in_time_join",
]
