"""A Flask app that serves a model through mlkit's routers: paste it and adapt.

- blue-green between two builds of the live model, flipped by ``POST /admin/switch``
  after a preflight check on the idle build;
- a shadow model that sees every request and is only compared, never answered with;
- a progressive rollout of a challenger, sticky per user, that moves up one step
  each time its analysis passes (error rate, latency, and the accuracy that late
  labels from ``POST /feedback`` report) and rolls back when it fails.

Run it with your own models::

    app = create_app(blue, green, challenger, experimental)
    app.run()  # or any WSGI server: gunicorn "serve_flask:create_app(...)"
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
from flask import Flask, jsonify, request

from mlkit.routing import BlueGreenRouter, ProgressiveRollout, ShadowRouter, Threshold


def create_app(
    blue: Any, green: Any, challenger: Any, experimental: Any, *, clock: Any = None
) -> Flask:
    """Build the app around four models (anything with ``predict``)."""

    def preflight(idle: Any) -> bool:
        # The idle build must answer a known request before it takes traffic.
        probe = pd.DataFrame([{"income": 80.0, "debt_ratio": 0.2}])
        return len(idle.predict(probe)) == 1

    live = BlueGreenRouter(blue, green, preflight=preflight, clock=clock)

    agreement = {"same": 0, "total": 0}
    agreement_lock = threading.Lock()

    def compare(key: Any, live_output: Any, shadow_output: Any) -> None:
        # Runs on the shadow's worker thread, never on the request's.
        with agreement_lock:
            agreement["total"] += 1
            agreement["same"] += int(live_output[0] == shadow_output[0])

    shadowed = ShadowRouter(live, experimental, sample=1.0, on_compare=compare)
    rollout = ProgressiveRollout(
        shadowed,
        challenger,
        steps=(0.05, 0.25, 0.5, 1.0),
        analysis=[
            Threshold("error_rate", max=0.01),
            Threshold("latency_p99", max=0.25),
            Threshold("accuracy", min=0.8),  # fed by POST /feedback
        ],
        min_samples=50,
        interval=30.0,
        clock=clock,
    )

    app = Flask(__name__)
    app.extensions["mlkit"] = {"live": live, "shadow": shadowed, "rollout": rollout}

    @app.post("/predict")
    def predict() -> Any:
        payload = request.get_json()
        features = pd.DataFrame([payload["features"]])
        routed = rollout.predict_routed(features, key=payload["user_id"])
        variant = "challenger" if routed.variant == "canary" else f"live-{live.active}"
        return jsonify(prediction=int(routed.output[0]), variant=variant)

    @app.post("/feedback")
    def feedback() -> Any:
        # Late labels: credit the variant that served this user (routing is sticky).
        payload = request.get_json()
        served = rollout.router.route(payload["user_id"])
        variant = "candidate" if served == "canary" else "primary"
        rollout.observe("accuracy", float(payload["correct"]), variant=variant)
        return jsonify(ok=True)

    @app.post("/admin/switch")
    def switch() -> Any:
        live.switch(reason=request.args.get("reason", "manual"))
        return jsonify(active=live.active)

    @app.get("/admin/status")
    def status() -> Any:
        with agreement_lock:
            shadow_agreement = (
                agreement["same"] / agreement["total"] if agreement["total"] else None
            )
        return jsonify(
            live=live.active,
            rollout={"state": rollout.state, "weight": rollout.weight},
            decisions=[decision.to_dict() for decision in rollout.history],
            shadow=shadowed.stats().to_dict(),
            shadow_agreement=shadow_agreement,
        )

    return app
