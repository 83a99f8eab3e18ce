"""Shared data for the report tests: a small drift scenario with awkward column names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

HOSTILE = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>alert(1)</script>"
DOLLAR = "$price$"


def drift_frames(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames: some columns drift, one is untestable, one is extra."""
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, n),
            "hour": rng.normal(12, 4, n),
            SCRIPT: rng.normal(size=n),
            DOLLAR: rng.normal(size=n),
            "merchant": rng.choice(list("abcdefghijklmn"), n),
            HOSTILE: rng.choice(["x", "y", "z"], n),
            "stable_cat": rng.choice(["u", "v"], n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
        }
    )
    cur = ref.copy()
    cur["amount"] = rng.gamma(2.0, 80.0, n)  # drifts
    cur[SCRIPT] = rng.normal(1.0, 1.0, n)  # drifts
    cur["merchant"] = rng.choice(list("abcdefghijklmnop"), n, p=[0.3] + [0.7 / 15] * 15)
    cur.loc[: n // 3, "hour"] = np.nan  # missing rate drifts
    cur["extra"] = 1.0
    return ref, cur


@pytest.fixture(scope="module")
def drift_case() -> tuple[object, pd.DataFrame, pd.DataFrame]:
    from mlkit.drift import DriftDetector

    ref, cur = drift_frames()
    report = DriftDetector().fit(ref).test(cur)
    return report, ref, cur


@pytest.fixture(scope="session")
def names() -> dict[str, str]:
    """The awkward column names the drift frames use."""
    return {"hostile": HOSTILE, "script": SCRIPT, "dollar": DOLLAR}


@pytest.fixture(scope="session")
def make_frames():
    """The :func:`drift_frames` factory."""
    return drift_frames
