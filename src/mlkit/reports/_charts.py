"""Charts drawn by matplotlib as inline SVG text.

Figures are made with :class:`matplotlib.figure.Figure` directly, never through
``pyplot``, so no backend is selected and no global figure state is touched.
The SVG is deterministic: text stays text (``svg.fonttype = "none"``), the
date and creator metadata are dropped and element ids are derived from a fixed
salt. The XML prolog, DOCTYPE, metadata and namespace declarations are removed
so the result inlines in an HTML page and names no URL.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlkit._optional import require
from mlkit.errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["bar_chart", "chart_style", "line_chart", "mpl_text", "new_figure", "to_svg"]

_FEATURE = "HTML reports"

#: Colours of the series, in order (reference first, current second in drift charts).
PALETTE = ("#3b6fb6", "#e8833a", "#3a9e6f", "#c4455b", "#7f63b8", "#8c6d4f", "#d16fb0", "#6b6b6b")

#: matplotlib settings of every chart: small, light, text kept as text.
RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "mlkit",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "axes.edgecolor": "#9aa0a6",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e6ea",
    "grid.linewidth": 0.5,
    "xtick.color": "#5f6368",
    "ytick.color": "#5f6368",
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "lines.linewidth": 1.4,
    "path.simplify": True,
    "path.simplify_threshold": 0.5,
}

_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_GENERATED_ID = re.compile(r' id="[A-Za-z][\w.]*_\d+"')
_NAMESPACE = re.compile(r' xmlns(?::\w+)?="[^"]*"')
_FONT = re.compile(r"; font-family: [^;\"]*")
_DEFAULT_STYLE = re.compile(r'\s*<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>')


def _matplotlib() -> Any:
    return require("matplotlib", "report", _FEATURE)


@contextmanager
def chart_style() -> Iterator[None]:
    """Apply the report's matplotlib settings (``rc_context``) for the block."""
    mpl = _matplotlib()
    with mpl.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """Return a new figure (inches), not known to pyplot; use inside :func:`chart_style`."""
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72)


def mpl_text(text: object) -> str:
    """Return ``text`` as matplotlib shows it literally: ``$`` does not start mathtext."""
    return str(text).replace("$", r"\$")


def to_svg(fig: Figure) -> str:
    """Render ``fig`` as an ``<svg>`` element ready to inline in HTML (deterministic)."""
    buffer = io.StringIO()
    with chart_style():
        fig.savefig(buffer, format="svg", metadata=_METADATA)
    return clean_svg(buffer.getvalue())


def clean_svg(text: str) -> str:
    """Strip what an inline ``<svg>`` does not need: prolog, metadata, namespaces, ids."""
    start = text.find("<svg")
    text = text[start:]
    head_end = text.find(">") + 1
    head = _NAMESPACE.sub("", text[:head_end])
    head = head.replace("<svg ", '<svg class="mlkit-chart" role="img" ', 1)
    body = text[head_end:]
    meta_start = body.find("<metadata>")
    if meta_start >= 0:
        meta_end = body.find("</metadata>") + len("</metadata>")
        body = body[:meta_start] + body[meta_end:]
    body = _DEFAULT_STYLE.sub("", body, count=1)
    body = _GENERATED_ID.sub("", body)
    # The page's stylesheet sets the font of every chart once.
    body = _FONT.sub("", body)
    return head + body.rstrip() + "\n"


def _floats(values: Sequence[float] | Any, name: str, n: int | None = None) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"series {name!r} holds a value that is not a number",
            column=name,
            value=repr(values)[:80],
            expected="a sequence of numbers",
        ) from exc
    if n is not None and len(out) != n:
        raise ConfigurationError(
            f"series {name!r} has {len(out)} values but there are {n} x positions",
            column=name,
            value=len(out),
            expected=f"{n} values",
        )
    return out


def _legend(ax: Axes, n: int) -> None:
    if n > 1:
        ax.legend(loc="best", ncols=1 if n < 4 else 2, handlelength=1.4)


def line_chart(
    x: Sequence[float] | Any,
    series: Mapping[str, Sequence[float] | Any],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    markers: Mapping[str, float] | None = None,
) -> str:
    """Draw one or more lines over a shared x axis; return an inline ``<svg>`` string.

    Parameters
    ----------
    x
        The x positions, shared by every series (numbers, or dates pandas can plot).
    series
        Series name -> y values, one per x position; NaN leaves a gap.
    title, xlabel, ylabel
        Labels (plain text; ``$`` is shown as is).
    markers
        Label -> x position, drawn as dashed vertical lines (e.g. ``"drift injected"``).

    Returns
    -------
    str
        An ``<svg>`` element without XML prolog, to pass to :class:`Section`.

    Raises
    ------
    ConfigurationError
        If a series' length differs from ``x`` or holds non-numbers.
    MissingDependencyError
        If matplotlib (the ``report`` extra) is not installed.

    Examples
    --------
    >>> from mlkit.reports import line_chart
    >>> svg = line_chart([0, 1, 2], {"accuracy": [0.9, 0.8, 0.85]}, title="Accuracy",
    ...                  markers={"drift": 1})
    >>> svg.startswith("<svg") and "Accuracy" in svg and "http" not in svg
    True
    """
    xs = list(x)
    ys = {str(name): _floats(values, str(name), len(xs)) for name, values in series.items()}
    with chart_style():
        fig = new_figure(6.0, 2.8)
        ax = fig.add_subplot()
        for i, (name, values) in enumerate(ys.items()):
            ax.plot(xs, values, color=PALETTE[i % len(PALETTE)], label=mpl_text(name))
        for j, (label, position) in enumerate((markers or {}).items()):
            ax.axvline(
                position,
                color="#c4455b" if j == 0 else "#6b6b6b",
                linestyle="--",
                linewidth=1.0,
                label=mpl_text(label),
            )
        _decorate(ax, title, xlabel, ylabel)
        _legend(ax, len(ys) + len(markers or {}))
        fig.tight_layout(pad=0.4)
        return to_svg(fig)


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float] | Any],
    *,
    title: str = "",
    ylabel: str = "",
) -> str:
    """Draw grouped vertical bars, one group per label; return an inline ``<svg>`` string.

    Parameters
    ----------
    labels
        One label per group of bars.
    series
        Series name -> one value per label; the series sit side by side in each group.
    title, ylabel
        Labels (plain text; ``$`` is shown as is).

    Returns
    -------
    str
        An ``<svg>`` element without XML prolog, to pass to :class:`Section`.

    Raises
    ------
    ConfigurationError
        If a series' length differs from ``labels`` or holds non-numbers.
    MissingDependencyError
        If matplotlib (the ``report`` extra) is not installed.

    Examples
    --------
    >>> from mlkit.reports import bar_chart
    >>> svg = bar_chart(["a", "b"], {"reference": [0.4, 0.6], "current": [0.7, 0.3]})
    >>> svg.count("<svg")
    1
    """
    names = [str(label) for label in labels]
    ys = {str(name): _floats(values, str(name), len(names)) for name, values in series.items()}
    k = max(1, len(ys))
    width = 0.8 / k
    with chart_style():
        fig = new_figure(max(3.2, min(9.0, 1.2 + 0.45 * len(names) * k)), 2.8)
        ax = fig.add_subplot()
        for i, (name, values) in enumerate(ys.items()):
            offset = (i - (k - 1) / 2) * width
            heights = [0.0 if math.isnan(v) else v for v in values]
            ax.bar(
                [j + offset for j in range(len(names))],
                heights,
                width=width * 0.95,
                color=PALETTE[i % len(PALETTE)],
                label=mpl_text(name),
            )
        ax.set_xticks(range(len(names)), [mpl_text(n) for n in names])
        if len(names) > 6 or max((len(n) for n in names), default=0) > 10:
            ax.tick_params(axis="x", labelrotation=30)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        ax.grid(axis="x", visible=False)
        _decorate(ax, title, "", ylabel)
        _legend(ax, len(ys))
        fig.tight_layout(pad=0.4)
        return to_svg(fig)


def _decorate(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    if title:
        ax.set_title(mpl_text(title), loc="left")
    if xlabel:
        ax.set_xlabel(mpl_text(xlabel))
    if ylabel:
        ax.set_ylabel(mpl_text(ylabel))
