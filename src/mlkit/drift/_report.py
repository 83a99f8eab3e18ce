"""The drift report and the row table the detector fills."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

    from mlkit.drift._profile import ReferenceProfile

__all__ = ["Block", "DriftReport", "Rows", "Verdicts"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PVALUE_TESTS = frozenset({"ks", "cvm", "chi2", "missing"})
DISTANCE_TESTS = frozenset({"psi", "wasserstein", "jensen_shannon", "hellinger", "tvd"})

#: Columns of :meth:`DriftReport.to_frame`, in order.
FRAME_COLUMNS = (
    "column",
    "kind",
    "test",
    "statistic",
    "p_value",
    "threshold",
    "drifted",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
    "unseen_categories",
    "reason",
)

Refine = Callable[["Rows", FloatArray, IntArray], FloatArray]


def _bh_cutoffs(p: FloatArray, group: IntArray, n_groups: int, alpha: float) -> FloatArray:
    """Benjamini-Hochberg p-value cutoff of each group: reject p <= cutoff."""
    cut = np.full(n_groups, alpha / max(1, len(p)))
    if len(p) == 0:
        return cut
    order = np.lexsort((p, group))
    g, ps = group[order], p[order]
    size = np.bincount(g, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.arange(len(ps)) - start[g] + 1
    critical = rank / size[g] * alpha
    ok = ps <= critical
    # The cutoff is the largest p that meets its critical value (step-up rule);
    # with none, the smallest critical value, alpha / m.
    best = np.full(n_groups, -np.inf)
    np.maximum.at(best, g[ok], ps[ok])
    first = alpha / np.maximum(size, 1)
    return np.where(np.isfinite(best), best, first)


@attrs.frozen(eq=False)
class Verdicts:
    """Per (chunk, column) verdicts: parallel arrays."""

    group: IntArray
    column: list[str]
    tested: NDArray[np.bool_]
    drifted: NDArray[np.bool_]
    reason: list[str]


@attrs.frozen(eq=False)
class Block:
    """The fields that every test's rows share for one kind of column."""

    group: IntArray
    column: list[str]
    kind: str
    n_reference: IntArray
    n_current: IntArray
    missing_reference: IntArray
    missing_current: IntArray
    unseen: IntArray
    reason: NDArray[np.object_]


class Rows:
    """Accumulates the detector's result rows, then decides each one."""

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []

    def add(
        self,
        block: Block,
        *,
        test: str,
        statistic: FloatArray,
        p_value: FloatArray | None = None,
        threshold: float | None = None,
        note: str | NDArray[np.object_] = "",
        reason: NDArray[np.object_] | None = None,
        exact: bool | NDArray[np.bool_] = True,
    ) -> None:
        """Add one test's rows for a block of columns (``reason`` overrides the block's).

        ``exact`` says whether the statistic equals the one computed from the
        raw values (False for bounded or sampled statistics); ``note`` is one
        string for all rows or one per row.
        """
        k = len(block.column)
        self._parts.append(
            {
                "group": np.asarray(block.group, dtype=np.int64),
                "column": np.asarray(block.column, dtype=object),
                "kind": np.full(k, block.kind, dtype=object),
                "test": np.full(k, test, dtype=object),
                "statistic": np.asarray(statistic, dtype=np.float64),
                "p_value": (
                    np.full(k, np.nan) if p_value is None else np.asarray(p_value, np.float64)
                ),
                "threshold": np.full(k, np.nan if threshold is None else threshold),
                "n_reference": np.asarray(block.n_reference, dtype=np.int64),
                "n_current": np.asarray(block.n_current, dtype=np.int64),
                "missing_reference": np.asarray(block.missing_reference, dtype=np.int64),
                "missing_current": np.asarray(block.missing_current, dtype=np.int64),
                "unseen_categories": np.asarray(block.unseen, dtype=np.int64),
                "reason": np.asarray(block.reason if reason is None else reason, dtype=object),
                "note": (
                    np.full(k, note, dtype=object)
                    if isinstance(note, str)
                    else np.asarray(note, dtype=object)
                ),
                "exact": np.broadcast_to(np.asarray(exact, dtype=bool), (k,)).copy(),
            }
        )

    def finish(
        self,
        *,
        alpha: float,
        correction: str | None,
        n_groups: int,
        refine: Refine | None,
    ) -> None:
        """Concatenate the parts, correct for multiple tests and decide every row."""
        keys = [
            "group",
            "column",
            "kind",
            "test",
            "statistic",
            "p_value",
            "threshold",
            "n_reference",
            "n_current",
            "missing_reference",
            "missing_current",
            "unseen_categories",
            "reason",
            "note",
            "exact",
        ]
        if self._parts:
            data = {key: np.concatenate([p[key] for p in self._parts]) for key in keys}
        else:
            data = {key: np.empty(0, dtype=object) for key in keys}
        self.data = data
        untestable = data["reason"] != ""
        data["statistic"] = np.where(untestable, np.nan, data["statistic"])
        data["p_value"] = np.where(untestable, np.nan, data["p_value"])
        tests = data["test"]
        is_p = np.isin(tests, list(PVALUE_TESTS)) & ~untestable & np.isfinite(data["p_value"])
        effect = data["threshold"].copy()  # distance thresholds, and missing's min change
        index = np.flatnonzero(is_p)
        group = data["group"].astype(np.int64)
        cut = self._cutoffs(data["p_value"][index], group[index], n_groups, alpha, correction)
        if refine is not None:
            ks = index[tests[index] == "ks"]
            for _ in range(5):  # BH cutoffs move when p-values are refined; settles fast
                if len(ks) == 0:
                    break
                refined = refine(self, cut[group[ks]], ks)
                changed = not np.array_equal(refined, data["p_value"][ks], equal_nan=True)
                data["p_value"][ks] = refined
                new_cut = self._cutoffs(
                    data["p_value"][index], group[index], n_groups, alpha, correction
                )
                if not changed and np.array_equal(new_cut, cut):
                    break
                cut = new_cut
        threshold = np.where(is_p, cut[group], data["threshold"])
        threshold = np.where(np.isin(tests, list(PVALUE_TESTS)) & ~is_p, np.nan, threshold)
        drifted = np.zeros(len(tests), dtype=bool)
        drifted[is_p] = data["p_value"][is_p] <= threshold[is_p]
        is_missing = tests == "missing"
        drifted &= ~is_missing | (np.abs(np.nan_to_num(data["statistic"])) >= effect)
        is_d = np.isin(tests, list(DISTANCE_TESTS)) & ~untestable
        drifted[is_d] = data["statistic"][is_d] >= threshold[is_d]
        data["threshold"] = threshold
        data["drifted"] = drifted
        data["tested"] = ~untestable & np.isfinite(data["statistic"])

    @staticmethod
    def _cutoffs(
        p: FloatArray, group: IntArray, n_groups: int, alpha: float, correction: str | None
    ) -> FloatArray:
        if correction == "bonferroni":
            size = np.bincount(group, minlength=n_groups)
            return alpha / np.maximum(size, 1)
        if correction == "fdr_bh":
            return _bh_cutoffs(p, group, n_groups, alpha)
        return np.full(n_groups, float(alpha))

    @property
    def statistic(self) -> FloatArray:
        """All rows' statistics (after :meth:`finish`)."""
        out: FloatArray = self.data["statistic"]
        return out

    @property
    def n_reference(self) -> IntArray:
        """All rows' reference sizes."""
        out: IntArray = self.data["n_reference"]
        return out

    @property
    def n_current(self) -> IntArray:
        """All rows' current sizes."""
        out: IntArray = self.data["n_current"]
        return out

    def verdicts(self, decision: str) -> Verdicts:
        """Combine each (chunk, column)'s rows into one verdict."""
        data = self.data
        names, column_code = np.unique(data["column"].astype(str), return_inverse=True)
        key = data["group"].astype(np.int64) * max(1, len(names)) + column_code
        uniq, first, idx = np.unique(key, return_index=True, return_inverse=True)
        n = len(uniq)
        tests = data["test"]
        tested_row = data["tested"]
        drifted_row = data["drifted"]

        def any_of(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
            return np.bincount(idx[mask], minlength=n) > 0

        dist_family = np.isin(tests, list(PVALUE_TESTS - {"missing"}))
        eff_family = np.isin(tests, list(DISTANCE_TESTS))
        has_p = any_of(dist_family & tested_row)
        has_d = any_of(eff_family & tested_row)
        p_any = any_of(dist_family & drifted_row)
        d_any = any_of(eff_family & drifted_row)
        miss = any_of((tests == "missing") & drifted_row)
        if decision == "both":
            dist = (has_p | has_d) & np.where(has_p, p_any, True) & np.where(has_d, d_any, True)
        elif decision == "pvalue":
            dist = np.where(has_p, p_any, d_any)
        elif decision == "effect":
            dist = np.where(has_d, d_any, p_any)
        else:
            dist = p_any | d_any
        tested = any_of(tested_row)
        # The first reason given for each (chunk, column), if any.
        reason = np.full(n, "", dtype=object)
        given = np.flatnonzero(data["reason"] != "")
        if len(given):
            _, at = np.unique(idx[given], return_index=True)
            reason[idx[given][at]] = data["reason"][given][at]
        return Verdicts(
            group=data["group"][first].astype(np.int64),
            column=[str(c) for c in data["column"][first]],
            tested=tested,
            drifted=(dist | miss) & tested,
            reason=[str(r) for r in reason],
        )

    def columns(self, profile: ReferenceProfile) -> dict[str, NDArray[Any]]:
        """All rows as arrays (``chunk`` first), in chunk then reference column order."""
        data = self.data
        order_of = {name: i for i, name in enumerate(profile.columns)}
        pos = np.array([order_of.get(c, len(order_of)) for c in data["column"]], dtype=np.int64)
        order = np.lexsort((pos, data["group"]))
        out = {"chunk": data["group"][order]}
        for key in (*FRAME_COLUMNS, "note", "exact", "tested"):
            values = data[key][order]
            if key in ("reason", "note"):
                # Empty strings mean "nothing to say": show them as None.
                values = values.copy()
                values[values == ""] = None
            out[key] = values
        return out

    def to_frame(self, profile: ReferenceProfile) -> pd.DataFrame:
        """All rows as a tidy frame with a ``chunk`` column, ordered like the reference."""
        return _frame(self.columns(profile))


def _frame(columns: Mapping[str, NDArray[Any]]) -> pd.DataFrame:
    import pandas as pd

    # Object columns keep None as None; pandas would infer a string dtype and show NaN.
    data = {
        key: pd.Series(values, dtype=object) if key in ("reason", "note") else values
        for key, values in columns.items()
    }
    frame: pd.DataFrame = pd.DataFrame(data)
    return frame


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@attrs.frozen(eq=False, repr=False)
class DriftReport:
    """The result of :meth:`DriftDetector.test`: dataset verdict and one row per column and test.

    Attributes
    ----------
    drifted
        The dataset verdict: at least ``drift_share`` of the tested columns drifted.
    share
        The share of tested columns that drifted.
    drifted_columns
        The drifted columns, in reference order.
    tested_columns
        The columns that could be tested.
    untestable
        Columns that could not be tested, with the reason (missing from
        current, wrong type, no values, unsupported dtype, ...).
    extra_columns
        Columns in current that the reference lacks (not tested).
    alpha, correction, decision, drift_share
        The settings the verdicts were made with.
    summarised
        Whether the report was computed from summaries (chunks, a Dask frame
        or a :class:`BatchProfile`) rather than a pandas frame: then
        :meth:`to_frame` adds the ``exact`` column by default.
    """

    drifted: bool
    share: float
    drifted_columns: tuple[str, ...]
    tested_columns: tuple[str, ...]
    untestable: Mapping[str, str]
    extra_columns: tuple[str, ...]
    alpha: float
    correction: str | None
    decision: str
    drift_share: float
    _table: Mapping[str, NDArray[Any]] = attrs.field(alias="table")
    summarised: bool = attrs.field(default=False, kw_only=True)

    @classmethod
    def build(
        cls,
        *,
        rows: Rows,
        verdicts: Verdicts,
        profile: ReferenceProfile,
        extra_columns: tuple[str, ...],
        alpha: float,
        correction: str | None,
        drift_share: float,
        decision: str,
        summarised: bool = False,
    ) -> DriftReport:
        """Assemble a report from the decided rows of one batch."""
        drifted_set = {c for c, d in zip(verdicts.column, verdicts.drifted, strict=True) if d}
        tested_set = {c for c, t in zip(verdicts.column, verdicts.tested, strict=True) if t}
        untestable = {
            c: r or "no test applies"
            for c, t, r in zip(verdicts.column, verdicts.tested, verdicts.reason, strict=True)
            if not t
        }
        for name, kind in zip(profile.columns, profile.kinds, strict=True):
            if kind == "unsupported":
                untestable[name] = profile.reasons.get(name, "unsupported dtype")
        ordered = list(profile.columns)
        tested = tuple(c for c in ordered if c in tested_set)
        drifted_cols = tuple(c for c in ordered if c in drifted_set)
        share = len(drifted_cols) / len(tested) if tested else 0.0
        table = {
            key: values
            for key, values in rows.columns(profile).items()
            if key not in ("chunk", "tested")
        }
        return cls(
            drifted=bool(tested) and share >= drift_share,
            share=share,
            drifted_columns=drifted_cols,
            tested_columns=tested,
            untestable={c: untestable[c] for c in ordered if c in untestable},
            extra_columns=extra_columns,
            alpha=alpha,
            correction=correction,
            decision=decision,
            drift_share=drift_share,
            table=table,
            summarised=summarised,
        )

    def to_frame(self, *, exact: bool | None = None) -> pd.DataFrame:
        """Return one row per column and test (a copy), in reference column order.

        Columns: ``column, kind, test, statistic, p_value, threshold, drifted,
        n_reference, n_current, missing_reference, missing_current,
        unseen_categories, reason, note``, then ``exact``. ``threshold`` is the
        corrected significance level for p-value tests and the effect-size
        threshold for distances; ``reason`` says why a row could not be tested.

        ``exact`` (bool) says whether the row's statistic equals the one
        computed from the raw values in pandas; when it is False, ``note``
        gives the bound or the reason. The column is included when ``exact``
        is True, left out when False, and by default (None) included only for
        a report computed from summaries (chunks, a Dask frame or a
        :class:`BatchProfile`), so reports of pandas frames keep their
        columns; every row of those is exact.
        """
        include = self.summarised if exact is None else exact
        return _frame({k: v.copy() for k, v in self._table.items() if include or k != "exact"})

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the verdict and every row (NaN as None).

        Every row carries ``exact`` (see :meth:`to_frame`).
        """
        keys = list(self._table)
        columns = [self._table[key].tolist() for key in keys]
        rows = [
            {key: _json(value) for key, value in zip(keys, row, strict=True)}
            for row in zip(*columns, strict=True)
        ]
        return {
            "drifted": self.drifted,
            "share": self.share,
            "drifted_columns": list(self.drifted_columns),
            "tested_columns": list(self.tested_columns),
            "untestable": dict(self.untestable),
            "extra_columns": list(self.extra_columns),
            "alpha": self.alpha,
            "correction": self.correction,
            "decision": self.decision,
            "drift_share": self.drift_share,
            "rows": rows,
        }

    def __repr__(self) -> str:
        cols = ", ".join(self.drifted_columns[:5])
        more = ", ..." if len(self.drifted_columns) > 5 else ""
        return (
            f"DriftReport(drifted={self.drifted}, share={self.share:.2f} "
            f"({len(self.drifted_columns)}/{len(self.tested_columns)} columns)"
            f"{': ' + cols + more if cols else ''})"
        )
