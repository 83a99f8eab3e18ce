"""Serving validation benchmark: ``validate_record`` beside pandera on a one-row frame.

One command measures everything on the same records in one run::

    python -m benchmarks.bench_validation            # about a minute
    python -m benchmarks.bench_validation --quick    # a smoke test, a few seconds

The schema is what a serving app checks on every request (18 columns, built-in
pandera checks only, ``strict=True``): six floats with ranges (two nullable),
four ints with ranges, four categories (``isin``), a user id (``str_matches``,
``str_length``), a nullable coupon code (``str_length``), a bool and a
datetime with a range. The records are seeded, JSON-like dicts of Python
scalars (a ``pd.Timestamp`` for the datetime; NaN for a missing nullable
float, None for a missing nullable string: both pass pandera on a one-row
frame). Per call, in microseconds, repeats interleaved (the order rotates
every round) and the median kept, it times:

- ``mlkit.validation.validate_record(record, schema)``: the serving path,
  compiled validator looked up in its cache by schema;
- ``RecordValidator(schema)(record)``: the compiled validator called directly;
- ``schema.validate(pd.DataFrame([record]))``: the baseline of issue 5's goal
  (validate_record at least 20x faster), pandera's default (stops at the first
  failure: a SchemaError, caught);
- the same with ``lazy=True`` (every failure collected, as validate_record
  does; SchemaErrors caught);
- ``pd.DataFrame([record])`` alone: what any frame-based check pays before it
  starts;
- for information, ``validate_record`` on the same schema plus one vectorised
  custom check, which falls back to pandera on a one-row frame;

each on every valid record, and on one invalid record with seven problems
(out of range, unseen category, a string for an int, None in a non-nullable
column, a missing key, an extra key, a bad id). It also times compiling the
schema once, checks that every valid record passes both sides and that the
invalid record fails the same (column, check) pairs on both, judges the goal
(PASS/FAIL) and writes ``docs/benchmarks/validation.md`` (by default), which
it also prints.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import (
    Entry,
    base_info,
    command_section,
    env_vars,
    make_log,
    run_rounds,
    write_page,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "validation.md"
DEFAULT_RECORDS, QUICK_RECORDS = 2_000, 200
GOAL = 20.0  # pandera's time over validate_record's, at least

FAST = "mlkit validate_record(record, schema)"
DIRECT = "mlkit RecordValidator(schema)(record)"
PANDERA = "pandera schema.validate(pd.DataFrame([record]))"
LAZY = "pandera schema.validate(pd.DataFrame([record]), lazy=True)"
FRAME = "pd.DataFrame([record]) alone"
FALLBACK = "mlkit validate_record, one check falling back to pandera"

DESCRIPTIONS = {
    FAST: "`mlkit.validation.validate_record(record, schema)`: the compiled validator is "
    "found in a cache keyed by the schema object, then checks the record in plain Python "
    "(presence, extra keys, nullability, the value's kind against the dtype, each check).",
    DIRECT: "`RecordValidator(schema)` compiled once before timing, then called: the cost "
    "without the cache lookup.",
    PANDERA: "`schema.validate(pd.DataFrame([record]))`, the baseline of the goal: a "
    "one-row frame per call, pandera's default `lazy=False` (on the invalid record it "
    "raises at the first failure, caught).",
    LAZY: "The same with `lazy=True`: every failure collected into `SchemaErrors` (caught), "
    "which is what `validate_record` reports.",
    FRAME: "Building the one-row frame only: the floor of any approach that goes through a "
    "DataFrame.",
    FALLBACK: "Information, not the goal: the same schema plus one vectorised custom check "
    "(`pa.Check(lambda s: s < 1e6)` on `amount`), which cannot run on one value, so "
    "`validate_record` builds the one-row frame and calls that check through pandera; the "
    "other 20 checks stay compiled.",
}

COUNTRIES = [
    "FR", "DE", "US", "GB", "IT", "ES", "NL", "BE", "SE", "PL",
    "PT", "IE", "AT", "CH", "DK", "NO", "FI", "CA", "AU", "JP",
]  # fmt: skip
DEVICES = ["ios", "android", "web"]
CHANNELS = ["organic", "ads", "email", "partner", "social"]
PLANS = ["free", "basic", "pro", "enterprise"]
START, END = pd.Timestamp("2020-01-01"), pd.Timestamp("2030-01-01")


# ------------------------------------------------------------------- data


def serving_schema() -> Any:
    import pandera.pandas as pa

    check = pa.Check
    return pa.DataFrameSchema(
        {
            "amount": pa.Column(float, check.in_range(0.0, 10_000.0)),
            "latitude": pa.Column(float, check.in_range(-90.0, 90.0)),
            "longitude": pa.Column(float, check.in_range(-180.0, 180.0)),
            "score": pa.Column(float, [check.ge(0.0), check.le(1.0)]),
            "discount": pa.Column(float, check.in_range(0.0, 0.9), nullable=True),
            "temperature": pa.Column(float, check.in_range(-50.0, 60.0), nullable=True),
            "age": pa.Column(int, check.in_range(18, 120)),
            "n_items": pa.Column(int, [check.ge(1), check.le(500)]),
            "account_days": pa.Column(int, check.ge(0)),
            "hour": pa.Column(int, check.in_range(0, 23)),
            "country": pa.Column(str, check.isin(COUNTRIES)),
            "device": pa.Column(str, check.isin(DEVICES)),
            "channel": pa.Column(str, check.isin(CHANNELS)),
            "plan": pa.Column(str, check.isin(PLANS)),
            "user_id": pa.Column(str, [check.str_matches(r"^u[0-9]{8}$"), check.str_length(9, 9)]),
            "coupon": pa.Column(str, check.str_length(4, 12), nullable=True),
            "returning": pa.Column(bool),
            "event_time": pa.Column("datetime64[ns]", check.in_range(START, END)),
        },
        strict=True,
    )


def schema_with_fallback() -> Any:
    import pandera.pandas as pa

    schema = serving_schema()
    checks = [*schema.columns["amount"].checks, pa.Check(lambda s: s < 1e6, name="below_1e6")]
    return schema.update_column("amount", checks=checks)


def valid_records(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng([seed, n])
    span = int((pd.Timestamp("2026-01-01") - START).total_seconds())
    records = []
    for i in range(n):
        nulls = rng.random(3) < 0.2
        records.append(
            {
                "amount": round(float(rng.lognormal(3, 1)) % 10_000, 2),
                "latitude": float(rng.uniform(-90, 90)),
                "longitude": float(rng.uniform(-180, 180)),
                "score": float(rng.random()),
                "discount": float("nan") if nulls[0] else round(float(rng.uniform(0, 0.5)), 2),
                "temperature": float("nan") if nulls[1] else float(rng.normal(15, 8)),
                "age": int(rng.integers(18, 90)),
                "n_items": int(rng.integers(1, 20)),
                "account_days": int(rng.integers(0, 3_000)),
                "hour": int(rng.integers(0, 24)),
                "country": COUNTRIES[int(rng.integers(len(COUNTRIES)))],
                "device": DEVICES[int(rng.integers(len(DEVICES)))],
                "channel": CHANNELS[int(rng.integers(len(CHANNELS)))],
                "plan": PLANS[int(rng.integers(len(PLANS)))],
                "user_id": f"u{int(rng.integers(10**8)):08d}",
                "coupon": None if nulls[2] else f"SAVE{i % 1000:03d}",
                "returning": bool(rng.random() < 0.6),
                "event_time": START + pd.Timedelta(seconds=int(rng.integers(span))),
            }
        )
    return records


def invalid_record(valid: dict[str, Any]) -> dict[str, Any]:
    record = dict(valid)
    record["amount"] = -5.0  # out of range
    record["country"] = "XX"  # unseen category
    record["age"] = "42"  # a string for an int
    record["device"] = None  # None in a non-nullable column
    record["user_id"] = "u123"  # does not match, too short
    del record["hour"]  # a missing key
    record["debug"] = True  # an extra key under strict=True
    return record


# ----------------------------------------------------------------- timing


def each(fn: Callable[[Any], Any], records: Sequence[Any]) -> Callable[[], None]:
    def run() -> None:
        for record in records:
            fn(record)

    return run


def each_raising(fn: Callable[[Any], Any], records: Sequence[Any]) -> Callable[[], None]:
    import pandera.pandas as pa

    errors = (pa.errors.SchemaError, pa.errors.SchemaErrors)

    def run() -> None:
        for record in records:
            with contextlib.suppress(errors):
                fn(record)

    return run


@dataclass
class Case:
    label: str
    entries: list[Entry]
    load: float

    def per_call(self, name: str) -> float | None:
        return next((e.per_call for e in self.entries if e.name == name), None)


def bench_case(
    label: str,
    records: list[dict[str, Any]],
    baseline_records: list[dict[str, Any]],
    repeats: int,
    log: Callable[[str], None],
    fallback: bool = False,
) -> Case:
    import os

    from mlkit.validation import RecordValidator, validate_record

    schema = serving_schema()
    validator = RecordValidator(schema)
    validate_record(records[0], schema)  # compile and cache before timing

    def frame_validate(record: dict[str, Any]) -> Any:
        return schema.validate(pd.DataFrame([record]))

    def frame_validate_lazy(record: dict[str, Any]) -> Any:
        return schema.validate(pd.DataFrame([record]), lazy=True)

    entries = [
        Entry(FAST, each(lambda r: validate_record(r, schema), records), len(records)),
        Entry(DIRECT, each(validator, records), len(records)),
        Entry(PANDERA, each_raising(frame_validate, baseline_records), len(baseline_records)),
        Entry(LAZY, each_raising(frame_validate_lazy, baseline_records), len(baseline_records)),
        Entry(FRAME, each(lambda r: pd.DataFrame([r]), baseline_records), len(baseline_records)),
    ]
    if fallback:
        slow = schema_with_fallback()
        entries.append(
            Entry(FALLBACK, each(lambda r: validate_record(r, slow), records), len(records))
        )
    load = os.getloadavg()[0]
    log(f"== {label}: {repeats} interleaved rounds")
    run_rounds(entries, repeats, log)
    return Case(label, entries, max(load, os.getloadavg()[0]))


# ----------------------------------------------------------------- checks


def pandera_pairs(schema: Any, record: dict[str, Any]) -> set[tuple[Any, str]]:
    """(column, check) pairs pandera reports for pd.DataFrame([record]), lazily."""
    import pandera.pandas as pa

    try:
        schema.validate(pd.DataFrame([record]), lazy=True)
    except pa.errors.SchemaErrors as exc:
        pairs = set()
        for row in exc.failure_cases.itertuples(index=False):
            check = str(row.check).split("(")[0]
            column = row.column if isinstance(row.column, str) else row.failure_case
            value = record.get(column) if row.schema_context == "Column" else "present"
            if check != "not_nullable" and pd.api.types.is_scalar(value) and pd.isna(value):
                continue  # documented: a null is checked for nullability only
            pairs.add((column, check))
        return pairs
    return set()


def run_checks(records: list[dict[str, Any]], bad: dict[str, Any]) -> list[tuple[str, bool]]:
    from mlkit.validation import RecordValidator, validate_record

    schema = serving_schema()
    mine_valid = all(validate_record(r, schema).passed for r in records)
    theirs_valid = all(not pandera_pairs(schema, r) for r in records[:200])
    result = validate_record(bad, schema)
    mine = {(f.column, f.check) for f in result.failures}
    theirs = pandera_pairs(schema, bad)
    validator = RecordValidator(schema)
    return [
        (f"validate_record passes all {len(records):,} valid records", mine_valid),
        (f"pandera passes the first {min(200, len(records))} of them", theirs_valid),
        (
            f"the invalid record fails the same {len(theirs)} (column, check) pairs on both "
            f"sides: {', '.join(f'{c}/{k}' for c, k in sorted(theirs, key=str))}"
            if mine == theirs
            else f"the invalid record fails different pairs: only mlkit "
            f"{sorted(mine - theirs, key=str)}, only pandera {sorted(theirs - mine, key=str)}",
            mine == theirs,
        ),
        ("no check of the schema falls back to pandera", validator.fallback_checks == ()),
        (
            "with the custom check, exactly that check falls back",
            RecordValidator(schema_with_fallback()).fallback_checks == (("amount", "below_1e6"),),
        ),
    ]


def compile_time(repeats: int) -> float:
    from mlkit.validation import RecordValidator

    schema = serving_schema()
    times = []
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        RecordValidator(schema)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    info = base_info(("numpy", "pandas", "pandera", "mlkit"))
    info["platform"] = platform.platform()
    info["implementation"] = platform.python_implementation()
    info["env"] = env_vars()
    return info


# ----------------------------------------------------------------- report


def fmt_us(seconds: float | None) -> str:
    if seconds is None:
        return ""
    us = seconds * 1e6
    if us >= 100:
        return f"{us:,.0f}"
    return f"{us:.1f}" if us >= 10 else f"{us:.2f}"


def fmt_ratio(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:,.0f}" if value >= 100 else (f"{value:.1f}" if value >= 10 else f"{value:.2f}")


def case_table(case: Case) -> list[str]:
    mine = case.per_call(FAST)
    lines = [
        "| what | µs per call | calls per second | time / validate_record | spread |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e in case.entries:
        if e.status != "ok":
            lines.append(f"| {e.name} | {e.status} | | | |")
            continue
        per = e.per_call
        ratio = per / mine if per and mine else None
        rate = f"{1 / per:,.0f}" if per else ""
        lines.append(
            f"| {e.name} | {fmt_us(per)} | {rate} | {fmt_ratio(ratio)} | {fmt_ratio(e.spread)} |"
        )
    return lines


def render(
    command: str,
    machine: dict[str, Any],
    cases: list[Case],
    checks: list[tuple[str, bool]],
    compiled: float,
    n_records: int,
    n_baseline: int,
    repeats: int,
    elapsed: float,
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    out = [
        "# Serving validation benchmarks",
        "",
        "mlkit's `validate_record` beside pandera's `schema.validate(pd.DataFrame([record]))` "
        "on one request payload at a time, on the same records in one run, repeats "
        f"interleaved (the order rotates every round), medians of {repeats}. Times are "
        "per call, in microseconds. The machine is shared: compare the ratios, measured "
        "side by side, rather than microseconds across runs. Everything is single-threaded.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {machine['cpu']} |",
        f"| platform | {machine['platform']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable) |",
        f"| load average at start | {load} |",
        f"| Python | {machine['python']} ({machine['implementation']}) |",
        f"| numpy / pandas / pandera | {machine['numpy']} / {machine['pandas']} / "
        f"{machine['pandera']} |",
        f"| mlkit | {machine['mlkit']} |",
    ]
    out += [f"| `{k}` | {v} |" for k, v in machine["env"].items()]
    out += [
        "",
        "## Goal (issue 5)",
        "",
        "| goal | records | measured | result |",
        "| --- | --- | --- | --- |",
    ]
    for case in cases:
        mine, base = case.per_call(FAST), case.per_call(PANDERA)
        if mine is None or base is None:
            out.append(
                f"| validate_record at least {GOAL:.0f}x faster than pandera on a one-row "
                f"frame | {case.label} | not measured | n/a |"
            )
            continue
        ratio = base / mine
        verdict = "PASS" if ratio >= GOAL else "FAIL"
        out.append(
            f"| validate_record at least {GOAL:.0f}x faster than "
            f"`schema.validate(pd.DataFrame([record]))` | {case.label} | "
            f"{fmt_ratio(ratio)}x ({fmt_us(mine)} µs vs {fmt_us(base)} µs) | {verdict} |"
        )
    for case in cases:
        out += [
            "",
            f"## {case.label}",
            "",
            f"1-minute load average during the case: {case.load:.2f}. Spread: slowest round "
            "over fastest.",
            "",
            *case_table(case),
        ]
    out += [
        "",
        f"Compiling the schema once (`RecordValidator(schema)`, median): "
        f"{compiled * 1e3:.2f} ms, paid on the first `validate_record` per schema object.",
        "",
        "Checks:",
        "",
    ]
    out += [f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in checks]
    out += ["", "## What each row measures", ""]
    out += [f"- {name}: {text}" for name, text in DESCRIPTIONS.items()]
    out += [
        "",
        "The schema (`strict=True`, built-in checks only, so nothing falls back to pandera): "
        "`amount`, `latitude`, `longitude`, `score` (float, ranges), `discount`, "
        "`temperature` (nullable float, ranges), `age`, `n_items`, `account_days`, `hour` "
        "(int, ranges), `country` (20 values), `device`, `channel`, `plan` (str, `isin`), "
        "`user_id` (str, `str_matches` and `str_length`), `coupon` (nullable str, "
        "`str_length`), `returning` (bool), `event_time` (datetime64[ns], range). The "
        f"records: {n_records:,} seeded dicts of Python scalars, about 20% of the nullable "
        "fields null (NaN for floats, None for strings); the pandera rows time the first "
        f"{n_baseline:,} of them (pandera is slower; the per-call figure is what compares). "
        "The invalid record has an out-of-range amount, an unseen country, `age` as a "
        "string, None for `device`, a bad `user_id`, no `hour` and an extra `debug` key.",
        "",
    ]
    out += command_section(command, elapsed)
    return "\n".join(out)


# ------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_validation",
        description="validate_record beside pandera's schema.validate(pd.DataFrame([record])).",
    )
    parser.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"valid records (default {DEFAULT_RECORDS:,}; --quick: {QUICK_RECORDS:,})",
    )
    parser.add_argument(
        "--baseline-records",
        type=int,
        default=None,
        help="records the pandera rows time per round (default: a tenth of --records)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds (default 7; --quick: 3)"
    )
    parser.add_argument("--quick", action="store_true", help="few records: a smoke test")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="Markdown page to write (default docs/benchmarks/validation.md)",
    )
    parser.add_argument("--seed", type=int, default=20260506, help="data seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    n_records = args.records or (QUICK_RECORDS if args.quick else DEFAULT_RECORDS)
    n_baseline = args.baseline_records or max(n_records // 10, 1)
    repeats = args.repeats or (3 if args.quick else 7)
    command = shlex.join(["python", "-m", "benchmarks.bench_validation", *argv])
    started = time.perf_counter()

    log = make_log(started)

    machine = machine_info()
    records = valid_records(n_records, args.seed)
    bad = invalid_record(records[0])
    cases = [
        bench_case(
            f"{n_records:,} valid records",
            records,
            records[:n_baseline],
            repeats,
            log,
            fallback=True,
        ),
        bench_case("the invalid record", [bad] * 200, [bad] * 20, repeats, log),
    ]
    log("== checks")
    checks = run_checks(records, bad)
    compiled = compile_time(repeats)
    for case in cases:
        log("\n".join(case_table(case)))

    page = render(
        command,
        machine,
        cases,
        checks,
        compiled,
        n_records,
        n_baseline,
        repeats,
        time.perf_counter() - started,
    )
    write_page(page, args.output, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
