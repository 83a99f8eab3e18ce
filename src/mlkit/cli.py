"""The ``mlkit`` command.

Subcommands are added by the subpackages that own them (``drift``,
``validate``, ``runs``, ``models``, ``demo``); each is registered in
:func:`build_parser` and imports its heavy dependencies only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``mlkit`` command."""
    import mlkit

    parser = argparse.ArgumentParser(
        prog="mlkit",
        description=(
            "Small, composable MLOps primitives: versioning, validation, drift, "
            "model tests, routing, monitoring and retraining."
        ),
    )
    parser.add_argument("--version", action="version", version=f"mlkit {mlkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_versioning(commands)
    return parser


def _workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        default=None,
        help="workspace folder (default: $MLKIT_WORKSPACE, else ./mlkit-workspace)",
    )


def _add_versioning(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="search tracked runs",
        description="List tracked runs, newest first, as a table, JSON or CSV.",
    )
    _workspace_option(runs)
    runs.add_argument("filter", nargs="?", default=None, help='e.g. "metrics.acc > 0.9"')
    runs.add_argument("--order-by", action="append", default=[], help="e.g. 'metrics.acc DESC'")
    runs.add_argument("--max-results", type=int, default=None)
    runs.add_argument(
        "--columns", nargs="+", default=None, help="columns to show (default: the useful ones)"
    )
    runs.add_argument("--format", choices=["table", "json", "csv"], default="table")
    runs.set_defaults(handler=_runs)

    models = commands.add_parser("models", help="inspect the model registry, move aliases")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="registered models and their aliases")
    _workspace_option(listing)
    listing.set_defaults(handler=_models_list)
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


def _fail(message: str) -> int:
    print(f"mlkit: error: {message}", file=sys.stderr)
    return 2


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


def _models_versions(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from mlkit.versioning import ModelRegistry

    for v in ModelRegistry(_workspace(args)).list_versions(args.name):
        when = datetime.fromtimestamp(v.created, tz=timezone.utc).isoformat(timespec="seconds")
        aliases = " ".join(f"@{a}" for a in v.aliases)
        print(f"v{v.version}  {when}  {v.artifact_key}  run={v.run_id}  {aliases}".rstrip())
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
    from datetime import datetime, timezone

    from mlkit.versioning import ModelRegistry

    for c in ModelRegistry(_workspace(args)).alias_history(args.name):
        when = datetime.fromtimestamp(c.time, tz=timezone.utc).isoformat(timespec="seconds")
        old = "-" if c.from_version is None else f"v{c.from_version}"
        new = "-" if c.to_version is None else f"v{c.to_version}"
        print(f"{when}  {c.name}@{c.alias}  {old} -> {new}  by {c.user}")
    return 0


def _workspace_verify(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    if args.clean:
        removed = workspace.clean()
        print(f"removed {removed} old temp files")
    check = workspace.verify()
    print(check)
    return 0 if check.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlkit`` command and return its exit code.

    Parameters
    ----------
    argv
        The arguments after the program name; ``sys.argv[1:]`` when ``None``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    # Subcommands set a handler with parser.set_defaults(handler=...).
    from mlkit.errors import MlkitError

    try:
        return int(args.handler(args))
    except MlkitError as exc:
        # A clear one-line message, not a traceback, for bad input and missing things.
        return _fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
