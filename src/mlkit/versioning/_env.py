"""What a run records about where it ran: code commit, Python and package versions."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import platform
import socket
import subprocess
import sys
from importlib import metadata

__all__ = ["PACKAGES", "current_user", "environment_tags", "git_state"]

# The packages whose versions decide what a trained model is and does.
PACKAGES = ("mlkit", "numpy", "pandas", "scipy", "scikit-learn", "joblib")


@functools.lru_cache(maxsize=16)
def git_state(cwd: str) -> dict[str, str]:
    """Return the commit, branch and dirty flag of the git checkout at ``cwd`` (cached).

    Empty when ``cwd`` is not in a checkout or git is not installed. Cached per
    process and folder because asking git costs milliseconds and runs start often.
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    state = {"mlkit.git.commit": commit}
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    if branch:
        state["mlkit.git.branch"] = branch
    status = git("status", "--porcelain", "--untracked-files=no")
    if status is not None:
        state["mlkit.git.dirty"] = "true" if status else "false"
    return state


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    tags = {"mlkit.python": platform.python_version(), "mlkit.platform": platform.platform()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            tags[f"mlkit.version.{name}"] = metadata.version(name)
    return tags


def current_user() -> str:
    """Return the login name, or ``"unknown"`` when the system has none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


def environment_tags() -> dict[str, str]:
    """Return the ``mlkit.*`` tags a new run records about its environment."""
    tags = dict(_versions())
    tags.update(git_state(os.getcwd()))
    tags["mlkit.user"] = current_user()
    tags["mlkit.host"] = socket.gethostname()
    tags["mlkit.pid"] = str(os.getpid())
    if sys.argv and sys.argv[0]:
        tags["mlkit.source"] = sys.argv[0]
    return tags
