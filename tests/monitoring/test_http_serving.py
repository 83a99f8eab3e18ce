"""The monitoring guide's Flask app (docs/examples/monitor_flask.py) over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from http_support import load_example, serving
from mlkit.clock import FakeClock
from mlkit.protocols import Notification
from mlkit.routing import CanaryRouter


class Rule:
    """Flags a transaction as fraud when the amount is large at night."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return ((X["amount"] > 200) & (X["hour"] < 6)).to_numpy(dtype=int)


def transactions(rng: np.random.Generator, n: int, *, scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"amount": rng.lognormal(4, 0.5, n).round(2) * scale, "hour": rng.integers(0, 24, n)}
    )


@pytest.fixture
def served() -> Iterator[tuple[str, FakeClock, list[Notification]]]:
    clock = FakeClock(start=1_000.0)
    seen: list[Notification] = []

    class Inbox:
        def notify(self, notification: Notification) -> None:
            seen.append(notification)

    # Served through a router, as an app in the middle of a canary would.
    model = CanaryRouter(Rule(), Rule(), weight=0.1, salt="monitoring-test")
    reference = transactions(np.random.default_rng(0), 5000)
    app = load_example("monitor_flask").create_app(
        model, reference, registry=CollectorRegistry(), clock=clock, notifiers=[Inbox()]
    )
    with serving(app) as base:
        yield base, clock, seen


def post(base: str, path: str, payload: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def scrape(base: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = (
                sample.value
            )
    return samples


def test_counters_latency_drift_and_alerts_over_http(served: Any) -> None:
    base, clock, seen = served
    rng = np.random.default_rng(1)
    calm = transactions(rng, 400)
    answers = [
        post(base, "/predict", {"id": f"c{i}", "features": row})
        for i, row in enumerate(calm.to_dict("records"))
    ]
    metrics = scrape(base)
    predictions = metrics["mlkit_predictions_total"]
    assert sum(predictions.values()) == 400
    by_outcome = {dict(k)["outcome"]: v for k, v in predictions.items()}
    assert by_outcome.get("1", 0) == sum(a["prediction"] for a in answers)
    assert sum(metrics["mlkit_prediction_latency_seconds_count"].values()) == 400
    detected = metrics["mlkit_drift_detected"]
    assert set(detected.values()) == {0.0}  # two calm windows of 200

    # Drifted traffic: amounts five times larger for a whole window.
    drifted = transactions(rng, 200, scale=5.0)
    for i, row in enumerate(drifted.to_dict("records")):
        post(base, "/predict", {"id": f"d{i}", "features": row})
    metrics = scrape(base)
    detected = {dict(k)["feature"]: v for k, v in metrics["mlkit_drift_detected"].items()}
    assert detected["amount"] == 1.0
    assert detected["hour"] == 0.0
    assert sum(metrics["mlkit_predictions_total"].values()) == 600

    # Late labels, all wrong: accuracy collapses and, after for_, the alert fires once.
    for i in range(100):
        post(base, "/label", {"id": f"c{i}", "label": 1 - answers[i]["prediction"]})
    assert not [n for n in seen if n.labels.get("alertname") == "AccuracyLow"]
    clock.advance(301.0)
    post(base, "/label", {"id": "c100", "label": 1 - answers[100]["prediction"]})
    fired = [n for n in seen if n.labels.get("alertname") == "AccuracyLow"]
    assert len(fired) == 1
    assert fired[0].labels["status"] == "firing"
    assert fired[0].severity == "critical"
    drift_alerts = [n for n in seen if n.labels.get("alertname") == "FeatureDrift"]
    assert [n.labels["status"] for n in drift_alerts] == ["firing"]
    metrics = scrape(base)
    assert metrics["mlkit_model_metric"][(("metric", "accuracy"), ("model", "model"))] == 0.0
