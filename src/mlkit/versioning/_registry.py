"""The model registry: numbered versions, aliases with an audit log, verified loading, lineage."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mlkit.clock import SystemClock
from mlkit.errors import DataError, NotFoundError
from mlkit.versioning._artifacts import check_name
from mlkit.versioning._env import _versions, current_user
from mlkit.versioning._hash import DatasetVersion
from mlkit.versioning._sqlite import check_key_text
from mlkit.versioning._tracking import Run, RunInfo, Tracker
from mlkit.versioning._workspace import Workspace, as_workspace

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.protocols import Clock

__all__ = ["AliasChange", "Lineage", "ModelRegistry", "ModelVersion", "parse_model_uri"]

logger = logging.getLogger(__name__)

_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,254}$")
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/@]+)|@(?P<alias>[^/@]+))$")


@attrs.frozen(repr=False)
class ModelVersion:
    """One registered version of a model.

    Attributes
    ----------
    name, version
        The model and its number (1, 2, ...).
    artifact_key
        The content hash of the serialised model in the artifact store;
        loading checks the bytes against it.
    size
        Bytes of the serialised model.
    run_id
        The run that produced it, if any.
    datasets
        ``(role, DatasetVersion)`` pairs the run had logged when the version
        was registered.
    created
        POSIX seconds.
    model_class
        Import path of the model's class.
    signature
        What the model takes and returns (JSON-safe), if given.
    environment
        Python and package versions at registration.
    tags, aliases, description
        Mutable metadata, as of reading.
    """

    name: str
    version: int
    artifact_key: str
    size: int
    run_id: str | None
    datasets: tuple[tuple[str, DatasetVersion], ...]
    created: float
    model_class: str
    signature: Mapping[str, Any] | None = None
    environment: Mapping[str, str] = attrs.field(factory=dict)
    tags: Mapping[str, str] = attrs.field(factory=dict)
    aliases: tuple[str, ...] = ()
    description: str | None = None

    def __repr__(self) -> str:
        return (
            f"ModelVersion(name={self.name!r}, version={self.version}, "
            f"artifact_key='{self.artifact_key[:19]}...', aliases={self.aliases!r}, "
            f"run_id={self.run_id!r})"
        )

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``, for :meth:`ModelRegistry.load`."""
        return f"models:/{self.name}/{self.version}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelVersion:
        """Build from a registry store record."""
        datasets = []
        for item in data.get("datasets") or ():
            item = dict(item)
            role = item.pop("role")
            datasets.append((role, DatasetVersion.from_dict(item)))
        return cls(
            name=data["name"],
            version=int(data["version"]),
            artifact_key=data["artifact_key"],
            size=int(data["size"]),
            run_id=data.get("run_id"),
            datasets=tuple(datasets),
            created=float(data["created"]),
            model_class=data["model_class"],
            signature=data.get("signature"),
            environment=dict(data.get("environment") or {}),
            tags=dict(data.get("tags") or {}),
            aliases=tuple(data.get("aliases") or ()),
            description=data.get("description"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        out = attrs.asdict(self, recurse=False)
        out["datasets"] = [{"role": r, **d.to_dict()} for r, d in self.datasets]
        out["signature"] = None if self.signature is None else dict(self.signature)
        out["environment"] = dict(self.environment)
        out["tags"] = dict(self.tags)
        out["aliases"] = list(self.aliases)
        return out


@attrs.frozen
class AliasChange:
    """One entry of the alias audit log: who moved ``alias`` from one version to another, when.

    ``from_version`` is None when the alias was created, ``to_version`` None when deleted.
    """

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    time: float


@attrs.frozen
class Lineage:
    """Where a model version came from: version -> run -> datasets -> code commit.

    Attributes
    ----------
    model
        The model version.
    run
        The run that produced it (None if it was registered without one).
    parents
        The run's ancestors, innermost first (a tuning run's parent study...).
    datasets
        ``(role, DatasetVersion)`` pairs recorded at registration.
    commit
        The git commit the run was started from, if it was in a checkout.
    dirty
        Whether that checkout had uncommitted changes (None if unknown).
    """

    model: ModelVersion
    run: RunInfo | None
    parents: tuple[RunInfo, ...]
    datasets: tuple[tuple[str, DatasetVersion], ...]
    commit: str | None
    dirty: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "model": self.model.to_dict(),
            "run": None if self.run is None else self.run.to_dict(),
            "parents": [p.to_dict() for p in self.parents],
            "datasets": [{"role": r, **d.to_dict()} for r, d in self.datasets],
            "commit": self.commit,
            "dirty": self.dirty,
        }

    def __str__(self) -> str:
        lines = [f"model {self.model.name} v{self.model.version} ({self.model.artifact_key})"]
        if self.run is not None:
            lines.append(f"  <- run {self.run.name!r} ({self.run.run_id}, {self.run.status})")
        for parent in self.parents:
            lines.append(f"  <- parent run {parent.name!r} ({parent.run_id})")
        for role, data in self.datasets:
            lines.append(f"  <- {role} data {data.hash} ({data.n_rows} x {data.n_columns})")
        if self.commit is not None:
            lines.append(f"  <- code {self.commit}{' (dirty)' if self.dirty else ''}")
        return "\n".join(lines)


def _check_model_name(name: object) -> str:
    text = check_name(name, what="model name")
    if "/" in text or "@" in text:
        raise DataError(
            f"model name {text!r} must not contain '/' or '@' (they separate the parts of "
            "'models:/<name>/<version>' and 'models:/<name>@<alias>')",
            value=text,
            expected="a name such as 'fraud-detector'",
        )
    return text


def _check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == "latest":
        raise DataError(
            f"alias must be a letter or '_' then letters, digits, '_' or '-' (at most 255), "
            f"and not 'latest' (reserved for the newest version), got {alias!r}",
            value=alias,
            expected="an alias such as 'champion' or 'challenger'",
        )
    return alias


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DataError(
            f"a model version is an int >= 1, got {version!r}",
            value=version,
            expected="an int >= 1",
        )
    return version


def parse_model_uri(uri: str) -> tuple[str, int | str]:
    """Split ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.

    Returns the name and the version number, or the alias (``"latest"`` for
    ``models:/<name>/latest`` or ``models:/<name>@latest``).

    Examples
    --------
    >>> parse_model_uri("models:/fraud@champion")
    ('fraud', 'champion')
    >>> parse_model_uri("models:/fraud/3")
    ('fraud', 3)
    """
    m = _URI.match(uri) if isinstance(uri, str) else None
    if m is None:
        raise DataError(
            f"cannot parse model URI {uri!r}",
            value=uri,
            expected="'models:/<name>/<version>' or 'models:/<name>@<alias>'",
        )
    name = _check_model_name(m.group("name"))
    if m.group("alias") is not None:
        alias = m.group("alias")
        return name, alias if alias == "latest" else _check_alias(alias)
    version = m.group("version")
    if version == "latest":
        return name, "latest"
    if not version.isdigit() or int(version) < 1:
        raise DataError(
            f"model URI {uri!r} has version {version!r}",
            value=version,
            expected="a number >= 1 or 'latest'",
        )
    return name, int(version)


def _signature(signature: Any) -> dict[str, Any] | None:
    if signature is None:
        return None
    try:
        import pandas as pd

        if isinstance(signature, pd.DataFrame):
            return {
                "inputs": [{"name": str(c), "dtype": str(t)} for c, t in signature.dtypes.items()]
            }
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    if not isinstance(signature, Mapping):
        raise DataError(
            f"signature must be a mapping or an example DataFrame, got {type(signature).__name__}",
            value=type(signature).__name__,
            expected="dict or pandas.DataFrame",
        )
    try:
        return dict(json.loads(json.dumps(dict(signature))))
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"signature must be JSON-serialisable: {exc}",
            value=signature,
            expected="a JSON-safe mapping",
        ) from exc


class ModelRegistry:
    """Register models, point aliases at versions, load them with proof of their bytes.

    Models are serialised with joblib into the workspace's content-addressed
    artifact store; a version records the artifact's hash, the run that made
    it and that run's dataset hashes.

    .. warning::
       Loading a model unpickles it, and unpickling runs code. :meth:`load`
       refuses bytes whose hash differs from the registered one, which stops
       tampering with the artifact files, but a registry whose database and
       artifacts an attacker can both write cannot be trusted: load only from
       workspaces you trust.

    Parameters
    ----------
    workspace
        A :class:`Workspace` or its folder; default ``$MLKIT_WORKSPACE`` or
        ``./mlkit-workspace``.
    clock
        Time source for registration and alias changes.
    user
        Recorded in the alias audit log; default the login name.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> registry = ModelRegistry(tempfile.mkdtemp())
    >>> model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> v1 = registry.register("fraud", model, tags={"owner": "risk"})
    >>> v1.version, v1.artifact_key[:7]
    (1, 'sha256:')
    >>> registry.set_alias("fraud", "champion", 1)
    >>> registry.load("models:/fraud@champion").predict([[0.9]])
    array([1])
    """

    def __init__(
        self,
        workspace: Workspace | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        user: str | None = None,
    ) -> None:
        self.workspace = as_workspace(workspace)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.user = user if user is not None else current_user()

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.workspace.path)!r})"

    @property
    def _store(self) -> Any:
        return self.workspace.store

    def register(
        self,
        name: str,
        model: Any,
        *,
        run: Run | str | None = None,
        signature: Mapping[str, Any] | pd.DataFrame | None = None,
        tags: Mapping[str, object] | None = None,
        description: str | None = None,
        compress: int = 0,
    ) -> ModelVersion:
        """Serialise ``model`` with joblib, store it and add a new version of ``name``.

        Parameters
        ----------
        name
            The model's name (created on first registration); letters, digits,
            ``-``, ``_`` and ``.``, no ``/``, ``@`` or ``:``.
        model
            Any object joblib can pickle.
        run
            The run (or its id) that trained it: its id and dataset hashes go
            into the version, for :meth:`lineage`.
        signature
            What the model takes: a JSON-safe mapping, or an example input
            DataFrame whose column names and dtypes are recorded.
        tags
            Version tags.
        description
            Free text.
        compress
            joblib compression level (0-9); 0 is fastest to load.

        Returns
        -------
        ModelVersion
            Version numbers count from 1 per name; concurrent registrations
            never get the same number.
        """
        import joblib

        name = _check_model_name(name)
        run_id = run.id if isinstance(run, Run) else run
        datasets: list[dict[str, Any]] = []
        if run_id is not None:
            info = Tracker(self.workspace, capture_environment=False).get_run(run_id)
            datasets = [{"role": r, **d.to_dict()} for r, d in info.datasets]
        buffer = io.BytesIO()
        joblib.dump(model, buffer, compress=compress)
        data = buffer.getvalue()
        # Bytes first, record second: a crash in between leaves an unreferenced
        # artifact, never a version pointing at nothing.
        key = self.workspace.artifacts.put(data)
        record = {
            "artifact_key": key,
            "size": len(data),
            "run_id": run_id,
            "datasets": datasets,
            "created": float(self.clock.now()),
            "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
            "serializer": "joblib",
            "signature": _signature(signature),
            "environment": dict(_versions().items()),
            "description": description,
            "tags": {check_key_text(k, what="tag"): str(v) for k, v in (tags or {}).items()},
        }
        version = self._store.add_version(name, record)
        logger.info("registered %s version %d (%s)", name, version, key)
        return self.get_version(name, version)

    def get_version(self, name: str, version: int) -> ModelVersion:
        """Return version ``version`` of ``name``.

        Raises
        ------
        mlkit.errors.NotFoundError
            No such model or version.
        """
        return ModelVersion.from_dict(
            self._store.get_version(_check_model_name(name), _check_version(version))
        )

    def get_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version ``alias`` points at (``"latest"``: the newest version)."""
        alias = alias if alias == "latest" else _check_alias(alias)
        return ModelVersion.from_dict(self._store.get_version(_check_model_name(name), alias))

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Return every version of ``name``, oldest first."""
        return [
            ModelVersion.from_dict(r) for r in self._store.list_versions(_check_model_name(name))
        ]

    def list_models(self) -> list[str]:
        """Return the registered model names, sorted."""
        models: list[str] = self._store.list_models()
        return models

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` (such as ``"champion"``) at ``version``; the change is audited."""
        self._store.set_alias(
            _check_model_name(name),
            _check_alias(alias),
            _check_version(version),
            user=self.user,
            time=float(self.clock.now()),
        )

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias``; the deletion is audited."""
        self._store.set_alias(
            _check_model_name(name),
            _check_alias(alias),
            None,
            user=self.user,
            time=float(self.clock.now()),
        )

    def alias_history(self, name: str | None = None) -> list[AliasChange]:
        """Return every alias change, oldest first, for one model or all."""
        name = None if name is None else _check_model_name(name)
        return [AliasChange(**row) for row in self._store.alias_history(name)]

    def set_version_tag(self, name: str, version: int, key: str, value: object) -> None:
        """Set a tag on a version (``None`` deletes it)."""
        self._store.set_version_tag(
            _check_model_name(name),
            _check_version(version),
            check_key_text(key, what="tag"),
            None if value is None else str(value),
        )

    def resolve(self, uri: str | ModelVersion) -> ModelVersion:
        """Return the version a ``models:/`` URI points at now."""
        if isinstance(uri, ModelVersion):
            return uri
        name, version = parse_model_uri(uri)
        if isinstance(version, str):
            return self.get_by_alias(name, version)
        return self.get_version(name, version)

    def load(self, uri: str | ModelVersion) -> Any:
        """Load a model by URI, after checking its bytes against the registered hash.

        Parameters
        ----------
        uri
            ``"models:/<name>/<version>"``, ``"models:/<name>@<alias>"``,
            ``"models:/<name>/latest"``, or a :class:`ModelVersion`.

        Raises
        ------
        mlkit.errors.IntegrityError
            The stored bytes do not match the registered hash (tampered with or
            damaged); nothing is unpickled.
        mlkit.errors.NotFoundError
            No such model, version or alias.
        """
        import joblib

        version = self.resolve(uri)
        # get() re-hashes the bytes and raises IntegrityError before any unpickling.
        data = self.workspace.artifacts.get(version.artifact_key)
        now = _versions()
        for key, then in version.environment.items():
            if key.startswith("mlkit.version.") and now.get(key, then) != then:
                logger.warning(
                    "%s was registered with %s %s; this process has %s",
                    version.uri,
                    key.removeprefix("mlkit.version."),
                    then,
                    now[key],
                )
        return joblib.load(io.BytesIO(data))

    def lineage(self, name: str, version: int) -> Lineage:
        """Return the chain: model version -> run (and its parents) -> datasets -> code commit."""
        model = self.get_version(name, version)
        run = parents = None
        chain: list[RunInfo] = []
        commit = None
        dirty = None
        if model.run_id is not None:
            tracker = Tracker(self.workspace, capture_environment=False)
            try:
                run = tracker.get_run(model.run_id)
            except NotFoundError:
                logger.warning("%s refers to run %s, which is gone", model.uri, model.run_id)
            if run is not None:
                commit = run.tags.get("mlkit.git.commit")
                flag = run.tags.get("mlkit.git.dirty")
                dirty = None if flag is None else flag == "true"
                parent_id = run.parent_id
                seen = {run.run_id}
                while parent_id is not None and parent_id not in seen:
                    seen.add(parent_id)
                    parent = tracker.get_run(parent_id)
                    chain.append(parent)
                    parent_id = parent.parent_id
        parents = tuple(chain)
        return Lineage(
            model=model,
            run=run,
            parents=parents,
            datasets=model.datasets,
            commit=commit,
            dirty=dirty,
        )
