"""The demo's seven stages, run in order on a fake clock.

Each stage is a method of :class:`_Demo` that narrates what it does, stores
what later stages need, and checks its own expectations with
:meth:`_Demo.expect`. A stage that raises or misses an expectation is
recorded as failed and the demo goes on with the stages that do not need it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
import shutil
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import attrs
import numpy as np

from mlkit._atomic import write_text
from mlkit._optional import require
from mlkit.clock import FakeClock
from mlkit.demo._data import FEATURES, LABEL, NEW_CATEGORY, make_transactions
from mlkit.demo._model import make_model, with_threshold
from mlkit.demo._narrate import Narrator, num, pct, when
from mlkit.demo._result import DemoResult, StageResult
from mlkit.errors import ConfigurationError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FULL", "SMALL", "STAGES", "Size", "run_demo"]

logger = logging.getLogger(__name__)

#: The stages, in order.
STAGES = ("data", "train", "gate", "serve", "decide", "retrain", "report")
#: What each stage needs from earlier ones (stages that raised leave nothing behind).
_NEEDS: dict[str, tuple[str, ...]] = {
    "data": (),
    "train": ("data",),
    "gate": ("train",),
    "serve": ("train",),
    "decide": ("serve",),
    "retrain": ("decide",),
    "report": (),
}

MARKER = ".mlkit-demo"
_DEMO_ENTRIES = frozenset(
    {
        MARKER,
        "workspace",
        "data",
        "schema.json",
        "report.html",
        "report.json",
        "drift.html",
        "validation.html",
    }
)

#: The fake clock starts on Monday 2026-01-05 00:00 UTC.
START = 1_767_571_200.0
HOUR = 3600.0
DAY = 24 * HOUR

MODEL = "fraud"
#: Flag a transaction for review when its fraud probability reaches this.
THRESHOLD = 0.15
#: The canary experiment: a lower threshold on a sticky 10% of users.
CANARY_THRESHOLD = 0.12
CANARY_WEIGHT = 0.10
#: Gate: minimum holdout AUC, largest flag-rate gap between age groups, p99 budget.
MIN_AUC = 0.85
MAX_PARITY_DIFFERENCE = 0.1
LATENCY_BUDGET = 0.1
#: Monitoring: drift alert on the detector's verdict, recall alert and trigger.
DRIFT_ALERT_SHARE = 0.5
DRIFT_TRIGGER_SHARE = 0.4
RECALL_FLOOR = 0.36
#: Labels (confirmed fraud or not) arrive 6 to 30 hours after the transaction.
LABEL_DELAY = (6 * HOUR, 30 * HOUR)
#: Rollout of the challenger: its share of users per step, and its recall floor.
ROLLOUT_STEPS = (0.25, 0.5, 1.0)
ROLLOUT_MIN_RECALL = 0.45
#: Confirmed frauds per recall value fed to the rollout's analysis.
ROLLOUT_RECALL_CHUNK = 15


@attrs.frozen
class Size:
    """How much data the demo generates and how long its simulated days are."""

    n_reference: int
    n_raw: int
    serve_days: int
    per_day: int
    rollout_days: int
    batch_hours: int
    window_hours: int
    perf_window: int
    perf_min_samples: int
    n_boot: int
    latency_n: int

    def __attrs_post_init__(self) -> None:
        # Whole batches and windows: every generated transaction is served.
        assert self.per_day * self.batch_hours % 24 == 0
        assert self.window_hours % self.batch_hours == 0


FULL = Size(
    n_reference=30_000,
    n_raw=5_000,
    serve_days=12,
    per_day=3_000,
    rollout_days=5,
    batch_hours=1,
    window_hours=12,
    perf_window=3_000,
    perf_min_samples=2_000,
    n_boot=500,
    latency_n=100,
)
SMALL = Size(
    n_reference=10_000,
    n_raw=2_000,
    serve_days=8,
    per_day=2_400,
    rollout_days=4,
    batch_hours=2,
    window_hours=12,
    perf_window=3_000,
    perf_min_samples=1_500,
    n_boot=200,
    latency_n=100,
)


# --- workdir -------------------------------------------------------------------------


def _prepare_workdir(workdir: str | os.PathLike[str]) -> pathlib.Path:
    path = pathlib.Path(workdir).expanduser().absolute()
    if path.exists():
        if not path.is_dir():
            raise ConfigurationError(
                f"demo workdir {str(path)!r} is a file, not a folder",
                column="workdir",
                value=str(path),
                expected="a new or empty folder, or one an earlier demo run created",
            )
        entries = set(os.listdir(path))
        # Temporary files of an interrupted earlier run count as the demo's.
        leftovers = {e for e in entries if e.startswith(".") and e.endswith(".tmp")}
        foreign = sorted(entries - _DEMO_ENTRIES - leftovers)
        if entries and (MARKER not in entries or foreign):
            shown = foreign or sorted(entries)
            raise ConfigurationError(
                f"demo workdir {str(path)!r} holds files the demo did not create "
                f"({', '.join(shown[:5])}{', ...' if len(shown) > 5 else ''}); the demo "
                "replaces its folder's contents, so pick a new or empty folder",
                column="workdir",
                value=str(path),
                expected="a new or empty folder, or one an earlier demo run created",
            )
        for name in sorted(entries):
            target = path / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text(
        "Created by `mlkit demo`. Running the demo here again replaces this folder's contents.\n",
        encoding="utf-8",
    )
    return path


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


# --- small helpers --------------------------------------------------------------------


def _scores(model: Any, X: pd.DataFrame, y: Any) -> dict[str, float]:
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    proba = model.predict_proba(X)[:, 1]
    flagged = model.predict(X)
    return {
        "roc_auc": float(roc_auc_score(y, proba)),
        "recall": float(recall_score(y, flagged, zero_division=0)),
        "precision": float(precision_score(y, flagged, zero_division=0)),
        "flag_rate": float(np.mean(flagged)),
    }


def _describe(outcome: Any) -> str:
    """One short line per gate check, from its numbers."""
    n = outcome.numbers
    name = outcome.name
    try:
        if name.startswith("metric_threshold."):
            text = f"AUC {num(n['candidate'], 3)} >= {num(n['threshold'], 2)}"
            if n.get("champion") is not None:
                text += (
                    f", {num(n['improvement'], 3)} better than the champion's "
                    f"{num(n['champion'], 3)}"
                )
            return text
        if name.startswith("not_worse."):
            if n.get("champion") is None:
                return "no champion yet: nothing to compare with (skipped)"
            return (
                f"AUC {num(n['candidate'], 3)} vs champion {num(n['champion'], 3)}, "
                f"difference {n['difference']:+.3f} (CI {n['ci_low']:+.3f} .. "
                f"{n['ci_high']:+.3f}): not significantly worse"
            )
        if name.startswith("invariance."):
            return (
                f"swapping age_group changed {n['n_failed']} of {n['n_changed']:,} fraud "
                "scores (the model never sees it)"
            )
        if name.startswith("directional."):
            return f"a larger amount lowered {n['n_failed']} of {n['n_changed']:,} fraud scores"
        if name.startswith("fairness."):
            return (
                f"flag rates across age groups differ by {num(n['candidate'], 3)} "
                f"(at most {MAX_PARITY_DIFFERENCE})"
            )
        if name.startswith("latency."):
            return (
                f"p99 {1e3 * n['p99']:.1f} ms per transaction "
                f"(budget {1e3 * LATENCY_BUDGET:.0f} ms)"
            )
    except (KeyError, TypeError):
        pass
    return str(outcome.message)


class _Demo:
    """State shared by the stages of one run."""

    def __init__(
        self,
        workdir: pathlib.Path,
        *,
        seed: int,
        small: bool,
        story: Narrator,
        progress: bool,
    ) -> None:
        from mlkit.versioning import ModelRegistry, Tracker, Workspace

        self.workdir = workdir
        self.seed = seed
        self.small = small
        self.size = SMALL if small else FULL
        self.story = story
        self.progress = progress
        self.clock = FakeClock(START)
        self.workspace = Workspace(workdir / "workspace")
        self.tracker = Tracker(self.workspace, clock=self.clock)
        self.registry = ModelRegistry(self.workspace, clock=self.clock, user="mlkit-demo")
        self.done: set[str] = set()
        self.problems: list[str] = []
        self.facts: dict[str, Any] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.results: list[StageResult] = []
        self.facts_by_stage: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[float, str]] = []

    # -- bookkeeping ---------------------------------------------------------------------

    def expect(self, condition: bool, problem: str) -> bool:
        """Record ``problem`` (and say so) unless ``condition`` holds."""
        if not condition:
            self.problems.append(problem)
            self.story.say(f"UNEXPECTED: {problem}")
        return bool(condition)

    def run(self, stop_after: str | None = None) -> list[StageResult]:
        results = self.results
        for index, name in enumerate(STAGES, 1):
            self.problems, self.facts = [], {}
            missing = [need for need in _NEEDS[name] if need not in self.done]
            if missing:
                detail = f"skipped: the {', '.join(missing)} stage failed"
                self.story.stage(index, name, detail)
                results.append(StageResult(name, False, 0.0, detail, {}, (detail,)))
                continue
            start = time.perf_counter()
            try:
                method: Callable[[int], str] = getattr(self, f"_stage_{name}")
                detail = method(index)
                self.done.add(name)
                if self.problems:
                    detail = f"{detail} [{len(self.problems)} unexpected]"
            except Exception as error:  # a broken stage is recorded; the demo goes on
                detail = f"raised {type(error).__name__}: {error}"
                self.problems.append(detail)
                logger.debug("demo stage %s raised:\n%s", name, traceback.format_exc())
                if self.story.current != name:  # it broke before its first line
                    self.story.stage(index, name, "could not run")
                self.story.say(f"FAILED: {detail}")
            seconds = time.perf_counter() - start
            ok = not self.problems
            self.story.say(f"{'ok' if ok else 'FAILED'} ({seconds:.1f} s)")
            self.facts_by_stage[name] = self.facts
            results.append(
                StageResult(
                    name,
                    ok,
                    round(seconds, 3),
                    detail,
                    _json_safe(self.facts),
                    tuple(self.problems),
                )
            )
            if name == stop_after:
                break
        return results

    # -- stage 1 -------------------------------------------------------------------------

    def _stage_data(self, index: int) -> str:
        from mlkit.validation import infer_schema, save_schema, validate
        from mlkit.versioning import hash_frame

        size, story = self.size, self.story
        reference = make_transactions(size.n_reference, seed=self.seed)
        rate = float(reference[LABEL].mean())
        story.stage(
            index,
            "data",
            f"generated {len(reference):,} reference transactions ({pct(rate)} fraud) "
            f"with make_transactions(seed={self.seed})",
        )
        schema = infer_schema(reference)
        schema_path = save_schema(schema, self.workdir / "schema.json")
        n_checks = sum(len(col.checks) + bool(col.unique) for col in schema.columns.values())
        story.say(
            f"inferred a schema: {len(schema.columns)} columns, {n_checks} checks "
            f"(dtypes, ranges, categories, unique ids) -> {schema_path.name}"
        )

        raw = make_transactions(size.n_raw, seed=self.seed + 1)
        planted: dict[int, tuple[str, Any]] = {
            3: ("amount", -12.5),
            11: ("merchant_category", "casino"),
            29: ("hour", 31),
            47: ("txn_id", raw.loc[5, "txn_id"]),
        }
        for row, (column, value) in planted.items():
            raw.loc[row, column] = value
        report = validate(raw, schema)
        self.raw_batch, self.raw_report = raw, report
        failures = report.to_frame()
        caught = {int(i) for i in failures["index"].dropna()}
        self.expect(not report.passed, "validation passed a batch with planted bad rows")
        missed = sorted(set(planted) - caught)
        self.expect(not missed, f"validation missed planted bad rows {missed}")
        story.say(
            f"validated a raw batch of {len(raw):,} rows with {len(planted)} planted bad rows: "
            f"{len(failures)} failures in {len(caught)} rows, worst {report.max_severity!r}"
        )
        for row, (column, value) in planted.items():
            checks = failures[(failures["index"] == row) & (failures["column"] == column)]
            found = ", ".join(sorted(set(checks["check"]))) or "NOT CAUGHT"
            story.say(f"  row {row}: {column} = {value!r} -> {found}")
        clean = raw.drop(index=sorted(caught)).reset_index(drop=True)
        again = validate(clean, schema)
        self.expect(again.passed, f"the cleaned batch still fails validation: {again!r}")
        story.say(
            f"dropped the {len(caught)} failing rows; the clean batch passes: {again.passed}"
        )

        with self.tracker.start_run("prepare-data", tags={"demo.stage": "data"}) as run:
            ref_version = run.log_dataset(
                reference, role="reference", source=f"make_transactions(seed={self.seed})"
            )
            clean_version = run.log_dataset(clean, role="raw-batch-clean")
            run.log_params({"n_reference": len(reference), "n_raw": len(raw), "seed": self.seed})
            run.log_metrics(
                {
                    "reference.fraud_rate": rate,
                    "raw.failures": float(len(failures)),
                    "raw.rows_dropped": float(len(caught)),
                }
            )
            run.log_artifact(schema_path)
        self.expect(
            ref_version.hash == hash_frame(reference),
            "the logged dataset hash differs from hash_frame(reference)",
        )
        story.say(
            f"hashed and logged both in run 'prepare-data' ({run.id[:8]}): reference "
            f"{ref_version.hash[:19]}..., clean batch {clean_version.hash[:19]}..."
        )

        data_dir = self.workdir / "data"
        data_dir.mkdir(exist_ok=True)
        write_text(data_dir / "reference.csv", reference.to_csv(index=False))

        order = np.random.default_rng(self.seed).permutation(len(reference))
        cut = int(0.75 * len(reference))
        self.reference = reference
        self.schema = schema
        self.train = reference.iloc[np.sort(order[:cut])].reset_index(drop=True)
        self.holdout = reference.iloc[np.sort(order[cut:])].reset_index(drop=True)
        self.facts = {
            "n_reference": len(reference),
            "fraud_rate": rate,
            "planted_rows": sorted(planted),
            "caught_rows": sorted(caught),
            "n_failures": len(failures),
            "clean_passes": again.passed,
            "dataset_hash": ref_version.hash,
            "run_id": run.id,
        }
        self.tables["data"] = failures.head(20)
        return (
            f"{len(reference):,} rows, {pct(rate)} fraud; validation caught "
            f"{len(set(planted) & caught)}/{len(planted)} planted bad rows"
        )

    # -- stage 2 -------------------------------------------------------------------------

    def _stage_train(self, index: int) -> str:
        story = self.story
        features = list(FEATURES)
        story.stage(
            index,
            "train",
            f"logistic regression on {len(features)} features, {len(self.train):,} rows "
            f"(holdout {len(self.holdout):,})",
        )
        with self.tracker.start_run("train-v1", tags={"demo.stage": "train"}) as run:
            run.log_dataset(self.train, role="train")
            run.log_dataset(self.holdout, role="holdout")
            params = {
                "model": "LogisticRegression",
                "C": 1.0,
                "threshold": THRESHOLD,
                "features": features,
            }
            run.log_params(params)
            started = time.perf_counter()
            model = make_model(threshold=THRESHOLD).fit(self.train[features], self.train[LABEL])
            fit_seconds = time.perf_counter() - started
            scores = _scores(model, self.holdout, self.holdout[LABEL])
            run.log_metrics({f"holdout.{k}": v for k, v in scores.items()})
        version = self.registry.register(
            MODEL,
            model,
            run=run,
            signature=self.train[features].head(5),
            tags={"demo.seed": self.seed},
            description="fraud model trained on the reference world",
        )
        story.say(
            f"fitted in {fit_seconds:.2f} s; holdout AUC {num(scores['roc_auc'], 3)}, "
            f"recall {num(scores['recall'])} and precision {num(scores['precision'])} "
            f"flagging {pct(scores['flag_rate'])} at p >= {THRESHOLD}"
        )
        story.say(
            f"tracked in run 'train-v1' ({run.id[:8]}) and registered as {version.uri} "
            f"({version.artifact_key[:19]}...)"
        )
        self.expect(
            scores["roc_auc"] >= MIN_AUC, f"v1 holdout AUC {scores['roc_auc']:.3f} < {MIN_AUC}"
        )
        self.expect(version.version == 1, f"the first model registered as v{version.version}")
        self.v1 = model
        self.v1_time = self.clock.now()
        self.events.append((self.v1_time, f"v1 trained and registered ({version.uri})"))
        self.facts = {"version": version.version, "run_id": run.id, **scores}
        self.tables["train"] = _frame(
            {"metric": list(scores), "holdout (v1)": [round(v, 4) for v in scores.values()]}
        )
        return f"fraud v1: holdout AUC {num(scores['roc_auc'], 3)}, recall {num(scores['recall'])}"

    # -- stage 3 -------------------------------------------------------------------------

    def _gate(self, *, challenger: bool) -> Any:
        from mlkit.retraining import (
            BehavioralCheck,
            FairnessCheck,
            LatencyCheck,
            MetricThreshold,
            NotSignificantlyWorse,
            PromotionGate,
        )
        from mlkit.testing import monotone_increase, swap_category

        return PromotionGate(
            [
                MetricThreshold(
                    "roc_auc",
                    threshold=MIN_AUC,
                    min_absolute_change=0.01 if challenger else None,
                ),
                NotSignificantlyWorse("roc_auc", n_boot=self.size.n_boot, random_state=self.seed),
                BehavioralCheck(
                    swap_category("age_group", random_state=self.seed),
                    kind="invariance",
                    options={"output": "predict_proba"},
                    name="invariance.age_group",
                ),
                BehavioralCheck(
                    monotone_increase("amount", by=100.0),
                    kind="directional",
                    options={"expect": "non_decrease"},
                    name="directional.amount",
                ),
                FairnessCheck("age_group", max_difference=MAX_PARITY_DIFFERENCE),
                LatencyCheck(
                    p99_below=LATENCY_BUDGET,
                    example=self.holdout[list(FEATURES)].head(50),
                    n=self.size.latency_n,
                    warmup=5,
                ),
            ]
        )

    def _say_gate(self, result: Any) -> None:
        for outcome in result.checks:
            verdict = "pass" if outcome.passed else "FAIL"
            self.story.say(f"  {verdict} {outcome.name}: {_describe(outcome)}")

    def _stage_gate(self, index: int) -> str:
        story = self.story
        gate = self._gate(challenger=False)
        story.stage(
            index,
            "gate",
            f"candidate v1, no champion yet: {len(gate.checks)} checks on the "
            f"{len(self.holdout):,}-row holdout",
        )
        columns = [*FEATURES, "age_group"]
        result = gate.promote(
            self.registry, MODEL, 1, X=self.holdout[columns], y=self.holdout[LABEL].to_numpy()
        )
        passed = sum(o.passed for o in result.checks)
        self._say_gate(result)
        try:
            alias = self.registry.get_by_alias(MODEL, "champion").version
        except NotFoundError:
            alias = None
        if result.promoted:
            story.say(
                f"passed {passed}/{len(result.checks)}: alias 'champion' -> fraud v1 "
                "(recorded in the alias audit log)"
            )
        else:
            story.say(f"{passed}/{len(result.checks)} checks passed: v1 not promoted")
        self.expect(result.passed, f"the gate rejected v1: {', '.join(result.failed)} failed")
        self.expect(alias == 1, f"alias 'champion' points at {alias}, expected v1")
        self.gate_v1 = result
        self.events.append(
            (
                self.clock.now(),
                "v1 passed the gate and became 'champion'"
                if result.promoted
                else f"the gate rejected v1 ({', '.join(result.failed)})",
            )
        )
        self.facts = {
            "passed": result.passed,
            "promoted": result.promoted,
            "failed": list(result.failed),
            "champion": alias,
            "checks": {o.name: o.passed for o in result.checks},
        }
        self.tables["gate"] = result.to_frame()
        verdict = "passed" if result.passed else "FAILED"
        return f"v1 {verdict} ({passed}/{len(result.checks)} checks); champion = v{alias}"

    # -- stage 4 -------------------------------------------------------------------------

    def _traffic(self, days: int, *, seed: int, drift_from_day: int | None) -> pd.DataFrame:
        """Hourly-ordered traffic with serving times and label arrival times."""
        import pandas as pd

        per_day = self.size.per_day
        if drift_from_day is None:
            frame = make_transactions(per_day * days, seed=seed, drift=1.0)
        else:
            before = make_transactions(per_day * drift_from_day, seed=seed)
            after = make_transactions(per_day * (days - drift_from_day), seed=seed + 1, drift=1.0)
            frame = pd.concat([before, after], ignore_index=True)
        n = len(frame)
        start = self.clock.now()
        batch = self.size.batch_hours
        rows_per_batch = per_day * batch // 24
        frame["txn_id"] = [f"s{seed:04d}-{i:07d}" for i in range(n)]
        frame["served_at"] = start + (np.arange(n) // rows_per_batch) * batch * HOUR
        delays = np.random.default_rng(seed + 7).uniform(*LABEL_DELAY, n)
        frame["labelled_at"] = frame["served_at"] + delays
        return frame

    def _stage_serve(self, index: int) -> str:
        from prometheus_client import CollectorRegistry

        from mlkit._progress import Progress
        from mlkit.monitoring import (
            AlertManager,
            AlertRule,
            CallbackNotifier,
            DriftMonitor,
            MonitoredModel,
            PerformanceMonitor,
        )
        from mlkit.routing import CanaryRouter
        from mlkit.validation import validate

        size, story, clock = self.size, self.story, self.clock
        try:
            champion = self.registry.load(f"models:/{MODEL}@champion")
            source = f"models:/{MODEL}@champion"
        except NotFoundError:  # the gate stage failed (and says so): go on with v1
            champion = self.registry.load(f"models:/{MODEL}/1")
            source = f"models:/{MODEL}/1, as no champion was promoted"
        canary = with_threshold(champion, CANARY_THRESHOLD, self.train, self.train[LABEL])
        metrics = CollectorRegistry()
        primary = MonitoredModel(
            champion, name=MODEL, version="1", registry=metrics, class_labels=[0, 1]
        )
        canary_model = MonitoredModel(
            canary, name=MODEL, version="1-canary", registry=metrics, class_labels=[0, 1]
        )
        router = CanaryRouter(
            primary, canary_model, weight=CANARY_WEIGHT, salt="fraud-threshold-canary"
        )
        window_s = size.window_hours * HOUR
        drift = DriftMonitor(
            self.train[list(FEATURES)],
            window=size.per_day,
            window_seconds=window_s,
            registry=metrics,
            clock=clock,
            seed=self.seed,
        )
        perf = PerformanceMonitor(
            metrics=("accuracy", "precision", "recall"),
            window=size.perf_window,
            ttl=3 * DAY,
            min_samples=size.perf_min_samples,
            clock=clock,
            registry=metrics,
            name=MODEL,
        )
        sent: list[Any] = []
        alerts = AlertManager(
            [
                AlertRule(
                    "FeatureDrift",
                    ("drift_share", ">=", DRIFT_ALERT_SHARE),
                    for_=window_s,
                    severity="warning",
                    annotations={"summary": "{value:.0%} of the model's inputs drifted"},
                ),
                AlertRule(
                    "FraudRecallLow",
                    ("recall", "<", RECALL_FLOOR),
                    for_=6 * HOUR,
                    severity="critical",
                    keep_firing_for=12 * HOUR,
                    annotations={"summary": "recall {value:.2f} on late labels"},
                ),
            ],
            [CallbackNotifier(sent.append)],
            clock=clock,
        )

        days = size.serve_days
        drift_day = days // 2
        start = clock.now()
        inject_at = start + drift_day * DAY
        traffic = self._traffic(days, seed=self.seed + 100, drift_from_day=drift_day)
        n_batches = days * 24 // size.batch_hours
        rows_per_batch = len(traffic) // n_batches
        story.stage(
            index,
            "serve",
            f"{days} days of traffic ({len(traffic):,} transactions in {n_batches} "
            f"{size.batch_hours}-hour batches) through a canary router",
        )
        story.say(
            f"primary: champion v1 ({source}); canary: the same model flagging at "
            f"p >= {CANARY_THRESHOLD} for a sticky {pct(CANARY_WEIGHT, 0)} of users"
        )
        story.say(
            f"monitors: Prometheus metrics, drift windows of {size.window_hours} h vs the "
            f"training data, recall on labels arriving {LABEL_DELAY[0] / HOUR:.0f}-"
            f"{LABEL_DELAY[1] / HOUR:.0f} h late; the fraud wave starts on "
            f"{when(inject_at, start)}"
        )

        features = list(FEATURES)
        ids = traffic["txn_id"].to_numpy()
        labels = traffic[LABEL].to_numpy()
        users = traffic["user_id"].tolist()
        label_order = np.argsort(traffic["labelled_at"].to_numpy(), kind="stable")
        label_times = traffic["labelled_at"].to_numpy()[label_order]
        released = 0
        predictions = np.zeros(len(traffic), dtype=np.int64)
        canary_rows = np.zeros(len(traffic), dtype=bool)
        windows: list[dict[str, Any]] = []
        timeline: list[dict[str, Any]] = []
        fired: dict[str, float] = {}
        with Progress(n_batches, "      serving", unit="batches", enabled=self.progress) as bar:
            for b in range(n_batches):
                now = clock.now()
                lo, hi = b * rows_per_batch, (b + 1) * rows_per_batch
                X = traffic.iloc[lo:hi][features]
                routed = router.predict_routed(X, key=users[lo:hi])
                predictions[lo:hi] = [int(r.output) for r in routed]
                canary_rows[lo:hi] = [r.variant == "canary" for r in routed]
                drift.observe(X)
                for i in range(lo, hi):
                    perf.record_prediction(ids[i], int(predictions[i]), ts=now)
                clock.advance(size.batch_hours * HOUR)
                now = clock.now()
                due = int(np.searchsorted(label_times, now, side="right"))
                for i in label_order[released:due]:
                    perf.record_actual(ids[i], int(labels[i]))
                released = due
                seen = len(windows)
                drift.tick()
                result = perf.metrics()
                for report in drift.history[seen:]:
                    share = None if report.report is None else report.report.share
                    windows.append(
                        {
                            "index": report.index,
                            "start": report.start,
                            "end": report.end,
                            "drifted": report.drifted,
                            "share": share,
                            "columns": list(report.drifted_columns),
                            "recall": result["recall"],
                            "n_samples": result.n_samples,
                            "after_injection": report.start >= inject_at,
                        }
                    )
                    if report.drifted and not any(w["drifted"] for w in windows[:-1]):
                        story.say(
                            f"{when(report.end, start)}: drift window {report.index} drifted "
                            f"({pct(share, 0)} of inputs: {', '.join(report.drifted_columns)})"
                        )
                latest = drift.latest
                values = {
                    "drift_share": None
                    if latest is None or latest.report is None
                    else latest.report.share,
                    "recall": result["recall"],
                }
                for alert in alerts.evaluate(values):
                    if alert.state == "firing" and alert.name not in fired:
                        fired[alert.name] = now
                timeline.append({"time": now, **values, "precision": result["precision"]})
                bar.update()

        shown: set[str] = set()
        for note in sent:
            name = note.labels.get("alertname", "")
            if note.labels.get("status") == "firing" and name not in shown:
                shown.add(name)
                times = sum(
                    n.labels.get("alertname") == name and n.labels.get("status") == "firing"
                    for n in sent
                )
                story.say(
                    f"ALERT {note.title} at {when(note.timestamp or 0.0, start)} "
                    f"({note.severity}): {note.message.splitlines()[-1].removeprefix('summary: ')}"
                    + (f" (fired {times} times)" if times > 1 else "")
                )

        before = [w for w in windows if w["end"] <= inject_at]
        after = [w for w in windows if w["after_injection"]]
        false_alarms = [w["index"] for w in before if w["drifted"]]
        first_drift = next((w for w in after if w["drifted"]), None)
        story.say(
            f"drift windows: {len(false_alarms)} of {len(before)} before the wave drifted, "
            f"{sum(w['drifted'] for w in after)} of {len(after)} after"
        )
        self.expect(not false_alarms, f"drift detected before the wave in windows {false_alarms}")
        self.expect(first_drift is not None, "no drift window drifted after the wave started")
        early_alerts = sorted(name for name, at in fired.items() if at <= inject_at)
        self.expect(not early_alerts, f"alerts fired before the wave: {early_alerts}")
        drift_alert = fired.get("FeatureDrift")
        self.expect(drift_alert is not None, "the FeatureDrift alert never fired")
        self.expect(
            drift_alert is None or drift_alert > inject_at,
            "the FeatureDrift alert fired before the wave",
        )
        early = [
            t["recall"] for t in timeline if t["recall"] is not None and t["time"] <= inject_at
        ]
        late = [t["recall"] for t in timeline[-max(1, len(timeline) // 6) :]]
        recall_before = float(np.mean(early)) if early else None
        recall_after = float(np.mean([r for r in late if r is not None])) if late else None
        self.expect(
            recall_before is not None
            and recall_after is not None
            and recall_after < recall_before - 0.05,
            f"recall did not drop after the wave ({num(recall_before)} -> {num(recall_after)})",
        )
        story.say(
            f"recall on late labels: {num(recall_before)} before the wave, "
            f"{num(recall_after)} in the last days"
            + (" (FraudRecallLow fired)" if "FraudRecallLow" in fired else "")
        )

        def counted(version: str) -> float:
            labels_ = {"model": MODEL, "version": version}
            total = 0.0
            for outcome in ("0", "1"):
                value = metrics.get_sample_value(
                    "mlkit_predictions_total", {**labels_, "outcome": outcome}
                )
                total += value or 0.0
            return total

        # The canary's users, scored by the champion too: the same rows, both thresholds.
        on_canary = traffic[canary_rows]
        fraud = on_canary[LABEL].to_numpy() == 1
        at_canary = predictions[canary_rows]
        at_champion = np.asarray(champion.predict(on_canary[features]))
        canary_rate, champion_rate = float(at_canary.mean()), float(at_champion.mean())
        canary_recall = float(at_canary[fraud].mean()) if fraud.any() else math.nan
        champion_recall = float(at_champion[fraud].mean()) if fraud.any() else math.nan
        n_primary, n_canary = counted("1"), counted("1-canary")
        story.say(
            f"canary: {n_canary:,.0f} predictions vs {n_primary:,.0f} for the primary "
            f"(Prometheus mlkit_predictions_total); on its users p >= {CANARY_THRESHOLD} "
            f"flagged {pct(canary_rate)} and caught {pct(canary_recall, 0)} of the fraud, "
            f"p >= {THRESHOLD} would have flagged {pct(champion_rate)} and caught "
            f"{pct(champion_recall, 0)}"
        )
        self.expect(
            canary_rate >= champion_rate,
            "the canary's lower threshold flagged fewer transactions than the champion's",
        )
        self.expect(
            n_canary + n_primary == len(traffic),
            f"Prometheus counted {n_canary + n_primary:,.0f} predictions for "
            f"{len(traffic):,} requests",
        )

        wave = traffic[traffic["served_at"] >= inject_at]
        first_day = wave[wave["served_at"] < inject_at + DAY]
        check = validate(first_day.drop(columns=["served_at", "labelled_at"]), self.schema)
        frame = check.to_frame()
        new_category = bool(
            ((frame["column"] == "merchant_category") & (frame["failure_case"] == NEW_CATEGORY))
            .astype(bool)
            .any()
        )
        story.say(
            f"the schema agrees: the wave's first day fails validation with "
            f"{len(frame)} failures (merchant_category {NEW_CATEGORY!r} unknown: {new_category})"
        )
        self.expect(new_category, f"the schema did not flag the new category {NEW_CATEGORY!r}")

        self.serve_start, self.inject_at = start, inject_at
        self.events.append((start, "serving starts: champion v1 + threshold canary"))
        self.events.append((inject_at, "the fraud wave starts (drift injected)"))
        if first_drift is not None:
            self.events.append(
                (first_drift["end"], f"drift window {first_drift['index']} drifted")
            )
        for note in sent:
            self.events.append((note.timestamp or 0.0, f"alert {note.title}"))
        self.windows, self.timeline, self.traffic = windows, timeline, traffic
        self.predictions = predictions
        self.notifications = [
            {
                "title": n.title,
                "status": n.labels.get("status"),
                "severity": n.severity,
                "time": n.timestamp,
                "when": when(n.timestamp or 0.0, start),
            }
            for n in sent
        ]
        self.facts = {
            "n_requests": len(traffic),
            "inject_at": inject_at,
            "n_windows": len(windows),
            "drifted_windows": [w["index"] for w in windows if w["drifted"]],
            "windows_before_injection": [w["index"] for w in before],
            "first_drift_window": None if first_drift is None else first_drift["index"],
            "alerts_fired": {k: when(v, start) for k, v in fired.items()},
            "alert_times": fired,
            "recall_before": recall_before,
            "recall_after": recall_after,
            "canary_share": float(canary_rows.mean()),
            "canary_flag_rate": canary_rate,
            "champion_flag_rate_on_canary_users": champion_rate,
            "canary_recall": canary_recall,
            "champion_recall_on_canary_users": champion_recall,
            "performance_counts": perf.counts(),
            "schema_flags_new_category": new_category,
        }
        first = "none" if first_drift is None else when(first_drift["end"], start)
        return (
            f"{len(traffic):,} requests; first drifted window {first}; alerts fired: "
            f"{', '.join(fired) or 'none'}; recall {num(recall_before)} -> {num(recall_after)}"
        )

    # -- stage 5 -------------------------------------------------------------------------

    def _stage_decide(self, index: int) -> str:
        from mlkit.retraining import (
            DriftTrigger,
            PerformanceTrigger,
            RetrainingController,
            State,
        )
        from mlkit.versioning import Tracker

        story = self.story
        requests: list[Any] = []
        controller = RetrainingController(
            [
                DriftTrigger(share_above=DRIFT_TRIGGER_SHARE, consecutive_windows=2),
                PerformanceTrigger(
                    "recall", below=RECALL_FLOOR, min_samples=self.size.perf_min_samples
                ),
            ],
            cooldown=2 * DAY,
            hysteresis=0.02,
            clock=self.clock,
            on_retrain=requests.append,
            tracker=Tracker(self.workspace, clock=self.clock, capture_environment=False),
        )
        story.stage(
            index,
            "decide",
            f"a RetrainingController reads each drift window's state: {controller.trigger.name}",
        )
        decisions = []
        for window in self.windows:
            state = State(
                now=window["end"],
                metrics={"recall": window["recall"]},
                n_samples=window["n_samples"],
                drift_share=window["share"],
                drifted_features=window["columns"],
                drift_window=window["index"],
                last_retrain=self.v1_time,
            )
            decision = controller.step(state)
            decisions.append((window, decision))
            if decision.retrain:
                break  # from here on the retraining job takes over
        retrains = [(w, d) for w, d in decisions if d.retrain]
        early = [w["index"] for w, _ in retrains if not w["after_injection"]]
        self.expect(not early, f"the controller retrained before the wave (windows {early})")
        self.expect(bool(retrains), "the controller never decided to retrain")
        suppressed = [d for _, d in decisions if d.suppressed_by]
        if retrains:
            window, decision = retrains[0]
            story.say(
                f"{when(decision.time, self.serve_start)} (window {window['index']}): RETRAIN, "
                f"fired {', '.join(decision.fired)}"
            )
            for reason in decision.reasons[1:]:
                story.say(f"  {reason}")
            self.expect(
                any(name.startswith(("drift", "performance")) for name in decision.fired),
                f"the retrain was not caused by drift or performance: {decision.fired}",
            )
            self.retrain_decision = decision
            self.events.append(
                (decision.time, f"the controller decides to retrain: {', '.join(decision.fired)}")
            )
        story.say(
            f"{len(decisions)} decisions, each recorded as a run 'retraining-decision'; "
            f"{len(decisions) - len(retrains)} without a retrain before this one"
        )
        self.decisions = decisions
        first = retrains[0][1] if retrains else None
        self.facts = {
            "n_decisions": len(decisions),
            "retrain": bool(retrains),
            "retrain_windows": [w["index"] for w, _ in retrains],
            "fired": [] if first is None else list(first.fired),
            "reasons": [] if first is None else list(first.reasons),
            "decided_at": None if first is None else first.time,
            "suppressed_by": [d.suppressed_by for d in suppressed],
        }
        self.tables["decide"] = _frame(
            {
                "window": [w["index"] for w, _ in decisions],
                "time": [when(d.time, self.serve_start) for _, d in decisions],
                "retrain": [d.retrain for _, d in decisions],
                "fired": [", ".join(d.fired) for _, d in decisions],
                "suppressed_by": [d.suppressed_by or "" for _, d in decisions],
            }
        )
        if first is None:
            return "no retrain decided"
        return f"retrain at {when(first.time, self.serve_start)}: {', '.join(first.fired)}"

    # -- stage 6 -------------------------------------------------------------------------

    def _stage_retrain(self, index: int) -> str:
        from prometheus_client import CollectorRegistry

        from mlkit._progress import Progress
        from mlkit.monitoring import MonitoredModel
        from mlkit.routing import ProgressiveRollout, Threshold

        story, clock, size = self.story, self.clock, self.size
        if not hasattr(self, "retrain_decision"):
            raise NotFoundError(
                "the controller decided no retrain, so there is no challenger to train",
                value=None,
                expected="a retrain decision from the decide stage",
            )
        now = clock.now()
        traffic = self.traffic
        recent = traffic[
            (traffic["served_at"] >= self.inject_at) & (traffic["labelled_at"] <= now)
        ]
        recent = recent.drop(columns=["served_at", "labelled_at"]).reset_index(drop=True)
        write_text(self.workdir / "data" / "recent.csv", recent.to_csv(index=False))
        self.recent = recent
        cut = int(0.75 * len(recent))
        train, holdout = recent.iloc[:cut], recent.iloc[cut:].reset_index(drop=True)
        features = list(FEATURES)
        story.stage(
            index,
            "retrain",
            f"challenger trained on {len(train):,} labelled transactions since the wave "
            f"({pct(float(recent[LABEL].mean()))} fraud), gated on the latest {len(holdout):,}",
        )
        reason = "; ".join(self.retrain_decision.fired)
        with self.tracker.start_run(
            "train-v2", tags={"demo.stage": "retrain", "retraining.fired": reason}
        ) as run:
            run.log_dataset(train, role="train")
            run.log_dataset(holdout, role="holdout")
            run.log_params({"model": "LogisticRegression", "C": 1.0, "threshold": THRESHOLD})
            challenger = make_model(threshold=THRESHOLD).fit(train[features], train[LABEL])
            v2_scores = _scores(challenger, holdout, holdout[LABEL])
            run.log_metrics({f"holdout.{k}": v for k, v in v2_scores.items()})
        v1_scores = _scores(self.v1, holdout, holdout[LABEL])
        version = self.registry.register(
            MODEL,
            challenger,
            run=run,
            signature=train[features].head(5),
            tags={"demo.seed": self.seed, "retraining.fired": reason},
            description="challenger retrained on the fraud wave",
        )
        self.registry.set_alias(MODEL, "challenger", version.version)
        self.events.append((now, f"challenger trained and registered ({version.uri})"))
        story.say(
            f"registered {version.uri} (alias 'challenger'); on the recent holdout: AUC "
            f"{num(v2_scores['roc_auc'], 3)} vs v1 {num(v1_scores['roc_auc'], 3)}, recall "
            f"{num(v2_scores['recall'])} vs {num(v1_scores['recall'])}"
        )
        self.expect(version.version == 2, f"the challenger registered as v{version.version}")

        gate = self._gate(challenger=True)
        result = gate.evaluate(
            challenger,
            self.v1,
            holdout[[*features, "age_group"]],
            holdout[LABEL].to_numpy(),
        )
        result = attrs.evolve(result, candidate_version=version.version, champion_version=1)
        passed = sum(o.passed for o in result.checks)
        story.say(
            f"gate, challenger v2 vs champion v1: {'passed' if result.passed else 'FAILED'} "
            f"{passed}/{len(result.checks)} checks"
        )
        self._say_gate(result)
        self.registry.set_version_tag(
            MODEL, version.version, "gate.passed", str(result.passed).lower()
        )
        self.registry.set_version_tag(
            MODEL, version.version, "gate.result", json.dumps(result.to_dict(), sort_keys=True)
        )
        self.gate_v2 = result
        self.events.append(
            (
                now,
                f"v2 passed the gate against v1 ({passed}/{len(result.checks)})"
                if result.passed
                else f"the gate rejected v2 ({', '.join(result.failed)})",
            )
        )
        self.v2_scores, self.v1_recent_scores = v2_scores, v1_scores
        self.tables["retrain.gate"] = result.to_frame()
        self.facts = {
            "version": version.version,
            "run_id": run.id,
            "gate_passed": result.passed,
            "gate_failed": list(result.failed),
            "v2": v2_scores,
            "v1_on_recent": v1_scores,
        }
        if not self.expect(result.passed, f"the gate rejected v2: {', '.join(result.failed)}"):
            return f"challenger v2 rejected by the gate ({', '.join(result.failed)})"

        # Progressive rollout of v2 on fresh traffic, watched on late labels.
        rollout_metrics = CollectorRegistry()
        decisions: list[Any] = []
        rollout = ProgressiveRollout(
            MonitoredModel(self.v1, name=MODEL, version="1", registry=rollout_metrics),
            MonitoredModel(challenger, name=MODEL, version="2", registry=rollout_metrics),
            steps=ROLLOUT_STEPS,
            analysis=[
                Threshold("error_rate", max=0.0),
                Threshold("recall", min=ROLLOUT_MIN_RECALL),
            ],
            min_samples=max(1, 12 // size.batch_hours),
            interval=12 * HOUR,
            clock=clock,
            salt="fraud-v2-rollout",
            on_change=decisions.append,
        )
        start = clock.now()
        self.events.append((start, f"rollout starts: v2 at {pct(rollout.weight, 0)} of users"))
        traffic = self._traffic(size.rollout_days, seed=self.seed + 300, drift_from_day=None)
        n_batches = size.rollout_days * 24 // size.batch_hours
        rows_per_batch = len(traffic) // n_batches
        story.say(
            "progressive rollout v1 -> v2 over steps "
            f"{', '.join(pct(s, 0) for s in ROLLOUT_STEPS)}, analysed every 12 h: no errors, "
            f"and v2 recall >= {ROLLOUT_MIN_RECALL} on late labels (per "
            f"{ROLLOUT_RECALL_CHUNK} confirmed frauds)"
        )
        labels = traffic[LABEL].to_numpy()
        users = traffic["user_id"].tolist()
        label_order = np.argsort(traffic["labelled_at"].to_numpy(), kind="stable")
        label_times = traffic["labelled_at"].to_numpy()[label_order]
        released = 0
        predicted = np.zeros(len(traffic), dtype=np.int64)
        on_v2 = np.zeros(len(traffic), dtype=bool)
        served = np.zeros(len(traffic), dtype=bool)
        weights: list[tuple[float, float]] = [(start, rollout.weight)]
        caught = {"candidate": [0, 0], "primary": [0, 0]}
        pending: dict[str, list[int]] = {"candidate": [], "primary": []}
        with Progress(n_batches, "      rollout", unit="batches", enabled=self.progress) as bar:
            for b in range(n_batches):
                lo, hi = b * rows_per_batch, (b + 1) * rows_per_batch
                routed = rollout.predict_routed(traffic.iloc[lo:hi][features], key=users[lo:hi])
                predicted[lo:hi] = [int(r.output) for r in routed]
                on_v2[lo:hi] = [r.variant == "canary" for r in routed]
                served[lo:hi] = True
                clock.advance(size.batch_hours * HOUR)
                due = int(np.searchsorted(label_times, clock.now(), side="right"))
                for i in label_order[released:due]:
                    if served[i] and labels[i] == 1:
                        variant = "candidate" if on_v2[i] else "primary"
                        hit = int(predicted[i] == 1)
                        caught[variant][0] += hit
                        caught[variant][1] += 1
                        # Recall is fed in chunks of confirmed frauds, so that one
                        # analysis never judges v2 on two or three labels.
                        chunk = pending[variant]
                        chunk.append(hit)
                        if len(chunk) == ROLLOUT_RECALL_CHUNK:
                            rollout.observe("recall", sum(chunk) / len(chunk), variant=variant)
                            chunk.clear()
                released = due
                weights.append((clock.now(), rollout.weight))
                bar.update()
                if rollout.state != "progressing":
                    break
        for decision in decisions:
            story.say(
                f"  {when(decision.time, self.serve_start)}: {decision.action} "
                f"{pct(decision.from_weight, 0)} -> {pct(decision.to_weight, 0)} "
                f"({'; '.join(decision.reasons)}; v2 recall "
                f"{num(decision.metrics.get('recall'))})"
            )
        holds = sum(1 for d in rollout.history if d.action == "hold")
        self.expect(
            rollout.state == "complete",
            f"the rollout ended {rollout.state!r} at weight {rollout.weight}",
        )
        if rollout.state == "complete":
            self.registry.set_alias(MODEL, "champion", version.version)
            self.events.append((clock.now(), "v2 becomes 'champion'"))
            self.registry.delete_alias(MODEL, "challenger")
        champion = self.registry.get_by_alias(MODEL, "champion").version
        self.expect(champion == version.version, f"alias 'champion' is v{champion}, expected v2")
        recall = {k: (v[0] / v[1] if v[1] else None) for k, v in caught.items()}
        story.say(
            f"rollout {rollout.state} after {len(rollout.history)} analyses ({holds} holds); "
            f"recall during the rollout: v2 {num(recall['candidate'])}, v1 "
            f"{num(recall['primary'])}; alias 'champion' -> fraud v{champion}"
        )
        for decision in rollout.history:
            if decision.action != "hold":
                self.events.append(
                    (
                        decision.time,
                        f"rollout {decision.action}: v2 at {pct(decision.to_weight, 0)} of users",
                    )
                )
        self.rollout_weights = weights
        self.rollout_start = start
        self.tables["retrain.rollout"] = _frame(
            {
                "time": [when(d.time, start) for d in rollout.history],
                "action": [d.action for d in rollout.history],
                "from": [d.from_weight for d in rollout.history],
                "to": [d.to_weight for d in rollout.history],
                "reasons": ["; ".join(d.reasons) for d in rollout.history],
            }
        )
        self.facts.update(
            {
                "rollout_state": rollout.state,
                "rollout_actions": [d.action for d in rollout.history],
                "rollout_recall": recall,
                "champion": champion,
            }
        )
        return (
            f"v2 passed {passed}/{len(result.checks)} checks, rollout {rollout.state}, "
            f"champion = v{champion}"
        )

    # -- stage 7 -------------------------------------------------------------------------

    def _stage_report(self, index: int) -> str:
        from mlkit.demo._report import build_report
        from mlkit.drift import DriftDetector
        from mlkit.reports import drift_html, validation_html

        story = self.story
        story.stage(index, "report", "writing the HTML reports and the JSON summary")
        written = []
        if hasattr(self, "raw_report"):
            page = validation_html(
                self.raw_report,
                title="Validation of the raw batch (planted bad rows)",
                data=self.raw_batch,
            )
            written.append(page.save(self.workdir / "validation.html"))
        if hasattr(self, "recent"):
            features = list(FEATURES)
            reference, recent = self.reference[features], self.recent[features]
            drift_report = DriftDetector().fit(reference).test(recent)
            page = drift_html(
                drift_report,
                reference,
                recent,
                title="Drift: the reference vs the labelled traffic since the fraud wave",
            )
            written.append(page.save(self.workdir / "drift.html"))
        report = build_report(self)
        path = report.save(self.workdir / "report.html")
        story.say(f"HTML report: {path} ({path.stat().st_size / 1024:.0f} KiB)")
        if written:
            story.say(f"and beside it: {', '.join(p.name for p in written)}")
        self.facts = {"report_path": str(path), "also": [p.name for p in written]}
        return f"report written to {path.name}"


def _frame(columns: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    import pandas as pd

    frame: pd.DataFrame = pd.DataFrame(dict(columns))
    return frame


def _run(
    workdir: str | os.PathLike[str],
    *,
    seed: int,
    small: bool,
    out: TextIO | None,
    progress: bool,
    stop_after: str | None = None,
) -> DemoResult:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigurationError(
            f"run_demo: seed must be a non-negative integer, got {seed!r}",
            column="seed",
            value=seed,
            expected="an integer >= 0",
        )
    if stop_after is not None and stop_after not in STAGES:
        raise ConfigurationError(
            f"run_demo: unknown stage {stop_after!r}",
            column="stop_after",
            value=stop_after,
            expected=f"one of {list(STAGES)}",
        )
    if stop_after is None or stop_after == "report":
        # Fail before twelve days of traffic, not after, when the HTML report
        # cannot be written.
        require("matplotlib", "report", "The demo's HTML report")
        require("jinja2", "report", "The demo's HTML report")
    path = _prepare_workdir(workdir)
    story = Narrator(out, total=len(STAGES))
    size = SMALL if small else FULL
    story.plain(
        f"mlkit demo: the life of a fraud model, seed {int(seed)}, "
        f"{'small' if small else 'full'} size, in {path}"
    )
    started = time.perf_counter()
    demo = _Demo(path, seed=int(seed), small=small, story=story, progress=progress)
    stages = tuple(demo.run(stop_after))
    failures = tuple(f"{s.name}: {p}" for s in stages for p in s.problems)
    ok = all(s.ok for s in stages) and len(stages) == len(STAGES)
    result = DemoResult(
        ok=ok,
        stages=stages,
        workdir=path,
        report_path=path / "report.html",
        json_path=path / "report.json",
        failures=failures,
    )
    summary = {
        **result.to_dict(),
        "seed": int(seed),
        "small": small,
        "size": attrs.asdict(size),
        "windows": getattr(demo, "windows", []),
        "notifications": getattr(demo, "notifications", []),
        "events": [
            {"time": t, "when": when(t, START), "what": what}
            for t, what in sorted(demo.events, key=lambda event: event[0])
        ],
        "rollout_weights": [list(w) for w in getattr(demo, "rollout_weights", [])],
        "narration": demo.story.lines,
    }
    write_text(result.json_path, json.dumps(_json_safe(summary), indent=2, allow_nan=False) + "\n")
    elapsed = time.perf_counter() - started
    passed = sum(s.ok for s in stages)
    if ok:
        story.plain(f"demo ok: {passed}/{len(STAGES)} stages in {elapsed:.1f} s")
    else:
        story.plain(
            f"demo FAILED: {passed}/{len(STAGES)} stages ok in {elapsed:.1f} s; "
            + "; ".join(failures[:3])
        )
    story.plain(f"report: {result.report_path}  summary: {result.json_path}")
    return result


def run_demo(
    workdir: str | os.PathLike[str] = "mlkit-demo",
    *,
    seed: int = 0,
    small: bool = False,
    out: TextIO | None = None,
    progress: bool = True,
) -> DemoResult:
    """Run the whole lifecycle of a fraud model on synthetic data, narrated.

    Seven stages on a fake clock, so twelve days of traffic take seconds:

    1. **data**: generate transactions, infer a schema, catch planted bad
       rows, hash and log the data in a tracked run;
    2. **train**: fit a scikit-learn model in a tracked run and register v1;
    3. **gate**: performance, behaviour, fairness and latency checks, then
       alias ``champion``;
    4. **serve**: traffic through a canary router with Prometheus metrics, a
       drift monitor and a recall monitor on late labels; a fraud wave
       starts halfway and the alerts fire;
    5. **decide**: a retraining controller reads the monitors and calls for
       a retrain;
    6. **retrain**: a challenger on the recent data, gated against the
       champion, rolled out progressively, then made ``champion``;
    7. **report**: an HTML report, next to a JSON summary.

    Parameters
    ----------
    workdir
        The folder for the workspace, the data and the reports; created if
        needed. A folder from an earlier demo run is replaced.
    seed
        Seed of every random draw: the same seed gives the same decisions and
        the same numbers (latencies aside).
    small
        A smaller scenario (a few seconds), as the test suite runs it.
    out
        Where the narration goes (``sys.stdout`` when None).
    progress
        Show progress bars (on stderr) during the long steps.

    Returns
    -------
    DemoResult
        ``ok`` is False when any stage failed or missed an expectation; the
        stages, their facts and the failures say which.

    Raises
    ------
    ConfigurationError
        If ``workdir`` exists and holds files the demo did not create, or
        ``seed`` is not a non-negative integer.
    MissingDependencyError
        If matplotlib or Jinja2 (the ``report`` extra) is missing; raised
        before anything runs.
    """
    return _run(workdir, seed=seed, small=small, out=out, progress=progress)
