import json
import re

# pytester runs in-process and forgets the modules first imported during a
# run; numpy refuses to load twice in one process, so the heavy modules the
# inner test files use are loaded here, once.
import numpy  # noqa: F401
import pytest
import sklearn.dummy  # noqa: F401

import mlkit
import mlkit.testing
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


MODEL_CHECK_TESTS = """
import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from mlkit.testing import ToyModel, compare_models, monotone_increase, swap_category

SEEN = {}


def test_toy_classifier(mlkit_toy_classifier, mlkit_model_check):
    toy = mlkit_toy_classifier
    assert isinstance(toy, ToyModel)
    assert list(toy.X.columns) == ["age", "income", "debt_ratio", "region"]
    assert len(toy.X) == len(toy.y) and len(toy.X_test) == len(toy.y_test)
    mlkit_model_check.metric(toy.model, toy.X_test, toy.y_test, "accuracy", min=0.7)
    mlkit_model_check.latency(toy.model, toy.X_test.iloc[0], p99_below=5.0, n=10, warmup=1)
    dummy = DummyClassifier().fit(toy.X, toy.y)
    mlkit_model_check.not_worse(toy.model, dummy, toy.X_test, toy.y_test, n_boot=50)
    mlkit_model_check.directional(
        toy.model, toy.X_test, monotone_increase("income", 10.0),
        expect="non_decrease", output="predict_proba",
    )
    SEEN["classifier"] = toy


def test_toy_regressor_and_session_sharing(mlkit_toy_regressor, mlkit_toy_classifier):
    toy = mlkit_toy_regressor
    assert toy.y.name == "credit_limit"
    assert toy.model.score(toy.X_test, toy.y_test) > 0.8
    assert mlkit_toy_classifier is SEEN["classifier"], "built once per session"


def test_check_is_bound_to_the_test_seed(mlkit_model_check, mlkit_rng, mlkit_toy_classifier):
    check = mlkit_model_check
    assert check.rng is mlkit_rng
    print("SEED", check.seed)
    toy = mlkit_toy_classifier
    dummy = DummyClassifier(strategy="stratified", random_state=0).fit(toy.X, toy.y)
    ours = check.compare(toy.model, dummy, toy.X_test, toy.y_test, n_boot=30)
    theirs = compare_models(
        toy.model, dummy, toy.X_test, toy.y_test, n_boot=30, random_state=check.seed
    )
    np.testing.assert_array_equal(ours["accuracy"].differences, theirs["accuracy"].differences)
    other = check.compare(toy.model, dummy, toy.X_test, toy.y_test, n_boot=30, random_state=1)
    assert not np.array_equal(other["accuracy"].differences, ours["accuracy"].differences)


def test_other_seed(mlkit_model_check):
    print("SEED", mlkit_model_check.seed)


def test_region_matters_to_the_toy_model(mlkit_model_check, mlkit_toy_classifier):
    toy = mlkit_toy_classifier
    with pytest.raises(AssertionError):
        mlkit_model_check.invariance(
            toy.model, toy.X_test, swap_category("region"), output="predict_proba"
        )
"""


def _seeds(result):
    return re.findall(r"SEED (\d+)", "\n".join(result.outlines))


def test_model_check_and_toy_fixtures(pytester):
    pytester.makepyfile(MODEL_CHECK_TESTS)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=5)
    seeds = _seeds(result)
    assert len(set(seeds)) == 2, "each test has its own seed"
    again = pytester.runpytest("-s", "-k", "other_seed")
    assert _seeds(again) == seeds[1:], "a test's seed does not depend on what else runs"
    reseeded = pytester.runpytest("-s", "-k", "other_seed", "--mlkit-seed=9")
    assert _seeds(reseeded) != seeds[1:]


REPORT_TESTS = """
import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from mlkit.testing import assert_metric


@pytest.fixture
def checked_in_a_fixture(mlkit_toy_classifier):
    toy = mlkit_toy_classifier
    assert_metric(toy.model, toy.X_test, toy.y_test, "roc_auc", min=0.5)


def test_passes(mlkit_toy_classifier, mlkit_model_check, checked_in_a_fixture):
    toy = mlkit_toy_classifier
    mlkit_model_check.metric(toy.model, toy.X_test, toy.y_test, min=0.7)
    dummy = DummyClassifier().fit(toy.X, toy.y)
    mlkit_model_check.not_worse(toy.model, dummy, toy.X_test, toy.y_test, n_boot=50)


def test_fails(mlkit_toy_regressor):
    toy = mlkit_toy_regressor
    assert_metric(toy.model, toy.X_test, toy.y_test, "mean_absolute_error", max=0.01)


def test_without_checks():
    pass
"""


def test_report_lists_every_check_with_its_test_and_totals(pytester):
    pytester.makepyfile(test_report=REPORT_TESTS)
    result = pytester.runpytest("--mlkit-report=out/report.json", "--mlkit-seed=11")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["mlkit: 4 checks (1 failed) written to *report.json"])
    path = pytester.path / "out" / "report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"], "no temporary left"
    assert report["mlkit_version"] == mlkit.__version__
    assert report["seed"] == 11
    checks = report["checks"]
    summary = [(c["nodeid"], c["kind"], c["name"], c["passed"]) for c in checks]
    assert summary == [
        ("test_report.py::test_passes", "metric", "roc_auc", True),
        ("test_report.py::test_passes", "metric", "accuracy", True),
        ("test_report.py::test_passes", "comparison", "accuracy", True),
        ("test_report.py::test_fails", "metric", "mean_absolute_error", False),
    ]
    assert list(checks[0])[:4] == ["nodeid", "kind", "name", "passed"]
    assert checks[1]["min"] == 0.7
    assert 0.7 <= checks[1]["value"] <= 1
    assert checks[2]["n_boot"] == 50
    assert checks[3]["max"] == 0.01
    assert report["totals"] == {
        "passed": 3,
        "failed": 1,
        "by_kind": {
            "comparison": {"passed": 1, "failed": 0},
            "metric": {"passed": 2, "failed": 1},
        },
    }


def test_no_report_without_the_option(pytester):
    pytester.makepyfile(test_report=REPORT_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    assert not any("written to" in line for line in result.outlines)
    assert not (pytester.path / "out").exists()


FAILING_BEHAVIOURAL_TEST = """
from mlkit.testing import upper


class ReadsTheCase:
    def predict(self, texts):
        return [int(any(c.isupper() for c in text)) for text in texts]


def test_case_does_not_matter(mlkit_model_check):
    texts = ["a good film", "dull", "Great acting", "OK"]
    mlkit_model_check.invariance(ReadsTheCase(), texts, upper())
"""


def test_failing_behavioural_test_prints_rate_threshold_and_failing_rows(pytester):
    pytester.makepyfile(FAILING_BEHAVIOURAL_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mlkit_model_check.invariance(ReadsTheCase(), texts, upper())*",
            "E*AssertionError: invariance check 'upper' FAILED: 2 of 3 changed rows failed"
            "*max_failure_rate=0*",
            "E*4 rows, 3 changed by the perturbation (unchanged rows are not counted)*",
            "E*First failing rows*",
            "E*row*text_before*text_after*output_before*output_after*",
            "E*a good film*A GOOD FILM*0*1*",
            "E*dull*DULL*0*1*",
        ]
    )
    failure = [line for line in result.outlines if line.startswith("E ")]
    assert not any("Great acting" in line for line in failure), "its output did not change"
    assert not any(" OK " in line for line in failure), "upper() left it unchanged: not tested"
