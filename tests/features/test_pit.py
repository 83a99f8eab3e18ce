from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.errors import ConfigurationError, DataError
from mlkit.features import point_in_time_join

BASE = pd.Timestamp("2024-03-10 00:00")  # a DST switch day in the US: zones must not matter


def reference(
    entities: pd.DataFrame,
    features: pd.DataFrame,
    on: str,
    by: list[str],
    ttl: pd.Timedelta | None,
    feature_time: str,
) -> pd.Series:
    """Brute force: for each entity row, the position in ``features`` of the match (-1: none)."""

    def utc(s: pd.Series) -> list[pd.Timestamp]:
        return [
            pd.NaT if pd.isna(t) else (t.tz_localize("UTC") if t.tzinfo is None else t) for t in s
        ]

    et, ft = utc(entities[on]), utc(features[feature_time])
    out = []
    for i in range(len(entities)):
        best, best_t = -1, None
        ekey = tuple(entities[k].iloc[i] for k in by)
        t = et[i]
        for j in range(len(features)):
            fkey = tuple(features[k].iloc[j] for k in by)
            if pd.isna(t) or pd.isna(ft[j]) or any(pd.isna(v) for v in ekey + fkey):
                continue
            if fkey != ekey or ft[j] > t or (ttl is not None and ft[j] < t - ttl):
                continue
            # ">=": among equal times the later row in features wins (dedup keeps last)
            if best_t is None or ft[j] >= best_t:
                best, best_t = j, ft[j]
        out.append(best)
    return pd.Series(out, index=entities.index, dtype=np.int64)


def times(minutes: list[int | None], tz: str | None) -> pd.Series:
    s = pd.Series(
        [pd.NaT if m is None else BASE + pd.Timedelta(minutes=m) for m in minutes],
        dtype="datetime64[ns]",
    )
    # naive values are UTC; an aware column shows the same instants in another zone
    return s if tz is None else s.dt.tz_localize("UTC").dt.tz_convert(tz)


zones = st.sampled_from([None, "UTC", "America/New_York", "Asia/Kolkata"])
minute = st.one_of(st.integers(0, 12), st.none())


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timedelta | None]:
    n_e = draw(st.integers(0, 12))
    n_f = draw(st.integers(0, 15))
    ekeys = draw(st.lists(st.integers(0, 4), min_size=n_e, max_size=n_e))  # 3, 4: often absent
    fkeys = draw(st.lists(st.integers(0, 2), min_size=n_f, max_size=n_f))
    eminutes = draw(st.lists(minute, min_size=n_e, max_size=n_e))
    fminutes = draw(st.lists(minute, min_size=n_f, max_size=n_f))
    entities = pd.DataFrame({"key": ekeys, "ts": times(eminutes, draw(zones))})
    # a shuffled, non-default index: the result must keep it and the row order
    entities.index = pd.Index(draw(st.permutations(range(100, 100 + n_e))), name="event")
    features = pd.DataFrame(
        {
            "key": fkeys,
            "ts": times(fminutes, draw(zones)),
            "value": np.arange(n_f, dtype=np.float64),
            "label": [f"row{j}" for j in range(n_f)],
        }
    )
    ttl = draw(st.one_of(st.none(), st.integers(0, 6).map(lambda m: pd.Timedelta(minutes=m))))
    return entities, features, ttl


@given(frames())
def test_matches_brute_force(data: tuple[pd.DataFrame, pd.DataFrame, pd.Timedelta | None]) -> None:
    entities, features, ttl = data
    out = point_in_time_join(entities, features, on="ts", by="key", ttl=ttl)
    expected = reference(entities, features, "ts", ["key"], ttl, "ts")
    assert out.index.equals(entities.index)
    pd.testing.assert_frame_equal(out[["key", "ts"]], entities)
    got = out["value"].fillna(-1).astype(np.int64)  # value j is row j of features
    pd.testing.assert_series_equal(got, expected, check_names=False)
    labels = [None if j < 0 else f"row{j}" for j in expected]
    assert [None if pd.isna(v) else v for v in out["label"]] == labels


@given(frames())
def test_multiple_keys_and_separate_time_column(
    data: tuple[pd.DataFrame, pd.DataFrame, pd.Timedelta | None],
) -> None:
    entities, features, ttl = data
    entities = entities.assign(shop=entities["key"] % 2)
    features = features.assign(shop=features["key"] % 2).rename(columns={"ts": "seen"})
    out = point_in_time_join(
        entities, features, on="ts", by=["key", "shop"], ttl=ttl, feature_time="seen"
    )
    expected = reference(entities, features, "ts", ["key", "shop"], ttl, "seen")
    got = out["value"].fillna(-1).astype(np.int64)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert list(out.columns) == ["key", "ts", "shop", "seen", "value", "label"]


def test_ties_keep_last_and_exact_time_counts() -> None:
    t = pd.Timestamp("2024-01-01 12:00")
    entities = pd.DataFrame({"k": ["a"], "ts": [t]})
    features = pd.DataFrame({"k": ["a", "a", "a"], "ts": [t, t, t], "x": [1, 2, 3]})
    out = point_in_time_join(entities, features, on="ts", by="k")
    assert out["x"].tolist() == [3]
    assert out["ts_feature"].tolist() == [t]


def test_ttl_edges_are_inclusive() -> None:
    t = pd.Timestamp("2024-01-02")
    entities = pd.DataFrame({"k": [1, 2], "ts": [t, t]})
    features = pd.DataFrame(
        {
            "k": [1, 2],
            "ts": [t - pd.Timedelta("1D"), t - pd.Timedelta("1D") - pd.Timedelta("1ns")],
            "x": [1.0, 2.0],
        }
    )
    out = point_in_time_join(entities, features, on="ts", by="k", ttl=dt.timedelta(days=1))
    assert out["x"].tolist()[0] == 1.0
    assert np.isnan(out["x"].tolist()[1])
    zero = point_in_time_join(entities, features, on="ts", by="k", ttl="0s")
    assert zero["x"].isna().all()


def test_future_features_never_leak() -> None:
    entities = pd.DataFrame({"k": [1], "ts": pd.to_datetime(["2024-01-01 00:00"])})
    features = pd.DataFrame(
        {"k": [1], "ts": pd.to_datetime(["2024-01-01 00:00:00.000001"]), "x": [1.0]}
    )
    assert point_in_time_join(entities, features, on="ts", by="k")["x"].isna().all()


def test_mixed_time_zones_and_resolutions() -> None:
    # 12:00 in Kolkata is 06:30 UTC; the naive entity time is read as UTC.
    entities = pd.DataFrame(
        {"k": [1, 1], "ts": pd.Series(pd.to_datetime(["2024-01-01 06:30", "2024-01-01 06:29"]))}
    )
    entities["ts"] = entities["ts"].dt.as_unit("s")
    features = pd.DataFrame(
        {
            "k": [1],
            "ts": pd.Series(pd.to_datetime(["2024-01-01 12:00"])).dt.tz_localize("Asia/Kolkata"),
            "x": [7],
        }
    )
    out = point_in_time_join(entities, features, on="ts", by="k")
    assert out["x"].iloc[0] == 7
    assert np.isnan(out["x"].iloc[1])
    assert str(out["ts_feature"].dt.tz) == "Asia/Kolkata"  # values come back as passed
    assert out["ts"].dtype == entities["ts"].dtype


def test_dtypes_without_and_with_misses() -> None:
    t = pd.Timestamp("2024-01-01")
    features = pd.DataFrame({"k": [1], "ts": [t], "n": [5], "flag": [True]})
    hit = point_in_time_join(pd.DataFrame({"k": [1], "ts": [t]}), features, on="ts", by="k")
    assert hit["n"].dtype == np.int64
    assert hit["flag"].dtype == bool
    miss = point_in_time_join(pd.DataFrame({"k": [1, 9], "ts": [t, t]}), features, on="ts", by="k")
    assert miss["n"].dtype == np.float64
    assert miss["n"].isna().tolist() == [False, True]


def test_empty_inputs() -> None:
    features = pd.DataFrame({"k": [1], "ts": [pd.Timestamp("2024-01-01")], "x": [1.0]})
    empty = pd.DataFrame({"k": pd.Series([], dtype=np.int64), "ts": pd.Series([], dtype="M8[ns]")})
    out = point_in_time_join(empty, features, on="ts", by="k")
    assert len(out) == 0
    assert list(out.columns) == ["k", "ts", "ts_feature", "x"]
    out = point_in_time_join(features[["k", "ts"]], features.iloc[:0], on="ts", by="k")
    assert out["x"].isna().all()


def test_inputs_are_not_modified() -> None:
    entities = pd.DataFrame({"k": [2, 1], "ts": pd.to_datetime(["2024-01-02", "2024-01-01"])})
    features = pd.DataFrame(
        {"k": [1, 2], "ts": pd.to_datetime(["2024-01-01", "2024-01-01"]), "x": [1.0, 2.0]}
    )
    e0, f0 = entities.copy(), features.copy()
    point_in_time_join(entities, features, on="ts", by="k")
    pd.testing.assert_frame_equal(entities, e0)
    pd.testing.assert_frame_equal(features, f0)


def test_errors_name_the_argument() -> None:
    t = pd.Timestamp("2024-01-01")
    entities = pd.DataFrame({"k": [1], "ts": [t]})
    features = pd.DataFrame({"k": [1], "ts": [t], "x": [1.0]})
    with pytest.raises(DataError) as err:
        point_in_time_join(entities, features, on="ts", by="user")
    assert err.value.column == "user"
    with pytest.raises(DataError) as err:
        point_in_time_join(entities.assign(ts="2024"), features, on="ts", by="k")
    assert err.value.column == "ts"
    with pytest.raises(ConfigurationError) as err:
        point_in_time_join(entities, features, on="ts", by="k", ttl="-1D")
    assert err.value.column == "ttl"
    with pytest.raises(ConfigurationError):
        point_in_time_join(entities, features, on="ts", by="k", ttl="soon")
    with pytest.raises(ConfigurationError):
        point_in_time_join(entities, features, on="ts", by=[])
    with pytest.raises(ConfigurationError) as err:
        point_in_time_join(entities.assign(ts_feature=1), features, on="ts", by="k")
    assert err.value.column == "suffix"
    with pytest.raises(DataError):
        point_in_time_join(entities.assign(k="1"), features, on="ts", by="k")


@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4)), max_size=30),
)
def test_same_time_dedup_keeps_last_write(rows: list[tuple[int, int]]) -> None:
    # merge_asof happens to pick the last of tied rows too, so check the dedup on its own
    from mlkit.features._pit import _TIME, _drop_same_time_duplicates

    right = pd.DataFrame(
        {
            "key": [k for k, _ in rows],
            _TIME: times([m for _, m in rows], "UTC"),
            "pos": np.arange(len(rows)),
        }
    ).sort_values(_TIME, kind="stable")
    got = _drop_same_time_duplicates(right, ["key"])
    expected = right.drop_duplicates(subset=["key", _TIME], keep="last")
    pd.testing.assert_frame_equal(got, expected)
