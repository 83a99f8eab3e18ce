"""The demo's scenario: synthetic card transactions with a known fraud mechanism.

Every column is drawn from a seeded :class:`numpy.random.Generator`, and the
label ``is_fraud`` from a logistic function of the features that this module
spells out (:func:`fraud_logit`), so the demo knows the truth it is trying to
learn. ``drift`` moves the world the way a real fraud wave does: bigger
amounts, a new merchant category (``crypto``), more night-time traffic, and
fraud that follows the new pattern, which a model trained before the wave has
never seen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from mlkit.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AGE_GROUPS",
    "CATEGORIES",
    "FEATURES",
    "LABEL",
    "fraud_logit",
    "make_transactions",
]

#: Merchant categories of the reference world, with their share of traffic.
CATEGORIES: dict[str, float] = {
    "grocery": 0.27,
    "restaurants": 0.18,
    "fuel": 0.12,
    "online_retail": 0.18,
    "travel": 0.07,
    "electronics": 0.08,
    "gaming": 0.10,
}
#: The category that appears with drift (the fraud wave's favourite).
NEW_CATEGORY = "crypto"
#: Extra fraud log-odds per category (the reference mechanism).
_CATEGORY_RISK: dict[str, float] = {
    "grocery": -0.6,
    "restaurants": -0.4,
    "fuel": -0.3,
    "online_retail": 0.5,
    "travel": 0.3,
    "electronics": 0.8,
    "gaming": 0.6,
    NEW_CATEGORY: 0.0,
}
#: The protected attribute's groups and their shares.
AGE_GROUPS: dict[str, float] = {"18-25": 0.18, "26-40": 0.36, "41-60": 0.30, "60+": 0.16}
#: Model inputs, in order (the protected attribute and ids are not among them).
FEATURES: tuple[str, ...] = (
    "amount",
    "merchant_category",
    "hour",
    "txn_count_7d",
    "avg_amount_30d",
    "account_age_days",
)
#: The label column.
LABEL = "is_fraud"

_BASE_LOGIT = -5.4
_N_USERS = 5000


def fraud_logit(frame: pd.DataFrame, drift: float = 0.0) -> np.ndarray:
    """Return the true fraud log-odds of each transaction.

    Fraud is likelier for amounts far above the user's 30-day average, for
    bursts of transactions, at night, for young accounts and in risky
    categories. With ``drift > 0`` a fraud wave adds risk to ``crypto``
    purchases and night-time transactions on *old* accounts (account
    takeover), which a model trained on the reference world underrates.

    Parameters
    ----------
    frame
        Transactions with the :data:`FEATURES` columns.
    drift
        The strength of the fraud wave, from 0 (none) to 1 (full).

    Returns
    -------
    numpy.ndarray
        One log-odds value per row.

    Examples
    --------
    >>> frame = make_transactions(4, seed=0)
    >>> fraud_logit(frame).shape
    (4,)
    """
    amount = frame["amount"].to_numpy(dtype=float)
    avg = frame["avg_amount_30d"].to_numpy(dtype=float)
    hour = frame["hour"].to_numpy(dtype=int)
    count = frame["txn_count_7d"].to_numpy(dtype=float)
    age = frame["account_age_days"].to_numpy(dtype=float)
    category = frame["merchant_category"].astype(str).to_numpy()
    night = ((hour >= 23) | (hour <= 4)).astype(float)
    spike = np.log1p(amount) - np.log1p(avg)
    risk = np.array([_CATEGORY_RISK.get(c, 0.0) for c in category])
    logit = (
        _BASE_LOGIT
        + 0.4 * (np.log1p(amount) - 3.6)
        + 1.8 * spike
        + 0.9 * (np.log1p(count) - 1.7)
        + 1.3 * night
        - 0.7 * (np.log1p(age) - 6.0)
        + risk
    )
    if drift:
        crypto = (category == NEW_CATEGORY).astype(float)
        takeover = ((night > 0) & (age > 365)).astype(float)
        logit = logit + drift * (4.0 * crypto + 0.8 * takeover)
    return np.asarray(logit)


def _shares(weights: dict[str, float]) -> tuple[list[str], np.ndarray]:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return names, p / p.sum()


def make_transactions(n: int, *, seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    """Generate ``n`` synthetic card transactions with a fraud label.

    Columns: ``txn_id`` (unique), ``user_id`` (the routing key), the model
    inputs ``amount`` (lognormal), ``merchant_category``, ``hour``,
    ``txn_count_7d``, ``avg_amount_30d``, ``account_age_days``, the protected
    attribute ``age_group`` (not a model input), and the label ``is_fraud``
    (about 3% in the reference world) drawn from :func:`fraud_logit`.

    Parameters
    ----------
    n
        Number of rows (>= 1).
    seed
        Seed of every random draw: the same ``(n, seed, drift)`` always gives
        the same frame.
    drift
        0 (default) is the reference world; 1 is the fraud wave: amounts about
        60% higher, 12% of traffic in the new ``crypto`` category, twice the
        night-time share, and fraud that follows the new pattern. Values in
        between interpolate.

    Returns
    -------
    pandas.DataFrame
        One row per transaction.

    Raises
    ------
    ConfigurationError
        If ``n`` is not a positive integer or ``drift`` is not in [0, 1].

    Examples
    --------
    >>> frame = make_transactions(5_000, seed=1)
    >>> list(frame.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['txn_id', 'user_id', 'amount', 'merchant_category', 'hour', 'txn_count_7d',
     'avg_amount_30d', 'account_age_days', 'age_group', 'is_fraud']
    >>> bool(0.015 < frame.is_fraud.mean() < 0.05)
    True
    >>> drifted = make_transactions(5_000, seed=1, drift=1.0)
    >>> bool(drifted.amount.median() > frame.amount.median())
    True
    >>> "crypto" in set(drifted.merchant_category), "crypto" in set(frame.merchant_category)
    (True, False)
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigurationError(
            f"make_transactions: n must be a positive integer, got {n!r}",
            column="n",
            value=n,
            expected="an integer >= 1",
        )
    if (
        isinstance(drift, bool)
        or not isinstance(drift, (int, float, np.floating))
        or not math.isfinite(drift)
        or not 0.0 <= drift <= 1.0
    ):
        raise ConfigurationError(
            f"make_transactions: drift must be a number in [0, 1], got {drift!r}",
            column="drift",
            value=drift,
            expected="0 <= drift <= 1",
        )
    n = int(n)
    drift = float(drift)
    rng = np.random.default_rng(seed)

    users = rng.integers(0, _N_USERS, n)
    # Per-user traits come from the user id, so a user keeps them across batches.
    user_rng = np.random.default_rng(12345)
    user_age = user_rng.choice(len(AGE_GROUPS), _N_USERS, p=_shares(AGE_GROUPS)[1])
    user_tenure = user_rng.exponential(1.0, _N_USERS)
    user_spend = user_rng.normal(3.5, 0.5, _N_USERS)

    groups = np.array(list(AGE_GROUPS))[user_age[users]]
    # Older customers hold older accounts, on average.
    tenure_scale = np.array([900.0, 950.0, 1000.0, 1050.0])[user_age[users]]
    # A fraud wave of account takeovers hits older accounts.
    account_age = np.minimum(
        np.round(user_tenure[users] * tenure_scale * (1.0 + 0.8 * drift) + rng.integers(1, 30, n)),
        7300,
    ).astype(np.int64)

    names, p = _shares(CATEGORIES)
    if drift:
        p = p * (1.0 - 0.15 * drift)
        names, p = [*names, NEW_CATEGORY], np.append(p, 0.15 * drift)
    category = np.array(names)[rng.choice(len(names), n, p=p / p.sum())]

    # Daytime-heavy hours; a fraud wave doubles the night-time share.
    hour_w = np.array([0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4.0, 4.2, 4.5,
                       5.0, 4.8, 4.5, 4.4, 4.6, 5.0, 5.2, 4.8, 4.0, 3.0, 2.0, 1.2])  # fmt: skip
    night = (np.arange(24) >= 23) | (np.arange(24) <= 4)
    hour_w = np.where(night, hour_w * (1.0 + 0.7 * drift), hour_w)
    hour = rng.choice(24, n, p=hour_w / hour_w.sum()).astype(np.int64)

    avg_amount = np.round(np.exp(user_spend[users] + 0.35 * drift + rng.normal(0, 0.15, n)), 2)
    amount = np.round(np.exp(np.log(avg_amount) + rng.normal(0.1, 0.9, n)) + 0.5, 2)
    count = rng.poisson(np.exp(1.6 + 0.4 * rng.standard_normal(n))).astype(np.int64)

    frame: pd.DataFrame = pd.DataFrame(
        {
            "txn_id": [f"t{seed:04d}-{i:07d}" for i in range(n)],
            "user_id": [f"u{u:05d}" for u in users],
            "amount": amount,
            "merchant_category": category,
            "hour": hour,
            "txn_count_7d": count,
            "avg_amount_30d": avg_amount,
            "account_age_days": account_age,
            "age_group": groups,
        }
    )
    logit = fraud_logit(frame, drift)
    frame[LABEL] = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return frame
