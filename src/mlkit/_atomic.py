"""Write files so that readers see the old version or the new one, never half of it.

Every file mlkit writes outside an artifact store (reports, schemas, profiles,
cache entries, CLI output) goes through :func:`atomic_open`: a temporary file
in the target's folder (so the rename stays on one file system), flushed and
fsynced, then ``os.replace``. A failure or a kill leaves the old file intact
and, at worst, a ``.<name>.*.tmp`` file beside it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = ["atomic_open", "write_text"]


@overload
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["w"] = ...
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["wb"]
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w"
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block succeeds.

    Text mode writes UTF-8 with Unix line ends. The parent folder is created
    if needed. A new file gets mode ``0o644`` (``mkstemp`` would leave it
    readable by its owner only); a replaced file keeps its mode.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_open(target) as handle:
    ...     _ = handle.write("done")
    >>> target.read_text()
    'done'
    """
    return _atomic_open(Path(path), mode)


@contextlib.contextmanager
def _atomic_open(target: Path, mode: str) -> Iterator[IO[Any]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    permissions = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if mode == "wb":
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, permissions)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = write_text(pathlib.Path(tempfile.mkdtemp()) / "a" / "b.json", "{}")
    >>> path.read_text()
    '{}'
    """
    target = Path(path)
    with atomic_open(target) as handle:
        handle.write(text)
    return target
