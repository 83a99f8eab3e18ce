"""Validate one frame against a pandera schema into a :class:`ValidationReport`.

pandera does the validation; this module turns what it raises into report
rows. Three things need care:

- pandera names a check by its text (``in_range(0, 10)``, ``dtype('int64')``,
  or a custom check's ``error`` message). Severities and counts key on the
  stable name instead (``in_range``, ``dtype``, the check's ``name``), and the
  text is kept as the row's ``detail``.
- A check built with ``raise_warning=True`` only emits a ``SchemaWarning``
  whose failure cases are a string. With ``lazy=True`` the schema is run as a
  copy in which those checks raise like the others, each marked, so their
  failures arrive as ordinary rows and become ``warning`` rows. With
  ``lazy=False`` that copy would stop at a mere warning, so the original runs
  and each warning becomes one row without values (see :func:`validate`).
- pandera reports a failing row of a whole-frame check once per column of the
  row; the report gives it one row whose ``failure_case`` is a dict of those
  cells, with ``column`` None, so counts are counts of rows.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError as PanderaSchemaError
from pandera.errors import SchemaErrors, SchemaWarning

from mlkit._frames import is_dask_frame
from mlkit.errors import ConfigurationError, DataError
from mlkit.validation._report import DETAIL_COLUMNS, ValidationReport
from mlkit.validation._scale import is_chunks
from mlkit.validation._severity import severity_of

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["validate"]

logger = logging.getLogger(__name__)

# Set on the copies of raise_warning checks so their failures can be told apart.
_WARNING_MARK = "_mlkit_raise_warning"

# Schema-level problems whose pandera failure case is the column label itself.
_COLUMN_PROBLEMS = frozenset({"column_in_dataframe", "column_in_schema", "column_ordered"})

_FAILED = re.compile(
    r"^(?P<context>\w+) '(?P<name>.*?)' failed "
    r"(?:element-wise validator number|series or dataframe validator) (?P<number>\d+): "
    r"(?P<detail>.*?)(?: failure cases: .*)?$",
    re.DOTALL,
)
_OPTIONAL_MISSING = re.compile(r"^optional column '(?P<name>.*)' is missing", re.DOTALL)

_SHOWN_COLUMNS = 10

#: Failure rows kept per (column, check) on a Dask frame or chunks by default.
_DEFAULT_SAMPLE = 100

_GROUP_KEYS = ["column", "check", "severity", "detail", "check_number", "context"]


@attrs.frozen(eq=False)
class _Block:
    """The failures of one pandera error: one column, check and severity."""

    column: Any
    check: str
    detail: str
    check_number: int | None
    context: str
    severity: str
    values: NDArray[np.object_]
    index: NDArray[np.object_]


_WARNINGS_LOCK = threading.Lock()


def validate(
    df: Any,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel],
    *,
    lazy: bool = True,
    max_failure_cases: int | None = None,
) -> ValidationReport:
    """Validate ``df`` against a pandera ``schema`` and report every failure.

    Data problems never raise: missing or extra columns, wrong dtypes, nulls,
    duplicates and failed checks all become rows of the report, each with a
    severity (see :mod:`mlkit.validation._severity`). Call
    :meth:`ValidationReport.raise_for_errors` to turn a bad report into an
    exception.

    Parameters
    ----------
    df
        The frame to validate: a pandas frame, a ``dask.dataframe.DataFrame``
        (the ``dask`` extra) or a list of pandas chunks. It is not modified
        (a schema that coerces works on pandera's copy). A Dask frame or
        chunks are validated piece by piece and the pieces' failures merged,
        never collecting the data: see :ref:`validation on Dask
        <validation-dask>` in the docs and the Notes.
    schema
        A ``pandera.pandas.DataFrameSchema``, or a ``DataFrameModel`` class.
    lazy
        Run every check (default). With False, stop at the first failure,
        which is then the report's only error row; a ``raise_warning`` check
        that failed before it is then one ``warning`` row without values,
        because pandera gives its failure cases only as text. Must be True
        for a Dask frame or chunks.
    max_failure_cases
        Keep at most this many failure rows per (column, check) in the
        report; :meth:`ValidationReport.counts`, ``n_failures`` and the
        verdict still count every failure (the report is then
        :attr:`~ValidationReport.sampled`). None keeps every row for a
        pandas frame and 100 per (column, check) for a Dask frame or chunks.

    Returns
    -------
    ValidationReport

    Raises
    ------
    mlkit.errors.DataError
        ``df`` is not a DataFrame, has duplicate column names or no rows, or
        shares no column with the schema.
    mlkit.errors.ConfigurationError
        ``schema`` is not a pandas pandera schema, or its severity metadata
        is malformed.

    Notes
    -----
    On a Dask frame or chunks, every failure is counted exactly and the
    report equals the pandas one on the same data, up to the order of rows
    and the failure-case sample: row checks run per piece (with their real
    index labels), problems of the schema (missing or extra column, dtype)
    are reported once, ``unique`` columns and the schema's ``unique`` key are
    checked across pieces from merged value counts (memory grows with the
    number of distinct values), and a custom check that looks at a whole
    column or frame (it returns one bool rather than one per row) cannot be
    split: it is reported as a ``not_evaluated`` warning row instead, as is
    the uniqueness of the index.

    Warnings are recorded while pandera runs, because pandera reports a
    warning raised inside a check (as ``-W error`` or pytest's
    ``filterwarnings = error`` make them) as a failure of that check.
    ``SchemaWarning`` s become report rows; other warnings are emitted again
    once pandera is done, so the caller's filters still apply to them.
    ``warnings.catch_warnings`` is process-wide before Python 3.14, so
    validations in several threads take turns (a lock), and a warning another
    thread raises meanwhile may be recorded and re-emitted from this one.

    Examples
    --------
    >>> import pandas as pd
    >>> import pandera.pandas as pa
    >>> from mlkit.validation import validate
    >>> schema = pa.DataFrameSchema(
    ...     {
    ...         "price": pa.Column(float, pa.Check.gt(0)),
    ...         "qty": pa.Column(int, pa.Check.le(100, raise_warning=True)),
    ...         "sku": pa.Column(str),
    ...     }
    ... )
    >>> df = pd.DataFrame({"price": [9.5, -1.0], "qty": [1, 500]})
    >>> report = validate(df, schema)
    >>> report.passed, report.max_severity
    (False, 'critical')
    >>> report.to_frame()
      column                  check failure_case index  severity
    0    sku    column_in_dataframe          sku  None  critical
    1  price           greater_than         -1.0     1     error
    2    qty  less_than_or_equal_to          500     1   warning

    Keep a sample of the failure rows, and every count:

    >>> many = pd.DataFrame({"price": [-1.0] * 50, "qty": [1] * 50, "sku": ["a"] * 50})
    >>> sampled = validate(many, schema, max_failure_cases=3)
    >>> sampled.n_failures, len(sampled.to_frame()), sampled.sampled
    (50, 3, True)
    """
    schema = _as_schema(schema)
    if max_failure_cases is not None and (
        isinstance(max_failure_cases, bool)
        or not isinstance(max_failure_cases, int)
        or max_failure_cases < 0
    ):
        raise ConfigurationError(
            f"max_failure_cases must be an integer >= 0 or None, got {max_failure_cases!r}",
            value=max_failure_cases,
            expected="an integer >= 0 or None",
        )
    if not isinstance(df, pd.DataFrame) and (is_dask_frame(df) or is_chunks(df)):
        from mlkit.validation._scale import validate_pieces

        if not lazy:
            raise ConfigurationError(
                "validate: lazy=False cannot be used on a Dask frame or chunks, whose pieces "
                "are validated independently; use lazy=True",
                value=lazy,
                expected="lazy=True",
            )
        limit = _DEFAULT_SAMPLE if max_failure_cases is None else max_failure_cases
        return validate_pieces(df, schema, max_failure_cases=limit)
    _check_frame(df, schema)
    errors, schema_warnings = _run(_runnable(schema, lazy=lazy), df, lazy=lazy)
    blocks = [_block(err, schema) for err in errors]
    blocks.extend(_warning_block(message, schema) for message in schema_warnings)
    report = ValidationReport(n_rows=len(df), failures=_frame(blocks), lazy=lazy)
    if max_failure_cases is not None:
        report = sample_report(report, max_failure_cases)
    logger.debug(
        "validated %d rows against %s: %d failures, worst %s",
        len(df),
        schema.name or "a schema",
        report.n_failures,
        report.max_severity,
    )
    return report


def _as_schema(schema: object) -> pa.DataFrameSchema:
    if isinstance(schema, type) and issubclass(schema, pa.DataFrameModel):
        return schema.to_schema()
    if isinstance(schema, pa.DataFrameSchema):
        return schema
    raise ConfigurationError(
        f"schema must be a pandera.pandas.DataFrameSchema or DataFrameModel class, "
        f"got {type(schema).__name__}",
        value=type(schema).__name__,
        expected="pandera.pandas.DataFrameSchema",
    )


def _shown(labels: Any) -> str:
    labels = list(labels)
    text = ", ".join(repr(c) for c in labels[:_SHOWN_COLUMNS])
    return text + (f", ... ({len(labels)} in all)" if len(labels) > _SHOWN_COLUMNS else "")


def _check_frame(df: object, schema: pa.DataFrameSchema) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"validate needs a pandas DataFrame, got {type(df).__name__}",
            value=type(df).__name__,
            expected="pandas.DataFrame",
        )
    _check_columns(df, schema)
    if len(df) == 0:
        raise DataError(
            f"the frame is empty (0 rows, columns {_shown(df.columns)}): nothing to validate",
            value=0,
            expected="at least one row",
        )


def _check_columns(df: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    """Refuse duplicate column names and a frame sharing no column with ``schema``."""
    duplicated = df.columns[df.columns.duplicated()].unique()
    if len(duplicated):
        raise DataError(
            f"the frame has duplicate column names: {_shown(duplicated)}; "
            "each column must have a unique name to be validated",
            column=duplicated[0],
            value=list(duplicated),
            expected="unique column names",
        )
    if len(schema.columns) and not _shares_a_column(df, schema):
        raise DataError(
            f"the schema is for other columns: it expects {_shown(schema.columns)} and the "
            f"frame has {_shown(df.columns)}, none of them in common",
            value=list(df.columns[:_SHOWN_COLUMNS]),
            expected=list(schema.columns)[:_SHOWN_COLUMNS],
        )


def _shares_a_column(df: pd.DataFrame, schema: pa.DataFrameSchema) -> bool:
    names = [str(c) for c in df.columns]
    for key, column in schema.columns.items():
        if column.regex:
            if isinstance(key, str) and any(re.match(key, name) for name in names):
                return True
        elif key in df.columns:
            return True
    return False


def _components(schema: pa.DataFrameSchema) -> Iterator[Any]:
    yield schema
    yield from schema.columns.values()
    index = schema.index
    if isinstance(index, pa.MultiIndex):
        yield from index.indexes
    elif index is not None:
        yield index


def _runnable(schema: pa.DataFrameSchema, *, lazy: bool) -> pa.DataFrameSchema:
    """Return the schema to run: a copy when it warns or drops rows, else itself."""
    warns = lazy and any(c.raise_warning for part in _components(schema) for c in part.checks)
    if not warns and not schema.drop_invalid_rows:
        return schema
    run = copy.deepcopy(schema)
    # Dropping rows would hide their failures from the report.
    run.drop_invalid_rows = False
    if warns:
        for part in _components(run):
            for check in part.checks:
                if check.raise_warning:
                    check.raise_warning = False
                    setattr(check, _WARNING_MARK, True)
    return run


def _run(
    schema: pa.DataFrameSchema, df: pd.DataFrame, *, lazy: bool
) -> tuple[list[PanderaSchemaError], list[str]]:
    # catch_warnings swaps process-wide state: two overlapping validations
    # could restore each other's filters in the wrong order, so take turns.
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        # Under an "error" filter a warning inside a check would become a
        # failure of that check (pandera catches it); record every warning.
        warnings.simplefilter("always")
        try:
            schema.validate(df, lazy=lazy)
        except SchemaErrors as exc:
            errors = list(exc.schema_errors)
        except PanderaSchemaError as exc:
            errors = [exc]
        else:
            errors = []
    schema_warnings = []
    for caught_warning in caught:
        if issubclass(caught_warning.category, SchemaWarning):
            schema_warnings.append(str(caught_warning.message))
        else:
            warnings.warn_explicit(
                caught_warning.message,
                caught_warning.category,
                caught_warning.filename,
                caught_warning.lineno,
                source=caught_warning.source,
            )
    return errors, schema_warnings


def _names(err: PanderaSchemaError) -> tuple[str, str]:
    """Return the stable name and pandera's text of the failed check."""
    check = err.check
    if check is None:
        name = err.reason_code.name.lower() if err.reason_code is not None else "unknown"
        return name, name
    if isinstance(check, str):
        # "dtype('int64')" -> "dtype", "coerce_dtype('int64')" -> "coerce_dtype"
        found = re.match(r"[A-Za-z_]\w*", check)
        return (found.group(0) if found else check), check
    name = str(check.name) if check.name is not None else type(check).__name__
    return name, (str(check.error) if check.error is not None else name)


def _schema_key(schema: pa.DataFrameSchema, column: Any, context: str) -> Any:
    """Return the key of ``schema.columns`` whose metadata decides the severity."""
    if context not in ("Column", "DataFrameSchema") or column is None:
        return None
    if column in schema.columns:
        return column
    for key, component in schema.columns.items():
        if component.regex and isinstance(key, str) and re.match(key, str(column)):
            return key
    return column


def _repeat(value: Any, n: int) -> NDArray[np.object_]:
    out = np.empty(n, dtype=object)
    out.fill(value)  # fill, not np.full: a tuple label must stay one value
    return out


def _by_row(failures: pd.DataFrame) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Fold pandera's (column, index, failure_case) cells into one dict per failing row."""
    codes, uniques = pd.factorize(failures["index"], sort=False)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    # Python lists slice several times faster than object arrays, one slice per row.
    cells = list(
        zip(
            failures["column"].to_numpy(dtype=object)[order].tolist(),
            failures["failure_case"].to_numpy(dtype=object)[order].tolist(),
            strict=True,
        )
    )
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else codes
    ends = np.r_[starts[1:], len(codes)]
    rows = np.empty(len(starts), dtype=object)
    rows[:] = [dict(cells[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    # code -1 (a NaN label) picks the trailing None
    labels = np.concatenate([np.asarray(uniques, dtype=object), _repeat(None, 1)])
    return rows, labels[codes[starts]]


def _block(err: PanderaSchemaError, schema: pa.DataFrameSchema) -> _Block:
    name, detail = _names(err)
    context = type(err.schema).__name__
    found = err.failure_cases
    own_column = err.column_name if err.column_name is not None else err.schema.name
    if isinstance(found, pd.DataFrame):
        if context == "DataFrameSchema" and "column" in found.columns:
            column = None
            values, index = _by_row(found)
        else:
            column = own_column
            values = found["failure_case"].to_numpy(dtype=object)
            index = found["index"].to_numpy(dtype=object)
    else:
        if context == "DataFrameSchema":
            column = found if name in _COLUMN_PROBLEMS else None
        else:
            column = own_column
        if isinstance(found, (pd.Index, pd.Series, np.ndarray)):
            found = list(found)
        values, index = _repeat(found, 1), _repeat(None, 1)
    warned = bool(getattr(err.check, _WARNING_MARK, False))
    severity = severity_of(schema, _schema_key(schema, column, context), name, warning=warned)
    return _Block(
        column=column,
        check=name,
        detail=detail,
        check_number=err.check_index,
        context=context,
        severity=severity,
        values=values,
        index=index,
    )


def _warning_block(message: str, schema: pa.DataFrameSchema) -> _Block:
    """One row for a SchemaWarning pandera emitted instead of raising."""
    column: Any = None
    name, detail, number, context = "schema_warning", message, None, "DataFrameSchema"
    missing = _OPTIONAL_MISSING.match(message)
    failed = _FAILED.match(message)
    if missing:
        column = _label_of(missing["name"], schema)
        name, detail = "optional_column_missing", "column_in_dataframe"
        value: Any = column
    elif failed:
        context, detail, number = failed["context"], failed["detail"], int(failed["number"])
        check = _check_at(schema, context, failed["name"], number)
        if check is not None:
            name = str(check.name)
        column = _label_of(failed["name"], schema) if context == "Column" else None
        value = None
    else:
        value = message
    severity = severity_of(schema, _schema_key(schema, column, context), name, warning=True)
    return _Block(
        column=column,
        check=name,
        detail=detail,
        check_number=number,
        context=context,
        severity=severity,
        values=_repeat(value, 1),
        index=_repeat(None, 1),
    )


def _label_of(text: str, schema: pa.DataFrameSchema) -> Any:
    """Return the schema's column label whose str() is ``text`` (warnings carry text)."""
    return next((key for key in schema.columns if str(key) == text), text)


def _check_at(schema: pa.DataFrameSchema, context: str, name: str, number: int) -> Any:
    if context == "DataFrameSchema":
        checks = schema.checks
    elif context == "Column":
        key = _schema_key(schema, _label_of(name, schema), "Column")
        component = schema.columns.get(key)
        checks = component.checks if component is not None else []
    else:
        parts = [p for p in _components(schema) if str(getattr(p, "name", None)) == name]
        checks = parts[-1].checks if parts else []
    return checks[number] if number < len(checks) else None


def _frame(blocks: list[_Block]) -> pd.DataFrame:
    """Concatenate the blocks into the report's failure table (all object columns)."""
    sizes = [len(b.values) for b in blocks]

    def scalar(field: str) -> NDArray[np.object_]:
        parts = [_repeat(getattr(b, field), n) for b, n in zip(blocks, sizes, strict=True)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=object)

    def array(field: str) -> NDArray[np.object_]:
        parts = [getattr(b, field) for b in blocks]
        return np.concatenate(parts) if parts else np.empty(0, dtype=object)

    data = {
        "column": scalar("column"),
        "check": scalar("check"),
        "failure_case": array("values"),
        "index": array("index"),
        "severity": scalar("severity"),
        "detail": scalar("detail"),
        "check_number": scalar("check_number"),
        "context": scalar("context"),
    }
    # pandas 3 infers "str" for object arrays of text; the report keeps None as None.
    frame: pd.DataFrame = pd.DataFrame(
        {key: pd.Series(data[key], dtype=object) for key in DETAIL_COLUMNS}
    )
    return frame


def sample_report(report: ValidationReport, limit: int) -> ValidationReport:
    """Keep at most ``limit`` failure rows per (column, check, ...); keep every count."""
    failures = report.to_frame(detailed=True)
    position = failures.groupby(_GROUP_KEYS, dropna=False, sort=False).cumcount()
    kept = failures[position.to_numpy() < limit].reset_index(drop=True)
    exact = {
        (column, check, severity): int(n)
        for column, check, severity, n in report.counts().itertuples(index=False, name=None)
    }
    return ValidationReport(report.n_rows, kept, lazy=report.lazy, exact_counts=exact)
