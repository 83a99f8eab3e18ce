"""Versioning: content hashes, artifact stores, run tracking and a model registry.

Hash the data a model was trained on, record the run, register the model with
its lineage (data hashes, code commit, params, metrics) and point aliases such
as ``champion`` at a version. The embedded back end is one SQLite file and a
content-addressed artifact folder in a workspace directory.
"""

from mlkit.versioning._artifacts import (
    FsspecArtifactStore,
    LocalArtifactStore,
    StoreCheck,
    check_key,
    check_name,
)
from mlkit.versioning._hash import (
    ALGORITHM,
    DatasetVersion,
    DirManifest,
    ManifestEntry,
    hash_array,
    hash_bytes,
    hash_dir,
    hash_file,
    hash_frame,
    hash_object,
)
from mlkit.versioning._registry import (
    AliasChange,
    Lineage,
    ModelRegistry,
    ModelVersion,
    parse_model_uri,
)
from mlkit.versioning._sqlite import SqliteStore
from mlkit.versioning._tracking import ArtifactRecord, Run, RunInfo, Tracker
from mlkit.versioning._workspace import Workspace, WorkspaceCheck

__all__ = [
    "ALGORITHM",
    "AliasChange",
    "ArtifactRecord",
    "DatasetVersion",
    "DirManifest",
    "FsspecArtifactStore",
    "Lineage",
    "LocalArtifactStore",
    "ManifestEntry",
    "ModelRegistry",
    "ModelVersion",
    "Run",
    "RunInfo",
    "SqliteStore",
    "StoreCheck",
    "Tracker",
    "Workspace",
    "WorkspaceCheck",
    "check_key",
    "check_name",
    "hash_array",
    "hash_bytes",
    "hash_dir",
    "hash_file",
    "hash_frame",
    "hash_object",
    "parse_model_uri",
]
