import numpy as np
import pandas as pd
import pytest

from mlkit._frames import is_dask_frame, iter_pieces, map_reduce, n_pieces
from mlkit.errors import ConfigurationError, DataError

dd = pytest.importorskip("dask.dataframe")


def frame(n=1000):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, n)})


def summarise(piece):
    return (len(piece), float(piece["a"].sum()), piece["b"].value_counts().to_dict())


def merge(x, y):
    counts = dict(x[2])
    for key, value in y[2].items():
        counts[key] = counts.get(key, 0) + value
    return (x[0] + y[0], x[1] + y[1], counts)


@pytest.mark.parametrize("npartitions", [1, 3, 17])
def test_dask_chunks_and_pandas_agree(npartitions):
    df = frame()
    expected = summarise(df)
    got = map_reduce(dd.from_pandas(df, npartitions=npartitions), summarise, merge, split_every=2)
    chunks = map_reduce((df.iloc[i : i + 70] for i in range(0, len(df), 70)), summarise, merge)
    for result in (got, chunks):
        assert result[0] == expected[0]
        assert result[1] == pytest.approx(expected[1])
        assert result[2] == expected[2]


def test_pieces_keep_their_order():
    df = frame(100)
    ddf = dd.from_pandas(df, npartitions=7)
    order = map_reduce(ddf, lambda p: [int(p.index[0])], lambda x, y: x + y, split_every=3)
    assert order == sorted(order)
    assert len(order) == ddf.npartitions
    assert pd.concat(list(iter_pieces(ddf))).equals(df)
    assert (n_pieces(ddf), n_pieces(df), n_pieces(iter([df]))) == (7, 1, None)


def test_is_dask_frame_does_not_mistake_other_things():
    assert is_dask_frame(dd.from_pandas(frame(10), npartitions=2))
    assert not is_dask_frame(frame(10))
    assert not is_dask_frame([1, 2])


@pytest.mark.parametrize("bad", [42, "file.csv", [pd.DataFrame({"a": [1]}), 3]])
def test_bad_data_is_a_clear_error(bad):
    with pytest.raises(DataError, match="reference"):
        map_reduce(bad, len, lambda x, y: x + y, name="reference")


def test_an_empty_iterable_and_a_bad_split_are_errors():
    with pytest.raises(DataError, match="no chunk"):
        map_reduce(iter([]), len, lambda x, y: x + y)
    ddf = dd.from_pandas(frame(10), npartitions=2)
    with pytest.raises(ConfigurationError, match="split_every"):
        map_reduce(ddf, len, lambda x, y: x + y, split_every=1)
