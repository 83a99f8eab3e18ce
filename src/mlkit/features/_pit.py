"""Point-in-time correct joins: each entity row gets the feature values known at its time."""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from mlkit.errors import ConfigurationError, DataError

__all__ = ["point_in_time_join"]

logger = logging.getLogger(__name__)

# Private helper columns; a leading NUL keeps them away from any real column name.
_TIME = "\x00pit_time"
_POS = "\x00pit_pos"
_ROW = "\x00pit_row"


def point_in_time_join(
    entities: pd.DataFrame,
    features: pd.DataFrame,
    *,
    on: Hashable,
    by: Hashable | Sequence[Hashable],
    ttl: pd.Timedelta | _dt.timedelta | np.timedelta64 | str | None = None,
    feature_time: Hashable | None = None,
    suffix: str = "_feature",
) -> pd.DataFrame:
    """Join to each entity row the latest feature row at or before its timestamp.

    For every row of ``entities`` the feature row with the same ``by`` key(s)
    and the greatest timestamp ``<=`` the entity's timestamp is attached (an
    exact time match counts: a feature observed at ``t`` is known at ``t``).
    With ``ttl``, a feature row older than ``ttl`` is not used:
    ``entity_time - ttl <= feature_time <= entity_time``, both ends inclusive.
    Rows with no such feature row get missing values (NaN/NaT/None), so the
    result always has exactly the entity rows, in their original order and with
    their original index, whatever the order of either input.

    Parameters
    ----------
    entities
        The rows to enrich (e.g. labelled training events). Must hold ``by``
        and ``on``.
    features
        The feature history. Must hold ``by`` and the time column
        (``feature_time`` or, by default, ``on``). Every other column is
        attached.
    on
        The entity timestamp column (datetime64, naive or tz-aware).
    by
        The key column name, or a sequence of names, present in both frames.
    ttl
        The maximum age of a usable feature row (anything
        :class:`pandas.Timedelta` accepts, e.g. ``"7D"``), ``None`` for no limit.
        Must not be negative.
    feature_time
        The timestamp column of ``features`` when it is not named ``on``.
    suffix
        Appended to an attached column whose name the entities already use
        (including the feature time column when it is named ``on``).

    Returns
    -------
    pandas.DataFrame
        ``entities`` (unchanged columns) followed by the feature columns other
        than the keys, in ``features``' column order; the feature time column
        is included so the age of each value can be checked. Integer and
        boolean feature columns become float/object when any row has no match.

    Raises
    ------
    DataError
        A named column is missing, a time column is not datetime-like, or the
        key dtypes of the two frames cannot be matched.
    ConfigurationError
        ``ttl`` is negative or not a duration, ``by`` is empty, or ``suffix``
        does not resolve a name clash.

    Notes
    -----
    - Time zones: naive timestamps are taken to be UTC; tz-aware ones are
      converted to UTC, so the two frames may use different zones. Returned
      columns keep the values (and zones) the caller passed.
    - Duplicates: several feature rows with the same key(s) and timestamp are
      reduced to the *last* one in ``features``' row order (a later write of
      the same observation wins, as in an append-only log).
    - Missing keys or timestamps never match: entity rows with a null key or
      NaT time get missing features, and such feature rows are ignored.
    - Memory: only the key and time columns are sorted and merged (with
      :func:`pandas.merge_asof`); the feature values are then gathered once by
      row position, so the peak is linear in the input sizes.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlkit.features import point_in_time_join
    >>> entities = pd.DataFrame({
    ...     "user": [1, 1, 2],
    ...     "ts": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-03"]),
    ... })
    >>> features = pd.DataFrame({
    ...     "user": [1, 1, 2],
    ...     "ts": pd.to_datetime(["2024-01-02", "2024-01-03", "2023-12-01"]),
    ...     "spend": [10.0, 20.0, 5.0],
    ... })
    >>> out = point_in_time_join(entities, features, on="ts", by="user", ttl="7D")
    >>> out["spend"].tolist()
    [20.0, nan, nan]
    >>> list(out.columns)
    ['user', 'ts', 'ts_feature', 'spend']
    """
    keys = _as_keys(by)
    time_col: Hashable = on if feature_time is None else feature_time
    tolerance = _as_ttl(ttl)
    if not isinstance(suffix, str) or not suffix:
        raise ConfigurationError(
            f"suffix must be a non-empty string, got {suffix!r}",
            column="suffix",
            value=suffix,
            expected="a non-empty string",
        )
    _require(entities, "entities", [*keys, on])
    _require(features, "features", [*keys, time_col])

    entity_times = _utc(entities[on], "entities", on)
    feature_times = _utc(features[time_col], "features", time_col)

    # Only keys, times and row positions go through dedup, sort and merge_asof:
    # the feature values (often most of the bytes) are copied exactly once.
    left = _narrow(entities, keys, entity_times, _POS)
    right = _narrow(features, keys, feature_times, _ROW)
    rows = np.full(len(entities), -1, dtype=np.int64)
    if len(left) and len(right):
        left = left.sort_values(_TIME, kind="stable")
        right = _drop_same_time_duplicates(right.sort_values(_TIME, kind="stable"), keys)
        try:
            merged = pd.merge_asof(
                left,
                right,
                on=_TIME,
                by=keys,
                tolerance=tolerance,
                direction="backward",
                allow_exact_matches=True,
            )
        except pd.errors.MergeError as exc:
            raise DataError(
                f"cannot match the key column(s) {keys!r} of entities and features: {exc}",
                column=keys[0] if len(keys) == 1 else tuple(keys),
                value={str(k): (str(entities[k].dtype), str(features[k].dtype)) for k in keys},
                expected="key columns of compatible dtypes in both frames",
            ) from exc
        found = merged[_ROW].to_numpy(dtype=np.float64, na_value=np.nan)
        hit = ~np.isnan(found)
        rows[merged[_POS].to_numpy()[hit]] = found[hit].astype(np.int64)

    value_cols = [c for c in features.columns if c not in set(keys)]
    # reindex on a RangeIndex with label -1 for "no match" yields missing values
    # in one gather, with the usual upcasting (int -> float, bool -> object).
    values = features[value_cols].reset_index(drop=True).reindex(rows)
    values.index = entities.index
    values.columns = _resolve_names(value_cols, entities.columns, suffix)
    matched = int((rows >= 0).sum())
    logger.debug(
        "point_in_time_join: %d of %d entity rows matched (%d feature rows after dedup)",
        matched,
        len(entities),
        len(right),
    )
    joined: pd.DataFrame = pd.concat([entities, values], axis=1)
    return joined


def _as_keys(by: Hashable | Sequence[Hashable]) -> list[Hashable]:
    keys = [by] if isinstance(by, (str, bytes, tuple)) or not isinstance(by, Sequence) else by
    keys = list(keys)
    if not keys:
        raise ConfigurationError(
            "by must name at least one key column",
            column="by",
            value=by,
            expected="a column name or a non-empty sequence of names",
        )
    return keys


def _as_ttl(ttl: object) -> pd.Timedelta | None:
    if ttl is None:
        return None
    try:
        value: pd.Timedelta = pd.Timedelta(ttl)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"ttl must be a duration, got {ttl!r}",
            column="ttl",
            value=ttl,
            expected="a non-negative duration such as '7D' or datetime.timedelta",
        ) from exc
    if pd.isna(value) or value < pd.Timedelta(0):
        raise ConfigurationError(
            f"ttl must be a non-negative duration, got {ttl!r}",
            column="ttl",
            value=ttl,
            expected="a non-negative duration such as '7D' or datetime.timedelta",
        )
    return value


def _require(frame: pd.DataFrame, name: str, columns: Sequence[Hashable]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{name} must be a pandas DataFrame, got {type(frame).__name__}",
            column=name,
            value=type(frame).__name__,
            expected="pandas.DataFrame",
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} has no column(s) {missing!r}; it has {list(frame.columns)!r}",
            column=missing[0],
            value=list(frame.columns),
            expected=f"{name} to hold {list(columns)!r}",
        )
    if not frame.columns.is_unique:
        dupes = list(frame.columns[frame.columns.duplicated()])
        raise DataError(
            f"{name} has duplicate column names {dupes!r}",
            column=dupes[0],
            value=dupes,
            expected="unique column names",
        )


def _utc(times: pd.Series, frame: str, column: Hashable) -> pd.Series:
    """Return the column as datetime64[ns, UTC]: naive means UTC, aware is converted."""
    if not (
        pd.api.types.is_datetime64_any_dtype(times.dtype)
        or isinstance(times.dtype, pd.DatetimeTZDtype)
    ):
        raise DataError(
            f"{frame}[{column!r}] must hold timestamps, got dtype {times.dtype}",
            column=column,
            value=str(times.dtype),
            expected="datetime64 (naive = UTC, or tz-aware)",
        )
    times = times.dt.tz_localize("UTC") if times.dt.tz is None else times.dt.tz_convert("UTC")
    # merge_asof needs the same resolution on both sides; frames may differ (s/us/ns).
    utc: pd.Series = times.dt.as_unit("ns")
    return utc


def _narrow(
    frame: pd.DataFrame, keys: list[Hashable], times: pd.Series, position: str
) -> pd.DataFrame:
    """Return keys, UTC time and row position; rows with a null key or time dropped."""
    narrow = frame[keys].reset_index(drop=True)
    # .array keeps datetime64[ns, UTC]; to_numpy() would box every value into an object array
    narrow[_TIME] = times.array
    narrow[position] = np.arange(len(frame), dtype=np.int64)
    usable = narrow[[*keys, _TIME]].notna().all(axis=1).to_numpy()
    kept: pd.DataFrame = narrow if usable.all() else narrow[usable]
    return kept


def _drop_same_time_duplicates(right: pd.DataFrame, keys: list[Hashable]) -> pd.DataFrame:
    """Keep the last row (in ``features`` order) of each key+time duplicate group.

    ``right`` is stably sorted by time, so duplicates can only sit among rows
    whose time equals a neighbour's: only those are hashed, which is far
    cheaper than ``drop_duplicates`` over every row when ties are rare.
    """
    t = right[_TIME].to_numpy(dtype="datetime64[ns]").view(np.int64)
    same = t[1:] == t[:-1]
    if not same.any():
        return right
    tied = np.zeros(len(t), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    # stable sort kept features' row order within a time, so keep="last" keeps the later write
    dup = right[tied].duplicated(subset=[*keys, _TIME], keep="last").to_numpy()
    if not dup.any():
        return right
    drop = np.zeros(len(t), dtype=bool)
    drop[np.flatnonzero(tied)[dup]] = True
    kept: pd.DataFrame = right[~drop]
    return kept


def _resolve_names(columns: Sequence[Hashable], taken: pd.Index, suffix: str) -> list[Hashable]:
    names: list[Hashable] = []
    for col in columns:
        name: Hashable = col
        if col in taken:
            name = f"{col}{suffix}"
            if name in taken or name in columns:
                raise ConfigurationError(
                    f"feature column {col!r} clashes with an entity column and {name!r} is "
                    "taken too; pass another suffix",
                    column="suffix",
                    value=suffix,
                    expected="a suffix giving unused column names",
                )
        names.append(name)
    return names
