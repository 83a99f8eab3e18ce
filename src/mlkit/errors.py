"""The one exception hierarchy of mlkit.

Every error mlkit raises on purpose is an :class:`MlkitError`. Each one also
subclasses the builtin it resembles, so ``except ValueError`` or
``except LookupError`` in existing code keeps working::

    MlkitError(Exception)
    ├── DataError(MlkitError, ValueError)          unusable input data
    │   └── SchemaError(DataError)                 data breaks a declared schema
    ├── ConfigurationError(MlkitError, ValueError) an argument or setting is invalid
    ├── NotFittedError(MlkitError, ValueError, AttributeError)
    │                                              a fitted object used before fit()
    ├── NotFoundError(MlkitError, LookupError)     no such run, version, alias or key
    ├── ConflictError(MlkitError, RuntimeError)    the target already exists or changed
    ├── IntegrityError(MlkitError, OSError)        stored bytes do not match their hash
    └── MissingDependencyError(MlkitError, ImportError)
                                                   an optional extra is not installed

Errors about data carry the offending ``column``, ``value`` and what was
``expected`` as attributes as well as in the message, so callers can react
programmatically. All errors pickle with their message and attributes intact,
because they cross process boundaries through joblib and multiprocessing.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "DataError",
    "IntegrityError",
    "MissingDependencyError",
    "MlkitError",
    "NotFittedError",
    "NotFoundError",
    "SchemaError",
]


def _rebuild(cls: type[MlkitError], message: str, fields: dict[str, Any]) -> MlkitError:
    return cls(message, **fields)


class MlkitError(Exception):
    """Base class of every error mlkit raises on purpose.

    Parameters
    ----------
    message
        What went wrong, naming the column, the value and what was expected
        where those apply.
    column
        The column (or feature, key, name) the error is about, if any.
    value
        The offending value, if any.
    expected
        A short description of what was expected instead, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        column: Any = None,
        value: Any = None,
        expected: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.value = value
        self.expected = expected

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Builtins such as OSError reduce to their positional args only, which
        # would drop the keyword fields; rebuild through the full signature.
        fields = {"column": self.column, "value": self.value, "expected": self.expected}
        return (_rebuild, (type(self), self.message, fields))


class DataError(MlkitError, ValueError):
    """The input data cannot be used: wrong type, empty, too short, missing a column."""


class SchemaError(DataError):
    """The data breaks a declared schema or a critical expectation."""


class ConfigurationError(MlkitError, ValueError):
    """An argument or setting has an invalid value."""


class NotFittedError(MlkitError, ValueError, AttributeError):
    """A fitted object was used before ``fit`` was called.

    Subclasses :class:`ValueError` and :class:`AttributeError` like
    scikit-learn's ``NotFittedError``, so code written for either keeps working.
    """


class NotFoundError(MlkitError, LookupError):
    """No run, model version, alias, artifact or key by that name."""


class ConflictError(MlkitError, RuntimeError):
    """The target already exists, or changed since it was read."""


class IntegrityError(MlkitError, OSError):
    """Stored bytes do not match the content hash they were stored under."""


class MissingDependencyError(MlkitError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
