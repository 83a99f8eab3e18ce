"""Content hashes: bytes, files, directories, arrays, frames, objects and DatasetVersion."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlkit.errors import (
    ConfigurationError,
    DataError,
    IntegrityError,
    MlkitError,
    NotFoundError,
)
from mlkit.versioning import (
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

HEX = "0123456789abcdef"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_hash(value: str) -> bool:
    prefix, _, digest = value.partition(":")
    return prefix == ALGORITHM and len(digest) == 64 and set(digest) <= set(HEX)


# ---------------------------------------------------------------------------- bytes


def test_hash_bytes_is_plain_sha256_of_bytes_bytearray_and_memoryview():
    """The string form is the algorithm prefix and hashlib's hex, for every bytes-like."""
    data = bytes(range(256)) * 3
    assert hash_bytes(data) == sha(data)
    assert hash_bytes(bytearray(data)) == sha(data)
    assert hash_bytes(memoryview(data)) == sha(data)
    assert hash_bytes(memoryview(data)[::2]) == sha(data[::2])  # strided view
    matrix = np.arange(12.0).reshape(3, 4)
    assert hash_bytes(memoryview(matrix)) == sha(matrix.tobytes())
    assert is_hash(hash_bytes(b""))


@pytest.mark.parametrize("value", ["text", 3, None, [b"a"]])
def test_hash_bytes_rejects_non_bytes(value):
    """A str (or anything not bytes-like) is a DataError naming the type."""
    with pytest.raises(DataError, match=type(value).__name__):
        hash_bytes(value)


# ----------------------------------------------------------------------------- files


def test_hash_file_streams_files_larger_than_the_chunk(tmp_path):
    """Chunked reading gives hashlib's digest of the whole content, at every chunk size."""
    data = np.random.default_rng(0).bytes(10_007)
    target = tmp_path / "blob.bin"
    target.write_bytes(data)
    for chunk_size in (1, 7, 1000, 4096, 10_007, 1 << 20):
        assert hash_file(target, chunk_size=chunk_size) == sha(data)
    assert hash_file(str(target)) == sha(data)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hash_file(empty) == sha(b"")


def test_hash_file_uses_constant_memory(tmp_path):
    """Peak Python allocations stay near one chunk for an 8 MiB file."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"\x01" * (8 << 20))
    tracemalloc.start()
    try:
        hash_file(target, chunk_size=64 << 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 512 << 10


def test_hash_file_errors(tmp_path):
    """Missing file, a directory, a bad chunk size: each its own MlkitError, clearly worded."""
    with pytest.raises(NotFoundError, match="no such file"):
        hash_file(tmp_path / "absent.bin")
    with pytest.raises(DataError, match=r"is a directory.*hash_dir"):
        hash_file(tmp_path)
    (tmp_path / "f").write_bytes(b"x")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError, match="chunk_size"):
            hash_file(tmp_path / "f", chunk_size=bad)
    with pytest.raises(DataError, match="path"):
        hash_file(42)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_hash_file_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        hash_file(fifo)


# ------------------------------------------------------------------------ directories


def write_tree(root, files):
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {"b.txt": b"bee", "a/z.bin": b"\x00\x01", "a/b/c.txt": b"", "a.txt": b"A" * 5000}


def test_hash_dir_manifest_is_sorted_relative_and_complete(tmp_path):
    """Entries: every file once, POSIX relative paths in plain sorted order, hash and size."""
    root = write_tree(tmp_path / "data", TREE)
    (root / "empty-dir").mkdir()
    manifest = hash_dir(root)
    paths = [e.path for e in manifest.entries]
    assert paths == sorted(TREE)
    assert paths == ["a.txt", "a/b/c.txt", "a/z.bin", "b.txt"]
    for entry in manifest.entries:
        assert entry.hash == sha(TREE[entry.path])
        assert entry.size == len(TREE[entry.path])
    assert manifest.size == sum(len(v) for v in TREE.values())
    assert is_hash(manifest.hash)


def test_hash_dir_hash_is_the_documented_canonical_json(tmp_path):
    """Anyone can recompute the manifest hash from its entries."""
    manifest = hash_dir(write_tree(tmp_path, TREE))
    payload = {
        "entries": [[e.path, e.hash, e.size] for e in manifest.entries],
        "format": "mlkit.hash_dir/1",
    }
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    assert manifest.hash == sha(text.encode())


def test_hash_dir_depends_on_content_and_names_not_on_location_or_order(tmp_path):
    """Same files elsewhere, written in another order: same hash; edit or rename: new hash."""
    first = write_tree(tmp_path / "one", TREE)
    second = write_tree(tmp_path / "two", dict(reversed(list(TREE.items()))))
    assert hash_dir(first) == hash_dir(second)
    (second / "a" / "z.bin").write_bytes(b"\x00\x02")
    assert hash_dir(second).hash != hash_dir(first).hash
    third = write_tree(tmp_path / "three", TREE)
    (third / "b.txt").rename(third / "c.txt")
    assert hash_dir(third).hash != hash_dir(first).hash
    fourth = write_tree(tmp_path / "four", TREE)
    (fourth / "a" / "b").rename(fourth / "a" / "q")  # a folder rename moves its files
    assert hash_dir(fourth).hash != hash_dir(first).hash


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_hash_dir_refuses_symlinks_inside_but_follows_the_root(tmp_path):
    """Links in the tree raise DataError naming the link; a linked root is fine."""
    root = write_tree(tmp_path / "data", TREE)
    expected = hash_dir(root)
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    assert hash_dir(alias) == expected

    (root / "link.txt").symlink_to(root / "b.txt")
    with pytest.raises(DataError, match=r"symbolic link.*'link.txt'"):
        hash_dir(root)
    (root / "link.txt").unlink()
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    with pytest.raises(DataError, match=r"'a/loop'"):
        hash_dir(root)
    (root / "a" / "loop").unlink()
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(DataError, match="dangling"):
        hash_dir(root)


def test_hash_dir_errors(tmp_path):
    with pytest.raises(NotFoundError, match="no such directory"):
        hash_dir(tmp_path / "absent")
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(DataError, match=r"not a directory.*hash_file"):
        hash_dir(tmp_path / "f")


def test_manifest_json_round_trip_and_tamper_detection(tmp_path):
    """to_json/from_json round trip; a changed entry, order or hash is refused."""
    manifest = hash_dir(write_tree(tmp_path, TREE))
    assert DirManifest.from_json(manifest.to_json()) == manifest
    assert DirManifest.from_dict(json.loads(json.dumps(manifest.to_dict()))) == manifest

    tampered = manifest.to_dict()
    tampered["entries"][0]["size"] += 1
    with pytest.raises(IntegrityError, match="does not match its entries"):
        DirManifest.from_dict(tampered)
    shuffled = manifest.to_dict()
    shuffled["entries"].reverse()
    with pytest.raises(DataError, match="sorted by path"):
        DirManifest.from_dict(shuffled)
    with pytest.raises(DataError, match="missing key"):
        DirManifest.from_dict({"hash": manifest.hash})
    with pytest.raises(DataError, match="not valid JSON"):
        DirManifest.from_json("{")


@pytest.mark.parametrize("path", ["", "/abs", "a//b", "../up", "a/./b", "a/", "nul\0"])
def test_manifest_entry_rejects_bad_paths(path):
    with pytest.raises(DataError, match="relative POSIX path"):
        ManifestEntry(path, sha(b""), 0)


def test_manifest_entry_rejects_bad_hash_and_size():
    with pytest.raises(DataError, match="64 lowercase hex"):
        ManifestEntry("a", "sha256:" + "A" * 64, 0)
    with pytest.raises(DataError, match="non-negative int"):
        ManifestEntry("a", sha(b""), -1)


def test_dir_manifest_from_entries_sorts():
    entries = [ManifestEntry("b", sha(b"b"), 1), ManifestEntry("a", sha(b"a"), 1)]
    manifest = DirManifest.from_entries(entries)
    assert [e.path for e in manifest.entries] == ["a", "b"]
    with pytest.raises(DataError, match="sorted by path"):
        DirManifest.from_entries([*entries, ManifestEntry("a", sha(b"x"), 1)])


# ---------------------------------------------------------------------------- arrays


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float64, np.int32, np.bool_, np.complex128, "M8[s]", "U3"]),
        shape=hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
    )
)
def test_hash_array_ignores_memory_layout(a):
    """C order, Fortran order, a copy and a strided view of equal values hash alike."""
    expected = hash_array(np.ascontiguousarray(a))
    assert hash_array(np.asfortranarray(a)) == expected
    assert hash_array(a.copy()) == expected
    strided = np.repeat(a, 2, axis=-1)[..., ::2]  # equal values, non-contiguous view
    assert not strided.flags.c_contiguous or strided.size <= 1
    assert hash_array(strided) == expected


def test_hash_array_covers_dtype_shape_and_values():
    x = np.arange(6, dtype=np.int64)
    base = hash_array(x)
    assert hash_array(x.astype(np.int32)) != base
    assert hash_array(x.astype(np.float64)) != base
    assert hash_array(x.reshape(2, 3)) != base
    y = x.copy()
    y[5] = 99
    assert hash_array(y) != base
    assert hash_array(x.astype(">i8")) == base  # byte order is layout, not value


def test_hash_array_nan_payloads_alike_and_signed_zero_distinct():
    """Every NaN hashes alike; -0.0 and 0.0 differ (the documented choice)."""
    a = np.array([1.0, np.nan, 0.0])
    b = a.copy()
    b.view(np.uint64)[1] = 0xFFF8_0000_0000_0001  # negative NaN with a payload
    assert b.view(np.uint64)[1] != a.view(np.uint64)[1]
    assert hash_array(b) == hash_array(a)
    c = np.array([1.0, np.nan, -0.0])
    assert hash_array(c) != hash_array(a)
    z = np.array([complex(np.nan, 1.0)])
    w = z.copy()
    w.view(np.uint64)[0] = 0x7FF0_0000_0000_0001  # signalling NaN in the real part
    assert hash_array(w) == hash_array(z)


def test_hash_array_structured_object_and_long_double():
    s = np.zeros(3, dtype=np.dtype([("a", "i1"), ("b", "f8")], align=True))
    t = s.copy()
    t.view(np.uint8)[1] = 0xFF  # a padding byte: not part of any value
    assert hash_array(t) == hash_array(s)
    t["b"][2] = 1.0
    assert hash_array(t) != hash_array(s)
    objects = np.array([[1, "a"], [None, 2.5]], dtype=object)
    assert hash_array(objects) == hash_array(np.asfortranarray(objects))
    assert hash_array(objects) != hash_array(objects.T)
    ld = np.array([0.1, 1e300], dtype=np.longdouble)
    assert hash_array(ld) == hash_array(ld.copy())
    assert hash_array(ld) != hash_array(ld[::-1])


def test_hash_array_masked_arrays_hash_mask_and_unmasked_values():
    """The mask counts; what lies under it does not."""
    a = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    b = a.copy()
    b.data[1] = 99.0
    assert hash_array(b) == hash_array(a)
    assert hash_array(a) != hash_array(np.ma.masked_array([1.0, 2.0, 3.0]))
    assert hash_array(a) != hash_array(a.data)
    assert hash_object({"m": a}) == hash_object({"m": b})
    assert hash_object({"m": a}) != hash_object({"m": a.data})


@pytest.mark.parametrize("value", [[1, 2], (1.0,), pd.Series([1])])
def test_hash_array_rejects_non_arrays(value):
    with pytest.raises(DataError, match=r"hash_array expects a numpy\.ndarray"):
        hash_array(value)


# ---------------------------------------------------------------------------- frames

KINDS = ("int", "float", "bool", "object", "category", "datetime", "string")
CATEGORIES = ("red", "green", "blue")
DTYPES = {
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "object": object,
    "category": pd.CategoricalDtype(list(CATEGORIES)),
    "datetime": "datetime64[s]",
    "string": pd.StringDtype(),
}
floats = st.floats(allow_nan=True, allow_infinity=True)
texts = st.one_of(st.none(), st.text(max_size=4))
CELLS = {
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": floats,
    "bool": st.booleans(),
    "object": st.one_of(texts, st.integers(-5, 5), floats),
    "category": st.sampled_from(CATEGORIES),
    "datetime": st.integers(-(10**10), 10**10),
    "string": texts,
}


def build_column(kind, values):
    if kind == "datetime":
        return pd.Series(np.array(values, dtype="datetime64[s]"))
    if kind == "string":
        return pd.Series([pd.NA if v is None else v for v in values], dtype=DTYPES[kind])
    return pd.Series(values, dtype=DTYPES[kind])


def build_frame(spec):
    """Frame from ``[(name, kind, values), ...]``, built from one dict (consolidated blocks)."""
    return pd.DataFrame({name: build_column(kind, values) for name, kind, values in spec})


@st.composite
def frame_specs(draw, min_rows=1, max_rows=8):
    n = draw(st.integers(min_rows, max_rows))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    return [
        (f"c{j}", kind, draw(st.lists(CELLS[kind], min_size=n, max_size=n)))
        for j, kind in enumerate(kinds)
    ]


def same_cell(kind, old, new):
    """Whether two cell values are the same value under hash_frame's rules."""
    if type(old) is not type(new) and kind == "object":
        return False
    if isinstance(old, float) and isinstance(new, float):
        if np.isnan(old) and np.isnan(new):
            return True
        return np.float64(old).tobytes() == np.float64(new).tobytes()  # -0.0 != 0.0
    return old == new


@given(frame_specs())
def test_equal_frames_hash_equal_whatever_the_layout(spec):
    """A copy, a deep copy, column-by-column blocks and a reindexed-equal frame hash alike."""
    df = build_frame(spec)
    expected = hash_frame(df)
    assert is_hash(expected)
    assert hash_frame(df.copy()) == expected
    assert hash_frame(copy.deepcopy(df)) == expected
    assert hash_frame(build_frame(spec)) == expected
    unconsolidated = pd.DataFrame(index=df.index)
    for name in reversed(df.columns):
        unconsolidated.insert(0, name, df[name].copy())  # one block per column
    assert hash_frame(unconsolidated) == expected
    materialised = df.set_axis(pd.Index(np.arange(len(df))))  # Index(int64), same labels
    assert not isinstance(materialised.index, pd.RangeIndex)
    assert hash_frame(materialised) == expected
    assert hash_frame(df.reindex(list(df.index))) == expected
    assert hash_frame(df.iloc[::-1].iloc[::-1]) == expected
    half = len(df) // 2
    assert hash_frame(pd.concat([df.iloc[:half], df.iloc[half:]])) == expected


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    )
)
def test_numeric_frame_ignores_c_or_fortran_order_and_block_structure(values):
    """One 2-D block (C or F order, copied or a view) or one block per column: same hash."""
    names = [f"x{j}" for j in range(values.shape[1])]
    expected = hash_frame(pd.DataFrame(values, columns=names))
    assert hash_frame(pd.DataFrame(np.asfortranarray(values), columns=names)) == expected
    assert hash_frame(pd.DataFrame(values, columns=names, copy=False)) == expected
    assert hash_frame(pd.DataFrame(values.T.copy().T, columns=names, copy=False)) == expected
    by_column = {name: values[:, j].copy() for j, name in enumerate(names)}
    assert hash_frame(pd.DataFrame(by_column)) == expected


def test_strided_columns_hash_like_contiguous_ones_across_row_chunks():
    """Views into a large row-major block (read chunk by chunk) hash like contiguous copies."""
    rng = np.random.default_rng(7)
    blocks = [
        rng.standard_normal((40_000, 20)),
        rng.integers(-5, 5, (40_000, 3)),
        rng.integers(0, 10**12, (40_000, 2)).astype("M8[s]"),
    ]
    blocks[0][::997, 3] = np.nan
    blocks[0].view(np.uint64)[::1999, 5] = 0xFFF8_0000_0000_0001  # NaN with a payload
    for values in blocks:
        strided = pd.DataFrame(values, copy=False)
        assert not strided[0].to_numpy().flags.c_contiguous
        contiguous = pd.DataFrame({j: values[:, j].copy() for j in range(values.shape[1])})
        assert hash_frame(strided) == hash_frame(contiguous)
        changed = values.copy()
        changed[-1, -1] = changed[0, 0]
        if not np.array_equal(changed, values):
            assert hash_frame(pd.DataFrame(changed, copy=False)) != hash_frame(strided)


@given(frame_specs(), st.data())
def test_any_single_cell_change_changes_the_hash(spec, data):
    """Change one cell of a mixed frame to a different value: the hash changes."""
    j = data.draw(st.integers(0, len(spec) - 1))
    name, kind, values = spec[j]
    i = data.draw(st.integers(0, len(values) - 1))
    new = data.draw(CELLS[kind])
    assume(not same_cell(kind, values[i], new))
    changed = list(spec)
    changed[j] = (name, kind, [*values[:i], new, *values[i + 1 :]])
    assert hash_frame(build_frame(changed)) != hash_frame(build_frame(spec))


RETYPE = {
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "object": "category",
    "category": object,
    "datetime": "datetime64[ms]",
    "string": object,
}


@given(frame_specs(), st.data())
def test_a_rename_or_dtype_change_changes_the_hash(spec, data):
    df = build_frame(spec)
    expected = hash_frame(df)
    j = data.draw(st.integers(0, len(spec) - 1))
    name, kind, _ = spec[j]
    assert hash_frame(df.rename(columns={name: name + "_"})) != expected
    assert hash_frame(df.astype({name: RETYPE[kind]})) != expected
    assert hash_frame(df.set_axis(df.index + 1)) != expected


def test_every_row_counts_not_a_sample():
    """MLflow hashes the first 10,000 rows; a change in row 19,999 must show."""
    df = pd.DataFrame({"x": np.arange(20_000.0), "s": [f"r{i}" for i in range(20_000)]})
    changed = df.copy()
    changed.loc[19_999, "x"] = -1.0
    assert hash_frame(changed) != hash_frame(df)
    changed = df.copy()
    changed.loc[19_999, "s"] = "other"
    assert hash_frame(changed) != hash_frame(df)


def object_frame(*values):
    return pd.DataFrame({"c": pd.Series(list(values), dtype=object)})


def test_object_values_of_different_kinds_never_collide():
    """1, "1", 1.0, True, b"1" in an object column all differ; numpy ints hash like ints."""
    values = [1, "1", 1.0, True, b"1", 1 + 0j, 2**70]
    hashes = {hash_frame(object_frame(v, "x")) for v in values}
    assert len(hashes) == len(values)
    assert hash_frame(object_frame(np.int64(1), "x")) == hash_frame(object_frame(1, "x"))
    assert hash_frame(object_frame(np.float32(0.5))) == hash_frame(object_frame(0.5))
    assert hash_frame(object_frame(1, "1")) != hash_frame(object_frame("1", 1))


def test_missing_values_are_told_apart_in_object_columns():
    """None, NaN, pd.NA and pd.NaT are different values in an object column."""
    missing = [None, np.nan, pd.NA, pd.NaT]
    for rest in ((), ("a",), ("a", 3)):
        hashes = {hash_frame(object_frame(*rest, m)) for m in missing}
        assert len(hashes) == len(missing)
    assert hash_frame(object_frame("a", np.nan)) == hash_frame(object_frame("a", float("nan")))


def test_strings_with_nul_and_surrogates():
    """Text holding the separator or lone surrogates is hashed unambiguously."""
    pairs = [
        (["a\0", "b"], ["a", "\0b"]),
        (["a\0b", ""], ["a", "b\0"]),
        (["\ud800", "x"], ["", "x"]),
    ]
    for left, right in pairs:
        assert hash_frame(object_frame(*left)) != hash_frame(object_frame(*right))
        assert hash_frame(object_frame(*left)) == hash_frame(object_frame(*left))


def test_labels_keep_their_type():
    """Column labels 1, "1", 1.0 and (1,) differ; tuples from MultiIndex columns work."""
    hashes = {hash_frame(pd.DataFrame({label: [1]})) for label in (1, "1", 1.0, (1,), True, None)}
    assert len(hashes) == 6
    wide = pd.DataFrame(
        np.ones((2, 2)), columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)], names=["g", "k"])
    )
    assert hash_frame(wide) == hash_frame(wide.copy())
    assert hash_frame(wide) != hash_frame(wide.set_axis(["a,1", "a,2"], axis=1))
    assert hash_frame(wide) != hash_frame(wide.rename_axis(columns=["g", "other"]))


def test_index_names_dtypes_and_values_count():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.Index([10, 20, 30], name="id"))
    base = hash_frame(df)
    assert hash_frame(df.rename_axis("key")) != base
    assert hash_frame(df.set_axis(pd.Index([10, 20, 31], name="id"))) != base
    assert hash_frame(df.set_axis(df.index.astype("int32"))) != base
    assert hash_frame(df.set_axis(df.index.astype("str"))) != base
    multi = df.set_index(pd.Index(["a", "b", "c"], name="k"), append=True)
    assert hash_frame(multi) != base
    assert hash_frame(multi) == hash_frame(multi.copy())
    assert hash_frame(multi.swaplevel()) != hash_frame(multi)


def test_categorical_categories_and_order_count():
    """Categories in order, unused ones and the ordered flag are part of the dtype."""
    values = ["a", "b", "a"]

    def frame(dtype):
        return pd.DataFrame({"c": pd.Categorical(values, dtype=dtype)})

    base = hash_frame(frame(pd.CategoricalDtype(["a", "b"])))
    assert hash_frame(frame(pd.CategoricalDtype(["b", "a"]))) != base
    assert hash_frame(frame(pd.CategoricalDtype(["a", "b", "z"]))) != base
    assert hash_frame(frame(pd.CategoricalDtype(["a", "b"], ordered=True))) != base
    assert hash_frame(pd.DataFrame({"c": pd.Series(values, dtype=object)})) != base


def test_extension_and_time_zone_columns():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "f": pd.array([0.5, None, 1.5], dtype="Float64"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "t": pd.date_range("2024-03-31", periods=3, freq="h", tz="Europe/Paris"),
            "p": pd.period_range("2024-01", periods=3, freq="M"),
            "i": pd.interval_range(0, 3),
        }
    )
    base = hash_frame(df)
    assert hash_frame(df.copy()) == base
    for column, value in [("n", 2), ("f", 0.25), ("b", True)]:
        changed = df.copy()
        changed.loc[1, column] = value  # NA becomes a value
        assert hash_frame(changed) != base
    assert hash_frame(df.assign(t=df["t"].dt.tz_convert("UTC"))) != base  # same instants
    assert hash_frame(df.assign(p=df["p"] + 1)) != base
    changed = df.copy()
    changed.loc[0, "n"] = 0  # 0 is what NA is filled with inside: still differs from NA
    assert hash_frame(changed.assign(n=pd.array([None, None, 3], dtype="Int64"))) != hash_frame(
        changed
    )


@pytest.mark.skipif(int(pd.__version__.split(".")[0]) < 3, reason="pandas 3 'str' dtype")
def test_pandas3_str_dtype_differs_from_object_but_is_stable():
    text = ["a", None, "c"]
    as_str = pd.DataFrame({"s": pd.Series(text, dtype="str")})
    as_object = pd.DataFrame({"s": pd.Series(text, dtype=object)})
    assert hash_frame(as_str) == hash_frame(as_str.copy())
    assert hash_frame(as_str) != hash_frame(as_object)


def test_empty_frames_and_duplicate_labels():
    assert hash_frame(pd.DataFrame()) != hash_frame(pd.DataFrame(index=[0]))
    assert hash_frame(pd.DataFrame({"x": []})) != hash_frame(pd.DataFrame({"y": []}))
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert hash_frame(dup) != hash_frame(pd.DataFrame([[2, 1]], columns=["a", "a"]))


@pytest.mark.parametrize("value", [np.zeros((2, 2)), pd.Series([1]), {"a": [1]}, None])
def test_hash_frame_rejects_non_frames(value):
    with pytest.raises(DataError, match=r"hash_frame expects a pandas\.DataFrame") as info:
        hash_frame(value)
    assert isinstance(info.value, MlkitError)


# Built identically in this process and in fresh interpreters with other hash seeds.
STABILITY_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import pandas as pd
    from mlkit.versioning import hash_frame, hash_object

    df = pd.DataFrame(
        {
            "x": [1.5, np.nan, -0.0],
            "s": pd.Series(["alpha", None, "gamma"], dtype=object),
            "mixed": pd.Series([1, "1", pd.NA], dtype=object),
            "cat": pd.Categorical(["b", "a", "b"]),
            "t": pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
            ("tuple", 1): [True, False, True],
            7: pd.array([1, None, 3], dtype="Int64"),
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )
    print(json.dumps([
        hash_frame(df),
        hash_object({1: "a", "b": {"x", "y", "z"}, (1, 2): frozenset({"p", "q"})}),
        hash_object({"s": {"alpha", "beta", "gamma", 3}, "frame": df}),
        hash_object(df["s"]),
        # frozensets order only partly, and iterate in str-hash order: seed-dependent.
        hash_object({frozenset({"a"}), frozenset({"b"}), frozenset({"c", "d"}), "e"}),
        hash_object({("k", 1): 1, ("k", "1"): 2, frozenset({"x"}): 3}),
    ]))
    """
)


def run_stability_script(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", STABILITY_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    result: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_hashes_are_stable_across_processes_and_hash_seeds(capsys):
    """Fresh interpreters with PYTHONHASHSEED 0 and 4242 agree with this process."""
    exec(STABILITY_SCRIPT, {})
    here = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert run_stability_script("0") == here
    assert run_stability_script("4242") == here


# --------------------------------------------------------------------------- objects


def test_hash_object_dispatches_to_the_specific_hashes():
    df = pd.DataFrame({"a": [1, 2]})
    a = np.arange(3)
    assert hash_object(df) == hash_frame(df)
    assert hash_object(a) == hash_array(a)
    assert hash_object(b"xy") == hash_bytes(b"xy")
    assert hash_object(bytearray(b"xy")) == hash_bytes(b"xy")
    assert hash_object(df["a"]) == hash_object(df["a"].copy())
    assert hash_object(df["a"]) != hash_object(df["a"].rename("b"))
    assert hash_object(df["a"]) != hash_object(df.set_axis([5, 6])["a"])
    assert hash_object(df.index) == hash_object(pd.Index([0, 1]))
    assert is_hash(hash_object("text"))


def test_hash_object_is_independent_of_dict_and_set_order():
    """Dict insertion order and set iteration order never matter, orderable keys or not."""
    assert hash_object({"a": 1, "b": 2}) == hash_object({"b": 2, "a": 1})
    assert hash_object({1: "x", "b": 2, (3,): None}) == hash_object({(3,): None, "b": 2, 1: "x"})
    assert hash_object({"n": {3, 1, 2}}) == hash_object({"n": {2, 3, 1}})
    assert hash_object(frozenset({"a", 1})) == hash_object(frozenset({1, "a"}))
    assert hash_object({float("nan"), 1.0, 2.0}) == hash_object({2.0, float("nan"), 1.0})
    assert hash_object({1, 2}) != hash_object(frozenset({1, 2}))
    assert hash_object({1, 2}) != hash_object([1, 2])
    assert hash_object({"a": 1}) != hash_object({"a": 2})


def test_hash_object_uses_values_not_identity_or_layout():
    """Shared references, and nested arrays/frames in any layout, hash by value."""
    x = [1, 2]
    assert hash_object([x, x]) == hash_object([x, [1, 2]])
    a = np.arange(6.0).reshape(2, 3)
    assert hash_object({"a": a}) == hash_object({"a": np.asfortranarray(a)})
    df = pd.DataFrame(a)
    assert hash_object([df]) == hash_object([pd.DataFrame(np.asfortranarray(a))])
    assert hash_object([df]) != hash_object([df + 1])


def test_hash_object_refuses_unpicklable_objects():
    with pytest.raises(DataError, match=r"cannot hash an object of type .*lock"):
        hash_object({"lock": threading.Lock()})


# ------------------------------------------------------------------- DatasetVersion


def test_dataset_version_from_frame_and_json_round_trip():
    df = pd.DataFrame({"x": [1, 2, 3], 5: ["a", "b", None]})
    version = DatasetVersion.from_frame(df, source="s3://bucket/train.parquet")
    assert version.hash == hash_frame(df)
    assert (version.n_rows, version.n_columns) == (3, 2)
    assert version.schema == (("x", "int64"), ("5", str(df.dtypes[5])))
    data = version.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert DatasetVersion.from_dict(data) == version
    assert DatasetVersion.from_json(version.to_json()) == version
    assert DatasetVersion.from_dict({**data, "role": "train"}) == version  # extra keys ignored
    without_source = {k: v for k, v in data.items() if k != "source"}
    assert DatasetVersion.from_dict(without_source).source is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hash": "md5:abc"}, "not a content hash"),
        ({"n_rows": -1}, "n_rows must be a non-negative int"),
        ({"n_columns": 3}, "schema has 2 entries but n_columns is 3"),
        ({"schema": [["x"]]}, "schema entry"),
        ({"source": 5}, "source must be a str"),
    ],
)
def test_dataset_version_rejects_bad_fields(change, message):
    data = DatasetVersion.from_frame(pd.DataFrame({"x": [1], "y": [2]})).to_dict()
    with pytest.raises(DataError, match=message):
        DatasetVersion.from_dict({**data, **change})


def test_dataset_version_missing_key_and_bad_json():
    with pytest.raises(DataError, match=r"missing key\(s\) \['n_rows'"):
        DatasetVersion.from_dict({"hash": sha(b""), "n_columns": 0, "schema": []})
    with pytest.raises(DataError, match="not valid JSON"):
        DatasetVersion.from_json("not json")
    with pytest.raises(DataError, match="hash_frame expects"):
        DatasetVersion.from_frame([1, 2])  # type: ignore[arg-type]
