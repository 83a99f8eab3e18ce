"""The end-to-end demo: the life of a fraud model, from raw data to a retrained champion.

``mlkit demo`` (or :func:`run_demo`) walks mlkit's whole data flow on
synthetic card transactions (:func:`make_transactions`), on a fake clock so
that twelve days of traffic pass in seconds, narrating each stage and
writing an HTML report:

1. data: infer a schema, catch bad rows, hash and log the data;
2. train: a scikit-learn model in a tracked run, registered as v1;
3. gate: performance, behaviour, fairness and latency checks, alias ``champion``;
4. serve: a canary router with Prometheus metrics, drift and recall monitors,
   alerts; a fraud wave starts halfway;
5. decide: the retraining controller calls for a retrain;
6. retrain: a challenger gated against the champion and rolled out progressively;
7. report: HTML and JSON.

Examples
--------
>>> frame = make_transactions(1_000, seed=0)
>>> frame.shape
(1000, 10)
"""

from __future__ import annotations

from mlkit.demo._data import make_transactions
from mlkit.demo._result import DemoResult, StageResult
from mlkit.demo._run import run_demo

__all__ = ["DemoResult", "StageResult", "make_transactions", "run_demo"]
