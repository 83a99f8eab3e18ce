"""mlkit._tables: reading the CLI's CSV and Parquet inputs, in one go or in chunks."""

import io
import sys

import numpy as np
import pandas as pd
import pytest

from mlkit import _tables
from mlkit._progress import Progress
from mlkit._tables import iter_table, read_table, table_format
from mlkit.errors import DataError, MissingDependencyError, NotFoundError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "amount": rng.normal(size=500).round(6),
            "count": rng.integers(0, 100, 500),
            "channel": rng.choice(["web", "app", "store"], 500),
        }
    )


def _write(frame, path):
    if path.name.endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in path.name else ",")
    return path


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.csv.gz", "t.tsv.bz2", "t.parquet", "t.pq"])
def test_every_format_reads_back_the_frame(frame, tmp_path, name):
    path = _write(frame, tmp_path / name)
    pd.testing.assert_frame_equal(read_table(path), frame, check_dtype=False)


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet"])
def test_chunked_reading_equals_reading_in_one_go(frame, tmp_path, name):
    """Large files go through iter_table; the result is the same frame, with a progress bar."""
    path = _write(frame, tmp_path / name)
    chunks = list(iter_table(path, chunk_rows=120))
    assert [len(c) for c in chunks] == [120, 120, 120, 120, 20]
    assert chunks[1].index[0] == 120
    out = io.StringIO()
    whole = read_table(path, progress=True, stream=out, chunk_rows=120, chunked_bytes=1)
    pd.testing.assert_frame_equal(whole, read_table(path))
    last = out.getvalue().splitlines()[-1]
    assert last.startswith(f"reading {name} [")
    assert last.endswith("(100%)")
    assert ("500/500 rows" in last) == name.endswith(".parquet")


def test_chunked_reading_without_progress_writes_nothing(frame, tmp_path, monkeypatch):
    path = _write(frame, tmp_path / "t.parquet")
    monkeypatch.setattr(_tables, "CHUNKED_BYTES", 1)
    monkeypatch.setattr(_tables, "DEFAULT_CHUNK_ROWS", 100)
    out = io.StringIO()
    assert len(read_table(path, stream=out)) == 500
    assert out.getvalue() == ""


def test_iter_table_advances_a_given_progress_bar(frame, tmp_path):
    path = _write(frame, tmp_path / "t.parquet")
    bar = Progress(500, "x", stream=io.StringIO())
    assert sum(len(c) for c in iter_table(path, ["channel"], 200, progress=bar)) == 500
    assert bar.done == 500


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_columns_subset_in_the_order_asked(frame, tmp_path, name):
    path = _write(frame, tmp_path / name)
    assert list(read_table(path, columns=["channel", "amount"]).columns) == ["channel", "amount"]
    chunk = next(iter_table(path, ["channel", "amount"], 100))
    assert list(chunk.columns) == ["channel", "amount"]


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_missing_columns_are_named_with_those_that_exist(frame, tmp_path, name):
    path = _write(frame, tmp_path / name)
    with pytest.raises(DataError, match="has no columns 'x', 'y'; its columns are: amount, count"):
        read_table(path, columns=["amount", "x", "y"])


def test_table_format_by_suffix():
    assert table_format("a/b.CSV") == ("csv", None)
    assert table_format("b.tsv.xz") == ("tsv", "xz")
    assert table_format("b.pq") == ("parquet", None)
    for bad in ["b.txt", "b.gz", "b", "b.json"]:
        with pytest.raises(DataError, match="cannot tell the format"):
            table_format(bad)


def test_missing_file_folder_and_empty_file(tmp_path):
    with pytest.raises(NotFoundError, match=r"no such file: '.*nope\.csv'"):
        read_table(tmp_path / "nope.csv")
    folder = tmp_path / "data.parquet"
    folder.mkdir()
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_table(folder)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv' is empty \(0 bytes\)"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(DataError, match=r"blank\.csv' is empty"):
        read_table(tmp_path / "blank.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    assert read_table(tmp_path / "header.csv").shape == (0, 2)


def test_unknown_suffix_names_the_file(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match=r"data\.xlsx' from its suffix \(\.xlsx\)"):
        read_table(path)


def test_duplicate_column_names(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match="duplicate column names: 'a'") as info:
        read_table(tmp_path / "d.csv")
    assert info.value.column == "a"
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"])
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(DataError, match="duplicate column names: 'x'"):
        read_table(tmp_path / "d.parquet")


def test_corrupt_files_give_the_parsers_reason(frame, tmp_path):
    good = _write(frame, tmp_path / "good.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"cannot read '.*cut\.parquet' as Parquet: .*magic"):
        read_table(tmp_path / "cut.parquet")
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"cannot read '.*garbage\.csv' as CSV: \S"):
        read_table(tmp_path / "garbage.csv")
    (tmp_path / "not.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"cannot read '.*not\.csv\.gz' as CSV"):
        read_table(tmp_path / "not.csv.gz")


def test_a_bad_line_deep_in_a_chunked_csv(tmp_path):
    lines = ["a,b", *(f"{i},{i}" for i in range(300)), "1,2,3,4", "5,6"]
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    chunks = iter_table(tmp_path / "bad.csv", chunk_rows=100)
    assert len(next(chunks)) == 100
    with pytest.raises(DataError, match=r"bad\.csv' as CSV: .*Expected 2 fields in line 302"):
        list(chunks)


def test_bad_chunk_rows():
    with pytest.raises(DataError, match="chunk_rows must be a positive integer"):
        next(iter_table("x.csv", chunk_rows=0))


def test_parquet_without_pyarrow_names_the_extra(frame, tmp_path, monkeypatch):
    path = _write(frame, tmp_path / "t.parquet")
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'mlkit\[parquet\]'"):
        read_table(path)


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet"])
def test_table_columns_reads_only_the_header(frame, tmp_path, name, monkeypatch):
    path = _write(frame, tmp_path / name)
    monkeypatch.setattr(_tables, "iter_table", None)  # no rows are read
    assert _tables.table_columns(path) == ["amount", "count", "channel"]
    assert _tables.table_columns(path, ["channel", "amount", "channel"]) == ["channel", "amount"]
    with pytest.raises(DataError, match=r"has no column 'nope'; its columns are: amount"):
        _tables.table_columns(path, ["nope"])
    with pytest.raises(NotFoundError, match="no such file"):
        _tables.table_columns(tmp_path / "missing.csv")


def test_table_rows_and_size(frame, tmp_path):
    parquet = _write(frame, tmp_path / "t.parquet")
    csv = _write(frame, tmp_path / "t.csv")
    assert _tables.table_rows(parquet) == 500
    assert _tables.table_rows(csv) is None  # unknown without reading it
    size = csv.stat().st_size
    assert _tables.is_large(csv, size)
    assert not _tables.is_large(csv, size + 1)
    assert not _tables.is_large(csv)  # under CHUNKED_BYTES


@pytest.mark.parametrize(
    ("name", "unit", "total"), [("t.parquet", "rows", 500), ("t.csv", "MB", 1)]
)
def test_reading_progress_counts_rows_or_megabytes(frame, tmp_path, name, unit, total):
    path = _write(frame, tmp_path / name)
    out = io.StringIO()
    with _tables.reading_progress(path, stream=out) as bar:
        assert (bar.unit, bar.total, bar.label) == (unit, total, f"reading {name}")
        for _ in iter_table(path, chunk_rows=100, progress=bar):
            pass
    assert out.getvalue().splitlines()[-1].endswith(f"{total}/{total} {unit} (100%)")
    assert _tables.reading_progress(path, "testing", enabled=False).label == "testing"


def test_parquet_chunks_do_not_accumulate(tmp_path):
    """Reading a Parquet file batch by batch keeps about one batch in Arrow's memory pool.

    With pyarrow's read-ahead buffering (``pre_buffer``) every column chunk
    read stays allocated until the file is closed: memory grows with the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "big.parquet"
    rows, groups = 50_000, 30
    table = pa.table({f"x{j}": np.arange(rows, dtype=np.float64) for j in range(4)})
    with pq.ParquetWriter(path, table.schema) as writer:
        for _ in range(groups):
            writer.write_table(table, row_group_size=rows)
    chunk_bytes = table.nbytes
    before = pa.total_allocated_bytes()
    peak = 0
    for chunk in iter_table(path, chunk_rows=rows):
        assert len(chunk) == rows
        peak = max(peak, pa.total_allocated_bytes() - before)
        del chunk
    # A constant few batches are alive at a time (conversion buffers), never the file.
    assert peak < 10 * chunk_bytes  # the file is 30 batches
