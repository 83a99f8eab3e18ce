import importlib
import json
import subprocess
import sys

import pytest

import mlkit

HEAVY = ["pandas", "scipy", "sklearn", "pandera", "numpy", "prometheus_client", "joblib"]


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import mlkit",
        "import mlkit; mlkit.__version__",
        "import mlkit.errors, mlkit.protocols, mlkit.clock",
        "import mlkit.cli",
    ],
)
def test_import_mlkit_is_light(code):
    """`import mlkit` must not pay for pandas, scipy, scikit-learn, pandera or numpy."""
    loaded = _modules_after(code)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_public_subpackages_load_lazily_and_are_cached():
    for name in mlkit.__all__:
        value = getattr(mlkit, name)
        assert getattr(mlkit, name) is value
        if name != "__version__":
            assert value is importlib.import_module(f"mlkit.{name}")
    assert set(mlkit.__all__) <= set(dir(mlkit))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mlkit.nope  # noqa: B018


def test_version_comes_from_package_metadata():
    from importlib.metadata import version

    assert mlkit.__version__ == version("mlkit")


@pytest.mark.parametrize("name", [n for n in mlkit.__all__ if n != "__version__"])
def test_every_subpackage_has_a_docstring_and_explicit_all(name):
    module = importlib.import_module(f"mlkit.{name}")
    assert module.__doc__
    assert len(module.__doc__.strip()) > 40
    assert isinstance(module.__all__, list)
    assert module.__all__ == sorted(module.__all__)
    for public in module.__all__:
        assert getattr(module, public) is not None


def test_py_typed_ships():
    from importlib.resources import files

    assert files("mlkit").joinpath("py.typed").is_file()
