"""The demo's HTML report, built from what the stages left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mlkit.demo._narrate import num, when

if TYPE_CHECKING:
    from mlkit.demo._run import _Demo
    from mlkit.reports import HtmlReport, Section

__all__ = ["build_report"]

_DAY = 86400.0
_START = 1_767_571_200.0  # the fake clock's start, as in _run.START
_TITLES = {
    "data": "Data: schema, validation, hashing",
    "train": "Training: a tracked run, registered as v1",
    "gate": "Promotion gate: v1 becomes champion",
    "serve": "Serving: canary, monitors, a fraud wave",
    "decide": "Decision: the retraining controller",
    "retrain": "Retraining: challenger, gate, progressive rollout",
}


def _text(demo: _Demo, name: str) -> str:
    # One paragraph per narrated line: the report tells the same story as the log.
    return "\n\n".join(demo.story.lines.get(name, []))


def _serve_charts(demo: _Demo) -> list[str]:
    from mlkit.reports import line_chart

    start = demo.serve_start
    wave = (demo.inject_at - start) / _DAY
    windows = demo.windows
    x = [(w["end"] - start) / _DAY for w in windows]
    nan = float("nan")
    markers = {"fraud wave starts": wave}
    for name, at in demo.facts_by_stage.get("serve", {}).get("alert_times", {}).items():
        markers[f"{name} fires"] = (at - start) / _DAY
    charts = [
        line_chart(
            x,
            {
                "drifted share of inputs": [
                    nan if w["share"] is None else w["share"] for w in windows
                ],
                "recall (late labels)": [
                    nan if w["recall"] is None else w["recall"] for w in windows
                ],
            },
            title="Drift share and recall per drift window",
            xlabel="days since serving started (window end)",
            ylabel="share / recall",
            markers=markers,
        )
    ]
    timeline = demo.timeline
    charts.append(
        line_chart(
            [(t["time"] - start) / _DAY for t in timeline],
            {
                "recall": [nan if t["recall"] is None else t["recall"] for t in timeline],
                "precision": [nan if t["precision"] is None else t["precision"] for t in timeline],
            },
            title="Recall and precision on late labels (sliding window)",
            xlabel="days since serving started",
            ylabel="metric",
            markers={"fraud wave starts": wave},
        )
    )
    return charts


def _windows_table(demo: _Demo) -> Any:
    import pandas as pd

    start = demo.serve_start
    return pd.DataFrame(
        {
            "window": [w["index"] for w in demo.windows],
            "end": [when(w["end"], start) for w in demo.windows],
            "drifted": [w["drifted"] for w in demo.windows],
            "share": [w["share"] for w in demo.windows],
            "drifted columns": [", ".join(w["columns"]) for w in demo.windows],
            "recall": [w["recall"] for w in demo.windows],
            "after wave": [w["after_injection"] for w in demo.windows],
        }
    )


def _rollout_chart(demo: _Demo) -> str:
    from mlkit.reports import line_chart

    start = demo.rollout_start
    points = demo.rollout_weights
    return line_chart(
        [(t - start) / 3600.0 for t, _ in points],
        {"v2 share of users": [w for _, w in points]},
        title="Progressive rollout of v2",
        xlabel="hours since the rollout started",
        ylabel="weight",
    )


def build_report(demo: _Demo) -> HtmlReport:
    """Assemble the demo's page: a summary, then one section per stage."""
    import pandas as pd

    from mlkit.reports import Section, page

    results = {r.name: r for r in demo.results}
    sections: list[Section] = []
    if demo.events:
        events = sorted(demo.events, key=lambda e: e[0])
        sections.append(
            Section(
                "Timeline",
                text=(
                    "What happened, on the demo's fake clock (day 1 is the day the champion "
                    "was trained and serving started)."
                ),
                table=pd.DataFrame(
                    {
                        "when": [when(t, _START) for t, _ in events],
                        "what": [what for _, what in events],
                    }
                ),
            )
        )
    for name, title in _TITLES.items():
        result = results.get(name)
        if result is None:
            continue
        status: Literal["ok", "fail"] = "ok" if result.ok else "fail"
        text = _text(demo, name)
        if result.problems:
            text += "\n\nProblems: " + "; ".join(result.problems)
        charts: list[str] = []
        table = demo.tables.get(name)
        if name == "serve" and "serve" in demo.done:
            charts = _serve_charts(demo)
            table = _windows_table(demo)
        sections.append(
            Section(f"{title}", text=text, table=table, charts=tuple(charts), status=status)
        )
        if name == "serve" and "serve" in demo.done and demo.notifications:
            sections.append(
                Section(
                    "Alerts sent (CallbackNotifier)",
                    text="Alert rules evaluated after every batch on the fake clock.",
                    table=pd.DataFrame(demo.notifications)[["when", "title", "severity"]],
                    status="warn",
                )
            )
        if name == "retrain" and "retrain.gate" in demo.tables:
            sections.append(
                Section(
                    "Gate: challenger v2 vs champion v1",
                    table=demo.tables["retrain.gate"],
                    status="ok" if demo.gate_v2.passed else "fail",
                )
            )
        if name == "retrain" and "retrain.rollout" in demo.tables:
            sections.append(
                Section(
                    "Progressive rollout",
                    table=demo.tables["retrain.rollout"],
                    charts=(_rollout_chart(demo),),
                    status="ok" if results[name].ok else "fail",
                )
            )
    ok = sum(r.ok for r in demo.results)
    summary = {
        "stages ok": f"{ok}/{len(demo.results)} before the report",
        "seed": str(demo.seed),
        "size": "small" if demo.small else "full",
    }
    serve = results.get("serve")
    if serve is not None and serve.facts:
        summary["recall"] = (
            f"{num(serve.facts.get('recall_before'))} -> {num(serve.facts.get('recall_after'))}"
        )
    retrain = results.get("retrain")
    if retrain is not None and retrain.facts.get("champion") is not None:
        summary["champion"] = f"fraud v{retrain.facts['champion']}"
    return page(
        "mlkit demo: the life of a fraud model",
        sections,
        summary=summary,
        subtitle=(
            "Synthetic card transactions on a fake clock: validate, train, gate, serve "
            "behind a canary with monitors, a fraud wave, retrain, roll out."
        ),
    )
