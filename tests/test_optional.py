import sys

import pytest

from mlkit._optional import require
from mlkit.errors import MissingDependencyError


def test_require_returns_the_module():
    assert require("json", "test", "JSON") is sys.modules["json"]


def test_a_missing_module_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'mlkit\[report\]'") as info:
        require("matplotlib", "report", "HTML reports")
    assert isinstance(info.value, ImportError)
    assert info.value.value == "matplotlib"
