"""Reference profiles (what a detector learns at fit) and mergeable batch profiles.

A :class:`ReferenceProfile` holds everything the drift tests need from the
reference data: each numeric column sorted once, its bin edges and bin counts,
its spread; each categorical column's categories and counts; missing counts.
It saves to a single ``.npz`` file (arrays plus a JSON header, no pickle), so a
serving app loads precomputed reference statistics at start-up in
milliseconds and never needs the reference data itself.

A :class:`BatchProfile` summarises current data against a reference profile in
constant memory: counts on a fine grid of reference quantiles, categorical
counts and missing counts. Profiles of chunks ``merge`` into the profile of
their union, exactly, so a stream (a monitor) or partitions (Dask) are
summarised piecewise and tested once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from mlkit._atomic import atomic_open
from mlkit.drift._binned import bin_counts
from mlkit.drift._common import SortedColumns, sort_columns
from mlkit.drift._scale import ReferenceCounts, ks_count_sorted, ks_gap_sums
from mlkit.errors import ConfigurationError, DataError

__all__ = ["BatchProfile", "BinSpec", "ReferenceProfile"]

FORMAT_VERSION = 1
#: Profiles of a reference above ``max_sorted`` (no sorted values, sampled counts)
#: are written as version 2, so an mlkit that predates them refuses to load them.
COUNTS_FORMAT_VERSION = 2
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@attrs.frozen(eq=False, repr=False)
class ReferenceProfile:
    """What a drift detector learned from the reference data.

    Build one with :meth:`mlkit.drift.DriftDetector.fit` (``detector.profile_``)
    and reuse it with :meth:`DriftDetector.from_profile`, or save and load it.

    Attributes
    ----------
    columns
        Every reference column, in order.
    kinds
        Per column: ``"numeric"``, ``"categorical"`` or ``"unsupported"``.
    reasons
        Why a column is unsupported, by column name.
    n_rows
        Rows in the reference.
    numeric
        Names of the numeric columns, in the order of the arrays below.
    sorted
        ``(n_numeric, n_rows)`` reference values per numeric column, sorted, NaN last.
    edges
        ``(n_numeric, bins + 1)`` bin edges for PSI and the other binned statistics.
    grid
        ``(n_numeric, grid_size + 1)`` fine quantile edges: :class:`BatchProfile`
        counts current values on them to bound the KS statistic.
    std
        ``(n_numeric,)`` reference standard deviation (``ddof=0``).
    categorical
        Names of the categorical columns.
    categories
        Per categorical column, its reference categories in order of first appearance.
    category_counts
        ``(n_categorical, max_categories + 1)`` reference counts; the last slot
        counts unseen categories (always 0 for the reference).
    missing
        Missing values per column, by name.
    """

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    reasons: Mapping[str, str]
    n_rows: int
    numeric: tuple[str, ...]
    sorted: SortedColumns
    edges: FloatArray
    grid: FloatArray
    std: FloatArray
    categorical: tuple[str, ...]
    categories: tuple[tuple[Any, ...], ...]
    category_counts: IntArray
    missing: Mapping[str, int]
    bins: int
    binning: str
    counts: ReferenceCounts | None = None

    @property
    def held_sorted(self) -> bool:
        """Whether the reference values are held sorted (``False`` above ``max_sorted``).

        Without them the reference is known through :attr:`counts`, exact
        counts on edges taken from a sample of it, and the KS statistic is
        bounded rather than exact.
        """
        return self.counts is None

    @property
    def fingerprint(self) -> str:
        """A short content hash: batch profiles only merge within one fingerprint."""
        digest = hashlib.blake2b(digest_size=12)
        digest.update(json.dumps(self._header(), sort_keys=True, default=str).encode())
        digest.update(np.ascontiguousarray(self.grid).tobytes())
        digest.update(np.ascontiguousarray(self.edges).tobytes())
        if self.counts is not None:
            digest.update(np.ascontiguousarray(self.counts.ks_points).tobytes())
        return digest.hexdigest()

    def _header(self) -> dict[str, Any]:
        return {
            "format": "mlkit.drift.ReferenceProfile",
            "version": FORMAT_VERSION if self.counts is None else COUNTS_FORMAT_VERSION,
            "columns": list(self.columns),
            "kinds": list(self.kinds),
            "reasons": dict(self.reasons),
            "n_rows": self.n_rows,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "categories": [list(c) for c in self.categories],
            "missing": {k: int(v) for k, v in self.missing.items()},
            "bins": self.bins,
            "binning": self.binning,
            **({} if self.counts is None else {"held_sorted": False}),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile to one ``.npz`` file, atomically, without pickle.

        Categories must be JSON values (str, int, float, bool); anything else
        raises :class:`~mlkit.errors.ConfigurationError` before anything is
        written.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        target = Path(path)
        header = self._header()
        for name, cats in zip(self.categorical, self.categories, strict=True):
            for value in cats:
                if not isinstance(value, str | int | float | bool) or isinstance(
                    value, np.generic
                ):
                    raise ConfigurationError(
                        f"cannot save category {value!r} of column {name!r}: only str, int, "
                        f"float and bool categories can be saved, got {type(value).__name__}",
                        column=name,
                        value=value,
                        expected="a str, int, float or bool category",
                    )
        meta = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        arrays: dict[str, NDArray[Any]] = {
            "meta": meta,
            "sorted": self.sorted.values,
            "n_valid": self.sorted.n_valid,
            "edges": self.edges,
            "grid": self.grid,
            "std": self.std,
            "category_counts": self.category_counts,
        }
        if self.counts is not None:
            arrays.update(
                {
                    f"counts_{f.name}": getattr(self.counts, f.name)
                    for f in attrs.fields(ReferenceCounts)
                }
            )
        with atomic_open(target, "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile written by :meth:`save` (no pickle is ever loaded)."""
        with np.load(Path(path), allow_pickle=False) as data:
            header = json.loads(bytes(data["meta"]).decode("utf-8"))
            if header.get("format") != "mlkit.drift.ReferenceProfile":
                raise DataError(
                    f"{os.fspath(path)!r} is not an mlkit reference profile",
                    value=header.get("format"),
                    expected="mlkit.drift.ReferenceProfile",
                )
            if header.get("version") not in (FORMAT_VERSION, COUNTS_FORMAT_VERSION):
                raise DataError(
                    f"reference profile format version {header.get('version')!r} is not "
                    f"supported by this mlkit (reads versions {FORMAT_VERSION} and "
                    f"{COUNTS_FORMAT_VERSION})",
                    value=header.get("version"),
                    expected=f"{FORMAT_VERSION} or {COUNTS_FORMAT_VERSION}",
                )
            arrays = {key: data[key] for key in data.files if key != "meta"}
        counts = None
        if header.get("held_sorted", True) is False:
            counts = ReferenceCounts(
                **{f.name: arrays[f"counts_{f.name}"] for f in attrs.fields(ReferenceCounts)}
            )
        return cls(
            columns=tuple(header["columns"]),
            kinds=tuple(header["kinds"]),
            reasons=dict(header["reasons"]),
            n_rows=int(header["n_rows"]),
            numeric=tuple(header["numeric"]),
            sorted=SortedColumns(arrays["sorted"], arrays["n_valid"].astype(np.int64)),
            edges=arrays["edges"],
            grid=arrays["grid"],
            std=arrays["std"],
            categorical=tuple(header["categorical"]),
            categories=tuple(tuple(c) for c in header["categories"]),
            category_counts=arrays["category_counts"].astype(np.int64),
            missing={k: int(v) for k, v in header["missing"].items()},
            bins=int(header["bins"]),
            binning=str(header["binning"]),
            counts=counts,
        )

    def __repr__(self) -> str:
        return (
            f"ReferenceProfile({self.n_rows} rows, {len(self.numeric)} numeric, "
            f"{len(self.categorical)} categorical, {len(self.reasons)} unsupported columns)"
        )


@attrs.frozen(eq=False)
class BinSpec:
    """The part of a :class:`ReferenceProfile` a :class:`BatchProfile` counts with.

    Small (edges and categories, no reference values), so batch profiles
    pickle cheaply between processes.
    """

    fingerprint: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    edges: FloatArray
    grid: FloatArray
    categories: tuple[tuple[Any, ...], ...]
    ks_points: FloatArray | None = None
    ks_offsets: IntArray | None = None
    ks_exact: bool = False

    @classmethod
    def of(
        cls,
        reference: ReferenceProfile,
        *,
        ks_points: tuple[FloatArray, IntArray] | None = None,
    ) -> BinSpec:
        """Return the counting spec of ``reference``.

        ``ks_points`` (flat points and column offsets) adds the KS counts; the
        detector passes the reference's distinct values when it holds them
        sorted (exact KS) or the sampled points of :attr:`ReferenceProfile.counts`.
        """
        points, offsets = ks_points if ks_points is not None else (None, None)
        return cls(
            fingerprint=reference.fingerprint,
            numeric=reference.numeric,
            categorical=reference.categorical,
            edges=reference.edges,
            grid=reference.grid,
            categories=reference.categories,
            ks_points=points,
            ks_offsets=offsets,
            ks_exact=ks_points is not None and reference.held_sorted,
        )


@attrs.define(eq=False, repr=False)
class BatchProfile:
    """A mergeable summary of current data against one :class:`ReferenceProfile`.

    Create one with :meth:`mlkit.drift.DriftDetector.profile`, feed it with
    :meth:`update`, combine partial profiles with :meth:`merge`, and test it
    with :meth:`mlkit.drift.DriftDetector.test_profile`. Memory does not grow
    with the rows seen: ``n_numeric x (grid_size + bins)`` and
    ``n_categorical x categories`` counters, plus, with ``exact_ks=True``,
    ``2 d + 1`` KS counters per numeric column (``d``: the reference's
    distinct values, or the sampled points of a reference above
    ``max_sorted``) and, when the reference is held sorted, ``d + 1``
    float gap sums (``ks_gaps``, see :func:`mlkit.drift._scale.ks_gap_sums`).

    From a profile, PSI, Jensen-Shannon, Hellinger, chi-square, TVD and the
    missing-rate test are exact: they only need counts on the reference bins.
    KS is exact with ``exact_ks=True`` when the reference is held sorted
    (``ks_below``/``ks_equal`` count the batch at every distinct reference
    value, where ``F_ref`` steps; see :mod:`mlkit.drift._scale`). Otherwise it
    is bounded: the statistic read at the points, ``D_grid``, satisfies
    ``D_grid <= D <= D_grid + w``, where ``w`` is the largest share of either
    sample in one cell (about ``1 / grid_size`` for the reference). The
    report's KS ``statistic`` is then ``D_grid`` and its p-value is computed
    from it, so it errs towards not flagging; the row's ``note`` says so and
    its ``exact`` is False.

    Wasserstein (normalised like the pandas path) comes from the KS counts
    and ``ks_gaps`` when the reference is held sorted: it is bounded,
    ``W_lo <= W <= W_hi`` (see :func:`mlkit.drift._scale.wasserstein_bounds`),
    and exact when no cell between consecutive reference values holds a
    crossing of the two ECDFs. The ``statistic`` is ``W_lo``, so a bound
    never raises a false alarm; a bounded row has ``exact`` False and its
    interval in ``note``. Above ``max_sorted`` Wasserstein, and
    Cramér-von Mises always, need the raw values and are reported
    untestable from profiles.
    """

    spec: BinSpec
    grid_counts: IntArray
    bin_counts: IntArray
    category_counts: IntArray
    missing_numeric: IntArray
    missing_categorical: IntArray
    n_rows: int = 0
    ks_below: IntArray | None = None
    ks_equal: IntArray | None = None
    ks_gaps: FloatArray | None = None
    columns_seen: tuple[Any, ...] = ()
    reasons: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def empty(cls, spec: BinSpec) -> BatchProfile:
        """Return a profile of no rows."""
        k_num, k_cat = len(spec.numeric), len(spec.categorical)
        width = max((len(c) for c in spec.categories), default=0) + 1
        ks_below = ks_equal = None
        ks_gaps = None
        if spec.ks_points is not None:
            ks_below = np.zeros(len(spec.ks_points) + k_num, dtype=np.int64)
            ks_equal = np.zeros(len(spec.ks_points), dtype=np.int64)
            if spec.ks_exact:  # Wasserstein bounds need F_ref constant between the points
                ks_gaps = np.zeros(len(spec.ks_points) + k_num, dtype=np.float64)
        return cls(
            ks_below=ks_below,
            ks_equal=ks_equal,
            ks_gaps=ks_gaps,
            spec=spec,
            grid_counts=np.zeros((k_num, spec.grid.shape[1] - 1), dtype=np.int64),
            bin_counts=np.zeros((k_num, spec.edges.shape[1] - 1), dtype=np.int64),
            category_counts=np.zeros((k_cat, width), dtype=np.int64),
            missing_numeric=np.zeros(k_num, dtype=np.int64),
            missing_categorical=np.zeros(k_cat, dtype=np.int64),
        )

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the reference profile this profile counts against."""
        return self.spec.fingerprint

    def update(self, chunk: Any) -> BatchProfile:
        """Add the rows of ``chunk`` (a DataFrame) in place and return ``self``.

        Columns the reference lacks are ignored; reference columns that
        ``chunk`` lacks count as missing.
        """
        from mlkit.drift._encode import CategoryEncoder, as_frame, numeric_matrix, with_columns

        frame = as_frame(chunk, name="chunk")
        spec = self.spec
        values, bad = numeric_matrix(with_columns(frame, spec.numeric), spec.numeric)
        for name, why in bad.items():
            self.reasons.setdefault(name, why)
        seen = set(self.columns_seen)
        self.columns_seen += tuple(c for c in frame.columns if c not in seen)
        if self.ks_below is not None and self.ks_equal is not None:
            assert spec.ks_points is not None
            assert spec.ks_offsets is not None
            columns = sort_columns(values)
            ks_count_sorted(
                columns, spec.ks_points, spec.ks_offsets, into=(self.ks_below, self.ks_equal)
            )
            if self.ks_gaps is not None:
                ks_gap_sums(columns, spec.ks_points, spec.ks_offsets, into=self.ks_gaps)
        encoder = CategoryEncoder(spec.categories)
        codes = encoder.codes(with_columns(frame, spec.categorical), spec.categorical)
        cat_counts, cat_missing = encoder.counts(codes)
        self.grid_counts += bin_counts(values, spec.grid)
        self.bin_counts += bin_counts(values, spec.edges)
        self.category_counts += cat_counts
        self.missing_numeric += np.isnan(values).sum(axis=0).astype(np.int64)
        self.missing_categorical += cat_missing
        self.n_rows += len(frame)
        return self

    def merge(self, other: BatchProfile) -> BatchProfile:
        """Return the profile of both batches together (neither is changed)."""
        if other.fingerprint != self.fingerprint:
            raise ConfigurationError(
                "cannot merge batch profiles built against different reference profiles "
                f"({self.fingerprint} vs {other.fingerprint})",
                value=other.fingerprint,
                expected=self.fingerprint,
            )
        return BatchProfile(
            spec=self.spec,
            grid_counts=self.grid_counts + other.grid_counts,
            bin_counts=self.bin_counts + other.bin_counts,
            category_counts=self.category_counts + other.category_counts,
            missing_numeric=self.missing_numeric + other.missing_numeric,
            missing_categorical=self.missing_categorical + other.missing_categorical,
            n_rows=self.n_rows + other.n_rows,
            ks_below=_add(self.ks_below, other.ks_below),
            ks_equal=_add(self.ks_equal, other.ks_equal),
            ks_gaps=_add(self.ks_gaps, other.ks_gaps),
            columns_seen=self.columns_seen
            + tuple(c for c in other.columns_seen if c not in set(self.columns_seen)),
            reasons={**other.reasons, **self.reasons},
        )

    def __repr__(self) -> str:
        return (
            f"BatchProfile({self.n_rows} rows, {len(self.spec.numeric)} numeric, "
            f"{len(self.spec.categorical)} categorical)"
        )


_A = TypeVar("_A", IntArray, FloatArray)


def _add(a: _A | None, b: _A | None) -> _A | None:
    if a is None or b is None:
        return None
    return a + b
