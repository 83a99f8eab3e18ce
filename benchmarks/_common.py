"""What every benchmark shares: the machine it ran on, and how it prints seconds."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# Environment variables that change how numpy and BLAS run.
NUMERIC_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")


def base_info(packages: Sequence[str] = ("pandas", "mlkit")) -> dict[str, Any]:
    """CPU, cores, memory, Python, load average and the versions of ``packages``."""
    info: dict[str, Any] = {
        "cpu": cpuinfo("model name") or platform.processor() or platform.machine() or "unknown",
        "vendor": cpuinfo("vendor_id"),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": meminfo_gib(),
        "python": platform.python_version(),
        "load": os.getloadavg(),
    }
    for name in packages:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = "not installed"
    return info


def env_vars(names: Sequence[str] = NUMERIC_ENV) -> dict[str, str]:
    """The values of ``names`` in the environment ("unset" if absent)."""
    return {name: os.environ.get(name, "unset") for name in names}


def cpuinfo(key: str) -> str:
    """The first value of ``key`` in /proc/cpuinfo ("" off Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def meminfo_gib() -> float | None:
    """Total memory in GiB from /proc/meminfo (None off Linux)."""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        return round(kib / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def fmt_seconds(value: float | None) -> str:
    """Seconds with 3 significant digits below 1, 2 decimals below 100, none above."""
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def spread(times: Sequence[float]) -> float | None:
    """Slowest over fastest repeat: how noisy a timing was (None under 2 repeats)."""
    if len(times) < 2 or min(times) <= 0:
        return None
    return max(times) / min(times)


def command_section(command: str, elapsed: float, *, setup: str | None = None) -> list[str]:
    """The closing "## Command" lines of a benchmark page: how to run it, how long it took."""
    took = f"{elapsed / 60:.1f} minutes" if elapsed >= 120 else f"{elapsed:.0f} s"
    return [
        "## Command",
        "",
        "```bash",
        *([setup] if setup else []),
        command,
        "```",
        "",
        f"The run took {took}.",
        "",
    ]


def write_page(page: str, output: Path, log: Callable[[str], None]) -> None:
    """Write a benchmark page atomically (a temporary name, then a rename) and print it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(output.suffix + ".part")
    partial.write_text(page)
    partial.replace(output)
    print(page)
    log(f"written: {output}")


@dataclass
class Entry:
    """One timed thing: ``run`` does ``calls`` calls (None: not available here)."""

    name: str
    run: Callable[[], object] | None
    calls: int = 1
    times: list[float] = field(default_factory=list)
    status: str = "ok"

    @property
    def median(self) -> float | None:
        """Median seconds per run, None when it failed or never ran."""
        return statistics.median(self.times) if self.times and self.status == "ok" else None

    @property
    def per_call(self) -> float | None:
        """Median seconds per call."""
        median = self.median
        return None if median is None else median / self.calls

    @property
    def spread(self) -> float | None:
        """Slowest run over fastest."""
        return spread(self.times)


def run_rounds(
    entries: Sequence[Entry],
    repeats: int,
    log: Callable[[str], None],
    *,
    warmup: bool = False,
) -> None:
    """Time every entry once per round, rotating the order so none always goes first.

    An entry that raises is marked with the error and skipped from then on.
    """

    def timed(entry: Entry) -> float | None:
        assert entry.run is not None
        try:
            start = time.perf_counter()
            entry.run()
            return time.perf_counter() - start
        except Exception as exc:
            entry.status = f"error: {type(exc).__name__}: {exc}"[:200]
            log(f"  {entry.name}: {entry.status}")
            return None

    live = [e for e in entries if e.run is not None]
    if warmup:  # first calls fill caches
        for entry in live:
            timed(entry)
    for repeat in range(repeats):
        shift = repeat % max(len(live), 1)
        for entry in live[shift:] + live[:shift]:
            if entry.status != "ok":
                continue
            gc.collect()
            seconds = timed(entry)
            if seconds is not None:
                entry.times.append(seconds)
        log(f"  round {repeat + 1}/{repeats} done")


def make_log(started: float) -> Callable[[str], None]:
    """A logger to stderr that prefixes each message with the minutes since ``started``."""

    def log(message: str) -> None:
        minutes, seconds = divmod(int(time.perf_counter() - started), 60)
        print(f"[{minutes:3d}:{seconds:02d}] {message}", file=sys.stderr, flush=True)

    return log
