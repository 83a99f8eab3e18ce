"""The ``mlkit`` command.

Subcommands are added by the subpackages that own them (``drift``,
``validate``, ``runs``, ``models``, ``demo``); each is registered in
:func:`build_parser` and imports its heavy dependencies only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


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
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
