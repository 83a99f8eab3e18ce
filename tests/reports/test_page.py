from __future__ import annotations

import json
import math
import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

from mlkit.errors import ConfigurationError, MissingDependencyError
from mlkit.reports import HtmlReport, Section, line_chart, page, save_json

EXTERNAL = re.compile(
    r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?!#)[^"'\s>]""", re.I
)


def assert_self_contained(html: str) -> None:
    """No attribute loads anything: every src/href is a #fragment; no CSS url() or @import."""
    assert not EXTERNAL.findall(html), EXTERNAL.findall(html)[:5]
    assert not re.findall(r"""url\(\s*(?!["']?#)""", html)  # only url(#local-clip-path)
    assert "@import" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "//cdn" not in html


def test_page_escapes_every_user_string():
    """Title, subtitle, summary, section text and table cells are escaped."""
    evil = "<script>alert(1)</script>"
    report = page(
        evil,
        [
            Section(
                evil,
                text=evil,
                table=pd.DataFrame({evil: [evil], "status": ["fail"]}),
                status="fail",
            )
        ],
        summary={evil: evil},
        subtitle=evil,
    )
    assert evil not in report.html
    assert report.html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    assert report.html.count("<script>") == 1  # the page's own sorting script
    assert_self_contained(report.html)


def test_page_layout_pieces():
    chart = line_chart([0, 1], {"a": [0.0, 1.0]})
    report = page(
        "Title",
        [
            Section("First", text="one\ntwo\n\nthree", charts=(chart,), status="ok"),
            Section("Second", table=pd.DataFrame({"x": [1.5, np.nan], "status": ["ok", "warn"]})),
        ],
        summary={"rows": "10"},
    )
    html = report.html
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<p class="text">') == 2  # blank line = new paragraph
    assert html.count("<svg") == 1
    assert 'class="card ok"' in html
    assert 'class="card info"' in html
    assert 'class="pill ok' in html
    assert 'class="pill warn' in html
    assert "—" in html  # NaN shown as a dash
    assert "Generated" in html
    assert_self_contained(html)


def test_page_is_deterministic_with_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    sections = [Section("s", text="t", charts=(line_chart([0, 1], {"a": [1, 2]}),))]
    first = page("p", sections).html
    second = page("p", sections).html
    assert first == second
    assert "2023-11-14 22:13:20 UTC" in first


def test_section_validates_status_and_accepts_one_chart():
    with pytest.raises(ConfigurationError, match="'bad' is not one of"):
        Section("x", status="bad")  # type: ignore[arg-type]
    assert Section("x", charts="<svg></svg>").charts == ("<svg></svg>",)


def test_page_rejects_non_sections():
    with pytest.raises(ConfigurationError, match="section 0 is a str"):
        page("p", ["not a section"])  # type: ignore[list-item]


def test_save_is_atomic_and_replaces(tmp_path):
    report = page("p", [Section("s")])
    target = tmp_path / "sub" / "report.html"
    assert report.save(target) == target
    assert target.read_text(encoding="utf-8") == report.html
    page("q", [Section("s")]).save(target)
    assert "<title>q</title>" in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        page("p", [Section("s")]).save(target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left


def test_repr_and_notebook_view():
    report = HtmlReport(title="t", html='<p>"x" & y</p>')
    assert repr(report) == "HtmlReport(title='t', html=<14 characters>)"
    frame = report._repr_html_()
    assert frame.startswith("<iframe srcdoc=")
    assert "&lt;p&gt;&quot;x&quot; &amp; y&lt;/p&gt;" in frame


def test_save_json_nan_inf_numpy(tmp_path):
    data = {
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "ints": np.arange(3),
        "nested": [{"x": np.float32(1.5), "t": pd.Timestamp("2024-01-02")}],
        "none": pd.NA,
    }
    path = save_json(data, tmp_path / "out.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert "Infinity" not in text
    loaded = json.loads(text)
    assert loaded == {
        "nan": None,
        "inf": "inf",
        "ints": [0, 1, 2],
        "nested": [{"x": 1.5, "t": "2024-01-02T00:00:00"}],
        "none": None,
    }


def test_save_json_of_a_drift_report(tmp_path, drift_case):
    report, _, _ = drift_case
    path = save_json(report, tmp_path / "drift.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["drifted_columns"] == list(report.drifted_columns)
    assert any(row["p_value"] is None for row in loaded["rows"])  # NaN p-values -> null


def test_save_json_rejects_what_it_cannot_write(tmp_path):
    with pytest.raises(ConfigurationError, match="needs an object with to_dict"):
        save_json(object(), tmp_path / "x.json")
    with pytest.raises(ConfigurationError, match="cannot write a object value"):
        save_json({"x": object()}, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"mlkit\[report\]"):
        line_chart([0, 1], {"a": [0, 1]})


def test_missing_jinja2_names_the_extra(monkeypatch):
    page("warm the template cache", [Section("s")])
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(MissingDependencyError, match="jinja2"):
        page("p", [Section("s")])


def test_missing_matplotlib_in_drift_html(monkeypatch, drift_case):
    from mlkit.reports import drift_html

    report, ref, cur = drift_case
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match="report"):
        drift_html(report, ref, cur)


def test_importing_reports_loads_neither_matplotlib_nor_jinja2():
    import subprocess

    code = (
        "import sys, mlkit.reports; "
        "print(sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_number_formatting():
    from mlkit.reports._html import format_number

    assert format_number(math.nan) == ("—", None)
    assert format_number(1234567.0)[0] == "1.23e+06"
    assert format_number(0.000012)[0] == "1.2e-05"
    assert format_number(12345)[0] == "12,345"
    assert format_number(True) == ("yes", 1.0)
    assert format_number("text") == ("text", None)


def test_section_tables_are_capped_and_infinities_sort():
    frame = pd.DataFrame({"x": np.r_[np.inf, -np.inf, np.arange(1500.0)]})
    html = page("p", [Section("big", table=frame)]).html
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == 1000
    assert "502 more rows not shown" in html
    assert 'data-v="Infinity"' in html
    assert 'data-v="-Infinity"' in html


def test_non_default_index_becomes_a_column():
    frame = pd.DataFrame({"auc": [0.9, 0.8]}, index=pd.Index(["v1", "v2"], name="model"))
    html = page("p", [Section("t", table=frame)]).html
    assert ">model</th>" in html
    assert ">v2</td>" in html
