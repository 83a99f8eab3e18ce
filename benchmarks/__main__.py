"""Run every benchmark module, or the ones named: ``python -m benchmarks [drift ...]``."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    found = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    chosen = [f"bench_{n}" for n in names] if names else found
    unknown = sorted(set(chosen) - set(found))
    if unknown:
        print(f"unknown benchmarks: {unknown}; available: {found}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"== {name}", flush=True)
        importlib.import_module(f"benchmarks.{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
