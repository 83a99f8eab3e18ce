"""The reports in a real browser: headless Chromium loads them from file:// URLs.

Each test asserts on the rendered DOM, that nothing was logged as an error,
that the page asked for no URL but its own file, and leaves a screenshot in
the artifact folder (see browser_support).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from browser_support import open_file
from mlkit.reports import Section, bar_chart, drift_html, line_chart, page, validation_html
from mlkit.validation import validate


def column_values(page_, column: int) -> list[float | None]:
    """The sort keys (data-v) of one column of the drift table, in displayed order."""
    values = page_.eval_on_selector_all(
        "table.drift-table tbody tr",
        f"rows => rows.map(r => r.cells[{column}].getAttribute('data-v'))",
    )
    return [None if v is None else float(v) for v in values]


def header_index(page_, text: str) -> int:
    headers = page_.eval_on_selector_all(
        "table.drift-table thead th", "cells => cells.map(c => c.textContent.trim())"
    )
    return headers.index(text)


def is_sorted(values: list[float | None], descending: bool = False) -> bool:
    present = [v for v in values if v is not None]
    if any(v is not None for v in values[len(present) :]):
        return False  # empty cells must come last
    pairs = itertools.pairwise(present)
    return all((a >= b) if descending else (a <= b) for a, b in pairs)


def test_drift_report_in_chromium(browser, artifact_dir, tmp_path, drift_case, names):
    report, ref, cur = drift_case
    path = drift_html(report, ref, cur, title="Drift in the browser").save(tmp_path / "d.html")
    with open_file(browser, path, screenshot=artifact_dir / "drift_report.png") as loaded:
        p = loaded.page
        rows = p.locator("table.drift-table tbody tr")
        assert rows.count() == ref.shape[1]
        charts = p.locator(".grid figure.chart svg")
        assert charts.count() == len(report.tested_columns)
        assert p.locator(".grid figure.chart").count() == len(report.tested_columns)
        verdict = p.locator("#verdict .headline").inner_text()
        assert verdict == ("Dataset drift detected" if report.drifted else "No drift detected")
        # Drifted first by default.
        first = p.locator("table.drift-table tbody tr td:nth-child(3)").all_inner_texts()
        k = len(report.drifted_columns)
        assert [t.strip() for t in first[:k]] == ["drifted"] * k
        # The hostile names are shown as text and ran nothing.
        assert p.get_by_text(names["script"], exact=True).count() >= 1
        assert p.evaluate("window.__xss === undefined")
        # Click a numeric header: ascending, then descending; empty cells stay last.
        col = header_index(p, "KS p-value")
        header = p.locator("table.drift-table thead th").nth(col)
        before = column_values(p, col)
        header.click()
        ascending = column_values(p, col)
        assert sorted(map(str, ascending)) == sorted(map(str, before))
        assert is_sorted(ascending)
        assert header.get_attribute("aria-sort") == "ascending"
        header.click()
        assert is_sorted(column_values(p, col), descending=True)
        assert header.get_attribute("aria-sort") == "descending"
        # A text header sorts alphabetically.
        p.locator("table.drift-table thead th").nth(0).click()
        names_shown = p.locator("table.drift-table tbody tr td:first-child").all_inner_texts()
        assert names_shown == sorted(names_shown, key=str.lower)
        # Charts have real axes: tick labels are there as text.
        assert p.locator(".grid svg text").count() > 10 * charts.count()
        # The table links to the charts.
        p.locator("table.drift-table tbody a").first.click()
        assert p.evaluate("location.hash").startswith("#chart-")
    assert loaded.problems() == []
    assert all(url.startswith("file:") for url in loaded.requests)
    assert (artifact_dir / "drift_report.png").stat().st_size > 10_000


def test_page_and_validation_in_chromium(browser, artifact_dir, tmp_path):
    x = np.arange(30)
    generic = page(
        "Demo page",
        [
            Section(
                "Monitoring",
                text="AUC over time.\n\nDrift injected at 15.",
                charts=(
                    line_chart(x, {"auc": 0.9 - 0.004 * x}, markers={"drift injected": 15}),
                    bar_chart(["a", "b"], {"reference": [0.5, 0.5], "current": [0.7, 0.3]}),
                ),
                status="warn",
            ),
            Section(
                "Gate",
                table=pd.DataFrame({"check": ["auc", "latency"], "status": ["ok", "fail"]}),
                status="fail",
            ),
        ],
        summary={"model": "fraud v2"},
    )
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))})
    frame = pd.DataFrame({"x": -np.arange(1.0, 301.0)})
    validation = validation_html(validate(frame, schema), data=frame)
    for name, report in (("page", generic), ("validation_report", validation)):
        path = report.save(tmp_path / f"{name}.html")
        with open_file(browser, path, screenshot=artifact_dir / f"{name}.png") as loaded:
            p = loaded.page
            assert p.locator("h1").inner_text() == report.title
            if name == "page":
                assert p.locator("section.card").count() == 2
                assert p.locator("figure.chart svg").count() == 2
                assert p.locator("td.pill.fail").inner_text().strip() == "fail"
            else:
                assert "Validation failed" in p.locator("#verdict").inner_text()
                failures = p.locator("section.card").nth(1)
                assert failures.locator("tbody tr").count() == 200
                assert "100 more not shown" in failures.inner_text()
        assert loaded.problems() == [], name


@pytest.mark.parametrize("n_columns", [60])
def test_wide_drift_report_renders(browser, tmp_path, n_columns):
    """A wider report: every row and chart is in the DOM and the page has no errors."""
    from mlkit.drift import DriftDetector

    rng = np.random.default_rng(5)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=500) for i in range(n_columns)})
    cur = ref + rng.normal(0, 0.3, size=ref.shape) * (np.arange(n_columns) % 4 == 0)
    report = DriftDetector().fit(ref).test(cur)
    path = drift_html(report, ref, cur, max_charts=25).save(tmp_path / "wide.html")
    with open_file(browser, path) as loaded:
        p = loaded.page
        assert p.locator("table.drift-table tbody tr").count() == n_columns
        assert p.locator(".grid svg").count() == 25
        assert f"{n_columns - 25} more column charts omitted" in p.content()
        heights = p.eval_on_selector_all(
            ".grid svg", "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert all(h > 50 and not math.isnan(h) for h in heights)
    assert loaded.problems() == []


def test_the_harness_catches_network_requests_and_errors(browser, tmp_path):
    """The checks above can fail: a page that fetches a URL and logs errors is caught."""
    path = tmp_path / "bad.html"
    path.write_text(
        "<!DOCTYPE html><html><body>"
        '<img src="http://example.invalid/x.png">'
        "<script>console.error('boom'); undefinedFunction();</script>"
        "</body></html>",
        encoding="utf-8",
    )
    with open_file(browser, path) as loaded:
        pass
    assert loaded.blocked == ["http://example.invalid/x.png"]
    assert "boom" in loaded.console_errors
    assert any("undefinedFunction" in e for e in loaded.page_errors)
