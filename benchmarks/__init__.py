"""Reproducible benchmarks of mlkit against baselines and peer libraries.

Each ``bench_*.py`` module is runnable alone (``python -m benchmarks.bench_drift``)
and writes its results table into ``docs/benchmarks/``.
"""
