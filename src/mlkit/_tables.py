"""Read CSV and Parquet files into pandas, with clear errors and a progress bar.

The ``mlkit`` command reads its inputs here. The format comes from the file's
suffix: ``.csv`` and ``.tsv`` (optionally compressed: ``.gz``, ``.bz2``,
``.xz``, ``.zip``, ``.zst``) through :func:`pandas.read_csv`, ``.parquet`` /
``.pq`` through pandas' own Parquet engine, pyarrow (the ``parquet`` extra).

:func:`iter_table` yields a file in chunks of rows (CSV ``chunksize``,
Parquet record batches) so that callers can summarise data larger than
memory; :func:`read_table` reads small files in one go and large ones through
:func:`iter_table`, with a :class:`~mlkit._progress.Progress` bar on stderr.

Every problem is an :class:`~mlkit.errors.MlkitError` naming the file: no
such file (:class:`~mlkit.errors.NotFoundError`), a folder, an unknown
suffix, an empty or unreadable file, duplicate column names, or requested
columns the file lacks (:class:`~mlkit.errors.DataError`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from mlkit.errors import DataError, MlkitError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from mlkit._progress import Progress

__all__ = [
    "CHUNKED_BYTES",
    "DEFAULT_CHUNK_ROWS",
    "SUFFIXES",
    "iter_table",
    "is_large",
    "read_table",
    "reading_progress",
    "table_columns",
    "table_format",
    "table_rows",
]

#: Rows per chunk of :func:`iter_table`.
DEFAULT_CHUNK_ROWS = 200_000
#: Files at least this large are read in chunks, with a progress bar.
CHUNKED_BYTES = 64 * 1024 * 1024

Compression = Literal["gzip", "bz2", "xz", "zip", "zstd"]

_COMPRESSIONS: dict[str, Compression] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zip": "zip",
    ".zst": "zstd",
}
_DELIMITED = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
#: The suffixes :func:`read_table` understands.
SUFFIXES = (
    *_DELIMITED,
    *(f"{s}{c}" for s in _DELIMITED for c in _COMPRESSIONS),
    *_PARQUET,
)
_MB = 1_000_000


def _name(path: Path) -> str:
    return repr(str(path))


def table_format(path: str | os.PathLike[str]) -> tuple[str, Compression | None]:
    """Return the format of ``path`` from its suffix: ``("csv" | "tsv" | "parquet", compression)``.

    Raises
    ------
    mlkit.errors.DataError
        The suffix is none of :data:`SUFFIXES`.

    Examples
    --------
    >>> table_format("data/ref.csv.gz")
    ('csv', 'gzip')
    >>> table_format("cur.parquet")
    ('parquet', None)
    """
    target = Path(path)
    suffixes = [s.lower() for s in target.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in _PARQUET:
        return "parquet", None
    compression = _COMPRESSIONS.get(last)
    base = (suffixes[-2] if len(suffixes) > 1 else "") if compression else last
    if base in _DELIMITED:
        return base.lstrip("."), compression
    shown = "".join(target.suffixes) or "no suffix"
    raise DataError(
        f"cannot tell the format of {_name(target)} from its suffix ({shown})",
        value=str(target),
        expected="a file ending in " + ", ".join(SUFFIXES),
    )


def _check_file(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    if not target.exists():
        raise NotFoundError(
            f"no such file: {_name(target)}", value=str(target), expected="an existing file"
        )
    if target.is_dir():
        raise DataError(
            f"{_name(target)} is a folder, not a file",
            value=str(target),
            expected="a CSV or Parquet file",
        )
    table_format(target)
    if target.stat().st_size == 0:
        raise DataError(
            f"{_name(target)} is empty (0 bytes)", value=str(target), expected="a table"
        )
    return target


def _unreadable(path: Path, kind: str, exc: BaseException) -> DataError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataError(
        f"cannot read {_name(path)} as {kind}: {reason}",
        value=str(path),
        expected=f"a readable {kind} file",
    )


def _read_errors(kind: str) -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ValueError, OSError, EOFError, UnicodeDecodeError]
    if kind == "parquet":
        errors.append(_pyarrow("pyarrow").ArrowException)
    else:
        import pandas as pd

        errors.append(pd.errors.ParserError)
    return tuple(errors)


def _pyarrow(module: str = "pyarrow.parquet") -> Any:
    import importlib

    from mlkit._optional import require

    require("pyarrow", "parquet", "Parquet files")
    return importlib.import_module(module)


def _file_columns(path: Path) -> list[str]:
    """Return the column names as the file has them (duplicates included)."""
    kind, compression = table_format(path)
    try:
        if kind == "parquet":
            pq = _pyarrow()
            names = pq.ParquetFile(path).schema_arrow.names
            return [str(n) for n in names if not str(n).startswith("__index_level_")]
        import pandas as pd

        header = pd.read_csv(
            path,
            sep=_DELIMITED[f".{kind}"],
            header=None,
            nrows=1,
            dtype=str,
            compression=compression,
            keep_default_na=False,
        )
    except MlkitError:
        raise
    except _read_errors(kind) as exc:
        if type(exc).__name__ == "EmptyDataError":
            raise DataError(
                f"{_name(path)} is empty (no header line)", value=str(path), expected="a table"
            ) from exc
        raise _unreadable(path, kind.upper() if kind != "parquet" else "Parquet", exc) from exc
    return [str(v) for v in header.iloc[0].tolist()] if len(header) else []


def _checked_columns(path: Path, columns: Sequence[str] | None) -> list[str] | None:
    existing = _file_columns(path)
    if not existing:
        raise DataError(f"{_name(path)} has no columns", value=str(path), expected="a table")
    seen: set[str] = set()
    duplicated = []
    for name in existing:
        if name in seen:
            duplicated.append(name)
        seen.add(name)
    if duplicated:
        names = ", ".join(repr(c) for c in dict.fromkeys(duplicated))
        raise DataError(
            f"{_name(path)} has duplicate column names: {names}",
            column=duplicated[0],
            value=str(path),
            expected="unique column names",
        )
    if columns is None:
        return None
    wanted = list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in seen]
    if missing:
        raise DataError(
            f"{_name(path)} has no column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; its columns are: "
            f"{', '.join(existing[:50])}{', ...' if len(existing) > 50 else ''}",
            column=missing[0],
            value=str(path),
            expected="one of " + ", ".join(existing[:50]),
        )
    return wanted


def table_columns(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> list[str]:
    """Return the column names of a CSV or Parquet file without reading its rows.

    The file is checked as :func:`read_table` checks it (it exists, its
    suffix, duplicate names, ``columns`` it lacks), so the errors are the same.

    Parameters
    ----------
    path
        A CSV/TSV or Parquet file.
    columns
        When given, the names to keep: each must be in the file; they come
        back in this order, without repeats.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> pd.DataFrame({"x": [1], "y": ["a"]}).to_csv(path, index=False)
    >>> table_columns(path)
    ['x', 'y']
    >>> table_columns(path, ["y"])
    ['y']
    """
    target = _check_file(path)
    wanted = _checked_columns(target, columns)
    return wanted if wanted is not None else _file_columns(target)


def table_rows(path: str | os.PathLike[str]) -> int | None:
    """Return the rows of a Parquet file from its metadata; ``None`` for CSV (unknown unread)."""
    target = _check_file(path)
    kind, _ = table_format(target)
    if kind != "parquet":
        return None
    try:
        return int(_pyarrow().ParquetFile(target).metadata.num_rows)
    except _read_errors(kind) as exc:
        raise _unreadable(target, "Parquet", exc) from exc


def is_large(path: str | os.PathLike[str], chunked_bytes: int | None = None) -> bool:
    """Tell whether ``path`` has at least ``chunked_bytes`` (:data:`CHUNKED_BYTES`) bytes."""
    threshold = CHUNKED_BYTES if chunked_bytes is None else chunked_bytes
    return _check_file(path).stat().st_size >= threshold


def reading_progress(
    path: str | os.PathLike[str],
    label: str | None = None,
    *,
    stream: TextIO | None = None,
    enabled: bool = True,
) -> Progress:
    """Return the progress bar of reading ``path`` with :func:`iter_table`.

    It counts rows out of the total in the Parquet metadata, or megabytes of
    a CSV file (compressed size for compressed files); the label is
    ``"reading <file name>"`` unless given.
    """
    from mlkit._progress import Progress

    target = _check_file(path)
    total: int | None
    rows = table_rows(target)
    if rows is not None:
        total, unit = rows, "rows"
    else:
        total, unit = max(1, target.stat().st_size // _MB), "MB"
    return Progress(
        total, label or f"reading {target.name}", unit=unit, stream=stream, enabled=enabled
    )


def iter_table(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    *,
    progress: Progress | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of a CSV or Parquet file in chunks of at most ``chunk_rows``.

    The file is checked before the first chunk (it exists, its suffix, its
    header, ``columns``), so errors come early; a file damaged further on
    raises :class:`~mlkit.errors.DataError` at the chunk that cannot be read.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` file (optionally compressed) or a ``.parquet`` file.
    columns
        Read only these columns, in this order; all by default.
    chunk_rows
        Rows per chunk (Parquet batches may be shorter at row-group ends).
    progress
        A progress bar to advance: in rows for Parquet, in megabytes of the
        file for CSV (see :func:`read_table`, which makes one).

    Yields
    ------
    pandas.DataFrame
        The next rows, with the file's column names; each chunk's index
        continues the previous one.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> pd.DataFrame({"x": range(5), "y": list("abcde")}).to_csv(path, index=False)
    >>> [len(chunk) for chunk in iter_table(path, chunk_rows=2)]
    [2, 2, 1]
    """
    if not (isinstance(chunk_rows, int) and chunk_rows >= 1):
        raise DataError(
            f"chunk_rows must be a positive integer, got {chunk_rows!r}",
            value=chunk_rows,
            expected="an integer >= 1",
        )
    target = _check_file(path)
    wanted = _checked_columns(target, columns)
    kind, compression = table_format(target)
    if kind == "parquet":
        yield from _parquet_chunks(target, wanted, chunk_rows, progress)
    else:
        yield from _csv_chunks(target, kind, compression, wanted, chunk_rows, progress)


def _parquet_chunks(
    path: Path, columns: list[str] | None, chunk_rows: int, progress: Progress | None
) -> Iterator[pd.DataFrame]:
    pq = _pyarrow()
    errors = _read_errors("parquet")
    start = 0
    try:
        # pre_buffer=False: with read-ahead buffering pyarrow keeps every column
        # chunk it has read until the file is closed, so memory grows with the
        # file (about its size over a 4 GB file) instead of staying at a batch.
        source = pq.ParquetFile(path, pre_buffer=False)
        if columns is None:
            columns = [n for n in source.schema_arrow.names if not n.startswith("__index_level_")]
        batches = source.iter_batches(batch_size=chunk_rows, columns=columns)
        for batch in batches:
            frame: pd.DataFrame = batch.to_pandas()
            frame.index = range(start, start + len(frame))  # type: ignore[assignment]
            start += len(frame)
            if progress is not None:
                progress.update(len(frame))
            yield frame
    except MlkitError:
        raise
    except errors as exc:
        raise _unreadable(path, "Parquet", exc) from exc


def _csv_chunks(
    path: Path,
    kind: str,
    compression: Compression | None,
    columns: list[str] | None,
    chunk_rows: int,
    progress: Progress | None,
) -> Iterator[pd.DataFrame]:
    import pandas as pd

    errors = _read_errors(kind)
    shown = 0
    try:
        # Open the raw file ourselves: its position tells how far the parser got,
        # in bytes of the file as stored (compressed or not).
        with open(path, "rb") as raw:
            reader = pd.read_csv(
                raw,
                sep=_DELIMITED[f".{kind}"],
                usecols=columns,
                chunksize=chunk_rows,
                compression=compression,
            )
            with reader:
                for frame in reader:
                    if columns is not None:
                        frame = frame[columns]
                    if progress is not None:
                        done = raw.tell() // _MB
                        progress.update(max(0, done - shown))
                        shown = max(shown, done)
                    yield frame
        if progress is not None and progress.total is not None and progress.total > shown:
            progress.update(progress.total - shown)
    except MlkitError:
        raise
    except errors as exc:
        raise _unreadable(path, kind.upper(), exc) from exc


def read_table(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    progress: bool = False,
    label: str | None = None,
    stream: TextIO | None = None,
    chunk_rows: int | None = None,
    chunked_bytes: int | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file into one DataFrame.

    Files smaller than ``chunked_bytes`` are read in one go
    (:func:`pandas.read_csv`, :func:`pandas.read_parquet`); larger ones
    through :func:`iter_table`, with a progress bar when ``progress`` is
    true: rows out of the total in the Parquet metadata, or megabytes of a
    CSV file.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` file (optionally ``.gz``, ``.bz2``, ``.xz``,
        ``.zip``, ``.zst``) or a ``.parquet``/``.pq`` file.
    columns
        Read only these columns, in this order; all by default.
    progress
        Show a progress bar while reading a large file.
    label
        The progress bar's label; ``"reading <file name>"`` by default.
    stream
        Where the bar goes; stderr by default.
    chunk_rows
        Rows per chunk for large files; :data:`DEFAULT_CHUNK_ROWS` by default.
    chunked_bytes
        Files of at least this many bytes are read in chunks;
        :data:`CHUNKED_BYTES` (64 MiB) by default.

    Returns
    -------
    pandas.DataFrame
        The table, with a default ``RangeIndex`` when read in chunks.

    Raises
    ------
    mlkit.errors.NotFoundError
        There is no such file.
    mlkit.errors.DataError
        ``path`` is a folder, has an unknown suffix, is empty, cannot be
        parsed (the message gives the parser's reason), has duplicate column
        names, or lacks one of ``columns`` (the message lists those it has).
    mlkit.errors.MissingDependencyError
        A Parquet file and pyarrow is not installed.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_csv(folder / "t.csv", index=False)
    >>> read_table(folder / "t.csv", columns=["y"])
       y
    0  a
    1  b
    >>> read_table(folder / "t.csv", columns=["z"])
    Traceback (most recent call last):
    ...
    mlkit.errors.DataError: '.../t.csv' has no column 'z'; its columns are: x, y
    """
    import pandas as pd

    target = _check_file(path)
    kind, compression = table_format(target)
    size = target.stat().st_size
    if size >= (CHUNKED_BYTES if chunked_bytes is None else chunked_bytes):
        with reading_progress(target, label, stream=stream, enabled=progress) as bar:
            rows = DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows
            chunks = list(iter_table(target, columns, rows, progress=bar))
        if not chunks:
            frame: pd.DataFrame = pd.DataFrame(columns=list(columns or _file_columns(target)))
            return frame
        return pd.concat(chunks, ignore_index=True)
    wanted = _checked_columns(target, columns)
    errors = _read_errors(kind)
    try:
        if kind == "parquet":
            _pyarrow()
            frame = pd.read_parquet(target, columns=wanted)
        else:
            frame = pd.read_csv(
                target, sep=_DELIMITED[f".{kind}"], usecols=wanted, compression=compression
            )
            if wanted is not None:
                frame = frame[wanted]
    except MlkitError:
        raise
    except errors as exc:
        raise _unreadable(target, "Parquet" if kind == "parquet" else kind.upper(), exc) from exc
    return frame
