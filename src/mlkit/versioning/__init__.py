"""Versioning: content hashes, artifact stores, run tracking and a model registry.

Hash the data a model was trained on, record the run, register the model with
its lineage (data hashes, code commit, params, metrics) and point aliases such
as ``champion`` at a version. The embedded back end is one SQLite file and a
content-addressed artifact folder in a workspace directory.
"""

__all__: list[str] = []
