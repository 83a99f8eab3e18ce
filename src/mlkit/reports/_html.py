"""Self-contained HTML pages: :class:`HtmlReport`, :class:`Section`, :func:`page`.

The page comes from a Jinja2 template with autoescaping on: every string the
caller gives is escaped; only the SVG the chart functions return is inlined
as is. CSS and the small sorting script are inline, so the file names no URL
and opens offline.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from mlkit._atomic import write_text
from mlkit._optional import require
from mlkit.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_TABLE_ROWS",
    "Banner",
    "Block",
    "Cell",
    "Figure",
    "HtmlReport",
    "Section",
    "Table",
    "block_from_section",
    "format_number",
    "page",
    "render",
    "table_from_frame",
]

Status = Literal["ok", "warn", "fail", "info"]

#: Rows of a :class:`Section` table shown; the rest are counted under it.
MAX_TABLE_ROWS = 1000
STATUSES = ("ok", "warn", "fail", "info")

#: Values of a "status"-like column that get a coloured pill, and their status.
_PILLS = {
    "ok": "ok",
    "pass": "ok",
    "passed": "ok",
    "stable": "ok",
    "no drift": "ok",
    "info": "info",
    "warn": "warn",
    "warning": "warn",
    "untestable": "warn",
    "fail": "fail",
    "failed": "fail",
    "error": "fail",
    "critical": "fail",
    "drifted": "fail",
    "drift": "fail",
}
_PILL_COLUMNS = frozenset({"status", "severity", "verdict", "result", "outcome"})


def _html_repr(value: str) -> str:
    return f"<{len(value)} characters>"


@attrs.frozen
class HtmlReport:
    """A rendered report: one self-contained HTML document.

    Attributes
    ----------
    title
        The page title.
    html
        The whole document: inline CSS, inline SVG charts, no external URL.

    Examples
    --------
    >>> from mlkit.reports import Section, page
    >>> report = page("Demo", [Section("Hello", text="<b>escaped</b>")])
    >>> report
    HtmlReport(title='Demo', html=<... characters>)
    >>> "&lt;b&gt;escaped&lt;/b&gt;" in report.html
    True
    """

    title: str
    html: str = attrs.field(repr=_html_repr)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the document to ``path`` atomically (temporary file, then rename).

        Parent folders are created. Returns the path written.
        """
        return write_text(path, self.html)

    def _repr_html_(self) -> str:
        """Show the report in a notebook, isolated in an ``iframe`` so styles do not leak."""
        source = html_lib.escape(self.html, quote=True)
        return (
            f'<iframe srcdoc="{source}" title="{html_lib.escape(self.title)}" '
            'style="width:100%;height:640px;border:1px solid #d8dce1"></iframe>'
        )


def _check_status(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in STATUSES:
        raise ConfigurationError(
            f"Section status {value!r} is not one of {list(STATUSES)}",
            value=value,
            expected=f"one of {list(STATUSES)}",
        )


def _check_table(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    import pandas as pd

    if value is not None and not isinstance(value, pd.DataFrame):
        raise ConfigurationError(
            f"Section table must be a pandas DataFrame or None, got a {type(value).__name__}",
            value=type(value).__name__,
            expected="a pandas DataFrame or None",
        )


def _charts_tuple(value: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(eq=False)
class Section:
    """One titled block of a page: text, a table and charts, with a status colour.

    Attributes
    ----------
    title
        The section heading (plain text, escaped).
    text
        Plain text, escaped; a blank line starts a new paragraph, single line
        breaks are kept.
    table
        A frame shown as a sortable table (click a header), at most 1,000 rows
        (the number left out is shown under it). A column named
        ``status``, ``severity``, ``verdict``, ``result`` or ``outcome`` gets
        coloured pills for values such as ``ok``, ``warn``, ``fail``,
        ``error``, ``drifted``.
    charts
        Inline SVG strings from :func:`line_chart` or :func:`bar_chart`
        (trusted: they are inserted as is).
    status
        ``"ok"``, ``"warn"``, ``"fail"`` or ``"info"``: the colour of the section.

    Examples
    --------
    >>> import pandas as pd
    >>> from mlkit.reports import Section
    >>> Section("Gate", text="All checks passed.", status="ok",
    ...         table=pd.DataFrame({"check": ["auc"], "status": ["ok"]})).status
    'ok'
    """

    title: str
    text: str = ""
    table: pd.DataFrame | None = attrs.field(default=None, validator=_check_table)
    charts: tuple[str, ...] = attrs.field(default=(), converter=_charts_tuple)
    status: Status = attrs.field(default="info", validator=_check_status)


# ---- the page model the template renders -------------------------------------------------


@attrs.frozen
class Cell:
    """One table cell: shown text, numeric sort key (or None), CSS class, tooltip, link."""

    text: str
    sort: float | None = None
    css: str = ""
    title: str = ""
    href: str = ""


@attrs.frozen
class Table:
    """A sortable table: headers, rows of cells, a note under it (e.g. "12 more")."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    numeric: tuple[bool, ...] = ()
    row_css: tuple[str, ...] = ()
    css: str = ""


@attrs.frozen
class Figure:
    """A captioned chart card (drift's per-column charts)."""

    caption: str
    svg: str
    status: str = "info"
    detail: str = ""
    anchor: str = ""


@attrs.frozen
class Block:
    """A rendered section: the template's unit."""

    title: str
    status: str = "info"
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    charts: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    items: tuple[tuple[str, str], ...] = ()
    anchor: str = ""


@attrs.frozen
class Banner:
    """The verdict at the top of a page."""

    status: str
    headline: str
    detail: str = ""
    facts: tuple[tuple[str, str], ...] = ()


def format_number(value: Any) -> tuple[str, float | None]:
    """Return a number's display text and sort key; other values as text with no key."""
    if value is None:
        return "—", None
    if isinstance(value, bool):
        return ("yes" if value else "no"), float(value)
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return ("yes" if bool(value) else "no"), float(bool(value))
        if isinstance(value, np.integer | np.floating):
            value = value.item()
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    if isinstance(value, int):
        return f"{value:,}", float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "—", None
        if math.isinf(value):
            return ("inf" if value > 0 else "-inf"), value
        if value == 0:
            return "0", 0.0
        magnitude = abs(value)
        if magnitude >= 1e6 or magnitude < 1e-4:
            text = f"{value:.3g}"
        elif magnitude >= 1000:
            text = f"{value:,.0f}"
        else:
            text = f"{value:.4g}"
        return text, value
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return "—", None
    except ImportError:  # pragma: no cover
        pass
    return str(value), None


def _pill(column: str, text: str) -> str:
    if column.lower() not in _PILL_COLUMNS:
        return ""
    status = _PILLS.get(text.strip().lower())
    return f"pill {status}" if status else ""


def table_from_frame(frame: pd.DataFrame, *, max_rows: int | None = None) -> Table:
    """Turn a frame into a :class:`Table` (a non-default index becomes the first columns)."""
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    headers = tuple(str(c) for c in frame.columns)
    shown = frame if max_rows is None else frame.iloc[:max_rows]
    columns = [shown.iloc[:, j].tolist() for j in range(shown.shape[1])]
    numeric: list[bool] = []
    cells_by_column: list[list[Cell]] = []
    for name, values in zip(headers, columns, strict=True):
        cells = []
        all_numeric = True
        for value in values:
            text, key = format_number(value)
            if key is None and text != "—":
                all_numeric = False
            css = _pill(name, text) or ("wrap" if len(text) > 40 else "")
            cells.append(Cell(text=text, sort=key, css=css))
        numeric.append(all_numeric and bool(values))
        cells_by_column.append(cells)
    rows = tuple(zip(*cells_by_column, strict=True)) if cells_by_column else ()
    hidden = len(frame) - len(shown)
    note = f"{hidden:,} more rows not shown" if hidden > 0 else ""
    return Table(headers=headers, rows=rows, note=note, numeric=tuple(numeric))


def _paragraphs(text: str) -> tuple[str, ...]:
    parts = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n")]
    return tuple(p for p in parts if p.strip())


def block_from_section(section: Section) -> Block:
    """Turn a public :class:`Section` into the template's :class:`Block`."""
    return Block(
        title=section.title,
        status=section.status,
        paragraphs=_paragraphs(section.text),
        table=(
            None
            if section.table is None
            else table_from_frame(section.table, max_rows=MAX_TABLE_ROWS)
        ),
        charts=section.charts,
    )


def _generated_at() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    else:
        moment = dt.datetime.now(tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _js_number(value: float) -> str:
    """Format a number as JavaScript's ``Number()`` reads it (``inf`` -> ``Infinity``)."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def _version() -> str:
    import mlkit

    return str(mlkit.__version__)


_ENVIRONMENT: Any = None


def _environment() -> Any:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        jinja2 = require("jinja2", "report", "HTML reports")
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("mlkit.reports", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["jsnum"] = _js_number
        _ENVIRONMENT = env
    return _ENVIRONMENT


def render(
    *,
    title: str,
    blocks: Sequence[Block],
    summary: Mapping[str, str] | None = None,
    subtitle: str = "",
    banner: Banner | None = None,
    kind: str = "page",
) -> HtmlReport:
    """Render the page template: header, optional verdict banner, blocks."""
    require("jinja2", "report", "HTML reports")  # every time: the environment is cached
    env = _environment()
    template = env.get_template("page.html.j2")
    html = template.render(
        title=str(title),
        subtitle=str(subtitle),
        generated=_generated_at(),
        version=_version(),
        summary=[(str(k), str(v)) for k, v in (summary or {}).items()],
        banner=banner,
        blocks=list(blocks),
        kind=kind,
    )
    return HtmlReport(title=str(title), html=html)


def page(
    title: str,
    sections: Sequence[Section],
    *,
    summary: Mapping[str, str] | None = None,
    subtitle: str = "",
) -> HtmlReport:
    """Build a self-contained HTML page from sections.

    Parameters
    ----------
    title
        The page title and heading.
    sections
        The blocks of the page, in order.
    summary
        Key/value badges shown in the header (e.g. ``{"rows": "10,000"}``).
    subtitle
        A line under the title.

    Returns
    -------
    HtmlReport
        The document; ``.save(path)`` writes it.

    Raises
    ------
    MissingDependencyError
        If Jinja2 (the ``report`` extra) is not installed.

    Notes
    -----
    The header shows the generation time in UTC; set ``SOURCE_DATE_EPOCH`` for a
    fixed time (reproducible builds).

    Examples
    --------
    >>> import pandas as pd
    >>> from mlkit.reports import Section, line_chart, page
    >>> chart = line_chart([1, 2, 3], {"auc": [0.91, 0.90, 0.84]}, title="AUC")
    >>> report = page(
    ...     "Model health",
    ...     [Section("Accuracy", text="AUC fell after the drift.", charts=(chart,), status="warn"),
    ...      Section("Checks", table=pd.DataFrame({"check": ["auc"], "status": ["fail"]}))],
    ...     summary={"model": "fraud v2"},
    ... )
    >>> report.html.startswith("<!DOCTYPE html>")
    True
    >>> report.html.count("<svg")
    1
    """
    if isinstance(sections, Section):
        sections = [sections]
    blocks = []
    for i, section in enumerate(sections):
        if not isinstance(section, Section):
            raise ConfigurationError(
                f"page() section {i} is a {type(section).__name__}, not a Section",
                value=type(section).__name__,
                expected="mlkit.reports.Section instances",
            )
        blocks.append(block_from_section(section))
    return render(title=title, blocks=blocks, summary=summary, subtitle=subtitle)
