"""Save and load pandera schemas as JSON or YAML with every check and all metadata.

The document wraps pandera's own serialisation::

    {"format": "mlkit.schema", "version": 1,
     "pandera": {...what pandera.io writes, checks in pandera's list form...},
     "mlkit": {"metadata": ..., "columns": [...], "index": [...]}}

The ``"pandera"`` part is a schema pandera itself can read
(``pandera.io.deserialize_schema``, which keeps ISO datetime bounds as
strings); the ``"mlkit"`` part holds what pandera's io drops: schema, column
and index ``metadata`` (where mlkit keeps severities), ``on_missing`` and
``on_missing_columns``, and the categories of a categorical dtype. Check
statistics are written exactly: datetimes as ISO 8601 with fractional
seconds and offset, durations as ISO 8601 durations, and read back
as ``pandas.Timestamp`` / ``pandas.Timedelta`` for datetime and timedelta
columns (pandera's own io keeps whole seconds only and cannot write
tz-aware bounds).

Where pandera warns and drops a check it cannot write (a lambda, an
unregistered function), :func:`save_schema` raises :class:`DataError` naming
the column and the check, and writes nothing. Before returning, it reads the
document back and compares it with the schema, so anything else that would
not survive (an exotic dtype, a metadata value JSON cannot hold) fails the
save too, naming where.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import importlib
import json
import logging
import numbers
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa
from pandera.api.function_dispatch import Dispatcher
from pandera.engines import pandas_engine
from pandera.io import pandas_io

from mlkit._atomic import write_text
from mlkit.errors import ConfigurationError, DataError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_schema",
    "save_schema",
    "schema_from_dict",
    "schema_to_dict",
]

logger = logging.getLogger(__name__)

FORMAT = "mlkit.schema"
FORMAT_VERSION = 1

_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_YAML_MISSING = 'saving or loading a schema as YAML needs pyyaml: pip install "mlkit[yaml]"'

# Keys of a serialised pandera column/index that are not checks (pandera also
# accepts checks written flat, as ``in_range: {...}`` next to these).
_COMPONENT_KEYS = frozenset(
    {
        "title",
        "description",
        "dtype",
        "nullable",
        "checks",
        "name",
        "unique",
        "coerce",
        "required",
        "regex",
        "default",
        "report_duplicates",
        "drop_invalid_rows",
    }
)
# Check settings that are not statistics, in pandera's ``options`` block.
_CHECK_OPTIONS = frozenset(
    {
        "check_name",
        "ignore_na",
        "raise_warning",
        "n_failure_cases",
        "groupby",
        "groups",
        "name",
        "error",
        "title",
        "description",
    }
)
_SCHEMA_ATTRS = (
    "coerce",
    "strict",
    "name",
    "ordered",
    "unique",
    "report_duplicates",
    "unique_column_names",
    "add_missing_columns",
    "on_missing_columns",
    "title",
    "description",
    "drop_invalid_rows",
)
_COMPONENT_ATTRS = (
    "nullable",
    "unique",
    "report_duplicates",
    "coerce",
    "required",
    "regex",
    "title",
    "description",
    "default",
    "drop_invalid_rows",
    "on_missing",
)
_MULTIINDEX_ATTRS = ("coerce", "strict", "name", "ordered", "unique")

_ISO_DATETIME = re.compile(
    r"^[+-]?\d{4,}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO_DURATION = re.compile(r"^-?P-?\d+DT\d+H\d+M\d+(\.\d+)?S$")


@dataclasses.dataclass(frozen=True)
class _Where:
    """Where in a schema a problem is: a label for messages, the column for the error."""

    label: str
    column: Any = None

    def __str__(self) -> str:
        return self.label


_FRAME = _Where("the frame")


class _Unencodable(Exception):
    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


# --- values ------------------------------------------------------------------


def _encode(value: Any) -> Any:
    """Return a JSON- and YAML-safe equivalent of ``value``; _Unencodable if there is none."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            raise _Unencodable(value)
        return stamp.isoformat()
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        delta = pd.Timedelta(value)
        if delta is pd.NaT:
            raise _Unencodable(value)
        # pandas writes -1.5 s as "P-1DT23H59M58.5S"; "-P0DT0H0M1.5S" reads better.
        return "-" + (-delta).isoformat() if delta < pd.Timedelta(0) else delta.isoformat()
    if isinstance(value, re.Pattern):
        if value.flags not in (0, re.UNICODE):
            raise _Unencodable(value)
        return _encode(value.pattern)
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [_encode(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return {key: _encode(item) for key, item in value.items()}
    raise _Unencodable(value)


def _temporal_kind(dtype: Any) -> tuple[str | None, Any]:
    """("datetime", tz) / ("timedelta", None) for temporal pandera dtypes, else (None, None)."""
    native: Any = getattr(dtype, "type", None)
    try:
        if pd.api.types.is_datetime64_any_dtype(native):
            return "datetime", getattr(native, "tz", None)
        if pd.api.types.is_timedelta64_dtype(native):
            return "timedelta", None
    except TypeError:
        pass
    return None, None


def _decode(value: Any, kind: tuple[str | None, Any], *, pandera_compat: bool = False) -> Any:
    """Undo :func:`_encode` for a value of a column of temporal ``kind``."""
    what, tz = kind
    if isinstance(value, list):
        return [_decode(item, kind, pandera_compat=pandera_compat) for item in value]
    if isinstance(value, dict):
        return {
            key: _decode(item, kind, pandera_compat=pandera_compat) for key, item in value.items()
        }
    if what == "datetime" and isinstance(value, str) and _ISO_DATETIME.match(value):
        stamp = pd.Timestamp(value)
        if tz is not None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert(tz)
        return stamp
    if what == "timedelta":
        if isinstance(value, str) and _ISO_DURATION.match(value):
            return pd.Timedelta(value)
        # pandera's own io writes durations as integer nanoseconds.
        if pandera_compat and isinstance(value, int) and not isinstance(value, bool):
            return pd.Timedelta(value, unit="ns")
    return value


def _canonical(value: Any) -> Any:
    """Return a comparable form that records each value's kind (a str is not a Timestamp)."""
    if isinstance(value, (list, tuple)):
        return ["list", [_canonical(item) for item in value]]
    if isinstance(value, (set, frozenset)):
        return ["list", sorted((_canonical(item) for item in value), key=repr)]
    if isinstance(value, Mapping):
        return ["dict", sorted([repr(key), _canonical(item)] for key, item in value.items())]
    if isinstance(value, (float, np.floating)):
        return ["float", repr(float(value))]  # repr: NaN equals NaN here
    if isinstance(value, (dt.datetime, np.datetime64)):
        return ["datetime", _encode(value)]
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        return ["timedelta", _encode(value)]
    try:
        encoded = _encode(value)
    except _Unencodable:
        return ["object", repr(value)]
    return [type(encoded).__name__, encoded]


# --- what a schema holds --------------------------------------------------------


def _columns(schema: pa.DataFrameSchema) -> Iterator[tuple[_Where, Any]]:
    """(where, component) for every column, then every index level."""
    for name, column in schema.columns.items():
        yield _Where(f"column {name!r}", name), column
    for level, index in enumerate(_index_levels(schema)):
        yield _Where(f"index level {level} ({index.name!r})", index.name), index


def _index_levels(schema: pa.DataFrameSchema) -> list[Any]:
    index = schema.index
    if index is None:
        return []
    if isinstance(index, pa.MultiIndex):
        return list(index.indexes)
    return [index]


def _registry_name(check: pa.Check) -> str | None:
    """Return the name ``check`` can be rebuilt from in pandera's registry, if any.

    Read from the check function rather than ``check.name``, which a user may
    have changed (pandera's own ``registry_name`` misses renamed registered
    checks). A plain function merely named like a registered check is not one.
    """
    fn = getattr(check, "_check_fn", None)
    if isinstance(fn, Dispatcher):  # a built-in check
        name = getattr(fn, "__name__", None)
        return name if isinstance(name, str) and pa.Check.is_builtin_check(name) else None
    if isinstance(fn, functools.partial):
        # register_check_method binds the statistics with functools.partial
        # around a wrapper named after the check.
        name = getattr(fn.func, "__name__", None)
        if isinstance(name, str) and name in pa.Check.REGISTERED_CUSTOM_CHECKS:
            return name
    return None


def _registered_name(check: pa.Check, where: _Where) -> str:
    """Return the registry name of ``check``, or raise DataError naming it."""
    name = _registry_name(check)
    if name is None:
        raise DataError(
            f"cannot save the schema: {where} has check {check.name!r}, which is neither a "
            "pandera built-in check nor one registered with "
            "pandera.extensions.register_check_method (with its arguments as statistics); "
            "it could not be read back, so it would be lost",
            column=where.column,
            value=check.name,
            expected="a built-in or registered check",
        )
    return name


def _build_check(name: str, statistics: Mapping[str, Any]) -> pa.Check:
    factory = getattr(pa.Check, name)
    if set(statistics) == {"value"}:
        # pandera's flat form writes a one-argument check's statistic as "value".
        try:
            check: pa.Check = factory(**statistics)
        except TypeError:
            check = factory(statistics["value"])
        return check
    built: pa.Check = factory(**statistics)
    return built


def _encode_check(check: pa.Check, where: _Where) -> dict[str, Any]:
    name = _registered_name(check, where)
    if callable(check.groupby):
        raise DataError(
            f"cannot save the schema: {where} has check {check.name!r} grouped by a function; "
            "only column names can be saved as groupby",
            column=where.column,
            value=check.name,
            expected="groupby given as column names",
        )
    statistics = dict(check.statistics or {})
    try:
        default = _build_check(name, statistics)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"cannot save the schema: {where} has check {check.name!r}, which cannot be rebuilt "
            f"from its statistics {statistics!r} ({exc})",
            column=where.column,
            value=check.name,
            expected="a check whose statistics are its arguments",
        ) from exc
    encoded: dict[str, Any] = {}
    for key, value in statistics.items():
        try:
            encoded[key] = _encode(value)
        except _Unencodable as exc:
            raise DataError(
                f"cannot save the schema: {where} has check {check.name!r} whose statistic "
                f"{key!r} = {value!r} ({type(exc.value).__name__}) has no JSON/YAML form",
                column=where.column,
                value=value,
                expected="numbers, strings, bools, datetimes, durations and lists of them",
            ) from exc
    options: dict[str, Any] = {"check_name": name}
    if not check.ignore_na:
        options["ignore_na"] = False
    if check.raise_warning:
        options["raise_warning"] = True
    for option in ("n_failure_cases", "groupby", "groups", "title", "description"):
        value = getattr(check, option, None)
        if value is not None:
            options[option] = _encode(value)
    if check.name != name:
        options["name"] = check.name
    if check.error != default.error:
        options["error"] = _encode(check.error)
    return {**encoded, "options": options}


def _encode_field(value: Any, what: str, where: _Where) -> Any:
    try:
        return _encode(value)
    except _Unencodable as exc:
        raise DataError(
            f"cannot save the schema: the {what} of {where} holds {exc.value!r} "
            f"({type(exc.value).__name__}), which has no JSON/YAML form",
            column=where.column,
            value=exc.value,
            expected="dicts with str keys, lists, numbers, strings, bools, datetimes, durations",
        ) from exc


_STRING_DTYPES = ("string[python]", "string[pyarrow]")


def _dtype_extra(dtype: Any) -> dict[str, Any] | None:
    """Return what ``str(dtype)`` loses: the categories of a categorical dtype."""
    if isinstance(dtype, pandas_engine.Category) and dtype.categories is not None:
        return {"categories": list(dtype.categories), "ordered": bool(dtype.ordered)}
    return None


# --- schema -> document ---------------------------------------------------------


def _check_schema_type(schema: object) -> pa.DataFrameSchema:
    # A pandera MultiIndex is a DataFrameSchema too, but never a whole schema.
    if not isinstance(schema, pa.DataFrameSchema) or isinstance(schema, pa.MultiIndex):
        raise ConfigurationError(
            f"expected a pandera.pandas.DataFrameSchema, got {type(schema).__name__}",
            value=type(schema).__name__,
            expected="pandera.pandas.DataFrameSchema",
        )
    return schema


def _check_no_parsers(component: Any, where: _Where) -> None:
    if getattr(component, "parsers", None):
        raise DataError(
            f"cannot save the schema: {where} has parsers, which are Python functions and "
            "cannot be saved",
            column=where.column,
            value=[getattr(parser, "name", repr(parser)) for parser in component.parsers],
            expected="no parsers",
        )


def _column_entries(part: dict[str, Any], schema: pa.DataFrameSchema) -> list[dict[str, Any]]:
    columns = part.get("columns") or {}
    if isinstance(columns, dict):
        return [columns[name] for name in schema.columns]
    return list(columns)


def _component_extra(component: Any, where: _Where) -> dict[str, Any]:
    """Return what pandera's io drops from a column or index level."""
    found: dict[str, Any] = {}
    if component.metadata:
        found["metadata"] = _encode_field(component.metadata, "metadata", where)
    if getattr(component, "on_missing", None) is not None:
        found["on_missing"] = component.on_missing
    dtype_extra = _dtype_extra(component.dtype)
    if dtype_extra is not None:
        found["dtype"] = _encode_field(dtype_extra, "dtype", where)
    return found


def schema_to_dict(schema: pa.DataFrameSchema) -> dict[str, Any]:
    """Return ``schema`` as a JSON- and YAML-safe dict that :func:`schema_from_dict` reads.

    Parameters
    ----------
    schema
        A pandera ``DataFrameSchema`` (pandas API).

    Returns
    -------
    dict
        ``{"format": "mlkit.schema", "version": 1, "pandera": ..., "mlkit": ...}``.

    Raises
    ------
    DataError
        If a check, parser or value cannot be saved (a lambda or unregistered
        check function, a parser, a statistic or metadata value with no JSON
        form, ...); the message names the column and the check.
    ConfigurationError
        If ``schema`` is not a pandera ``DataFrameSchema``.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema(
    ...     {"age": pa.Column(int, pa.Check.in_range(0, 120), metadata={"owner": "crm"})})
    >>> document = schema_to_dict(schema)
    >>> document["pandera"]["columns"]["age"]["checks"]
    [{'min_value': 0, 'max_value': 120, 'include_min': True, 'include_max': True, 'options': {'check_name': 'in_range'}}]
    >>> document["mlkit"]["columns"]
    [{'name': 'age', 'metadata': {'owner': 'crm'}}]
    """  # noqa: E501
    schema = _check_schema_type(schema)
    _check_no_parsers(schema, _FRAME)
    frame_checks = [_encode_check(check, _FRAME) for check in schema.checks]
    component_checks: list[list[dict[str, Any]]] = []
    for where, component in _columns(schema):
        _check_no_parsers(component, where)
        component_checks.append([_encode_check(check, where) for check in component.checks])

    # pandera writes everything but the checks (mlkit writes those exactly).
    stripped = copy.deepcopy(schema)
    stripped.checks = []
    for _, component in _columns(stripped):
        component.checks = []
    part = pandas_io.serialize_schema(stripped)
    if part.get("dtype") is not None:
        part["dtype"] = str(part["dtype"])  # pandera writes the DataType object itself
    part = _encode_field(part, "pandera serialisation", _FRAME)
    entries = _column_entries(part, schema) + list(part.get("index") or [])
    for entry in entries:
        if entry.get("dtype") in _STRING_DTYPES:
            # Storage-neutral: "string[pyarrow]" (the default where pyarrow is
            # installed) would not load where it is not; "string" loads as
            # each machine's default storage.
            entry["dtype"] = "string"
    for entry, checks in zip(entries, component_checks, strict=True):
        entry.pop("checks", None)
        if checks:
            entry["checks"] = checks
    if frame_checks:
        part["checks"] = frame_checks

    extra: dict[str, Any] = {}
    if schema.metadata:
        extra["metadata"] = _encode_field(schema.metadata, "metadata", _FRAME)
    if getattr(schema, "on_missing_columns", None) is not None:
        extra["on_missing_columns"] = schema.on_missing_columns
    extra_columns, extra_index = [], []
    for level, (where, component) in enumerate(_columns(schema)):
        found = _component_extra(component, where)
        if not found:
            continue
        if level < len(schema.columns):
            name = _encode_field(where.column, "name", where)
            extra_columns.append({"name": name, **found})
        else:
            extra_index.append({"level": level - len(schema.columns), **found})
    if extra_columns:
        extra["columns"] = extra_columns
    if extra_index:
        extra["index"] = extra_index

    document = {"format": FORMAT, "version": FORMAT_VERSION, "pandera": part, "mlkit": extra}
    _check_round_trip(schema, document)
    return document


# --- document -> schema ---------------------------------------------------------


def _check_entries(component: dict[str, Any], where: _Where) -> list[dict[str, Any]]:
    """Pop the checks out of a serialised component, in list form, whichever way written."""
    found: list[dict[str, Any]] = []
    checks = component.pop("checks", None)
    if isinstance(checks, list):
        for entry in checks:
            if not isinstance(entry, dict) or not isinstance(entry.get("options"), dict):
                raise DataError(
                    f"cannot load the schema: {where} has a check entry {entry!r} without "
                    "options.check_name",
                    column=where.column,
                    value=entry,
                    expected="{<statistic>: <value>, ..., 'options': {'check_name': <name>}}",
                )
            found.append(entry)
    elif isinstance(checks, dict):  # pandera's older {name: statistics} form
        for name, value in checks.items():
            entry = dict(value) if isinstance(value, dict) else {"value": value}
            entry["options"] = {**entry.get("options", {}), "check_name": name}
            found.append(entry)
    elif checks is not None:
        raise DataError(
            f"cannot load the schema: checks of {where} must be a list, got {checks!r}",
            column=where.column,
            value=checks,
            expected="a list of checks",
        )
    for key in [key for key in component if key not in _COMPONENT_KEYS]:
        value = component.pop(key)
        if not hasattr(pa.Check, key):
            raise DataError(
                f"cannot load the schema: {where} has {key!r}, which is neither a column "
                "setting nor a registered check (import the module that registers it "
                "before loading)",
                column=where.column,
                value=key,
                expected=f"one of {sorted(_COMPONENT_KEYS)} or a check name",
            )
        # pandera's flat form: ``check_name: value`` or ``check_name: {stats and options}``
        if isinstance(value, dict):
            options = {k: v for k, v in value.items() if k in _CHECK_OPTIONS}
            statistics = {k: v for k, v in value.items() if k not in _CHECK_OPTIONS}
        else:
            options, statistics = {}, ({} if value is None else {"value": value})
        found.append({**statistics, "options": {**options, "check_name": key}})
    return found


def _decode_check(
    entry: dict[str, Any], where: _Where, kind: tuple[str | None, Any], pandera_compat: bool
) -> pa.Check:
    options = dict(entry["options"])
    name = options.pop("check_name", None)
    if not isinstance(name, str) or not hasattr(pa.Check, name):
        raise DataError(
            f"cannot load the schema: {where} has check {name!r}, which is not registered "
            "(import the module that registers it before loading)",
            column=where.column,
            value=name,
            expected="a built-in or registered check",
        )
    statistics = {
        key: _decode(value, kind, pandera_compat=pandera_compat)
        for key, value in entry.items()
        if key != "options"
    }
    try:
        check = _build_check(name, statistics)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"cannot load the schema: {where} has check {name!r} with statistics "
            f"{statistics!r} it does not accept ({exc})",
            column=where.column,
            value=statistics,
            expected=f"the arguments of pandera.Check.{name}",
        ) from exc
    for option, value in options.items():
        if option not in _CHECK_OPTIONS:
            raise DataError(
                f"cannot load the schema: {where} has check {name!r} with unknown option "
                f"{option!r}",
                column=where.column,
                value=option,
                expected=f"one of {sorted(_CHECK_OPTIONS - {'check_name'})}",
            )
        if option == "groups" and isinstance(value, list):
            value = [tuple(key) if isinstance(key, list) else key for key in value]
        setattr(check, option, value)
    return check


# pandera leaves deserialize_schema unannotated.
_pandera_deserialize: Callable[[Mapping[str, Any]], pa.DataFrameSchema] = (
    pandas_io.deserialize_schema
)


def _deserialize(part: dict[str, Any]) -> pa.DataFrameSchema:
    errors = (
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
        pandera.errors.SchemaDefinitionError,
        pandera.errors.SchemaInitError,
    )
    try:
        return _pandera_deserialize(part)
    except errors as exc:
        # Retry one column at a time, so the message can name the culprit.
        columns = part.get("columns") or {}
        pairs = (
            columns.items()
            if isinstance(columns, dict)
            else ((entry.get("name"), entry) for entry in columns)
        )
        for name, entry in pairs:
            try:
                _pandera_deserialize({"columns": {"_": entry}})
            except errors as column_exc:
                raise DataError(
                    f"cannot load the schema: column {name!r} is invalid ({column_exc})",
                    column=name,
                    value=entry,
                    expected="a pandera column",
                ) from column_exc
        raise DataError(
            f"cannot load the schema: pandera cannot read it ({exc})",
            value=None,
            expected="a pandera schema",
        ) from exc


def _header(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(pandera part, mlkit part, written by pandera itself) of a document."""
    if "format" not in document and ("columns" in document or "schema_type" in document):
        return copy.deepcopy(dict(document)), {}, True
    if document.get("format") != FORMAT:
        raise DataError(
            f"cannot load the schema: not an mlkit schema document (format "
            f"{document.get('format')!r}, expected {FORMAT!r}, or a pandera schema)",
            value=document.get("format"),
            expected=FORMAT,
        )
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DataError(
            f"cannot load the schema: unknown format version {version!r} (this mlkit reads "
            f"versions 1 to {FORMAT_VERSION})",
            value=version,
            expected=f"1 to {FORMAT_VERSION}",
        )
    if version > FORMAT_VERSION:
        raise DataError(
            f"cannot load the schema: it was written in format version {version} by a newer "
            f"mlkit; this mlkit reads versions 1 to {FORMAT_VERSION}: upgrade mlkit",
            value=version,
            expected=f"1 to {FORMAT_VERSION}",
        )
    part, extra = document.get("pandera"), document.get("mlkit") or {}
    if not isinstance(part, Mapping) or not isinstance(extra, Mapping):
        raise DataError(
            "cannot load the schema: 'pandera' and 'mlkit' must be mappings",
            value=type(part).__name__,
            expected="a mapping",
        )
    return copy.deepcopy(dict(part)), copy.deepcopy(dict(extra)), False


def _decode_name(name: Any) -> Any:
    return tuple(name) if isinstance(name, list) else name


def schema_from_dict(document: Mapping[str, Any]) -> pa.DataFrameSchema:
    """Rebuild a schema from :func:`schema_to_dict`'s output (or a pandera document).

    Parameters
    ----------
    document
        A dict as written by :func:`schema_to_dict`. A plain pandera
        document (what ``pandera.io.serialize_schema`` or ``to_yaml`` writes)
        is read too, without mlkit's metadata.

    Returns
    -------
    pandera.pandas.DataFrameSchema

    Raises
    ------
    DataError
        If the document is not a schema, has an unknown format version, or
        names a check that is not registered; the message says where.

    Examples
    --------
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.ge(0))})
    >>> schema_from_dict(schema_to_dict(schema)).columns["age"].checks
    [<Check greater_than_or_equal_to: greater_than_or_equal_to(0)>]
    """
    if not isinstance(document, Mapping):
        raise DataError(
            f"cannot load the schema: expected a mapping, got {type(document).__name__}",
            value=type(document).__name__,
            expected="a mapping",
        )
    part, extra, pandera_compat = _header(document)
    columns = part.get("columns") or {}
    pairs = (
        list(columns.items())
        if isinstance(columns, dict)
        else [(_decode_name(entry.get("name")), entry) for entry in columns]
    )
    if not all(isinstance(entry, dict) for _, entry in pairs):
        raise DataError(
            "cannot load the schema: every column must be a mapping of settings",
            value=[name for name, entry in pairs if not isinstance(entry, dict)],
            expected="a mapping",
        )
    column_checks = {
        name: _check_entries(entry, _Where(f"column {name!r}", name)) for name, entry in pairs
    }
    index_entries = part.get("index") or []
    index_checks = [
        _check_entries(entry, _Where(f"index level {level}", entry.get("name")))
        for level, entry in enumerate(index_entries)
    ]
    frame_checks = _check_entries({"checks": part.pop("checks", None)}, _FRAME)

    schema = _deserialize(part)
    # Every object below was just built here and is not shared yet, so it is
    # completed in place rather than copied once per column.
    for level, index in enumerate(_index_levels(schema)):
        extras: Mapping[str, Any] = next(
            (e for e in extra.get("index", []) if e.get("level") == level), {}
        )
        where = _Where(f"index level {level}", index.name)
        _complete(index, where, index_checks[level], extras, pandera_compat)
    extras_by_name = {_decode_name(e.get("name")): e for e in extra.get("columns", [])}
    for name, column in schema.columns.items():
        _complete(
            column,
            _Where(f"column {name!r}", name),
            column_checks[name],
            extras_by_name.pop(name, {}),
            pandera_compat,
        )
    if extras_by_name:
        raise DataError(
            f"cannot load the schema: mlkit settings for columns {list(extras_by_name)} "
            "that the schema does not have",
            column=next(iter(extras_by_name)),
            value=list(extras_by_name),
            expected=f"one of {list(schema.columns)}",
        )
    schema.checks = [
        _decode_check(entry, _FRAME, (None, None), pandera_compat) for entry in frame_checks
    ]
    if extra.get("metadata") is not None:
        schema.metadata = dict(extra["metadata"])
    if extra.get("on_missing_columns") is not None:
        schema.on_missing_columns = extra["on_missing_columns"]
    return schema


def _complete(
    component: Any,
    where: _Where,
    checks: list[dict[str, Any]],
    extras: Mapping[str, Any],
    pandera_compat: bool,
) -> None:
    dtype_extra = extras.get("dtype")
    if dtype_extra is not None:
        component.dtype = pandas_engine.Category(
            categories=dtype_extra.get("categories"), ordered=bool(dtype_extra.get("ordered"))
        )
    kind = _temporal_kind(component.dtype)
    component.checks = [_decode_check(entry, where, kind, pandera_compat) for entry in checks]
    if getattr(component, "default", None) is not None:
        component.default = _decode(component.default, kind, pandera_compat=pandera_compat)
    if extras.get("metadata") is not None:
        component.metadata = dict(extras["metadata"])
    if extras.get("on_missing") is not None:
        component.on_missing = extras["on_missing"]


# --- the round-trip guarantee --------------------------------------------------


def _describe_check(check: pa.Check) -> dict[str, Any]:
    return {
        "check": _registry_name(check),
        "name": check.name,
        "statistics": _canonical(dict(check.statistics or {})),
        "options": _canonical(
            {
                option: getattr(check, option, None)
                for option in (
                    "ignore_na",
                    "raise_warning",
                    "n_failure_cases",
                    "groupby",
                    "groups",
                    "error",
                    "title",
                    "description",
                    "element_wise",
                )
            }
        ),
    }


def _describe_dtype(dtype: Any) -> str | None:
    if dtype is None:
        return None
    text = str(dtype)
    return "string" if text in _STRING_DTYPES else text  # saved without the storage


def _describe_component(component: Any) -> dict[str, Any]:
    return {
        "dtype": _describe_dtype(component.dtype),
        "dtype_extra": _canonical(_dtype_extra(component.dtype)),
        "name": _canonical(component.name),
        "metadata": _canonical(component.metadata),
        "checks": [_describe_check(check) for check in component.checks],
        **{attr: _canonical(getattr(component, attr, None)) for attr in _COMPONENT_ATTRS},
    }


def _describe_schema(schema: pa.DataFrameSchema) -> dict[str, Any]:
    """Everything :func:`save_schema` promises to keep, in a comparable form.

    Two schemas with equal descriptions validate alike. Used to check each
    save; tests compare round trips with it.
    """
    index = schema.index
    return {
        "dtype": _describe_dtype(schema.dtype),
        "metadata": _canonical(schema.metadata),
        "checks": [_describe_check(check) for check in schema.checks],
        **{attr: _canonical(getattr(schema, attr, None)) for attr in _SCHEMA_ATTRS},
        "columns": [
            [_canonical(name), _describe_component(column)]
            for name, column in schema.columns.items()
        ],
        "index": [_describe_component(level) for level in _index_levels(schema)],
        "multiindex": (
            _canonical({attr: getattr(index, attr) for attr in _MULTIINDEX_ATTRS})
            if isinstance(index, pa.MultiIndex)
            else None
        ),
    }


def _first_difference(left: Any, right: Any, path: str) -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in left:
            found = _first_difference(left[key], right.get(key), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if left == right else f"{path}: {left!r} would load back as {right!r}"


def _check_round_trip(schema: pa.DataFrameSchema, document: dict[str, Any]) -> None:
    loaded = schema_from_dict(document)
    before, after = _describe_schema(schema), _describe_schema(loaded)
    if before != after:
        where = _first_difference(before, after, "schema")
        raise DataError(
            f"cannot save the schema: it would not load back the same ({where})",
            value=where,
            expected="a schema that survives saving",
        )


# --- files ---------------------------------------------------------------------


def _format_of(path: Path) -> str:
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ConfigurationError(
            f"schema file {str(path)!r} must end in .json, .yaml or .yml",
            value=str(path),
            expected="a .json, .yaml or .yml path",
        )
    return found


def _yaml() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError as exc:
        raise ConfigurationError(_YAML_MISSING, value="yaml", expected="pyyaml installed") from exc


def save_schema(schema: pa.DataFrameSchema, path: str | os.PathLike[str]) -> Path:
    """Write ``schema`` to a ``.json`` or ``.yaml``/``.yml`` file, atomically.

    Every check is kept (built-in, and registered ones such as mlkit's), as
    are schema, column and index metadata (mlkit's severities live there).
    Nothing is written if anything would be lost.

    Parameters
    ----------
    schema
        A pandera ``DataFrameSchema``.
    path
        The file to write; its suffix picks the format. YAML needs pyyaml
        (``pip install "mlkit[yaml]"``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DataError
        If part of the schema cannot be saved (a lambda or unregistered
        check, a parser, a value with no JSON/YAML form); the message names
        the column and the check.
    ConfigurationError
        If the suffix is not .json/.yaml/.yml, YAML is asked for without
        pyyaml, or ``schema`` is not a ``DataFrameSchema``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.in_range(0, 120))})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = save_schema(schema, folder / "schema.json")
    >>> load_schema(path).columns["age"].checks
    [<Check in_range: in_range(0, 120)>]
    """
    target = Path(path)
    kind = _format_of(target)
    document = schema_to_dict(schema)
    if kind == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        text = _yaml().safe_dump(document, sort_keys=False, allow_unicode=True)
    write_text(target, text)
    logger.info("saved schema with %d columns to %s", len(schema.columns), target)
    return target


def load_schema(path: str | os.PathLike[str]) -> pa.DataFrameSchema:
    """Read a schema written by :func:`save_schema` (or by pandera's ``to_json``/``to_yaml``).

    Parameters
    ----------
    path
        A ``.json``, ``.yaml`` or ``.yml`` file.

    Returns
    -------
    pandera.pandas.DataFrameSchema

    Raises
    ------
    DataError
        If the file is not valid JSON/YAML, not a schema, of an unknown
        format version, or uses a check that is not registered.
    ConfigurationError
        If the suffix is not .json/.yaml/.yml, or YAML is asked for without
        pyyaml.
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"plan": pa.Column(str, pa.Check.isin(["free", "pro"]))})
    >>> path = save_schema(schema, pathlib.Path(tempfile.mkdtemp()) / "schema.yaml")
    >>> load_schema(path).columns["plan"].checks
    [<Check isin: isin(['free', 'pro'])>]
    """
    source = Path(path)
    kind = _format_of(source)
    text = source.read_text(encoding="utf-8")
    if kind == "json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"cannot load the schema: {str(source)!r} is not valid JSON ({exc})",
                value=str(source),
                expected="a JSON document",
            ) from exc
    else:
        yaml = _yaml()
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(
                f"cannot load the schema: {str(source)!r} is not valid YAML ({exc})",
                value=str(source),
                expected="a YAML document",
            ) from exc
    return schema_from_dict(document)
