import re

import pytest

from mlkit.pytest_plugin import CLOCK_START, MARKERS

pytest_plugins = ["pytester"]

RNG_TESTS = """
import numpy as np

def test_a(mlkit_rng):
    assert isinstance(mlkit_rng, np.random.Generator)
    print("DRAW", mlkit_rng.integers(0, 2**62))

def test_b(mlkit_rng):
    print("DRAW", mlkit_rng.integers(0, 2**62))
"""


def _draws(result):
    return re.findall(r"DRAW (\d+)", "\n".join(result.outlines))


def test_rng_is_reproducible_per_test_and_distinct_between_tests(pytester):
    pytester.makepyfile(RNG_TESTS)
    first = pytester.runpytest("-s")
    first.assert_outcomes(passed=2)
    second = pytester.runpytest("-s", "-k", "test_b")
    a, b = _draws(first)
    assert a != b
    assert _draws(second) == [b], "a test's draws must not depend on which tests run before it"


def test_seed_flag_changes_draws_and_is_printed_in_header(pytester):
    pytester.makepyfile(RNG_TESTS)
    default = pytester.runpytest("-s")
    seeded = pytester.runpytest("-s", "--mlkit-seed=123")
    default.stdout.fnmatch_lines(["mlkit: seed=0 *"])
    seeded.stdout.fnmatch_lines(["mlkit: seed=123 *"])
    assert _draws(default) != _draws(seeded)
    again = pytester.runpytest("-s", "--mlkit-seed=123")
    assert _draws(again) == _draws(seeded)


def test_seed_from_ini_and_flag_overrides_it(pytester):
    pytester.makepyfile(RNG_TESTS)
    pytester.makeini("[pytest]\nmlkit_seed = 77\n")
    pytester.runpytest("-s").stdout.fnmatch_lines(["mlkit: seed=77 *"])
    pytester.runpytest("-s", "--mlkit-seed=5").stdout.fnmatch_lines(["mlkit: seed=5 *"])


def test_random_seed_is_drawn_and_printed(pytester):
    pytester.makepyfile(RNG_TESTS)
    result = pytester.runpytest("-s", "--mlkit-seed=random")
    result.assert_outcomes(passed=2)
    header = [line for line in result.outlines if line.startswith("mlkit: seed=")]
    assert header
    assert header[0].split("=")[1].split()[0].isdigit()


@pytest.mark.parametrize("bad", ["abc", "-3", "1.5"])
def test_bad_seed_is_a_usage_error(pytester, bad):
    pytester.makepyfile(RNG_TESTS)
    result = pytester.runpytest(f"--mlkit-seed={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mlkit seed must be a non-negative integer*"])


def test_clock_fixture_is_a_fresh_fake_clock(pytester):
    pytester.makepyfile(
        f"""
        from mlkit.clock import FakeClock

        def test_one(mlkit_clock):
            assert isinstance(mlkit_clock, FakeClock)
            assert mlkit_clock.now() == {CLOCK_START!r}
            mlkit_clock.advance(60)

        def test_two(mlkit_clock):
            assert mlkit_clock.now() == {CLOCK_START!r}
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_metrics_registry_fixture_is_fresh_per_test(pytester):
    pytester.makepyfile(
        """
        from prometheus_client import CollectorRegistry, Counter

        def _count(registry):
            return registry.get_sample_value("hits_total")

        def test_one(mlkit_metrics_registry):
            assert isinstance(mlkit_metrics_registry, CollectorRegistry)
            Counter("hits", "hits", registry=mlkit_metrics_registry).inc()
            assert _count(mlkit_metrics_registry) == 1

        def test_two(mlkit_metrics_registry):
            assert _count(mlkit_metrics_registry) is None
            Counter("hits", "hits", registry=mlkit_metrics_registry).inc(2)
            assert _count(mlkit_metrics_registry) == 2
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_markers_are_registered_for_strict_markers(pytester):
    body = "\n".join(f"@pytest.mark.{name}\ndef test_{name}():\n    pass\n" for name in MARKERS)
    pytester.makepyfile("import pytest\n\n" + body)
    pytester.runpytest("--strict-markers").assert_outcomes(passed=len(MARKERS))
    result = pytester.runpytest("--markers")
    for name in MARKERS:
        result.stdout.fnmatch_lines([f"@pytest.mark.{name}:*"])


def test_plugin_imports_only_pytest_at_module_level():
    """Loading the plugin must not import numpy or prometheus_client for every test suite."""
    import subprocess
    import sys

    code = (
        "import sys, mlkit.pytest_plugin; "
        "print(sorted(m for m in ('numpy', 'prometheus_client', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
