"""Routing between model versions inside any Python serving app.

Stable request bucketing, canary, shadow, blue-green and progressive rollout.
Every router wraps objects that satisfy :class:`mlkit.protocols.Model` and is
itself a model, so routers nest.
"""

__all__: list[str] = []
