"""The workspace: one folder holding the SQLite database and the artifact store."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from mlkit.errors import IntegrityError
from mlkit.versioning._artifacts import LocalArtifactStore
from mlkit.versioning._sqlite import SqliteStore

__all__ = ["DEFAULT_WORKSPACE", "Workspace", "WorkspaceCheck", "as_workspace"]

DEFAULT_WORKSPACE = "mlkit-workspace"
ENV_VAR = "MLKIT_WORKSPACE"


@attrs.frozen
class WorkspaceCheck:
    """What :meth:`Workspace.verify` found.

    Attributes
    ----------
    ok
        True when the database is sound, every artifact's bytes match its key,
        and every artifact the database refers to exists.
    checked
        How many artifacts were re-hashed.
    database
        SQLite's integrity check findings (empty when sound).
    corrupt
        Keys whose bytes no longer match their hash (tampering or disk damage).
    missing
        Keys the database refers to that the store lacks, with who refers to them.
    temp
        Leftover temporary files of interrupted writes (harmless, never visible
        as artifacts; :meth:`Workspace.clean` removes them).
    unreferenced
        Stored artifacts no run or model version refers to, such as those of a
        registration killed before its database commit (harmless).
    """

    ok: bool
    checked: int
    database: tuple[str, ...] = ()
    corrupt: tuple[str, ...] = ()
    missing: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    temp: tuple[str, ...] = ()
    unreferenced: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "database": list(self.database),
            "corrupt": list(self.corrupt),
            "missing": {k: list(v) for k, v in self.missing.items()},
            "temp": list(self.temp),
            "unreferenced": list(self.unreferenced),
        }

    def __str__(self) -> str:
        if self.ok:
            return (
                f"workspace ok: {self.checked} artifacts verified, {len(self.temp)} temp files, "
                f"{len(self.unreferenced)} unreferenced artifacts"
            )
        lines = ["workspace NOT ok:"]
        lines += [f"  database: {p}" for p in self.database]
        lines += [f"  corrupt artifact: {k}" for k in self.corrupt]
        lines += [
            f"  missing artifact: {k} (used by {', '.join(v)})" for k, v in self.missing.items()
        ]
        return "\n".join(lines)


class Workspace:
    """A folder with the run and registry database and the artifact store.

    Parameters
    ----------
    path
        The folder; when omitted, ``$MLKIT_WORKSPACE``, else ``./mlkit-workspace``.
        Created if absent.
    store
        The run and registry back end; default a :class:`SqliteStore` on
        ``<path>/mlkit.db``.
    artifacts
        The artifact store; default a :class:`LocalArtifactStore` on
        ``<path>/artifacts``.

    Examples
    --------
    >>> import tempfile
    >>> ws = Workspace(tempfile.mkdtemp())
    >>> ws.verify().ok
    True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        store: Any = None,
        artifacts: Any = None,
    ) -> None:
        if path is None:
            path = os.environ.get(ENV_VAR) or DEFAULT_WORKSPACE
        self.path = Path(path).expanduser().absolute()
        self.path.mkdir(parents=True, exist_ok=True)
        self.store: Any = store if store is not None else SqliteStore(self.path / "mlkit.db")
        self.artifacts: Any = (
            artifacts if artifacts is not None else LocalArtifactStore(self.path / "artifacts")
        )

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def verify(self) -> WorkspaceCheck:
        """Check the whole workspace: database, every artifact's hash, every reference.

        Returns
        -------
        WorkspaceCheck
            ``ok`` is False on a damaged database, a corrupt artifact or a
            dangling reference.
        """
        # A store plugged in by the user may lack the optional checks: skip those.
        problems: Callable[[], list[str]] = getattr(self.store, "integrity_problems", lambda: [])
        database = tuple(problems())
        refs: dict[str, list[str]] = getattr(self.store, "referenced_keys", dict)()
        missing = {k: tuple(v) for k, v in sorted(refs.items()) if not self.artifacts.exists(k)}
        stored = set(self.artifacts.keys())
        if hasattr(self.artifacts, "verify"):
            store_check = self.artifacts.verify()
            checked, corrupt, temp = store_check.checked, store_check.corrupt, store_check.temp
        else:  # any ArtifactStore: get() re-hashes what it returns
            checked, corrupt, temp = (
                len(stored),
                tuple(k for k in stored if not self._intact(k)),
                (),
            )
        unreferenced = tuple(sorted(stored - set(refs)))
        ok = not database and not corrupt and not missing
        return WorkspaceCheck(
            ok=ok,
            checked=checked,
            database=database,
            corrupt=tuple(sorted(corrupt)),
            missing=missing,
            temp=tuple(temp),
            unreferenced=unreferenced,
        )

    def _intact(self, key: str) -> bool:
        try:
            self.artifacts.get(key)
        except IntegrityError:
            return False
        return True

    def clean(self, *, older_than: float = 3600.0) -> int:
        """Remove temporary files of interrupted writes older than ``older_than`` seconds."""
        clean_temp = getattr(self.artifacts, "clean_temp", None)
        removed: int = 0 if clean_temp is None else clean_temp(older_than=older_than)
        return removed


def as_workspace(workspace: Workspace | str | os.PathLike[str] | None) -> Workspace:
    """Return ``workspace`` as a :class:`Workspace` (a path or None opens one)."""
    if isinstance(workspace, Workspace):
        return workspace
    return Workspace(workspace)
