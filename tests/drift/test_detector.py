"""DriftDetector: kinds, verdicts, untestable columns, corrections, chunks, error rates."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlkit.drift import (
    DEFAULT_TESTS,
    DriftDetector,
    DriftReport,
    chi2,
    ks_2samp,
    psi,
    wasserstein,
)
from mlkit.errors import ConfigurationError, DataError, NotFittedError

FRAME_COLUMNS = [
    "column",
    "kind",
    "test",
    "statistic",
    "p_value",
    "threshold",
    "drifted",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
    "unseen_categories",
    "reason",
    "note",
]


def make_frame(rng, n, *, shift=0.0, null_share=0.0, new_category=False):
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3 + shift, 1, n),
            "score": rng.normal(0, 1, n),
            "hour": rng.integers(0, 24, n),  # integer, 24 values: numeric
            "rating": rng.integers(1, 6, n),  # integer, 5 values: categorical
            "channel": rng.choice(["web", "app", "store"], n, p=[0.5, 0.3, 0.2]),
            "vip": rng.random(n) < 0.1,
        }
    )
    if null_share:
        frame.loc[rng.random(n) < null_share, "score"] = np.nan
    if new_category:
        frame.loc[rng.random(n) < 0.2, "channel"] = "kiosk"
    return frame


@pytest.fixture
def reference(mlkit_rng):
    return make_frame(mlkit_rng, 3000)


@pytest.fixture
def detector(reference):
    return DriftDetector().fit(reference)


def test_infers_kinds_by_the_documented_rule(detector):
    profile = detector.profile_
    kinds = dict(zip(profile.columns, profile.kinds, strict=True))
    assert kinds == {
        "amount": "numeric",
        "score": "numeric",
        "hour": "numeric",
        "rating": "categorical",
        "channel": "categorical",
        "vip": "categorical",
    }


def test_overrides_and_unsupported_dtypes(reference):
    ref = reference.assign(when=pd.Timestamp("2024-01-01"))
    det = DriftDetector(categorical=["hour"], numerical=["rating"]).fit(ref)
    kinds = dict(zip(det.profile_.columns, det.profile_.kinds, strict=True))
    assert kinds["hour"] == "categorical"
    assert kinds["rating"] == "numeric"
    assert kinds["when"] == "unsupported"
    report = det.test(ref)
    assert "dtype datetime64" in report.untestable["when"]


def test_stable_data_is_not_drifted(detector, mlkit_rng):
    report = detector.test(make_frame(mlkit_rng, 2000))
    assert isinstance(report, DriftReport)
    assert not report.drifted
    assert report.drifted_columns == ()
    assert report.tested_columns == ("amount", "score", "hour", "rating", "channel", "vip")


def test_shifted_column_is_drifted_with_every_row_filled(detector, mlkit_rng):
    report = detector.test(make_frame(mlkit_rng, 2000, shift=0.5))
    assert report.drifted_columns == ("amount",)
    frame = report.to_frame()
    assert list(frame.columns) == FRAME_COLUMNS
    amount = frame[frame.column == "amount"].set_index("test")
    assert list(amount.index) == list(DEFAULT_TESTS["numeric"])
    assert amount.loc["ks", "drifted"]
    assert amount.loc["psi", "statistic"] > 0.1
    assert amount.loc["ks", "n_reference"] == 3000
    assert amount.loc["ks", "n_current"] == 2000
    assert amount.loc["ks", "threshold"] == pytest.approx(0.05 / detector_p_tests(frame))
    assert report.share == pytest.approx(1 / 6)
    assert not report.drifted  # 1 of 6 columns < drift_share 0.5
    assert "amount" in repr(report)


def detector_p_tests(frame):
    return int(frame.test.isin(["ks", "chi2", "missing", "cvm"]).sum())


def test_to_dict_is_json_safe(detector, mlkit_rng):
    cur = make_frame(mlkit_rng, 500, null_share=0.3)
    cur = cur.drop(columns=["vip"]).assign(extra=1)
    data = detector.test(cur).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["extra_columns"] == ["extra"]
    assert data["untestable"]["vip"] == "missing from current"


def test_missing_rate_drift_alone_flags_a_column(detector, mlkit_rng):
    report = detector.test(make_frame(mlkit_rng, 2000, null_share=0.3))
    frame = report.to_frame().set_index(["column", "test"])
    assert "score" in report.drifted_columns
    assert frame.loc[("score", "missing"), "drifted"]
    assert frame.loc[("score", "missing"), "statistic"] == pytest.approx(0.3, abs=0.04)
    assert not frame.loc[("score", "ks"), "drifted"]  # the values left are unchanged


def test_unseen_categories_are_counted_and_drift(detector, mlkit_rng):
    report = detector.test(make_frame(mlkit_rng, 2000, new_category=True))
    rows = report.to_frame().query("column == 'channel'")
    assert (rows.unseen_categories > 300).all()
    assert "channel" in report.drifted_columns


def test_untestable_columns_are_reported_and_the_rest_still_tested(detector, mlkit_rng):
    cur = make_frame(mlkit_rng, 1000, shift=0.6)
    cur["score"] = np.nan  # no values
    cur["hour"] = "noon"  # wrong type
    cur = cur.drop(columns=["vip"]).assign(new_feature=1.0)
    report = detector.test(cur)
    assert set(report.untestable) == {"score", "hour", "vip"}
    assert report.untestable["score"] == "no values in current"
    assert report.untestable["vip"] == "missing from current"
    assert "got dtype" in report.untestable["hour"]
    assert "'noon'" in report.untestable["hour"]
    assert report.extra_columns == ("new_feature",)
    assert "amount" in report.drifted_columns
    rows = report.to_frame().query("column == 'score' and test == 'ks'")
    assert rows.reason.iloc[0] == "no values in current"
    assert np.isnan(rows.statistic.iloc[0])
    assert not rows.drifted.iloc[0]


def test_statistics_equal_the_kernels(reference, mlkit_rng):
    cur = make_frame(mlkit_rng, 1500, shift=0.2)
    det = DriftDetector(
        tests={"numeric": ["ks", "psi", "wasserstein"], "categorical": ["chi2", "psi"]},
        ks_method="auto",
    ).fit(reference)
    frame = det.test(cur).to_frame().set_index(["column", "test"])
    for col in ["amount", "score", "hour"]:
        r, c = reference[[col]].to_numpy(float), cur[[col]].to_numpy(float)
        ks = ks_2samp(r, c, method="auto")
        assert frame.loc[(col, "ks"), "statistic"] == pytest.approx(ks.statistic[0], abs=1e-15)
        assert frame.loc[(col, "ks"), "p_value"] == pytest.approx(ks.pvalue[0], abs=1e-9)
        assert frame.loc[(col, "psi"), "statistic"] == pytest.approx(psi(r, c).statistic[0])
        w = wasserstein(r, c, normalize=True).statistic[0]
        assert frame.loc[(col, "wasserstein"), "statistic"] == pytest.approx(w, rel=1e-9)
    for col in ["channel", "rating"]:
        res = chi2(reference[[col]].to_numpy(object), cur[[col]].to_numpy(object))
        assert frame.loc[(col, "chi2"), "statistic"] == pytest.approx(res.statistic[0])
        assert frame.loc[(col, "chi2"), "p_value"] == pytest.approx(res.pvalue[0])


def test_effect_size_gate_ignores_a_negligible_shift_in_a_huge_sample(mlkit_rng):
    ref = pd.DataFrame({"x": mlkit_rng.normal(0, 1, 200_000)})
    cur = pd.DataFrame({"x": mlkit_rng.normal(0.03, 1, 200_000)})
    both = DriftDetector(tests=["ks", "wasserstein", "psi"]).fit(ref).test(cur)
    rows = both.to_frame().set_index("test")
    assert rows.loc["ks", "drifted"]  # significant ...
    assert not rows.loc["wasserstein", "drifted"]  # ... but tiny
    assert both.drifted_columns == ()
    pvalue_only = DriftDetector(tests=["ks", "wasserstein"], decision="pvalue").fit(ref)
    assert pvalue_only.test(cur).drifted_columns == ("x",)


def test_bonferroni_and_fdr_thresholds(mlkit_rng):
    n_cols = 20
    ref = pd.DataFrame(mlkit_rng.normal(size=(500, n_cols))).rename(columns=str)
    shifts = np.linspace(0, 0.4, n_cols)
    cur = pd.DataFrame(mlkit_rng.normal(size=(400, n_cols)) + shifts).rename(columns=str)
    pvals = ks_2samp(ref.to_numpy(), cur.to_numpy(), method="auto").pvalue
    bonf = DriftDetector(tests=["ks"], ks_method="auto", decision="pvalue").fit(ref).test(cur)
    frame = bonf.to_frame()
    assert (frame.threshold == 0.05 / n_cols).all()
    np.testing.assert_array_equal(frame.drifted, pvals <= 0.05 / n_cols)
    bh = DriftDetector(tests=["ks"], correction="fdr_bh", ks_method="auto", decision="pvalue")
    frame = bh.fit(ref).test(cur).to_frame()
    expected = stats.false_discovery_control(pvals) <= 0.05
    np.testing.assert_array_equal(frame.drifted.to_numpy(), expected)
    none = DriftDetector(tests=["ks"], correction=None, ks_method="auto", decision="pvalue")
    frame = none.fit(ref).test(cur).to_frame()
    np.testing.assert_array_equal(frame.drifted.to_numpy(), pvals <= 0.05)


@pytest.mark.parametrize("correction", ["bonferroni", "fdr_bh", None])
def test_fast_ks_decisions_equal_scipy_auto(mlkit_rng, correction):
    """The default fast p-values never flip a decision scipy's own p-values would make."""
    n_cols = 60
    ref = pd.DataFrame(mlkit_rng.normal(size=(800, n_cols))).rename(columns=str)
    shifts = np.linspace(0, 0.35, n_cols)
    cur = pd.DataFrame(mlkit_rng.normal(size=(700, n_cols)) + shifts).rename(columns=str)
    kwargs = {"tests": ["ks"], "correction": correction, "decision": "pvalue"}
    fast = DriftDetector(**kwargs).fit(ref).test(cur).to_frame()
    auto = DriftDetector(ks_method="auto", **kwargs).fit(ref).test(cur).to_frame()
    np.testing.assert_array_equal(fast.drifted, auto.drifted)
    np.testing.assert_array_equal(fast.statistic, auto.statistic)


def test_false_positive_rates_on_null_data():
    """Per-column rejection rate is alpha within binomial tolerance; Bonferroni's FWER <= alpha."""
    rng = np.random.default_rng(20261126)
    trials, n_cols, alpha = 400, 10, 0.05
    per_column = bonf_family = 0
    for _ in range(trials):
        ref = pd.DataFrame(rng.normal(size=(300, n_cols))).rename(columns=str)
        cur = pd.DataFrame(rng.normal(size=(200, n_cols))).rename(columns=str)
        raw = DriftDetector(tests=["ks"], correction=None, decision="pvalue").fit(ref).test(cur)
        per_column += int(raw.to_frame().drifted.sum())
        bonf = DriftDetector(tests=["ks"], decision="pvalue").fit(ref).test(cur)
        bonf_family += bool(bonf.drifted_columns)
    n = trials * n_cols
    rate = per_column / n
    sd = np.sqrt(alpha * (1 - alpha) / n)
    # KS p-values of discrete statistics are conservative: the rate sits at or below alpha.
    assert alpha - 4 * sd - 0.01 <= rate <= alpha + 4 * sd
    assert bonf_family / trials <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / trials)


def test_nan_policies(reference, mlkit_rng):
    cur = make_frame(mlkit_rng, 500, null_share=0.1)
    with pytest.raises(DataError, match="'score'") as info:
        DriftDetector(nan_policy="raise").fit(reference).test(cur)
    assert info.value.column == "score"
    report = DriftDetector(nan_policy="propagate").fit(reference).test(cur)
    assert "propagate" in report.untestable["score"]
    omit = DriftDetector().fit(reference).test(cur).to_frame().set_index(["column", "test"])
    assert (
        omit.loc[("score", "ks"), "n_current"] + omit.loc[("score", "ks"), "missing_current"]
        == 500
    )


def test_bad_input_raises_clear_errors(reference):
    with pytest.raises(DataError, match="at least 2"):
        DriftDetector().fit(reference.head(1))
    with pytest.raises(NotFittedError, match="fit"):
        DriftDetector().test(reference)
    det = DriftDetector().fit(reference)
    with pytest.raises(DataError, match="no rows"):
        det.test(reference.head(0))
    with pytest.raises(DataError, match="DataFrame"):
        det.test([1, 2, 3])
    with pytest.raises(DataError, match="duplicated column name 'a'"):
        DriftDetector().fit(pd.DataFrame([[1.0, 2.0]] * 3, columns=["a", "a"]))
    with pytest.raises(DataError, match="'nope'"):
        DriftDetector(categorical=["nope"]).fit(reference)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"correction": "holm"}, "correction"),
        ({"tests": ["kss"]}, "test"),
        ({"tests": "ks"}, "list"),
        ({"bins": 1}, "bins"),
        ({"thresholds": {"psi": -1}}, "threshold"),
        ({"decision": "maybe"}, "decision"),
        ({"drift_share": 0}, "drift_share"),
    ],
)
def test_bad_parameters_raise_configuration_errors(reference, params, match):
    with pytest.raises(ConfigurationError, match=match):
        DriftDetector(**params).fit(reference)


def test_chunks_by_size_equal_testing_each_chunk(detector, mlkit_rng):
    cur = pd.concat([make_frame(mlkit_rng, 700), make_frame(mlkit_rng, 700, shift=0.6)])
    cur = cur.reset_index(drop=True)
    chunks = detector.test_chunks(cur, size=500)
    assert sorted(chunks.chunk.unique()) == [0, 1, 2]
    assert list(chunks.columns[:5]) == [
        "chunk",
        "chunk_start",
        "chunk_end",
        "chunk_rows",
        "chunk_drifted",
    ]
    for i, part in enumerate([cur.iloc[:500], cur.iloc[500:1000], cur.iloc[1000:]]):
        alone = detector.test(part).to_frame()
        got = chunks[chunks.chunk == i].reset_index(drop=True)
        np.testing.assert_allclose(got.statistic, alone.statistic, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(got.p_value, alone.p_value, rtol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(got.drifted, alone.drifted)
        assert got.chunk_rows.iloc[0] == len(part)
    assert chunks.chunk_end.max() == len(cur) - 1


def test_chunks_by_time(detector, mlkit_rng):
    cur = make_frame(mlkit_rng, 900, shift=0.0)
    cur["ts"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(np.arange(900) * 5, unit="min")
    chunks = detector.test_chunks(cur, by="ts", freq="1D")
    starts = sorted(chunks.chunk_start.unique())
    assert [str(s.date()) for s in starts] == [
        "2024-03-01",
        "2024-03-02",
        "2024-03-03",
        "2024-03-04",
    ]
    day2 = cur[(cur.ts >= "2024-03-02") & (cur.ts < "2024-03-03")].drop(columns="ts")
    alone = detector.test(day2).to_frame()
    got = chunks[chunks.chunk_start == pd.Timestamp("2024-03-02")].reset_index(drop=True)
    np.testing.assert_allclose(got.statistic, alone.statistic, rtol=1e-12, equal_nan=True)
    with pytest.raises(ConfigurationError, match="exactly one"):
        detector.test_chunks(cur)
    with pytest.raises(DataError, match="'when'"):
        detector.test_chunks(cur, by="when")


def test_small_batches_against_a_large_reference_use_the_search_paths(mlkit_rng):
    ref = pd.DataFrame(
        {"x": mlkit_rng.normal(size=50_000), "y": mlkit_rng.exponential(size=50_000)}
    )
    det = DriftDetector(tests=["ks", "wasserstein"], ks_method="auto").fit(ref)
    cur = pd.DataFrame(
        {"x": mlkit_rng.normal(0.2, size=300), "y": mlkit_rng.exponential(size=300)}
    )
    frame = det.test(cur).to_frame().set_index(["column", "test"])
    for col in ["x", "y"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = stats.ks_2samp(ref[col], cur[col])
        assert frame.loc[(col, "ks"), "statistic"] == pytest.approx(expected.statistic, abs=1e-15)
        w = stats.wasserstein_distance(ref[col], cur[col]) / ref[col].std(ddof=0)
        assert frame.loc[(col, "wasserstein"), "statistic"] == pytest.approx(w, rel=1e-9)


def test_pandas_extension_dtypes_and_odd_columns(mlkit_rng):
    """Nullable, string, categorical, mixed-object, constant and empty columns all work."""
    n = 400
    ref = pd.DataFrame(
        {
            "i64": pd.array(mlkit_rng.integers(0, 100, n), dtype="Int64"),
            "f64": pd.array(mlkit_rng.normal(size=n), dtype="Float64"),
            "flag": pd.array(mlkit_rng.random(n) < 0.5, dtype="boolean"),
            "text": pd.array(mlkit_rng.choice(["a", "b", "c"], n), dtype="string"),
            "cat": pd.Categorical(mlkit_rng.choice(["x", "y"], n)),
            "mixed": pd.Series(mlkit_rng.choice(np.array([1, "one", None], dtype=object), n)),
            "const": np.ones(n),
            "empty": np.full(n, np.nan),
        }
    )
    ref.loc[3, ["i64", "f64", "flag", "text"]] = pd.NA
    det = DriftDetector().fit(ref)
    kinds = dict(zip(det.profile_.columns, det.profile_.kinds, strict=True))
    assert kinds == {
        "i64": "numeric",
        "f64": "numeric",
        "flag": "categorical",
        "text": "categorical",
        "cat": "categorical",
        "mixed": "categorical",
        "const": "numeric",
        "empty": "numeric",
    }
    cur = ref.sample(300, random_state=1).reset_index(drop=True).assign(const=2.0)
    report = det.test(cur)
    assert report.drifted_columns == ("const",)  # a constant that moved has drifted
    assert report.untestable == {"empty": "no values in reference"}
    frame = report.to_frame()
    assert frame.reason[frame.column == "f64"].isna().all()
    assert frame.reason[frame.column == "empty"].tolist() == ["no values in reference"] * 4


def test_infinite_values_count_as_missing_and_break_nothing():
    """inf - inf has no value: infinities are counted as missing, never as a crash or NaN."""
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    ref.loc[0, "a"] = np.inf
    cur = pd.DataFrame({"a": np.r_[rng.normal(size=297), np.inf, -np.inf, np.nan]})
    cur["b"] = rng.normal(size=300)
    before = cur.copy()
    table = DriftDetector().fit(ref).test(cur).to_frame().set_index(["column", "test"])
    pd.testing.assert_frame_equal(cur, before)  # the caller's frame is not touched
    assert table.loc[("a", "ks"), "missing_reference"] == 1
    assert table.loc[("a", "ks"), "missing_current"] == 3
    finite_ref = ref["a"][np.isfinite(ref["a"])]
    finite_cur = cur["a"][np.isfinite(cur["a"])]
    expected = stats.ks_2samp(finite_ref, finite_cur).statistic
    assert table.loc[("a", "ks"), "statistic"] == pytest.approx(expected, abs=1e-12)
    assert np.isfinite(table.loc[("a", "wasserstein"), "statistic"])
    with pytest.raises(DataError, match="'a' has 3 missing"):
        DriftDetector(nan_policy="raise").fit(ref.drop(index=0)).test(cur)
