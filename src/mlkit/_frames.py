"""One way to summarise data that may not fit in memory: pandas, chunks or Dask.

mlkit's summaries (drift profiles, validation counts, schema statistics) are
computed per piece of data with the same numpy kernels and then merged. This
module runs that map-and-merge over the three shapes data comes in:

- a ``pandas.DataFrame``: one piece;
- an iterable of ``pandas.DataFrame`` chunks (a file read in chunks, see
  :func:`mlkit._tables.iter_table`): folded in order, one chunk in memory at
  a time;
- a ``dask.dataframe.DataFrame``: each partition summarised where it lives,
  the summaries merged by a tree reduction (``split_every`` at a time), so
  only summaries ever travel, never the data.

Dask is optional (the ``dask`` extra) and never imported unless a Dask frame
is passed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from mlkit.errors import ConfigurationError, DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["is_dask_frame", "iter_pieces", "map_reduce", "n_pieces"]

S = TypeVar("S")
_EMPTY: Any = object()  # no summary yet


def is_dask_frame(data: Any) -> bool:
    """Tell whether ``data`` is a ``dask.dataframe.DataFrame``, without importing Dask."""
    module = type(data).__module__
    if not module.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(data, dd.DataFrame)


def _is_pandas(data: Any) -> bool:
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def n_pieces(data: Any) -> int | None:
    """Return how many pieces ``data`` comes in: 1, its partitions, or None (an iterator)."""
    if _is_pandas(data):
        return 1
    if is_dask_frame(data):
        return int(data.npartitions)
    return None


def map_reduce(
    data: Any,
    summarise: Callable[[pd.DataFrame], S],
    merge: Callable[[S, S], S],
    *,
    split_every: int = 8,
    name: str = "data",
) -> S:
    """Summarise every piece of ``data`` with ``summarise`` and merge the summaries.

    ``merge`` must be associative, and the result must not depend on how
    the data was cut into pieces: the callers' tests check that 1, 3 and 17
    partitions give the same answer as one pandas frame.

    Parameters
    ----------
    data
        A pandas frame, an iterable of pandas frames, or a Dask frame.
    summarise
        Piece -> summary. Runs on the Dask workers for a Dask frame, so it
        and its summary must pickle.
    merge
        Two summaries -> one. Pieces keep their order: ``merge(a, b)`` has
        ``a`` before ``b``.
    split_every
        How many summaries one task of the Dask tree reduction merges.
    name
        What ``data`` is called in error messages.

    Raises
    ------
    DataError
        If ``data`` is none of the three shapes, or an iterable yields no frame.

    Examples
    --------
    >>> import pandas as pd
    >>> chunks = (pd.DataFrame({"a": range(i, i + 3)}) for i in (0, 3, 6))
    >>> map_reduce(chunks, lambda f: int(f["a"].sum()), lambda x, y: x + y)
    36
    """
    if is_dask_frame(data):
        return _dask_tree(data, summarise, merge, split_every)
    result: Any = _EMPTY
    for piece in iter_pieces(data, name=name):
        summary = summarise(piece)
        result = summary if result is _EMPTY else merge(result, summary)
    if result is _EMPTY:
        raise DataError(f"{name} yielded no chunk", value=0, expected="at least one DataFrame")
    return result  # type: ignore[no-any-return]


def _dask_tree(
    data: Any, summarise: Callable[[Any], S], merge: Callable[[S, S], S], split_every: int
) -> S:
    dask: Any = importlib.import_module("dask")  # untyped; the dask extra

    if split_every < 2:
        raise ConfigurationError(
            f"split_every must be at least 2, got {split_every}",
            value=split_every,
            expected="an integer >= 2",
        )
    # The summariser (often a fitted detector, megabytes pickled) is one task
    # of its own that the map tasks depend on: the scheduler then sends it to
    # each worker once, instead of inside every task.
    shared = dask.delayed(_identity, pure=False)(summarise)
    apply = dask.delayed(_apply, pure=True)
    level = [apply(shared, part) for part in data.to_delayed()]
    if not level:
        raise DataError("the Dask frame has no partition", value=0, expected="partitions")
    merge_many = dask.delayed(_merge_all, pure=True)
    while len(level) > 1:
        level = [
            merge_many(merge, *level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    (result,) = dask.compute(level[0])
    return result  # type: ignore[no-any-return]


def _identity(value: S) -> S:
    return value


def _apply(summarise: Callable[[Any], S], piece: Any) -> S:
    return summarise(piece)


def _merge_all(merge: Callable[[S, S], S], *summaries: S) -> S:
    result = summaries[0]
    for summary in summaries[1:]:
        result = merge(result, summary)
    return result


def iter_pieces(data: Any, *, name: str = "data") -> Iterator[pd.DataFrame]:
    """Yield the pieces of ``data`` as pandas frames, in order, one in memory at a time.

    For what cannot be merged out of order (a content hash): a Dask frame's
    partitions are computed one after the other.
    """
    if _is_pandas(data):
        yield data
    elif is_dask_frame(data):
        for i in range(data.npartitions):
            yield data.get_partition(i).compute()
    elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        for position, piece in enumerate(data):
            if not _is_pandas(piece):
                raise DataError(
                    f"{name}: chunk {position} is a {type(piece).__name__}, not a DataFrame",
                    value=type(piece).__name__,
                    expected="pandas.DataFrame chunks",
                )
            yield piece
    else:
        raise DataError(
            f"{name} must be a pandas DataFrame, an iterable of DataFrames or a Dask "
            f"DataFrame, got {type(data).__name__}",
            value=type(data).__name__,
            expected="pandas.DataFrame, Iterable[pandas.DataFrame] or dask.dataframe.DataFrame",
        )
