"""Content hashes of bytes, files, directories, arrays, frames and Python objects.

Every hash is ``"sha256:<64 lowercase hex>"``: SHA-256 because it is the
universal choice (OCI image digests and most artifact stores use it) and
hardware accelerated on current CPUs.

:func:`hash_bytes` and :func:`hash_file` are the plain SHA-256 of the content,
so ``sha256sum`` gives the same hex. :func:`hash_dir` hashes a canonical JSON
serialisation of its sorted manifest. :func:`hash_array`, :func:`hash_frame` and
:func:`hash_object` hash a versioned canonical encoding (``mlkit.hash_frame/1``
and so on): a JSON header (shape, labels, dtypes) followed by one SHA-256
digest per column, so the result depends on the values and never on memory
layout, block structure, ``PYTHONHASHSEED`` or object identity.

Value rules, stated once:

- Floats are hashed bit for bit, except that every NaN hashes alike (payload
  and sign are normalised). ``-0.0`` and ``0.0`` hash *differently*: they are
  distinct values (``1 / x`` and ``np.signbit`` tell them apart) and a file
  written from either keeps the difference.
- The dtype is part of the hash: ``int64`` and ``float64`` columns with equal
  numbers differ, and so do an ``object`` and a ``str`` column of equal text.
  A categorical's categories, in order, and its ``ordered`` flag count too,
  because a model's encoding of the column depends on them.
- In ``object`` columns and arrays each value is hashed with its kind: str,
  bytes, bool, int, float, complex, ``None``, ``pd.NA``, ``pd.NaT``, or, for
  any other type, its qualified type name and its pickle (through joblib). So
  ``1``, ``"1"``, ``1.0`` and ``True`` differ, and ``None``, ``NaN``,
  ``pd.NA`` and ``pd.NaT`` are four different values. numpy scalars and
  subclasses share the kind they extend (``np.int64(1)`` hashes like ``1``).
- Labels (column names, index names) are encoded with their type too: the
  column ``1`` and the column ``"1"`` differ; tuples (MultiIndex columns) work.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import operator
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from pickle import _Pickler  # the pure-Python pickler joblib's hasher extends
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd
from joblib.hashing import NumpyHasher
from numpy.typing import NDArray
from pandas.api.types import union_categoricals

from mlkit._frames import is_dask_frame, iter_pieces, map_reduce
from mlkit.errors import ConfigurationError, DataError, IntegrityError, NotFoundError

if TYPE_CHECKING:
    from typing_extensions import Buffer

    DaskFrame = Any  # dask.dataframe.DataFrame; Dask is untyped and optional

__all__ = [
    "ALGORITHM",
    "DatasetVersion",
    "DirManifest",
    "ManifestEntry",
    "hash_array",
    "hash_bytes",
    "hash_dir",
    "hash_file",
    "hash_frame",
    "hash_object",
]

logger = logging.getLogger(__name__)

ALGORITHM = "sha256"
"""The hash algorithm of every mlkit content hash, and the prefix of its string form."""

_HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")
_FRAME_FORMAT = "mlkit.hash_frame/1"
_SERIES_FORMAT = "mlkit.hash_series/1"
_INDEX_FORMAT = "mlkit.hash_index/1"
_ARRAY_FORMAT = "mlkit.hash_array/1"
_DIR_FORMAT = "mlkit.hash_dir/1"


def _sha256(*parts: Buffer | NDArray[Any]) -> hashlib._Hash:
    h = hashlib.sha256()
    for part in parts:
        # numpy's stubs give ndarray the buffer protocol only for Python >= 3.12.
        h.update(part)  # type: ignore[arg-type,unused-ignore]
    return h


def _prefixed(h: hashlib._Hash) -> str:
    return f"{ALGORITHM}:{h.hexdigest()}"


def _canonical_json(value: Any) -> bytes:
    # ASCII-only, no whitespace, keys sorted: one byte string per value.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode()


def _count(n: int) -> bytes:
    return n.to_bytes(8, "little")


def _check_hash(value: Any, *, what: str) -> str:
    if not isinstance(value, str) or _HASH_RE.fullmatch(value) is None:
        raise DataError(
            f"{what} {value!r} is not a content hash; expected 'sha256:' followed by "
            "64 lowercase hex digits",
            column=what,
            value=value,
            expected="sha256:<64 lowercase hex>",
        )
    return value


# --------------------------------------------------------------------- bytes, files


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    """Return the SHA-256 of ``data`` as ``"sha256:<hex>"``.

    Parameters
    ----------
    data
        The bytes to hash (``bytes``, ``bytearray`` or any ``memoryview``).

    Returns
    -------
    str
        ``"sha256:"`` and the 64 lowercase hex digits ``hashlib.sha256`` gives.

    Raises
    ------
    DataError
        If ``data`` is not bytes-like (a ``str`` must be encoded first).

    Examples
    --------
    >>> hash_bytes(b"hello")
    'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
    """
    given: object = data
    if isinstance(given, memoryview) and not given.c_contiguous:
        given = given.tobytes()  # hashlib needs a C-contiguous buffer
    if not isinstance(given, (bytes, bytearray, memoryview)):
        hint = " (encode a str first, e.g. text.encode())" if isinstance(given, str) else ""
        raise DataError(
            f"hash_bytes expects bytes, bytearray or memoryview, got {type(given).__name__}{hint}",
            value=type(given).__name__,
            expected="bytes-like",
        )
    return _prefixed(_sha256(given))


def _check_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ConfigurationError(
            f"chunk_size must be a positive int, got {chunk_size!r}",
            column="chunk_size",
            value=chunk_size,
            expected="positive int",
        )
    return chunk_size


def _file_digest(path: Path, chunk_size: int) -> tuple[str, int]:
    """Stream ``path`` through SHA-256 with one reusable buffer: (hash, bytes read)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NotFoundError(
            f"no such file: {str(path)!r}", value=str(path), expected="an existing file"
        ) from None
    if stat.S_ISDIR(mode):
        raise DataError(
            f"{str(path)!r} is a directory, not a file; use hash_dir() for directories",
            value=str(path),
            expected="a regular file",
        )
    if not stat.S_ISREG(mode):
        raise DataError(
            f"{str(path)!r} is not a regular file (a FIFO, socket or device)",
            value=str(path),
            expected="a regular file",
        )
    h = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    size = 0
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            h.update(view[:n])
            size += n
    return _prefixed(h), size


def _as_path(path: Any, *, what: str) -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError:
        raise DataError(
            f"{what} expects a path (str or os.PathLike), got {type(path).__name__}",
            value=type(path).__name__,
            expected="str or os.PathLike",
        ) from None


def hash_file(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 of a file's content, read in chunks (constant memory).

    Parameters
    ----------
    path
        A regular file; a symbolic link is followed.
    chunk_size
        Bytes read at a time (one buffer of this size is reused).

    Returns
    -------
    str
        ``"sha256:<hex>"``, the same hex as ``sha256sum path``.

    Raises
    ------
    NotFoundError
        If ``path`` does not exist.
    DataError
        If ``path`` is a directory or not a regular file.
    ConfigurationError
        If ``chunk_size`` is not a positive int.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> target = os.path.join(folder, "greeting.txt")
    >>> with open(target, "wb") as f:
    ...     _ = f.write(b"hello")
    >>> hash_file(target) == hash_bytes(b"hello")
    True
    """
    chunk_size = _check_chunk_size(chunk_size)
    return _file_digest(_as_path(path, what="hash_file"), chunk_size)[0]


# ------------------------------------------------------------------------ directories


def _check_entry_path(path: Any) -> str:
    segments = path.split("/") if isinstance(path, str) else []
    if (
        not segments
        or "\0" in path
        or any(s in ("", ".", "..") for s in segments)  # also catches a leading "/"
    ):
        raise DataError(
            f"manifest path {path!r} is not a relative POSIX path of named segments",
            column="path",
            value=path,
            expected="relative POSIX path without '', '.' or '..' segments or NUL",
        )
    return str(path)


def _check_manifest_hash(value: Any) -> str:
    return _check_hash(value, what="manifest hash")


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise DataError(
            f"manifest size {size!r} is not a non-negative int",
            column="size",
            value=size,
            expected="int >= 0",
        )
    return size


@attrs.frozen
class ManifestEntry:
    """One file of a :class:`DirManifest`.

    Attributes
    ----------
    path
        The file's path relative to the hashed directory, POSIX separators.
    hash
        ``"sha256:<hex>"`` of the file's content.
    size
        The file's size in bytes.
    """

    path: str = attrs.field(converter=_check_entry_path)
    hash: str = attrs.field(converter=_check_manifest_hash)
    size: int = attrs.field(converter=_check_size)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"path": ..., "hash": ..., "size": ...}``."""
        return {"path": self.path, "hash": self.hash, "size": self.size}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManifestEntry:
        """Build an entry from :meth:`to_dict` output; DataError if a key is missing."""
        return cls(**_require(data, ("path", "hash", "size"), what="manifest entry"))


def _manifest_hash(entries: tuple[ManifestEntry, ...]) -> str:
    payload = {"format": _DIR_FORMAT, "entries": [[e.path, e.hash, e.size] for e in entries]}
    return _prefixed(_sha256(_canonical_json(payload)))


def _check_entries(entries: Iterable[Any]) -> tuple[ManifestEntry, ...]:
    result = tuple(entries)
    for entry in result:
        if not isinstance(entry, ManifestEntry):
            raise DataError(
                f"manifest entries must be ManifestEntry, got {type(entry).__name__}",
                value=type(entry).__name__,
                expected="ManifestEntry",
            )
    paths = [e.path for e in result]
    for before, after in itertools.pairwise(paths):
        if not before < after:
            raise DataError(
                f"manifest entries must be sorted by path without duplicates; "
                f"{after!r} follows {before!r}",
                column="path",
                value=after,
                expected=f"a path after {before!r}",
            )
    return result


@attrs.frozen
class DirManifest:
    """The sorted manifest of a directory tree and its hash, from :func:`hash_dir`.

    The hash is the SHA-256 of the canonical JSON (ASCII, no spaces, sorted
    keys) of ``{"entries": [[path, hash, size], ...], "format":
    "mlkit.hash_dir/1"}``; constructing a manifest whose ``hash`` does not
    match its entries raises :class:`~mlkit.errors.IntegrityError`. Build one
    from entries with :meth:`from_entries`.

    Attributes
    ----------
    hash
        ``"sha256:<hex>"`` of the canonical manifest.
    entries
        One :class:`ManifestEntry` per regular file, sorted by path. Empty
        directories are not recorded.
    """

    hash: str = attrs.field(converter=_check_manifest_hash)
    entries: tuple[ManifestEntry, ...] = attrs.field(converter=_check_entries)

    def __attrs_post_init__(self) -> None:
        expected = _manifest_hash(self.entries)
        if self.hash != expected:
            raise IntegrityError(
                f"manifest hash {self.hash} does not match its entries (they hash to {expected})",
                column="hash",
                value=self.hash,
                expected=expected,
            )

    @classmethod
    def from_entries(cls, entries: Iterable[ManifestEntry]) -> DirManifest:
        """Sort ``entries`` by path and compute the manifest hash.

        Examples
        --------
        >>> entry = ManifestEntry("a.txt", hash_bytes(b"a"), 1)
        >>> DirManifest.from_entries([entry]).entries == (entry,)
        True
        """
        ordered = tuple(sorted(entries, key=operator.attrgetter("path")))
        return cls(hash=_manifest_hash(_check_entries(ordered)), entries=ordered)

    @property
    def size(self) -> int:
        """Total bytes of all files."""
        return sum(e.size for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"hash": ..., "entries": [{"path", "hash", "size"}, ...]}``."""
        return {"hash": self.hash, "entries": [e.to_dict() for e in self.entries]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DirManifest:
        """Rebuild from :meth:`to_dict` output, checking the hash against the entries.

        Raises
        ------
        DataError
            If a key is missing or an entry is malformed or out of order.
        IntegrityError
            If the hash does not match the entries.
        """
        fields = _require(data, ("hash", "entries"), what="manifest")
        if not isinstance(fields["entries"], (list, tuple)):
            raise DataError(
                f"manifest entries must be a list, got {type(fields['entries']).__name__}",
                column="entries",
                value=type(fields["entries"]).__name__,
                expected="list",
            )
        entries = [ManifestEntry.from_dict(e) for e in fields["entries"]]
        return cls(hash=fields["hash"], entries=tuple(entries))

    def to_json(self) -> str:
        """Return :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> DirManifest:
        """Rebuild from :meth:`to_json` output."""
        return cls.from_dict(_load_json(text, what="manifest"))


def hash_dir(path: str | os.PathLike[str]) -> DirManifest:
    """Hash every file under a directory into a sorted manifest.

    Symbolic links inside the tree are refused (:class:`~mlkit.errors.DataError`
    naming the link): following them could leave the tree, loop, or make the
    manifest depend on files elsewhere, and hashing the link text instead would
    record a path, not data. Resolve or copy links first. ``path`` itself may be
    a link to a directory. Files are streamed (constant memory); empty
    directories are not recorded.

    Parameters
    ----------
    path
        The directory.

    Returns
    -------
    DirManifest
        Entries ``(relative POSIX path, "sha256:<hex>", size)`` sorted by path,
        and the manifest's hash.

    Raises
    ------
    NotFoundError
        If ``path`` does not exist.
    DataError
        If ``path`` is not a directory, or the tree holds a symbolic link or a
        special file (FIFO, socket, device).

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "sub"))
    >>> for name, data in [("b.txt", b"b"), ("sub/a.txt", b"a")]:
    ...     with open(os.path.join(root, name), "wb") as f:
    ...         _ = f.write(data)
    >>> manifest = hash_dir(root)
    >>> [(e.path, e.size) for e in manifest.entries]
    [('b.txt', 1), ('sub/a.txt', 1)]
    >>> manifest.entries[0].hash == hash_bytes(b"b")
    True
    """
    root = _as_path(path, what="hash_dir")
    if not root.exists():
        raise NotFoundError(
            f"no such directory: {str(root)!r}", value=str(root), expected="an existing directory"
        )
    if not root.is_dir():
        raise DataError(
            f"{str(root)!r} is not a directory; use hash_file() for a file",
            value=str(root),
            expected="a directory",
        )
    entries: list[ManifestEntry] = []
    pending: list[tuple[Path, str]] = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as found:
            items = list(found)
        for item in items:
            relative = prefix + item.name
            if item.is_symlink():
                raise DataError(
                    f"hash_dir refuses symbolic links: {relative!r} under {str(root)!r} "
                    f"points to {os.readlink(item.path)!r}; resolve or copy it first",
                    column=relative,
                    value=os.readlink(item.path),
                    expected="a regular file or directory",
                )
            if item.is_dir(follow_symlinks=False):
                pending.append((Path(item.path), relative + "/"))
            elif item.is_file(follow_symlinks=False):
                digest, size = _file_digest(Path(item.path), 1 << 20)
                entries.append(ManifestEntry(relative, digest, size))
            else:
                raise DataError(
                    f"hash_dir found {relative!r} under {str(root)!r}, which is not a regular "
                    "file or directory (a FIFO, socket or device)",
                    column=relative,
                    expected="a regular file or directory",
                )
    manifest = DirManifest.from_entries(entries)
    logger.debug("hashed %d files (%d bytes) under %s", len(entries), manifest.size, root)
    return manifest


# ----------------------------------------------------------------- labels and values


def _label(value: Any) -> Any:
    """Encode a column or index label as JSON that keeps its kind (1 vs "1" vs (1,))."""
    if value is None:
        return ["none"]
    if isinstance(value, (bool, np.bool_)):
        return ["bool", bool(value)]
    if isinstance(value, (int, np.integer)):
        return ["int", str(int(value))]
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.longdouble):
        number = float(value)
        return ["float", "nan" if number != number else number.hex()]
    if isinstance(value, str):
        return ["str", str(value)]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, tuple):
        return ["tuple", [_label(v) for v in value]]
    kind = type(value)
    return ["object", f"{kind.__module__}.{kind.__qualname__}", _joblib_hex(value)]


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, np.dtype):
        return str(dtype.newbyteorder("="))  # ">f8" and "<f8" both name float64
    return str(dtype)


def _little_endian(a: NDArray[Any]) -> NDArray[Any]:
    order = a.dtype.byteorder
    if order == ">" or (order == "=" and sys.byteorder == "big"):
        return a.astype(a.dtype.newbyteorder("<"))
    return a


def _is_long_double(dtype: np.dtype[Any]) -> bool:
    return dtype.kind in "fc" and dtype.itemsize // (2 if dtype.kind == "c" else 1) > 8


def _ndarray_digest(a: NDArray[Any]) -> bytes:
    """Digest of an array's values in C order (not its dtype or shape: callers add those)."""
    kind = a.dtype.kind
    if kind == "O":
        return _object_digest(a.ravel())
    if a.dtype.names is not None:
        # Field by field, so padding bytes between fields never count.
        h = _sha256(b"structured", _count(a.size))
        for name in a.dtype.names:
            h.update(_ndarray_digest(a[name]))
        return h.digest()
    if _is_long_double(a.dtype):
        # long double carries padding bytes of no defined value; numpy's repr
        # of it is exact (shortest unique), so hash that text instead.
        return _sha256(b"longdouble", _strings_digest(a.ravel().astype(str).tolist())).digest()
    return _sha256(b"bytes", _plain_bytes(a)).digest()


def _plain_bytes(a: NDArray[Any]) -> NDArray[np.uint8]:
    """Return a fixed-size dtype's values as contiguous little-endian bytes, NaNs made alike."""
    kind = a.dtype.kind
    a = _little_endian(np.ascontiguousarray(a))
    if kind in "fc":
        flat = a.view(f"<f{a.dtype.itemsize // 2}") if kind == "c" else a
        nan = np.isnan(flat)
        if nan.any():
            bits = flat.view(f"<u{flat.dtype.itemsize}")
            canonical = np.array(np.nan, dtype=flat.dtype).view(bits.dtype)
            # Copy only if some NaN is not numpy's own: usually none is.
            if not np.all(bits[nan] == canonical):
                flat = flat.copy()
                flat[nan] = np.nan  # one bit pattern for every NaN
                a = flat
    return a.reshape(-1).view(np.uint8)


# Bytes of underlying rows gathered at a time from strided columns: about an L2 cache.
_CHUNK_SPAN = 1 << 21


def _strided_numeric(column: pd.Series) -> NDArray[Any] | None:
    """Return the column's values if they are plain numbers in a strided view, else None."""
    dtype = column.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufcmM" or _is_long_double(dtype):
        return None
    values = column.to_numpy()
    stride = abs(values.strides[0]) if values.ndim == 1 else 0
    if values.flags.c_contiguous or not 0 < stride <= _CHUNK_SPAN // 1024:
        return None
    return values


def _row_chunked_digests(arrays: list[NDArray[Any]]) -> list[bytes]:
    """Equal to ``[_ndarray_digest(a) for a in arrays]`` for strided views into row-major data.

    Gathering one strided column reads a cache line per row; walking all the
    columns a chunk of rows at a time reuses those lines across columns (about
    twice as fast on a C-ordered 1,000,000 x 20 block). The loop is over chunks
    of thousands of rows, never over rows.
    """
    if not arrays:
        return []
    rows = _CHUNK_SPAN // max(abs(a.strides[0]) for a in arrays)
    hashers = [_sha256(b"bytes") for _ in arrays]
    for start in range(0, len(arrays[0]), rows):
        for h, a in zip(hashers, arrays, strict=True):
            h.update(_plain_bytes(a[start : start + rows]))  # type: ignore[arg-type,unused-ignore]
    return [h.digest() for h in hashers]


def _strings_digest(items: list[Any]) -> bytes:
    """Digest of a list of str; raises TypeError if an item is not a str."""
    joined = "\0".join(items)
    n = len(items)
    if n and joined.count("\0") == n - 1:
        # No item holds a NUL, so the separator alone makes the encoding injective.
        return _sha256(b"str-sep", _count(n), joined.encode("utf-8", "surrogatepass")).digest()
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=n)
    return _sha256(
        b"str-len",
        _count(n),
        lengths.astype("<i8").view(np.uint8),
        "".join(items).encode("utf-8", "surrogatepass"),
    ).digest()


def _bytes_digest(items: list[bytes]) -> bytes:
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    return _sha256(
        b"bytes-len", _count(len(items)), lengths.astype("<i8").view(np.uint8), b"".join(items)
    ).digest()


def _object_digest(a: NDArray[Any]) -> bytes:
    """Digest of a 1-D object array, each value hashed with its kind."""
    items = a.tolist()
    try:
        # The common case, all str: no per-value type inspection at all.
        return _sha256(b"object-str", _strings_digest(items)).digest()
    except TypeError:
        pass
    missing = np.asarray(pd.isna(a), dtype=np.bool_)
    if missing.any() and not missing.all():
        # Text with gaps: the present values usually are all str, so split them
        # off and keep the slow per-kind path for the (few) missing ones.
        h = _sha256(b"object-split", _count(len(a)), np.packbits(missing).tobytes())
        h.update(_object_digest(a[~missing]))
        h.update(_mixed_digest(a[missing]))
        return h.digest()
    return _sha256(b"object-mixed", _mixed_digest(a)).digest()


def _value_kind(kind: type) -> str:
    if issubclass(kind, (bool, np.bool_)):
        return "bool"
    if issubclass(kind, (int, np.integer)):
        return "int"
    if issubclass(kind, (float, np.floating)) and not issubclass(kind, np.longdouble):
        return "float"
    if issubclass(kind, (complex, np.complexfloating)) and not issubclass(kind, np.clongdouble):
        return "complex"
    if issubclass(kind, str):
        return "str"
    if issubclass(kind, bytes):
        return "bytes"
    if kind is type(None):
        return "none"
    if kind is type(pd.NA):
        return "na"
    if kind is type(pd.NaT):
        return "nat"
    return f"object:{kind.__module__}.{kind.__qualname__}"


def _int_digest(group: NDArray[Any]) -> bytes:
    values = list(map(int, group.tolist()))
    try:
        return _sha256(b"int64", np.array(values, dtype="<i8").view(np.uint8)).digest()
    except OverflowError:
        return _sha256(b"bigint", _strings_digest(list(map(str, values)))).digest()


_GROUP_DIGESTS: dict[str, Callable[[NDArray[Any]], bytes]] = {
    "bool": lambda g: _ndarray_digest(g.astype(np.bool_)),
    "int": _int_digest,
    "float": lambda g: _ndarray_digest(g.astype(np.float64)),
    "complex": lambda g: _ndarray_digest(g.astype(np.complex128)),
    "str": lambda g: _strings_digest(g.tolist()),
    "bytes": lambda g: _bytes_digest(g.tolist()),
    # Singletons: which rows hold them is already in the kind codes.
    "none": lambda g: b"",
    "na": lambda g: b"",
    "nat": lambda g: b"",
}


def _mixed_digest(a: NDArray[Any]) -> bytes:
    """Digest of a 1-D object array of any mix of kinds."""
    n = len(a)
    types = np.fromiter(map(type, a.tolist()), dtype=object, count=n)
    type_codes, uniques = pd.factorize(types)
    kinds = sorted({_value_kind(t) for t in uniques})
    lookup = np.array([kinds.index(_value_kind(t)) for t in uniques], dtype=np.int64)
    codes = lookup[type_codes] if n else np.zeros(0, dtype=np.int64)
    h = _sha256(b"mixed", _count(n), _canonical_json(kinds), codes.astype("<i8").view(np.uint8))
    for code, kind in enumerate(kinds):
        group = a[codes == code]
        encode = _GROUP_DIGESTS.get(kind)
        part = encode(group) if encode is not None else bytes.fromhex(_joblib_hex(group.tolist()))
        h.update(_sha256(kind.encode(), part).digest())
    return h.digest()


def _values_digest(values: pd.Series | pd.Index) -> bytes:
    """Digest of one column or index level's values (its dtype name is hashed by the caller)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        return _ndarray_digest(values.to_numpy())
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        codes = np.asarray(values.array.codes)
        return _sha256(
            b"categorical",
            _canonical_json([_dtype_name(categories.dtype), bool(dtype.ordered)]),
            _values_digest(categories),
            _ndarray_digest(codes),
        ).digest()
    if isinstance(dtype, pd.DatetimeTZDtype):
        # UTC instants; the time zone is in the dtype name.
        return _ndarray_digest(values.to_numpy(dtype=f"datetime64[{dtype.unit}]"))
    if isinstance(dtype, pd.StringDtype):
        # str or the dtype's own missing value: the object path handles both.
        return _object_digest(values.to_numpy(dtype=object))
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biufc":
        # Masked (Int64, Float64, boolean) and pyarrow numbers: mask + filled values.
        missing = np.asarray(values.isna(), dtype=np.bool_)
        filled = values.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        return _sha256(b"masked", np.packbits(missing).tobytes(), _ndarray_digest(filled)).digest()
    # Any other extension type (period, interval, sparse, pyarrow, ...): pandas'
    # own per-row hash, which is deterministic for a given dtype.
    rows = pd.util.hash_pandas_object(values, index=False, categorize=True)
    return _sha256(b"pandas", _ndarray_digest(rows.to_numpy(dtype=np.uint64))).digest()


def _index_parts(index: pd.Index) -> tuple[dict[str, Any], list[bytes]]:
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    header = {
        "index_names": [_label(name) for name in index.names],
        "index_dtypes": [_dtype_name(level.dtype) for level in levels],
    }
    return header, [_values_digest(level) for level in levels]


# ---------------------------------------------------------------- arrays and frames


def hash_array(a: NDArray[Any]) -> str:
    """Hash a numpy array's dtype, shape and values, independent of memory layout.

    C-ordered, Fortran-ordered and strided views with equal values hash alike
    (values are read in C order). Object arrays hash every value with its kind
    (see the module notes); structured arrays field by field, so padding never
    counts.

    A masked array hashes its mask and its unmasked values (what lies under
    the mask does not count).

    Parameters
    ----------
    a
        Any ``numpy.ndarray``, masked arrays included.

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Raises
    ------
    DataError
        If ``a`` is not an ndarray.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> hash_array(x) == hash_array(np.asfortranarray(x))
    True
    >>> hash_array(x) == hash_array(x.reshape(3, 2))
    False
    """
    if not isinstance(a, np.ndarray):
        raise DataError(
            f"hash_array expects a numpy.ndarray, got {type(a).__name__}; "
            "use hash_object() for other objects",
            value=type(a).__name__,
            expected="numpy.ndarray",
        )
    if isinstance(a, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(a)
        filled = np.where(mask, np.zeros((), dtype=a.dtype), np.ma.getdata(a))
        parts = {"format": "mlkit.hash_masked_array/1", "mask": hash_array(mask)}
        return _prefixed(_sha256(_canonical_json({**parts, "data": hash_array(filled)})))
    descr = np.lib.format.dtype_to_descr(a.dtype.newbyteorder("<"))
    header = {"format": _ARRAY_FORMAT, "dtype": descr, "shape": list(a.shape)}
    return _prefixed(_sha256(_canonical_json(header), _ndarray_digest(a)))


def hash_frame(df: pd.DataFrame | DaskFrame) -> str:
    """Hash a whole DataFrame: every row, the column labels, dtypes and the index.

    Unlike MLflow's dataset digest (8 hex characters of the first 10,000
    rows), every cell counts, and the full SHA-256 is kept. The result does not
    depend on memory layout: a copy, a frame built column by column or from
    one 2-D array, C or Fortran order, or a different pandas block structure
    all hash alike. It is stable across processes and runs (no Python
    ``hash()``, no object ids) for given numpy and pandas major versions; the
    dtype names are part of it, so a dtype that pandas infers differently
    (``str`` in pandas 3 where pandas 2 gave ``object``) changes it.

    Each column is hashed on its own (numeric, bool and datetime columns as
    their raw bytes, text as one joined string, other extension types through
    ``pandas.util.hash_pandas_object``); the per-column digests, the labels,
    dtypes, index names and shape are then hashed together. Values follow the
    rules in the module notes (NaNs alike, ``-0.0`` distinct from ``0.0``,
    object values with their kind).

    A ``dask.dataframe.DataFrame`` (the ``dask`` extra) hashes exactly like
    the pandas frame its ``compute()`` returns, whatever the partitioning
    (empty partitions included), without holding it in memory: SHA-256 only
    takes bytes in order, so the partitions are computed one after the other
    (one in memory at a time) and streamed into one hasher per column.
    Categoricals whose categories differ between partitions (or are unknown
    to Dask) get the categories ``compute()`` gives them, the union in order
    of appearance, built partition by partition. Text and object columns (and
    ``longdouble`` ones) need a few facts about the whole column before their
    first byte (the row count, which kinds of values occur, whether a string
    holds a NUL), so a frame with such columns is computed twice: a parallel
    first pass returns only those facts, the ordered second pass hashes.
    Purely numeric, datetime and categorical frames are computed once.
    Hashing an iterable of chunks is not offered: a generator cannot be read
    twice; concatenate the chunks, or wrap them in a Dask frame.

    Parameters
    ----------
    df
        The frame: a ``pandas.DataFrame`` or a ``dask.dataframe.DataFrame``.

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Raises
    ------
    DataError
        If ``df`` is not a pandas or Dask DataFrame, or if the partitions of a
        Dask frame disagree on their column labels, index names or dtypes,
        or give other data on the second pass than on the first.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    >>> hash_frame(df) == hash_frame(df.copy())
    True
    >>> hash_frame(df) == hash_frame(df.rename(columns={"y": "z"}))
    False
    >>> hash_frame(df)[:7]
    'sha256:'
    """
    if is_dask_frame(df):
        return _hash_dask_frame(df)
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"hash_frame expects a pandas.DataFrame or a dask.dataframe.DataFrame, got "
            f"{type(df).__name__}; use hash_array() or hash_object() for other objects",
            value=type(df).__name__,
            expected="pandas.DataFrame or dask.dataframe.DataFrame",
        )
    index_header, index_digests = _index_parts(df.index)
    header = {
        "format": _FRAME_FORMAT,
        "shape": list(df.shape),
        "columns": [_label(c) for c in df.columns],
        "column_names": [_label(name) for name in df.columns.names],
        "dtypes": [_dtype_name(d) for d in df.dtypes],
        **index_header,
    }
    # One iteration per column, each hashing the whole column in C: never a
    # Python loop over rows, and per-column hashing is what makes the block
    # layout irrelevant. Strided numeric columns are read together, by chunks.
    digests: list[bytes] = []
    strided: dict[int, NDArray[Any]] = {}
    for position, (_, column) in enumerate(df.items()):
        values = _strided_numeric(column)
        if values is None:
            digests.append(_values_digest(column))
        else:
            strided[position] = values
            digests.append(b"")
    for position, digest in zip(
        strided, _row_chunked_digests(list(strided.values())), strict=True
    ):
        digests[position] = digest
    return _prefixed(_sha256(_canonical_json(header), *digests, *index_digests))


def _hash_series(s: pd.Series) -> str:
    index_header, index_digests = _index_parts(s.index)
    header = {
        "format": _SERIES_FORMAT,
        "length": len(s),
        "name": _label(s.name),
        "dtype": _dtype_name(s.dtype),
        **index_header,
    }
    return _prefixed(_sha256(_canonical_json(header), _values_digest(s), *index_digests))


def _hash_index(index: pd.Index) -> str:
    index_header, index_digests = _index_parts(index)
    header = {"format": _INDEX_FORMAT, "length": len(index), **index_header}
    return _prefixed(_sha256(_canonical_json(header), *index_digests))


# ------------------------------------------------------------ frames in pieces (Dask)
#
# The same encoding as hash_frame, fed one piece of rows at a time. Every
# per-column digest above is a SHA-256 of a header then of row-ordered
# sections, or of nested digests that can be fed side by side; what a header
# needs about the whole column (its length, the kinds of values, whether a
# string holds a NUL) comes from a first pass (_ObjectFacts). A section that
# must follow another one whole (string lengths before their text) spools to
# a temporary file.

# Text spooled in memory before a temporary file takes over (str-len, bytes).
_SPOOL_BYTES = 1 << 24


def _text_bytes(items: list[str]) -> bytes:
    return "".join(items).encode("utf-8", "surrogatepass")


def _item_lengths(items: list[Any]) -> NDArray[np.uint8]:
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    return lengths.astype("<i8").view(np.uint8)


class _Section:
    """SHA-256 of ``head + first + second`` where both sections arrive row by row."""

    def __init__(self, head: bytes) -> None:
        self._h = _sha256(head)
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115

    def feed(self, first: Buffer | NDArray[Any], second: bytes) -> None:
        self._h.update(first)  # type: ignore[arg-type,unused-ignore]
        self._spool.write(second)

    def digest(self) -> bytes:
        self._spool.seek(0)
        while block := self._spool.read(1 << 20):
            self._h.update(block)
        self._spool.close()
        return self._h.digest()


class _Counted:
    """Checks that a stream sees as many items as the first pass counted."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen = 0

    def add(self, n: int) -> None:
        self.seen += n

    def check(self) -> None:
        if self.seen != self.expected:
            raise DataError(
                f"the data gave {self.seen} values on the second pass of hash_frame but "
                f"{self.expected} on the first; a Dask frame must compute the same data twice",
                value=self.seen,
                expected=self.expected,
            )


class _StringsStream(_Counted):
    """``_strings_digest`` of ``n`` str fed in pieces; ``has_nul`` as the whole list."""

    def __init__(self, n: int, has_nul: bool) -> None:
        super().__init__(n)
        self._sep = bool(n) and not has_nul
        self._h = _sha256(b"str-sep", _count(n))
        self._section = None if self._sep else _Section(b"str-len" + _count(n))

    def feed(self, items: list[str]) -> None:
        if not items:
            return
        if self._section is not None:
            self._section.feed(_item_lengths(items), _text_bytes(items))
        else:
            if self.seen:
                self._h.update(b"\0")
            self._h.update("\0".join(items).encode("utf-8", "surrogatepass"))
        self.add(len(items))

    def digest(self) -> bytes:
        self.check()
        return self._h.digest() if self._section is None else self._section.digest()


class _BytesItemsStream(_Counted):
    """``_bytes_digest`` of ``n`` bytes values fed in pieces."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self._section = _Section(b"bytes-len" + _count(n))

    def feed(self, items: list[bytes]) -> None:
        self._section.feed(_item_lengths(items), b"".join(items))
        self.add(len(items))

    def digest(self) -> bytes:
        self.check()
        return self._section.digest()


class _PlainStream:
    """``_ndarray_digest`` of a fixed-size numeric array fed in pieces."""

    def __init__(self, head: bytes = b"bytes") -> None:
        self._h = _sha256(head)

    def feed(self, a: NDArray[Any]) -> None:
        self._h.update(_plain_bytes(a))  # type: ignore[arg-type,unused-ignore]

    def digest(self) -> bytes:
        return self._h.digest()


class _BitsStream:
    """``np.packbits`` of a bool sequence fed in pieces, into ``h``."""

    def __init__(self, h: hashlib._Hash) -> None:
        self._h = h
        self._carry = np.zeros(0, dtype=np.bool_)

    def feed(self, bits: NDArray[np.bool_]) -> None:
        bits = np.concatenate([self._carry, bits])
        whole = len(bits) // 8 * 8
        self._h.update(np.packbits(bits[:whole]).tobytes())
        self._carry = bits[whole:]

    def finish(self) -> None:
        self._h.update(np.packbits(self._carry).tobytes())
        self._carry = self._carry[:0]


class _IntStream(_Counted):
    """``_int_digest`` of a group of Python/numpy ints fed in pieces."""

    def __init__(self, n: int, overflow: bool) -> None:
        super().__init__(n)
        self._big = _StringsStream(n, False) if overflow else None
        self._h = _sha256(b"int64")

    def feed(self, group: NDArray[Any]) -> None:
        values = list(map(int, group.tolist()))
        if self._big is not None:
            self._big.feed(list(map(str, values)))
        else:
            self._h.update(np.array(values, dtype="<i8").view(np.uint8))  # type: ignore[arg-type,unused-ignore]
        self.add(len(values))

    def digest(self) -> bytes:
        self.check()
        if self._big is not None:
            return _sha256(b"bigint", self._big.digest()).digest()
        return self._h.digest()


class _GatherStream:
    """Values of a kind only joblib can hash (pickled as one list): kept until the end."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def feed(self, group: NDArray[Any]) -> None:
        self._items.extend(group.tolist())

    def digest(self) -> bytes:
        return bytes.fromhex(_joblib_hex(self._items))


class _NothingStream:
    """Singleton kinds (None, NA, NaT): which rows hold them is in the kind codes."""

    def feed(self, group: NDArray[Any]) -> None:
        return

    def digest(self) -> bytes:
        return b""


class _AsType:
    def __init__(self, dtype: Any) -> None:
        self._dtype = dtype
        self._stream = _PlainStream()

    def feed(self, group: NDArray[Any]) -> None:
        self._stream.feed(group.astype(self._dtype))

    def digest(self) -> bytes:
        return self._stream.digest()


class _Objects:
    """Per-piece object values: the types, the missing mask and the kinds of a subset."""

    @staticmethod
    def kinds(a: NDArray[Any]) -> tuple[NDArray[np.int64], list[str]]:
        """Per value, its position in the returned (unsorted, unique) kind list."""
        types = np.fromiter(map(type, a.tolist()), dtype=object, count=len(a))
        type_codes, uniques = pd.factorize(types)
        names = [_value_kind(t) for t in uniques]
        kinds = sorted(set(names))
        lookup = np.array([kinds.index(k) for k in names], dtype=np.int64)
        codes = lookup[type_codes] if len(a) else np.zeros(0, dtype=np.int64)
        return codes, kinds


@attrs.define
class _ObjectFacts:
    """What an object or text column's encoding needs to know before its first byte."""

    n: int = 0
    n_missing: int = 0
    present: dict[str, int] = attrs.Factory(dict)  # kind -> count, non-missing values
    missing: dict[str, int] = attrs.Factory(dict)  # kind -> count, missing values
    has_nul: bool = False  # some str value holds "\0"
    overflow: bool = False  # some int value is outside int64

    def add(self, a: NDArray[Any]) -> _ObjectFacts:
        missing = np.asarray(pd.isna(a), dtype=np.bool_)
        self.n += len(a)
        self.n_missing += int(missing.sum())
        for subset, counts in ((a[~missing], self.present), (a[missing], self.missing)):
            codes, kinds = _Objects.kinds(subset)
            for code, kind in enumerate(kinds):
                group = subset[codes == code]
                counts[kind] = counts.get(kind, 0) + len(group)
                if kind == "str" and not self.has_nul:
                    self.has_nul = "\0" in "".join(group.tolist())
                elif kind == "int" and not self.overflow:
                    try:
                        np.array(list(map(int, group.tolist())), dtype="<i8")
                    except OverflowError:
                        self.overflow = True
        return self

    def merge(self, other: _ObjectFacts) -> _ObjectFacts:
        def add(x: dict[str, int], y: dict[str, int]) -> dict[str, int]:
            return {k: x.get(k, 0) + y.get(k, 0) for k in x.keys() | y.keys()}

        return _ObjectFacts(
            n=self.n + other.n,
            n_missing=self.n_missing + other.n_missing,
            present=add(self.present, other.present),
            missing=add(self.missing, other.missing),
            has_nul=self.has_nul or other.has_nul,
            overflow=self.overflow or other.overflow,
        )


class _MixedStream(_Counted):
    """``_mixed_digest`` of a subset of ``n`` values whose kinds the first pass counted."""

    def __init__(self, kinds: dict[str, int], facts: _ObjectFacts) -> None:
        super().__init__(sum(kinds.values()))
        self._kinds = sorted(kinds)
        self._h = _sha256(b"mixed", _count(self.expected), _canonical_json(self._kinds))
        self._groups = [self._group(kind, kinds[kind], facts) for kind in self._kinds]

    @staticmethod
    def _group(kind: str, n: int, facts: _ObjectFacts) -> Any:
        if kind == "bool":
            return _AsType(np.bool_)
        if kind == "int":
            return _IntStream(n, facts.overflow)
        if kind == "float":
            return _AsType(np.float64)
        if kind == "complex":
            return _AsType(np.complex128)
        if kind == "str":
            return _ListStream(_StringsStream(n, facts.has_nul))
        if kind == "bytes":
            return _ListStream(_BytesItemsStream(n))
        if kind in ("none", "na", "nat"):
            return _NothingStream()
        return _GatherStream()

    def feed(self, a: NDArray[Any]) -> None:
        codes, kinds = _Objects.kinds(a)
        unknown = set(kinds) - set(self._kinds)
        if unknown:
            raise DataError(
                f"the second pass of hash_frame found values of kind {sorted(unknown)[0]!r} "
                "the first pass did not; a Dask frame must compute the same data twice",
                value=sorted(unknown)[0],
                expected=self._kinds,
            )
        lookup = np.array([self._kinds.index(k) for k in kinds], dtype=np.int64)
        codes = lookup[codes] if len(a) else codes
        self._h.update(codes.astype("<i8").view(np.uint8))  # type: ignore[arg-type,unused-ignore]
        for code, group in enumerate(self._groups):
            part = a[codes == code]
            if len(part):
                group.feed(part)
        self.add(len(a))

    def digest(self) -> bytes:
        self.check()
        for kind, group in zip(self._kinds, self._groups, strict=True):
            self._h.update(_sha256(kind.encode(), group.digest()).digest())
        return self._h.digest()


class _ListStream:
    """Adapts a stream of Python lists to object arrays."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def feed(self, group: NDArray[Any]) -> None:
        self._stream.feed(group.tolist())

    def digest(self) -> bytes:
        return bytes(self._stream.digest())


class _ObjectStream:
    """``_object_digest`` of an object (or text) column fed in pieces."""

    def __init__(self, facts: _ObjectFacts, *, split: bool = True) -> None:
        kinds = {**facts.present}
        for kind, n in facts.missing.items():
            kinds[kind] = kinds.get(kind, 0) + n
        self._mode: str
        if set(kinds) <= {"str"}:
            self._mode = "str"
            self._strings = _StringsStream(facts.n, facts.has_nul)
        elif split and 0 < facts.n_missing < facts.n:
            self._mode = "split"
            self._h = _sha256(b"object-split", _count(facts.n))
            self._bits = _BitsStream(self._h)
            present = _ObjectFacts(
                n=facts.n - facts.n_missing,
                present=facts.present,
                has_nul=facts.has_nul,
                overflow=facts.overflow,
            )
            self._present = _ObjectStream(present, split=False)
            self._missing = _MixedStream(facts.missing, facts)
        else:
            self._mode = "mixed"
            self._mixed = _MixedStream(kinds, facts)

    def feed(self, a: NDArray[Any]) -> None:
        if self._mode == "str":
            self._strings.feed(a.tolist())
        elif self._mode == "mixed":
            self._mixed.feed(a)
        else:
            missing = np.asarray(pd.isna(a), dtype=np.bool_)
            self._bits.feed(missing)
            self._present.feed(a[~missing])
            self._missing.feed(a[missing])

    def digest(self) -> bytes:
        if self._mode == "str":
            return _sha256(b"object-str", self._strings.digest()).digest()
        if self._mode == "mixed":
            return _sha256(b"object-mixed", self._mixed.digest()).digest()
        self._bits.finish()
        self._h.update(self._present.digest())
        self._h.update(self._missing.digest())
        return self._h.digest()


class _CategoricalStream:
    """A categorical column fed in pieces whose categories may differ.

    The categories are those ``compute()`` gives a Dask frame: pandas'
    ``union_categoricals`` of the pieces, in order of appearance. A category's
    code never changes once given, so codes are final as they arrive; only
    their integer width (int8 up to 127 categories, then int16, ...) is known
    at the end, so every width still possible is hashed side by side.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._proto: pd.Categorical | None = None
        self._widths = {w: _sha256(b"bytes") for w in (1, 2, 4, 8)}

    def feed(self, values: pd.Series | pd.Index) -> None:
        cat = pd.Categorical(values)
        proto = self._proto
        if proto is not None and (len(proto.categories) or proto.ordered):
            try:
                cat = union_categoricals([proto, cat])
            except TypeError as exc:
                raise DataError(
                    f"column {self._name!r}: the partitions' categoricals cannot be combined "
                    f"({exc}); compute() would fail too",
                    column=self._name,
                    value=str(cat.dtype),
                    expected=str(proto.dtype),
                ) from None
        self._proto = cat[:0]
        codes = np.asarray(cat.codes)
        for width in [w for w in self._widths if w < codes.dtype.itemsize]:
            del self._widths[width]
        for width, h in self._widths.items():
            h.update(codes.astype(f"<i{width}").view(np.uint8))  # type: ignore[arg-type,unused-ignore]

    def digest(self) -> bytes:
        assert self._proto is not None
        dtype = self._proto.dtype
        width = np.asarray(self._proto.codes).dtype.itemsize
        return _sha256(
            b"categorical",
            _canonical_json([_dtype_name(dtype.categories.dtype), bool(dtype.ordered)]),
            _values_digest(dtype.categories),
            self._widths[width].digest(),
        ).digest()


class _ValuesStream:
    """``_values_digest`` of one column or index level fed in pieces."""

    def __init__(self, dtype: Any, name: str, facts: _ObjectFacts | None) -> None:
        self._dtype = dtype
        self._stream: Any
        self._convert: Callable[[Any], Any]
        if _needs_facts(dtype):
            assert facts is not None
            if isinstance(dtype, np.dtype) and dtype.kind != "O":  # long double
                self._stream = _LongDoubleStream(facts.n)
                self._convert = lambda v: v.to_numpy()
            else:
                self._stream = _ObjectStream(facts)
                self._convert = lambda v: v.to_numpy(dtype=object)
        elif isinstance(dtype, np.dtype):
            self._stream = _PlainStream()
            self._convert = lambda v: v.to_numpy()
        elif isinstance(dtype, pd.CategoricalDtype):
            self._stream = _CategoricalStream(name)
            self._convert = lambda v: v
        elif isinstance(dtype, pd.DatetimeTZDtype):
            self._stream = _PlainStream()
            self._convert = lambda v: v.to_numpy(dtype=f"datetime64[{dtype.unit}]")
        elif isinstance(getattr(dtype, "numpy_dtype", None), np.dtype) and (
            dtype.numpy_dtype.kind in "biufc"
        ):
            self._stream = _MaskedStream(dtype.numpy_dtype)
            self._convert = lambda v: v
        else:
            self._stream = _PandasRowsStream()
            self._convert = lambda v: v

    def feed(self, values: pd.Series | pd.Index) -> None:
        self._stream.feed(self._convert(values))

    def digest(self) -> bytes:
        return bytes(self._stream.digest())


class _LongDoubleStream:
    def __init__(self, n: int) -> None:
        self._strings = _StringsStream(n, False)

    def feed(self, a: NDArray[Any]) -> None:
        self._strings.feed(a.astype(str).tolist())

    def digest(self) -> bytes:
        return _sha256(b"longdouble", self._strings.digest()).digest()


class _MaskedStream:
    def __init__(self, numpy_dtype: np.dtype[Any]) -> None:
        self._numpy_dtype = numpy_dtype
        self._h = _sha256(b"masked")
        self._bits = _BitsStream(self._h)
        self._filled = _PlainStream()

    def feed(self, values: pd.Series | pd.Index) -> None:
        self._bits.feed(np.asarray(values.isna(), dtype=np.bool_))
        dtype = self._numpy_dtype
        self._filled.feed(values.to_numpy(dtype=dtype, na_value=dtype.type(0)))

    def digest(self) -> bytes:
        self._bits.finish()
        self._h.update(self._filled.digest())
        return self._h.digest()


class _PandasRowsStream:
    def __init__(self) -> None:
        self._rows = _PlainStream()

    def feed(self, values: pd.Series | pd.Index) -> None:
        rows = pd.util.hash_pandas_object(values, index=False, categorize=True)
        self._rows.feed(rows.to_numpy(dtype=np.uint64))

    def digest(self) -> bytes:
        return _sha256(b"pandas", self._rows.digest()).digest()


def _needs_facts(dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind == "O" or _is_long_double(dtype)
    return isinstance(dtype, pd.StringDtype)


def _piece_values(piece: pd.DataFrame) -> list[pd.Series | pd.Index]:
    """Return the piece's columns, then its index levels, in the order the hash takes them."""
    index = piece.index
    columns: list[pd.Series | pd.Index] = [piece.iloc[:, j] for j in range(piece.shape[1])]
    return columns + [index.get_level_values(i) for i in range(index.nlevels)]


def _piece_facts(
    positions: tuple[int, ...], inferred: tuple[int, ...], piece: pd.DataFrame
) -> dict[Any, Any]:
    """First pass: the facts of the columns (and index levels) at ``positions``.

    For the object index levels at ``inferred``, also what pandas infers
    from them (key ``("infer", position)``): see :class:`_IndexFacts`.
    """
    values = _piece_values(piece)
    facts: dict[Any, Any] = {}
    for position in positions:
        column = values[position]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind != "O":
            facts[position] = _ObjectFacts(n=len(column))  # long double: the count only
        else:
            facts[position] = _ObjectFacts().add(column.to_numpy(dtype=object))
    for position in inferred:
        facts["infer", position] = _IndexFacts.of(values[position])
    return facts


def _merge_facts(a: dict[Any, Any], b: dict[Any, Any]) -> dict[Any, Any]:
    return {k: a[k].merge(b[k]) for k in a}


def _inferred_index(level: Any) -> pd.Index:
    """Return the index ``level`` as ``pd.concat`` (so Dask's ``compute()``) gives it back."""
    frames = [pd.DataFrame(index=level), pd.DataFrame(index=level[:0])]
    index: pd.Index = pd.concat(frames).index
    return index


@attrs.define
class _IndexFacts:
    """What pandas infers from an object index level when Dask concatenates partitions.

    ``compute()`` returns a lone non-empty partition as it is, but
    ``pd.concat`` of several infers a dtype for an object index from all its
    values (all str gives ``str``, all ints ``int64``, ...). The dtype each
    non-empty piece infers tells the whole's when all agree and no piece is
    all missing.
    """

    dtypes: frozenset[str] = frozenset()
    all_missing: bool = False
    n_pieces: int = 0
    dtype: Any = None
    facts: _ObjectFacts | None = None

    @classmethod
    def of(cls, level: Any) -> _IndexFacts:
        if not len(level):
            return cls()
        inferred = _inferred_index(level)
        return cls(
            dtypes=frozenset({_dtype_name(inferred.dtype)}),
            all_missing=bool(level.isna().all()),
            n_pieces=1,
            dtype=inferred.dtype,
            facts=(
                _ObjectFacts().add(inferred.to_numpy(dtype=object))
                if _needs_facts(inferred.dtype)
                else None
            ),
        )

    def merge(self, other: _IndexFacts) -> _IndexFacts:
        facts = self.facts
        if facts is None or other.facts is None:
            facts = facts or other.facts
        else:
            facts = facts.merge(other.facts)
        return _IndexFacts(
            dtypes=self.dtypes | other.dtypes,
            all_missing=self.all_missing or other.all_missing,
            n_pieces=self.n_pieces + other.n_pieces,
            dtype=self.dtype if self.dtype is not None else other.dtype,
            facts=facts,
        )

    def dtype_of_whole(self, name: str) -> Any:
        """Return the dtype ``compute()`` gives the level, or None if it stays as it is."""
        if self.n_pieces < 2 or self.dtypes == {"object"}:
            return None
        if len(self.dtypes) == 1 and not self.all_missing:
            return self.dtype
        raise DataError(
            f"hash_frame cannot tell which dtype compute() will infer for the object "
            f"{name} from its partitions (they infer {sorted(self.dtypes)}"
            f"{', some all missing' if self.all_missing else ''}); give the index a dtype "
            "first, e.g. ddf.map_partitions(lambda p: p.set_axis(p.index.astype('str')))",
            column=name,
            value=sorted(self.dtypes),
            expected="partitions whose object index infers one dtype",
        )


def _piece_layout(piece: pd.DataFrame) -> tuple[Any, ...]:
    """Return what every piece must share: labels, names and dtype names."""
    index = piece.index
    return (
        [_label(c) for c in piece.columns],
        [_label(name) for name in piece.columns.names],
        [_dtype_name(d) for d in piece.dtypes],
        [_label(name) for name in index.names],
        [_dtype_name(index.get_level_values(i).dtype) for i in range(index.nlevels)],
    )


def _hash_pieces(
    dtypes: list[Any],
    pieces: Iterable[pd.DataFrame],
    facts: dict[Any, Any],
    convert: Mapping[int, Any] | None = None,
) -> str:
    """Return hash_frame of the concatenation of ``pieces``, fed one piece at a time.

    ``dtypes`` are those of the columns then the index levels; ``facts`` hold
    the first pass's facts for every position that :func:`_needs_facts`.
    ``convert`` names the object index levels to hash as ``pd.concat``
    infers them (with their inferred dtype in ``dtypes``). As
    Dask's ``compute()`` does, empty pieces are left out unless all are empty
    (then the first one is the frame): their dtypes are often not the others'.
    """
    convert = convert or {}
    layout: tuple[Any, ...] | None = None
    streams: list[_ValuesStream] = []
    n_rows = 0
    for number, piece in enumerate(_non_empty(pieces)):
        found = _piece_layout(piece)
        if layout is None:
            layout = found
            names = [str(c) for c in piece.columns] + [
                f"index level {i}" for i in range(piece.index.nlevels)
            ]
            # The pieces' own dtypes are what compute() returns, whatever the meta says.
            found_dtypes = [
                dtypes[position] if position in convert else values.dtype
                for position, values in enumerate(_piece_values(piece))
            ]
            streams = [
                _ValuesStream(dtype, name, _facts_for(facts, position, dtype, name))
                for position, (dtype, name) in enumerate(zip(found_dtypes, names, strict=True))
            ]
        elif found != layout:
            what = ("column labels", "column names", "dtypes", "index names", "index dtypes")
            differs = next(w for w, x, y in zip(what, layout, found, strict=True) if x != y)
            raise DataError(
                f"hash_frame: non-empty piece {number} has other {differs} than the first "
                f"({found[what.index(differs)]} vs {layout[what.index(differs)]})",
                value=found[what.index(differs)],
                expected=layout[what.index(differs)],
            )
        for position, (stream, values) in enumerate(
            zip(streams, _piece_values(piece), strict=True)
        ):
            stream.feed(_inferred_index(values) if position in convert else values)
        n_rows += len(piece)
    if layout is None:
        raise DataError("hash_frame: the data has no piece", value=0, expected="a partition")
    columns, column_names, column_dtypes, index_names, index_dtypes = layout
    index_dtypes = [
        _dtype_name(dtypes[len(columns) + i]) if len(columns) + i in convert else name
        for i, name in enumerate(index_dtypes)
    ]
    header = {
        "format": _FRAME_FORMAT,
        "shape": [n_rows, len(columns)],
        "columns": columns,
        "column_names": column_names,
        "dtypes": column_dtypes,
        "index_names": index_names,
        "index_dtypes": index_dtypes,
    }
    return _prefixed(_sha256(_canonical_json(header), *(s.digest() for s in streams)))


def _facts_for(facts: dict[Any, Any], position: int, dtype: Any, name: str) -> Any:
    if _needs_facts(dtype) and position not in facts:
        raise DataError(
            f"hash_frame: {name} of the partitions has dtype {_dtype_name(dtype)}, unlike "
            "the Dask frame's meta; fix the meta (e.g. astype) before hashing",
            column=name,
            value=_dtype_name(dtype),
            expected="the dtype the Dask frame's meta gives",
        )
    return facts.get(position)


def _non_empty(pieces: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Yield the non-empty pieces, or the first piece if all are empty."""
    first: pd.DataFrame | None = None
    any_rows = False
    for piece in pieces:
        if first is None:
            first = piece
        if len(piece):
            any_rows = True
            yield piece
    if not any_rows and first is not None:
        yield first


def _hash_dask_frame(ddf: Any) -> str:
    meta = ddf._meta  # the empty pandas frame every partition looks like
    dtypes = [v.dtype for v in _piece_values(meta)]
    n_columns = meta.shape[1]
    positions = tuple(p for p, dtype in enumerate(dtypes) if _needs_facts(dtype))
    inferred = tuple(
        p for p in positions if p >= n_columns and getattr(dtypes[p], "kind", "") == "O"
    )
    facts: dict[Any, Any] = {}
    if positions:
        facts = map_reduce(
            ddf,
            functools.partial(_piece_facts, positions, inferred),
            _merge_facts,
            name="hash_frame",
        )
    convert: dict[int, Any] = {}
    for p in inferred:
        dtype = facts["infer", p].dtype_of_whole(f"index level {p - n_columns}")
        if dtype is not None:
            convert[p] = dtypes[p] = dtype
            facts[p] = facts["infer", p].facts
    logger.debug(
        "hashing a Dask frame of %d partitions (%s pass over %d text/object columns first)",
        ddf.npartitions,
        "a" if positions else "no",
        len(positions),
    )
    return _hash_pieces(dtypes, iter_pieces(ddf, name="hash_frame"), facts, convert)


# ------------------------------------------------------------------------- objects


class _StableHasher(NumpyHasher):  # type: ignore[misc]
    """joblib's SHA-256 hasher, made stable and layout-free.

    Nested frames and arrays get mlkit's layout-free hashes, and dicts and sets
    an order that never uses ``hash()``.

    joblib sorts dict keys and set items, but when they are not mutually
    orderable (``{1: ..., "a": ...}``) it falls back to sorting by Python's
    ``hash()``, which for str depends on ``PYTHONHASHSEED``; it also records an
    array's strides, so C and Fortran copies differ.
    """

    def __init__(self) -> None:
        super().__init__(hash_name=ALGORITHM)

    def save(self, obj: Any) -> None:
        digest = _pandas_or_numpy_hash(obj)
        if digest is not None:
            # The same trick joblib plays for arrays: the content goes into the
            # hash directly, a marker with its kind into the pickle stream.
            self._hash.update(digest.encode("ascii"))
            obj = ("mlkit.hashed", type(obj).__name__)
        super().save(obj)

    def memoize(self, obj: Any) -> None:
        # Value, not identity: [x, x] and [x, copy(x)] must hash alike, so the
        # pickle never refers back to an object it already wrote.
        return

    def _batch_setitems(self, items: Iterable[tuple[Any, Any]], *args: Any) -> None:
        ordered = _stable_order(list(items), key=operator.itemgetter(0))
        # Past joblib's own _batch_setitems, which would sort again by hash().
        _Pickler._batch_setitems(self, iter(ordered), *args)  # type: ignore[attr-defined]

    def save_set(self, items: set[Any] | frozenset[Any]) -> None:
        ordered = _stable_order(list(items), key=lambda item: item)
        super().save(("mlkit.set", type(items).__name__, ordered))

    dispatch = NumpyHasher.dispatch.copy()
    dispatch[set] = save_set
    dispatch[frozenset] = save_set


def _stable_order(items: list[Any], *, key: Callable[[Any], Any]) -> list[Any]:
    """Sort dict items or set elements the same way in every process.

    Keys that are all str, all bytes or all ints sort by value. Anything else
    (mixed types, tuples, floats with NaN, frozensets, which order only
    partially) sorts by each item's own stable hash, so the order never
    depends on the input order or on ``hash()``.
    """
    kinds = {type(key(item)) for item in items}
    if kinds <= {str} or kinds <= {bytes} or kinds <= {int, bool}:
        return sorted(items, key=key)
    return sorted(items, key=_joblib_hex)


def _joblib_hex(obj: Any) -> str:
    try:
        return str(_StableHasher().hash(obj))
    except Exception as exc:  # pickling can fail with almost any exception type
        raise DataError(
            f"cannot hash an object of type {type(obj).__module__}.{type(obj).__qualname__}: "
            f"joblib could not pickle it ({type(exc).__name__}: {exc})",
            value=type(obj).__qualname__,
            expected="a picklable object",
        ) from exc


def _pandas_or_numpy_hash(obj: Any) -> str | None:
    if isinstance(obj, pd.DataFrame):
        return hash_frame(obj)
    if isinstance(obj, pd.Series):
        return _hash_series(obj)
    if isinstance(obj, pd.Index):
        return _hash_index(obj)
    if isinstance(obj, np.ndarray):
        return hash_array(obj)
    return None


def hash_object(obj: Any) -> str:
    """Hash any object joblib can pickle; frames, series, arrays and bytes dispatch.

    A ``DataFrame`` gives :func:`hash_frame`, an ``ndarray`` :func:`hash_array`,
    ``bytes``/``bytearray``/``memoryview`` :func:`hash_bytes`; a ``Series`` or
    ``Index`` hashes its name(s), dtype, values (and index) the same way.
    Anything else goes through joblib's pickling hasher with SHA-256, in which
    frames and arrays nested in containers still use mlkit's layout-free hashes,
    dicts hash alike whatever their insertion order and sets whatever their
    iteration order. Such general objects hash stably for a given Python and
    joblib version; the pickle of an object may change between versions.

    Parameters
    ----------
    obj
        The object.

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Raises
    ------
    DataError
        If ``obj`` cannot be pickled (a lock, an open file, a generator, ...).

    Examples
    --------
    >>> hash_object({"lr": 0.1, "depth": 3}) == hash_object({"depth": 3, "lr": 0.1})
    True
    >>> hash_object(b"hello") == hash_bytes(b"hello")
    True
    >>> x = np.arange(4)
    >>> hash_object({"x": x}) == hash_object({"x": x.copy()})
    True
    """
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return hash_bytes(obj)
    digest = _pandas_or_numpy_hash(obj)
    if digest is not None:
        return digest
    return f"{ALGORITHM}:{_joblib_hex(obj)}"


# --------------------------------------------------------------------- dataset record


def _require(data: Any, keys: tuple[str, ...], *, what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise DataError(
            f"{what} must be a mapping, got {type(data).__name__}",
            value=type(data).__name__,
            expected="a dict",
        )
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(
            f"{what} is missing key(s) {missing}; expected keys {list(keys)}",
            column=missing[0],
            expected=list(keys),
        )
    return {k: data[k] for k in keys}


def _load_json(text: Any, *, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what} is not valid JSON: {exc}", value=str(text)[:80], expected="JSON text"
        ) from exc


def _check_count(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DataError(
            f"{what} must be a non-negative int, got {value!r}",
            column=what,
            value=value,
            expected="int >= 0",
        )
    return value


def _check_dataset_hash(value: Any) -> str:
    return _check_hash(value, what="dataset hash")


def _check_n_rows(value: Any) -> int:
    return _check_count(value, what="n_rows")


def _check_n_columns(value: Any) -> int:
    return _check_count(value, what="n_columns")


def _check_schema(value: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 2
            or not all(isinstance(x, str) for x in item)
        ):
            raise DataError(
                f"schema entry {item!r} is not a (column name, dtype) pair of str",
                column="schema",
                value=item,
                expected="(str, str)",
            )
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _check_source(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise DataError(
            f"source must be a str or None, got {type(value).__name__}",
            column="source",
            value=value,
            expected="str or None",
        )
    return value


@attrs.frozen
class DatasetVersion:
    """A dataset's identity: its content hash, shape and schema, with an optional source.

    Attributes
    ----------
    hash
        ``"sha256:<hex>"`` from :func:`hash_frame`.
    n_rows, n_columns
        The frame's shape.
    schema
        ``(column name, dtype name)`` per column, names as ``str(label)``; the
        hash, not the schema, tells labels such as ``1`` and ``"1"`` apart.
    source
        Where the data came from (a path or URI), if given.
    """

    hash: str = attrs.field(converter=_check_dataset_hash)
    n_rows: int = attrs.field(converter=_check_n_rows)
    n_columns: int = attrs.field(converter=_check_n_columns)
    schema: tuple[tuple[str, str], ...] = attrs.field(converter=_check_schema)
    source: str | None = attrs.field(default=None, converter=_check_source)

    def __attrs_post_init__(self) -> None:
        if len(self.schema) != self.n_columns:
            raise DataError(
                f"schema has {len(self.schema)} entries but n_columns is {self.n_columns}",
                column="schema",
                value=len(self.schema),
                expected=self.n_columns,
            )

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, source: str | None = None) -> DatasetVersion:
        """Hash ``df`` and record its shape and schema.

        Examples
        --------
        >>> df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, None, 1.5]})
        >>> version = DatasetVersion.from_frame(df, source="data/train.parquet")
        >>> version.n_rows, version.schema
        (3, (('x', 'int64'), ('y', 'float64')))
        >>> DatasetVersion.from_json(version.to_json()) == version
        True
        """
        digest = hash_frame(df)
        schema = tuple((str(c), str(d)) for c, d in zip(df.columns, df.dtypes, strict=False))
        return cls(
            hash=digest, n_rows=len(df), n_columns=df.shape[1], schema=schema, source=source
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the five fields (``schema`` as a list of pairs)."""
        return {
            "hash": self.hash,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "schema": [list(pair) for pair in self.schema],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetVersion:
        """Rebuild from :meth:`to_dict` output (``source`` may be absent; other keys are ignored).

        Raises
        ------
        DataError
            If a key is missing or a value has the wrong type.
        """
        fields = _require(data, ("hash", "n_rows", "n_columns", "schema"), what="dataset version")
        return cls(**fields, source=data.get("source"))

    def to_json(self) -> str:
        """Return :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> DatasetVersion:
        """Rebuild from :meth:`to_json` output."""
        return cls.from_dict(_load_json(text, what="dataset version"))
