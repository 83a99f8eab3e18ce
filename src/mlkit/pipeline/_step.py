"""Pipeline steps whose outputs are cached by the content hashes of their inputs.

The cache key of a call is the SHA-256 of the step's name, its code version
(given, or the hash of the function's source), and the content hash of every
bound argument (defaults applied) from :func:`mlkit.versioning.hash_object`:
frames and arrays hash by value, whatever their memory layout, so a copy or a
Fortran-ordered version of the same data hits the cache.

Outputs are serialised with joblib and put in a content-addressed artifact
store. The map from cache key to artifact key is kept beside it as one small
JSON file per entry (``<index>/<step>/<key hex>.json``), written to a
temporary file and renamed, so concurrent writers never leave a torn entry and
never contend on a shared index file: two processes that miss at once both
compute, both store the same bytes, and the last rename wins with equal
content.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

import attrs
import joblib

from mlkit._atomic import atomic_open
from mlkit.errors import ConfigurationError, DataError, IntegrityError, NotFoundError
from mlkit.versioning._artifacts import LocalArtifactStore
from mlkit.versioning._hash import hash_object
from mlkit.versioning._tracking import Run, Tracker
from mlkit.versioning._workspace import Workspace

__all__ = ["CacheInfo", "Step", "step"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

StoreLike = Workspace | LocalArtifactStore | str | os.PathLike[str] | None
_INDEX_DIR = "steps"
_FORMAT = 1


@attrs.frozen(repr=False)
class CacheInfo:
    """What :meth:`Step.cache_info` reports.

    Attributes
    ----------
    name
        The step's name.
    hits
        Calls in this process answered from the cache.
    misses
        Calls in this process that ran the function.
    entries
        Cache entries of this step currently in the index (all processes).

    Examples
    --------
    >>> CacheInfo(name="clean", hits=2, misses=1, entries=1)
    CacheInfo(name='clean', hits=2, misses=1, entries=1)
    """

    name: str
    hits: int
    misses: int
    entries: int

    def __repr__(self) -> str:
        return (
            f"CacheInfo(name={self.name!r}, hits={self.hits}, misses={self.misses}, "
            f"entries={self.entries})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dictionary of every field.

        Examples
        --------
        >>> CacheInfo(name="clean", hits=0, misses=1, entries=1).to_dict()["misses"]
        1
        """
        return {
            "name": self.name,
            "hits": self.hits,
            "misses": self.misses,
            "entries": self.entries,
        }


def _resolve_store(store: StoreLike) -> tuple[Any, Path]:
    """Return the artifact store and the folder of the key index."""
    if store is None or isinstance(store, (str, os.PathLike)):
        store = Workspace(store)
    if isinstance(store, Workspace):
        return store.artifacts, store.path / _INDEX_DIR
    if isinstance(store, LocalArtifactStore):
        return store, store.root / _INDEX_DIR
    raise ConfigurationError(
        f"invalid store {store!r}: expected a Workspace, a LocalArtifactStore, "
        "a folder path or None",
        column="store",
        value=type(store).__name__,
        expected="Workspace, LocalArtifactStore, str, os.PathLike or None",
    )


def _source_hash(fn: Callable[..., Any], name: str) -> str:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot read the source of step {name!r} ({exc}); pass code_version='...' "
            "to key its cache",
            column="code_version",
            value=None,
            expected="a code_version string when the source is unavailable",
        ) from exc
    return "source:sha256:" + hashlib.sha256(source.encode("utf-8")).hexdigest()


def _dir_name(name: str) -> str:
    # Readable but safe on every file system; the hash keeps distinct names apart.
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    return f"{readable}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}"


class Step(Generic[P, R]):
    """A pure function whose outputs are cached in an artifact store.

    Calling the step hashes its arguments; when an output for the same name,
    code version and argument hashes is stored, it is loaded and returned
    without running the function, otherwise the function runs and its output
    is stored. Usually made with the :func:`step` decorator.

    Parameters
    ----------
    fn
        The function. It must be pure: its output may depend only on its
        arguments and its code (``code_version``).
    store
        Where outputs go: a :class:`~mlkit.versioning.Workspace` (index in
        ``<workspace>/steps``), a :class:`~mlkit.versioning.LocalArtifactStore`
        (index in ``<root>/steps``), a folder path (opened as a workspace) or
        None for the default workspace (``$MLKIT_WORKSPACE`` or
        ``./mlkit-workspace``), opened at the first call.
    code_version
        A label for the function's code; change it to invalidate the cache.
        Default: the SHA-256 of the function's source (``inspect.getsource``),
        which does not see the helpers the function calls.
    name
        The step's name in keys, the index and the tracker; default
        ``"<module>.<qualname>"``.
    tracker
        A :class:`~mlkit.versioning.Run`, or a :class:`~mlkit.versioning.Tracker`
        whose active run (if any) receives, at each call, tags
        ``step.<name>.input.<arg>`` (argument hashes), ``step.<name>.output``
        (the stored artifact key), ``step.<name>.cache`` (``hit``/``miss``)
        and the DataFrame inputs and output as datasets with role
        ``<name>.<arg>`` / ``<name>.output``. Tags, not params, because a step
        may run several times in one run.

    Attributes
    ----------
    name
        The step's name.
    code_version
        The code version in the key (``"source:sha256:..."`` by default).

    Raises
    ------
    ConfigurationError
        If ``fn`` is not callable, ``store`` is of an unknown kind, or the
        source is unavailable and no ``code_version`` is given.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from mlkit.versioning import Workspace
    >>> ws = Workspace(tempfile.mkdtemp())
    >>> def double(df, factor=2):
    ...     return df * factor
    >>> cached = Step(double, store=ws, code_version="v1", name="double")
    >>> frame = pd.DataFrame({"x": [1, 2]})
    >>> cached(frame)["x"].tolist()
    [2, 4]
    >>> cached(frame.copy())["x"].tolist()  # equal content: loaded, not run
    [2, 4]
    >>> cached.cache_info()
    CacheInfo(name='double', hits=1, misses=1, entries=1)
    """

    # Copied from the function by functools.update_wrapper; declared for type checkers.
    __name__: str
    __qualname__: str

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        store: StoreLike = None,
        code_version: str | None = None,
        name: str | None = None,
        tracker: Run | Tracker | None = None,
    ) -> None:
        if not callable(fn):
            raise ConfigurationError(
                f"step expects a callable, got {type(fn).__name__}",
                column="fn",
                value=type(fn).__name__,
                expected="a function",
            )
        if code_version is not None and (not isinstance(code_version, str) or not code_version):
            raise ConfigurationError(
                f"invalid code_version {code_version!r}: expected a non-empty str",
                column="code_version",
                value=code_version,
                expected="a non-empty str",
            )
        if tracker is not None and not isinstance(tracker, (Run, Tracker)):
            raise ConfigurationError(
                f"invalid tracker {tracker!r}: expected a Run, a Tracker or None",
                column="tracker",
                value=type(tracker).__name__,
                expected="Run, Tracker or None",
            )
        functools.update_wrapper(self, fn)
        self.__wrapped__: Callable[P, R] = fn
        default_name = f"{getattr(fn, '__module__', None) or ''}.{getattr(fn, '__qualname__', '')}"
        self.name: str = name if name is not None else default_name.strip(".")
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"invalid step name {name!r}: expected a non-empty str",
                column="name",
                value=name,
                expected="a non-empty str",
            )
        self.code_version: str = (
            code_version if code_version is not None else _source_hash(fn, self.name)
        )
        self._signature = inspect.signature(fn)
        self._store_arg = store
        self._resolved: tuple[Any, Path] | None = None
        self._tracker = tracker
        self._hits = 0
        self._misses = 0

    def __repr__(self) -> str:
        return f"Step(name={self.name!r}, code_version={self.code_version[:24]!r})"

    def __reduce__(self) -> str | tuple[Any, ...]:
        # A decorated module-level function shadows the raw function, so pickling
        # the raw function by reference fails; pickle the step itself by reference
        # instead (as pickle does for functions), for process pools and workers.
        module = getattr(self, "__module__", None)
        qualname = getattr(self, "__qualname__", None)
        if module and qualname and "<locals>" not in qualname:
            try:
                found = _load_global(module, qualname) is self
            except (ImportError, AttributeError):
                found = False
            if found:
                return (_load_global, (module, qualname))
        raise TypeError(
            f"cannot pickle {self!r}: only a step bound to its function's module-level "
            "name pickles (by reference, like a function)"
        )

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Lets a step decorate a method: the instance becomes the first argument
        # (and is hashed like any other argument).
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    # -- storage --------------------------------------------------------------------

    def _storage(self) -> tuple[Any, Path]:
        if self._resolved is None:
            self._resolved = _resolve_store(self._store_arg)
        return self._resolved

    @property
    def _folder(self) -> Path:
        return self._storage()[1] / _dir_name(self.name)

    def _entry_path(self, key: str) -> Path:
        return self._folder / f"{key.split(':', 1)[1]}.json"

    def _read_entry(self, key: str) -> dict[str, Any] | None:
        try:
            text = self._entry_path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(text)
        except ValueError:
            logger.warning("ignoring unreadable cache entry %s of step %r", key, self.name)
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("output"), str):
            logger.warning("ignoring malformed cache entry %s of step %r", key, self.name)
            return None
        return entry

    def _write_entry(self, key: str, entry: dict[str, Any]) -> None:
        with atomic_open(self._entry_path(key)) as handle:
            json.dump(entry, handle, sort_keys=True)

    # -- keys -----------------------------------------------------------------------

    def input_hashes(self, *args: P.args, **kwargs: P.kwargs) -> dict[str, str]:
        """Return the content hash of every argument of a call, defaults applied.

        Parameters
        ----------
        *args, **kwargs
            The call's arguments.

        Returns
        -------
        dict
            Parameter name to ``"sha256:<hex>"``.

        Raises
        ------
        DataError
            If an argument cannot be hashed (``column`` names it), or the
            arguments do not fit the function's signature.
        """
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise DataError(
                f"arguments do not fit step {self.name!r}{self._signature}: {exc}",
                column="arguments",
                value=None,
                expected=f"arguments matching {self._signature}",
            ) from exc
        bound.apply_defaults()
        hashes: dict[str, str] = {}
        for argument, value in bound.arguments.items():
            try:
                hashes[argument] = hash_object(value)
            except DataError as exc:
                # Never fall back to identity or repr: a wrong key returns wrong data.
                raise DataError(
                    f"step {self.name!r} cannot hash argument {argument!r} "
                    f"(a {type(value).__qualname__}): {exc}",
                    column=argument,
                    value=type(value).__qualname__,
                    expected="a value mlkit.versioning.hash_object can hash",
                ) from exc
        return hashes

    def _key(self, hashes: dict[str, str]) -> str:
        payload = json.dumps(
            {"format": _FORMAT, "name": self.name, "code": self.code_version, "args": hashes},
            sort_keys=True,
        )
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def cache_key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """Return the cache key of a call without running or loading anything.

        Returns
        -------
        str
            ``"sha256:<hex>"`` over the name, code version and argument hashes.

        Raises
        ------
        DataError
            If an argument cannot be hashed.
        """
        return self._key(self.input_hashes(*args, **kwargs))

    # -- calls ----------------------------------------------------------------------

    def _load(self, key: str, entry: dict[str, Any]) -> tuple[bool, Any]:
        store = self._storage()[0]
        try:
            data = store.get(entry["output"])
            return True, joblib.load(io.BytesIO(data))
        except (NotFoundError, IntegrityError, DataError) as exc:
            logger.warning(
                "cache entry %s of step %r points at an unusable artifact (%s); recomputing",
                key,
                self.name,
                exc,
            )
        except Exception as exc:  # an unpickling failure can be of almost any type
            logger.warning(
                "cannot load the cached output %s of step %r (%s: %s); recomputing",
                entry["output"],
                self.name,
                type(exc).__name__,
                exc,
            )
        return False, None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Return the cached output for these arguments, running the function on a miss."""
        hashes = self.input_hashes(*args, **kwargs)
        key = self._key(hashes)
        entry = self._read_entry(key)
        if entry is not None:
            found, value = self._load(key, entry)
            if found:
                self._hits += 1
                logger.debug("step %r: cache hit %s", self.name, key)
                self._track(hashes, entry["output"], args, kwargs, value, hit=True)
                result: R = value
                return result
        self._misses += 1
        logger.debug("step %r: cache miss %s, running", self.name, key)
        output = self.__wrapped__(*args, **kwargs)
        buffer = io.BytesIO()
        joblib.dump(output, buffer)
        artifact = self._storage()[0].put(buffer.getvalue())
        # Bytes first, index second: a crash in between leaves an unreferenced
        # artifact, never an entry pointing at nothing.
        self._write_entry(
            key,
            {
                "format": _FORMAT,
                "name": self.name,
                "code_version": self.code_version,
                "inputs": hashes,
                "output": artifact,
            },
        )
        self._track(hashes, artifact, args, kwargs, output, hit=False)
        return output

    def _track(
        self,
        hashes: dict[str, str],
        artifact: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        output: Any,
        *,
        hit: bool,
    ) -> None:
        run = self._tracker.active_run() if isinstance(self._tracker, Tracker) else self._tracker
        if run is None:
            return
        import pandas as pd

        prefix = f"step.{self.name}"
        tags = {f"{prefix}.input.{arg}": digest for arg, digest in hashes.items()}
        tags[f"{prefix}.output"] = artifact
        tags[f"{prefix}.cache"] = "hit" if hit else "miss"
        run.set_tags(tags)
        bound = self._signature.bind(*args, **kwargs)
        frames = {arg: v for arg, v in bound.arguments.items() if isinstance(v, pd.DataFrame)}
        if isinstance(output, pd.DataFrame):
            frames["output"] = output
        for role, frame in frames.items():
            run.log_dataset(frame, role=f"{self.name}.{role}")

    # -- management -----------------------------------------------------------------

    def clear(self) -> int:
        """Forget every cached output of this step; return how many entries went.

        Only the index entries are removed: the artifacts stay in the
        content-addressed store, where other steps or runs may share them.

        Returns
        -------
        int
            The number of entries removed.
        """
        removed = 0
        folder = self._folder
        if not folder.is_dir():
            return 0
        for path in folder.glob("*.json"):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
        self._hits = 0
        self._misses = 0
        logger.info("cleared %d cache entries of step %r", removed, self.name)
        return removed

    def cache_info(self) -> CacheInfo:
        """Return this process's hits and misses and the number of stored entries.

        Returns
        -------
        CacheInfo
            ``hits`` and ``misses`` since creation or the last :meth:`clear`;
            ``entries`` as found in the index now.
        """
        folder = self._folder
        entries = sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0
        return CacheInfo(name=self.name, hits=self._hits, misses=self._misses, entries=entries)


def _load_global(module: str, qualname: str) -> Any:
    import importlib

    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@overload
def step(
    fn: Callable[P, R],
    *,
    store: StoreLike = None,
    code_version: str | None = None,
    name: str | None = None,
    tracker: Run | Tracker | None = None,
) -> Step[P, R]: ...


@overload
def step(
    fn: None = None,
    *,
    store: StoreLike = None,
    code_version: str | None = None,
    name: str | None = None,
    tracker: Run | Tracker | None = None,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    fn: Callable[P, R] | None = None,
    *,
    store: StoreLike = None,
    code_version: str | None = None,
    name: str | None = None,
    tracker: Run | Tracker | None = None,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Make a function a cached pipeline step; use as ``@step`` or ``@step(...)``.

    See :class:`Step` for the parameters. The result is still a plain callable
    with the function's name, docstring and signature (``functools.wraps``),
    so Prefect's ``@task``, Kedro's ``node`` or Dagster can wrap it unchanged.

    Returns
    -------
    Step or callable
        The step, or a decorator making one when ``fn`` is omitted.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> calls = []
    >>> @step(store=tempfile.mkdtemp(), code_version="1")
    ... def scale(x, factor=2.0):
    ...     calls.append(1)
    ...     return x * factor
    >>> scale(np.arange(3)).tolist()
    [0.0, 2.0, 4.0]
    >>> scale(np.arange(3), factor=2.0).tolist()  # same call: defaults are applied
    [0.0, 2.0, 4.0]
    >>> len(calls)
    1
    >>> scale(np.arange(3), factor=3.0).tolist()  # a parameter changed: runs again
    [0.0, 3.0, 6.0]
    >>> len(calls)
    2
    """

    def decorate(function: Callable[P, R]) -> Step[P, R]:
        return Step(function, store=store, code_version=code_version, name=name, tracker=tracker)

    if fn is None:
        return decorate
    return decorate(fn)
