import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlkit.clock import FakeClock
from mlkit.errors import DataError, IntegrityError, NotFoundError
from mlkit.versioning import (
    AliasChange,
    ModelRegistry,
    Tracker,
    Workspace,
    hash_frame,
    parse_model_uri,
)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def registry(workspace: Workspace) -> ModelRegistry:
    return ModelRegistry(workspace, clock=FakeClock(start=100.0), user="alice")


def _model(seed: int = 0) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 3))
    return LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))


def test_register_numbers_versions_and_loads_exact_model(registry: ModelRegistry) -> None:
    m1, m2 = _model(1), _model(2)
    v1 = registry.register("fraud", m1, tags={"owner": "risk"}, description="first")
    v2 = registry.register("fraud", m2)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.uri == "models:/fraud/1"
    assert v1.tags == {"owner": "risk"}
    assert v1.description == "first"
    assert v1.model_class == "sklearn.linear_model._logistic.LogisticRegression"
    assert v1.environment["mlkit.version.scikit-learn"]
    loaded = registry.load("models:/fraud/1")
    np.testing.assert_array_equal(loaded.coef_, m1.coef_)
    latest = registry.load("models:/fraud/latest")
    np.testing.assert_array_equal(latest.coef_, m2.coef_)
    assert registry.load(v1).coef_.tolist() == m1.coef_.tolist()
    assert [v.version for v in registry.list_versions("fraud")] == [1, 2]
    assert registry.list_models() == ["fraud"]
    json.dumps(v1.to_dict())


def test_aliases_move_and_are_audited(registry: ModelRegistry) -> None:
    registry.register("fraud", _model(1))
    registry.register("fraud", _model(2))
    registry.set_alias("fraud", "champion", 1)
    assert registry.get_by_alias("fraud", "champion").version == 1
    assert registry.get_version("fraud", 1).aliases == ("champion",)
    registry.set_alias("fraud", "champion", 2)
    registry.set_alias("fraud", "champion", 2)  # no change, no log entry
    registry.set_alias("fraud", "challenger", 1)
    registry.delete_alias("fraud", "challenger")
    assert registry.load("models:/fraud@champion").coef_.tolist() == _model(2).coef_.tolist()
    history = registry.alias_history("fraud")
    assert history == [
        AliasChange("fraud", "champion", None, 1, "alice", 100.0),
        AliasChange("fraud", "champion", 1, 2, "alice", 100.0),
        AliasChange("fraud", "challenger", None, 1, "alice", 100.0),
        AliasChange("fraud", "challenger", 1, None, "alice", 100.0),
    ]
    with pytest.raises(NotFoundError, match="no alias 'challenger'"):
        registry.get_by_alias("fraud", "challenger")
    with pytest.raises(NotFoundError, match="to delete"):
        registry.delete_alias("fraud", "challenger")


def test_version_tags(registry: ModelRegistry) -> None:
    registry.register("m", _model())
    registry.set_version_tag("m", 1, "validated", True)
    assert registry.get_version("m", 1).tags == {"validated": "True"}
    registry.set_version_tag("m", 1, "validated", None)
    assert registry.get_version("m", 1).tags == {}


def test_missing_things_raise_not_found(registry: ModelRegistry) -> None:
    with pytest.raises(NotFoundError, match="no registered model named 'ghost'"):
        registry.load("models:/ghost/1")
    registry.register("m", _model())
    with pytest.raises(NotFoundError, match="no version 7"):
        registry.get_version("m", 7)
    with pytest.raises(NotFoundError):
        registry.set_alias("m", "champion", 7)
    with pytest.raises(NotFoundError):
        registry.register("m", _model(), run="no-such-run")


@pytest.mark.parametrize(
    "uri",
    ["fraud", "models:/", "models:/fraud", "models:/fraud/0", "models:/fraud/x", "models:/a/b/1"],
)
def test_bad_uris(registry: ModelRegistry, uri: str) -> None:
    with pytest.raises(DataError):
        registry.load(uri)


@pytest.mark.parametrize("name", ["", "..", "a/b", "a@b", "../../etc", "x\x00", "a:b"])
def test_bad_model_names(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(DataError, match="model name"):
        registry.register(name, _model())


@pytest.mark.parametrize("alias", ["latest", "1", "", "has space", "a/b", 3])
def test_bad_aliases(registry: ModelRegistry, alias: object) -> None:
    registry.register("m", _model())
    with pytest.raises(DataError, match="alias"):
        registry.set_alias("m", alias, 1)  # type: ignore[arg-type]


def test_bad_version(registry: ModelRegistry) -> None:
    registry.register("m", _model())
    for version in (0, -1, "1", True, 1.0):
        with pytest.raises(DataError, match="version"):
            registry.set_alias("m", "champion", version)  # type: ignore[arg-type]


def test_parse_model_uri() -> None:
    assert parse_model_uri("models:/a.b-c_d/12") == ("a.b-c_d", 12)
    assert parse_model_uri("models:/m@latest") == ("m", "latest")
    assert parse_model_uri("models:/m/latest") == ("m", "latest")


def test_tampered_model_is_refused_before_unpickling(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    version = registry.register("m", _model())
    hexdigest = version.artifact_key.split(":", 1)[1]
    path = registry.workspace.path / "artifacts" / "sha256" / hexdigest[:2] / hexdigest[2:]
    assert path.is_file()
    # Replace the model by a pickle that would run code when loaded.
    payload = (
        b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."  # a classic pickle exploit
    )
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(payload)
    with pytest.raises(IntegrityError, match=version.artifact_key):
        registry.load("models:/m/1")
    assert not marker.exists()
    check = registry.workspace.verify()
    assert not check.ok
    assert check.corrupt == (version.artifact_key,)


def test_lineage_chain(workspace: Workspace) -> None:
    tracker = Tracker(workspace)
    registry = ModelRegistry(workspace)
    train = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20) % 2})
    with tracker.start_run("study") as study, tracker.start_run("trial") as run:
        run.log_dataset(train, role="train")
        run.log_dataset(train.head(5), role="validation")
        run.log_params({"C": 1.0})
        model = LogisticRegression().fit(train[["x"]], train["y"])
        version = registry.register("m", model, run=run, signature=train[["x"]])
    lineage = registry.lineage("m", version.version)
    assert lineage.run is not None
    assert lineage.run.run_id == run.id
    assert [p.run_id for p in lineage.parents] == [study.id]
    assert [(r, d.hash) for r, d in lineage.datasets] == [
        ("train", hash_frame(train)),
        ("validation", hash_frame(train.head(5))),
    ]
    assert lineage.commit == lineage.run.tags.get("mlkit.git.commit")
    assert version.signature == {"inputs": [{"name": "x", "dtype": "float64"}]}
    assert "<- train data sha256:" in str(lineage)
    json.dumps(lineage.to_dict())


def test_lineage_without_run(registry: ModelRegistry) -> None:
    registry.register("m", _model())
    lineage = registry.lineage("m", 1)
    assert lineage.run is None
    assert lineage.datasets == ()
    assert lineage.commit is None


def test_signature_must_be_json(registry: ModelRegistry) -> None:
    with pytest.raises(DataError, match="JSON"):
        registry.register("m", _model(), signature={"f": object()})
    with pytest.raises(DataError, match="signature"):
        registry.register("m", _model(), signature=[1, 2])  # type: ignore[arg-type]


class BareStore:
    """An ArtifactStore with only the protocol's methods, in memory."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        import hashlib

        key = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[key] = bytes(data)
        return key

    def put_file(self, path: str | os.PathLike[str]) -> str:
        return self.put(Path(path).read_bytes())

    def get(self, key: str) -> bytes:
        import hashlib

        data = self.blobs[key]
        if "sha256:" + hashlib.sha256(data).hexdigest() != key:
            raise IntegrityError(f"{key} does not match", value=key)
        return data

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def keys(self) -> Iterator[str]:
        return iter(list(self.blobs))


def test_a_plugged_artifact_store_works_end_to_end(tmp_path: Path) -> None:
    store = BareStore()
    workspace = Workspace(tmp_path / "ws", artifacts=store)
    registry = ModelRegistry(workspace)
    version = registry.register("m", {"weights": [1, 2, 3]})
    assert registry.load(version) == {"weights": [1, 2, 3]}
    assert workspace.verify().ok
    assert workspace.clean() == 0
    store.blobs[version.artifact_key] = b"tampered"
    check = workspace.verify()
    assert not check.ok
    assert check.corrupt == (version.artifact_key,)
    with pytest.raises(IntegrityError):
        registry.load(version)
