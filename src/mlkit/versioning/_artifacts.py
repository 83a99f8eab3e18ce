"""Content-addressed artifact stores and the validation of keys and names.

An artifact is stored under its own content hash, ``"sha256:<64 hex>"``, at
``<root>/sha256/<hex[:2]>/<hex[2:]>``: the same bytes are stored once, and the
key proves what the bytes are. Every read rehashes what it returns, so a file
changed on disk (bit rot, a careless edit, tampering) raises
:class:`~mlkit.errors.IntegrityError` instead of handing back wrong bytes.

Writes go to a uniquely named temporary file under ``<root>/tmp/`` that is
flushed to disk and then renamed onto its final name, so a reader never sees a
partial artifact and a writer killed at any moment leaves at most a temporary
file, which :meth:`~LocalArtifactStore.clean_temp` removes later. Several
threads or processes may put the same bytes at once: each writes its own
temporary file and the renames replace identical content.

:class:`LocalArtifactStore` works on a local directory;
:class:`FsspecArtifactStore` runs the same logic on any fsspec file system
(``s3://``, ``gs://``, ``memory://``, a local path).
"""

from __future__ import annotations

import abc
import hashlib
import importlib
import logging
import os
import re
import stat
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from mlkit.errors import ConfigurationError, DataError, IntegrityError, NotFoundError
from mlkit.versioning._hash import ALGORITHM, _prefixed

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "StoreCheck",
    "check_key",
    "check_name",
]

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
KEY_FORM = "'sha256:' followed by 64 lowercase hexadecimal digits"

_KEY = re.compile(r"sha256:[0-9a-f]{64}")
_OBJECT = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{62})")
_MAX_SEGMENT_BYTES = 255
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate newlines
_NAME_RULES = (
    "a non-empty relative path of '/'-separated segments, without '..', '.' or empty "
    "segments, a leading '/', backslashes, ':', control characters, segments ending "
    "in a dot or a space, or segments longer than 255 bytes"
)


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed artifact key, else raise.

    A key is exactly ``"sha256:"`` followed by 64 lowercase hexadecimal
    digits. Nothing else can name an artifact, so paths such as
    ``"../../etc/passwd"``, absolute paths, NUL bytes, backslashes, uppercase
    hex or a wrong length never reach the file system.

    Parameters
    ----------
    key
        The key to check.

    Returns
    -------
    str
        ``key`` unchanged.

    Raises
    ------
    DataError
        If ``key`` is not a string of that exact form.

    Examples
    --------
    >>> check_key("sha256:" + "0" * 64) == "sha256:" + "0" * 64
    True
    >>> check_key("../../etc/passwd")
    Traceback (most recent call last):
    ...
    mlkit.errors.DataError: invalid artifact key '../../etc/passwd': expected 'sha256:' ...
    """
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise DataError(
            f"invalid artifact key {key!r}: expected {KEY_FORM}",
            column="key",
            value=key,
            expected=KEY_FORM,
        )
    return key


def check_name(name: object, *, what: str = "name") -> str:
    """Return ``name`` if it is safe to use inside a path or a URI, else raise.

    For names users choose (model names, artifact names such as
    ``"plots/roc.png"``) that end up in file paths or in URIs such as
    ``"models:/name@alias"``. A safe name is a non-empty relative POSIX path
    whose segments are not ``""``, ``"."`` or ``".."``; it has no leading
    ``"/"``, no backslash, no ``":"`` (which also rules out Windows drive
    letters and URI schemes), no control characters, no segment ending in a dot
    or a space (Windows strips those, so ``".. "`` would mean ``".."``) and no
    segment longer than 255 bytes in UTF-8. Joined under any directory, a safe
    name stays inside it.

    Parameters
    ----------
    name
        The name to check.
    what
        What the name is, for the error message (``"model name"``, ...).

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    DataError
        Naming ``what``, the value and what is allowed.

    Examples
    --------
    >>> check_name("plots/roc.png")
    'plots/roc.png'
    >>> check_name("../secrets", what="artifact name")
    Traceback (most recent call last):
    ...
    mlkit.errors.DataError: invalid artifact name '../secrets': segment '..' is not allowed; ...
    """
    problem = _name_problem(name)
    if problem is not None:
        raise DataError(
            f"invalid {what} {name!r}: {problem}; expected {_NAME_RULES}",
            column=what,
            value=name,
            expected=_NAME_RULES,
        )
    assert isinstance(name, str)  # _name_problem rejects everything else
    return name


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str):
        return f"expected a str, got {type(name).__name__}"
    if not name:
        return "it is empty"
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return f"character {char!r} is not allowed"
    for char in ("\\", ":"):
        if char in name:
            return f"character {char!r} is not allowed"
    if name.startswith("/"):
        return "it is an absolute path"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return f"segment {segment!r} is not allowed"
        if segment[-1] in ". ":
            return f"segment {segment!r} ends in a dot or a space"
        if len(segment.encode("utf-8")) > _MAX_SEGMENT_BYTES:
            return f"segment {segment[:20]!r}... is longer than {_MAX_SEGMENT_BYTES} bytes"
    return None


@attrs.frozen(repr=False)
class StoreCheck:
    """What :meth:`LocalArtifactStore.verify` found.

    Attributes
    ----------
    ok
        True when every checked artifact matches its key and no requested key
        is missing. Stray and temporary files are reported but do not make a
        store unhealthy: they are never visible as artifacts.
    checked
        How many artifacts were rehashed.
    corrupt
        Keys whose bytes no longer match the key (or could not be read).
    stray
        Files under the key tree (``sha256/``) whose path is not a valid key
        path, relative to the store root in POSIX form.
    temp
        Temporary files under ``tmp/`` (left by a killed or running writer),
        relative to the store root.
    missing
        Keys passed to ``verify(keys=...)`` that are not stored.

    Examples
    --------
    >>> StoreCheck(ok=True, checked=2, corrupt=(), stray=(), temp=("tmp/1-ab.tmp",))
    StoreCheck(ok=True, checked=2, corrupt=0, missing=0, stray=0, temp=1)
    """

    ok: bool
    checked: int
    corrupt: tuple[str, ...]
    stray: tuple[str, ...]
    temp: tuple[str, ...]
    missing: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"StoreCheck(ok={self.ok}, checked={self.checked}, corrupt={len(self.corrupt)}, "
            f"missing={len(self.missing)}, stray={len(self.stray)}, temp={len(self.temp)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dictionary of every field.

        Returns
        -------
        dict
            ``ok``, ``checked`` and the lists ``corrupt``, ``stray``, ``temp``
            and ``missing``.

        Examples
        --------
        >>> StoreCheck(ok=True, checked=0, corrupt=(), stray=(), temp=()).to_dict()["ok"]
        True
        """
        return {
            "ok": self.ok,
            "checked": self.checked,
            "corrupt": list(self.corrupt),
            "stray": list(self.stray),
            "temp": list(self.temp),
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreCheck:
        """Rebuild a check from :meth:`to_dict` output.

        Parameters
        ----------
        data
            A dictionary as returned by :meth:`to_dict`.

        Returns
        -------
        StoreCheck
            An equal check.

        Examples
        --------
        >>> check = StoreCheck(ok=False, checked=1, corrupt=("sha256:" + "a" * 64,),
        ...                    stray=(), temp=())
        >>> StoreCheck.from_dict(check.to_dict()) == check
        True
        """
        return cls(
            ok=bool(data["ok"]),
            checked=int(data["checked"]),
            corrupt=tuple(data["corrupt"]),
            stray=tuple(data["stray"]),
            temp=tuple(data["temp"]),
            missing=tuple(data.get("missing", ())),
        )

    def to_frame(self) -> pd.DataFrame:
        """Return one row per finding, with columns ``kind`` and ``item``.

        Returns
        -------
        pandas.DataFrame
            ``kind`` is ``"corrupt"``, ``"missing"``, ``"stray"`` or
            ``"temp"``; ``item`` the key or the root-relative path.

        Examples
        --------
        >>> StoreCheck(ok=True, checked=0, corrupt=(), stray=("sha256/x",), temp=()).to_frame()
            kind      item
        0  stray  sha256/x
        """
        import pandas as pd

        rows = [
            (kind, item)
            for kind, items in (
                ("corrupt", self.corrupt),
                ("missing", self.missing),
                ("stray", self.stray),
                ("temp", self.temp),
            )
            for item in items
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["kind", "item"])
        return frame


def _object_rel(key: str) -> str:
    hexdigest = check_key(key)[len(ALGORITHM) + 1 :]
    return f"{ALGORITHM}/{hexdigest[:2]}/{hexdigest[2:]}"


def _rel_to_key(rel: str) -> str | None:
    match = _OBJECT.fullmatch(rel)
    return None if match is None else f"{ALGORITHM}:{match[1]}{match[2]}"


def _temp_name() -> str:
    # pid for the humans reading tmp/, uuid for uniqueness across hosts sharing a store.
    return f"{os.getpid()}-{uuid.uuid4().hex}.tmp"


def _integrity_error(key: str, actual: str) -> IntegrityError:
    return IntegrityError(
        f"artifact {key!r} is corrupt: its stored bytes hash to {actual!r}; the store may "
        "have been tampered with or damaged (put the original bytes again to repair it)",
        column=key,
        value=actual,
        expected=key,
    )


def _as_bytes(data: object) -> bytes | bytearray | memoryview:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    raise DataError(
        f"cannot store a {type(data).__name__}: expected bytes (or bytearray/memoryview)",
        column="data",
        value=type(data).__name__,
        expected="bytes",
    )


def _fsync_dir(path: str | os.PathLike[str]) -> None:
    # Makes the rename itself durable; not possible on Windows, optional elsewhere.
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _ContentStore(abc.ABC):
    """The store logic, written once over a handful of file primitives.

    Paths handed to the primitives are whatever :meth:`_path` returns for a
    root-relative POSIX path; relative paths are what users see in reports.
    """

    # -- primitives -------------------------------------------------------------------

    @abc.abstractmethod
    def _path(self, rel: str) -> str: ...

    @abc.abstractmethod
    def _create_temp(self) -> tuple[str, IO[bytes]]:
        """Create a new, uniquely named file under ``tmp/``, open for writing."""

    @abc.abstractmethod
    def _seal(self, handle: IO[bytes]) -> None:
        """Flush ``handle`` to stable storage and close it."""

    @abc.abstractmethod
    def _commit(self, temp: str, final: str) -> None:
        """Move ``temp`` onto ``final`` atomically, replacing what is there."""

    @abc.abstractmethod
    def _open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        """Open ``path`` for reading; ``FileNotFoundError`` if absent."""

    @abc.abstractmethod
    def _isfile(self, path: str) -> bool: ...

    @abc.abstractmethod
    def _size(self, path: str) -> int: ...

    @abc.abstractmethod
    def _remove(self, path: str) -> None:
        """Remove the file at ``path``; ``FileNotFoundError`` if absent."""

    @abc.abstractmethod
    def _walk(self, top: str) -> Iterator[str]:
        """Yield the root-relative POSIX path of every file under ``top``, sorted."""

    @abc.abstractmethod
    def _age(self, path: str) -> float | None:
        """Seconds since ``path`` was last written, ``None`` if unknown."""

    # -- shared logic -----------------------------------------------------------------

    def _object(self, key: str) -> str:
        return self._path(_object_rel(key))

    def _hash_of(self, path: str) -> str:
        digest = hashlib.sha256()
        with self._open(path) as handle:
            for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
                digest.update(chunk)
        return _prefixed(digest)

    def _intact(self, key: str) -> bool:
        try:
            actual = self._hash_of(self._object(key))
        except FileNotFoundError:
            return False
        if actual != key:
            logger.warning("replacing corrupt artifact %s (its bytes hash to %s)", key, actual)
            return False
        return True

    def _write_temp(
        self, chunks: Iterable[bytes | bytearray | memoryview], *, key: str | None = None
    ) -> tuple[str, str]:
        """Write ``chunks`` to a new temp file; return it and their key (hashed unless given)."""
        temp, handle = self._create_temp()
        digest = hashlib.sha256()
        try:
            for chunk in chunks:
                if key is None:
                    digest.update(chunk)
                handle.write(chunk)
            self._seal(handle)
        except BaseException:
            handle.close()
            self._discard(temp)
            raise
        return temp, _prefixed(digest) if key is None else key

    def _store(self, temp: str, key: str) -> None:
        final = self._object(key)
        try:
            try:
                self._commit(temp, final)
            except FileExistsError:
                # Renames that refuse to replace (fsspec's local mv on Windows): either a
                # racing writer stored the same bytes first, or a corrupt copy is in the way.
                if self._intact(key):
                    self._discard(temp)
                    return
                with suppress(FileNotFoundError):
                    self._remove(final)
                self._commit(temp, final)
        except BaseException:
            self._discard(temp)
            raise

    def _discard(self, temp: str) -> None:
        with suppress(FileNotFoundError):
            self._remove(temp)

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key.

        Storing bytes that are already present and intact writes nothing. If
        the stored copy is corrupt it is replaced, atomically, by ``data``.

        Parameters
        ----------
        data
            The bytes to store (``bytes``, ``bytearray`` or ``memoryview``).

        Returns
        -------
        str
            ``"sha256:<hex>"`` of ``data``.

        Raises
        ------
        DataError
            If ``data`` is not bytes-like.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.put(b"hello")
        'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
        """
        view = _as_bytes(data)
        key = _prefixed(hashlib.sha256(view))
        if self._intact(key):
            return key
        temp, _ = self._write_temp([view], key=key)
        self._store(temp, key)
        return key

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store the content of the file at ``path`` and return its key.

        The file is copied in 1 MiB chunks and hashed while it is copied, so
        memory stays constant and the key always describes the stored bytes,
        even if the source changes during the copy.

        Parameters
        ----------
        path
            A local file.

        Returns
        -------
        str
            ``"sha256:<hex>"`` of the file's content.

        Raises
        ------
        NotFoundError
            If ``path`` does not exist.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> source = pathlib.Path(tempfile.mkdtemp()) / "model.bin"
        >>> _ = source.write_bytes(b"hello")
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.put_file(source) == store.put(b"hello")
        True
        """
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"no file at {os.fspath(path)!r} to store", value=os.fspath(path)
            ) from exc
        with source:
            temp, key = self._write_temp(iter(lambda: source.read(CHUNK_SIZE), b""))
        try:
            if self._intact(key):
                self._discard(temp)
                return key
        except BaseException:
            self._discard(temp)
            raise
        self._store(temp, key)
        return key

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``, after checking their hash.

        Parameters
        ----------
        key
            An artifact key, ``"sha256:<64 hex>"``.

        Returns
        -------
        bytes
            The stored bytes, which hash to ``key``.

        Raises
        ------
        DataError
            If ``key`` is malformed.
        NotFoundError
            If nothing is stored under ``key``.
        IntegrityError
            If the stored bytes do not match ``key``.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.get(store.put(b"hello"))
        b'hello'
        """
        path = self._object(key)
        try:
            with self._open(path) as handle:
                data = handle.read()
        except FileNotFoundError:
            raise self._not_found(key) from None
        actual = _prefixed(hashlib.sha256(data))
        if actual != key:
            raise _integrity_error(key, actual)
        return data

    def get_file(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Copy the artifact ``key`` to the local file ``dest``, verified.

        The bytes are streamed into a temporary file next to ``dest``, hashed on
        the way, and renamed onto ``dest`` only if they match ``key``: ``dest``
        is never left holding unverified or partial bytes. Missing parent
        folders are created.

        Parameters
        ----------
        key
            An artifact key.
        dest
            The local file to write (replaced if it exists).

        Returns
        -------
        pathlib.Path
            ``dest``.

        Raises
        ------
        DataError
            If ``key`` is malformed.
        NotFoundError
            If nothing is stored under ``key``.
        IntegrityError
            If the stored bytes do not match ``key`` (``dest`` is untouched).
        ConfigurationError
            If ``dest`` is a directory.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> dest = pathlib.Path(tempfile.mkdtemp()) / "out" / "model.bin"
        >>> store.get_file(store.put(b"hello"), dest).read_bytes()
        b'hello'
        """
        source = self._object(key)
        dest = Path(dest)
        if dest.is_dir():
            raise ConfigurationError(
                f"cannot write artifact {key!r} to {str(dest)!r}: it is a directory, "
                "expected a file path",
                column="dest",
                value=str(dest),
                expected="a file path",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp = dest.parent / f".mlkit-{uuid.uuid4().hex}.tmp"
        try:
            with self._open(source) as handle:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
                with os.fdopen(fd, "wb") as out:
                    digest = hashlib.sha256()
                    for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            actual = _prefixed(digest)
            if actual != key:
                raise _integrity_error(key, actual)
            os.replace(temp, dest)
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            if self._isfile(source):
                raise
            raise self._not_found(key) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return dest

    def exists(self, key: str) -> bool:
        """Return whether an artifact is stored under ``key`` (without rehashing it).

        Parameters
        ----------
        key
            An artifact key.

        Returns
        -------
        bool
            True if a file is stored under ``key``.

        Raises
        ------
        DataError
            If ``key`` is malformed.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.exists(store.put(b"hello")), store.exists("sha256:" + "0" * 64)
        (True, False)
        """
        return self._isfile(self._object(key))

    def size(self, key: str) -> int:
        """Return the size in bytes of the artifact ``key`` (without rehashing it).

        Parameters
        ----------
        key
            An artifact key.

        Returns
        -------
        int
            The stored size.

        Raises
        ------
        DataError
            If ``key`` is malformed.
        NotFoundError
            If nothing is stored under ``key``.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.size(store.put(b"hello"))
        5
        """
        try:
            return self._size(self._object(key))
        except FileNotFoundError:
            raise self._not_found(key) from None

    def keys(self) -> Iterator[str]:
        """Yield every stored key, sorted.

        Only files at a valid key path count; anything else under the key tree
        is reported by :meth:`verify` as stray and never yielded.

        Yields
        ------
        str
            Artifact keys.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> key = store.put(b"hello")
        >>> list(store.keys()) == [key]
        True
        """
        for rel in self._walk(ALGORITHM):
            key = _rel_to_key(rel)
            if key is not None:
                yield key

    def delete(self, key: str) -> None:
        """Remove the artifact ``key``.

        Keys are content hashes, so another run may share the artifact: delete
        only what nothing refers to.

        Parameters
        ----------
        key
            An artifact key.

        Raises
        ------
        DataError
            If ``key`` is malformed.
        NotFoundError
            If nothing is stored under ``key``.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> key = store.put(b"hello")
        >>> store.delete(key)
        >>> store.exists(key)
        False
        """
        try:
            self._remove(self._object(key))
        except FileNotFoundError:
            raise self._not_found(key) from None

    def verify(self, *, keys: Iterable[str] | None = None) -> StoreCheck:
        """Rehash stored artifacts and report what is wrong with the store.

        Parameters
        ----------
        keys
            Check only these keys (and report those not stored as missing).
            By default every artifact is checked, and the key tree and ``tmp/``
            are also scanned for stray and temporary files.

        Returns
        -------
        StoreCheck
            ``ok`` is True when every checked artifact is intact and nothing
            requested is missing.

        Raises
        ------
        DataError
            If one of ``keys`` is malformed.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> _ = store.put(b"hello")
        >>> store.verify()
        StoreCheck(ok=True, checked=1, corrupt=0, missing=0, stray=0, temp=0)
        """
        corrupt: list[str] = []
        missing: list[str] = []
        stray: list[str] = []
        temp: list[str] = []
        checked = 0
        if keys is None:
            candidates: list[str] = []
            for rel in self._walk(ALGORITHM):
                key = _rel_to_key(rel)
                if key is None:
                    stray.append(rel)
                else:
                    candidates.append(key)
            temp = list(self._walk("tmp"))
        else:
            candidates = [check_key(key) for key in keys]
        for key in candidates:
            try:
                actual = self._hash_of(self._object(key))
            except FileNotFoundError:
                missing.append(key)
                continue
            except OSError as error:
                logger.warning("cannot read artifact %s: %s", key, error)
                actual = None
            checked += 1
            if actual != key:
                corrupt.append(key)
        if corrupt:
            logger.warning("%d corrupt artifact(s) in %r: %s", len(corrupt), self, corrupt)
        return StoreCheck(
            ok=not corrupt and not missing,
            checked=checked,
            corrupt=tuple(corrupt),
            stray=tuple(stray),
            temp=tuple(temp),
            missing=tuple(missing),
        )

    def clean_temp(self, *, older_than: float = 3600.0) -> int:
        """Remove temporary files not written to for ``older_than`` seconds.

        Temporary files are what a killed writer leaves behind; they are never
        visible as artifacts. A writer still running keeps its file fresh, so
        keep ``older_than`` well above the time one write takes; ``0`` removes
        every temporary file and is only safe when nothing is writing.

        Parameters
        ----------
        older_than
            Minimum age in seconds of the files to remove.

        Returns
        -------
        int
            How many files were removed.

        Raises
        ------
        ConfigurationError
            If ``older_than`` is negative or not a number.

        Examples
        --------
        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> store.clean_temp()
        0
        """
        if not isinstance(older_than, (int, float)) or not older_than >= 0:
            raise ConfigurationError(
                f"invalid older_than {older_than!r}: expected a number of seconds >= 0",
                column="older_than",
                value=older_than,
                expected="a number of seconds >= 0",
            )
        removed = 0
        for rel in list(self._walk("tmp")):
            path = self._path(rel)
            try:
                age = self._age(path)
            except FileNotFoundError:
                continue
            if (age is None and older_than > 0) or (age is not None and age < older_than):
                continue
            try:
                self._remove(path)
            except FileNotFoundError:
                continue
            removed += 1
        if removed:
            logger.info("removed %d temporary file(s) from %r", removed, self)
        return removed

    def _not_found(self, key: str) -> NotFoundError:
        return NotFoundError(
            f"no artifact {key!r} in {self!r}",
            column="key",
            value=key,
            expected="a stored key",
        )


class LocalArtifactStore(_ContentStore):
    """A content-addressed artifact store in a local directory.

    Artifacts live at ``<root>/sha256/<hex[:2]>/<hex[2:]>`` and are made
    read-only (write permission bits removed) once written. Writers use
    ``<root>/tmp/``, on the same file system, then ``os.replace``: a crash
    never leaves a partial artifact under its final name. Safe to share
    between threads and processes.

    Parameters
    ----------
    root
        The store directory; created on first write.

    Attributes
    ----------
    root
        The absolute store directory.

    Examples
    --------
    >>> import tempfile
    >>> store = LocalArtifactStore(tempfile.mkdtemp())
    >>> key = store.put(b"model bytes")
    >>> key
    'sha256:...'
    >>> store.get(key)
    b'model bytes'
    >>> store.put(b"model bytes") == key  # stored once
    True
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def _path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def _create_temp(self) -> tuple[str, IO[bytes]]:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = str(folder / _temp_name())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        return path, os.fdopen(fd, "wb")

    def _seal(self, handle: IO[bytes]) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        if hasattr(os, "fchmod"):
            mode = os.fstat(handle.fileno()).st_mode
            os.fchmod(handle.fileno(), stat.S_IMODE(mode) & ~0o222)
        handle.close()

    def _commit(self, temp: str, final: str) -> None:
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        try:
            os.replace(temp, final)
        except PermissionError:
            # Windows refuses to replace a read-only file (a corrupt one being healed).
            if os.name != "nt" or not os.path.isfile(final):
                raise
            os.chmod(final, stat.S_IWRITE | stat.S_IREAD)
            os.replace(temp, final)
        if os.name == "nt":
            os.chmod(final, stat.S_IREAD)
        _fsync_dir(folder)

    def _open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return open(path, "rb")

    def _isfile(self, path: str) -> bool:
        return os.path.isfile(path)

    def _size(self, path: str) -> int:
        return os.stat(path).st_size

    def _remove(self, path: str) -> None:
        try:
            os.remove(path)
        except PermissionError:
            if os.name != "nt" or not os.path.isfile(path):
                raise
            os.chmod(path, stat.S_IWRITE | stat.S_IREAD)
            os.remove(path)

    def _walk(self, top: str) -> Iterator[str]:
        base = os.path.join(self.root, top)
        for folder, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel_folder = Path(os.path.relpath(folder, self.root)).as_posix()
            for name in sorted(filenames):
                yield f"{rel_folder}/{name}"

    def _age(self, path: str) -> float | None:
        return time.time() - os.stat(path).st_mtime


class FsspecArtifactStore(_ContentStore):
    """A content-addressed artifact store on any fsspec file system.

    Same layout and behaviour as :class:`LocalArtifactStore` at ``url``
    (``s3://bucket/prefix``, ``gs://...``, ``memory://name``, a local path).
    Writes go to ``<url>/tmp/<unique>`` and are then moved with ``fs.mv``,
    which is a rename on local disks; on object stores an object appears only
    once it is complete. Requires the optional dependency fsspec
    (``pip install "mlkit[fsspec]"``) plus the package of the protocol used
    (``s3fs``, ``gcsfs``, ...).

    Parameters
    ----------
    url
        Where the store lives.
    **storage_options
        Passed to the fsspec file system (credentials, endpoint, ...).

    Attributes
    ----------
    url
        The ``url`` given.
    fs
        The fsspec file system.

    Raises
    ------
    ConfigurationError
        If fsspec is not installed.

    Examples
    --------
    >>> import uuid
    >>> store = FsspecArtifactStore(f"memory://{uuid.uuid4().hex}")
    >>> key = store.put(b"model bytes")
    >>> store.get(key)
    b'model bytes'
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            # import_module keeps the untyped optional dependency out of mypy's way.
            core = importlib.import_module("fsspec.core")
        except ImportError as error:
            raise ConfigurationError(
                f'FsspecArtifactStore({url!r}) needs fsspec: pip install "mlkit[fsspec]"',
                column="url",
                value=url,
                expected="fsspec installed",
            ) from error
        fs, root = core.url_to_fs(url, **storage_options)
        self.url = url
        self.fs: Any = fs
        self._root: str = root.rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.url!r})"

    def _path(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    def _create_temp(self) -> tuple[str, IO[bytes]]:
        folder = self._path("tmp")
        self.fs.makedirs(folder, exist_ok=True)
        path = f"{folder}/{_temp_name()}"
        return path, self.fs.open(path, "wb")

    def _seal(self, handle: IO[bytes]) -> None:
        handle.flush()
        # Only a local file has a descriptor; durability elsewhere is the remote's business.
        with suppress(AttributeError, OSError, ValueError):
            os.fsync(handle.fileno())
        handle.close()

    def _commit(self, temp: str, final: str) -> None:
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        self.fs.mv(temp, final)

    def _open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        handle: AbstractContextManager[IO[bytes]] = self.fs.open(path, "rb")
        return handle

    def _isfile(self, path: str) -> bool:
        return bool(self.fs.isfile(path))

    def _size(self, path: str) -> int:
        if not self.fs.isfile(path):
            raise FileNotFoundError(path)
        return int(self.fs.size(path))

    def _remove(self, path: str) -> None:
        if not self.fs.isfile(path):
            raise FileNotFoundError(path)
        self.fs.rm_file(path)

    def _walk(self, top: str) -> Iterator[str]:
        prefix = f"{self._root}/"
        try:
            found = self.fs.find(self._path(top), withdirs=False)
        except FileNotFoundError:
            return
        for path in sorted(found):
            if path.startswith(prefix):
                yield path[len(prefix) :]

    def _age(self, path: str) -> float | None:
        try:
            modified = self.fs.modified(path)
        except NotImplementedError:
            return None
        if not isinstance(modified, datetime):
            return None
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=timezone.utc)
        return (datetime.now(timezone.utc) - modified).total_seconds()
