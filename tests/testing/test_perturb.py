import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import (
    Perturbation,
    add_noise,
    add_typos,
    as_perturbation,
    compose,
    lower,
    monotone_increase,
    replace_words,
    scale,
    set_value,
    shift,
    strip_punctuation,
    swap_category,
    upper,
)
from mlkit.testing._perturb import _typo_plan


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "income": [100.0, 250.0, np.nan, 80.0],
            "age": np.array([30, 41, 52, 63], dtype=np.int64),
            "city": ["paris", "lyon", "paris", None],
            "review": ["Great place!", "bad", "OK, fine", None],
        },
        index=[10, 11, 12, 13],
    )


# --- seeding -----------------------------------------------------------------


def test_same_seed_same_result_and_different_seeds_differ(frame):
    p = add_noise("income", 5.0)
    pd.testing.assert_frame_equal(p(frame, random_state=1), p(frame, random_state=1))
    assert not p(frame, random_state=1).equals(p(frame, random_state=2))


def test_construction_random_state_wins_over_call_time(frame):
    p = add_noise("income", 5.0, random_state=7)
    pd.testing.assert_frame_equal(p(frame, random_state=1), p(frame, random_state=2))
    pd.testing.assert_frame_equal(p(frame), add_noise("income", 5.0)(frame, random_state=7))


def test_a_generator_is_consumed_so_successive_calls_differ(frame):
    rng = np.random.default_rng(0)
    p = add_noise("income", 5.0)
    assert not p(frame, random_state=rng).equals(p(frame, random_state=rng))


@pytest.mark.parametrize("bad", ["0", 1.5, True])
def test_bad_random_state_is_a_configuration_error(frame, bad):
    with pytest.raises(ConfigurationError, match="random_state"):
        add_noise("income", 1.0, random_state=bad)
    with pytest.raises(ConfigurationError, match="random_state"):
        add_noise("income", 1.0)(frame, random_state=bad)


def test_perturbations_are_frozen_and_compare_by_value():
    p = add_noise("income", 1.0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.scale = 2.0  # type: ignore[misc]
    assert p == add_noise("income", 1.0)
    assert hash(p) == hash(add_noise("income", 1.0))
    assert p != add_noise("income", 2.0)
    assert repr(p) == "<Perturbation add_noise('income', scale=1)>"
    with_dict = swap_category("c", {"a": "b"})
    assert hash(with_dict) == hash(swap_category("c", {"a": "b"}))
    assert hash(replace_words({"a": "b"})) == hash(replace_words({"a": "b"}))
    assert with_dict.name == "swap_category('c', mapping={'a': 'b'})"


# --- no mutation -----------------------------------------------------------


@pytest.mark.parametrize(
    "p",
    [
        add_noise(["income", "age"], 3.0, random_state=0),
        add_noise("income", 0.1, relative=True, random_state=0),
        scale("age", 1.5),
        shift("income", -3),
        monotone_increase("age", 2),
        set_value("city", "nice"),
        swap_category("city", random_state=0),
        swap_category("city", {"paris": "lyon"}),
        swap_category("city", to="lyon"),
        upper(column="review"),
        lower(column="review"),
        strip_punctuation(column="review"),
        replace_words({"great": "fine"}, column="review"),
        add_typos(0.5, column="review", random_state=0),
        scale("age", 2) + upper(column="review"),
    ],
    ids=lambda p: p.name,
)
def test_perturbations_never_mutate_their_input(frame, p):
    before = frame.copy(deep=True)
    out = p(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out is not frame
    assert list(out.columns) == list(frame.columns)
    pd.testing.assert_index_equal(out.index, frame.index)


def test_array_and_list_inputs_are_not_mutated():
    X = np.arange(12, dtype=float).reshape(4, 3)
    keep = X.copy()
    add_noise([0, 2], 1.0, random_state=0)(X)
    assert np.array_equal(X, keep)
    texts = ["Hello there", "World"]
    upper()(texts)
    add_typos(0.9, random_state=0)(texts)
    assert texts == ["Hello there", "World"]


# --- tabular -----------------------------------------------------------------


def test_add_noise_keeps_dtypes_and_missing_values(frame):
    out = add_noise(["income", "age"], 3.0, random_state=0)(frame)
    assert out.dtypes.equals(frame.dtypes)
    assert np.isnan(out.loc[12, "income"])
    assert (out["income"].dropna() != frame["income"].dropna()).all()


def test_add_noise_relative_leaves_zeros_at_zero():
    X = pd.DataFrame({"x": [0.0, 1.0, 1000.0]})
    out = add_noise("x", 0.01, relative=True, random_state=0)(X)
    assert out.loc[0, "x"] == 0.0
    assert abs(out.loc[2, "x"] - 1000.0) < 100


def test_add_noise_on_nullable_integers_and_float32():
    X = pd.DataFrame(
        {"n": pd.array([1, None, 3], dtype="Int64"), "f": np.ones(3, dtype=np.float32)}
    )
    out = add_noise(["n", "f"], 5.0, random_state=0)(X)
    assert out.dtypes.equals(X.dtypes)
    assert out["n"].isna().tolist() == [False, True, False]


def test_scale_rounds_integer_columns_and_shift_needs_whole_numbers(frame):
    assert scale("age", 1.1)(frame)["age"].tolist() == [33, 45, 57, 69]
    assert shift("age", 2)(frame)["age"].tolist() == [32, 43, 54, 65]
    with pytest.raises(DataError, match="'age' holds integers"):
        shift("age", 0.5)(frame)
    with pytest.raises(DataError, match="'age' holds integers"):
        monotone_increase("age", 0.5)(frame)


def test_unsigned_integers_are_clipped_not_wrapped():
    X = pd.DataFrame({"u": np.array([0, 1, 255], dtype=np.uint8)})
    out = shift("u", 10)(X)
    assert out["u"].tolist() == [10, 11, 255]
    assert out["u"].dtype == np.uint8


@pytest.mark.parametrize(
    "p",
    [add_noise("city", 1.0), scale("city", 2), shift("city", 1), monotone_increase("city", 1)],
    ids=lambda p: p.name,
)
def test_numeric_perturbations_reject_non_numeric_columns(frame, p):
    with pytest.raises(DataError, match="'city' has dtype") as info:
        p(frame)
    assert info.value.column == "city"


def test_unknown_column_names_the_column_and_the_available_ones(frame):
    with pytest.raises(DataError, match=r"no column 'incme'; available columns: \['income',"):
        add_noise("incme", 1.0)(frame)
    with pytest.raises(DataError) as info:
        upper(column="text")(frame)
    assert info.value.column == "text"
    assert "review" in str(info.value)


def test_numpy_arrays_take_integer_column_positions():
    X = np.array([[1.0, 10.0], [2.0, 20.0]])
    assert scale(1, 2)(X).tolist() == [[1.0, 20.0], [2.0, 40.0]]
    with pytest.raises(DataError, match=r"no column 2 in a 2-D array with 2 columns"):
        scale(2, 2)(X)
    with pytest.raises(DataError, match="no column 'a'"):
        scale("a", 2)(X)
    with pytest.raises(DataError, match="expected a pandas DataFrame or a 2-D numpy array"):
        scale(0, 2)([1.0, 2.0])


def test_numpy_integer_arrays_stay_integer():
    X = np.array([[1, 10], [2, 20]], dtype=np.int32)
    out = add_noise(0, 3.0, random_state=0)(X)
    assert out.dtype == np.int32
    assert np.array_equal(out[:, 1], X[:, 1])


def test_set_value_keeps_the_dtype_when_the_value_fits(frame):
    out = set_value("income", 5)(frame)
    assert out["income"].dtype == np.float64
    assert out["income"].tolist() == [5.0] * 4
    cats = frame.assign(city=frame["city"].astype("category"))
    out = set_value("city", "nice")(cats)
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert set(out["city"]) == {"nice"}


def test_set_value_into_an_array_of_the_wrong_type_is_a_data_error():
    with pytest.raises(DataError, match="cannot write the new values of column 0"):
        set_value(0, "x")(np.zeros((2, 2)))


def test_monotone_increase_needs_a_positive_amount():
    for bad in (0, -1, float("nan"), "1"):
        with pytest.raises(ConfigurationError, match="by must be"):
            monotone_increase("x", bad)


def test_swap_category_with_mapping_to_and_at_random(frame):
    assert swap_category("city", {"paris": "nice"})(frame)["city"].tolist()[:3] == [
        "nice",
        "lyon",
        "nice",
    ]
    out = swap_category("city", to="lyon")(frame)["city"]
    assert out.tolist()[:3] == ["lyon", "lyon", "lyon"]
    assert pd.isna(out.iloc[3])
    X = pd.DataFrame({"c": list("abcabcabca") * 5})
    swapped = swap_category("c", random_state=0)(X)["c"]
    assert (swapped != X["c"]).all()
    assert set(swapped) <= {"a", "b", "c"}
    with pytest.raises(ConfigurationError, match="not both"):
        swap_category("c", {"a": "b"}, to="c")


def test_swap_category_keeps_categorical_dtype_and_a_lone_category_is_unchanged():
    X = pd.DataFrame({"c": pd.Categorical(["a", "b", "a"], categories=["a", "b", "z"])})
    out = swap_category("c", random_state=0)(X)
    assert out["c"].dtype == X["c"].dtype
    assert out["c"].tolist() == ["b", "a", "b"]
    lone = pd.DataFrame({"c": ["a", "a"]})
    pd.testing.assert_frame_equal(swap_category("c", random_state=0)(lone), lone)


def test_swap_category_on_integer_codes_keeps_int_dtype():
    X = pd.DataFrame({"code": np.array([1, 2, 3, 1], dtype=np.int64)})
    out = swap_category("code", {1: 9})(X)
    assert out["code"].dtype == np.int64
    assert out["code"].tolist() == [9, 2, 3, 9]


# --- text --------------------------------------------------------------------


def test_text_perturbations_keep_the_container_type():
    assert upper()(["a b", "c"]) == ["A B", "C"]
    assert upper()(("a",)) == ("A",)
    arr = lower()(np.array(["AB", "Cd"]))
    assert isinstance(arr, np.ndarray)
    assert arr.tolist() == ["ab", "cd"]
    s = pd.Series(["x", None], index=[5, 6], name="t")
    out = upper()(s)
    assert out.index.tolist() == [5, 6]
    assert out.name == "t"
    assert out.dtype == s.dtype
    assert out.iloc[0] == "X"
    assert pd.isna(out.iloc[1])


def test_text_column_of_a_frame_only_that_column_changes(frame):
    out = upper(column="review")(frame)
    assert out["review"].tolist()[:3] == ["GREAT PLACE!", "BAD", "OK, FINE"]
    pd.testing.assert_frame_equal(out.drop(columns="review"), frame.drop(columns="review"))


def test_text_input_errors(frame):
    with pytest.raises(DataError, match="pass column="):
        upper()(frame)
    with pytest.raises(DataError, match="column='review' needs a DataFrame"):
        upper(column="review")(["a"])
    with pytest.raises(DataError, match="expected strings, got int 3 at row 1"):
        upper()(["a", 3])
    with pytest.raises(DataError, match="got a str"):
        upper()("a single string")


def test_strip_punctuation_handles_unicode_punctuation():
    text = "\u201cHi\u201d, it\u2019s 5$ \u2014 ok?!"  # curly quotes, apostrophe, em dash
    assert strip_punctuation()([text]) == ["Hi its 5  ok"]


def test_replace_words_whole_words_case_preserving():
    p = replace_words({"good": "great", "new york": "Paris", "he": "she"})
    out = p(["Good good GOOD gOOd", "New York is new york", "the hero, he said", "goodness"])
    assert out == [
        "Great great GREAT great",
        "Paris is Paris",
        "the hero, she said",
        "goodness",
    ]
    with pytest.raises(ConfigurationError, match="differ only in case"):
        replace_words({"a": "b", "A": "c"})
    with pytest.raises(ConfigurationError, match="non-empty"):
        replace_words({})


def test_add_typos_is_seeded_and_rate_zero_is_the_identity():
    texts = ["the quick brown fox jumps over the lazy dog"] * 5
    assert add_typos(0.0, random_state=0)(texts) == texts
    a = add_typos(0.2, random_state=0)(texts)
    assert a == add_typos(0.2, random_state=0)(texts)
    assert a != add_typos(0.2, random_state=1)(texts)
    assert a != texts
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ConfigurationError, match="rate must be"):
            add_typos(bad)


def test_add_typos_keeps_missing_values_and_empty_strings():
    out = add_typos(1.0, random_state=0)(pd.Series(["", None, "abc"], dtype=object))
    assert out.iloc[0] == ""
    assert out.iloc[1] is None
    assert out.iloc[2] != "abc"


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.5])
def test_typo_plan_hits_letters_at_the_requested_rate(rate):
    text = "abc def, ghi! " * 3000
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    owner = np.zeros(codes.size, dtype=np.int64)
    selected, swap, counts = _typo_plan(codes, owner, rate, np.random.default_rng(0))
    letters = np.char.isalnum(codes.view("<U1"))
    n = int(letters.sum())
    assert not selected[~letters].any()  # spaces and punctuation are never hit
    sd = np.sqrt(n * rate * (1 - rate))
    assert abs(int(selected.sum()) - n * rate) < 5 * sd
    assert set(np.unique(counts)) <= {0, 1, 2}
    at = np.flatnonzero(swap)
    assert letters[at + 1].all()  # a swap stays inside a word
    assert not selected[at + 1].any()
    assert (counts[~selected] == 1).all()


# --- composition -------------------------------------------------------------


def test_composition_applies_in_order_and_names_read_well():
    X = pd.DataFrame({"x": [1.0, 2.0]})
    assert (shift("x", 1) + scale("x", 10))(X)["x"].tolist() == [20.0, 30.0]
    assert (scale("x", 10) + shift("x", 1))(X)["x"].tolist() == [11.0, 21.0]
    p = compose(scale("x", 10), shift("x", 1) + upper(column="t"))
    assert p.name == "scale('x', factor=10) + shift('x', by=1) + upper(column='t')"
    assert len(p.steps) == 3  # nested compositions are flattened


def test_each_step_gets_its_own_seed_and_adding_a_step_keeps_earlier_draws():
    X = pd.DataFrame({"a": np.zeros(50), "b": np.zeros(50), "c": np.zeros(50)})
    both = add_noise("a", 1.0) + add_noise("b", 1.0)
    out = both(X, random_state=0)
    assert not np.allclose(out["a"], out["b"])  # not the same stream twice
    longer = both + add_noise("c", 1.0)
    pd.testing.assert_frame_equal(longer(X, random_state=0)[["a", "b"]], out[["a", "b"]])
    fixed = add_noise("a", 1.0, random_state=3) + add_noise("b", 1.0)
    pd.testing.assert_series_equal(
        fixed(X, random_state=9)["a"], add_noise("a", 1.0, random_state=3)(X)["a"]
    )


def test_plain_callables_compose_with_or_without_random_state():
    X = pd.DataFrame({"x": [1.0, 2.0]})
    calls = []

    def double(X):
        return X.assign(x=X["x"] * 2)

    def jitter(X, random_state=None):
        calls.append(random_state)
        return X.assign(x=X["x"] + random_state.normal(size=len(X)))

    p = double + shift("x", 1) + jitter
    assert p.name == "double + shift('x', by=1) + jitter"
    out = p(X, random_state=0)
    assert isinstance(calls[0], np.random.Generator)
    np.testing.assert_allclose(out["x"].round(), [3.0, 5.0], atol=5)
    assert as_perturbation(double, name="twice").name == "twice"
    assert isinstance(as_perturbation(double), Perturbation)
    with pytest.raises(ConfigurationError, match="must be callable"):
        as_perturbation(3)
    with pytest.raises(ConfigurationError, match="at least one"):
        compose()


# --- properties --------------------------------------------------------------

_columns = [
    hpd.column("i", dtype=np.int64, elements=st.integers(-1000, 1000)),
    hpd.column("f", dtype=np.float64, elements=st.floats(-1e6, 1e6)),
    hpd.column("g", dtype=np.float32, elements=st.floats(-1e3, 1e3, width=32)),
    hpd.column("c", elements=st.sampled_from(["a", "b", "c"])),
]
frames = hpd.data_frames(_columns, index=hpd.range_indexes(min_size=0, max_size=30))
tabular = st.sampled_from(
    [
        add_noise(["i", "f"], 2.0),
        add_noise("g", 0.5, relative=True),
        scale(["f", "g"], 1.7),
        scale("i", 0.3),
        shift(["i", "f"], 4),
        monotone_increase("f", 0.25),
        set_value("i", 7),
        swap_category("c"),
        swap_category("c", {"a": "z"}),
    ]
)


@given(frames, tabular, st.integers(0, 2**32 - 1))
def test_tabular_perturbations_keep_shape_dtypes_and_other_columns(X, p, seed):
    keep = X.copy(deep=True)
    out = p(X, random_state=seed)
    pd.testing.assert_frame_equal(X, keep)
    assert out.shape == X.shape
    assert out.dtypes.equals(X.dtypes)
    targets = set(p.columns) if hasattr(p, "columns") else {p.column}
    for column in X.columns.difference(list(targets)):
        pd.testing.assert_series_equal(out[column], X[column])
    pd.testing.assert_frame_equal(out, p(X, random_state=seed))


@given(frames)
def test_monotone_increase_never_decreases(X):
    out = monotone_increase("f", 0.25)(X)
    assert (out["f"] >= X["f"]).all()


@given(frames, st.integers(0, 2**32 - 1))
def test_random_swap_always_moves_to_another_observed_category(X, seed):
    out = swap_category("c", random_state=seed)(X)
    if X["c"].nunique() > 1:
        assert (out["c"] != X["c"]).all()
    assert set(out["c"]) <= set(X["c"])


texts = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))


@given(texts, st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_typos_touch_only_letters_and_digits(values, rate, seed):
    out = add_typos(rate, random_state=seed)(values)
    assert len(out) == len(values)
    for before, after in zip(values, out, strict=True):
        n_alnum = sum(c.isalnum() for c in before)
        assert abs(len(after) - len(before)) <= n_alnum
        assert [c for c in after if not c.isalnum()] == [c for c in before if not c.isalnum()]
        assert set(after) <= set(before)


@given(texts)
def test_case_and_punctuation_perturbations_keep_length_and_count(values):
    assert len(upper()(values)) == len(values)
    assert lower()(upper()(values)) == [v.upper().lower() for v in values]
    stripped = strip_punctuation()(values)
    assert all(len(b) <= len(a) for a, b in zip(values, stripped, strict=True))
