"""Fast per-column drift charts: one reused figure per kind, data binned for all columns at once.

A new matplotlib figure per column costs about 60 ms; most of it is axes
set-up, automatic layout and text measurement. Here each kind of chart has
one figure whose artists get new data per column; tick positions and labels
are computed up front (no locator or offset text at draw time); titles and
axis labels sit at fixed positions (no automatic layout); and text metrics
are cached across renders. The figure is drawn straight onto matplotlib's
SVG renderer. That brings a column to a few milliseconds.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlkit.reports._charts import PALETTE, chart_style, clean_svg, mpl_text, new_figure

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColumnCharts", "NumericBins", "bin_numeric", "top_categories"]

FloatArray = NDArray[np.float64]

#: Histogram bins shown; the ECDF uses ``FINE`` points (a multiple of ``BINS``).
BINS = 30
FINE = 120
#: Share of each tail left out of the plotted range (values there go to the end bins).
TAIL = 0.005
#: Categories shown per categorical chart; the rest are pooled as "other".
TOP_CATEGORIES = 8

REFERENCE_COLOR = PALETTE[0]
CURRENT_COLOR = PALETTE[1]


class NumericBins:
    """Histograms and ECDFs of many numeric columns, on shared per-column ranges."""

    def __init__(
        self,
        low: FloatArray,
        high: FloatArray,
        hist_ref: FloatArray,
        hist_cur: FloatArray,
        ecdf_ref: FloatArray,
        ecdf_cur: FloatArray,
    ) -> None:
        self.low = low
        self.high = high
        self.hist_ref = hist_ref  # (k, BINS) shares of non-missing values
        self.hist_cur = hist_cur
        self.ecdf_ref = ecdf_ref  # (k, FINE + 1) ECDF at the FINE + 1 grid points
        self.ecdf_cur = ecdf_cur


def _sorted_quantiles(values: FloatArray, q: float) -> tuple[FloatArray, ...]:
    """Per-column minimum, ``q`` and ``1 - q`` quantiles, maximum and value counts."""
    ordered = np.sort(values, axis=0)  # NaN sorts last
    n = np.sum(~np.isnan(values), axis=0)
    cols = np.arange(values.shape[1])
    last = np.maximum(n - 1, 0)
    lo = ordered[np.floor(q * last).astype(np.int64), cols]
    hi = ordered[np.ceil((1 - q) * last).astype(np.int64), cols]
    return ordered[0, cols], lo, hi, ordered[last, cols], n.astype(np.float64)


def _range(
    low: FloatArray, high: FloatArray, minimum: FloatArray, maximum: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return the quantile range, or the whole range when tails are short (no end spikes)."""
    whole = (maximum - minimum) <= 1.5 * (high - low)
    return np.where(whole, minimum, low), np.where(whole, maximum, high)


def _fine_counts(values: FloatArray, low: FloatArray, width: FloatArray) -> NDArray[np.int64]:
    """Count each column's values in FINE equal bins from ``low`` (outside: end bins)."""
    k = values.shape[1]
    position = (values - low) / width * FINE
    valid = ~np.isnan(position)
    index = np.zeros(values.shape, dtype=np.int64)
    np.floor(position, out=position, where=valid)
    np.clip(position, 0, FINE - 1, out=position, where=valid)
    index[valid] = position[valid].astype(np.int64)
    index += np.arange(k, dtype=np.int64) * FINE
    counts = np.bincount(index[valid], minlength=k * FINE)
    return counts.reshape(k, FINE)


def bin_numeric(reference: FloatArray, current: FloatArray) -> NumericBins:
    """Bin every column of two ``(rows, columns)`` float arrays in one vectorised pass.

    Each column's range covers both samples' 0.5 % to 99.5 % quantiles, or
    their whole range when it is at most 1.5 times as wide (short tails);
    values outside are counted in the end bins. NaN is left out.
    """
    r_min, r_lo, r_hi, r_max, r_n = _sorted_quantiles(reference, TAIL)
    c_min, c_lo, c_hi, c_max, c_n = _sorted_quantiles(current, TAIL)
    r_lo, r_hi = _range(r_lo, r_hi, r_min, r_max)
    c_lo, c_hi = _range(c_lo, c_hi, c_min, c_max)
    low = np.fmin(np.where(r_n > 0, r_lo, np.nan), np.where(c_n > 0, c_lo, np.nan))
    high = np.fmax(np.where(r_n > 0, r_hi, np.nan), np.where(c_n > 0, c_hi, np.nan))
    low = np.nan_to_num(low, nan=0.0)
    high = np.nan_to_num(high, nan=1.0)
    flat = ~(high > low)
    pad = np.where(low == 0, 0.5, np.abs(low) * 0.05)
    low = np.where(flat, low - pad, low)
    high = np.where(flat, high + pad, high)
    width = high - low
    out = []
    for values, n in ((reference, r_n), (current, c_n)):
        fine = _fine_counts(values, low, width).astype(np.float64)
        total = np.maximum(n, 1.0)[:, None]
        hist = fine.reshape(len(low), BINS, FINE // BINS).sum(axis=2) / total
        below = np.sum(values < low, axis=0)
        above = np.sum(values > high, axis=0)
        cumulative = np.cumsum(fine, axis=1)
        cumulative[:, -1] -= above
        ecdf = np.concatenate([below[:, None], cumulative], axis=1) / total
        out.append((hist, ecdf))
    return NumericBins(low, high, out[0][0], out[1][0], out[0][1], out[1][1])


def top_categories(
    reference: pd.Series, current: pd.Series, top: int = TOP_CATEGORIES
) -> tuple[list[str], FloatArray, FloatArray]:
    """Shares of the most common categories (by both samples), the rest pooled as "other"."""
    ref_counts = reference.value_counts(dropna=True)
    cur_counts = current.value_counts(dropna=True)
    both = ref_counts.add(cur_counts, fill_value=0).sort_values(ascending=False, kind="stable")
    keys = list(both.index[:top])
    rest = len(both) - len(keys)
    ref_total = max(float(ref_counts.sum()), 1.0)
    cur_total = max(float(cur_counts.sum()), 1.0)
    ref_share = np.array([float(ref_counts.get(k, 0)) for k in keys]) / ref_total
    cur_share = np.array([float(cur_counts.get(k, 0)) for k in keys]) / cur_total
    labels = [_short(str(k)) for k in keys]
    if rest > 0:
        labels.append(f"other ({rest})")
        ref_share = np.append(ref_share, max(0.0, 1 - ref_share.sum()))
        cur_share = np.append(cur_share, max(0.0, 1 - cur_share.sum()))
    return labels, ref_share, cur_share


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tick_labels(values: Sequence[float]) -> list[str]:
    """Shortest labels (up to 6 significant digits) that tell the ticks apart."""
    for digits in range(2, 7):
        labels = [_fmt(v, digits) for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return [_fmt(v, 6) for v in values]


def _fmt(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e5:
        text = f"{value:.{digits}g}"
        if "e" in text:
            text = f"{value:.0f}"
        return text.replace("-", "\N{MINUS SIGN}")
    mantissa, exponent = f"{value:.{max(1, digits - 1)}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}".replace("-", "\N{MINUS SIGN}")


class ColumnCharts:
    """Draws the per-column charts of a drift page, reusing one figure per kind.

    Call :meth:`numeric` and :meth:`categorical` inside :func:`chart_style`
    (one ``rc_context`` for every chart: entering it per chart costs more than
    some charts).
    """

    def __init__(self) -> None:
        from matplotlib.backends.backend_svg import RendererSVG
        from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

        self._fixed_locator = FixedLocator
        self._fixed_formatter = FixedFormatter
        self._nice = MaxNLocator(nbins=3)
        self._metrics: dict[tuple[Any, ...], tuple[float, float, float]] = {}
        metrics = self._metrics

        class _Renderer(RendererSVG):
            """The SVG renderer with text metrics cached across figures."""

            def get_text_width_height_descent(
                self, s: str, prop: Any, ismath: Any
            ) -> tuple[float, float, float]:
                key = (
                    s,
                    tuple(prop.get_family()),
                    prop.get_style(),
                    prop.get_weight(),
                    prop.get_size_in_points(),
                    ismath,
                )
                found = metrics.get(key)
                if found is None:
                    measure = super().get_text_width_height_descent
                    found = metrics[key] = measure(s, prop, ismath)  # type: ignore[no-untyped-call]
                return found

        self._renderer_class: Any = _Renderer
        with chart_style():
            self._numeric = self._numeric_figure()
            self._categorical = self._categorical_figure()

    # ---- figures -----------------------------------------------------------------------

    def _numeric_figure(self) -> dict[str, Any]:
        fig = new_figure(4.8, 1.9)
        hist = fig.add_axes((0.085, 0.17, 0.40, 0.68))
        ecdf = fig.add_axes((0.585, 0.17, 0.40, 0.68))
        edges = np.linspace(0.0, 1.0, BINS + 1)
        ref_bars = hist.stairs(
            np.zeros(BINS),
            edges,
            fill=True,
            color=REFERENCE_COLOR,
            alpha=0.35,
            linewidth=0,
            label="reference",
        )
        cur_bars = hist.stairs(
            np.zeros(BINS), edges, color=CURRENT_COLOR, linewidth=1.3, label="current"
        )
        grid = np.linspace(0.0, 1.0, FINE + 1)
        (ref_line,) = ecdf.plot(
            grid, grid, color=REFERENCE_COLOR, linewidth=1.3, label="reference"
        )
        (cur_line,) = ecdf.plot(grid, grid, color=CURRENT_COLOR, linewidth=1.3, label="current")
        ecdf.set_ylim(0.0, 1.02)
        self._fix_ticks(ecdf.yaxis, [0.0, 0.5, 1.0])
        legend = ecdf.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=2,
            handlelength=1.2,
            borderaxespad=0.0,
            borderpad=0.2,
            columnspacing=0.8,
        )
        titles = [
            hist.set_title("histogram (share)", loc="left", y=1.0, pad=3),
            ecdf.set_title("ECDF", loc="left", y=1.0, pad=3),
        ]
        for ax in (hist, ecdf):
            ax.grid(False)
            ax.xaxis.set_label_coords(0.5, -0.2)
            ax.yaxis.set_label_coords(-0.12, 0.5)
        return {
            "fig": fig,
            "static": self._static(fig, [legend, *titles, ecdf.yaxis]),  # fixed parts
            "hist": hist,
            "ecdf": ecdf,
            "ref_bars": ref_bars,
            "cur_bars": cur_bars,
            "ref_line": ref_line,
            "cur_line": cur_line,
        }

    def _categorical_figure(self) -> dict[str, Any]:
        from matplotlib.collections import PolyCollection

        fig = new_figure(4.8, 1.9)
        ax = fig.add_axes((0.24, 0.14, 0.72, 0.70))
        ref = PolyCollection([], facecolors=REFERENCE_COLOR, linewidths=0, label="reference")
        cur = PolyCollection([], facecolors=CURRENT_COLOR, linewidths=0, label="current")
        ax.add_collection(ref)
        ax.add_collection(cur)
        title = ax.set_title("category shares", loc="left", y=1.0, pad=3)
        ax.grid(False)
        ax.xaxis.set_label_coords(0.5, -0.2)
        ax.yaxis.set_label_coords(-0.3, 0.5)
        legend = ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=2,
            handlelength=1.2,
            borderaxespad=0.0,
            borderpad=0.2,
            columnspacing=0.8,
        )
        static = self._static(fig, [legend, title])
        return {"fig": fig, "static": static, "ax": ax, "ref": ref, "cur": cur}

    # ---- drawing -----------------------------------------------------------------------

    def _fix_ticks(
        self, axis: Any, values: Sequence[float], labels: Sequence[str] | None = None
    ) -> None:
        axis.set_major_locator(self._fixed_locator(list(values)))
        shown = _tick_labels(values) if labels is None else list(labels)
        axis.set_major_formatter(self._fixed_formatter(shown))

    def _nice_ticks(self, low: float, high: float) -> list[float]:
        values = self._nice.tick_values(low, high)
        slack = 1e-9 * (high - low)
        return [float(v) for v in values if low - slack <= v <= high + slack]

    def _renderer(self, fig: Any, buffer: io.StringIO) -> Any:
        width, height = fig.get_size_inches() * 72.0
        return self._renderer_class(width, height, buffer, None, 72)

    def _static(self, fig: Any, artists: Sequence[Any]) -> str:
        """Draw what every chart of ``fig`` shares (legend, titles) once, as SVG markup.

        The artists are then hidden, and :meth:`_render` pastes the markup into
        each chart: a real matplotlib legend, laid out once instead of per column.
        """
        buffer = io.StringIO()
        renderer = self._renderer(fig, buffer)
        for artist in artists:
            artist.draw(renderer)
            artist.set_visible(False)
        renderer.finalize()
        text = buffer.getvalue()
        start = text.find("</defs>") + len("</defs>")
        return text[start : text.rfind("</svg>")]

    def _render(self, parts: dict[str, Any]) -> str:
        fig = parts["fig"]
        buffer = io.StringIO()
        renderer = self._renderer(fig, buffer)
        fig.draw(renderer)  # the caller holds chart_style(): one rc_context for all charts
        renderer.finalize()
        text = buffer.getvalue()
        end = text.rfind("</svg>")
        return clean_svg(text[:end] + parts["static"] + text[end:])

    def numeric(self, bins: NumericBins, j: int) -> str:
        """Draw the histogram + ECDF chart of column ``j`` of ``bins``."""
        parts = self._numeric
        low, high = float(bins.low[j]), float(bins.high[j])
        edges = np.linspace(low, high, BINS + 1)
        ref, cur = bins.hist_ref[j], bins.hist_cur[j]
        parts["ref_bars"].set_data(ref, edges)
        parts["cur_bars"].set_data(cur, edges)
        grid = np.linspace(low, high, FINE + 1)
        parts["ref_line"].set_data(grid, bins.ecdf_ref[j])
        parts["cur_line"].set_data(grid, bins.ecdf_cur[j])
        top = float(max(ref.max(initial=0.0), cur.max(initial=0.0)))
        top = top * 1.08 if top > 0 else 1.0
        xticks = self._nice_ticks(low, high)
        for name in ("hist", "ecdf"):
            ax = parts[name]
            ax.set_xlim(low, high)
            self._fix_ticks(ax.xaxis, xticks)
        parts["hist"].set_ylim(0.0, top)
        self._fix_ticks(parts["hist"].yaxis, self._nice_ticks(0.0, top))
        return self._render(parts)

    def categorical(self, labels: Sequence[str], ref: FloatArray, cur: FloatArray) -> str:
        """Draw the side-by-side share bars of one categorical column (top category first)."""
        parts = self._categorical
        n = len(labels)
        height = 0.38
        ref_verts, cur_verts = [], []
        for i in range(n):
            y = n - 1 - i
            ref_verts.append(_rect(0.0, float(ref[i]), y + 0.02, y + height + 0.02))
            cur_verts.append(_rect(0.0, float(cur[i]), y - height - 0.02, y - 0.02))
        parts["ref"].set_verts(ref_verts)
        parts["cur"].set_verts(cur_verts)
        ax = parts["ax"]
        top = float(max(ref.max(initial=0.0), cur.max(initial=0.0)))
        top = top * 1.08 if top > 0 else 1.0
        ax.set_xlim(0.0, top)
        slots = max(n, 5)  # a few categories keep slim bars, at the top
        ax.set_ylim(n - slots - 0.4, n - 0.4)
        self._fix_ticks(ax.xaxis, self._nice_ticks(0.0, top))
        self._fix_ticks(
            ax.yaxis, [float(n - 1 - i) for i in range(n)], [mpl_text(x) for x in labels]
        )
        return self._render(parts)


def _rect(x0: float, x1: float, y0: float, y1: float) -> list[tuple[float, float]]:
    if not math.isfinite(x1):
        x1 = 0.0
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
