"""Drift: column-vectorised statistics, a fitted detector and mergeable profiles.

The kernels are numpy functions on ``(n_rows, n_columns)`` arrays that compute
every column in one vectorised pass, each equal to its scipy counterpart:
:func:`ks_2samp`, :func:`cramervonmises`, :func:`wasserstein`, :func:`psi`,
:func:`jensen_shannon`, :func:`hellinger` on numeric columns; :func:`chi2`,
:func:`tvd`, :func:`psi_categorical`, :func:`jensen_shannon_categorical` on
categorical ones; :func:`missing_rate_test` on both.

:class:`DriftDetector` learns a reference once (``fit``) and tests batches
against it (``test``, ``test_chunks``), returning a :class:`DriftReport`.
What it learned is a :class:`ReferenceProfile` that saves to one ``.npz``
file; :class:`BatchProfile` summarises streams and partitions in constant
memory and merges.
"""

from mlkit.drift._binned import (
    PSI_MODERATE,
    PSI_SIGNIFICANT,
    bin_counts,
    bin_counts_sorted,
    bin_edges,
    hellinger,
    hellinger_from_counts,
    jensen_shannon,
    jensen_shannon_from_counts,
    psi,
    psi_band,
    psi_from_counts,
)
from mlkit.drift._categorical import (
    CategoryCounts,
    category_counts,
    chi2,
    chi2_from_counts,
    counts_from_codes,
    jensen_shannon_categorical,
    jensen_shannon_categorical_from_counts,
    psi_categorical,
    psi_categorical_from_counts,
    tvd,
    tvd_from_counts,
)
from mlkit.drift._detector import DEFAULT_TESTS, DEFAULT_THRESHOLDS, DriftDetector
from mlkit.drift._ecdf import cramervonmises, ks_2samp, wasserstein
from mlkit.drift._missing import missing_mask, missing_rate_test, missing_rate_test_from_counts
from mlkit.drift._profile import BatchProfile, ReferenceProfile
from mlkit.drift._pvalues import cvm_pvalue, ks_pvalue
from mlkit.drift._report import DriftReport
from mlkit.drift._results import CategoricalResult, StatResult

__all__ = [
    "BatchProfile",
    "CategoricalResult",
    "CategoryCounts",
    "DEFAULT_TESTS",
    "DEFAULT_THRESHOLDS",
    "DriftDetector",
    "DriftReport",
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "ReferenceProfile",
    "StatResult",
    "bin_counts",
    "bin_counts_sorted",
    "bin_edges",
    "category_counts",
    "chi2",
    "chi2_from_counts",
    "counts_from_codes",
    "cramervonmises",
    "cvm_pvalue",
    "hellinger",
    "hellinger_from_counts",
    "jensen_shannon",
    "jensen_shannon_categorical",
    "jensen_shannon_categorical_from_counts",
    "jensen_shannon_from_counts",
    "ks_2samp",
    "ks_pvalue",
    "missing_mask",
    "missing_rate_test",
    "missing_rate_test_from_counts",
    "psi",
    "psi_band",
    "psi_categorical",
    "psi_categorical_from_counts",
    "psi_from_counts",
    "tvd",
    "tvd_from_counts",
    "wasserstein",
]
