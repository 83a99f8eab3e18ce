"""The ``mlkit`` command.

Subcommands: ``drift`` and ``validate`` (data checks for CI, exit code 1 when
the data fails), ``runs`` and ``models`` (the tracking workspace and model
registry), ``workspace`` (integrity checks) and ``demo`` (the whole lifecycle
on synthetic data). Each is registered in :func:`build_parser` and imports its
heavy dependencies only when it runs, so ``mlkit --help`` is instant.

Exit codes: 0 success; 1 the check failed (drift with ``--fail-on-drift``,
validation failures at ``--fail-on`` severity, a corrupt workspace, a demo
stage that misbehaved); 2 bad input or usage, with a one-line
``mlkit: error: ...`` message on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

__all__ = ["build_parser", "main"]

#: Every test ``mlkit drift --tests`` accepts (those of :class:`mlkit.drift.DriftDetector`).
DRIFT_TESTS = (
    "ks",
    "cvm",
    "wasserstein",
    "psi",
    "jensen_shannon",
    "hellinger",
    "chi2",
    "tvd",
    "missing",
)
#: Validation severities, most severe first (:data:`mlkit.validation.SEVERITIES`).
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_DRIFT_HTML = "drift-report.html"
DEFAULT_VALIDATION_HTML = "validation-report.html"
#: Rows of a chunked input file the HTML charts are drawn from (a uniform sample).
DEFAULT_SAMPLE_ROWS = 100_000


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``mlkit: error: ...``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mlkit: error: {self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``mlkit`` command."""
    import mlkit

    parser = _Parser(
        prog="mlkit",
        description=(
            "Small, composable MLOps primitives: versioning, validation, drift, "
            "model tests, routing, monitoring and retraining."
        ),
        epilog="Exit codes: 0 ok, 1 the check failed, 2 bad input or usage.",
    )
    parser.add_argument("--version", action="version", version=f"mlkit {mlkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_drift(commands)
    _add_validate(commands)
    _add_versioning(commands)
    _add_demo(commands)
    return parser


# -- option types ------------------------------------------------------------------


def _number_in(low: float, high: float, *, closed_high: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value < high or (closed_high and value == high)):
            bracket = "]" if closed_high else ")"
            raise argparse.ArgumentTypeError(f"must be in ({low:g}, {high:g}{bracket}, got {text}")
        return value

    return parse


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        default=None,
        help="workspace folder (default: $MLKIT_WORKSPACE, else ./mlkit-workspace)",
    )


def _output_options(parser: argparse.ArgumentParser, *, html_default: str) -> None:
    parser.add_argument(
        "--format",
        choices=["table", "json", "html"],
        default="table",
        help=f"report format (default: table); html is written to --output or {html_default}",
    )
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="PATH",
        help="write the report to this file (atomically) instead of stdout",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar while reading large files"
    )


# -- parsers -------------------------------------------------------------------------


def _add_drift(commands: Any) -> None:
    drift = commands.add_parser(
        "drift",
        help="test CURRENT data for drift against REFERENCE (CSV or Parquet)",
        description=(
            "Test every column of CURRENT for drift against REFERENCE and print the "
            "dataset verdict and one row per column. Files: .csv, .tsv (optionally "
            ".gz/.bz2/.xz/.zip/.zst) or .parquet. Exit code 1 with --fail-on-drift when "
            "the dataset drifted (at least --drift-share of the tested columns)."
        ),
    )
    drift.add_argument("reference", metavar="REFERENCE", help="the reference data file")
    drift.add_argument("current", metavar="CURRENT", help="the data file to test")
    drift.add_argument(
        "--columns", nargs="+", metavar="COL", default=None, help="test only these columns"
    )
    drift.add_argument(
        "--tests",
        nargs="+",
        choices=DRIFT_TESTS,
        metavar="TEST",
        default=None,
        help=(
            f"tests to run, each on the columns it suits ({', '.join(DRIFT_TESTS)}); "
            "default: ks psi wasserstein missing (numeric), chi2 psi tvd missing (categorical)"
        ),
    )
    _output_options(drift, html_default=DEFAULT_DRIFT_HTML)
    drift.add_argument(
        "--fail-on-drift", action="store_true", help="exit with code 1 when the dataset drifted"
    )
    drift.add_argument(
        "--alpha",
        type=_number_in(0, 1, closed_high=False),
        default=0.05,
        help="significance level of the p-value tests (default: 0.05)",
    )
    drift.add_argument(
        "--correction",
        choices=["bonferroni", "fdr_bh", "none"],
        default="bonferroni",
        help="multiple-testing correction (default: bonferroni)",
    )
    drift.add_argument(
        "--decision",
        choices=["both", "pvalue", "effect", "any"],
        default="both",
        help=(
            "how a column's tests combine: both = significant and a large enough effect "
            "(default), pvalue, effect, any"
        ),
    )
    drift.add_argument(
        "--drift-share",
        type=_number_in(0, 1, closed_high=True),
        default=0.5,
        help="the dataset drifted when at least this share of columns did (default: 0.5)",
    )
    drift.add_argument(
        "--categorical", nargs="+", metavar="COL", default=None, help="treat as categorical"
    )
    drift.add_argument(
        "--numerical", nargs="+", metavar="COL", default=None, help="treat as numeric"
    )
    drift.add_argument(
        "--max-categories",
        type=_int_at_least(0),
        default=20,
        help="integer columns with at most this many values are categorical (default: 20)",
    )
    drift.add_argument(
        "--bins",
        type=_int_at_least(2),
        default=10,
        help="bins of PSI / Jensen-Shannon / Hellinger on numeric columns (default: 10)",
    )
    drift.add_argument(
        "--chunked",
        action="store_true",
        help=(
            "read REFERENCE and CURRENT chunk by chunk, never whole, whatever their "
            "size (default: each file of 64 MiB or more)"
        ),
    )
    drift.add_argument(
        "--chunk-rows",
        type=_int_at_least(1),
        default=None,
        metavar="N",
        help="rows per chunk when reading in chunks (default: 200000)",
    )
    drift.add_argument(
        "--sample-rows",
        type=_int_at_least(1),
        default=DEFAULT_SAMPLE_ROWS,
        metavar="N",
        help=(
            "with --format html on chunked input: draw the charts from a uniform sample "
            f"of this many rows of each chunked file (default: {DEFAULT_SAMPLE_ROWS})"
        ),
    )
    drift.set_defaults(handler=_drift)


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="validate DATA against a schema, or one inferred from reference data",
        description=(
            "Validate DATA (CSV or Parquet) against a saved schema (--schema), or "
            "against a schema inferred from REFERENCE (--infer-from, optionally saved "
            "with --save-schema). Exit code 1 when a failure at --fail-on severity or "
            "worse exists."
        ),
    )
    validate.add_argument("data", metavar="DATA", help="the data file to validate")
    source = validate.add_mutually_exclusive_group(required=True)
    source.add_argument("--schema", metavar="PATH", help="a schema saved as .json or .yaml")
    source.add_argument(
        "--infer-from", metavar="REFERENCE", help="infer the schema from this data file"
    )
    validate.add_argument(
        "--save-schema",
        metavar="PATH",
        help="with --infer-from: save the inferred schema (.json, .yaml)",
    )
    validate.add_argument(
        "--fail-on",
        choices=[*SEVERITIES, "never"],
        default="error",
        help="exit 1 when a failure is at this severity or worse (default: error)",
    )
    validate.add_argument(
        "--max-failures",
        type=_int_at_least(0),
        default=1000,
        help="failure rows kept in JSON output (counts cover all; default: 1000)",
    )
    _output_options(validate, html_default=DEFAULT_VALIDATION_HTML)
    validate.set_defaults(handler=_validate)


def _add_versioning(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="list tracked runs, show one",
        description=(
            "List tracked runs (`mlkit runs list [FILTER]`, or just `mlkit runs [FILTER]`) "
            "or show one run (`mlkit runs show RUN_ID`)."
        ),
    )
    run_actions = runs.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = run_actions.add_parser(
        "list",
        help="search runs, newest first (the default action)",
        description="List tracked runs, newest first, as a table, JSON or CSV.",
    )
    _workspace_option(listing)
    listing.add_argument("filter", nargs="?", default=None, help='e.g. "metrics.acc > 0.9"')
    listing.add_argument("--order-by", action="append", default=[], help="e.g. 'metrics.acc DESC'")
    listing.add_argument("--max-results", type=int, default=None)
    listing.add_argument(
        "--columns", nargs="+", default=None, help="columns to show (default: the useful ones)"
    )
    listing.add_argument("--format", choices=["table", "json", "csv"], default="table")
    listing.set_defaults(handler=_runs)
    show = run_actions.add_parser(
        "show",
        help="one run: params, metrics, tags, datasets, artifacts",
        description="Show one run; RUN_ID may be a unique prefix of the id.",
    )
    _workspace_option(show)
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(handler=_runs_show)

    models = commands.add_parser("models", help="inspect the model registry, move aliases")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="registered models and their aliases")
    _workspace_option(listing)
    listing.set_defaults(handler=_models_list)
    shown = actions.add_parser(
        "show",
        help="a model: versions, aliases, one version's details and lineage",
        description=(
            "Show a model's versions and aliases, and the details and lineage of one "
            "version: the latest for NAME, else the one MODEL names "
            "(models:/NAME/VERSION, models:/NAME@ALIAS or NAME/VERSION)."
        ),
    )
    _workspace_option(shown)
    shown.add_argument("model", metavar="MODEL", help="NAME, NAME/VERSION or a models:/ URI")
    shown.add_argument("--format", choices=["text", "json"], default="text")
    shown.set_defaults(handler=_models_show)
    versions = actions.add_parser("versions", help="every version of a model")
    _workspace_option(versions)
    versions.add_argument("name")
    versions.set_defaults(handler=_models_versions)
    lineage = actions.add_parser("lineage", help="version -> run -> datasets -> commit")
    _workspace_option(lineage)
    lineage.add_argument("uri", help="models:/<name>/<version> or models:/<name>@<alias>")
    lineage.add_argument("--format", choices=["text", "json"], default="text")
    lineage.set_defaults(handler=_models_lineage)
    alias = actions.add_parser("alias", help="point an alias at a version (audited)")
    _workspace_option(alias)
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version", nargs="?", type=int, default=None)
    alias.add_argument("--delete", action="store_true", help="remove the alias")
    alias.set_defaults(handler=_models_alias)
    history = actions.add_parser("history", help="the alias audit log")
    _workspace_option(history)
    history.add_argument("name", nargs="?", default=None)
    history.set_defaults(handler=_models_history)

    workspace = commands.add_parser("workspace", help="check a workspace")
    actions = workspace.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="integrity check; exit code 1 if anything is wrong",
        description="Check the database, re-hash every artifact and every reference.",
    )
    _workspace_option(verify)
    verify.add_argument("--clean", action="store_true", help="also remove old temp files")
    verify.set_defaults(handler=_workspace_verify)


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the whole lifecycle on synthetic data (under a minute)",
        description=(
            "Validate, version, train, register, gate, serve with canary routing and "
            "monitoring, inject drift, retrain and promote, on synthetic fraud data; "
            "writes report.html and report.json into the workdir. Exit code 1 if a "
            "stage misbehaved."
        ),
    )
    demo.add_argument(
        "--workdir", default="mlkit-demo", help="where to write (default: mlkit-demo)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--small", action="store_true", help="a small, fast run")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(handler=_demo)


# -- shared helpers ------------------------------------------------------------------


def _fail(message: str) -> int:
    print(f"mlkit: error: {message}", file=sys.stderr)
    return 2


def _write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``--output`` atomically; a missing folder is an error, not created."""
    from pathlib import Path

    from mlkit._atomic import write_text
    from mlkit.errors import DataError

    target = Path(path)
    if target.is_dir():
        raise DataError(
            f"--output {str(target)!r} is a folder", value=str(target), expected="a file path"
        )
    folder = target.parent
    if not folder.is_dir():
        raise DataError(
            f"cannot write {str(target)!r}: no folder {str(folder)!r}",
            value=str(target),
            expected="a path in an existing folder",
        )
    write_text(target, text)


def _emit(text: str, output: str | None, what: str) -> None:
    """Print ``text``, or write it to ``output`` and say so on stderr."""
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
    else:
        _write_atomic(output, text if text.endswith("\n") else text + "\n")
        print(f"mlkit: wrote {what} to {output}", file=sys.stderr)


def _read(path: str, args: argparse.Namespace, columns: Sequence[str] | None = None) -> Any:
    """Read a data file for a command; a file without rows is an error naming it."""
    from mlkit._tables import read_table
    from mlkit.errors import DataError

    chunk_rows = getattr(args, "chunk_rows", None)
    frame = read_table(path, columns=columns, progress=not args.no_progress, chunk_rows=chunk_rows)
    if len(frame) == 0:
        raise DataError(f"{path!r} has no rows", value=path, expected="at least one row")
    return frame


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 3)] + "..."


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Plain aligned columns; ``right`` holds the indices of right-aligned ones."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _number(value: Any) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value) + 0.0:.4g}"  # + 0.0: no "-0"


def _when(seconds: float | None) -> str:
    from datetime import datetime, timezone

    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")


# -- drift -----------------------------------------------------------------------------

#: Short headers for the drift table; the legend spells them out.
_SHORT = {"jensen_shannon": "js"}
_PVALUE_TESTS = ("ks", "cvm", "chi2")


def _drift(args: argparse.Namespace) -> int:
    import json

    import attrs

    from mlkit import _tables
    from mlkit.drift import DriftDetector
    from mlkit.errors import DataError

    # The files are checked first, and a large file is never read whole: it goes
    # to the detector chunk by chunk (fit and test take iterables of chunks).
    ref_chunked = bool(args.chunked) or _tables.is_large(args.reference)
    ref_columns = _tables.table_columns(args.reference, args.columns)
    cur_chunked = bool(args.chunked) or _tables.is_large(args.current)
    current: Any = None
    if cur_chunked:
        cur_columns = _tables.table_columns(args.current, args.columns)
    else:
        current = _read(args.current, args, args.columns)
        cur_columns = [str(c) for c in current.columns]
    shared = [c for c in ref_columns if c in set(cur_columns)]
    if not shared:
        raise DataError(
            f"{args.reference!r} and {args.current!r} share no column; "
            f"{args.reference!r} has {_names(ref_columns)}, "
            f"{args.current!r} has {_names(cur_columns)}",
            value=args.current,
            expected="files with the same column names",
        )
    for option, names in (("--categorical", args.categorical), ("--numerical", args.numerical)):
        unknown = [c for c in names or () if c not in set(ref_columns)]
        if unknown:
            raise DataError(
                f"{option} names column {unknown[0]!r}, which {args.reference!r} does not "
                f"have (columns: {_names(ref_columns)})",
                column=unknown[0],
                value=unknown[0],
                expected="a column of the reference",
            )
    detector = DriftDetector(
        tests=args.tests,
        alpha=args.alpha,
        correction=None if args.correction == "none" else args.correction,
        decision=args.decision,
        drift_share=args.drift_share,
        categorical=args.categorical,
        numerical=args.numerical,
        max_categories=args.max_categories,
        bins=args.bins,
    )
    html = args.format == "html"
    chunk_rows = args.chunk_rows or _tables.DEFAULT_CHUNK_ROWS
    reference: Any = None
    ref_chunks = cur_chunks = None
    if ref_chunked:
        ref_chunks = _Chunks(args.reference, ref_columns, args, sample=html)
        with _naming(args.reference):
            detector.fit(ref_chunks)
        ref_info = {"path": args.reference, "rows": ref_chunks.rows, "columns": len(ref_columns)}
        ref_info["chunk_rows"] = chunk_rows
    else:
        reference = _read(args.reference, args, args.columns)
        with _naming(args.reference):
            detector.fit(reference)
        ref_info = {"path": args.reference, "rows": len(reference)}
        ref_info["columns"] = reference.shape[1]
    if cur_chunked:
        # Only the columns the reference has are read; the others are listed as extra.
        cur_chunks = _Chunks(args.current, shared, args, sample=html)
        with _naming(args.current):
            report = detector.test(cur_chunks)
        extra = tuple(c for c in cur_columns if c not in set(ref_columns))
        report = attrs.evolve(report, extra_columns=extra)
        cur_info = {"path": args.current, "rows": cur_chunks.rows, "columns": len(cur_columns)}
        cur_info["chunk_rows"] = chunk_rows
    else:
        with _naming(args.current):
            report = detector.test(current)
        cur_info = {"path": args.current, "rows": len(current), "columns": current.shape[1]}
    inputs = {"reference": ref_info, "current": cur_info}
    if html:
        from mlkit.reports import drift_html

        output = args.output or DEFAULT_DRIFT_HTML
        sampled = []
        if ref_chunks is not None:
            reference = ref_chunks.sample()
            sampled.append(f"{len(reference):,} of the reference's {ref_chunks.rows:,} rows")
        if cur_chunks is not None:
            current = cur_chunks.sample()
            sampled.append(f"{len(current):,} of the current data's {cur_chunks.rows:,} rows")
        title = "Drift report"
        if sampled:
            how = " and ".join(sampled)
            title = f"Drift report (charts from a uniform sample of {how})"
        drift_html(report, reference, current, title=title).save(output)
        print(_drift_verdict(report))
        if sampled:
            print(
                f"charts drawn from a uniform sample of {' and '.join(sampled)}; "
                "statistics from every row"
            )
        print(f"wrote drift report to {output}")
    elif args.format == "json":
        document = {**inputs, **report.to_dict()}
        document["approximate"] = _approximate(report)
        document["not_computed"] = _not_computed(report)
        _emit(json.dumps(document, indent=2, allow_nan=False), args.output, "drift report")
    else:
        _emit(_drift_text(report, inputs), args.output, "drift report")
    return 1 if args.fail_on_drift and report.drifted else 0


class _naming:
    """Re-raise an :class:`~mlkit.errors.MlkitError` with the file's name in front."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, traceback: Any) -> None:
        from mlkit.errors import MlkitError

        if isinstance(exc, MlkitError) and repr(self.path) not in exc.message:
            raise type(exc)(
                f"{self.path!r}: {exc.message}",
                column=exc.column,
                value=exc.value,
                expected=exc.expected,
            ) from exc


class _Chunks:
    """A data file as a re-iterable stream of chunks, for ``DriftDetector.fit``/``test``.

    Each pass reads the file again through :func:`mlkit._tables.iter_table`
    with its own progress bar (the detector reads a reference twice when it
    is too large to hold sorted); the first pass counts the rows and, for
    the HTML charts, keeps a bounded uniform sample. Empty chunks are
    skipped; a file without rows is a :class:`~mlkit.errors.DataError`.
    """

    def __init__(
        self, path: str, columns: list[str], args: argparse.Namespace, *, sample: bool
    ) -> None:
        self.path = path
        self.columns = columns
        self.chunk_rows: int | None = args.chunk_rows
        self.progress = not args.no_progress
        self.rows = 0
        self.passes = 0
        self._sample = _Sample(args.sample_rows) if sample else None

    def __iter__(self) -> Any:
        from mlkit import _tables
        from mlkit.errors import DataError

        self.passes += 1
        first = self.passes == 1
        chunk_rows = self.chunk_rows or _tables.DEFAULT_CHUNK_ROWS
        rows = 0
        with _tables.reading_progress(self.path, enabled=self.progress) as bar:
            for chunk in _tables.iter_table(self.path, self.columns, chunk_rows, progress=bar):
                if len(chunk) == 0:
                    continue
                rows += len(chunk)
                if first and self._sample is not None:
                    self._sample.add(chunk)
                yield chunk
        if rows == 0:
            raise DataError(
                f"{self.path!r} has no rows", value=self.path, expected="at least one row"
            )
        if first:
            self.rows = rows

    def sample(self) -> Any:
        """Return the uniform sample of the first pass (``sample=True`` only)."""
        assert self._sample is not None
        return self._sample.frame()


class _Sample:
    """A uniform sample of at most ``size`` rows of a stream of chunks (bottom-k random keys).

    Every row gets a random key; the ``size`` rows with the smallest keys so
    far are kept, so memory stays at ``size`` rows plus one chunk and the
    result is a uniform sample without replacement, in file order, whatever
    the chunk sizes.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        import numpy as np

        self.size = size
        self._rng = np.random.default_rng(seed)
        self._frame: Any = None
        self._keys: Any = None

    def add(self, chunk: Any) -> None:
        import numpy as np
        import pandas as pd

        keys = self._rng.random(len(chunk))
        if self._frame is None:
            frame, every = chunk, keys
        else:
            frame = pd.concat([self._frame, chunk], ignore_index=True)
            every = np.concatenate([self._keys, keys])
        if len(frame) > self.size:
            keep = np.sort(np.argpartition(every, self.size - 1)[: self.size])
            frame, every = frame.iloc[keep], every[keep]
        self._frame, self._keys = frame.reset_index(drop=True), every

    def frame(self) -> Any:
        return self._frame


def _approximate(report: Any) -> list[dict[str, str]]:
    """List the report's approximate statistics: one per column and test, with why."""
    frame = report.to_frame()
    if "exact" in frame.columns:
        mask = ~frame["exact"].astype(bool) & frame["statistic"].notna()
    else:
        mask = frame["note"].astype(str).str.startswith("approximate")
    return [
        {"column": str(row.column), "test": str(row.test), "note": str(row.note)}
        for row in frame[mask].itertuples(index=False)
    ]


def _not_computed(report: Any) -> list[dict[str, str]]:
    """List the tests left out on tested columns (Wasserstein from counts), with why."""
    frame = report.to_frame()
    untestable = set(report.untestable)
    reasons = frame["reason"].fillna("").astype(str)
    mask = (reasons != "") & ~frame["column"].isin(untestable)
    return [
        {"column": str(row.column), "test": str(row.test), "reason": str(row.reason)}
        for row in frame[mask].itertuples(index=False)
    ]


def _names(columns: Any, limit: int = 20) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _drift_verdict(report: Any) -> str:
    n_drifted, n_tested = len(report.drifted_columns), len(report.tested_columns)
    head = "drift detected" if report.drifted else "no drift"
    return (
        f"{head}: {n_drifted} of {n_tested} tested columns drifted "
        f"({report.share:.0%}; the dataset drifts at {report.drift_share:.0%})"
    )


def _drift_text(report: Any, inputs: dict[str, dict[str, Any]]) -> str:
    import math

    frame = report.to_frame()
    lines = [
        f"{role + ':':<10} {info['path']} ({_count(info['rows'], 'row')}, "
        f"{_count(info['columns'], 'column')})"
        for role, info in inputs.items()
    ]
    lines.append(_drift_verdict(report))
    correction = report.correction or "no correction"
    lines.append(
        f"alpha {report.alpha:g} ({correction}), decision {report.decision!r}; "
        "* marks the tests that flagged drift"
    )
    tests = list(dict.fromkeys(frame["test"]))
    has_p = any(t in _PVALUE_TESTS for t in tests)
    headers = ["column", "kind", "drifted", *(_SHORT.get(t, t) for t in tests)]
    headers += ["p-value"] if has_p else []
    drifted = set(report.drifted_columns)
    untestable = dict(report.untestable)
    approximate = _approximate(report)
    rough = {(a["column"], a["test"]) for a in approximate}
    rows = []
    notes = False
    for name, group in frame.groupby("column", sort=False):
        column = str(name)
        by_test = {row.test: row for row in group.itertuples(index=False)}
        kind = str(group["kind"].iloc[0])
        verdict = "yes" if column in drifted else "no"
        if column in untestable:
            verdict = "untestable"
        cells = [_cut(column, 30), kind, verdict]
        for test in tests:
            row = by_test.get(test)
            if row is None:
                cells.append("")
            else:
                mark = "~" if (column, test) in rough else ""
                cells.append(mark + _number(row.statistic) + ("*" if row.drifted else ""))
        if has_p:
            pvalues = [float(by_test[t].p_value) for t in _PVALUE_TESTS if t in by_test]
            pvalues = [p for p in pvalues if not math.isnan(p)]
            cells.append(_number(min(pvalues)) if pvalues else "-")
        reason = untestable.get(column)
        if reason:
            notes = True
        cells.append(_cut(reason or "", 50))
        rows.append(cells)
    for column, reason in untestable.items():  # columns without any row (unsupported dtype)
        if column not in set(frame["column"]):
            notes = True
            blanks = [""] * (len(headers) - 3)
            rows.append([_cut(column, 30), "-", "untestable", *blanks, _cut(reason, 50)])
    headers.append("note" if notes else "")
    right = set(range(3, len(headers) - 1))
    lines += ["", _table(headers, rows, right)] if rows else ["", "no columns tested"]
    if report.extra_columns:
        lines.append(f"\nnot in the reference (not tested): {_names(report.extra_columns)}")
    if "jensen_shannon" in tests:
        lines.append("js = jensen_shannon")
    lines += _exactness_lines(approximate, _not_computed(report))
    return "\n".join(lines)


def _exactness_lines(
    approximate: list[dict[str, str]], not_computed: list[dict[str, str]], limit: int = 10
) -> list[str]:
    """Legend lines: which statistics are approximate (and why), which were not computed."""
    lines = [_cut(f"~ {a['column']} {a['test']}: {a['note']}", 400) for a in approximate[:limit]]
    if len(approximate) > limit:
        lines.append(f"~ ... {len(approximate) - limit} more (--format json lists them all)")
    if approximate:
        lines.append("every other statistic is exact")
    reasons = {n["test"]: n["reason"] for n in not_computed}
    for test, reason in reasons.items():
        count = sum(n["test"] == test for n in not_computed)
        lines.append(f"{test} not computed on {_count(count, 'column')}: {reason}")
    return ["", *lines] if lines else []


# -- validate ------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from mlkit.errors import DataError, MlkitError, NotFoundError
    from mlkit.validation import infer_schema, load_schema, save_schema, validate

    if args.save_schema and not args.infer_from:
        return _fail("--save-schema needs --infer-from (it saves the inferred schema)")
    if args.schema:
        if not Path(args.schema).is_file():
            raise NotFoundError(
                f"no such schema file: {args.schema!r}",
                value=args.schema,
                expected="a schema saved as .json or .yaml",
            )
        try:
            schema = load_schema(args.schema)
        except MlkitError as exc:
            message = exc.message if args.schema in exc.message else f"{args.schema!r}: {exc}"
            raise type(exc)(
                message, column=exc.column, value=exc.value, expected=exc.expected
            ) from exc
        source = {"schema": args.schema}
    else:
        reference = _read(args.infer_from, args)
        try:
            schema = infer_schema(reference)
        except MlkitError as exc:
            raise type(exc)(
                f"{args.infer_from!r}: {exc.message}",
                column=exc.column,
                value=exc.value,
                expected=exc.expected,
            ) from exc
        source = {"inferred_from": args.infer_from}
        if args.save_schema:
            save_schema(schema, args.save_schema)
            print(f"mlkit: saved the inferred schema to {args.save_schema}", file=sys.stderr)
            source["saved_to"] = args.save_schema
    data = _read(args.data, args)
    try:
        report = validate(data, schema)
    except DataError as exc:
        raise DataError(
            f"{args.data!r}: {exc.message}",
            column=exc.column,
            value=exc.value,
            expected=exc.expected,
        ) from exc
    inputs = {"data": {"path": args.data, "rows": len(data), "columns": data.shape[1]}, **source}
    if args.format == "html":
        from mlkit.reports import validation_html

        output = args.output or DEFAULT_VALIDATION_HTML
        validation_html(report, data=data).save(output)
        print(report.summary().splitlines()[0])
        print(f"wrote validation report to {output}")
    elif args.format == "json":
        document = {**inputs, **report.to_dict(max_failures=args.max_failures)}
        text = json.dumps(document, indent=2, default=str, allow_nan=False)
        _emit(text, args.output, "validation report")
    else:
        info = inputs["data"]
        lines = [
            f"data:   {info['path']} ({_count(info['rows'], 'row')}, "
            f"{_count(info['columns'], 'column')})"
        ]
        if args.schema:
            lines.append(f"schema: {args.schema}")
        else:
            saved = f", saved to {args.save_schema}" if args.save_schema else ""
            lines.append(f"schema: inferred from {args.infer_from}{saved}")
        lines.append(report.summary())
        _emit("\n".join(lines), args.output, "validation report")
    worst = report.max_severity
    if args.fail_on == "never" or worst is None:
        return 0
    return 1 if SEVERITIES.index(worst) <= SEVERITIES.index(args.fail_on) else 0


# -- runs and models -----------------------------------------------------------------


def _workspace(args: argparse.Namespace) -> Any:
    """Open the workspace a read command names; never create an empty one by mistake."""
    import os
    from pathlib import Path

    from mlkit.errors import NotFoundError
    from mlkit.versioning import Workspace
    from mlkit.versioning._workspace import DEFAULT_WORKSPACE, ENV_VAR

    path = Path(args.workspace or os.environ.get(ENV_VAR) or DEFAULT_WORKSPACE)
    if not (path / "mlkit.db").is_file():
        raise NotFoundError(
            f"no mlkit workspace at {str(path)!r} (no mlkit.db there)",
            value=str(path),
            expected="--workspace DIR or $MLKIT_WORKSPACE naming an existing workspace",
        )
    return Workspace(path)


def _runs(args: argparse.Namespace) -> int:
    from mlkit.versioning import Tracker

    frame = Tracker(_workspace(args), capture_environment=False).search_runs(
        args.filter, order_by=args.order_by, max_results=args.max_results
    )
    if args.columns:
        missing = [c for c in args.columns if c not in frame.columns]
        if missing:
            return _fail(f"no column {missing[0]!r}; columns: {', '.join(frame.columns)}")
        frame = frame[args.columns]
    elif args.format == "table":
        keep = ["run_id", "name", "status", "start_time"]
        keep += [c for c in frame.columns if c.startswith(("params.", "metrics."))]
        keep += [c for c in frame.columns if c.startswith("tags.") and ".mlkit." not in c]
        frame = frame[[c for c in keep if c in frame.columns]]
    if args.format == "json":
        print(frame.to_json(orient="records", date_format="iso"))
    elif args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif frame.empty:
        print("no runs")
    else:
        print(frame.to_string(index=False))
    return 0


def _find_run(tracker: Any, run_id: str) -> Any:
    """Return the run with this id, or the one run whose id starts with it."""
    from mlkit.errors import NotFoundError

    try:
        return tracker.get_run(run_id)
    except NotFoundError:
        ids = [str(i) for i in tracker.search_runs()["run_id"]] if run_id else []
        matches = [i for i in ids if i.startswith(run_id)]
        if len(matches) == 1:
            return tracker.get_run(matches[0])
        if len(matches) > 1:
            raise NotFoundError(
                f"run id prefix {run_id!r} is ambiguous: {', '.join(matches[:5])}",
                value=run_id,
                expected="a longer prefix",
            ) from None
        raise


def _runs_show(args: argparse.Namespace) -> int:
    import json

    from mlkit.versioning import Tracker

    run = _find_run(Tracker(_workspace(args), capture_environment=False), args.run_id)
    if args.format == "json":
        print(json.dumps(run.to_dict(), indent=2, default=str))
        return 0
    duration = "" if run.end_time is None else f" ({run.end_time - run.start_time:.1f}s)"
    lines = [
        f"run {run.name!r} ({run.run_id})",
        f"status:   {run.status}",
        f"started:  {_when(run.start_time)}",
        f"ended:    {_when(run.end_time)}{duration}",
    ]
    if run.parent_id:
        lines.append(f"parent:   {run.parent_id}")
    if run.error:
        lines.append(f"error:    {run.error}")
    user_tags = {k: v for k, v in run.tags.items() if not k.startswith("mlkit.")}
    system_tags = {k: v for k, v in run.tags.items() if k.startswith("mlkit.")}
    sections: list[tuple[str, list[str]]] = [
        ("params", [f"{k} = {v}" for k, v in sorted(run.params.items())]),
        ("metrics (latest)", [f"{k} = {v:.6g}" for k, v in sorted(run.metrics.items())]),
        ("tags", [f"{k} = {v}" for k, v in sorted(user_tags.items())]),
        ("system tags", [f"{k} = {v}" for k, v in sorted(system_tags.items())]),
        (
            "datasets",
            [
                f"{role}: {d.hash} ({d.n_rows} x {d.n_columns})"
                + (f" from {d.source}" if d.source else "")
                for role, d in run.datasets
            ],
        ),
        ("artifacts", [f"{a.name}: {a.key} ({a.size} bytes)" for a in run.artifacts]),
    ]
    for title, items in sections:
        lines.append(f"{title}:" + ("" if items else " none"))
        lines.extend(f"  {item}" for item in items)
    print("\n".join(lines))
    return 0


def _models_list(args: argparse.Namespace) -> int:
    from mlkit.versioning import ModelRegistry

    registry = ModelRegistry(_workspace(args))
    names = registry.list_models()
    if not names:
        print("no registered models")
    for name in names:
        versions = registry.list_versions(name)
        aliases = sorted((a, v.version) for v in versions for a in v.aliases)
        shown = ", ".join(f"@{a} -> v{n}" for a, n in aliases) or "no aliases"
        print(f"{name}: {len(versions)} versions, latest v{versions[-1].version}; {shown}")
    return 0


def _models_show(args: argparse.Namespace) -> int:
    import json

    from mlkit.errors import NotFoundError
    from mlkit.versioning import ModelRegistry

    registry = ModelRegistry(_workspace(args))
    target = args.model
    if target.startswith("models:/"):
        version = registry.resolve(target)
    elif "/" in target:
        version = registry.resolve(f"models:/{target}")
    else:
        if target not in registry.list_models():
            raise NotFoundError(
                f"no registered model {target!r}",
                value=target,
                expected="one of " + (", ".join(registry.list_models()) or "(none registered)"),
            )
        version = registry.get_by_alias(target, "latest")
    name = version.name
    versions = registry.list_versions(name)
    aliases = {a: v.version for v in versions for a in v.aliases}
    lineage = registry.lineage(name, version.version)
    if args.format == "json":
        document = {
            "name": name,
            "aliases": dict(sorted(aliases.items())),
            "versions": [v.to_dict() for v in versions],
            "version": version.to_dict(),
            "lineage": lineage.to_dict(),
        }
        print(json.dumps(document, indent=2, default=str))
        return 0
    shown_aliases = ", ".join(f"@{a} -> v{n}" for a, n in sorted(aliases.items())) or "none"
    latest = versions[-1].version
    lines = [
        f"model {name}: {len(versions)} version{'s' if len(versions) != 1 else ''}, "
        f"latest v{latest}",
        f"aliases: {shown_aliases}",
        "versions:",
    ]
    for v in versions:
        tags = " ".join(f"@{a}" for a in v.aliases)
        run = f"run={v.run_id}" if v.run_id else "no run"
        lines.append(f"  v{v.version}  {_when(v.created)}  {run}  {tags}".rstrip())
    which = "latest" if version.version == latest else "selected"
    lines += [
        f"version {version.version} ({which}):",
        f"  uri:      {version.uri}",
        f"  artifact: {version.artifact_key} ({version.size} bytes)",
        f"  class:    {version.model_class}",
        f"  created:  {_when(version.created)}",
    ]
    if version.description:
        lines.append(f"  description: {version.description}")
    for key, value in sorted(version.tags.items()):
        lines.append(f"  tag {key} = {value}")
    if version.signature:
        lines.append(f"  signature: {json.dumps(dict(version.signature), default=str)[:200]}")
    lines.append("lineage:")
    lines.extend(f"  {line}" for line in str(lineage).splitlines())
    if lineage.run is not None and lineage.run.metrics:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(lineage.run.metrics.items()))
        lines.append(f"  run metrics: {metrics}")
    print("\n".join(lines))
    return 0


def _models_versions(args: argparse.Namespace) -> int:
    from mlkit.versioning import ModelRegistry

    for v in ModelRegistry(_workspace(args)).list_versions(args.name):
        aliases = " ".join(f"@{a}" for a in v.aliases)
        line = f"v{v.version}  {_when(v.created)}  {v.artifact_key}  run={v.run_id}  {aliases}"
        print(line.rstrip())
    return 0


def _models_lineage(args: argparse.Namespace) -> int:
    import json

    from mlkit.versioning import ModelRegistry

    registry = ModelRegistry(_workspace(args))
    version = registry.resolve(args.uri)
    lineage = registry.lineage(version.name, version.version)
    if args.format == "json":
        print(json.dumps(lineage.to_dict(), indent=2, default=str))
    else:
        print(lineage)
    return 0


def _models_alias(args: argparse.Namespace) -> int:
    from mlkit.versioning import ModelRegistry

    registry = ModelRegistry(_workspace(args))
    if args.delete:
        if args.version is not None:
            return _fail("--delete takes no version")
        registry.delete_alias(args.name, args.alias)
        print(f"deleted {args.name}@{args.alias}")
    elif args.version is None:
        return _fail("give the version to point the alias at, or --delete")
    else:
        registry.set_alias(args.name, args.alias, args.version)
        print(f"{args.name}@{args.alias} -> v{args.version}")
    return 0


def _models_history(args: argparse.Namespace) -> int:
    from mlkit.versioning import ModelRegistry

    for c in ModelRegistry(_workspace(args)).alias_history(args.name):
        old = "-" if c.from_version is None else f"v{c.from_version}"
        new = "-" if c.to_version is None else f"v{c.to_version}"
        print(f"{_when(c.time)}  {c.name}@{c.alias}  {old} -> {new}  by {c.user}")
    return 0


def _workspace_verify(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    if args.clean:
        removed = workspace.clean()
        print(f"removed {removed} old temp files")
    check = workspace.verify()
    print(check)
    return 0 if check.ok else 1


# -- demo ------------------------------------------------------------------------------


def _demo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    import importlib

    # Looked up at run time: the demo is the heaviest module of all.
    run_demo = importlib.import_module("mlkit.demo").run_demo
    result = run_demo(
        workdir=args.workdir,
        seed=args.seed,
        small=args.small,
        out=sys.stdout if out is None else out,
        progress=not args.no_progress,
    )
    return 0 if result.ok else 1


# -- entry point -------------------------------------------------------------------------

_RUNS_ACTIONS = ("list", "show")
_RUNS_VALUE_OPTIONS = ("-w", "--workspace", "--order-by", "--max-results", "--format")


def _with_runs_action(argv: list[str]) -> list[str]:
    """Make ``runs`` without an action mean ``runs list``: ``mlkit runs "metrics.acc > 0.9"``.

    The action may also follow the options (``mlkit runs -w ws show ID``).
    """
    command = next((i for i, token in enumerate(argv) if not token.startswith("-")), None)
    if command is None or argv[command] != "runs":
        return argv
    rest = argv[command + 1 :]
    if rest and rest[0] in (*_RUNS_ACTIONS, "-h", "--help"):
        return argv
    position = None
    skip = False
    in_columns = False
    for i, token in enumerate(rest):
        if skip:
            skip = False
        elif token.startswith("-"):
            in_columns = token == "--columns"
            skip = token in _RUNS_VALUE_OPTIONS
        elif not in_columns:
            position = i
            break
    head = argv[: command + 1]
    if position is not None and rest[position] in _RUNS_ACTIONS:
        return [*head, rest[position], *rest[:position], *rest[position + 1 :]]
    return [*head, "list", *rest]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlkit`` command and return its exit code.

    Parameters
    ----------
    argv
        The arguments after the program name; ``sys.argv[1:]`` when ``None``.
    """
    parser = build_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_with_runs_action(tokens))
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    # Subcommands set a handler with parser.set_defaults(handler=...).
    from mlkit.errors import MlkitError

    try:
        return int(args.handler(args))
    except MlkitError as exc:
        # A clear one-line message, not a traceback, for bad input and missing things.
        return _fail(_one_line(str(exc)))
    except KeyboardInterrupt:
        print("mlkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mlkit runs --format json | head`): stop quietly, and
        # point stdout at devnull so the interpreter's final flush does not fail again.
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
            pass
        return 141  # 128 + SIGPIPE, as a shell reports a process killed by a closed pipe


def _one_line(message: str) -> str:
    """Keep the error on one line: later lines (a validation summary...) are joined."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
