"""Drift: column-vectorised statistics, a fitted detector and mergeable profiles.

The kernels are pure numpy functions on ``(n_rows, n_columns)`` arrays that
compute every column in one vectorised pass (KS, PSI, Wasserstein,
Jensen-Shannon, Cramér-von Mises, chi-square, missing-rate); the detector
learns a reference once and tests current batches against it.
"""

__all__: list[str] = []
