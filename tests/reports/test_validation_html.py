from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from mlkit.errors import ConfigurationError
from mlkit.reports import validation_html
from mlkit.validation import (
    DataQualityMonitor,
    ExpectationResult,
    QualityReport,
    validate,
)

EVIL = "<script>alert(1)</script>"


def rows_of(html: str, title: str) -> int:
    block = html.split(title, 1)[1].split("</table>", 1)[0]
    return len(re.findall(r"<tr[ >]", block.split("<tbody>", 1)[1]))


def test_failed_validation_page():
    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.in_range(0, 120))})
    frame = pd.DataFrame({"age": [30, -1, 200]})
    html = validation_html(validate(frame, schema), title="Check").html
    assert "<title>Check</title>" in html
    assert "Validation failed: worst severity &#39;error&#39;" in html
    assert 'class="banner fail"' in html
    assert "<dt>error</dt><dd>2</dd>" in html
    assert rows_of(html, "Failures (2)") == 2
    for header in ("column", "check", "failure_case", "index", "severity"):
        assert f">{header}</th>" in html
    assert 'class="pill fail"' in html


def test_failure_table_is_capped_with_n_more():
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))})
    frame = pd.DataFrame({"x": -np.arange(1.0, 251.0)})
    html = validation_html(validate(frame, schema)).html
    assert rows_of(html, "Failures (250)") == 200
    assert "50 more not shown (of 250)" in html


def test_passed_validation_and_data_overview():
    schema = pa.DataFrameSchema({"x": pa.Column(float), EVIL: pa.Column(str)})
    frame = pd.DataFrame({"x": [1.0, np.nan], EVIL: ["a", "b"]})
    html = validation_html(validate(frame, schema), data=frame).html
    assert "Validation failed" in html  # NaN in a non-nullable column
    assert EVIL not in html
    assert ">dtype</th>" in html
    assert rows_of(html, '<h2><span class="dot" aria-hidden="true"></span>Data</h2>') == 2


def test_clean_validation_is_ok():
    schema = pa.DataFrameSchema({"x": pa.Column(float)})
    html = validation_html(validate(pd.DataFrame({"x": [1.0]}), schema)).html
    assert "Validation passed: no failures" in html
    assert 'class="banner ok"' in html
    assert "Every check passed." in html


def test_quality_report_page():
    report = QualityReport(
        None,
        (
            ExpectationResult("row_count_between", "error", False, 3, [10, None]),
            ExpectationResult(EVIL, "warning", False, 0.2, 0.1),
            ExpectationResult("null_share_below(a)", "info", True, 0.0, 0.1),
        ),
        timestamp=0.0,
        n_rows=3,
    )
    html = validation_html(report).html
    assert "data quality: failed, worst severity &#39;error&#39;" in html
    assert "Failed checks (2)" in html
    assert "Passed checks (1)" in html
    assert "1970-01-01 00:00:00 UTC" in html
    assert EVIL not in html


def test_quality_report_from_a_monitor():
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))})
    frame = pd.DataFrame({"x": [-1.0, 2.0]})
    report = DataQualityMonitor(schema=schema).check(frame)
    html = validation_html(report, data=frame).html
    assert "Schema failures (1)" in html


def test_rejects_other_objects():
    with pytest.raises(ConfigurationError, match="got a dict"):
        validation_html({})  # type: ignore[arg-type]
