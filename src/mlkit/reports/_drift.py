"""The drift report page: verdict, a sortable per-column table and per-column charts."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlkit._optional import require
from mlkit.errors import ConfigurationError
from mlkit.reports._html import Banner, Block, Cell, Figure, Table, format_number, render

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.drift import DriftReport
    from mlkit.reports._html import HtmlReport

__all__ = ["drift_html"]

logger = logging.getLogger(__name__)

#: Display names of the tests, in the order their columns appear in the table.
TEST_NAMES = {
    "ks": "KS",
    "cvm": "CvM",
    "chi2": "chi2",
    "psi": "PSI",
    "wasserstein": "Wasserstein",
    "jensen_shannon": "JS",
    "hellinger": "Hellinger",
    "tvd": "TVD",
}
_P_TESTS = frozenset({"ks", "cvm", "chi2"})


class _Column:
    """Everything the page shows about one reference column."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.tests: dict[str, dict[str, Any]] = {}
        self.missing: dict[str, Any] | None = None
        self.n_reference = 0
        self.n_current = 0
        self.missing_reference = 0
        self.missing_current = 0
        self.unseen = 0
        self.reason = ""
        self.note = ""
        self.drifted = False
        self.tested = False

    def rank(self) -> tuple[int, int, float, float]:
        """Sort key: drifted first, then untested last, then strongest evidence first."""
        ps = [t["p_value"] for n, t in self.tests.items() if n in _P_TESTS]
        ps = [p for p in ps if p is not None and math.isfinite(p)]
        ratios = []
        for name, test in self.tests.items():
            if name in _P_TESTS:
                continue
            stat, threshold = test["statistic"], test["threshold"]
            if math.isfinite(stat) and math.isfinite(threshold) and threshold > 0:
                ratios.append(stat / threshold)
        min_p = min(ps) if ps else 2.0
        return (0 if self.drifted else 1, 0 if self.tested else 1, min_p, -max(ratios or [0.0]))


def _float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _columns(report: DriftReport, reference: pd.DataFrame) -> list[_Column]:
    frame = report.to_frame()
    by_name: dict[str, _Column] = {}
    records = frame.to_dict("records")
    for row in records:
        name = str(row["column"])
        col = by_name.get(name)
        if col is None:
            col = by_name[name] = _Column(name, str(row["kind"]))
            col.n_reference = int(row["n_reference"])
            col.n_current = int(row["n_current"])
            col.missing_reference = int(row["missing_reference"])
            col.missing_current = int(row["missing_current"])
            col.unseen = int(row["unseen_categories"])
        if row["reason"] and not col.reason:
            col.reason = str(row["reason"])
        if row.get("note") and not col.note:
            col.note = str(row["note"])
        entry = {
            "statistic": _float(row["statistic"]),
            "p_value": _float(row["p_value"]),
            "threshold": _float(row["threshold"]),
            "drifted": bool(row["drifted"]),
        }
        if row["test"] == "missing":
            col.missing = entry
        else:
            col.tests[str(row["test"])] = entry
    drifted = {str(c) for c in report.drifted_columns}
    tested = {str(c) for c in report.tested_columns}
    for name, col in by_name.items():
        col.drifted = name in drifted
        col.tested = name in tested
    for label, reason in report.untestable.items():
        name = str(label)
        col = by_name.get(name)
        if col is None:
            col = by_name[name] = _Column(name, "unsupported")
        col.reason = col.reason or str(reason)
        col.tested = False
    order = {str(c): i for i, c in enumerate(reference.columns)}
    return sorted(by_name.values(), key=lambda c: order.get(c.name, len(order)))


def _rate(missing: int, n: int) -> float:
    total = missing + n
    return missing / total if total else math.nan


def _pct(value: float) -> Cell:
    if math.isnan(value):
        return Cell("—")
    return Cell(f"{100 * value:.1f}%", sort=value)


def _test_order(columns: Sequence[_Column]) -> list[str]:
    seen: dict[str, None] = {}
    for col in columns:
        for name in col.tests:
            seen.setdefault(name, None)
    known = [t for t in TEST_NAMES if t in seen]
    return known + [t for t in seen if t not in TEST_NAMES]


def _table(
    columns: Sequence[_Column], tests: Sequence[str], anchors: dict[str, str], corrected: bool
) -> Table:
    headers = ["column", "kind", "verdict"]
    numeric = [False, False, False]
    for test in tests:
        label = TEST_NAMES.get(test, test)
        if test in _P_TESTS:
            headers += [f"{label} statistic", f"{label} p-value"]
            numeric += [True, True]
        else:
            headers.append(label)
            numeric.append(True)
    headers += ["missing ref", "missing cur", "unseen values", "note"]
    numeric += [True, True, True, False]
    rows = []
    row_css = []
    for col in columns:
        if col.drifted:
            verdict, status = "drifted", "fail"
        elif col.tested:
            verdict, status = "stable", "ok"
        else:
            verdict, status = "untestable", "warn"
        cells = [
            Cell(col.name, href=anchors.get(col.name, "")),
            Cell(col.kind),
            Cell(verdict, css=f"pill {status}"),
        ]
        for test in tests:
            entry = col.tests.get(test)
            if entry is None:
                cells.append(Cell("—"))
                if test in _P_TESTS:
                    cells.append(Cell("—"))
                continue
            flag = "flag" if entry["drifted"] else ""
            text, key = format_number(entry["statistic"])
            if test in _P_TESTS:
                cells.append(Cell(text, sort=key))
                p_text, p_key = format_number(entry["p_value"])
                cells.append(
                    Cell(
                        p_text, sort=p_key, css=flag, title=_threshold(entry, "p-value", corrected)
                    )
                )
            else:
                cells.append(
                    Cell(text, sort=key, css=flag, title=_threshold(entry, "statistic", corrected))
                )
        ref_rate = _rate(col.missing_reference, col.n_reference)
        cur_rate = _rate(col.missing_current, col.n_current)
        missing_cell = _pct(cur_rate)
        if col.missing is not None and col.missing["drifted"]:
            missing_cell = Cell(
                missing_cell.text,
                sort=missing_cell.sort,
                css="flag",
                title="the missing rate changed significantly",
            )
        cells += [_pct(ref_rate), missing_cell]
        unseen_text, unseen_key = format_number(col.unseen if col.kind == "categorical" else None)
        cells.append(Cell(unseen_text, sort=unseen_key, css="flag" if col.unseen else ""))
        cells.append(Cell(col.reason or col.note, css="muted wrap"))
        rows.append(tuple(cells))
        row_css.append(status if status != "ok" else "")
    return Table(
        headers=tuple(headers),
        rows=tuple(rows),
        numeric=tuple(numeric),
        row_css=tuple(row_css),
        css="drift-table",
    )


def _threshold(entry: dict[str, Any], what: str, corrected: bool) -> str:
    threshold = entry["threshold"]
    if not math.isfinite(threshold):
        return ""
    if what == "p-value":
        note = " (corrected for multiple tests)" if corrected else ""
        return f"drifted when p-value <= {threshold:.4g}{note}"
    return f"drifted when statistic >= {threshold:.4g}"


def _labels(frame: pd.DataFrame) -> dict[str, Any]:
    """Column name as the report shows it (a string) -> the frame's own label."""
    return {str(label): label for label in frame.columns}


def _float_block(frame: pd.DataFrame, names: Sequence[str]) -> Any:
    import numpy as np
    import pandas as pd

    parts = []
    labels = _labels(frame)
    for name in names:
        values = pd.to_numeric(frame[labels[name]], errors="coerce")
        parts.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
    out = np.column_stack(parts) if parts else np.empty((len(frame), 0))
    out[~np.isfinite(out)] = np.nan
    return out


def _figures(
    charted: Sequence[_Column], reference: pd.DataFrame, current: pd.DataFrame
) -> list[Figure]:
    from mlkit.reports._charts import chart_style
    from mlkit.reports._column_charts import ColumnCharts, bin_numeric, top_categories

    charts = ColumnCharts()
    numeric = [c.name for c in charted if c.kind == "numeric"]
    bins = None
    if numeric:
        bins = bin_numeric(_float_block(reference, numeric), _float_block(current, numeric))
    position = {name: j for j, name in enumerate(numeric)}
    ref_labels, cur_labels = _labels(reference), _labels(current)
    figures = []
    with chart_style():
        for col in charted:
            if col.kind == "numeric" and bins is not None:
                svg = charts.numeric(bins, position[col.name])
            else:
                labels, ref_share, cur_share = top_categories(
                    reference[ref_labels[col.name]], current[cur_labels[col.name]]
                )
                svg = charts.categorical(labels, ref_share, cur_share)
            status = "fail" if col.drifted else "ok"
            detail = f"{col.kind} · {'drifted' if col.drifted else 'stable'}"
            figures.append(Figure(caption=col.name, svg=svg, status=status, detail=detail))
    return figures


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def drift_html(
    report: DriftReport,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    title: str = "Drift report",
    max_charts: int | None = None,
) -> HtmlReport:
    """Render a :class:`~mlkit.drift.DriftReport` as a self-contained HTML page.

    The page has the dataset verdict (drifted or not, the share of drifted
    columns against ``drift_share``, and the settings), a table with one row
    per reference column (kind, verdict, each test's score, missing rate in
    reference and current with its drift flagged, unseen categories, why a
    column could not be tested) that sorts by any header, and a chart per
    tested column: overlaid histograms on shared bins and the two ECDFs for a
    numeric column, side-by-side shares of the most common categories for a
    categorical one. Drifted columns come first.

    Parameters
    ----------
    report
        The result of :meth:`~mlkit.drift.DriftDetector.test`.
    reference, current
        The data the report compared (the reference the detector was fitted
        on, the batch it tested): the charts are drawn from them.
    title
        The page title.
    max_charts
        At most this many column charts (drifted columns first); the page says
        how many were left out. ``None`` charts every tested column.

    Returns
    -------
    HtmlReport
        The document; ``.save(path)`` writes it.

    Raises
    ------
    ConfigurationError
        If ``report`` is not a DriftReport or ``max_charts`` is negative.
    DataError
        If ``reference`` or ``current`` is not a pandas DataFrame, or a column
        the report tested is missing from one of them.
    MissingDependencyError
        If matplotlib or Jinja2 (the ``report`` extra) is not installed.

    Notes
    -----
    Histograms span each column's 0.5 % to 99.5 % quantiles over both samples
    (the whole range when that is at most 1.5 times as wide); values outside
    are counted in the end bins. Shares leave missing values out
    (their rates are in the table).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mlkit.drift import DriftDetector
    >>> from mlkit.reports import drift_html
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"amount": rng.normal(size=500), "shop": rng.choice(["a", "b"], 500)})
    >>> cur = ref.assign(amount=ref["amount"] + 1.0)
    >>> report = DriftDetector().fit(ref).test(cur)
    >>> page = drift_html(report, ref, cur, title="Weekly drift")
    >>> page.html.count('<tr class="fail">'), page.html.count("<svg")
    (1, 2)
    """
    require("matplotlib", "report", "HTML reports")
    require("jinja2", "report", "HTML reports")
    if max_charts is not None and (not isinstance(max_charts, int) or max_charts < 0):
        raise ConfigurationError(
            f"max_charts must be a non-negative integer or None, got {max_charts!r}",
            value=max_charts,
            expected="an integer >= 0, or None",
        )
    import pandas as pd

    from mlkit.drift import DriftReport
    from mlkit.errors import DataError

    if not isinstance(report, DriftReport):
        raise ConfigurationError(
            f"drift_html() needs a DriftReport, got a {type(report).__name__}",
            value=type(report).__name__,
            expected="the DriftReport of DriftDetector.test()",
        )
    for label, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(
                f"drift_html(): {label} must be the pandas DataFrame the report compared "
                f"(charts need its values), got a {type(frame).__name__}",
                value=type(frame).__name__,
                expected="a pandas DataFrame",
            )
    columns = _columns(report, reference)

    known = {"reference": _labels(reference), "current": _labels(current)}
    for col in columns:
        if not col.tested:
            continue
        for label, names in known.items():
            if col.name not in names:
                raise DataError(
                    f"drift_html(): column {col.name!r} was tested but is not in the "
                    f"{label} frame given",
                    column=col.name,
                    value=col.name,
                    expected=f"the {label} data the report was computed from",
                )
    ranked = sorted(columns, key=lambda c: c.rank())
    chartable = [c for c in ranked if c.tested and c.kind in ("numeric", "categorical")]
    limit = len(chartable) if max_charts is None else max_charts
    charted = chartable[:limit]
    omitted = len(chartable) - len(charted)
    anchors = {c.name: f"chart-{i + 1}" for i, c in enumerate(charted)}
    figures = _figures(charted, reference, current)
    figures = [Figure(f.caption, f.svg, f.status, f.detail, anchors[f.caption]) for f in figures]
    tests = _test_order(columns)

    n_tested = len(report.tested_columns)
    n_drifted = len(report.drifted_columns)
    if report.drifted:
        status, headline = "fail", "Dataset drift detected"
    elif n_drifted:
        status, headline = "warn", "No dataset drift, but some columns drifted"
    else:
        status, headline = "ok", "No drift detected"
    detail = (
        f"{n_drifted} of {n_tested} tested columns drifted ({_percent(report.share)}); "
        f"the dataset counts as drifted when at least {_percent(report.drift_share)} do."
    )
    if not n_tested:
        detail = "No column could be tested."
    banner = Banner(
        status=status,
        headline=headline,
        detail=detail,
        facts=(
            ("alpha", f"{report.alpha:g}"),
            ("correction", report.correction or "none"),
            ("decision", report.decision),
            ("drift share", _percent(report.drift_share)),
            ("untestable columns", str(len(report.untestable))),
        ),
    )
    blocks = [
        Block(
            title="Columns",
            status="fail" if n_drifted else "ok",
            paragraphs=(
                "One row per reference column, drifted first. Click a header to sort. "
                "Scores in red crossed their threshold (hover for it); a missing rate in "
                "red changed significantly; unseen values are current values of categories "
                "the reference never had.",
            ),
            table=_table(
                ranked,
                tests,
                {k: f"#{v}" for k, v in anchors.items()},
                corrected=report.correction is not None,
            ),
        )
    ]
    chart_text = [
        "Reference in blue, current in orange. Numeric columns: histograms on shared "
        "bins and the empirical CDFs; categorical columns: the shares of the most common "
        "categories, the rest pooled as other."
    ]
    if omitted:
        chart_text.append(
            f"{omitted} more column charts omitted (max_charts={max_charts}); "
            "drifted columns are charted first."
        )
    if charted or omitted:
        blocks.append(
            Block(
                title=f"Column charts ({len(charted)} of {len(chartable)})",
                status="info",
                paragraphs=tuple(chart_text),
                figures=tuple(figures),
            )
        )
    if report.untestable:
        blocks.append(
            Block(
                title=f"Untestable columns ({len(report.untestable)})",
                status="warn",
                paragraphs=("These reference columns were not tested:",),
                items=tuple((str(k), str(v)) for k, v in report.untestable.items()),
            )
        )
    if report.extra_columns:
        blocks.append(
            Block(
                title=f"Extra columns ({len(report.extra_columns)})",
                status="info",
                paragraphs=("In the current data but not in the reference, so not tested:",),
                items=tuple((str(c), "") for c in report.extra_columns),
            )
        )
    summary = {
        "reference rows": f"{len(reference):,}",
        "current rows": f"{len(current):,}",
        "columns": f"{len(columns):,}",
        "drifted": f"{n_drifted:,} of {n_tested:,}",
    }
    logger.debug("drift page: %d columns, %d charts", len(columns), len(charted))
    return render(
        title=title,
        blocks=blocks,
        summary=summary,
        subtitle=f"Drift of current data against the reference: {headline.lower()}.",
        banner=banner,
        kind="drift",
    )
