from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mlkit.errors import ConfigurationError
from mlkit.reports import bar_chart, line_chart
from mlkit.reports._charts import clean_svg


def test_line_chart_is_inline_svg_without_prolog_or_urls():
    """The chart inlines in HTML: no XML prolog, DOCTYPE, metadata, namespaces or URLs."""
    svg = line_chart([0, 1, 2], {"auc": [0.9, 0.8, 0.85]}, title="AUC", markers={"drift": 1})
    assert svg.startswith("<svg ")
    assert svg.rstrip().endswith("</svg>")
    for banned in ("<?xml", "<!DOCTYPE", "<metadata", "http://", "https://", "xmlns"):
        assert banned not in svg
    assert "AUC" in svg
    assert "drift" in svg  # the marker's legend entry


def test_charts_are_deterministic():
    """The same chart twice gives the same bytes (no date, fixed ids)."""
    args = ([1, 2, 3], {"a": [1.0, 2.0, 0.5], "b": [0.0, 1.0, 1.5]})
    assert line_chart(*args, title="t") == line_chart(*args, title="t")
    bars = (["x", "y"], {"reference": [0.3, 0.7], "current": [0.6, 0.4]})
    assert bar_chart(*bars) == bar_chart(*bars)


def test_chart_text_is_escaped_and_dollar_is_literal():
    """Labels are XML-escaped by matplotlib and ``$`` does not start mathtext."""
    svg = bar_chart(["<script>alert(1)</script>", "$x$"], {"<b>s</b>": [1.0, 2.0]}, title="$5")
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert ">$x$<" in svg
    assert ">$5<" in svg


def test_chart_ids_are_not_matplotlib_generated():
    """Generic ids like figure_1 are stripped: several charts can share a page."""
    svg = line_chart([0, 1], {"a": [0, 1]})
    assert not re.search(r'id="(figure|axes|patch|line2d|text)_\d+"', svg)


def test_nan_leaves_a_gap_and_numpy_input_works():
    svg = line_chart(np.arange(4), {"a": np.array([1.0, math.nan, 2.0, 3.0])})
    assert svg.count("<svg") == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: line_chart([0, 1, 2], {"a": [1, 2]}), "has 2 values but there are 3"),
        (lambda: line_chart([0, 1], {"a": ["x", "y"]}), "not a number"),
        (lambda: bar_chart(["a"], {"s": [1, 2]}), "has 2 values"),
    ],
)
def test_bad_series_raise_configuration_error(call, message):
    with pytest.raises(ConfigurationError, match=message):
        call()


def test_clean_svg_strips_prolog_and_metadata():
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'width="1pt"><metadata><x>https://example.org</x></metadata>'
        '<g id="figure_1"><path d="M 0 0"/></g></svg>'
    )
    out = clean_svg(raw)
    assert out.startswith('<svg class="mlkit-chart"')
    assert "http" not in out
    assert 'id="figure_1"' not in out
    assert '<path d="M 0 0"/>' in out
