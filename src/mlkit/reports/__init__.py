"""Reports: self-contained HTML and JSON rendering of drift, validation and test results.

One file per report, no network access needed to view it: CSS, the small
table-sorting script and the charts (matplotlib, as inline SVG) are all in the
page. :func:`drift_html` and :func:`validation_html` render the library's
reports; :func:`page`, :class:`Section`, :func:`line_chart` and
:func:`bar_chart` build any other page; :func:`save_json` writes any result as
strict JSON. matplotlib and Jinja2 come from the ``report`` extra and are
imported on first use.
"""

from mlkit.reports._charts import bar_chart, line_chart
from mlkit.reports._drift import drift_html
from mlkit.reports._html import HtmlReport, Section, page
from mlkit.reports._json import save_json
from mlkit.reports._validation import validation_html

__all__ = [
    "HtmlReport",
    "Section",
    "bar_chart",
    "drift_html",
    "line_chart",
    "page",
    "save_json",
    "validation_html",
]
