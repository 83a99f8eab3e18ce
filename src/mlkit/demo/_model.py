"""The demo's fraud model: a scikit-learn pipeline with a fixed decision threshold."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlkit.demo._data import FEATURES

__all__ = ["CATEGORICAL", "NUMERIC", "make_model", "with_threshold"]

#: Numeric inputs, log-scaled then standardised.
NUMERIC = ("amount", "avg_amount_30d", "txn_count_7d", "account_age_days")
#: Categorical inputs, one-hot encoded (unknown categories are ignored).
CATEGORICAL = ("merchant_category", "hour")


def make_model(*, threshold: float = 0.15, C: float = 1.0) -> Any:
    """Return an unfitted fraud model: log + scale + one-hot, logistic regression.

    ``predict`` flags a transaction when its fraud probability is at least
    ``threshold`` (:class:`sklearn.model_selection.FixedThresholdClassifier`);
    ``predict_proba`` gives the probability. Columns other than
    :data:`~mlkit.demo._data.FEATURES` (ids, the protected attribute) are
    ignored, so the model can be called on whole transaction records.

    Examples
    --------
    >>> from mlkit.demo import make_transactions
    >>> data = make_transactions(2_000, seed=0)
    >>> model = make_model().fit(data, data.is_fraud)
    >>> model.predict_proba(data.head(2)).shape
    (2, 2)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    assert set(NUMERIC) | set(CATEGORICAL) == set(FEATURES)
    columns = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                list(NUMERIC),
            ),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
        ]
    )
    pipeline = make_pipeline(columns, LogisticRegression(C=C, max_iter=1000))
    return FixedThresholdClassifier(pipeline, threshold=threshold)


def with_threshold(model: Any, threshold: float, X: Any, y: Any) -> Any:
    """Return ``model``'s fitted pipeline behind another decision threshold (no refit).

    Examples
    --------
    >>> from mlkit.demo import make_transactions
    >>> data = make_transactions(2_000, seed=0)
    >>> model = make_model(threshold=0.5).fit(data, data.is_fraud)
    >>> eager = with_threshold(model, 0.05, data, data.is_fraud)
    >>> bool(eager.predict(data).sum() >= model.predict(data).sum())
    True
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    return FixedThresholdClassifier(FrozenEstimator(model.estimator_), threshold=threshold).fit(
        X, y
    )
