"""A Flask app instrumented with mlkit's monitors: paste it and adapt.

- ``MonitoredModel`` counts predictions by outcome, times them and counts errors;
- ``DriftMonitor`` tests every window of 200 requests against the training data;
- ``PerformanceMonitor`` joins the labels that arrive later on ``POST /label``
  to their predictions and computes accuracy over the last 500 pairs;
- ``AlertManager`` turns accuracy and drift into alerts (here: to the log);
- ``GET /metrics`` is the Prometheus scrape endpoint.

Run it with your own model and reference frame::

    app = create_app(model, reference)
    app.run()
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from mlkit.monitoring import (
    AlertManager,
    AlertRule,
    DriftMonitor,
    LoggingNotifier,
    MonitoredModel,
    PerformanceMonitor,
)


def create_app(
    model: Any,
    reference: pd.DataFrame,
    *,
    registry: CollectorRegistry | None = None,
    clock: Any = None,
    notifiers: Any = None,
) -> Flask:
    """Build the app around a model (anything with ``predict``) and its training features."""
    registry = registry if registry is not None else CollectorRegistry()
    monitored = MonitoredModel(
        model, name="fraud", version="2", registry=registry, class_labels=[0, 1]
    )
    drift = DriftMonitor(reference, window=200, registry=registry, clock=clock)
    performance = PerformanceMonitor(
        metrics=("accuracy",), window=500, min_samples=50, registry=registry, clock=clock
    )
    alerts = AlertManager(
        [
            AlertRule("AccuracyLow", ("accuracy", "<", 0.8), for_=300.0, severity="critical"),
            AlertRule("FeatureDrift", ("drifted_share", ">", 0.3), severity="warning"),
        ],
        notifiers=notifiers if notifiers is not None else [LoggingNotifier()],
        clock=clock,
    )
    columns = list(reference.columns)

    def evaluate_alerts() -> None:
        values: dict[str, Any] = dict(performance.metrics().values)
        window = drift.latest
        if window is not None and window.report is not None:
            values["drifted_share"] = len(window.drifted_columns) / len(columns)
        alerts.evaluate(values)

    app = Flask(__name__)
    app.extensions["mlkit"] = {"drift": drift, "performance": performance, "alerts": alerts}

    @app.post("/predict")
    def predict() -> Any:
        payload = request.get_json()
        features = payload["features"]
        prediction = monitored.predict(pd.DataFrame([features], columns=columns))[0]
        drift.observe(features)  # one dict row into the current window, about 1 µs
        performance.record_prediction(payload["id"], prediction)
        return jsonify(id=payload["id"], prediction=int(prediction))

    @app.post("/label")
    def label() -> Any:
        payload = request.get_json()
        performance.record_actual(payload["id"], payload["label"])
        evaluate_alerts()
        return jsonify(ok=True)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return app
