"""The routing guide's Flask app (docs/examples/serve_flask.py) over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from http_support import load_example, serving
from mlkit.clock import FakeClock

pytest.importorskip("flask", reason="flask is in the test extra")


class Rule:
    """A model: approve when income is high and debt low; ``flip`` inverts it."""

    def __init__(self, name: str, *, flip: bool = False) -> None:
        self.name = name
        self.flip = flip

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        approve = (X["income"] > 50) & (X["debt_ratio"] < 0.5)
        return (approve != self.flip).to_numpy(dtype=int)


@pytest.fixture
def served() -> Iterator[tuple[str, Any, FakeClock]]:
    clock = FakeClock(start=1_000.0)
    app = load_example("serve_flask").create_app(
        Rule("blue"),
        Rule("green"),
        Rule("challenger"),
        Rule("experimental", flip=True),
        clock=clock,
    )
    try:
        with serving(app) as base:
            yield base, app, clock
    finally:
        app.extensions["mlkit"]["shadow"].close(timeout=5)


def call(base: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(
        base + path,
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if payload is None else "POST",
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def test_canary_shadow_blue_green_and_rollout_over_http(
    served: tuple[str, Any, FakeClock],
) -> None:
    base, app, clock = served
    users = [f"user-{i}" for i in range(400)]
    good = {"income": 90.0, "debt_ratio": 0.1}
    first = {u: call(base, "/predict", {"user_id": u, "features": good}) for u in users}
    assert {r["prediction"] for r in first.values()} == {1}
    variants = {r["variant"] for r in first.values()}
    assert variants == {"live-blue", "challenger"}
    # Sticky: a second request of the same user goes to the same variant.
    again = {u: call(base, "/predict", {"user_id": u, "features": good})["variant"] for u in users}
    assert again == {u: r["variant"] for u, r in first.items()}
    share = sum(r["variant"] == "challenger" for r in first.values()) / len(users)
    assert 0.0 < share < 0.15  # the first step sends 5%

    # Late labels: every user's prediction was right.
    for u in users:
        call(base, "/feedback", {"user_id": u, "correct": True})
    # Not enough challenger traffic yet (5% of 800 < 50): the rollout holds.
    clock.advance(31.0)
    call(base, "/predict", {"user_id": "user-0", "features": good})
    status = call(base, "/admin/status")
    assert status["rollout"]["weight"] == 0.05
    assert "insufficient samples" in " ".join(status["decisions"][-1]["reasons"])

    # More traffic, then the next analysis advances the canary.
    more = [f"more-{i}" for i in range(1000)]
    for u in more:
        call(base, "/predict", {"user_id": u, "features": good})
    for u in more:
        call(base, "/feedback", {"user_id": u, "correct": True})
    clock.advance(31.0)
    call(base, "/predict", {"user_id": "user-0", "features": good})
    status = call(base, "/admin/status")
    assert status["rollout"]["weight"] == 0.25, status["decisions"][-1]

    # The shadow disagreed with every live answer, and the live answers stayed right.
    app.extensions["mlkit"]["shadow"].close(timeout=5)
    status = call(base, "/admin/status")
    assert status["shadow"]["completed"] > 0
    assert status["shadow_agreement"] == 0.0

    # Blue-green switch, atomically, after the preflight.
    assert call(base, "/admin/switch", {})["active"] == "green"
    served_by = {
        call(base, "/predict", {"user_id": u, "features": good})["variant"] for u in users
    }
    assert served_by <= {"live-green", "challenger"}
