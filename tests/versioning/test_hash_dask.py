"""hash_frame on Dask frames: equal to the pandas hash of ``compute()``, any partitioning."""

import itertools
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dask_support import dask_on
from mlkit.errors import DataError
from mlkit.versioning import hash_frame

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def plain_dask():
    """In-process scheduler, and object columns kept as object (Dask converts them to str)."""
    with dask.config.set({"dataframe.convert-string": False, "scheduler": "sync"}):
        yield


# ---------------------------------------------------------------------- strategies

CATEGORIES = ("red", "green", "blue")
texts = st.text(alphabet=st.sampled_from("ab\0é\U0001f600 "), max_size=3)
floats = st.floats(allow_nan=True, allow_infinity=True)
CELLS = {
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": floats,
    "bool": st.booleans(),
    "str": st.one_of(st.none(), texts),
    "object": st.one_of(
        st.none(),
        texts,
        st.integers(-(2**70), 2**70),
        floats,
        st.booleans(),
        st.binary(max_size=3),
        st.just(pd.NA),
        st.just(pd.NaT),
    ),
    "object_text": texts,
    "category": st.sampled_from(CATEGORIES),
    "datetime": st.integers(-(10**10), 10**10),
    "masked": st.one_of(st.none(), st.integers(-5, 5)),
    "tz": st.integers(0, 10**9),
    "period": st.integers(0, 1000),
}


def build_column(kind, values):
    if kind == "datetime":
        return pd.Series(np.array(values, dtype="datetime64[s]"))
    if kind == "str":
        return pd.Series(values, dtype="str")
    if kind == "category":
        return pd.Series(pd.Categorical(values, categories=CATEGORIES))
    if kind == "masked":
        return pd.Series(values, dtype="Int64")
    if kind == "tz":
        return pd.Series(pd.to_datetime(values, unit="s", utc=True).tz_convert("Europe/Paris"))
    if kind == "period":
        return pd.Series(pd.PeriodIndex.from_ordinals(values, freq="D"))
    dtype = {"int": "int64", "float": "float64", "bool": "bool"}.get(kind, object)
    return pd.Series(values, dtype=dtype)


@st.composite
def frames(draw, max_rows=12):
    n = draw(st.integers(0, max_rows))
    kinds = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=5))
    columns = {
        f"c{j}": build_column(kind, draw(st.lists(CELLS[kind], min_size=n, max_size=n)))
        for j, kind in enumerate(kinds)
    }
    frame = pd.DataFrame(columns)
    index = draw(st.sampled_from(["range", "text", "float"]))
    if index == "text":
        frame.index = pd.Index([f"r{i}" for i in range(n)], dtype=object, name="row")
    elif index == "float":
        frame.index = pd.Index(np.arange(n) / 2, name=("a", 1))
    return frame


def cut(frame, bounds):
    """Pieces of ``frame`` between sorted row positions (empty pieces included)."""
    edges = [0, *sorted(min(b, len(frame)) for b in bounds), len(frame)]
    return [frame.iloc[a:b] for a, b in itertools.pairwise(edges)]


def from_pieces(pieces):
    """A Dask frame whose partitions are exactly ``pieces``."""
    return dd.from_delayed([dask.delayed(p) for p in pieces], meta=pieces[0].iloc[:0])


# ------------------------------------------------------------------------- properties


@settings(max_examples=40)
@given(frames(), st.lists(st.integers(0, 12), max_size=6))
def test_any_partitioning_hashes_like_the_computed_frame(frame, bounds):
    """Random frames cut anywhere (empty partitions too) hash like the pandas frame."""
    ddf = from_pieces(cut(frame, bounds))
    computed = ddf.compute()
    # The same rows; Dask may give an object index the str dtype on the way.
    pd.testing.assert_frame_equal(computed, frame, check_index_type=False)
    assert hash_frame(ddf) == hash_frame(computed)


@pytest.fixture(scope="module")
def rich():
    rng = np.random.default_rng(7)
    n = 340
    text = rng.choice(["alpha", "beta", "gamma\0nul", "δ"], n).astype(object)
    text[rng.random(n) < 0.1] = None
    mixed = rng.choice(np.array([1, "one", 1.5, None, b"1", 2**80, True], dtype=object), n)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(-5, 5, n),
            "flag": rng.random(n) < 0.5,
            "when": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "text": pd.Series(text, dtype="str"),
            "mixed": pd.Series(mixed, dtype=object),
            "level": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), ordered=True),
            "count": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), "Int64"),
        },
        index=pd.Index(np.arange(n) * 3, name="id"),
    )


@pytest.mark.parametrize("npartitions", [1, 3, 17])
def test_partitions_hash_like_pandas(rich, npartitions):
    """1, 3 and 17 partitions of a frame of every column kind hash like the pandas frame."""
    ddf = dd.from_pandas(rich, npartitions=npartitions)
    assert ddf.npartitions == npartitions
    assert hash_frame(ddf) == hash_frame(rich)


def test_uneven_and_empty_partitions(rich):
    """A filter that empties some partitions still hashes like its computed frame."""
    ddf = dd.from_pandas(rich, npartitions=17)
    kept = ddf[(ddf["k"] > 3) | (ddf.index < 30)]
    sizes = kept.map_partitions(len).compute().tolist()
    assert 0 in sizes
    assert len(set(sizes)) > 2
    assert hash_frame(kept) == hash_frame(kept.compute())
    nothing = ddf[ddf["k"] > 100]
    assert hash_frame(nothing) == hash_frame(nothing.compute())


def test_categories_that_differ_per_partition_take_computes_union():
    """Unknown, per-partition categories: the hash uses compute()'s union (appearance order)."""
    many = [f"v{i:03d}" for i in range(300)]
    parts = [(["b", "d", "b"], ["b", "d"]), (["a"], ["a", "b"]), ([], ["q"]), (many, many)]
    pieces = []
    for values, categories in parts:
        column = pd.Categorical(values, categories=categories)
        start = sum(len(p) for p in pieces)
        pieces.append(pd.DataFrame({"c": column}, index=range(start, start + len(values))))
    ddf = dd.from_delayed(
        [dask.delayed(p) for p in pieces], meta=pieces[0].iloc[:0], verify_meta=False
    )
    computed = ddf.compute()
    assert computed["c"].cat.categories[:4].tolist() == ["b", "d", "a", "v000"]  # not sorted
    assert computed["c"].cat.codes.dtype == np.int16  # grew past int8 on the way
    assert hash_frame(ddf) == hash_frame(computed)
    text = dd.from_pandas(pd.DataFrame({"c": ["b", "a"] * 40 + many}), npartitions=6)
    unknown = text[text["c"] != "a"].map_partitions(lambda p: p.astype({"c": "category"}))
    assert hash_frame(unknown) == hash_frame(unknown.compute())


def test_ordered_categories_that_differ_cannot_be_combined():
    """compute() fails on them, and hash_frame names the column instead."""
    pieces = [
        pd.DataFrame({"c": pd.Categorical(["a"], categories=["a", "b"], ordered=True)}),
        pd.DataFrame({"c": pd.Categorical(["c"], categories=["c"], ordered=True)}, index=[1]),
    ]
    ddf = dd.from_delayed([dask.delayed(p) for p in pieces], meta=pieces[0], verify_meta=False)
    with pytest.raises(DataError, match="column 'c'"):
        hash_frame(ddf)


def test_partitions_with_other_dtypes_are_refused():
    """Partitions that disagree with each other on a dtype are a DataError, not a guess."""
    pieces = [pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [0.5]}, index=[2])]
    ddf = dd.from_delayed([dask.delayed(p) for p in pieces], meta=pieces[0], verify_meta=False)
    with pytest.raises(DataError, match="other dtypes"):
        hash_frame(ddf)


def test_partitions_unlike_the_meta_hash_as_computed_or_are_refused():
    """compute() returns the partitions' dtypes: they count, or text the meta hid is refused."""
    pieces = [pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]}, index=[2])]
    floats = pd.DataFrame({"x": pd.Series([], dtype="float64")})
    ddf = dd.from_delayed([dask.delayed(p) for p in pieces], meta=floats, verify_meta=False)
    assert hash_frame(ddf) == hash_frame(ddf.compute())
    texts = [p.astype({"x": "str"}) for p in pieces]
    ddf = dd.from_delayed([dask.delayed(p) for p in texts], meta=floats, verify_meta=False)
    with pytest.raises(DataError, match="unlike the Dask frame's meta"):
        hash_frame(ddf)


# Dask's Parquet writer calls reset_index(inplace=True), which pandas 3.1 deprecates.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_index_from_set_index_and_parquet(rich, tmp_path):
    """A sorted text index and the per-file RangeIndex of read_parquet hash like compute()."""
    # Unique keys: a shuffle orders rows with equal keys differently on each compute().
    keyed = rich.assign(key=[f"r{i:04d}" for i in range(len(rich))]).iloc[::-1]
    ddf = dd.from_pandas(keyed, npartitions=5).set_index("key")
    assert hash_frame(ddf) == hash_frame(ddf.compute())
    numbers = rich[["x", "k", "flag", "when"]].reset_index(drop=True)
    dd.from_pandas(numbers, npartitions=3).to_parquet(tmp_path, write_index=False)
    read = dd.read_parquet(tmp_path)
    assert hash_frame(read) == hash_frame(read.compute())


def test_hash_of_a_dask_frame_holds_one_partition_at_a_time():
    """Peak memory is a few partitions, far below the frame (partitions made on demand)."""
    rows, parts = 100_000, 20

    def make(i):
        rng = np.random.default_rng(i)
        return pd.DataFrame(
            {f"f{j}": rng.normal(size=rows) for j in range(4)},
            index=pd.RangeIndex(i * rows, (i + 1) * rows),
        )

    ddf = dd.from_map(make, range(parts))
    whole = 5 * 8 * rows * parts  # 4 float columns and the index: 80 MB
    tracemalloc.start()
    try:
        digest = hash_frame(ddf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Building a partition (4 arrays, then one block) and hashing it cost about
    # 3.5 partitions; the whole frame is 20.
    assert peak < 5 * whole / parts
    assert digest == hash_frame(ddf.compute())


def test_importing_versioning_does_not_import_dask():
    """Dask stays optional: only a Dask frame passed to hash_frame imports it."""
    code = "import sys, mlkit.versioning; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -------------------------------------------------------------------------- cluster


def test_a_two_worker_cluster_hashes_like_pandas(rich, dask_client):
    """On a real LocalCluster (2 worker processes) 17 partitions hash like the pandas frame."""
    with dask_on(dask_client) as tasks:
        ddf = dd.from_pandas(rich, npartitions=17)
        assert hash_frame(ddf) == hash_frame(rich)
    assert tasks.data  # the work ran on the cluster's workers
