import pickle

import joblib
import pytest

from mlkit import errors
from mlkit.errors import (
    ConfigurationError,
    ConflictError,
    DataError,
    IntegrityError,
    MissingDependencyError,
    MlkitError,
    NotFittedError,
    NotFoundError,
    SchemaError,
)

ALL = [getattr(errors, name) for name in errors.__all__]

BUILTIN = {
    DataError: ValueError,
    SchemaError: ValueError,
    ConfigurationError: ValueError,
    NotFittedError: AttributeError,
    NotFoundError: LookupError,
    ConflictError: RuntimeError,
    IntegrityError: OSError,
    MissingDependencyError: ImportError,
}


@pytest.mark.parametrize("cls", ALL)
def test_every_error_is_an_mlkit_error(cls):
    """Users can catch everything mlkit raises on purpose with one except clause."""
    assert issubclass(cls, MlkitError)


@pytest.mark.parametrize(("cls", "builtin"), BUILTIN.items())
def test_errors_subclass_the_matching_builtin(cls, builtin):
    """Existing `except ValueError`/`LookupError`/... code keeps catching mlkit errors."""
    with pytest.raises(builtin):
        raise cls("boom")


def test_not_fitted_is_also_a_value_error_like_sklearn():
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("dumps", [pickle.dumps, lambda e: pickle.dumps(e, protocol=0)])
def test_errors_pickle_with_message_and_fields(cls, dumps):
    """Errors cross process boundaries (joblib, multiprocessing) intact."""
    err = cls(
        "column 'amount': got 'abc', expected a number",
        column="amount",
        value="abc",
        expected="a number",
    )
    back = pickle.loads(dumps(err))
    assert type(back) is cls
    assert str(back) == str(err) == err.message
    assert (back.column, back.value, back.expected) == ("amount", "abc", "a number")
    assert back.args == err.args


@pytest.mark.parametrize("cls", [DataError, IntegrityError, NotFoundError])
def test_errors_cross_a_joblib_worker_process(cls):
    """A real worker process raises; the parent catches the same type with the same text."""
    # exec and the error class pickle by reference, so the worker needs no test module.
    code = "raise cls('raised in a worker', column='x', value=3, expected='< 2')"
    jobs = (joblib.delayed(exec)(code, {"cls": cls}) for _ in range(2))
    with pytest.raises(cls, match="raised in a worker") as info:
        joblib.Parallel(n_jobs=2, backend="loky")(jobs)
    assert info.value.column == "x"


def test_tree_in_docstring_names_every_error():
    """The module docstring draws the whole tree; keep it in step with the classes."""
    for name in errors.__all__:
        assert name in errors.__doc__
