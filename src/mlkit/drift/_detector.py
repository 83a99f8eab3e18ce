"""DriftDetector: learn a reference once, test current data against it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from mlkit._frames import is_dask_frame, iter_pieces, map_reduce
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
from mlkit.drift._scale import (
    RefConfig,
    ReferenceCounts,
    count_reference,
    distinct_points,
    ks_bounds,
    ks_count_sorted,
    merge_reference,
    sample_points,
    summarise_reference,
    wasserstein_bounds,
)
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
    max_sorted
        The most rows of a reference given in pieces (an iterable of pandas
        chunks or a Dask frame) that :meth:`fit` holds sorted, per numeric
        column. At or below it every statistic equals the pandas result.
        Above it the reference is summarised without holding its values
        (exact counts on edges taken from a hash sample of its distinct
        values): KS is then bounded rather than exact, and the binned
        statistics use sampled bin edges (see the scaling page of the docs). A pandas
        reference is always held sorted.

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
        max_sorted: int = 5_000_000,
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
        self.max_sorted = max_sorted

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
        max_sorted = getattr(self, "max_sorted", 5_000_000)
        if not (isinstance(max_sorted, int) and max_sorted >= 2):
            raise ConfigurationError(
                f"max_sorted must be an integer >= 2, got {max_sorted!r}",
                value=max_sorted,
                expected="an integer >= 2",
            )
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

    def fit(self, reference: pd.DataFrame | Iterable[pd.DataFrame] | Any) -> DriftDetector:
        """Learn the reference: column kinds, sorted values, bins, categories.

        Parameters
        ----------
        reference
            The reference data, at least 2 rows: a pandas frame, an iterable
            of pandas chunks (same columns) or a Dask DataFrame. Column kinds
            are inferred (see ``max_categories``) unless overridden by
            ``categorical`` or ``numerical``; for pieces, from the first
            piece's dtypes and the distinct values of all pieces. Pieces are
            summarised one at a time (on the workers for Dask) and merged;
            up to ``max_sorted`` rows the result equals fitting the
            concatenated pandas frame. Above it a one-shot iterator cannot
            be read twice and raises :class:`~mlkit.errors.ConfigurationError`:
            pass a list, a re-iterable object or a Dask frame.

        Returns
        -------
        DriftDetector
            ``self``, fitted: ``profile_`` holds what was learned.
        """
        self._validate_params()
        if not _is_pandas(reference):
            return self._fit_pieces(reference)
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
        profile = ReferenceProfile(
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
        self._set_fitted(profile, encoder)
        logger.debug("fitted %r", profile)
        return self

    def _set_fitted(self, profile: ReferenceProfile, encoder: CategoryEncoder) -> None:
        self.profile_ = profile
        self._encoder = encoder
        self._grid_cache: KSGrid | None = None
        self._table_cache: FloatArray | None = None
        self._spec_cache: dict[bool, BinSpec] = {}
        self._ref_ks: tuple[IntArray, IntArray] | None = None
        if profile.counts is None:
            self._ref_bin_counts = bin_counts_sorted(profile.sorted, profile.edges)
            self._ref_grid_counts = bin_counts_sorted(profile.sorted, profile.grid)
        else:
            self._ref_bin_counts = profile.counts.bin_counts
            self._ref_grid_counts = profile.counts.grid_counts

    def _fit_pieces(self, reference: Any) -> DriftDetector:
        """Fit on chunks or a Dask frame: one pass, or two above ``max_sorted``."""
        config = RefConfig(
            categorical=tuple(self.categorical or ()),
            numerical=tuple(self.numerical or ()),
            max_categories=self.max_categories,
            max_sorted=self.max_sorted,
            raise_on_missing=self.nan_policy == "raise",
        )
        one_shot = not is_dask_frame(reference) and iter(reference) is reference
        summary = map_reduce(
            reference,
            functools.partial(summarise_reference, config=config),
            merge_reference,
            name="reference",
        )
        meta = summary.meta
        if summary.n_rows < 2:
            raise DataError(
                f"reference has {summary.n_rows} row(s); drift tests need at least 2",
                value=summary.n_rows,
                expected="at least 2 rows",
            )
        if meta.shape[1] == 0:
            raise DataError("reference has no columns", value=0, expected="at least 1 column")
        distinct = {
            name: self.max_categories + 1 if cats is None else len(cats[0])
            for name, cats in summary.categories.items()
        }
        kinds, reasons = infer_kinds(
            meta,
            categorical=list(self.categorical or ()),
            numerical=list(self.numerical or ()),
            max_categories=self.max_categories,
            distinct=distinct,
        )
        columns = tuple(meta.columns)
        numeric = tuple(c for c, k in zip(columns, kinds, strict=True) if k == NUMERIC)
        categorical = tuple(c for c, k in zip(columns, kinds, strict=True) if k == CATEGORICAL)
        idx = [summary.numeric.index(c) for c in numeric]
        n_valid = summary.moments.n[idx].astype(np.int64)
        for j in np.flatnonzero(n_valid == 0):
            reasons[numeric[j]] = "no values in reference"
        cats: list[tuple[Any, ...]] = []
        cat_lists = []
        for name in categorical:
            entry = summary.categories[name]
            assert entry is not None
            cats.append(entry[0])
            cat_lists.append(entry[1])
            if not entry[0]:
                reasons[name] = "no values in reference"
        encoder = CategoryEncoder(cats)
        cat_counts = np.zeros((len(categorical), encoder.width + 1), dtype=np.int64)
        for i, counts in enumerate(cat_lists):
            cat_counts[i, : len(counts)] = counts
        missing = dict(summary.missing)
        missing.update(zip(numeric, (int(summary.missing_numeric[i]) for i in idx), strict=True))
        counts_: ReferenceCounts | None = None
        if summary.values is not None:
            ref_sorted = sort_columns(summary.values[:, idx])
            edges = bin_edges(ref_sorted, bins=self.bins, binning=self.binning)
            grid = bin_edges(ref_sorted, bins=GRID_SIZE, binning="quantile")
            std = sorted_std(ref_sorted)
        else:
            if one_shot:
                raise ConfigurationError(
                    f"the reference has {summary.n_rows} rows, more than max_sorted="
                    f"{self.max_sorted}, and comes as a one-shot iterator: summarising it "
                    "without holding its values needs a second pass; pass a list of chunks, "
                    "an object whose __iter__ reads the data again, or a Dask frame",
                    value=summary.n_rows,
                    expected=f"at most {self.max_sorted} rows, or a re-iterable reference",
                )
            assert summary.samples is not None
            samples = [summary.samples[i] for i in idx]
            ref_sorted = SortedColumns(np.empty((len(numeric), 0)), n_valid)
            grid = _rows(
                [sample_points(s, np.linspace(0, 1, GRID_SIZE + 1)) for s in samples],
                GRID_SIZE + 1,
            )
            if self.binning == "quantile":
                edges = _rows(
                    [sample_points(s, np.linspace(0, 1, self.bins + 1)) for s in samples],
                    self.bins + 1,
                )
            else:
                low, high = summary.low[idx], summary.high[idx]
                edges = _rows(
                    [np.linspace(a, b, self.bins + 1) for a, b in zip(low, high, strict=True)],
                    self.bins + 1,
                )
            points = np.concatenate([s.values for s in samples] or [np.empty(0)])
            offsets = np.zeros(len(samples) + 1, dtype=np.int64)
            offsets[1:] = np.cumsum([len(s.values) for s in samples])
            counts_ = map_reduce(
                reference,
                functools.partial(
                    count_reference,
                    numeric=numeric,
                    points=points,
                    offsets=offsets,
                    edges=edges,
                    grid=grid,
                ),
                ReferenceCounts.merge,
                name="reference",
            )
            std = summary.moments.std[idx]
        profile = ReferenceProfile(
            columns=columns,
            kinds=tuple(kinds),
            reasons=reasons,
            n_rows=summary.n_rows,
            numeric=numeric,
            sorted=ref_sorted,
            edges=edges,
            grid=grid,
            std=std,
            categorical=categorical,
            categories=tuple(cats),
            category_counts=cat_counts,
            missing=missing,
            bins=self.bins,
            binning=self.binning,
            counts=counts_,
        )
        self._set_fitted(profile, encoder)
        logger.debug("fitted %r from pieces", profile)
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
        detector._set_fitted(profile, CategoryEncoder(profile.categories))
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

    def test(self, current: pd.DataFrame | Iterable[pd.DataFrame] | Any) -> DriftReport:
        """Test ``current`` against the reference.

        Columns the reference has but ``current`` lacks, columns of the wrong
        type, and columns with no values are reported untestable, with the
        reason; columns only ``current`` has are listed in
        ``report.extra_columns``. Neither stops the other columns being tested.

        ``current`` is a pandas frame, an iterable of pandas chunks or a Dask
        DataFrame. Chunks and partitions are summarised one at a time (on the
        workers for Dask) into one :class:`BatchProfile` with exact KS counts,
        never collecting the data: KS, PSI, Jensen-Shannon, Hellinger,
        chi-square, TVD and the missing-rate test then equal the pandas
        result when the reference is held sorted (see ``max_sorted``);
        the normalised Wasserstein distance is then bounded from sums kept
        between consecutive reference values, and exact unless the two
        ECDFs cross strictly between two of them (the statistic is the lower
        bound, the interval in ``note``; see :class:`BatchProfile`).
        Cramér-von Mises, and Wasserstein above ``max_sorted``, need the raw
        values and are reported untestable. Each row's ``exact`` says which
        (see :meth:`DriftReport.to_frame`).

        Returns
        -------
        DriftReport
        """
        profile = self._check_fitted()
        if not (_is_pandas(current) and profile.held_sorted):
            return self._test_pieces(current)
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
            [front, out.drop(columns=["chunk", "tested", "exact"]).reset_index(drop=True)],
            axis=1,
        )
        return result

    # -- profiles ------------------------------------------------------------------

    def profile(
        self,
        data: pd.DataFrame | Iterable[pd.DataFrame] | Any | None = None,
        *,
        exact_ks: bool = False,
    ) -> BatchProfile:
        """Return a :class:`BatchProfile` of ``data`` (empty when ``None``).

        ``data`` is a pandas frame, an iterable of pandas chunks or a Dask
        DataFrame (summarised per partition on the workers, then merged).
        Update the profile with more chunks (``profile.update(chunk)``),
        merge it with profiles of other chunks, then :meth:`test_profile` it.

        With ``exact_ks=True`` the profile also counts the batch at the
        reference's distinct values (``2 d + 1`` counters per numeric
        column), which makes its KS statistic exact when the reference is
        held sorted, and then also keeps ``d + 1`` float gap sums per numeric
        column, from which the Wasserstein distance is bounded (exact unless
        the ECDFs cross between two reference values). The default keeps
        the constant-size grid, whose KS is a bounded approximation.
        Profiles merge only with the same setting.
        """
        self._check_fitted()
        spec = self._spec(exact_ks)
        if data is None:
            return BatchProfile.empty(spec)
        if _is_pandas(data):
            return BatchProfile.empty(spec).update(data)
        return _profile_of(data, spec, raise_missing=False, name="data")

    def _spec(self, exact_ks: bool) -> BinSpec:
        cache: dict[bool, BinSpec] = self.__dict__.setdefault("_spec_cache", {})
        if exact_ks not in cache:
            profile = self.profile_
            points: tuple[FloatArray, IntArray] | None = None
            if exact_ks and profile.counts is None:
                points = distinct_points(profile.sorted)
            elif exact_ks:
                assert profile.counts is not None
                points = (profile.counts.ks_points, profile.counts.ks_offsets)
            cache[exact_ks] = BinSpec.of(profile, ks_points=points)
        return cache[exact_ks]

    def _ref_ks_counts(self) -> tuple[IntArray, IntArray]:
        profile = self.profile_
        if profile.counts is not None:
            return profile.counts.ks_below, profile.counts.ks_equal
        cached: tuple[IntArray, IntArray] | None = getattr(self, "_ref_ks", None)
        if cached is None:
            spec = self._spec(True)
            assert spec.ks_points is not None
            assert spec.ks_offsets is not None
            cached = ks_count_sorted(profile.sorted, spec.ks_points, spec.ks_offsets)
            self._ref_ks = cached
        return cached

    def _test_pieces(self, current: Any) -> DriftReport:
        profile = self.profile_
        batch = _profile_of(
            current, self._spec(True), raise_missing=self.nan_policy == "raise", name="current"
        )
        if batch.n_rows == 0:
            raise DataError("current has no rows", value=0, expected="at least 1 row")
        seen = set(batch.columns_seen)
        known = set(profile.columns)
        absent = tuple(c for c in profile.columns if c not in seen)
        extra = tuple(c for c in batch.columns_seen if c not in known)
        reasons = dict.fromkeys(absent, "missing from current")
        reasons.update({k: v for k, v in batch.reasons.items() if k not in reasons})
        return self._test_batch(batch, reasons=reasons, absent=absent, extra=extra)

    def test_profile(self, batch: BatchProfile) -> DriftReport:
        """Test a :class:`BatchProfile` (see its docstring for which statistics are exact)."""
        self._check_fitted()
        return self._test_batch(batch, reasons={}, absent=(), extra=())

    def _test_batch(
        self,
        batch: BatchProfile,
        *,
        reasons: Mapping[str, str],
        absent: tuple[str, ...],
        extra: tuple[str, ...],
    ) -> DriftReport:
        profile = self.profile_
        if batch.fingerprint != profile.fingerprint:
            raise ConfigurationError(
                "this batch profile was built against another reference profile",
                value=batch.fingerprint,
                expected=profile.fingerprint,
            )
        num_ks = None
        if batch.ks_below is not None and batch.ks_equal is not None:
            num_ks = (batch.ks_below, batch.ks_equal)
        num_gaps = batch.ks_gaps if batch.spec.ks_exact and profile.held_sorted else None
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
            num_reason=[reasons.get(n, "") for n in profile.numeric],
            cat_counts=batch.category_counts,
            cat_missing=batch.missing_categorical,
            cat_ref=np.arange(len(profile.categorical)),
            cat_group=np.zeros(len(profile.categorical), dtype=np.int64),
            cat_reason=[reasons.get(n, "") for n in profile.categorical],
            absent=absent,
            num_ks=num_ks,
            num_gaps=num_gaps,
        )
        return self._report(self._evaluate(enc), extra, summarised=True)

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
        ks_bound: tuple[FloatArray, FloatArray] | None = None
        from_profile = batch.num_sorted is None
        binned_exact = not from_profile or profile.held_sorted
        binned_note = "" if binned_exact else _SAMPLED_BINS_NOTE
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
        elif "ks" in tests and batch.num_ks is not None:
            spec = self._spec(True)
            assert spec.ks_offsets is not None
            d_grid, d_upper, width = ks_bounds(
                *self._ref_ks_counts(), *batch.num_ks, spec.ks_offsets
            )
            stats = TwoSampleStats(d_grid, d_grid, None, None)
            ks_bound = (d_upper, width)
        elif "ks" in tests:
            assert batch.num_grid is not None
            d_grid = _ks_from_grid(self._ref_grid_counts[ref_idx], batch.num_grid)
            stats = TwoSampleStats(d_grid, d_grid, None, None)
        w_bound: tuple[FloatArray, FloatArray] | None = None
        if (
            batch.num_sorted is None
            and "wasserstein" in tests
            and batch.num_ks is not None
            and batch.num_gaps is not None
        ):
            spec = self._spec(True)
            assert spec.ks_points is not None
            assert spec.ks_offsets is not None
            w_lo, w_hi = wasserstein_bounds(
                *self._ref_ks_counts(),
                *batch.num_ks,
                batch.num_gaps,
                spec.ks_points,
                spec.ks_offsets,
            )
            w_bound = (w_lo[ref_idx], w_hi[ref_idx])
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
                if ks_bound is None:
                    note: Any = _KS_PROFILE_NOTE if from_profile else ""
                    rows.add(
                        block, test="ks", statistic=d, p_value=p, note=note, exact=not from_profile
                    )
                else:
                    exact, note = self._ks_bound_notes(stats.ks, d, p, ks_bound, n_ref, n_cur)
                    rows.add(block, test="ks", statistic=d, p_value=p, note=note, exact=exact)
            elif test == "cvm" and (stats is None or stats.cvm_u is None):
                nan = np.full(len(ref_idx), np.nan)
                rows.add(
                    block,
                    test="cvm",
                    statistic=nan,
                    p_value=nan,
                    reason=needs_values,
                    exact=False,
                )
            elif test == "cvm":
                assert stats is not None
                assert stats.cvm_u is not None
                n, m = n_ref.astype(float), n_cur.astype(float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = stats.cvm_u / (n * m * (n + m)) - (4 * n * m - 1) / (6 * (n + m))
                p = cvm_pvalue(t, n_ref, n_cur, u=stats.cvm_u)
                rows.add(block, test="cvm", statistic=t, p_value=p)
            elif test == "wasserstein" and w_bound is not None:
                std = profile.std[ref_idx]
                w_lo = normalize_by_spread(w_bound[0], std)
                w_hi = normalize_by_spread(w_bound[1], std)
                w_exact = ~(w_hi > w_lo)  # NaN (untestable) rows count as exact
                w_note = np.full(len(ref_idx), "", dtype=object)
                for k in np.flatnonzero(~w_exact):
                    w_note[k] = _W_BOUND_NOTE.format(lo=w_lo[k], hi=w_hi[k])
                rows.add(
                    block,
                    test=test,
                    statistic=w_lo,
                    threshold=thresholds[test],
                    note=w_note,
                    exact=w_exact,
                )
            elif test == "wasserstein" and (stats is None or stats.wasserstein is None):
                nan = np.full(len(ref_idx), np.nan)
                rows.add(
                    block,
                    test="wasserstein",
                    statistic=nan,
                    threshold=thresholds[test],
                    reason=needs_values,
                    exact=False,
                )
            elif test == "wasserstein":
                assert stats is not None
                assert stats.wasserstein is not None
                w = normalize_by_spread(stats.wasserstein, profile.std[ref_idx])
                rows.add(block, test=test, statistic=w, threshold=thresholds[test])
            elif test in ("psi", "jensen_shannon", "hellinger"):
                value = _binned(test, ref_bins, cur_bins)
                rows.add(
                    block,
                    test=test,
                    statistic=value,
                    threshold=thresholds[test],
                    note=binned_note,
                    exact=binned_exact,
                )
            elif test == "missing":
                self._missing_row(block, thresholds["missing"], rows)

    def _ks_bound_notes(
        self,
        d_grid: FloatArray,
        d: FloatArray,
        p: FloatArray,
        bound: tuple[FloatArray, FloatArray],
        n_ref: IntArray,
        n_cur: IntArray,
    ) -> tuple[NDArray[np.bool_], NDArray[np.object_]]:
        """Which KS rows are exact, and the note with the bound for the others."""
        d_upper, width = bound
        exact = ~(d_upper > d_grid)  # NaN (untestable) rows count as exact: nothing to bound
        note = np.full(len(d), "", dtype=object)
        loose = np.flatnonzero(~exact)
        if len(loose):
            snap = "auto" if self.ks_method == "fast" else self.ks_method
            d_hi = snap_if_exact(d_upper[loose], n_ref[loose], n_cur[loose], snap)
            method = "auto" if self.ks_method == "fast" else self.ks_method
            p_hi = ks_pvalue(d_hi, n_ref[loose], n_cur[loose], method=method)
            for i, k in enumerate(loose):
                note[k] = _KS_BOUND_NOTE.format(
                    lo=d[k], hi=d_hi[i], w=width[k], p_lo=p[k], p_hi=p_hi[i]
                )
        return exact, note

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

    def _report(
        self, rows: Rows, extra: tuple[str, ...], *, summarised: bool = False
    ) -> DriftReport:
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
            summarised=summarised,
        )

    def __repr__(self) -> str:
        fitted = "fitted" if getattr(self, "profile_", None) is not None else "not fitted"
        return f"DriftDetector(tests={self.tests!r}, alpha={self.alpha!r}, {fitted})"


_KS_BOUND_NOTE = (
    "approximate: reference larger than max_sorted, summarised on sampled points; "
    "the exact KS statistic D lies in [{lo:.6g}, {hi:.6g}] (width at most w = {w:.3g}). "
    "statistic and p_value are at the lower end D_grid (p_value is then an upper bound "
    "of the exact p-value), so drift is flagged only when every D in the interval "
    "rejects; the p-value at the upper end is {p_hi:.3g}"
)
_W_BOUND_NOTE = (
    "approximate: Wasserstein from a merged profile; the exact normalised distance lies "
    "in [{lo:.6g}, {hi:.6g}] (the two ECDFs cross between consecutive reference values). "
    "statistic is the lower end, so drift is flagged only when every value in the "
    "interval reaches the threshold"
)
_SAMPLED_BINS_NOTE = (
    "bin edges from a sample of a reference larger than max_sorted: the statistic is "
    "exact for these edges, which differ from the pandas quantile edges"
)
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
    num_ks: tuple[IntArray, IntArray] | None = None
    num_gaps: FloatArray | None = None


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


def _is_pandas(data: Any) -> bool:
    """Whether ``data`` is one frame: a DataFrame, or what ``as_frame`` turns into one."""
    import pandas as pd

    return isinstance(data, pd.DataFrame | dict) or (
        isinstance(data, np.ndarray) and data.ndim == 2
    )


def _rows(parts: Sequence[FloatArray], width: int) -> FloatArray:
    if not parts:
        return np.empty((0, width))
    return np.vstack(parts).astype(np.float64)


def _profile_of(data: Any, spec: BinSpec, *, raise_missing: bool, name: str) -> BatchProfile:
    """Profile pandas chunks in place, one at a time, or Dask partitions on the workers."""
    if is_dask_frame(data):
        return map_reduce(
            data,
            functools.partial(_profile_piece, spec=spec, raise_missing=raise_missing),
            BatchProfile.merge,
            name=name,
        )
    batch = BatchProfile.empty(spec)
    for piece in iter_pieces(data, name=name):
        _profile_piece(piece, spec, raise_missing, into=batch)
    return batch


def _profile_piece(
    piece: pd.DataFrame, spec: BinSpec, raise_missing: bool, into: BatchProfile | None = None
) -> BatchProfile:
    """Profile one chunk or partition (runs on the Dask workers)."""
    if raise_missing:
        present = set(piece.columns)
        _raise_on_missing(
            piece, [c for c in (*spec.numeric, *spec.categorical) if c in present], "current"
        )
    return (BatchProfile.empty(spec) if into is None else into).update(piece)
