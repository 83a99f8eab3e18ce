"""Severities: how bad a failed check or expectation is, and where a schema says so.

Four levels, most severe first: ``critical`` (the data cannot be used: a
missing column, a wrong dtype), ``error`` (bad values: the batch should not
be used as is), ``warning`` (worth a look) and ``info`` (recorded only).

A pandera schema carries mlkit's severities in its ``metadata`` under the
``"mlkit"`` key, which :func:`mlkit.validation.save_schema` keeps (pandera's
own serialisation drops metadata):

- ``Column(..., metadata={"mlkit": {"severity": "warning"}})``: every value
  check of that column;
- ``Column(..., metadata={"mlkit": {"severity": {"in_range": "warning"}}})``:
  one check by name (the name pandera reports, such as ``in_range``,
  ``isin``, ``not_nullable``, ``field_uniqueness``), ``"*"`` for the others;
- ``DataFrameSchema(..., metadata={"mlkit": {"severity": {...}}})``: checks of
  the whole frame and schema-level problems by name.

Without an override, schema-level problems are ``critical`` (missing column,
wrong dtype) or ``error`` (an unexpected column), value checks are ``error``,
and a pandera check built with ``raise_warning=True`` is ``warning``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mlkit.errors import ConfigurationError

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = [
    "SCHEMA_LEVEL",
    "SEVERITIES",
    "at_least",
    "check_severity",
    "max_severity",
    "rank",
    "severity_of",
    "with_severity",
]

SEVERITIES = ("critical", "error", "warning", "info")
_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}

# pandera's names for problems with the frame's shape rather than its values,
# and how severe each is unless the schema says otherwise.
SCHEMA_LEVEL = {
    "column_in_dataframe": "critical",  # a schema column is missing
    "dtype": "critical",
    "coerce_dtype": "critical",  # a value that cannot be converted to the column's dtype
    "column_in_schema": "error",  # the frame has a column the schema lacks
    "column_ordered": "error",
    "duplicate_dataframe_column_labels": "critical",
    "multiple_regex_matches": "critical",
    "dataframe_column_labels_unique": "critical",
}


def check_severity(value: object, *, what: str = "severity") -> str:
    """Return ``value`` if it is one of :data:`SEVERITIES`, else raise ConfigurationError."""
    if not isinstance(value, str) or value not in _RANK:
        raise ConfigurationError(
            f"{what} must be one of {list(SEVERITIES)}, got {value!r}",
            value=value,
            expected=" | ".join(SEVERITIES),
        )
    return value


def rank(severity: str) -> int:
    """Return 3 for ``critical`` down to 0 for ``info``."""
    return _RANK[check_severity(severity)]


def at_least(severity: str, threshold: str) -> bool:
    """Return whether ``severity`` is ``threshold`` or worse.

    Examples
    --------
    >>> at_least("critical", "error"), at_least("warning", "error")
    (True, False)
    """
    return rank(severity) >= rank(threshold)


def max_severity(severities: Iterable[str]) -> str | None:
    """Return the worst of ``severities``, or None when there are none.

    Examples
    --------
    >>> max_severity(["warning", "critical", "info"])
    'critical'
    >>> max_severity([]) is None
    True
    """
    worst: str | None = None
    for severity in severities:
        if worst is None or rank(severity) > rank(worst):
            worst = severity
    return worst


def _override(metadata: Mapping[str, Any] | None, check: str) -> str | None:
    spec = ((metadata or {}).get("mlkit") or {}).get("severity")
    if spec is None:
        return None
    if isinstance(spec, str):
        return check_severity(spec, what="metadata severity")
    if isinstance(spec, Mapping):
        found = spec.get(check, spec.get("*"))
        return None if found is None else check_severity(found, what=f"severity of {check!r}")
    raise ConfigurationError(
        f"metadata['mlkit']['severity'] must be a severity or a mapping of check names to "
        f"severities, got {spec!r}",
        value=spec,
        expected="'warning' or {'in_range': 'warning', '*': 'error'}",
    )


def severity_of(
    schema: pa.DataFrameSchema, column: object, check: str, *, warning: bool = False
) -> str:
    """Return the severity of a failure of ``check`` on ``column`` under ``schema``.

    Parameters
    ----------
    schema
        The pandera schema that was validated.
    column
        The column label, or None for a check of the whole frame.
    check
        The check's name as pandera reports it (``in_range``, ``isin``,
        ``not_nullable``, ``dtype``, ``column_in_dataframe``, ...).
    warning
        The check was built with ``raise_warning=True``.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema(
    ...     {"a": pa.Column(float, metadata={"mlkit": {"severity": {"in_range": "warning"}}})})
    >>> severity_of(schema, "a", "in_range"), severity_of(schema, "a", "isin")
    ('warning', 'error')
    >>> severity_of(schema, "a", "column_in_dataframe")
    'critical'
    """
    if check in SCHEMA_LEVEL:
        found = _override(schema.metadata, check)
        return found if found is not None else SCHEMA_LEVEL[check]
    component = schema.columns.get(column) if column is not None else None
    metadata = component.metadata if component is not None else schema.metadata
    found = _override(metadata, check)
    if found is not None:
        return found
    return "warning" if warning else "error"


def with_severity(
    schema: pa.DataFrameSchema,
    severity: str,
    *,
    column: str | None = None,
    check: str | None = None,
) -> pa.DataFrameSchema:
    """Return a copy of ``schema`` whose failures of ``check`` (or all) have ``severity``.

    Parameters
    ----------
    schema
        A pandera ``DataFrameSchema``.
    severity
        One of :data:`SEVERITIES`.
    column
        The column whose checks it applies to; None for the whole frame's
        checks and schema-level problems.
    check
        One check by name; None for all of the column's (or frame's) checks.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"a": pa.Column(float, pa.Check.ge(0))})
    >>> relaxed = with_severity(schema, "warning", column="a", check="greater_than_or_equal_to")
    >>> severity_of(relaxed, "a", "greater_than_or_equal_to")
    'warning'
    """
    check_severity(severity)
    if column is None:
        metadata = dict(schema.metadata or {})
    else:
        if column not in schema.columns:
            raise ConfigurationError(
                f"the schema has no column {column!r}",
                column=column,
                expected=f"one of {list(schema.columns)}",
            )
        metadata = dict(schema.columns[column].metadata or {})
    mlkit = dict(metadata.get("mlkit") or {})
    if check is None:
        mlkit["severity"] = severity
    else:
        spec = mlkit.get("severity")
        spec = {"*": spec} if isinstance(spec, str) else dict(spec or {})
        spec[check] = severity
        mlkit["severity"] = spec
    metadata["mlkit"] = mlkit
    if column is None:
        out = copy.deepcopy(schema)  # pandera schemas have no metadata setter
        out.metadata = metadata
        return out
    return schema.update_column(column, metadata=metadata)
