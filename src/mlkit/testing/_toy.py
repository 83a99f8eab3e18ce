"""Small fitted scikit-learn models with their data, for trying out and testing model tests.

The data is a synthetic credit table (``age``, ``income``, ``debt_ratio``,
``region``) drawn from a fixed seed. The classifier predicts ``approved``
and the regressor ``credit_limit``; both rise with income and fall with the
debt ratio, so directional tests have a known answer. The pytest plugin hands
them out as the ``mlkit_toy_classifier`` and ``mlkit_toy_regressor`` fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = ["ToyModel", "make_toy_classifier", "make_toy_regressor"]

NUMERIC = ("age", "income", "debt_ratio")
REGIONS = ("north", "south", "east", "west")
_REGION_EFFECT = np.array([0.3, -0.2, 0.0, -0.1])


@attrs.frozen(eq=False, repr=False)
class ToyModel:
    """A fitted model and the data it was trained and is tested on.

    Attributes
    ----------
    model
        A fitted scikit-learn :class:`~sklearn.pipeline.Pipeline` (scaling and
        one-hot encoding, then a linear model) that takes ``X`` as it is.
    X, y
        The training rows (a DataFrame with columns ``age``, ``income``,
        ``debt_ratio`` and ``region``) and target (a Series).
    X_test, y_test
        Held-out rows drawn the same way.
    """

    model: Any
    X: pd.DataFrame
    y: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series

    def copy(self) -> ToyModel:
        """Return a copy whose frames can be changed without touching these ones."""
        return ToyModel(
            self.model, self.X.copy(), self.y.copy(), self.X_test.copy(), self.y_test.copy()
        )

    def __repr__(self) -> str:
        return (
            f"ToyModel({type(self.model[-1]).__name__}, target={self.y.name!r}, "
            f"train={len(self.X)} rows, test={len(self.X_test)} rows)"
        )


def _features(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    region = rng.integers(0, len(REGIONS), size=n)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 76, size=n),
            "income": np.round(rng.lognormal(mean=np.log(55.0), sigma=0.45, size=n), 1),
            "debt_ratio": np.round(rng.beta(2.0, 5.0, size=n), 3),
            "region": np.asarray(REGIONS, dtype=object)[region],
        }
    )
    frame["region"] = frame["region"].astype("str")
    return frame, region


def _pipeline(estimator: Any) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(NUMERIC)),
            ("region", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ]
    )
    return Pipeline([("prepare", prepare), ("model", estimator)])


def _split(frame: pd.DataFrame, target: pd.Series, n_train: int) -> tuple[Any, ...]:
    train, test = slice(0, n_train), slice(n_train, None)
    return (
        frame.iloc[train].reset_index(drop=True),
        target.iloc[train].reset_index(drop=True),
        frame.iloc[test].reset_index(drop=True),
        target.iloc[test].reset_index(drop=True),
    )


def make_toy_classifier(
    *, n_train: int = 600, n_test: int = 300, random_state: int = 0
) -> ToyModel:
    """Return a fitted logistic-regression pipeline predicting ``approved`` (0 or 1).

    The approval probability is logistic in income (up), debt ratio (down),
    age (slightly up) and region; about half the rows are approved, and the
    model reaches an accuracy of about 0.8 on the test rows.

    Parameters
    ----------
    n_train, n_test
        Rows to train on and to hold out.
    random_state
        Seed of the data; the same seed gives the same data and model.

    Examples
    --------
    >>> toy = make_toy_classifier()
    >>> toy
    ToyModel(LogisticRegression, target='approved', train=600 rows, test=300 rows)
    >>> list(toy.X.columns)
    ['age', 'income', 'debt_ratio', 'region']
    >>> toy.model.predict(toy.X_test.head(3)).tolist()
    [...]
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(random_state)
    n = n_train + n_test
    frame, region = _features(rng, n)
    logit = (
        0.08 * (frame["income"].to_numpy() - 60.0)
        - 10.0 * (frame["debt_ratio"].to_numpy() - 0.3)
        + 0.02 * (frame["age"].to_numpy() - 45.0)
        + _REGION_EFFECT[region]
    )
    approved = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    X, y, X_test, y_test = _split(frame, pd.Series(approved, name="approved"), n_train)
    model = _pipeline(LogisticRegression()).fit(X, y)
    return ToyModel(model, X, y, X_test, y_test)


def make_toy_regressor(
    *, n_train: int = 600, n_test: int = 300, random_state: int = 0
) -> ToyModel:
    """Return a fitted ridge-regression pipeline predicting ``credit_limit`` (thousands).

    The limit is linear in income (up), debt ratio (down), age and region,
    plus noise; the model's R² on the test rows is about 0.95.

    Parameters
    ----------
    n_train, n_test
        Rows to train on and to hold out.
    random_state
        Seed of the data; the same seed gives the same data and model.

    Examples
    --------
    >>> toy = make_toy_regressor()
    >>> toy
    ToyModel(Ridge, target='credit_limit', train=600 rows, test=300 rows)
    >>> bool(toy.model.score(toy.X_test, toy.y_test) > 0.8)
    True
    """
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(random_state)
    n = n_train + n_test
    frame, region = _features(rng, n)
    limit = (
        10.0
        + 0.3 * frame["income"].to_numpy()
        - 20.0 * frame["debt_ratio"].to_numpy()
        + 0.05 * frame["age"].to_numpy()
        + 4.0 * _REGION_EFFECT[region]
        + rng.normal(0.0, 2.0, size=n)
    )
    X, y, X_test, y_test = _split(
        frame, pd.Series(np.round(limit, 2), name="credit_limit"), n_train
    )
    model = _pipeline(Ridge(alpha=1.0)).fit(X, y)
    return ToyModel(model, X, y, X_test, y_test)
