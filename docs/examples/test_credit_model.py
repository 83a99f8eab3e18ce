"""Model tests for a credit-approval model: copy this file next to your own tests.

Run it with ``pytest docs/examples/test_credit_model.py``; every check that
fails prints the rate or value, the threshold and the failing rows or groups.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlkit.testing import (
    add_noise,
    assert_directional,
    assert_fairness,
    assert_four_fifths,
    assert_invariance,
    assert_latency,
    assert_metric,
    assert_minimum_functionality,
    assert_not_worse,
    monotone_increase,
    swap_category,
)


@pytest.fixture(scope="module")
def data():
    """Applicants: the label depends on income and debt, never on gender."""
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(4, 0.4, n).round(1),
            "debt_ratio": rng.uniform(0, 0.8, n).round(3),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "gender": rng.choice(["f", "m"], n),
        }
    )
    score = 0.04 * frame.income - 6 * frame.debt_ratio + rng.normal(0, 0.7, n)
    frame["approved"] = (score > np.median(score)).astype(int)
    return frame.iloc[:3000], frame.iloc[3000:]


@pytest.fixture(scope="module")
def model(data):
    train, _ = data
    features = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["income", "debt_ratio"]),
            ("region", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ]
    )
    return make_pipeline(features, LogisticRegression()).fit(
        train.drop(columns=["approved", "gender"]), train.approved
    )


@pytest.fixture(scope="module")
def test_set(data):
    _, test = data
    return test.drop(columns=["approved", "gender"]), test.approved, test.gender


# -- performance --------------------------------------------------------------


@pytest.mark.model
def test_accuracy(model, test_set):
    X, y, _ = test_set
    assert_metric(model, X, y, "accuracy", min=0.85)
    assert_metric(model, X, y, "roc_auc", min=0.9)


@pytest.mark.model
def test_new_model_is_not_worse_than_the_baseline(model, data, test_set):
    train, _ = data
    X, y, _ = test_set
    baseline = make_pipeline(
        ColumnTransformer([("numbers", StandardScaler(), ["income"])]), LogisticRegression()
    ).fit(train.drop(columns=["approved", "gender"]), train.approved)
    assert_not_worse(model, baseline, X, y, metric="accuracy", n_boot=500)


@pytest.mark.model
def test_single_row_latency(model, test_set):
    X, _, _ = test_set
    assert_latency(model, X.head(1), p99_below=0.5, n=50)


# -- behaviour ----------------------------------------------------------------


@pytest.mark.behavioral
def test_region_does_not_change_decisions_much(model, test_set):
    X, _, _ = test_set
    # Swapping the region may flip at most 5% of the decisions.
    assert_invariance(model, X, swap_category("region"), max_failure_rate=0.05)


@pytest.mark.behavioral
def test_small_income_noise_keeps_probabilities_close(model, test_set):
    X, _, _ = test_set
    assert_invariance(
        model, X, add_noise("income", 0.01, relative=True), output="predict_proba", tolerance=0.06
    )


@pytest.mark.behavioral
def test_more_income_never_lowers_the_approval_probability(model, test_set):
    X, _, _ = test_set
    assert_directional(model, X, monotone_increase("income", 10.0), expect="non_decrease")


@pytest.mark.behavioral
def test_obvious_cases(model):
    cases = pd.DataFrame(
        {
            "income": [300.0, 10.0],
            "debt_ratio": [0.0, 0.8],
            "region": ["north", "south"],
        }
    )
    assert_minimum_functionality(model, cases, [1, 0])


# -- fairness -----------------------------------------------------------------


@pytest.mark.fairness
def test_approval_rates_are_close_across_gender(model, test_set):
    X, _, gender = test_set
    predictions = model.predict(X)
    assert_fairness(
        test_set[1],
        predictions,
        gender,
        metric="demographic_parity_difference",
        max_difference=0.1,
    )
    assert_four_fifths(test_set[1], predictions, gender)
