"""DriftDetector: learn a reference once, test current data against it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from mlkit.drift._binned import (
    bin_counts,
    bin_counts_sorted,
    bin_edges,
    hellinger_from_counts,
    jensen_shannon_from_counts,
    psi_from_counts,
)
from mlkit.drift._categorical import chi2_from_counts, tvd_from_counts
from mlkit.drift._common import SortedColumns, check_choice, sort_columns
from mlkit.drift._ecdf import normalize_by_spread, snap_if_exact, sorted_std
from mlkit.drift._encode import (
    CATEGORICAL,
    NUMERIC,
    CategoryEncoder,
    as_frame,
    infer_kinds,
    numeric_matrix,
    with_columns,
)
from mlkit.drift._missing import missing_rate_test_from_counts
from mlkit.drift._profile import BatchProfile, BinSpec, ReferenceProfile
from mlkit.drift._pvalues import cvm_pvalue, ks_pvalue, ks_pvalue_decide
from mlkit.drift._report import Block, DriftReport, Rows, Verdicts
from mlkit.drift._twosample import KSGrid, TwoSampleStats, ecdf_statistics, integral_table
from mlkit.errors import ConfigurationError, DataError, NotFittedError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_TESTS", "DEFAULT_THRESHOLDS", "DriftDetector"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PVALUE_TESTS = ("ks", "cvm", "chi2", "missing")
DISTANCE_TESTS = ("psi", "wasserstein", "jensen_shannon", "hellinger", "tvd")
NUMERIC_TESTS = ("ks", "cvm", "wasserstein", "psi", "jensen_shannon", "hellinger", "missing")
CATEGORICAL_TESTS = ("chi2", "psi", "jensen_shannon", "hellinger", "tvd", "missing")

#: The tests run on each kind of column when ``tests`` is not given.
DEFAULT_TESTS: Mapping[str, tuple[str, ...]] = {
    NUMERIC: ("ks", "psi", "wasserstein", "missing"),
    CATEGORICAL: ("chi2", "psi", "tvd", "missing"),
}
#: Effect-size thresholds: a distance at or above its threshold counts as drift.
#: ``wasserstein`` is normalised by the reference's standard deviation;
#: ``missing`` is the absolute change in the share of missing values.
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "psi": 0.1,
    "wasserstein": 0.1,
    "jensen_shannon": 0.1,
    "hellinger": 0.1,
    "tvd": 0.1,
    "missing": 0.02,
}
GRID_SIZE = 1000
PSI_EPS = 1e-4
_CORRECTIONS = ("bonferroni", "fdr_bh", None)
_DECISIONS = ("both", "pvalue", "effect", "any")
_KS_METHODS = ("fast", "auto", "exact", "asymp")


class DriftDetector:
    """Test current data for drift against a reference learned once.

    Follows scikit-learn's shape: configure here, learn the reference with
    :meth:`fit`, then :meth:`test` each new batch. Numeric columns are sorted
    once at fit; each batch is sorted once and that one sort serves KS,
    Wasserstein, Cramér-von Mises and the binned statistics together.

    Parameters
    ----------
    tests
        Which tests to run. ``None`` runs :data:`DEFAULT_TESTS`: KS, PSI,
        normalised Wasserstein and the missing-rate test on numeric columns;
        chi-square, PSI, TVD and the missing-rate test on categorical ones. A
        list applies each test to the columns it suits (``"ks"`` to numeric,
        ``"chi2"`` to categorical, ``"psi"`` to both); a dict
        ``{"numeric": [...], "categorical": [...]}`` sets each kind apart. A kind
        that no listed test suits keeps its defaults.
    alpha
        Significance level of the p-value tests (KS, Cramér-von Mises,
        chi-square, missing rate), before correction.
    correction
        Multiple-testing correction over all p-value tests of one batch:
        ``"bonferroni"`` (family-wise error at most ``alpha``), ``"fdr_bh"``
        (Benjamini-Hochberg false discovery rate) or ``None``.
    thresholds
        Effect-size thresholds by test name, merged over
        :data:`DEFAULT_THRESHOLDS`.
    decision
        How a column's verdict combines its tests. ``"both"`` (default): the
        p-value tests must reject *and* an effect size must reach its threshold,
        so a huge sample does not flag a negligible shift; ``"pvalue"`` or
        ``"effect"``: only that family decides; ``"any"``: either. A column
        whose missing-value share drifted (significant and at least
        ``thresholds["missing"]``) is drifted whatever the rest says.
    drift_share
        The dataset is drifted when at least this share of its tested columns is.
    categorical, numerical
        Column names whose kind overrides the inference rule (see :meth:`fit`).
    max_categories
        Integer columns with at most this many distinct values are categorical.
    bins, binning
        Bins for PSI, Jensen-Shannon and Hellinger on numeric columns, from
        reference ``"quantile"`` (default) or ``"uniform"`` edges.
    ks_method
        KS p-values: ``"fast"`` (default) computes the asymptotic distribution
        with a finite-sample correction and recomputes scipy's own p-value for
        the columns close to the decision threshold, so every reject/accept
        decision equals scipy's; ``"auto"``, ``"exact"``, ``"asymp"`` use
        scipy's methods throughout.
    nan_policy
        ``"omit"`` (default): missing values are dropped column by column (and
        tested separately by the missing-rate test); ``"propagate"``: a column
        with a missing value is reported untestable; ``"raise"``: a missing
        value raises :class:`~mlkit.errors.DataError`. Infinite values in
        numeric columns count as missing.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"amount": rng.lognormal(3, 1, 2000),
    ...                     "channel": rng.choice(["web", "app"], 2000)})
    >>> cur = pd.DataFrame({"amount": rng.lognormal(3.5, 1, 1000),
    ...                     "channel": rng.choice(["web", "app"], 1000)})
    >>> report = DriftDetector().fit(ref).test(cur)
    >>> report.drifted_columns
    ('amount',)
    >>> report.to_frame().query("column == 'amount'")[["test", "drifted"]]
              test  drifted
    0           ks     True
    1          psi     True
    2  wasserstein     True
    3      missing    False
    """

    def __init__(
        self,
        tests: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        *,
        alpha: float = 0.05,
        correction: Literal["bonferroni", "fdr_bh"] | None = "bonferroni",
        thresholds: Mapping[str, float] | None = None,
        decision: Literal["both", "pvalue", "effect", "any"] = "both",
        drift_share: float = 0.5,
        categorical: Sequence[str] | None = None,
        numerical: Sequence[str] | None = None,
        max_categories: int = 20,
        bins: int = 10,
        binning: Literal["quantile", "uniform"] = "quantile",
        ks_method: Literal["fast", "auto", "exact", "asymp"] = "fast",
        nan_policy: Literal["raise", "omit", "propagate"] = "omit",
    ) -> None:
        self.tests = tests
        self.alpha = alpha
        self.correction = correction
        self.thresholds = thresholds
        self.decision = decision
        self.drift_share = drift_share
        self.categorical = categorical
        self.numerical = numerical
        self.max_categories = max_categories
        self.bins = bins
        self.binning = binning
        self.ks_method = ks_method
        self.nan_policy = nan_policy

    # -- configuration -------------------------------------------------------------

    def _validate_params(self) -> None:
        if not (isinstance(self.alpha, float | int) and 0 < self.alpha < 1):
            raise ConfigurationError(
                f"alpha must be in (0, 1), got {self.alpha!r}",
                value=self.alpha,
                expected="a float in (0, 1)",
            )
        if not (isinstance(self.drift_share, float | int) and 0 < self.drift_share <= 1):
            raise ConfigurationError(
                f"drift_share must be in (0, 1], got {self.drift_share!r}",
                value=self.drift_share,
                expected="a float in (0, 1]",
            )
        if not (isinstance(self.bins, int) and self.bins >= 2):
            raise ConfigurationError(
                f"bins must be an integer >= 2, got {self.bins!r}",
                value=self.bins,
                expected="an integer >= 2",
            )
        check_choice(self.correction, _CORRECTIONS, "correction")
        check_choice(self.decision, _DECISIONS, "decision")
        check_choice(self.binning, ("quantile", "uniform"), "binning")
        check_choice(self.ks_method, _KS_METHODS, "ks_method")
        check_choice(self.nan_policy, ("raise", "omit", "propagate"), "nan_policy")
        for name, value in (self.thresholds or {}).items():
            check_choice(name, (*DISTANCE_TESTS, "missing"), "thresholds key")
            if not value >= 0:
                raise ConfigurationError(
                    f"threshold for {name!r} must be >= 0, got {value!r}",
                    value=value,
                    expected="a non-negative number",
                )
        self._tests_by_kind()

    def _tests_by_kind(self) -> dict[str, tuple[str, ...]]:
        allowed = {NUMERIC: NUMERIC_TESTS, CATEGORICAL: CATEGORICAL_TESTS}
        if self.tests is None:
            return dict(DEFAULT_TESTS)
        if isinstance(self.tests, str):
            raise ConfigurationError(
                f"tests must be a list of test names, got the string {self.tests!r}",
                value=self.tests,
                expected=f"e.g. [{self.tests!r}]",
            )
        if isinstance(self.tests, Mapping):
            out = dict(DEFAULT_TESTS)
            for kind, names in self.tests.items():
                check_choice(kind, (NUMERIC, CATEGORICAL), "tests key")
                for name in names:
                    check_choice(name, allowed[kind], f"a {kind} test")
                out[kind] = tuple(dict.fromkeys(names))
            return out
        names = list(dict.fromkeys(self.tests))
        for name in names:
            check_choice(name, sorted(set(NUMERIC_TESTS) | set(CATEGORICAL_TESTS)), "test")
        out = {}
        for kind in (NUMERIC, CATEGORICAL):
            suited = tuple(n for n in names if n in allowed[kind])
            out[kind] = suited or DEFAULT_TESTS[kind]
        return out

    # -- fit -----------------------------------------------------------------------

    def fit(self, reference: pd.DataFrame) -> DriftDetector:
        """Learn the reference: column kinds, sorted values, bins, categories.

        Parameters
        ----------
        reference
            The reference data, at least 2 rows. Column kinds are inferred
            (see ``max_categories``) unless overridden by ``categorical`` or
            ``numerical``.

        Returns
        -------
        DriftDetector
            ``self``, fitted: ``profile_`` holds what was learned.
        """
        self._validate_params()
        frame = as_frame(reference, name="reference")
        if len(frame) < 2:
            raise DataError(
                f"reference has {len(frame)} row(s); drift tests need at least 2",
                value=len(frame),
                expected="at least 2 rows",
            )
        if frame.shape[1] == 0:
            raise DataError("reference has no columns", value=0, expected="at least 1 column")
        kinds, reasons = infer_kinds(
            frame,
            categorical=list(self.categorical or ()),
            numerical=list(self.numerical or ()),
            max_categories=self.max_categories,
        )
        columns = tuple(frame.columns)
        numeric = tuple(c for c, k in zip(columns, kinds, strict=True) if k == NUMERIC)
        categorical = tuple(c for c, k in zip(columns, kinds, strict=True) if k == CATEGORICAL)
        values, bad = numeric_matrix(frame, numeric)
        if bad:
            name, why = next(iter(bad.items()))
            raise DataError(f"reference column {name!r}: {why}", column=name, expected="numbers")
        if self.nan_policy == "raise":
            _raise_on_missing(frame, columns, "reference")
        ref_sorted = sort_columns(values)
        empty = ref_sorted.n_valid == 0
        for j in np.flatnonzero(empty):
            reasons[numeric[j]] = "no values in reference"
        edges = bin_edges(ref_sorted, bins=self.bins, binning=self.binning)
        grid = bin_edges(ref_sorted, bins=GRID_SIZE, binning="quantile")
        encoder = CategoryEncoder.learn(frame, categorical)
        codes = encoder.codes(frame, categorical)
        cat_counts, _cat_missing = encoder.counts(codes)
        for position, name in enumerate(categorical):
            if not encoder.categories[position]:
                reasons[name] = "no values in reference"
        missing = {name: int(frame[name].isna().sum()) for name in columns}
        # Infinite values count as missing (numeric_matrix made them NaN).
        missing.update(zip(numeric, (int(n) for n in ref_sorted.n_missing), strict=True))
        self.profile_ = ReferenceProfile(
            columns=columns,
            kinds=tuple(kinds),
            reasons=reasons,
            n_rows=len(frame),
            numeric=numeric,
            sorted=ref_sorted,
            edges=edges,
            grid=grid,
            std=sorted_std(ref_sorted),
            categorical=categorical,
            categories=tuple(encoder.categories),
            category_counts=cat_counts,
            missing=missing,
            bins=self.bins,
            binning=self.binning,
        )
        self._encoder = encoder
        self._grid_cache: KSGrid | None = None
        self._table_cache: FloatArray | None = None
        self._ref_bin_counts = bin_counts_sorted(ref_sorted, edges)
        self._ref_grid_counts = bin_counts_sorted(ref_sorted, grid)
        logger.debug("fitted %r", self.profile_)
        return self

    @classmethod
    def from_profile(cls, profile: ReferenceProfile, **params: Any) -> DriftDetector:
        """Build a fitted detector from a saved :class:`ReferenceProfile`.

        ``params`` configure the detector as in the constructor; ``bins`` and
        ``binning`` come from the profile.
        """
        params.update(bins=profile.bins, binning=profile.binning)
        detector = cls(**params)
        detector._validate_params()
        detector.profile_ = profile
        detector._encoder = CategoryEncoder(profile.categories)
        detector._grid_cache = None
        detector._table_cache = None
        detector._ref_bin_counts = bin_counts_sorted(profile.sorted, profile.edges)
        detector._ref_grid_counts = bin_counts_sorted(profile.sorted, profile.grid)
        return detector

    def _check_fitted(self) -> ReferenceProfile:
        profile: ReferenceProfile | None = getattr(self, "profile_", None)
        if profile is None:
            raise NotFittedError(
                "this DriftDetector is not fitted yet; call fit(reference) first",
                expected="a fitted detector",
            )
        return profile

    # -- test ----------------------------------------------------------------------

    def test(self, current: pd.DataFrame) -> DriftReport:
        """Test ``current`` against the reference.

        Columns the reference has but ``current`` lacks, columns of the wrong
        type, and columns with no values are reported untestable, with the
        reason; columns only ``current`` has are listed in
        ``report.extra_columns``. Neither stops the other columns being tested.

        Returns
        -------
        DriftReport
        """
        profile = self._check_fitted()
        frame = as_frame(current, name="current")
        if len(frame) == 0:
            raise DataError("current has no rows", value=0, expected="at least 1 row")
        batch = self._encode(frame, np.zeros(len(frame), dtype=np.int64), 1)
        rows = self._evaluate(batch)
        known = set(profile.columns)
        extra = tuple(c for c in frame.columns if c not in known)
        return self._report(rows, extra)

    def test_chunks(
        self,
        current: pd.DataFrame,
        *,
        size: int | None = None,
        by: str | None = None,
        freq: str = "1D",
    ) -> pd.DataFrame:
        """Test consecutive chunks of ``current`` and return one tidy frame.

        Chunks are either ``size`` rows each (the last may be shorter) or
        periods of ``freq`` on the timestamp column ``by``. All chunks are
        tested in one vectorised pass: every (chunk, column) pair is a column
        of one matrix, so the cost is about that of one test on all rows.

        Returns
        -------
        pandas.DataFrame
            The rows of :meth:`DriftReport.to_frame` for every chunk, with
            ``chunk``, ``chunk_start``, ``chunk_end`` (row positions, or
            timestamps with ``by``), ``chunk_rows`` and ``chunk_drifted`` first.
        """
        import pandas as pd

        profile = self._check_fitted()
        frame = as_frame(current, name="current")
        if (size is None) == (by is None):
            raise ConfigurationError(
                "test_chunks needs exactly one of size= or by=",
                value={"size": size, "by": by},
                expected="size=N or by='timestamp column'",
            )
        if len(frame) == 0:
            raise DataError("current has no rows", value=0, expected="at least 1 row")
        if size is not None:
            if not (isinstance(size, int) and size >= 1):
                raise ConfigurationError(
                    f"size must be a positive integer, got {size!r}",
                    value=size,
                    expected="an integer >= 1",
                )
            groups = np.arange(len(frame), dtype=np.int64) // size
            n_groups = int(groups[-1]) + 1
            starts = np.arange(n_groups) * size
            labels_start: Any = starts
            labels_end: Any = np.minimum(starts + size, len(frame)) - 1
        else:
            assert by is not None
            if by not in frame.columns:
                raise DataError(
                    f"current has no timestamp column {by!r}",
                    column=by,
                    value=by,
                    expected=f"one of {list(frame.columns)[:10]}",
                )
            stamps = pd.to_datetime(frame[by])
            if stamps.isna().any():
                raise DataError(
                    f"timestamp column {by!r} has missing values",
                    column=by,
                    value=None,
                    expected="a timestamp in every row",
                )
            periods = stamps.dt.floor(freq)
            codes, uniques = pd.factorize(periods, sort=True)
            groups = codes.astype(np.int64)
            n_groups = len(uniques)
            labels_start = pd.DatetimeIndex(uniques)
            labels_end = labels_start + pd.tseries.frequencies.to_offset(freq)
            frame = frame.drop(columns=[by])
        batch = self._encode(frame, groups, n_groups)
        rows = self._evaluate(batch)
        out = rows.to_frame(profile)
        chunk = out["chunk"].to_numpy()
        verdict = self._column_verdicts(rows)
        counts = np.bincount(groups, minlength=n_groups)
        tested = np.bincount(verdict.group, weights=verdict.tested, minlength=n_groups)
        drifted = np.bincount(verdict.group, weights=verdict.drifted, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(tested > 0, drifted / tested, 0.0)
        chunk_drifted = (share >= self.drift_share) & (tested > 0)
        front = pd.DataFrame(
            {
                "chunk": chunk,
                "chunk_start": np.asarray(labels_start)[chunk],
                "chunk_end": np.asarray(labels_end)[chunk],
                "chunk_rows": counts[chunk],
                "chunk_drifted": chunk_drifted[chunk],
            }
        )
        result: pd.DataFrame = pd.concat(
            [front, out.drop(columns=["chunk", "tested"]).reset_index(drop=True)], axis=1
        )
        return result

    # -- profiles ------------------------------------------------------------------

    def profile(self, data: pd.DataFrame | None = None) -> BatchProfile:
        """Return a :class:`BatchProfile` of ``data`` (empty when ``None``).

        Update it with more chunks (``profile.update(chunk)``), merge it with
        profiles of other chunks, then :meth:`test_profile` it.
        """
        profile = self._check_fitted()
        batch = BatchProfile.empty(BinSpec.of(profile))
        return batch if data is None else batch.update(data)

    def test_profile(self, batch: BatchProfile) -> DriftReport:
        """Test a :class:`BatchProfile` (see its docstring for which statistics are exact)."""
        profile = self._check_fitted()
        if batch.fingerprint != profile.fingerprint:
            raise ConfigurationError(
                "this batch profile was built against another reference profile",
                value=batch.fingerprint,
                expected=profile.fingerprint,
            )
        k_num = len(profile.numeric)
        enc = _Batch(
            n_groups=1,
            n_rows=np.array([batch.n_rows]),
            num_sorted=None,
            num_grid=batch.grid_counts,
            num_bins=batch.bin_counts,
            num_missing=batch.missing_numeric,
            num_ref=np.arange(k_num),
            num_group=np.zeros(k_num, dtype=np.int64),
            num_reason=[""] * k_num,
            cat_counts=batch.category_counts,
            cat_missing=batch.missing_categorical,
            cat_ref=np.arange(len(profile.categorical)),
            cat_group=np.zeros(len(profile.categorical), dtype=np.int64),
            cat_reason=[""] * len(profile.categorical),
            absent=(),
        )
        return self._report(self._evaluate(enc), ())

    # -- internals -----------------------------------------------------------------

    def _encode(self, frame: pd.DataFrame, groups: IntArray, n_groups: int) -> _Batch:
        profile = self.profile_
        present = set(frame.columns)
        absent = tuple(c for c in profile.columns if c not in present)
        if self.nan_policy == "raise":
            _raise_on_missing(frame, [c for c in profile.columns if c in present], "current")
        k_num, k_cat = len(profile.numeric), len(profile.categorical)
        values, bad = numeric_matrix(with_columns(frame, profile.numeric), profile.numeric)
        num_reason = [
            "missing from current" if name in absent else bad.get(name, "")
            for name in profile.numeric
        ]
        # One matrix column per (chunk, reference column): pad chunks with NaN.
        counts = np.bincount(groups, minlength=n_groups)
        width = int(counts.max())
        if n_groups == 1:
            stacked = values
        else:
            order = np.argsort(groups, kind="stable")
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            slot = np.arange(len(groups)) - starts[groups[order]]
            stacked = np.full((width, n_groups, k_num), np.nan)
            stacked[slot, groups[order]] = values[order]
            stacked = stacked.reshape(width, n_groups * k_num)
        padding = width - np.repeat(counts, k_num)
        num_tests = self._tests_by_kind()[NUMERIC]
        num_sorted: SortedColumns | None = None
        num_bins: IntArray | None = None
        if any(t in num_tests for t in ("ks", "cvm", "wasserstein")):
            num_sorted = sort_columns(stacked)
            num_missing = num_sorted.n_missing - padding
        else:  # binned tests only: counting beats sorting
            edges = profile.edges[np.tile(np.arange(k_num), n_groups)]
            num_bins = bin_counts(stacked, edges)
            num_missing = np.isnan(stacked).sum(axis=0) - padding
        codes = self._encoder.codes(with_columns(frame, profile.categorical), profile.categorical)
        cat_counts, cat_missing = self._encoder.counts(codes, groups, n_groups)
        cat_reason = ["missing from current" if n in absent else "" for n in profile.categorical]
        return _Batch(
            n_groups=n_groups,
            n_rows=counts,
            num_sorted=num_sorted,
            num_grid=None,
            num_bins=num_bins,
            num_missing=num_missing.astype(np.int64),
            num_ref=np.tile(np.arange(k_num), n_groups),
            num_group=np.repeat(np.arange(n_groups), k_num),
            num_reason=num_reason * n_groups,
            cat_counts=cat_counts,
            cat_missing=cat_missing,
            cat_ref=np.tile(np.arange(k_cat), n_groups),
            cat_group=np.repeat(np.arange(n_groups), k_cat),
            cat_reason=cat_reason * n_groups,
            absent=absent,
        )

    def _evaluate(self, batch: _Batch) -> Rows:
        tests = self._tests_by_kind()
        thresholds = {**DEFAULT_THRESHOLDS, **(self.thresholds or {})}
        rows = Rows()
        self._numeric_rows(batch, tests[NUMERIC], thresholds, rows)
        self._categorical_rows(batch, tests[CATEGORICAL], thresholds, rows)
        rows.finish(
            alpha=self.alpha,
            correction=self.correction,
            n_groups=batch.n_groups,
            refine=self._refine_ks if self.ks_method == "fast" else None,
        )
        return rows

    def _ks_grid(self) -> KSGrid:
        grid = getattr(self, "_grid_cache", None)
        if grid is None:
            grid = self._grid_cache = KSGrid.build(self.profile_.sorted)
        return grid

    def _integral_table(self, batch_rows: int) -> FloatArray | None:
        # Only a batch much smaller than the reference integrates through the table.
        if 8 * batch_rows > self.profile_.sorted.n_rows:
            return None
        table = getattr(self, "_table_cache", None)
        if table is None:
            table = self._table_cache = integral_table(self.profile_.sorted)
        return table

    def _refine_ks(self, rows: Rows, threshold: FloatArray, index: IntArray) -> FloatArray:
        """Recompute the fast KS p-values of ``rows[index]`` against ``threshold``."""
        return ks_pvalue_decide(
            rows.statistic[index],
            rows.n_reference[index],
            rows.n_current[index],
            alternative="two-sided",
            threshold=threshold,
        )

    def _block(
        self,
        *,
        group: IntArray,
        names: list[str],
        kind: str,
        reason: list[str],
        n_ref: IntArray,
        n_cur: IntArray,
        ref_missing: IntArray,
        cur_missing: IntArray,
        unseen: IntArray,
    ) -> Block:
        """Collect one kind's shared row fields, with the reasons a column can't be tested."""
        why = np.array(reason, dtype=object)
        why[(why == "") & (n_ref == 0)] = "no values in reference"
        why[(why == "") & (n_cur == 0)] = "no values in current"
        if self.nan_policy == "propagate":
            has_missing = (cur_missing > 0) | (ref_missing > 0)
            why[(why == "") & has_missing] = "missing values under nan_policy='propagate'"
        return Block(
            group=group,
            column=names,
            kind=kind,
            n_reference=n_ref,
            n_current=n_cur,
            missing_reference=ref_missing,
            missing_current=cur_missing,
            unseen=unseen,
            reason=why,
        )

    def _missing_row(self, block: Block, threshold: float, rows: Rows) -> None:
        share, p = missing_rate_test_from_counts(
            block.missing_reference,
            block.n_reference + block.missing_reference,
            block.missing_current,
            block.n_current + block.missing_current,
        )
        rows.add(block, test="missing", statistic=share, p_value=p, threshold=threshold)

    def _numeric_rows(
        self,
        batch: _Batch,
        tests: Sequence[str],
        thresholds: Mapping[str, float],
        rows: Rows,
    ) -> None:
        profile = self.profile_
        ref_idx = batch.num_ref
        if len(ref_idx) == 0:
            return
        n_ref = profile.sorted.n_valid[ref_idx]
        if batch.num_sorted is not None:
            n_cur = batch.num_sorted.n_valid
        elif batch.num_bins is not None:
            n_cur = batch.num_bins.sum(axis=1)
        else:
            assert batch.num_grid is not None
            n_cur = batch.num_grid.sum(axis=1)
        missing_of = np.array([profile.missing[n] for n in profile.numeric], dtype=np.int64)
        block = self._block(
            group=batch.num_group,
            names=[profile.numeric[j] for j in ref_idx],
            kind=NUMERIC,
            reason=batch.num_reason,
            n_ref=n_ref,
            n_cur=n_cur,
            ref_missing=missing_of[ref_idx],
            cur_missing=batch.num_missing,
            unseen=np.zeros(len(ref_idx), dtype=np.int64),
        )
        stats: TwoSampleStats | None = None
        from_profile = batch.num_sorted is None
        if batch.num_sorted is not None and {"ks", "cvm", "wasserstein"} & set(tests):
            stats = ecdf_statistics(
                profile.sorted,
                batch.num_sorted,
                ks="ks" in tests,
                wasserstein="wasserstein" in tests,
                cvm="cvm" in tests,
                grid=self._ks_grid() if "ks" in tests else None,
                table=(
                    self._integral_table(batch.num_sorted.n_rows)
                    if "wasserstein" in tests
                    else None
                ),
                ref_index=ref_idx,
            )
        elif "ks" in tests:
            assert batch.num_grid is not None
            d_grid = _ks_from_grid(self._ref_grid_counts[ref_idx], batch.num_grid)
            stats = TwoSampleStats(d_grid, d_grid, None, None)
        binned = {"psi", "jensen_shannon", "hellinger"} & set(tests)
        if not binned:
            cur_bins = ref_bins = np.zeros((len(ref_idx), 0), dtype=np.int64)
        elif batch.num_sorted is not None:
            cur_bins = bin_counts_sorted(batch.num_sorted, profile.edges[ref_idx])
            ref_bins = self._ref_bin_counts[ref_idx]
        else:
            assert batch.num_bins is not None
            cur_bins, ref_bins = batch.num_bins, self._ref_bin_counts[ref_idx]
        needs_values = _needs_values(block.reason)
        for test in tests:
            if test == "ks":
                assert stats is not None
                method = self.ks_method
                # Report the statistic as scipy's method="auto" would, whatever the p-values.
                snap = "auto" if method == "fast" else method
                d = snap_if_exact(stats.ks, n_ref, n_cur, snap)
                p = ks_pvalue(d, n_ref, n_cur, method=method)
                note = _KS_PROFILE_NOTE if from_profile else ""
                rows.add(block, test="ks", statistic=d, p_value=p, note=note)
            elif test == "cvm" and (stats is None or stats.cvm_u is None):
                nan = np.full(len(ref_idx), np.nan)
                rows.add(block, test="cvm", statistic=nan, p_value=nan, reason=needs_values)
            elif test == "cvm":
                assert stats is not None
                assert stats.cvm_u is not None
                n, m = n_ref.astype(float), n_cur.astype(float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = stats.cvm_u / (n * m * (n + m)) - (4 * n * m - 1) / (6 * (n + m))
                p = cvm_pvalue(t, n_ref, n_cur, u=stats.cvm_u)
                rows.add(block, test="cvm", statistic=t, p_value=p)
            elif test == "wasserstein" and (stats is None or stats.wasserstein is None):
                nan = np.full(len(ref_idx), np.nan)
                rows.add(
                    block,
                    test="wasserstein",
                    statistic=nan,
                    threshold=thresholds[test],
                    reason=needs_values,
                )
            elif test == "wasserstein":
                assert stats is not None
                assert stats.wasserstein is not None
                w = normalize_by_spread(stats.wasserstein, profile.std[ref_idx])
                rows.add(block, test=test, statistic=w, threshold=thresholds[test])
            elif test in ("psi", "jensen_shannon", "hellinger"):
                value = _binned(test, ref_bins, cur_bins)
                rows.add(block, test=test, statistic=value, threshold=thresholds[test])
            elif test == "missing":
                self._missing_row(block, thresholds["missing"], rows)

    def _categorical_rows(
        self,
        batch: _Batch,
        tests: Sequence[str],
        thresholds: Mapping[str, float],
        rows: Rows,
    ) -> None:
        profile = self.profile_
        ref_idx = batch.cat_ref
        if len(ref_idx) == 0:
            return
        ref_counts = profile.category_counts[ref_idx]
        cur_counts = batch.cat_counts
        missing_of = np.array([profile.missing[n] for n in profile.categorical], dtype=np.int64)
        block = self._block(
            group=batch.cat_group,
            names=[profile.categorical[j] for j in ref_idx],
            kind=CATEGORICAL,
            reason=batch.cat_reason,
            n_ref=ref_counts.sum(axis=1),
            n_cur=cur_counts.sum(axis=1),
            ref_missing=missing_of[ref_idx],
            cur_missing=batch.cat_missing,
            unseen=cur_counts[:, -1],
        )
        for test in tests:
            if test == "chi2":
                stat, p = chi2_from_counts(ref_counts, cur_counts)
                rows.add(block, test="chi2", statistic=stat, p_value=p)
            elif test == "tvd":
                value = tvd_from_counts(ref_counts, cur_counts)
                rows.add(block, test="tvd", statistic=value, threshold=thresholds["tvd"])
            elif test in ("psi", "jensen_shannon", "hellinger"):
                value = _binned(test, ref_counts, cur_counts)
                rows.add(block, test=test, statistic=value, threshold=thresholds[test])
            elif test == "missing":
                self._missing_row(block, thresholds["missing"], rows)

    def _column_verdicts(self, rows: Rows) -> Verdicts:
        return rows.verdicts(self.decision)

    def _report(self, rows: Rows, extra: tuple[str, ...]) -> DriftReport:
        profile = self.profile_
        verdict = self._column_verdicts(rows)
        return DriftReport.build(
            rows=rows,
            verdicts=verdict,
            profile=profile,
            extra_columns=extra,
            alpha=self.alpha,
            correction=self.correction,
            drift_share=self.drift_share,
            decision=self.decision,
        )

    def __repr__(self) -> str:
        fitted = "fitted" if getattr(self, "profile_", None) is not None else "not fitted"
        return f"DriftDetector(tests={self.tests!r}, alpha={self.alpha!r}, {fitted})"


_KS_PROFILE_NOTE = (
    "approximate: KS from a merged profile; statistic is a lower bound, "
    "see BatchProfile for the bound"
)


@attrs.frozen(eq=False)
class _Batch:
    """Current data in the detector's layout: one entry per (chunk, column)."""

    n_groups: int
    n_rows: IntArray
    num_sorted: SortedColumns | None
    num_grid: IntArray | None
    num_bins: IntArray | None
    num_missing: IntArray
    num_ref: IntArray
    num_group: IntArray
    num_reason: list[str]
    cat_counts: IntArray
    cat_missing: IntArray
    cat_ref: IntArray
    cat_group: IntArray
    cat_reason: list[str]
    absent: tuple[str, ...]


def _ks_from_grid(ref_counts: IntArray, cur_counts: IntArray) -> FloatArray:
    """KS statistic read on a shared grid: a lower bound of the exact one.

    The exact statistic exceeds it by at most the largest share of either
    sample in one grid cell (see :class:`BatchProfile`).
    """
    n = ref_counts.sum(axis=1, keepdims=True).astype(np.float64)
    m = cur_counts.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_ref = np.cumsum(ref_counts, axis=1) / n
        f_cur = np.cumsum(cur_counts, axis=1) / m
        d: FloatArray = np.abs(f_ref - f_cur).max(axis=1, initial=0.0)
    return d


def _binned(test: str, ref_counts: IntArray, cur_counts: IntArray) -> FloatArray:
    if test == "psi":
        return np.asarray(psi_from_counts(ref_counts, cur_counts, eps=PSI_EPS), dtype=np.float64)
    if test == "jensen_shannon":
        return np.asarray(jensen_shannon_from_counts(ref_counts, cur_counts), dtype=np.float64)
    return np.asarray(hellinger_from_counts(ref_counts, cur_counts), dtype=np.float64)


def _needs_values(reason: NDArray[np.object_]) -> NDArray[np.object_]:
    return np.where(reason == "", "needs raw values; not available from a merged profile", reason)


def _raise_on_missing(frame: pd.DataFrame, columns: Sequence[str], label: str) -> None:
    import pandas as pd

    sub = frame[list(columns)]
    counts = sub.isna().sum()
    numeric = sub.select_dtypes("number")
    if numeric.shape[1]:  # infinite values count as missing (see numeric_matrix)
        infinite = np.isinf(numeric.to_numpy(dtype=np.float64, na_value=np.nan)).sum(axis=0)
        counts = counts.add(pd.Series(infinite, index=numeric.columns), fill_value=0)
    bad = counts[counts > 0]
    if len(bad):
        name = str(bad.index[0])
        raise DataError(
            f"{label} column {name!r} has {int(bad.iloc[0])} missing value(s); pass "
            "nan_policy='omit' to test without them (the missing-rate test still sees them)",
            column=name,
            value=float("nan"),
            expected="no missing values under nan_policy='raise'",
        )
