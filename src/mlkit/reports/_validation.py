"""The validation report page: verdict, counts by severity, the failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlkit._optional import require
from mlkit.errors import ConfigurationError
from mlkit.reports._html import Banner, Block, Table, render, table_from_frame

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.reports._html import HtmlReport
    from mlkit.validation import QualityReport, ValidationReport

__all__ = ["MAX_ROWS", "validation_html"]

#: Failure rows shown per table; the rest are counted under it.
MAX_ROWS = 200
_TEXT_LIMIT = 120
_SEVERITY_STATUS = {"critical": "fail", "error": "fail", "warning": "warn", "info": "info"}


def _short(value: Any) -> Any:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = str(value)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _shown(frame: pd.DataFrame, limit: int = MAX_ROWS) -> Table:
    head = frame.head(limit).copy()
    for name in head.columns:
        if head[name].dtype == object:
            head[name] = head[name].map(_short).astype(object)
    table = table_from_frame(head)
    hidden = len(frame) - len(head)
    if hidden > 0:
        return Table(
            headers=table.headers,
            rows=table.rows,
            note=f"{hidden:,} more not shown (of {len(frame):,})",
            numeric=table.numeric,
        )
    return table


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {severity}" for severity, n in counts.items())


def _status(passed: bool, counts: dict[str, int]) -> str:
    if not passed:
        return "fail"
    if any(n for severity, n in counts.items() if severity != "info"):
        return "warn"
    return "ok"


def _data_block(data: pd.DataFrame, failures_by_column: dict[str, int]) -> Block:
    import pandas as pd

    names = list(data.columns)[:MAX_ROWS]
    frame = pd.DataFrame(
        {
            "column": pd.Series([str(c) for c in names], dtype=object),
            "dtype": pd.Series([str(data[c].dtype) for c in names], dtype=object),
            "missing": [float(data[c].isna().mean()) if len(data) else 0.0 for c in names],
            "distinct": [int(data[c].nunique(dropna=True)) for c in names],
            "failures": [int(failures_by_column.get(str(c), 0)) for c in names],
        }
    )
    table = table_from_frame(frame)
    hidden = data.shape[1] - len(names)
    if hidden > 0:
        table = Table(
            headers=table.headers,
            rows=table.rows,
            note=f"{hidden:,} more columns not shown",
            numeric=table.numeric,
        )
    return Block(
        title="Data",
        status="info",
        paragraphs=(
            f"{len(data):,} rows, {data.shape[1]:,} columns. Missing is a share of rows.",
        ),
        table=table,
    )


def _validation_page(
    report: ValidationReport, title: str, data: pd.DataFrame | None
) -> HtmlReport:
    from mlkit.validation import SEVERITIES

    grouped = report.counts()
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, n in zip(grouped["severity"], grouped["n_failures"], strict=True):
        counts[str(severity)] = counts.get(str(severity), 0) + int(n)
    passed = bool(report.passed)
    status = _status(passed, counts)
    if report.n_failures == 0:
        headline = "Validation passed: no failures"
    elif passed:
        headline = f"Validation passed with {report.n_failures:,} failures below error"
    else:
        headline = f"Validation failed: worst severity {report.max_severity!r}"
    banner = Banner(
        status=status,
        headline=headline,
        detail=f"{report.n_failures:,} failures in {report.n_rows:,} rows: "
        f"{_counts_text(counts)}.",
        facts=(
            *((severity, f"{n:,}") for severity, n in counts.items()),
            ("rows", f"{report.n_rows:,}"),
        ),
    )
    blocks: list[Block] = []
    problems = []
    if report.missing_columns:
        problems.append(
            "Missing columns: " + ", ".join(str(c) for c in report.missing_columns) + "."
        )
    if report.extra_columns:
        problems.append(
            "Unexpected columns: " + ", ".join(str(c) for c in report.extra_columns) + "."
        )
    if not report.lazy:
        problems.append("Validation stopped at the first failure (lazy=False).")
    if not grouped.empty:
        blocks.append(
            Block(
                title="Failures by check",
                status=status,
                paragraphs=tuple(problems),
                table=_shown(grouped),
            )
        )
        failures = report.to_frame()
        blocks.append(
            Block(
                title=f"Failures ({report.n_failures:,})",
                status=status,
                paragraphs=("One row per failing value (index: its row label).",),
                table=_shown(failures),
            )
        )
    else:
        blocks.append(
            Block(title="Failures", status="ok", paragraphs=("Every check passed.", *problems))
        )
    if data is not None:
        by_column: dict[str, int] = {}
        for column, n in zip(grouped["column"], grouped["n_failures"], strict=True):
            by_column[str(column)] = by_column.get(str(column), 0) + int(n)
        blocks.append(_data_block(data, by_column))
    summary = {"rows": f"{report.n_rows:,}", "failures": f"{report.n_failures:,}"}
    if report.max_severity:
        summary["worst"] = str(report.max_severity)
    return render(title=title, blocks=blocks, summary=summary, banner=banner, kind="validation")


def _quality_page(report: QualityReport, title: str, data: pd.DataFrame | None) -> HtmlReport:
    counts = report.counts()
    passed = bool(report.passed())
    status = _status(passed, counts)
    n_failed = sum(counts.values())
    rows = "?" if report.n_rows is None else f"{report.n_rows:,}"
    if n_failed == 0:
        headline = f"{report.monitor}: passed"
    elif passed:
        headline = f"{report.monitor}: passed with {n_failed:,} findings below error"
    else:
        headline = f"{report.monitor}: failed, worst severity {report.max_severity!r}"
    banner = Banner(
        status=status,
        headline=headline,
        detail=f"{n_failed:,} failed checks in {rows} rows: {_counts_text(counts)}.",
        facts=(
            *((severity, f"{n:,}") for severity, n in counts.items()),
            ("rows", rows),
            ("checked at", _when(report.timestamp)),
        ),
    )
    frame = report.to_frame()
    failed = frame[~frame["passed"]]
    blocks = [
        Block(
            title=f"Failed checks ({len(failed):,})",
            status=status,
            paragraphs=() if len(failed) else ("Every check passed.",),
            table=_shown(failed.drop(columns=["passed"])) if len(failed) else None,
        )
    ]
    if report.schema_error:
        blocks.append(
            Block(title="Schema error", status="fail", paragraphs=(report.schema_error,))
        )
    ok = frame[frame["passed"]]
    if len(ok):
        blocks.append(
            Block(
                title=f"Passed checks ({len(ok):,})",
                status="ok",
                table=_shown(ok[["source", "name", "column", "severity", "expected"]]),
            )
        )
    if report.validation is not None and report.validation.n_failures:
        blocks.append(
            Block(
                title=f"Schema failures ({report.validation.n_failures:,})",
                status=status,
                paragraphs=("One row per failing value (index: its row label).",),
                table=_shown(report.validation.to_frame()),
            )
        )
    if data is not None:
        by_column: dict[str, int] = {}
        for column, n in zip(failed["column"], failed["n_failures"], strict=True):
            if column is not None:
                by_column[str(column)] = by_column.get(str(column), 0) + int(n)
        blocks.append(_data_block(data, by_column))
    summary = {"monitor": report.monitor, "rows": rows, "failed checks": f"{n_failed:,}"}
    return render(title=title, blocks=blocks, summary=summary, banner=banner, kind="validation")


def _when(timestamp: float) -> str:
    import datetime as dt

    moment = dt.datetime.fromtimestamp(float(timestamp), tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def validation_html(
    report: ValidationReport | QualityReport,
    *,
    title: str = "Validation report",
    data: pd.DataFrame | None = None,
) -> HtmlReport:
    """Render a validation or data-quality report as a self-contained HTML page.

    The page has the verdict, the number of failures at each severity, and
    the failures (column, check, severity, failing value and its row index
    for a :class:`~mlkit.validation.ValidationReport`; each failed schema
    check and expectation for a :class:`~mlkit.validation.QualityReport`),
    at most 200 rows per table with the number left out under it.

    Parameters
    ----------
    report
        The result of :func:`~mlkit.validation.validate` or of
        :meth:`~mlkit.validation.DataQualityMonitor.check`.
    title
        The page title.
    data
        The frame that was validated: adds a per-column overview (dtype,
        missing share, distinct values, failures).

    Returns
    -------
    HtmlReport
        The document; ``.save(path)`` writes it.

    Raises
    ------
    ConfigurationError
        If ``report`` is neither kind of report.
    MissingDependencyError
        If Jinja2 (the ``report`` extra) is not installed.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from mlkit.reports import validation_html
    >>> from mlkit.validation import validate
    >>> schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.in_range(0, 120))})
    >>> frame = pd.DataFrame({"age": [30, -1, 200]})
    >>> page = validation_html(validate(frame, schema), data=frame)
    >>> "Validation failed" in page.html
    True
    """
    require("jinja2", "report", "HTML reports")
    from mlkit.validation import QualityReport, ValidationReport

    if isinstance(report, ValidationReport):
        return _validation_page(report, title, data)
    if isinstance(report, QualityReport):
        return _quality_page(report, title, data)
    raise ConfigurationError(
        f"validation_html() needs a ValidationReport or QualityReport, "
        f"got a {type(report).__name__}",
        value=type(report).__name__,
        expected="mlkit.validation.ValidationReport or QualityReport",
    )
