import logging

import numpy as np
import pandas as pd
import pytest

from mlkit.errors import ConfigurationError, DataError
from mlkit.routing import (
    BlueGreenRouter,
    CanaryRouter,
    RoutedPrediction,
    check_model,
    merge_outputs,
    split_batch,
)


class Name:
    """Returns its own name once per row (or once for a non-sized record)."""

    def __init__(self, name):
        self.name = name
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        return [self.name] * len(X)


class ArrayModel:
    """Row-dependent numeric output as a numpy array."""

    def __init__(self, factor):
        self.factor = factor

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, 0] * self.factor


class ListModel:
    def __init__(self, tag):
        self.tag = tag

    def predict(self, X):
        rows = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
        return [f"{self.tag}:{row[0]:g}" for row in rows]


class ProbaModel:
    def __init__(self, p):
        self.p = p

    def predict(self, X):
        n = len(X)
        return np.column_stack([np.full(n, 1 - self.p), np.full(n, self.p)])


KEYS = [f"user-{i}" for i in range(200)]


def expected_rows(router, X_rows, keys):
    """Each row predicted alone by the model its key routes to."""
    out = []
    for row, key in zip(X_rows, keys, strict=True):
        model = router.canary if router.route(key) == "canary" else router.primary
        out.append(model.predict(row)[0])
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_batch_ndarray_split_and_reassembled_in_order(weight):
    """An ndarray batch routed by key equals each model on its own rows, in row order."""
    X = np.arange(200, dtype=float).reshape(100, 2)
    router = CanaryRouter(ArrayModel(10), ArrayModel(-1), weight=weight, salt="t")
    keys = KEYS[:100]
    out = router.predict(X, key=keys)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(
        out, expected_rows(router, [X[i : i + 1] for i in range(100)], keys)
    )
    assert router.counts() == {
        "primary": sum(router.route(k) == "primary" for k in keys),
        "canary": sum(router.route(k) == "canary" for k in keys),
    }


def test_batch_dataframe_with_odd_index_and_list_outputs():
    """A DataFrame (shuffled index) split with iloc; list outputs come back as a list in order."""
    df = pd.DataFrame(
        {"a": np.arange(50), "b": np.arange(50) * 2.0}, index=np.arange(50)[::-1] * 3
    )
    router = CanaryRouter(ListModel("p"), ListModel("c"), weight=0.4, salt="df")
    keys = pd.Series(KEYS[:50])
    out = router.predict(df, key=keys)
    assert isinstance(out, list)
    assert out == expected_rows(router, [df.iloc[[i]] for i in range(50)], list(keys))
    assert {o[0] for o in out} == {"p", "c"}


def test_batch_list_input():
    """A list of rows is split into lists; numpy outputs are merged into an array."""
    X = [[float(i), 0.0] for i in range(40)]
    router = CanaryRouter(ArrayModel(2), ArrayModel(3), weight=0.5, salt="l")
    out = router.predict(X, key=KEYS[:40])
    np.testing.assert_array_equal(out, expected_rows(router, [[r] for r in X], KEYS[:40]))


def test_batch_two_dimensional_outputs():
    """(rows, classes) outputs are merged row-wise."""
    X = np.zeros((30, 3))
    router = CanaryRouter(ProbaModel(0.1), ProbaModel(0.9), weight=0.5, salt="p")
    out = router.predict(X, key=KEYS[:30])
    assert out.shape == (30, 2)
    for row, key in zip(out, KEYS[:30], strict=True):
        assert row[1] == (0.9 if router.route(key) == "canary" else 0.1)


def test_batch_one_variant_only_calls_it_once_unchanged():
    """When every row goes to one model, it gets the whole batch once and its output as is."""
    primary, canary = Name("p"), Name("c")
    router = CanaryRouter(primary, canary, weight=0.0)
    X = pd.DataFrame({"a": range(10)})
    assert router.predict(X, key=KEYS[:10]) == ["p"] * 10
    assert (primary.calls, canary.calls) == (1, 0)


def test_key_fn_routes_rows_of_a_dataframe():
    """key_fn receives each row as a dict and routes like explicit keys."""
    df = pd.DataFrame({"user": KEYS[:60], "x": range(60)})
    router = CanaryRouter(Name("p"), Name("c"), weight=0.5, salt="kf", key_fn=lambda r: r["user"])
    assert router.predict(df) == ["c" if router.route(k) == "canary" else "p" for k in KEYS[:60]]


def test_wrong_number_of_keys_raises_data_error():
    router = CanaryRouter(Name("p"), Name("c"))
    with pytest.raises(DataError, match="got 2 keys for a batch of 3 rows"):
        router.predict([[1], [2], [3]], key=["a", "b"])


def test_single_record_is_sticky_and_reported():
    """A single key sends the whole record to one model, the same every time."""
    seen = []
    router = CanaryRouter(
        Name("p"), Name("c"), weight=0.5, salt="s", on_route=lambda *a: seen.append(a)
    )
    for key in KEYS[:50]:
        first = router.predict_routed([[1.0]], key=key)
        again = router.predict_routed([[2.0]], key=key)
        assert isinstance(first, RoutedPrediction)
        assert first.variant == again.variant == router.route(key)
        assert first.output == ["c" if first.variant == "canary" else "p"]
    assert len(seen) == 100
    assert seen[0] == (router.route(KEYS[0]), KEYS[0], 1)
    assert sum(router.counts().values()) == 100


def test_int_and_numpy_keys():
    """An int key routes like its str; a numpy integer is a single key, not a sequence."""
    router = CanaryRouter(Name("p"), Name("c"), weight=0.5, salt="i")
    assert router.route(17) == router.route("17")
    assert router.predict_routed([[0]], key=np.int64(17)).variant == router.route("17")


def test_predict_routed_batch_one_record_per_row():
    router = CanaryRouter(ArrayModel(1), ArrayModel(-1), weight=0.5, salt="r")
    X = np.arange(20, dtype=float).reshape(10, 2)
    routed = router.predict_routed(X, key=KEYS[:10])
    assert [p.key for p in routed] == KEYS[:10]
    for p, row in zip(routed, X, strict=True):
        assert p.variant == router.route(p.key)
        assert p.output == row[0] * (-1 if p.variant == "canary" else 1)


def test_no_key_is_random_but_respects_the_extremes():
    """Without a key each call draws at random: 0 -> always primary, 1 -> always canary."""
    router = CanaryRouter(Name("p"), Name("c"), weight=0.0)
    assert {router.predict_routed([0]).variant for _ in range(200)} == {"primary"}
    router.set_weight(1.0)
    assert {router.predict_routed([0]).variant for _ in range(200)} == {"canary"}
    router.set_weight(0.5)
    assert {router.route() for _ in range(200)} == {"primary", "canary"}


def test_raising_the_weight_keeps_canary_keys(caplog):
    router = CanaryRouter(Name("p"), Name("c"), weight=0.05)
    before = {k for k in KEYS if router.route(k) == "canary"}
    with caplog.at_level(logging.INFO, logger="mlkit.routing._canary"):
        router.set_weight(0.2)
    after = {k for k in KEYS if router.route(k) == "canary"}
    assert before <= after
    assert len(after) > len(before)
    assert router.weight == 0.2
    assert "0.05 to 0.2" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weight": 1.5}, "weight must be a number in \\[0, 1\\], got 1.5"),
        ({"weight": -0.1}, "weight must be a number in"),
        ({"weight": float("nan")}, "weight must be a number in"),
        ({"weight": "0.1"}, "weight must be a number in"),
        ({"key_fn": "user"}, "key_fn must be callable"),
        ({"on_route": 3}, "on_route must be callable"),
        ({"buckets": 0}, "buckets must be a positive int"),
        ({"salt": 1.0}, "salt must be str or bytes"),
    ],
)
def test_bad_configuration_raises_at_construction(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        CanaryRouter(Name("p"), Name("c"), **kwargs)


def test_model_without_predict_raises():
    with pytest.raises(ConfigurationError, match="canary must have a callable predict") as info:
        CanaryRouter(Name("p"), object())
    assert info.value.column == "canary"
    with pytest.raises(ConfigurationError, match="primary must have"):
        CanaryRouter(type("M", (), {"predict": 3})(), Name("c"))


def test_set_weight_rejects_bad_value_and_keeps_the_old():
    router = CanaryRouter(Name("p"), Name("c"), weight=0.1)
    with pytest.raises(ConfigurationError):
        router.set_weight(2)
    assert router.weight == 0.1


def test_canary_whose_canary_is_a_blue_green_router():
    """Routers nest: canary traffic goes to the blue-green router's active model."""
    bg = BlueGreenRouter(Name("blue"), Name("green"))
    router = CanaryRouter(Name("primary"), bg, weight=0.5, salt="n")
    canary_key = next(k for k in KEYS if router.route(k) == "canary")
    primary_key = next(k for k in KEYS if router.route(k) == "primary")
    assert router.predict([0], key=canary_key) == ["blue"]
    bg.switch()
    assert router.predict([0], key=canary_key) == ["green"]
    assert router.predict([0], key=primary_key) == ["primary"]
    out = router.predict([[0], [1]], key=[canary_key, primary_key])
    assert out == ["green", "primary"]
    assert bg.counts() == {"blue": 1, "green": 2}


def test_nested_canary_receives_the_keys():
    """An inner canary gets the outer keys, so it stays sticky per key too."""
    inner = CanaryRouter(Name("c1"), Name("c2"), weight=0.5, salt="inner")
    outer = CanaryRouter(Name("p"), inner, weight=1.0, salt="outer")
    out = outer.predict([[i] for i in range(40)], key=KEYS[:40])
    assert out == ["c2" if inner.route(k) == "canary" else "c1" for k in KEYS[:40]]
    assert outer.predict([0], key=KEYS[0]) == [out[0]]


def test_split_and_merge_helpers():
    X = np.arange(10)
    mask = [i % 3 == 0 for i in range(10)]
    rest, _rest_keys, chosen, chosen_keys = split_batch(X, list("abcdefghij"), mask)
    assert list(chosen) == [0, 3, 6, 9]
    assert chosen_keys == ["a", "d", "g", "j"]
    np.testing.assert_array_equal(merge_outputs(rest, chosen, mask), X)
    with pytest.raises(DataError, match="returned 3 outputs for 6 rows"):
        merge_outputs([1, 2, 3], [1, 2, 3, 4], mask)
    with pytest.raises(DataError, match="the mask has 2 entries for a batch of 10 rows"):
        split_batch(X, None, [True, False])
    assert check_model(Name("x"), "m").name == "x"


def test_repr_is_short():
    assert repr(CanaryRouter(Name("p"), Name("c"))) == (
        "CanaryRouter(primary=Name, canary=Name, weight=0.05, salt='mlkit')"
    )
