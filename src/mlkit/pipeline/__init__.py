"""Pipeline steps cached by the content hashes of their inputs.

A step is a plain function whose output is stored in the artifact store under
a key made of the hashes of its inputs, its parameters and its code version;
the same inputs never run twice. Steps stay plain callables, so Prefect,
Kedro or Dagster can wrap them unchanged.
"""

from mlkit.pipeline._step import CacheInfo, Step, step

__all__ = ["CacheInfo", "Step", "step"]
