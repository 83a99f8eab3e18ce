"""Fairness: group metrics with bootstrap intervals, parity metrics equal to Fairlearn's."""

from __future__ import annotations

import json
import math
import warnings

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression

from mlkit.errors import ConfigurationError, DataError
from mlkit.testing import (
    FairnessResult,
    GroupMetrics,
    assert_fairness,
    assert_four_fifths,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    group_metrics,
    selection_rate,
)
from mlkit.testing._session import collecting

PARITY = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
}
ODDS = {"equalized_odds_difference", "equalized_odds_ratio"}

# The reference each named metric of group_metrics must equal.
REFERENCE = {
    "selection_rate": flm.selection_rate,
    "accuracy": skm.accuracy_score,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "true_negative_rate": flm.true_negative_rate,
    "false_negative_rate": flm.false_negative_rate,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1": skm.f1_score,
}
# Those that never warn on a group with positive total weight, so a MetricFrame
# of them runs under filterwarnings=error.
SILENT = ["selection_rate", "accuracy", "true_positive_rate", "false_positive_rate"]
SILENT += ["true_negative_rate", "false_negative_rate"]

LABELS = {"01": (0, 1), "-11": (-1, 1), "bool": (False, True)}


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return abs(ours - theirs) <= 1e-12


@st.composite
def fairness_data(draw, *, min_groups=2, max_groups=5, max_rows=60, weights=None, labels=None):
    """Binary labels over 2-5 groups (every group present), maybe weights and a second feature."""
    k = draw(st.integers(min_groups, max_groups))
    n = draw(st.integers(k, max_rows))
    codes = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    codes[:k] = range(k)  # every group has at least one row
    order = draw(st.permutations(range(n)))
    names = np.array(["g0", "g1", "g2", "g3", "g4"])[np.asarray(codes)[order]]
    lo, hi = LABELS[labels or draw(st.sampled_from(sorted(LABELS)))]
    y_true = np.where(draw(st.lists(st.booleans(), min_size=n, max_size=n)), hi, lo)
    y_pred = np.where(draw(st.lists(st.booleans(), min_size=n, max_size=n)), hi, lo)
    if labels == "bool" or (labels is None and lo is False):
        y_true, y_pred = y_true.astype(bool), y_pred.astype(bool)
    if weights is None:
        weights = draw(st.booleans())
    w = np.asarray(draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n))) if weights else None
    second = draw(st.booleans())
    features = (
        pd.DataFrame(
            {"sex": names, "age": draw(st.lists(st.sampled_from("xy"), min_size=n, max_size=n))}
        )
        if second
        else pd.Series(names, name="sex")
    )
    return y_true, y_pred, features, w


# --------------------------------------------------------------------------- parity vs fairlearn


@given(
    data=fairness_data(),
    metric=st.sampled_from(sorted(PARITY)),
    method=st.sampled_from(["between_groups", "to_overall"]),
    agg=st.sampled_from(["worst_case", "mean"]),
)
def test_parity_metrics_equal_fairlearn(data, metric, method, agg):
    """Every parity metric equals Fairlearn's to 1e-12 on 2-5 groups, weights, intersections."""
    y_true, y_pred, features, w = data
    kwargs = {"sensitive_features": features, "method": method, "sample_weight": w}
    if metric in ODDS:
        kwargs["agg"] = agg
    ours = PARITY[metric](y_true, y_pred, **kwargs)
    theirs = getattr(flm, metric)(y_true, y_pred, **kwargs)
    assert isinstance(ours, FairnessResult)
    assert same(ours.value, float(theirs)), (ours.value, theirs)
    assert float(ours) == ours.value or math.isnan(ours.value)
    if math.isnan(ours.value):
        assert any("undefined" in r for r in ours.reasons)
        assert ours.pair is None


@given(data=fairness_data(weights=False, labels="01"))
def test_by_group_rates_equal_fairlearn_metric_frame(data):
    """The rates listed per group are MetricFrame's by_group, groups in the same order."""
    y_true, y_pred, features, _ = data
    ours = equalized_odds_difference(y_true, y_pred, sensitive_features=features)
    frame = flm.MetricFrame(
        metrics={
            "true_positive_rate": flm.true_positive_rate,
            "false_positive_rate": flm.false_positive_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features,
    ).by_group.dropna(how="all")
    assert list(frame.index) == list(ours.by_group["group"])
    for rate in ("true_positive_rate", "false_positive_rate"):
        np.testing.assert_allclose(ours.by_group[rate], frame[rate], rtol=0, atol=1e-12)


def test_a_group_with_one_class_only_keeps_fairlearns_zero_and_says_so():
    y_true = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    y_pred = np.array([1, 0, 1, 1, 0, 0, 1, 1])
    groups = np.array(["a", "a", "a", "b", "b", "b", "c", "c"])  # group a: no positives
    for metric in ("equal_opportunity_difference", "equalized_odds_ratio"):
        ours = PARITY[metric](y_true, y_pred, sensitive_features=groups)
        assert same(ours.value, getattr(flm, metric)(y_true, y_pred, sensitive_features=groups))
        row = ours.by_group.set_index("group").loc["a"]
        assert row["true_positive_rate"] == 0.0
        assert "no positive labels" in row["note"]
        assert "Fairlearn's convention" in row["note"]
        assert any(r.startswith("sensitive_feature_0='a'") for r in ours.reasons)


def test_a_group_of_size_one():
    y_true = np.array([1, 0, 1, 0, 1, 1])
    y_pred = np.array([1, 0, 0, 1, 1, 0])
    groups = ["a", "a", "a", "a", "a", "b"]
    for metric, fn in PARITY.items():
        for method in ("between_groups", "to_overall"):
            ours = fn(y_true, y_pred, sensitive_features=groups, method=method)
            theirs = getattr(flm, metric)(y_true, y_pred, sensitive_features=groups, method=method)
            assert same(ours.value, theirs), metric
    result = demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
    assert result.by_group["n"].tolist() == [5, 1]


@pytest.mark.parametrize("predicted", [1, 0])
def test_all_positive_and_all_negative_predictions(predicted):
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 40)
    y_pred = np.full(40, predicted)
    groups = rng.choice(["a", "b", "c"], 40)
    for metric, fn in PARITY.items():
        for method in ("between_groups", "to_overall"):
            ours = fn(y_true, y_pred, sensitive_features=groups, method=method)
            theirs = getattr(flm, metric)(y_true, y_pred, sensitive_features=groups, method=method)
            assert same(ours.value, theirs), (metric, method, ours.value, theirs)
            if math.isnan(theirs):
                assert ours.reasons, metric
    dp = demographic_parity_ratio(y_true, y_pred, sensitive_features=groups)
    if predicted:
        assert dp.value == 1.0
        assert demographic_parity_difference(y_true, y_pred, sensitive_features=groups).value == 0
    else:
        assert math.isnan(dp.value)
        assert "0/0 is undefined" in " ".join(dp.reasons)


def test_equalized_odds_follows_fairlearns_order_when_one_ratio_is_undefined():
    """No false positives anywhere: the FPR ratio is 0/0, the value is the TPR ratio alone."""
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    y_pred = np.array([1, 0, 0, 0, 1, 1, 0, 0])
    groups = ["a"] * 4 + ["b"] * 4
    for agg in ("worst_case", "mean"):
        ours = equalized_odds_ratio(y_true, y_pred, sensitive_features=groups, agg=agg)
        theirs = flm.equalized_odds_ratio(y_true, y_pred, sensitive_features=groups, agg=agg)
        assert ours.value == theirs == 0.5
        assert ours.rate == "true_positive_rate"
        assert any("false_positive_rate ratio is undefined" in r for r in ours.reasons)
    # Swapped: no true positives anywhere makes the TPR ratio NaN, and Fairlearn's min() keeps it.
    y_pred = np.array([0, 0, 1, 0, 0, 0, 1, 1])
    ours = equalized_odds_ratio(y_true, y_pred, sensitive_features=groups)
    assert math.isnan(flm.equalized_odds_ratio(y_true, y_pred, sensitive_features=groups))
    assert math.isnan(ours.value)
    assert any("true_positive_rate is 0" in r for r in ours.reasons)


def test_zero_weight_group_is_nan_with_a_reason_where_fairlearn_warns():
    y_true = np.array([1, 0, 1, 0, 1, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0])
    groups = ["a", "a", "b", "b", "c", "c"]
    w = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 1.0])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        theirs = flm.demographic_parity_difference(
            y_true, y_pred, sensitive_features=groups, sample_weight=w
        )
    ours = demographic_parity_difference(
        y_true, y_pred, sensitive_features=groups, sample_weight=w
    )
    assert same(ours.value, theirs)
    row = ours.by_group.set_index("group").loc["a"]
    assert math.isnan(row["selection_rate"])
    assert "sum to 0" in row["note"]


def test_empty_intersections_are_left_out_and_counted():
    y_true = np.array([1, 0, 1, 0, 1, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0])
    sf = pd.DataFrame(
        {"sex": ["F", "F", "M", "M", "F", "F"], "age": ["x", "y", "x", "x", "y", "x"]}
    )
    ours = demographic_parity_difference(y_true, y_pred, sensitive_features=sf)
    assert same(
        ours.value, flm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf)
    )
    assert list(ours.by_group["group"]) == [("F", "x"), ("F", "y"), ("M", "x")]
    assert any("1 combination(s)" in r for r in ours.reasons)


def test_intersections_accept_frames_dicts_lists_and_2d_arrays():
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.integers(0, 2, (2, 120))
    sex = rng.choice(["F", "M"], 120)
    age = rng.choice(["young", "old"], 120)
    reference = flm.equalized_odds_difference(
        y_true, y_pred, sensitive_features=pd.DataFrame({"sex": sex, "age": age})
    )
    forms = [
        pd.DataFrame({"sex": sex, "age": age}),
        {"sex": sex, "age": age},
        [pd.Series(sex, name="sex"), pd.Series(age, name="age")],
        np.column_stack([sex, age]),
    ]
    results = [equalized_odds_difference(y_true, y_pred, sensitive_features=f) for f in forms]
    for result in results:
        assert result.value == pytest.approx(reference, abs=1e-12)
        assert list(result.by_group["group"]) == [
            ("F", "old"),
            ("F", "young"),
            ("M", "old"),
            ("M", "young"),
        ]
    assert list(results[0].by_group.columns[:3]) == ["group", "sex", "age"]
    assert list(results[3].by_group.columns[1:3]) == ["sensitive_feature_0", "sensitive_feature_1"]


def test_pos_label_names_the_positive_of_two_string_labels():
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.integers(0, 2, (2, 80))
    groups = rng.choice(["a", "b", "c"], 80)
    words = np.array(["denied", "approved"])
    for metric, fn in PARITY.items():
        ours = fn(words[y_true], words[y_pred], sensitive_features=groups, pos_label="approved")
        theirs = getattr(flm, metric)(y_true, y_pred, sensitive_features=groups)
        assert same(ours.value, theirs), metric


@given(data=fairness_data(max_rows=40))
def test_selection_rate_equals_fairlearn(data):
    y_true, y_pred, _, w = data
    assert same(
        selection_rate(y_true, y_pred, sample_weight=w),
        flm.selection_rate(y_true, y_pred, sample_weight=w),
    )


def test_selection_rate_refuses_weights_that_sum_to_zero():
    with pytest.raises(DataError, match="sum to 0"):
        selection_rate([0, 1], [1, 1], sample_weight=[0, 0])
    assert selection_rate(["x"], ["yes"], pos_label="yes") == 1.0


# --------------------------------------------------------------------------- group_metrics


@settings(max_examples=30)
@given(data=fairness_data(max_rows=50), name=st.sampled_from(["precision", "recall", "f1"]))
def test_group_metrics_equal_metric_frame_by_group(data, name):
    """Named metrics equal MetricFrame's by_group; where scikit-learn warns, NaN and a note."""
    y_true, y_pred, features, w = data
    result = group_metrics(
        y_true, y_pred, features, metrics=list(REFERENCE), sample_weight=w, n_boot=0
    )
    frame = result.to_frame()
    groups = list(result.groups)
    silent = flm.MetricFrame(
        metrics={name: REFERENCE[name] for name in SILENT},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features,
        sample_params=None if w is None else {name: {"sample_weight": w} for name in SILENT},
    )
    by_group = silent.by_group.dropna(how="all")
    assert list(by_group.index) == groups
    np.testing.assert_allclose(result.by_group[SILENT], by_group[SILENT], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.overall[SILENT], silent.overall[SILENT], rtol=0, atol=1e-12)
    # precision, recall, f1: group by group, noting where scikit-learn warns.
    codes = pd.MultiIndex.from_frame(features) if isinstance(features, pd.DataFrame) else features
    keys = list(codes) if isinstance(codes, pd.MultiIndex) else list(codes.to_numpy())
    values = frame[frame["metric"] == name].iloc[: len(groups)]
    for group, value, note in zip(groups, values["value"], values["note"], strict=True):
        rows = np.array([k == group for k in keys])
        kwargs = {} if w is None else {"sample_weight": w[rows]}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            expected = REFERENCE[name](y_true[rows], y_pred[rows], **kwargs)
        if caught:
            assert all(issubclass(c.category, UndefinedMetricWarning) for c in caught)
            assert math.isnan(value)
            assert "undefined" in note
        else:
            assert same(value, expected)


def test_group_metrics_frame_is_tidy_with_counts_and_overall_rows():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, (2, 100))
    sex = rng.choice(["F", "M", "X"], 100, p=[0.5, 0.45, 0.05])
    result = group_metrics(y_true, y_pred, pd.Series(sex, name="sex"), metrics=["selection_rate"])
    frame = result.to_frame()
    assert list(frame.columns) == [
        "group",
        "sex",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "n_positive",
        "sufficient",
        "note",
    ]
    assert frame["group"].tolist() == ["F", "M", "X", "overall"]
    counts = pd.Series(sex).value_counts()
    assert frame["n"].tolist()[:3] == [counts["F"], counts["M"], counts["X"]]
    assert frame["n"].iloc[-1] == 100
    assert frame["n_positive"].iloc[-1] == y_true.sum()
    assert frame["sufficient"].tolist() == [True, True, False, True]
    assert result.insufficient == ("X",)
    assert "GroupMetrics(3 groups x 1 metrics, 1 insufficient (n < 30)" in repr(result)
    json.dumps(result.to_dict())


def test_intersection_groups_are_tuples_with_a_column_per_feature():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 2, (2, 200))
    sf = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], 200), "age": rng.choice(["old", "young"], 200)}
    )
    result = group_metrics(y_true, y_pred, sf, metrics=["accuracy"], n_boot=50)
    frame = result.to_frame()
    assert frame["group"].tolist()[:4] == [
        ("F", "old"),
        ("F", "young"),
        ("M", "old"),
        ("M", "young"),
    ]
    assert frame[["sex", "age"]].iloc[1].tolist() == ["F", "young"]
    assert result.by_group.index.names == ["sex", "age"]
    reference = flm.MetricFrame(
        metrics=skm.accuracy_score, y_true=y_true, y_pred=y_pred, sensitive_features=sf
    ).by_group
    np.testing.assert_allclose(result.by_group["accuracy"], reference, rtol=0, atol=1e-12)


def test_bootstrap_intervals_are_deterministic_and_contain_the_estimate():
    rng = np.random.default_rng(7)
    y_true, y_pred = rng.integers(0, 2, (2, 400))
    sex = rng.choice(["F", "M", "X"], 400)
    first = group_metrics(y_true, y_pred, sex).to_frame()
    again = group_metrics(y_true, y_pred, sex).to_frame()
    other = group_metrics(y_true, y_pred, sex, random_state=1).to_frame()
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_low"], other["ci_low"])
    assert (first["ci_low"] <= first["value"]).all()
    assert (first["value"] <= first["ci_high"]).all()
    assert (first["ci_high"] - first["ci_low"] > 0).all()
    # The same seed as a Generator gives the same intervals.
    from_generator = group_metrics(y_true, y_pred, sex, random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(first, from_generator.to_frame())


def test_adding_a_metric_leaves_the_other_intervals_unchanged():
    rng = np.random.default_rng(8)
    y_true, y_pred = rng.integers(0, 2, (2, 150))
    sex = rng.choice(["F", "M"], 150)
    alone = group_metrics(y_true, y_pred, sex, metrics=["selection_rate"], n_boot=300).to_frame()
    both = group_metrics(
        y_true,
        y_pred,
        sex,
        metrics={"selection_rate": "selection_rate", "mae": lambda t, p: np.abs(t - p).mean()},
        n_boot=300,
    ).to_frame()
    both = both[both["metric"] == "selection_rate"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, both)


@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_matches_a_plain_row_resampling_loop(weighted):
    """Multinomial counts or an index matrix (distinct weights) give row resampling's CI."""
    rng = np.random.default_rng(11)
    n, n_boot = 300, 4000
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < 0.3).astype(int)
    w = rng.random(n) + 0.5 if weighted else np.ones(n)
    ours = group_metrics(
        y_true,
        y_pred,
        ["g"] * n,
        metrics=["selection_rate", "true_positive_rate"],
        sample_weight=w if weighted else None,
        n_boot=n_boot,
    ).to_frame()
    loop = np.random.default_rng(99)
    sel, tpr = [], []
    for _ in range(n_boot):
        i = loop.integers(0, n, n)
        sel.append(np.dot(y_pred[i], w[i]) / w[i].sum())
        pos = y_true[i] == 1
        tpr.append(np.dot(y_pred[i][pos], w[i][pos]) / w[i][pos].sum())
    for name, reps in (("selection_rate", sel), ("true_positive_rate", tpr)):
        row = ours[(ours["metric"] == name) & (ours["group"] == "g")].iloc[0]
        low, high = np.quantile(reps, [0.025, 0.975])
        assert row["ci_low"] == pytest.approx(low, abs=0.015)
        assert row["ci_high"] == pytest.approx(high, abs=0.015)


def test_unit_weights_give_the_unweighted_intervals():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 2, (2, 90))
    sex = rng.choice(["F", "M"], 90)
    plain = group_metrics(y_true, y_pred, sex).to_frame()
    unit = group_metrics(y_true, y_pred, sex, sample_weight=np.ones(90)).to_frame()
    pd.testing.assert_frame_equal(plain, unit)


def test_no_bootstrap_and_degenerate_groups():
    result = group_metrics([1, 0, 1], [1, 0, 0], ["a", "a", "b"], n_boot=0).to_frame()
    assert result["ci_low"].isna().all()
    assert result["ci_high"].isna().all()
    single = group_metrics([1, 0, 1], [1, 0, 0], ["a", "a", "b"], metrics=["accuracy"]).to_frame()
    row = single[single["group"] == "b"].iloc[0]
    assert row["ci_low"] == row["value"] == row["ci_high"] == 0.0
    assert not row["sufficient"]


def test_undefined_metrics_are_nan_or_fairlearns_zero_with_a_note():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 0, 1, 0]
    frame = group_metrics(
        y_true,
        y_pred,
        ["a", "a", "b", "b"],
        metrics=["precision", "true_positive_rate"],
        n_boot=100,
    ).to_frame()
    a = frame[frame["group"] == "a"].set_index("metric")
    assert math.isnan(a.loc["precision", "value"])
    assert "no predicted positives" in a.loc["precision", "note"]
    assert a.loc["true_positive_rate", "value"] == 0.0
    assert "Fairlearn's convention" in a.loc["true_positive_rate", "note"]
    assert math.isnan(a.loc["true_positive_rate", "ci_low"])
    b = frame[frame["group"] == "b"].set_index("metric")
    assert "resamples where it is defined" in b.loc["precision", "note"]


def test_custom_metrics_match_metric_frame_and_turn_warnings_into_nan():
    rng = np.random.default_rng(6)
    y_true, y_pred = rng.integers(0, 2, (2, 90))
    sex = rng.choice(["F", "M"], 90)
    w = rng.random(90)
    result = group_metrics(
        y_true, y_pred, sex, metrics={"mae": skm.mean_absolute_error}, sample_weight=w, n_boot=200
    )
    reference = flm.MetricFrame(
        metrics=skm.mean_absolute_error,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sex,
        sample_params={"sample_weight": w},
    ).by_group
    np.testing.assert_allclose(result.by_group["mae"], reference, rtol=0, atol=1e-12)
    frame = result.to_frame()
    assert (frame["ci_low"] <= frame["value"]).all()
    assert (frame["value"] <= frame["ci_high"]).all()
    warned = group_metrics(
        [1, 0, 1, 1],
        [0, 0, 1, 1],
        ["a", "a", "b", "b"],
        metrics={"precision": skm.precision_score},
        n_boot=0,
    ).to_frame()
    a = warned[warned["group"] == "a"].iloc[0]
    assert math.isnan(a["value"])
    assert "UndefinedMetricWarning" in a["note"]


# --------------------------------------------------------------------------- assertions


def _applicants(biased: bool, n: int = 2000, seed: int = 0):
    """Loan data; the biased model also sees the group, and the labels favour group A."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n)
    income = rng.normal(size=n)
    debt = rng.normal(size=n)
    favoured = (group == "A").astype(float)
    logit = income - debt + (2.5 * favoured - 1.25 if biased else 0.0)
    y = (logit + rng.normal(scale=0.5, size=n) > 0).astype(int)
    X = np.column_stack([income, debt, favoured]) if biased else np.column_stack([income, debt])
    model = LogisticRegression().fit(X, y)
    return y, model.predict(X), group


def test_a_biased_model_fails_assert_fairness_and_a_fair_one_passes():
    y, pred, group = _applicants(biased=False)
    with collecting() as records:
        result = assert_fairness(y, pred, group, max_difference=0.1)
    assert result.passed is True
    assert result.value < 0.1
    assert [r["passed"] for r in records] == [True]
    assert records[0]["kind"] == "fairness"
    assert records[0]["max_difference"] == 0.1

    y, pred, group = _applicants(biased=True)
    with collecting() as records, pytest.raises(AssertionError) as info:
        assert_fairness(y, pred, group, max_difference=0.1)
    message = str(info.value)
    assert message.startswith("FAILED: demographic_parity_difference = ")
    assert "> max_difference = 0.1" in message
    assert "largest gap: sensitive_feature_0='B'" in message
    assert "vs sensitive_feature_0='A'" in message
    rates = pd.Series(pred).groupby(group).mean()
    assert f"{rates['A']:.4f}" in message
    assert f"{rates['B']:.4f}" in message
    assert f"n={(group == 'A').sum()}" in message
    assert len(records) == 1
    assert records[0]["passed"] is False
    assert records[0]["value"] == pytest.approx(rates["A"] - rates["B"])


@pytest.mark.parametrize(
    "metric",
    ["demographic_parity_ratio", "equalized_odds_difference", "equalized_odds_ratio"],
)
def test_assert_fairness_other_metrics_use_their_bound(metric):
    y, pred, group = _applicants(biased=True)
    with pytest.raises(AssertionError, match=metric):
        assert_fairness(y, pred, group, metric=metric)
    y, pred, group = _applicants(biased=False)
    result = assert_fairness(y, pred, group, metric=metric)
    assert result.bound == ("min_ratio" if metric.endswith("ratio") else "max_difference")
    assert result.threshold == (0.8 if metric.endswith("ratio") else 0.1)
    assert result.value == pytest.approx(
        getattr(flm, metric)(y, pred, sensitive_features=group), abs=1e-12
    )


def test_small_groups_fail_explicitly_instead_of_passing():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 103)
    pred = y.copy()
    group = np.array(["A"] * 50 + ["B"] * 50 + ["C"] * 3)
    pred[-3:] = 1  # group C is tiny and looks unfair, but only 3 rows say so
    with collecting() as records, pytest.raises(AssertionError) as info:
        assert_fairness(y, pred, group, max_difference=1.0)
    message = str(info.value)
    assert "cannot be checked: 1 group(s) have fewer than min_group_size=30 rows" in message
    assert "sensitive_feature_0='C' (n=3)" in message
    assert len(records) == 1
    assert records[0]["small_groups"] == ["C"]
    with pytest.raises(DataError, match="min_group_size=30") as error:
        assert_fairness(y, pred, group, on_small_groups="error")
    assert error.value.value == ["C"]
    result = assert_fairness(y, pred, group, on_small_groups="ignore", max_difference=0.2)
    assert result.passed
    assert result.small_groups == ("C",)
    assert "left out" in result.reasons[0]
    assert result.by_group["sufficient"].tolist() == [True, True, False]
    assert_fairness(y, pred, group, min_group_size=3, max_difference=1.0)


def test_an_undefined_rate_counts_as_insufficient_data():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 120)
    group = np.array(["A"] * 60 + ["B"] * 60)
    y[60:] = 0  # group B has no positive labels: its TPR is undefined
    with pytest.raises(AssertionError, match="1 group\\(s\\) have an undefined rate"):
        assert_fairness(y, y, group, metric="equal_opportunity_difference")


def test_an_undefined_value_fails():
    y = np.array([1, 0] * 40)
    group = np.array(["A", "B"] * 40)
    with pytest.raises(AssertionError, match="undefined \\(NaN\\)"):
        assert_fairness(y, np.zeros(80, dtype=int), group, metric="demographic_parity_ratio")


def test_intersections_in_assert_fairness_name_both_features():
    rng = np.random.default_rng(3)
    n = 800
    sf = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "age": rng.choice(["old", "young"], n)})
    y = rng.integers(0, 2, n)
    pred = np.where((sf["sex"] == "F") & (sf["age"] == "young"), 0, y)
    with pytest.raises(AssertionError, match=r"sex='F', age='young' \(selection_rate=0.0000"):
        assert_fairness(y, pred, sf)


def test_assert_four_fifths_names_the_failing_groups():
    y = np.array([1, 0] * 150)
    group = np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 100)
    pred = np.concatenate(
        [np.repeat([1, 0], [60, 40]), np.repeat([1, 0], [50, 50]), np.repeat([1, 0], [30, 70])]
    )
    with collecting() as records, pytest.raises(AssertionError) as info:
        assert_four_fifths(y, pred, group)
    message = str(info.value)
    assert "lowest impact ratio = 0.5000 < 0.8" in message
    assert "failing groups: sensitive_feature_0='c' (selection_rate=0.3000, n=100)" in message
    assert "'b'" not in message.split("failing groups:")[1].splitlines()[0]
    assert len(records) == 1
    assert records[0]["failing_groups"] == ["c"]
    result = assert_four_fifths(y, pred, group, threshold=0.5)
    assert result.passed
    assert result.value == pytest.approx(
        flm.demographic_parity_ratio(y, pred, sensitive_features=group)
    )
    np.testing.assert_allclose(result.by_group["impact_ratio"], [1.0, 50 / 60, 0.5])
    json.dumps(result.to_dict())


def test_assert_four_fifths_small_groups_and_nobody_selected():
    y = np.array([1, 0] * 31)
    group = np.array(["a"] * 60 + ["b"] * 2)
    with pytest.raises(AssertionError, match="fewer than min_group_size=30"):
        assert_four_fifths(y, y, group)
    assert assert_four_fifths(y, y, group, on_small_groups="ignore").small_groups == ("b",)
    with pytest.raises(AssertionError, match="undefined"):
        assert_four_fifths(y, np.zeros(62, dtype=int), group, min_group_size=1)


def test_result_repr_str_and_dict():
    y = np.array([1, 0] * 40)
    group = np.array(["A"] * 40 + ["B"] * 40)
    result = assert_fairness(y, y, group)
    assert repr(result) == (
        "FairnessResult(demographic_parity_difference=0, method='between_groups', groups=2, "
        "passed=True)"
    )
    assert str(result).startswith(
        "passed: demographic_parity_difference = 0.0000 <= max_difference"
    )
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["groups"][0]["group"] == "A"
    assert payload["passed"] is True
    assert isinstance(result.to_frame(), pd.DataFrame)


def test_messages_show_plain_group_values_and_the_overall_comparison():
    y = np.array([1, 0] * 40)
    group = np.array([0] * 40 + [1] * 40)
    pred = np.where(group == 1, 1, y)
    with pytest.raises(AssertionError) as info:
        assert_fairness(y, pred, group)
    assert "largest gap: sensitive_feature_0=0 (selection_rate=0.5000, n=40)" in str(info.value)
    with pytest.raises(AssertionError) as info:
        assert_fairness(y, pred, group, method="to_overall")
    assert "vs overall (selection_rate=0.7500)" in str(info.value)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: demographic_parity_difference(
                [0, 1], [0, 1, 1], sensitive_features=["a", "b"]
            ),
            DataError,
            "y_pred has 3 rows but y_true has 2",
        ),
        (
            lambda: demographic_parity_difference([0, 1], [0, 1], sensitive_features=["a"]),
            DataError,
            "sensitive feature 'sensitive_feature_0' has 1 rows but y_true has 2",
        ),
        (
            lambda: demographic_parity_difference([0, 1], [0, 2], sensitive_features=["a", "b"]),
            DataError,
            "needs binary labels.*; y_pred contains \\[0, 1, 2\\] \\(unexpected: 2\\)",
        ),
        (
            lambda: equal_opportunity_ratio(
                ["no", "yes"], ["no", "no"], sensitive_features=["a", "b"]
            ),
            DataError,
            "needs binary labels, 0/1 or -1/1 \\(or two labels and pos_label=\\)",
        ),
        (
            lambda: equal_opportunity_ratio(
                ["no", "ok"], ["no", "no"], sensitive_features=["a", "b"], pos_label="yes"
            ),
            DataError,
            "pos_label='yes'.*pos_label is not one of them",
        ),
        (
            lambda: demographic_parity_difference(
                [0, np.nan], [0, 1], sensitive_features=["a", "b"]
            ),
            DataError,
            "y_true has 1 missing value",
        ),
        (
            lambda: demographic_parity_difference(
                [0, 1], [0, 1], sensitive_features=pd.Series(["a", None], name="sex")
            ),
            DataError,
            "sensitive feature 'sex' has 1 missing value",
        ),
        (
            lambda: demographic_parity_difference(
                [0, 1], [0, 1], sensitive_features=["a", "b"], sample_weight=[1, -1]
            ),
            DataError,
            "sample_weight must be finite and >= 0; row 1",
        ),
        (
            lambda: demographic_parity_difference(
                [0, 1], [0, 1], sensitive_features=["a", "b"], method="pairwise"
            ),
            ConfigurationError,
            "method must be one of",
        ),
        (
            lambda: equalized_odds_ratio([0, 1], [0, 1], sensitive_features=["a", "b"], agg="max"),
            ConfigurationError,
            "agg must be one of",
        ),
        (
            lambda: assert_fairness([0, 1], [0, 1], ["a", "b"], metric="dp"),
            ConfigurationError,
            "unknown fairness metric 'dp'; known: demographic_parity_difference",
        ),
        (
            lambda: assert_fairness([0, 1], [0, 1], ["a", "b"], min_ratio=0.8),
            ConfigurationError,
            "is a difference: bound it with max_difference",
        ),
        (
            lambda: assert_fairness([0, 1], [0, 1], ["a", "b"], on_small_groups="warn"),
            ConfigurationError,
            "on_small_groups must be one of",
        ),
        (
            lambda: group_metrics([0, 1], [0, 1], ["a", "b"], metrics=["acc"]),
            ConfigurationError,
            "unknown metric 'acc'; known: selection_rate, accuracy",
        ),
        (
            lambda: group_metrics([0, 1], [0, 1], ["a", "b"], ci=95),
            ConfigurationError,
            "ci must be a number in \\(0, 1\\)",
        ),
        (
            lambda: group_metrics([0, 1], [0, 1], ["a", "b"], n_boot=-1),
            ConfigurationError,
            "n_boot must be an integer >= 0",
        ),
        (
            lambda: group_metrics([0, 1], [0, 1], pd.DataFrame({"n": ["a", "b"]})),
            DataError,
            "sensitive feature 'n' clashes",
        ),
        (
            lambda: group_metrics([[0, 1], [1, 0]], [0, 1], ["a", "b"]),
            DataError,
            "y_true must be 1-D, got an array of shape \\(2, 2\\)",
        ),
    ],
)
def test_bad_input_names_what_is_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_custom_metrics_do_not_need_binary_labels():
    result = group_metrics(
        [0.5, 2.0, 3.0],
        [1.0, 2.0, 2.0],
        ["a", "a", "b"],
        metrics={"mae": skm.mean_absolute_error},
        n_boot=10,
    )
    assert isinstance(result, GroupMetrics)
    assert result.by_group["mae"].tolist() == [0.25, 1.0]


def test_results_compare_with_numbers_like_fairlearn_floats():
    from mlkit.testing import demographic_parity_difference

    y_true = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    y_pred = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    result = demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
    assert result.value == 0.75
    assert result < 0.8
    assert result <= 0.75
    assert result > 0.5
    assert result >= 0.75
    assert not result < 0.1
    assert float(result) == 0.75
