import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    get_scorer,
    get_scorer_names,
    mean_absolute_error,
    mean_squared_error,
    root_mean_squared_error,
)
from sklearn.svm import LinearSVC

from mlkit.errors import ConfigurationError, DataError, NotFoundError
from mlkit.testing import (
    Comparison,
    LatencyResult,
    MetricComparison,
    _performance,
    _session,
    assert_latency,
    assert_metric,
    assert_not_worse,
    check_metric,
    compare_models,
    measure_latency,
)


class Fixed:
    """A model that is not a scikit-learn estimator: X holds row numbers into fixed outputs."""

    def __init__(self, pred, proba=None, classes=None):
        self.pred = np.asarray(pred)
        self.calls = {"predict": 0, "predict_proba": 0}
        if proba is not None:
            self.proba = np.asarray(proba)
            self.classes_ = np.asarray(classes)

    def predict(self, X):
        self.calls["predict"] += 1
        return self.pred[np.asarray(X)[:, 0]]

    def __getattr__(self, name):
        if name == "predict_proba" and "proba" in self.__dict__:

            def predict_proba(X):
                self.calls["predict_proba"] += 1
                return self.proba[np.asarray(X)[:, 0]]

            return predict_proba
        raise AttributeError(name)


def _ids(n):
    return np.arange(n).reshape(-1, 1)


@pytest.fixture(scope="module")
def classification():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 3))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=240) > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    y = 2.0 * X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=200)
    return X, y, LinearRegression().fit(X, y)


# --- assert_metric -----------------------------------------------------------


def test_every_negated_scikit_learn_scorer_is_named_neg():
    """The sign convention rests on this: scorers that negate an error all start with neg_."""
    for name in get_scorer_names():
        assert (get_scorer(name)._sign < 0) == name.startswith("neg_"), name


@pytest.mark.parametrize(
    "name",
    ["accuracy", "balanced_accuracy", "f1", "roc_auc", "neg_log_loss", "average_precision"],
)
def test_classification_metric_equals_the_scikit_learn_scorer(classification, name):
    X, y, model = classification
    result = check_metric(model, X, y, name, min=-1e9)
    assert result.value == get_scorer(name)(model, X, y)
    assert result.n == len(y)
    assert result.greater_is_better
    assert result.passed


@pytest.mark.parametrize(
    "name",
    [
        "r2",
        "explained_variance",
        "neg_mean_squared_error",
        "neg_mean_absolute_error",
        "neg_root_mean_squared_error",
        "neg_max_error",
    ],
)
def test_regression_metric_equals_the_scikit_learn_scorer(regression, name):
    X, y, model = regression
    assert check_metric(model, X, y, name, max=1e9).value == get_scorer(name)(model, X, y)


def test_error_named_without_neg_is_the_positive_error_and_lower_is_better(regression):
    X, y, model = regression
    result = check_metric(model, X, y, "mean_squared_error", max=1.0)
    assert result.value == pytest.approx(mean_squared_error(y, model.predict(X)), rel=1e-12)
    assert not result.greater_is_better
    assert result.passed
    assert not check_metric(model, X, y, "mean_squared_error", max=0.1).passed
    assert check_metric(model, X, y, "max_error", max=10).value > 0


def test_decision_function_scorer_uses_it_like_scikit_learn(classification):
    X, y, _ = classification
    svm = LinearSVC().fit(X, y)
    assert check_metric(svm, X, y, "roc_auc", min=0).value == get_scorer("roc_auc")(svm, X, y)
    with pytest.raises(ConfigurationError, match=r"LinearSVC.*predict_proba"):
        check_metric(svm, X, y, "neg_log_loss", min=-10)


def test_models_that_are_not_scikit_learn_estimators_are_scored(classification):
    X, y, model = classification
    pred, proba = model.predict(X), model.predict_proba(X)
    plain = Fixed(pred)
    assert check_metric(plain, _ids(len(y)), y, "accuracy", min=0).value == accuracy_score(y, pred)
    probabilistic = Fixed(pred, proba, classes=model.classes_)
    value = check_metric(probabilistic, _ids(len(y)), y, "roc_auc", min=0).value
    assert value == get_scorer("roc_auc")(model, X, y)
    assert probabilistic.calls == {"predict": 0, "predict_proba": 1}


def test_callable_metric_gets_arrays_and_its_name_sets_the_direction(regression):
    X, y, model = regression
    seen = []

    def mean_bias_error(y_true, y_pred):
        seen.append((type(y_true), type(y_pred)))
        return float(np.mean(y_pred - y_true))

    result = check_metric(model, X, pd.Series(y), mean_bias_error, max=0.1)
    assert seen == [(np.ndarray, np.ndarray)]
    assert result.metric == "mean_bias_error"
    assert not result.greater_is_better
    assert check_metric(model, X, y, lambda t, p: 1.0, min=0).greater_is_better
    named = check_metric(model, X, y, lambda t, p: 1.0, min=0, name="pinball_loss")
    assert named.metric == "pinball_loss"
    assert not named.greater_is_better


def test_bounds_are_inclusive_and_the_failure_message_has_metric_value_bound_and_n(
    classification,
):
    X, y, model = classification
    value = get_scorer("accuracy")(model, X, y)
    assert_metric(model, X, y, min=value, max=value)
    with pytest.raises(AssertionError) as failure:
        assert_metric(model, X, y, "accuracy", min=0.99)
    message = str(failure.value)
    assert message == f"accuracy = {value:.4g} is below the minimum 0.99 (n={len(y)} rows)"
    with pytest.raises(AssertionError, match=r"is above the maximum 0\.5 \(n=240 rows\)"):
        assert_metric(model, X, y, "accuracy", max=0.5)


def test_negated_error_message_states_the_convention(regression):
    X, y, model = regression
    with pytest.raises(AssertionError) as failure:
        assert_metric(model, X, y, "neg_mean_squared_error", min=-0.01)
    message = str(failure.value)
    assert message.startswith("neg_mean_squared_error = -0.2")
    assert "below the minimum -0.01" in message
    assert "negated error: higher is better" in message


def test_undefined_metric_fails_explicitly_without_a_warning():
    y = np.array([0, 1, 0, 1])
    model = Fixed(np.zeros(4, dtype=int))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = check_metric(model, _ids(4), y, "precision", min=0.0)
    assert math.isnan(result.value)
    assert not result.passed
    assert "undefined (NaN)" in str(result)
    assert "precision" in (result.reason or "").lower()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ConfigurationError),
        ({"min": 0.9, "max": 0.1}, ConfigurationError),
        ({"min": float("nan")}, ConfigurationError),
        ({"min": "high"}, ConfigurationError),
        ({"min": 0, "metric": "accuracy_score"}, ConfigurationError),
        ({"min": 0, "metric": 3}, ConfigurationError),
    ],
)
def test_bad_arguments_are_configuration_errors(classification, kwargs, error):
    X, y, model = classification
    with pytest.raises(error):
        check_metric(model, X, y, **kwargs)


def test_bad_data_is_a_data_error(classification):
    X, y, model = classification
    with pytest.raises(DataError, match="y has 239 values but X has 240 rows"):
        check_metric(model, X, y[:-1], min=0)
    with pytest.raises(DataError, match="no rows"):
        check_metric(Fixed([]), np.empty((0, 1)), [], min=0)


def test_each_metric_check_is_recorded_once(classification):
    X, y, model = classification
    with _session.collecting() as records:
        check_metric(model, X, y, min=0.5)
        with pytest.raises(AssertionError):
            assert_metric(model, X, y, max=0.1)
    assert [(r["kind"], r["name"], r["passed"]) for r in records] == [
        ("metric", "accuracy", True),
        ("metric", "accuracy", False),
    ]
    assert records[0]["min"] == 0.5
    assert records[0]["n"] == 240


def test_metric_result_exports(classification):
    X, y, model = classification
    result = check_metric(model, X, y, min=0.5)
    assert json.loads(json.dumps(result.to_dict()))["metric"] == "accuracy"
    assert result.to_frame().shape[0] == 1
    assert repr(result).startswith("MetricResult(accuracy=")


# --- latency -----------------------------------------------------------------


class FakeTimer:
    """Reads as a clock whose timed calls take the given durations, one per pair of reads."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.reads = 0
        self.now = 100.0

    def __call__(self):
        if self.reads % 2 == 1:
            self.now += self.durations[self.reads // 2]
        self.reads += 1
        return self.now


class Recorder:
    def __init__(self):
        self.requests = []

    def predict(self, X):
        self.requests.append(X)
        return np.zeros(len(X))


def test_percentiles_from_a_fake_timer_are_exact():
    durations = np.random.default_rng(0).permutation(np.arange(1, 101) * 1e-3)
    timer = FakeTimer(durations)
    model = Recorder()
    result = measure_latency(model, np.ones(3), n=100, warmup=7, timer=timer)
    # Linear interpolation on the sorted 1..100 ms: position q/100 * 99.
    assert result.p50 == pytest.approx(50.5e-3, abs=1e-12)
    assert result.p90 == pytest.approx(90.1e-3, abs=1e-12)
    assert result.p95 == pytest.approx(95.05e-3, abs=1e-12)
    assert result.p99 == pytest.approx(99.01e-3, abs=1e-12)
    assert result.mean == pytest.approx(50.5e-3, abs=1e-12)
    assert result.max == pytest.approx(0.1, abs=1e-12)
    np.testing.assert_allclose(result.seconds, durations, atol=1e-12)
    assert timer.reads == 200, "the timer is read twice per timed call, never in warm-up"
    assert len(model.requests) == 107
    assert all(request.shape == (1, 3) for request in model.requests)


def test_batch_example_is_walked_in_order_with_batch_size_rows_per_call():
    model = Recorder()
    batch = pd.DataFrame({"a": [0, 1, 2], "b": ["x", "y", "z"]})
    result = measure_latency(model, batch, n=4, warmup=1, batch_size=2)
    assert result.batch_size == 2
    seen = [request["a"].tolist() for request in model.requests]
    assert seen == [[0, 1], [2, 0], [1, 2], [0, 1], [2, 0]]
    assert all(list(request.columns) == ["a", "b"] for request in model.requests)


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ({"a": 1, "b": "x"}, pd.DataFrame({"a": [1], "b": ["x"]})),
        (pd.Series({"a": 1, "b": "x"}), pd.DataFrame({"a": [1], "b": ["x"]})),
        (pd.DataFrame({"a": [1], "b": ["x"]}), pd.DataFrame({"a": [1], "b": ["x"]})),
        ([{"a": 1, "b": "x"}], pd.DataFrame({"a": [1], "b": ["x"]})),
    ],
)
def test_one_row_examples_become_one_row_frames(example, expected):
    model = Recorder()
    measure_latency(model, example, n=2, warmup=0, batch_size=2)
    for request in model.requests:
        pd.testing.assert_frame_equal(
            request.reset_index(drop=True),
            pd.concat([expected, expected], ignore_index=True),
        )


def test_array_and_text_examples():
    model = Recorder()
    measure_latency(model, [1.0, 2.0], n=1, warmup=0)
    np.testing.assert_array_equal(model.requests[-1], [[1.0, 2.0]])
    measure_latency(model, np.arange(6).reshape(3, 2), n=1, warmup=0, batch_size=2)
    np.testing.assert_array_equal(model.requests[-1], [[0, 1], [2, 3]])
    measure_latency(model, "Great film!", n=1, warmup=0)
    assert model.requests[-1] == ["Great film!"]
    measure_latency(model, ["a", "b", "c"], n=2, warmup=0)
    assert model.requests[-2:] == [["a"], ["b"]]


def test_assert_latency_fails_with_each_percentile_beside_its_bound():
    durations = [0.01] * 95 + [0.5] * 5
    with _session.collecting() as records, pytest.raises(AssertionError) as failure:
        assert_latency(
            Recorder(),
            {"a": 1},
            p99_below=0.1,
            p95_below=0.2,
            p50_below=0.05,
            n=100,
            timer=FakeTimer(durations),
        )
    lines = str(failure.value).splitlines()
    assert lines[0] == "p99 latency 500 ms is not below 100 ms"
    assert len(lines) == 2, "p50 and p95 pass"
    assert lines[1].startswith("  100 calls of predict on 1 row: p50 10 ms")
    assert [(r["kind"], r["name"], r["passed"]) for r in records] == [
        ("latency", "Recorder.predict", False)
    ]
    assert records[0]["p99_below"] == 0.1
    assert records[0]["p99"] == pytest.approx(0.5)


def test_assert_latency_bound_is_strict_and_passes_below():
    result = assert_latency(Recorder(), [1.0], p50_below=0.011, timer=FakeTimer([0.01] * 200))
    assert isinstance(result, LatencyResult)
    with pytest.raises(AssertionError, match="p50 latency 10 ms is not below 10 ms"):
        assert_latency(Recorder(), [1.0], p50_below=0.01, timer=FakeTimer([0.01] * 200))


def test_real_latency_with_a_generous_bound(classification):
    X, _, model = classification
    result = assert_latency(model, X[0], p99_below=5.0, n=30, warmup=3)
    assert 0 < result.p50 <= result.p90 <= result.p95 <= result.p99 <= result.max
    assert result.to_frame()["statistic"].tolist() == ["p50", "p90", "p95", "p99", "mean", "max"]
    assert json.loads(json.dumps(result.to_dict()))["n"] == 30


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"warmup": -1},
        {"batch_size": 0},
        {"n": 1.5},
        {"method": "predict_proba"},
    ],
)
def test_bad_latency_arguments(kwargs):
    with pytest.raises(ConfigurationError):
        measure_latency(Recorder(), [1.0], **kwargs)


def test_bad_latency_bounds_and_examples():
    with pytest.raises(ConfigurationError, match="give a bound"):
        assert_latency(Recorder(), [1.0])
    with pytest.raises(ConfigurationError, match="positive"):
        assert_latency(Recorder(), [1.0], p99_below=0)
    with pytest.raises(DataError, match="empty"):
        measure_latency(Recorder(), pd.DataFrame({"a": []}))
    with pytest.raises(DataError, match="shape"):
        measure_latency(Recorder(), np.zeros((2, 2, 2)))


# --- compare_models ----------------------------------------------------------


def test_identical_models_differ_by_exactly_zero(classification):
    X, y, model = classification
    comparison = compare_models(
        model, model, X, y, ["accuracy", "roc_auc", "neg_log_loss"], n_boot=50
    )
    for result in comparison.metrics:
        assert result.difference == 0
        assert (result.ci_low, result.ci_high) == (0, 0)
        assert np.all(result.differences == 0)
        assert result.p_value == 1
        assert result.not_worse()


def test_a_clearly_better_candidate_has_an_interval_above_zero(classification):
    X, y, model = classification
    dummy = DummyClassifier().fit(X, y)
    comparison = compare_models(model, dummy, X, y, ["accuracy", "log_loss"], n_boot=150)
    accuracy, log_loss = comparison["accuracy"], comparison["log_loss"]
    assert accuracy.candidate == get_scorer("accuracy")(model, X, y)
    assert accuracy.baseline == get_scorer("accuracy")(dummy, X, y)
    assert accuracy.ci_low > 0
    assert accuracy.p_value == 1 / 151
    assert not log_loss.greater_is_better
    assert log_loss.ci_high < 0, "a lower log loss is better: the difference is negative"
    assert log_loss.p_value == 1 / 151
    assert comparison.not_worse("accuracy")
    assert comparison.not_worse("log_loss")
    reverse = compare_models(dummy, model, X, y, ["accuracy", "log_loss"], n_boot=150)
    assert not reverse.not_worse("accuracy")
    assert not reverse.not_worse("log_loss")
    assert reverse["accuracy"].p_value == 1.0


def test_paired_bootstrap_is_deterministic_under_a_seed(classification):
    X, y, model = classification
    dummy = DummyClassifier(strategy="stratified", random_state=0).fit(X, y)

    def run(seed):
        return compare_models(model, dummy, X, y, n_boot=100, random_state=seed)["accuracy"]

    np.testing.assert_array_equal(run(3).differences, run(3).differences)
    assert not np.array_equal(run(3).differences, run(4).differences)
    from_generator = run(np.random.default_rng(3))
    np.testing.assert_array_equal(from_generator.differences, run(3).differences)


def _loop_reference(y, pred_c, pred_b, rows, func):
    return np.array([func(y[r], pred_c[r]) - func(y[r], pred_b[r]) for r in rows])


@settings(max_examples=30)
@given(
    labels=st.lists(st.integers(0, 2), min_size=2, max_size=40),
    flips=st.lists(st.integers(0, 2), min_size=80, max_size=80),
    seed=st.integers(0, 2**32 - 1),
)
def test_vectorised_accuracy_equals_a_loop_over_the_same_resamples(labels, flips, seed):
    y = np.array(labels)
    n = len(y)
    pred_c = (y + np.array(flips[:n])) % 3
    pred_b = (y + np.array(flips[40 : 40 + n])) % 3
    result = compare_models(
        Fixed(pred_c), Fixed(pred_b), _ids(n), y, n_boot=10, random_state=seed
    )["accuracy"]
    rows = _performance._bootstrap_rows(n, 10, seed)
    expected = _loop_reference(y, pred_c, pred_b, rows, accuracy_score)
    np.testing.assert_allclose(result.differences, expected, rtol=0, atol=1e-12)


@settings(max_examples=30)
@given(
    values=st.lists(st.floats(-100, 100, allow_nan=False), min_size=6, max_size=90).filter(
        lambda v: len(v) % 3 == 0
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_vectorised_errors_equal_a_loop_over_the_same_resamples(values, seed):
    y, pred_c, pred_b = np.array(values).reshape(3, -1)
    n = len(y)
    names = {
        "mean_squared_error": mean_squared_error,
        "mean_absolute_error": mean_absolute_error,
        "root_mean_squared_error": root_mean_squared_error,
    }
    comparison = compare_models(
        Fixed(pred_c), Fixed(pred_b), _ids(n), y, list(names), n_boot=8, random_state=seed
    )
    negated = compare_models(
        Fixed(pred_c),
        Fixed(pred_b),
        _ids(n),
        y,
        ["neg_mean_squared_error"],
        n_boot=8,
        random_state=seed,
    )
    rows = _performance._bootstrap_rows(n, 8, seed)
    for name, func in names.items():
        expected = _loop_reference(y, pred_c, pred_b, rows, func)
        np.testing.assert_allclose(
            comparison[name].differences, expected, rtol=1e-9, atol=1e-9, err_msg=name
        )
    np.testing.assert_allclose(
        negated["neg_mean_squared_error"].differences,
        -comparison["mean_squared_error"].differences,
        rtol=1e-12,
        atol=1e-12,
    )


def test_callable_metrics_fall_back_to_a_loop_and_agree_with_the_vectorised_path(
    classification,
):
    X, y, model = classification
    dummy = DummyClassifier(strategy="stratified", random_state=1).fit(X, y)
    comparison = compare_models(
        model,
        dummy,
        X,
        y,
        {"accuracy": "accuracy", "looped": accuracy_score, "scored": "balanced_accuracy"},
        n_boot=40,
        random_state=5,
    )
    np.testing.assert_allclose(
        comparison["accuracy"].differences, comparison["looped"].differences, atol=1e-12
    )
    rows = _performance._bootstrap_rows(len(y), 40, 5)
    scorer = get_scorer("balanced_accuracy")
    pred_c, pred_b = model.predict(X), dummy.predict(X)
    expected = [
        scorer._score_func(y[r], pred_c[r]) - scorer._score_func(y[r], pred_b[r]) for r in rows
    ]
    np.testing.assert_allclose(comparison["scored"].differences, expected, atol=1e-12)


def test_each_model_is_called_once_per_prediction_method(classification):
    X, y, model = classification
    candidate = Fixed(model.predict(X), model.predict_proba(X), classes=model.classes_)
    baseline = Fixed(model.predict(X)[::-1], model.predict_proba(X)[::-1], model.classes_)
    compare_models(candidate, baseline, _ids(len(y)), y, ["accuracy", "f1", "roc_auc"], n_boot=30)
    assert candidate.calls == {"predict": 1, "predict_proba": 1}
    assert baseline.calls == {"predict": 1, "predict_proba": 1}


def test_undefined_resamples_are_counted_and_left_out():
    y = np.array([0] * 18 + [1] * 2)
    rare = np.zeros(20, dtype=int)
    rare[-1] = 1  # predicts one positive: resamples without that row have no positives
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare_models(Fixed(rare), Fixed(y), _ids(20), y, "precision", n_boot=200)[
            "precision"
        ]
    assert 0 < result.n_undefined < 200
    assert np.isnan(result.differences).sum() == result.n_undefined
    assert math.isfinite(result.ci_low)
    assert math.isfinite(result.ci_high)


def _manual(greater_is_better, low, high):
    return MetricComparison(
        metric="m",
        candidate=0.0,
        baseline=0.0,
        difference=(low + high) / 2,
        ci_low=low,
        ci_high=high,
        p_value=0.5,
        greater_is_better=greater_is_better,
        n=10,
        n_boot=10,
        ci=0.95,
        n_undefined=0,
        differences=np.zeros(10),
    )


def test_not_worse_rule_at_its_boundaries():
    # Higher is better: worse only when the whole interval is below -margin.
    assert _manual(True, -0.3, -0.1).not_worse(margin=0.1)
    assert not _manual(True, -0.3, -0.1).not_worse(margin=0.09)
    assert _manual(True, -0.3, 0.2).not_worse()
    # Lower is better: worse only when the whole interval is above margin.
    assert _manual(False, 0.1, 0.3).not_worse(margin=0.1)
    assert not _manual(False, 0.1, 0.3).not_worse(margin=0.09)
    assert not _manual(False, math.nan, math.nan).not_worse(margin=1.0)
    with pytest.raises(ConfigurationError):
        _manual(True, 0, 0).not_worse(margin=-0.1)


def test_assert_not_worse_message_and_record(classification):
    X, y, model = classification
    dummy = DummyClassifier().fit(X, y)
    with _session.collecting() as records:
        passing = assert_not_worse(model, dummy, X, y, n_boot=100)
        with pytest.raises(AssertionError) as failure:
            assert_not_worse(dummy, model, X, y, "accuracy", margin=0.05, n_boot=100)
    assert isinstance(passing, Comparison)
    lines = str(failure.value).splitlines()
    assert lines[0] == (
        "the candidate is significantly worse than the baseline on accuracy (higher is better):"
    )
    assert lines[1].startswith("  candidate 0.5")
    assert "entirely below -margin = -0.05" in lines[2]
    assert lines[2].startswith("  95% CI of candidate - baseline: [-0.")
    assert "240 rows, 100 paired bootstrap resamples" in lines[3]
    assert [(r["kind"], r["name"], r["passed"]) for r in records] == [
        ("comparison", "accuracy", True),
        ("comparison", "accuracy", False),
    ]
    assert records[1]["margin"] == 0.05
    assert records[1]["ci_high"] < -0.05


def test_assert_not_worse_with_a_named_callable_lower_is_better(regression):
    X, y, model = regression
    worse = LinearRegression().fit(X[:, :1], y)

    class FirstColumn:
        def predict(self, X):
            return worse.predict(X[:, :1])

    with pytest.raises(AssertionError, match=r"on abs_error \(lower is better\)"):
        assert_not_worse(
            FirstColumn(),
            model,
            X,
            y,
            lambda t, p: float(np.mean(np.abs(t - p))),
            name="abs_error",
            n_boot=100,
        )


def test_comparison_exports_and_lookup(classification):
    X, y, model = classification
    comparison = compare_models(model, model, X, y, ["accuracy", "f1"], n_boot=20)
    assert comparison.names == ("accuracy", "f1")
    frame = comparison.to_frame()
    assert frame["metric"].tolist() == ["accuracy", "f1"]
    assert {"difference", "ci_low", "ci_high", "p_value"} <= set(frame.columns)
    assert json.loads(json.dumps(comparison.to_dict()))["metrics"][1]["metric"] == "f1"
    assert "candidate vs baseline on 240 rows" in str(comparison)
    assert repr(comparison).startswith("Comparison(n=240, n_boot=20, accuracy=+0")
    with pytest.raises(NotFoundError, match="no metric 'auc'"):
        comparison["auc"]
    with pytest.raises(ConfigurationError, match="name one of"):
        comparison.not_worse()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metrics": []}, "empty"),
        ({"metrics": ["accuracy", "accuracy"]}, "unique"),
        ({"n_boot": 0}, "n_boot"),
        ({"ci": 1.0}, "ci"),
        ({"metrics": "nope"}, "unknown metric"),
    ],
)
def test_bad_comparison_arguments(classification, kwargs, match):
    X, y, model = classification
    with pytest.raises(ConfigurationError, match=match):
        compare_models(model, model, X, y, **kwargs)
    with pytest.raises(ConfigurationError, match="margin"):
        assert_not_worse(model, model, X, y, margin=-1)


def test_compare_models_itself_records_nothing(classification):
    X, y, model = classification
    with _session.collecting() as records:
        compare_models(model, model, X, y, n_boot=10)
    assert records == []
