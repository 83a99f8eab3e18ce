from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mlkit.drift import DriftDetector
from mlkit.errors import ConfigurationError, DataError
from mlkit.reports import drift_html
from mlkit.reports._column_charts import BINS, FINE, bin_numeric, top_categories


def body_rows(html: str) -> list[str]:
    table = html.split('class="sortable drift-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S)


def first_cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", re.findall(r"<td.*?</td>", r, re.S)[0]) for r in body_rows(html)
    ]


def test_one_row_per_column_drifted_first(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur).html
    names = first_cells(html)
    assert len(names) == ref.shape[1]  # tested and untestable, not the extra column
    drifted = len(report.drifted_columns)
    assert drifted >= 3
    import html as html_lib

    shown = [html_lib.unescape(n) for n in names]
    assert set(shown[:drifted]) == set(report.drifted_columns)
    assert shown[-1] == "when"  # untestable last


def test_verdict_banner_and_settings(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur, title="Weekly").html
    assert "<title>Weekly</title>" in html
    n_drifted, n_tested = len(report.drifted_columns), len(report.tested_columns)
    assert f"{n_drifted} of {n_tested} tested columns drifted" in html
    expected = "Dataset drift detected" if report.drifted else "No dataset drift"
    assert expected in html
    for fact in ("alpha", "correction", "decision", "drift share"):
        assert f"<dt>{fact}</dt>" in html


def test_scores_missing_and_unseen_are_shown(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur).html
    for header in (
        "KS statistic",
        "KS p-value",
        "chi2 p-value",
        "PSI",
        "Wasserstein",
        "TVD",
        "unseen values",
    ):
        assert f">{header}</th>" in html
    hour = next(r for r in body_rows(html) if ">hour<" in r)
    assert 'class="flag num" title="the missing rate changed significantly"' in hour
    assert "33.5%" in hour  # 201 of 600 missing in current
    merchant = next(r for r in body_rows(html) if ">merchant<" in r)
    frame = report.to_frame()
    unseen = int(frame.loc[frame["column"] == "merchant", "unseen_categories"].iloc[0])
    assert unseen > 0
    assert f'class="flag num">{unseen}</td>' in merchant  # current values of new categories


def test_untestable_and_extra_columns_are_listed(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur).html
    assert "Untestable columns (1)" in html
    assert "<code>when</code>: dtype datetime64" in html
    assert "Extra columns (1)" in html
    assert "<code>extra</code>" in html


def test_one_chart_per_tested_column(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur).html
    assert html.count('<figure class="chart column') == len(report.tested_columns)
    assert html.count("<svg") == len(report.tested_columns)
    assert "omitted" not in html


def test_max_charts_keeps_drifted_first_and_says_how_many_were_left_out(drift_case):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur, max_charts=2).html
    assert html.count("<svg") == 2
    omitted = len(report.tested_columns) - 2
    assert f"{omitted} more column charts omitted (max_charts=2)" in html
    captions = re.findall(r'<span class="name">(.*?)</span>', html)
    import html as html_lib

    assert all(html_lib.unescape(c) in report.drifted_columns for c in captions)
    assert drift_html(report, ref, cur, max_charts=0).html.count("<svg") == 0


def test_hostile_column_names_are_escaped(drift_case, names):
    report, ref, cur = drift_case
    html = drift_html(report, ref, cur).html
    assert names["script"] not in html
    assert names["hostile"] not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1
    assert names["dollar"] in html  # no mathtext: the dollar signs stay
    assert "http://" not in html
    assert "https://" not in html


def test_output_is_deterministic(drift_case, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    report, ref, cur = drift_case
    assert drift_html(report, ref, cur).html == drift_html(report, ref, cur).html


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_bad_max_charts(drift_case, bad):
    report, ref, cur = drift_case
    with pytest.raises(ConfigurationError, match="max_charts must be a non-negative integer"):
        drift_html(report, ref, cur, max_charts=bad)


def test_frames_without_a_tested_column(drift_case):
    report, ref, cur = drift_case
    with pytest.raises(DataError, match="column 'amount' was tested but is not in the current"):
        drift_html(report, ref, cur.drop(columns=["amount"]))


def test_edge_columns_constant_all_missing_and_no_drift():
    ref = pd.DataFrame({"c": np.ones(50), "n": np.arange(50.0), "k": ["a"] * 50})
    cur = pd.DataFrame({"c": np.ones(50), "n": np.full(50, np.nan), "k": ["a"] * 50})
    report = DriftDetector().fit(ref).test(cur)
    html = drift_html(report, ref, cur).html
    assert len(body_rows(html)) == 3
    assert html.count("<svg") == len(report.tested_columns)


def test_bin_numeric_matches_numpy_histogram():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(2000, 3))
    cur = rng.normal(0.5, 1.0, size=(1500, 3))
    cur[:100, 1] = np.nan
    bins = bin_numeric(ref, cur)
    assert bins.hist_ref.shape == (3, BINS)
    assert bins.ecdf_cur.shape == (3, FINE + 1)
    np.testing.assert_allclose(bins.hist_ref.sum(axis=1), 1.0)
    np.testing.assert_allclose(bins.hist_cur.sum(axis=1), 1.0)
    np.testing.assert_allclose(bins.ecdf_ref[:, -1], 1.0 - (ref > bins.high).mean(axis=0))
    for j in range(3):
        edges = np.linspace(bins.low[j], bins.high[j], BINS + 1)
        clipped = np.clip(ref[:, j], bins.low[j], bins.high[j])
        counts, _ = np.histogram(clipped, edges)
        np.testing.assert_allclose(bins.hist_ref[j], counts / len(ref), atol=1e-12)
    assert np.all(np.diff(bins.ecdf_cur, axis=1) >= 0)


def test_top_categories_pool_the_rest():
    ref = pd.Series(list("aaaabbbccd") * 10)
    cur = pd.Series(list("aabbbbccce") * 10)
    labels, r, c = top_categories(ref, cur, top=2)
    assert labels == ["b", "a", "other (3)"]  # by count over both samples
    np.testing.assert_allclose(r, [0.3, 0.4, 0.3])
    np.testing.assert_allclose(c, [0.4, 0.2, 0.4])


def test_other_tests_get_their_columns(make_frames):
    ref, cur = make_frames(n=200, seed=3)
    report = DriftDetector(tests=["ks", "cvm", "jensen_shannon", "chi2"]).fit(ref).test(cur)
    html = drift_html(report, ref, cur).html
    assert ">CvM p-value</th>" in html
    assert ">JS</th>" in html


def test_bin_range_clips_outliers_but_keeps_short_tails():
    rng = np.random.default_rng(2)
    uniform = rng.uniform(0, 10, size=(5000, 1))
    spiky = np.vstack([rng.normal(size=(4999, 1)), [[1e6]]])
    wide = bin_numeric(np.hstack([uniform, spiky]), np.hstack([uniform, spiky]))
    assert wide.low[0] == uniform.min()  # short tails: the whole range, no end spikes
    assert wide.high[0] == uniform.max()
    assert wide.high[1] < 10  # one outlier does not stretch the axis ...
    assert wide.hist_ref[1, -1] > 0  # ... it is counted in the last bin


def test_non_string_labels_and_nullable_dtypes():
    """Integer column labels, nullable dtypes and categoricals with missing values chart."""
    rng = np.random.default_rng(4)
    n = 300
    ref = pd.DataFrame(
        {
            0: rng.normal(size=n),
            1: rng.integers(0, 3, n),
            "flag": rng.random(n) < 0.3,
            "count": pd.array(rng.integers(0, 1000, n), dtype="Int64"),
            "share": pd.array(rng.random(n), dtype="Float64"),
            "kind": pd.Categorical(rng.choice(["a", "b", None], n)),
        }
    )
    cur = ref.sample(frac=0.9, random_state=1).reset_index(drop=True)
    report = DriftDetector().fit(ref).test(cur)
    html = drift_html(report, ref, cur).html
    assert html.count("<svg") == len(report.tested_columns) == 6


def test_wrong_types_are_clear_errors():
    import numpy as np
    import pandas as pd

    from mlkit.drift import DriftDetector
    from mlkit.errors import ConfigurationError, DataError
    from mlkit.reports import Section

    ref = pd.DataFrame({"a": np.arange(50.0)})
    report = DriftDetector().fit(ref).test(ref)
    with pytest.raises(ConfigurationError, match="needs a DriftReport"):
        drift_html("report", ref, ref)
    with pytest.raises(DataError, match="current must be the pandas DataFrame"):
        drift_html(report, ref, [1, 2])
    with pytest.raises(ConfigurationError, match="Section table"):
        Section("t", table=[1, 2])
