import json

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import (
    BehaviorResult,
    add_noise,
    add_typos,
    assert_directional,
    assert_invariance,
    assert_minimum_functionality,
    check_directional,
    check_invariance,
    check_minimum_functionality,
    monotone_increase,
    scale,
    set_value,
    shift,
    upper,
)
from mlkit.testing._session import collecting

TEXTS = [
    "great movie",
    "Great fun",
    "awful film",
    "terrible plot",
    "good acting",
    "bad ending",
    "GOOD",
    "lovely",
]
LABELS = [1, 1, 0, 0, 1, 0, 1, 1]


@pytest.fixture(scope="module")
def case_blind():
    return make_pipeline(CountVectorizer(lowercase=True), LogisticRegression()).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def case_reader():
    """Sees "great" and "GREAT" as different words."""
    return make_pipeline(CountVectorizer(lowercase=False), LogisticRegression()).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def credit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"income": rng.normal(0, 1, 300), "debt": rng.normal(0, 1, 300)},
        index=pd.RangeIndex(1000, 1300),
    )
    y = (X["income"] - X["debt"] + rng.normal(0, 0.5, 300) > 0).astype(int)
    return LogisticRegression().fit(X, y), X


class CallCounter:
    """A regressor that predicts the row sum and records every batch it gets."""

    def __init__(self):
        self.batches = []

    def predict(self, X):
        self.batches.append(len(X))
        return np.asarray(X, dtype=float).sum(axis=1)


class Bump:
    """Probability of class 1 rises with x up to 0, then falls: not monotone."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        x = np.asarray(X, dtype=float)[:, 0]
        p = 1 / (1 + x**2)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


# --- invariance ----------------------------------------------------------------


def test_an_invariant_model_passes(case_blind):
    result = assert_invariance(case_blind, TEXTS, upper())
    assert result.passed
    assert result.n_cases == 8
    assert result.n_changed == 7  # "GOOD" is already upper case
    assert result.n_failed == 0
    assert result.failure_rate == 0.0
    assert result.examples.empty


def test_a_model_that_reads_case_fails_and_the_message_names_failing_rows(case_reader):
    result = check_invariance(case_reader, TEXTS, upper())
    assert not result.passed
    assert result.n_failed >= 1
    with pytest.raises(AssertionError) as info:
        assert_invariance(case_reader, TEXTS, upper())
    message = str(info.value)
    assert message == str(result)
    assert message.startswith("invariance check 'upper' FAILED: ")
    assert f"{result.n_failed} of 7 changed rows failed" in message
    assert "allowed at most 0.00% (max_failure_rate=0)" in message
    header = message.splitlines()[3].split()
    assert header == ["row", "text_before", "text_after", "output_before", "output_after"]
    for _, row in result.examples.iterrows():
        assert TEXTS[row["row"]] == row["text_before"]
        assert row["text_after"] == row["text_before"].upper()
        assert row["output_before"] != row["output_after"]
        assert row["text_before"] in message


def test_probability_invariance_uses_the_largest_class_change(case_reader, case_blind):
    strict = check_invariance(case_reader, TEXTS, upper(), output="predict_proba")
    assert strict.n_failed == 7
    worst = strict.examples.iloc[0]
    assert worst["class"] == 1  # binary ties show the positive class
    assert abs(worst["change"]) == strict.examples["change"].abs().max()
    assert np.isclose(worst["output_after"] - worst["output_before"], worst["change"])
    assert check_invariance(
        case_reader, TEXTS, upper(), output="predict_proba", tolerance=1.0
    ).passed
    assert check_invariance(case_blind, TEXTS, upper(), output="predict_proba").passed


def test_unchanged_rows_are_excluded_not_counted_as_passes():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 5.0, 0.0, 5.0]})
    model = CallCounter()
    result = check_invariance(model, X, set_value("b", 5.0))
    assert result.n_cases == 4
    assert result.n_changed == 1
    assert result.n_failed == 1
    assert result.failure_rate == 1.0
    assert model.batches == [1, 1]  # only the changed row is sent, once per side
    assert result.examples.columns.tolist() == [
        "row",
        "b_before",
        "b_after",
        "output_before",
        "output_after",
        "change",
    ]


def test_a_perturbation_that_changes_nothing_fails_explicitly(case_blind):
    result = check_invariance(case_blind, ["GOOD", "BAD"], upper())
    assert not result.passed
    assert result.n_changed == 0
    assert np.isnan(result.failure_rate)
    assert "the perturbation changed no row of the 2 rows" in result.reason
    with pytest.raises(AssertionError, match="changed no row"):
        assert_invariance(case_blind, ["GOOD", "BAD"], upper())
    empty = check_invariance(case_blind, [], upper())
    assert not empty.passed
    assert "no rows" in empty.reason


def test_max_failure_rate_is_compared_with_the_rate_over_changed_rows():
    X = pd.DataFrame({"a": np.arange(10.0)})
    model = CallCounter()
    p = add_noise("a", 1.0)
    result = check_invariance(model, X, p, tolerance=1.0)
    assert 0 < result.n_failed < 10
    rate = result.n_failed / 10
    assert check_invariance(model, X, p, tolerance=1.0, max_failure_rate=rate).passed
    assert not check_invariance(model, X, p, tolerance=1.0, max_failure_rate=rate - 0.01).passed


def test_regression_tolerance_and_worst_rows_first():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]}, index=list("wxyz"))
    model = CallCounter()
    result = check_invariance(model, X, scale("a", 1.5), tolerance=0.6)
    assert result.n_failed == 3
    assert result.examples["row"].tolist() == ["z", "y", "x"]
    assert result.examples["change"].tolist() == [2.0, 1.5, 1.0]
    assert check_invariance(model, X, scale("a", 1.5), tolerance=2.0).passed


def test_same_seed_same_result_and_seeds_matter(case_reader):
    X = pd.DataFrame({"a": np.arange(30.0)})
    model = CallCounter()
    p = add_noise("a", 1.0)
    one = check_invariance(model, X, p, tolerance=1.0)
    two = check_invariance(model, X, p, tolerance=1.0)
    assert one == two
    assert one.to_dict() == two.to_dict()
    pd.testing.assert_frame_equal(one.to_frame(), two.to_frame())
    other = check_invariance(model, X, p, tolerance=1.0, random_state=1)
    assert other.to_dict() != one.to_dict()
    typos = [
        check_invariance(case_reader, TEXTS, add_typos(0.3), random_state=s) for s in (0, 0, 5)
    ]
    assert typos[0].to_dict() == typos[1].to_dict()
    assert typos[0].to_dict() != typos[2].to_dict()


def test_checks_do_not_mutate_the_input(credit):
    model, X = credit
    keep = X.copy(deep=True)
    check_invariance(model, X, add_noise("income", 0.1))
    check_directional(model, X, monotone_increase("income", 1))
    pd.testing.assert_frame_equal(X, keep)


def test_numpy_arrays_show_integer_columns():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = check_invariance(CallCounter(), X, shift(1, 1))
    assert result.examples.columns.tolist()[:3] == ["row", "1_before", "1_after"]
    assert result.examples["row"].tolist() == [0, 1]


def test_failing_rows_all_in_to_frame_and_ten_worst_in_examples():
    X = pd.DataFrame({"a": np.arange(1.0, 31.0)})
    result = check_invariance(CallCounter(), X, scale("a", 2))
    assert result.n_failed == 30
    assert len(result.examples) == 10
    assert len(result.to_frame()) == 30
    assert result.examples["row"].tolist() == list(range(29, 19, -1))
    assert "(5 of 30)" in str(result)
    payload = result.to_dict()
    assert json.loads(json.dumps(payload)) == payload
    assert len(payload["examples"]) == 10


def test_result_is_frozen_with_a_short_repr(case_reader):
    result = check_invariance(case_reader, TEXTS, upper())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.passed = True  # type: ignore[misc]
    assert repr(result).startswith("BehaviorResult(invariance 'upper': failed, ")
    assert isinstance(result, BehaviorResult)


def test_input_columns_that_clash_with_output_names_are_prefixed():
    X = pd.DataFrame({"output": [1.0, 2.0]})
    result = check_invariance(CallCounter(), X, shift("output", 1))
    assert result.examples.columns.tolist()[:3] == [
        "row",
        "input_output_before",
        "input_output_after",
    ]


def test_bad_arguments_and_bad_perturbations(case_blind):
    with pytest.raises(ConfigurationError, match="output must be one of"):
        check_invariance(case_blind, TEXTS, upper(), output="proba")
    with pytest.raises(ConfigurationError, match=r"max_failure_rate must be a number in \[0, 1\]"):
        check_invariance(case_blind, TEXTS, upper(), max_failure_rate=1.5)
    with pytest.raises(ConfigurationError, match="tolerance must be"):
        check_invariance(case_blind, TEXTS, upper(), tolerance=-1)
    with pytest.raises(ConfigurationError, match="needs a model with predict_proba"):
        check_invariance(CallCounter(), np.ones((2, 2)), shift(0, 1), output="predict_proba")
    with pytest.raises(DataError, match="returned 1 rows for 8"):
        check_invariance(case_blind, TEXTS, lambda X: X[:1])
    with pytest.raises(DataError, match="changed the columns"):
        check_invariance(CallCounter(), pd.DataFrame({"a": [1]}), lambda X: X.assign(b=1))


def test_plain_callables_work_as_perturbations(case_reader):
    def shout(texts):
        return [t.upper() + "!" for t in texts]

    result = check_invariance(case_reader, TEXTS, shout)
    assert result.name == "shout"
    assert result.n_changed == 8


# --- directional ------------------------------------------------------------


def test_a_monotone_model_passes_directional_increase(credit):
    model, X = credit
    result = assert_directional(model, X, monotone_increase("income", 0.5))
    assert result.n_changed == 300
    assert result.details["target_class"] == 1
    assert result.details["output"] == "predict_proba"
    debt = check_directional(model, X, monotone_increase("debt", 0.5), expect="decrease")
    assert debt.passed


def test_target_class_flips_the_direction(credit):
    model, X = credit
    p = monotone_increase("income", 0.5)
    assert check_directional(model, X, p, target_class=0, expect="decrease").passed
    assert not check_directional(model, X, p, target_class=0).passed
    with pytest.raises(ConfigurationError, match=r"target_class=7 is not one of the model's"):
        check_directional(model, X, p, target_class=7)


def test_a_non_monotone_model_fails_and_the_worst_rows_come_first():
    X = pd.DataFrame({"x": np.linspace(-3, 3, 13)})
    result = check_directional(Bump(), X, monotone_increase("x", 0.5), expect="non_decrease")
    assert not result.passed
    assert 0 < result.n_failed < 13
    assert (result.examples["change"] < 0).all()
    assert result.examples["change"].is_monotonic_increasing  # most negative first
    assert (result.examples["x_after"] - result.examples["x_before"] == 0.5).all()
    with pytest.raises(AssertionError, match='directional check "monotone_increase'):
        assert_directional(Bump(), X, monotone_increase("x", 0.5), expect="non_decrease")


def test_saturated_probabilities_get_a_hint_towards_the_lenient_expectation():
    class Steep:
        classes_ = np.array(["no", "yes"])

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-np.asarray(X, dtype=float)[:, 0]))
            return np.column_stack([1 - p, p])

    X = pd.DataFrame({"x": [-60.0, -1.0, 0.0, 1.0, 60.0]})
    result = check_directional(Steep(), X, monotone_increase("x", 0.5))
    assert result.n_failed == 2
    assert result.details["n_saturated"] == 2
    assert result.details["target_class"] == "yes"
    assert "2 of the failing rows had a probability within tolerance + atol of 0 or 1" in str(
        result
    )
    assert "expect='non_decrease' accepts rows that do not move" in str(result)
    assert check_directional(Steep(), X, monotone_increase("x", 0.5), expect="non_decrease").passed


@pytest.mark.parametrize(
    ("expect", "deltas_failing"),
    [
        ("increase", [-1.0, 0.0, 1e-9, -1e-9]),
        ("non_decrease", [-1.0]),
        ("decrease", [1.0, 0.0, 1e-9, -1e-9]),
        ("non_increase", [1.0]),
    ],
)
def test_expectations_and_the_no_change_band(expect, deltas_failing):
    deltas = np.array([-1.0, 0.0, 1e-9, -1e-9, 1.0])

    class Fixed:
        def predict(self, X):
            x = np.asarray(X, dtype=float)[:, 0]
            return np.where(x > 0, deltas, 0.0)  # 0 before, the delta after

    X = np.zeros((5, 1))
    result = check_directional(Fixed(), X, shift(0, 1), expect=expect)
    assert sorted(result.to_frame()["change"].tolist()) == sorted(deltas_failing)


def test_directional_tolerance_widens_the_no_change_band():
    X = pd.DataFrame({"rooms": [1.0, 2.0, 3.0]})
    model = LinearRegression().fit(X, [10.0, 20.0, 30.0])
    p = monotone_increase("rooms", 0.1)  # prediction +1
    assert check_directional(model, X, p, expect="increase", tolerance=0.5).passed
    assert not check_directional(model, X, p, expect="increase", tolerance=2.0).passed
    assert check_directional(model, X, p, expect="non_increase", tolerance=2.0).passed
    assert check_directional(model, X, p).details["output"] == "predict"


def test_directional_on_labels_needs_probabilities():
    class Labeller:
        def predict(self, X):
            return np.array(["a"] * len(X))

    with pytest.raises(DataError, match="need one number per row"):
        check_directional(Labeller(), np.ones((2, 1)), shift(0, 1))
    with pytest.raises(ConfigurationError, match="expect must be one of"):
        check_directional(Labeller(), np.ones((2, 1)), shift(0, 1), expect="up")
    with pytest.raises(ConfigurationError, match="target_class only applies"):
        check_directional(Labeller(), np.ones((2, 1)), shift(0, 1), target_class="a")


def test_nan_outputs_fail():
    class Broken:
        def predict(self, X):
            x = np.asarray(X, dtype=float)[:, 0]
            return np.where(x > 0, np.nan, 0.0)

    result = check_directional(Broken(), np.zeros((3, 1)), shift(0, 1), expect="non_decrease")
    assert result.n_failed == 3
    assert check_invariance(Broken(), np.zeros((3, 1)), shift(0, 1), tolerance=10).n_failed == 3


# --- minimum functionality -----------------------------------------------------


def test_minimum_functionality_with_labels(case_blind):
    cases = ["great movie", "awful film", "great fun"]
    assert assert_minimum_functionality(case_blind, cases, [1, 0, 1]).n_changed == 3
    result = check_minimum_functionality(case_blind, cases, 0, name="all negative")
    assert result.n_failed == 2
    assert result.examples.columns.tolist() == ["row", "text", "expected", "predicted"]
    assert result.examples["row"].tolist() == [0, 2]
    message = str(result)
    assert message.startswith("minimum functionality check 'all negative' FAILED: 2 of 3 cases")
    assert "great fun" in message
    with pytest.raises(AssertionError, match="'all negative' FAILED"):
        assert_minimum_functionality(case_blind, cases, 0, name="all negative")


def test_minimum_functionality_with_a_regressor_and_atol():
    X = pd.DataFrame({"rooms": [1.0, 2.0, 3.0]})
    model = LinearRegression().fit(X, [10.0, 20.0, 30.0])
    assert check_minimum_functionality(model, X, [10.0, 20.0, 30.0], atol=1e-6).passed
    result = check_minimum_functionality(model, X, [10.0, 21.0, 33.0], atol=0.5)
    assert result.n_failed == 2
    assert result.examples["row"].tolist() == [2, 1]  # largest error first
    assert result.examples["error"].tolist() == pytest.approx([-3.0, -1.0])


def test_minimum_functionality_input_errors(case_blind):
    with pytest.raises(DataError, match="expected has 2 values for 3 cases"):
        check_minimum_functionality(case_blind, ["a", "b", "c"], [1, 0])
    empty = check_minimum_functionality(case_blind, [], [])
    assert not empty.passed
    assert "no cases" in empty.reason


# --- session reporting ---------------------------------------------------------


def test_each_check_records_once(case_reader, credit):
    model, X = credit
    with collecting() as records:
        check_invariance(case_reader, TEXTS, upper())
        with pytest.raises(AssertionError):
            assert_invariance(case_reader, TEXTS, upper())
        check_directional(model, X, monotone_increase("income", 1))
        check_minimum_functionality(case_reader, TEXTS[:2], [1, 1])
        check_invariance(case_reader, ["GOOD"], upper())
    assert [r["kind"] for r in records] == [
        "invariance",
        "invariance",
        "directional",
        "minimum_functionality",
        "invariance",
    ]
    first = records[0]
    assert first["name"] == "upper"
    assert first["passed"] is False
    assert first["n_changed"] == 7
    assert first["max_failure_rate"] == 0.0
    assert records[2]["target_class"] == 1
    assert records[4]["failure_rate"] is None
    assert json.loads(json.dumps(records)) == records


# --- properties ------------------------------------------------------------------


@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=40),
    st.floats(0, 5),
    st.integers(0, 2**32 - 1),
)
def test_invariance_counts_match_a_direct_computation(values, tolerance, seed):
    X = pd.DataFrame({"a": values, "b": np.ones(len(values))})
    p = add_noise("a", 2.0)
    result = check_invariance(CallCounter(), X, p, tolerance=tolerance, random_state=seed)
    after = p(X, random_state=seed)
    changed = (after["a"] != X["a"]).to_numpy()
    failed = np.abs(after["a"] - X["a"]).to_numpy()[changed] > tolerance + 1e-8
    assert result.n_changed == changed.sum()
    assert result.n_failed == failed.sum()
    assert result.passed == (changed.any() and not failed.any())


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=40), st.floats(0.01, 3))
def test_directional_counts_match_a_direct_computation(values, by):
    X = pd.DataFrame({"x": values})
    model = Bump()
    result = check_directional(model, X, monotone_increase("x", by), expect="non_decrease")
    before = model.predict_proba(X)[:, 1]
    after = model.predict_proba(X + by)[:, 1]
    changed = (X["x"] + by != X["x"]).to_numpy()
    assert result.n_changed == changed.sum()
    assert result.n_failed == (after - before < -1e-8)[changed].sum()
