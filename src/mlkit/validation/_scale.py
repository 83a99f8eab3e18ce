"""Validation and schema inference over a Dask frame or chunks: summarise pieces, merge.

:func:`mlkit.validation.validate` and :func:`mlkit.validation.infer_schema`
hand a Dask frame or a list of pandas chunks to this module. Each piece is
summarised where it lives (:func:`mlkit._frames.map_reduce`) and only the
summaries travel:

- validation: the pandas validation of the piece with its row checks,
  folded into exact counts and a bounded sample of failure rows per
  (column, check); problems of the schema (a missing column, a dtype) are
  kept once; ``unique`` columns and the schema's ``unique`` key become
  merged value counts, from which a second pass samples the duplicated rows;
- inference: per column, the counts, bounds, flags and (up to
  ``categorical_max + 1``) distinct values the pandas rules need.

Dask is never imported here: :mod:`mlkit._frames` imports it when given a
Dask frame.
"""

from __future__ import annotations

import copy
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pandera.pandas as pa

from mlkit._frames import is_dask_frame, map_reduce
from mlkit.errors import DataError
from mlkit.validation._report import ValidationReport
from mlkit.validation._severity import severity_of

__all__ = ["infer_schema_pieces", "validate_pieces"]

logger = logging.getLogger(__name__)

#: Checks whose verdict on a row depends on that row alone: safe to run per piece.
ROW_LOCAL_CHECKS = frozenset(
    {
        "equal_to",
        "not_equal_to",
        "greater_than",
        "greater_than_or_equal_to",
        "less_than",
        "less_than_or_equal_to",
        "in_range",
        "isin",
        "notin",
        "str_matches",
        "str_contains",
        "str_startswith",
        "str_endswith",
        "str_length",
        "mlkit_finite",
        "mlkit_integral",
        "mlkit_not_in_future",
    }
)

NOT_EVALUATED = "not_evaluated"

_KEY = ("column", "check", "severity", "detail", "check_number", "context")

# A group: (column, check, severity, detail, check_number, context).
GroupKey = tuple[Any, str, str, str, Any, str]


def is_chunks(data: object) -> bool:
    """Tell whether ``data`` is chunks: a non-empty list or tuple of frames, or an iterator.

    Other iterables (a list of numbers, a dict) are left to the caller's own
    "needs a DataFrame" error.
    """
    if isinstance(data, (list, tuple)):
        return bool(data) and all(isinstance(piece, pd.DataFrame) for piece in data)
    return isinstance(data, Iterator) and not isinstance(data, (str, bytes))


def _always(_: object) -> bool:
    """Stands in for a whole-frame check in a piece's schema, keeping check numbers."""
    return True


# ---------------------------------------------------------------------------
# validate


@attrs.define
class _Group:
    count: int
    values: list[Any]
    index: list[Any]


@attrs.define
class _Part:
    """What one piece (or several merged) says about the validation."""

    n_rows: int = 0
    groups: dict[GroupKey, _Group] = attrs.Factory(dict)
    # schema problems (no row index), deduplicated across pieces
    schema_rows: dict[tuple[GroupKey, str], Any] = attrs.Factory(dict)
    not_evaluated: dict[GroupKey, str] = attrs.Factory(dict)
    value_counts: dict[tuple[str, Any], pd.Series] = attrs.Factory(dict)


@attrs.frozen
class _UniqueSpec:
    """A ``unique`` column (kind "column") or the schema's unique key (kind "frame")."""

    kind: str
    label: Any  # the column label, or a tuple of key columns
    keep: str  # pandera's report_duplicates: "all", "exclude_first", "exclude_last"

    @property
    def columns(self) -> list[Any]:
        return list(self.label) if self.kind == "frame" else [self.label]


def _unique_specs(schema: pa.DataFrameSchema, columns: Iterable[Any]) -> list[_UniqueSpec]:
    present = list(columns)
    specs = []
    if schema.unique:
        key = [schema.unique] if isinstance(schema.unique, str) else list(schema.unique)
        specs.append(_UniqueSpec("frame", tuple(key), str(schema.report_duplicates)))
    for key, column in schema.columns.items():
        if not column.unique:
            continue
        labels = [c for c in present if re.match(str(key), str(c))] if column.regex else [key]
        specs.extend(_UniqueSpec("column", c, str(column.report_duplicates)) for c in labels)
    return specs


def _piece_schema(
    schema: pa.DataFrameSchema, piece: pd.DataFrame
) -> tuple[pa.DataFrameSchema, dict[GroupKey, str]]:
    """Return the schema to run on one piece, and the whole-frame checks it leaves out."""
    run = copy.deepcopy(schema)
    run.unique = None
    skipped: dict[GroupKey, str] = {}
    parts: list[tuple[Any, Any, str]] = [(run, None, "DataFrameSchema")]
    parts.extend((column, key, "Column") for key, column in run.columns.items())
    for part, key, context in parts:
        if context == "Column":
            part.unique = False
        for number, check in enumerate(part.checks):
            if check.element_wise or check.name in ROW_LOCAL_CHECKS:
                continue
            if context == "Column":
                if part.regex or key not in piece.columns:
                    continue
                target: Any = piece[key]
            else:
                target = piece
            try:
                output = check(target).check_output
            except Exception:  # pandera reports the error itself, row by row
                continue
            if isinstance(output, (pd.Series, pd.DataFrame)) and len(output) == len(target):
                continue
            name = str(check.name) if check.name is not None else type(check).__name__
            text = str(check.error) if check.error is not None else name
            where = f"column {key!r}" if context == "Column" else "the frame"
            reason = (
                f"{text} checks {where} as a whole (it returns one bool, not one per row), "
                "so it cannot be split into pieces: not evaluated; run it on a pandas frame "
                "or as an Expectation(..., dask=True)"
            )
            skipped[(key, NOT_EVALUATED, "warning", reason, number, context)] = name
            part.checks[number] = pa.Check(_always, name=check.name, error=check.error)
    _drop_index_uniqueness(run, skipped)
    return run, skipped


def _drop_index_uniqueness(run: pa.DataFrameSchema, skipped: dict[GroupKey, str]) -> None:
    """Leave index uniqueness out of a piece's schema and say so: a piece sees only its rows."""
    index: Any = run.index
    if index is None:
        return
    parts: list[Any] = [index, *index.indexes] if isinstance(index, pa.MultiIndex) else [index]
    for part in parts:
        if not getattr(part, "unique", None):
            continue
        part.unique = None if isinstance(part, pa.MultiIndex) else False
        label = getattr(part, "name", None)
        reason = (
            "the uniqueness of the index is not checked across pieces: each piece sees only "
            "its own rows; not evaluated, check it on a pandas frame"
        )
        key = (label, NOT_EVALUATED, "warning", reason, None, type(part).__name__)
        skipped[key] = "field_uniqueness"


def _value_counts(piece: pd.DataFrame, spec: _UniqueSpec) -> pd.Series | None:
    columns = spec.columns
    if any(c not in piece.columns for c in columns):
        return None
    return value_counts(piece, spec.label if spec.kind == "column" else list(columns))


def value_counts(piece: pd.DataFrame, key: Any) -> pd.Series:
    """Return the counts of the non-null values of one column or key of columns.

    Mergeable with :func:`merge_counts`; categorical values are plain objects
    so that pieces with other category sets merge.
    """
    counts = piece[key].value_counts(dropna=True, sort=False)
    found: pd.Series = counts[counts > 0]
    if isinstance(found.index, pd.CategoricalIndex):
        found.index = found.index.astype(object)
    return found


def merge_counts(a: pd.Series, b: pd.Series) -> pd.Series:
    """Add two :func:`value_counts` results."""
    both = pd.concat([a, b])
    merged: pd.Series = both.groupby(level=list(range(both.index.nlevels)), sort=False).sum()
    return merged


def _summarise_validation(
    piece: pd.DataFrame, schema: pa.DataFrameSchema, specs: list[_UniqueSpec], limit: int
) -> _Part:
    from mlkit.validation._validate import validate

    part = _Part(n_rows=len(piece))
    if len(piece) == 0:
        return part
    run, part.not_evaluated = _piece_schema(schema, piece)
    report = validate(piece, run)
    runs: tuple[Any, ...] = report._runs
    failures = report.to_frame(detailed=True)
    values = failures["failure_case"].to_numpy(dtype=object)
    index = failures["index"].to_numpy(dtype=object)
    numbers = failures["check_number"].to_numpy(dtype=object)
    contexts = failures["context"].to_numpy(dtype=object)
    # The report's runs are pandera's errors: one (column, check, ...) each.
    for run in runs:
        start, stop = run.start, run.start + run.size
        key: GroupKey = (
            run.column,
            run.check,
            run.severity,
            run.detail,
            numbers[start],
            contexts[start],
        )
        rows = [i for i in range(start, stop) if index[i] is not None]
        for i in range(start, stop):
            if index[i] is None:  # a schema problem: no row to count
                part.schema_rows.setdefault((key, repr(values[i])), values[i])
        if not rows:
            continue
        group = part.groups.get(key)
        if group is None:
            group = part.groups[key] = _Group(0, [], [])
        room = max(0, limit - len(group.values))
        group.count += len(rows)
        group.values.extend(values[i] for i in rows[:room])
        group.index.extend(index[i] for i in rows[:room])
    for spec in specs:
        counts = _value_counts(piece, spec)
        if counts is not None:
            part.value_counts[(spec.kind, spec.label)] = counts
    return part


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _merge_parts(a: _Part, b: _Part, limit: int) -> _Part:
    out = _Part(n_rows=a.n_rows + b.n_rows)
    out.groups = {k: _Group(g.count, list(g.values), list(g.index)) for k, g in a.groups.items()}
    for key, group in b.groups.items():
        mine = out.groups.get(key)
        if mine is None:
            out.groups[key] = _Group(group.count, list(group.values), list(group.index))
            continue
        room = max(0, limit - len(mine.values))
        mine.count += group.count
        mine.values.extend(group.values[:room])
        mine.index.extend(group.index[:room])
    out.schema_rows = {**a.schema_rows}
    for row_key, value in b.schema_rows.items():
        out.schema_rows.setdefault(row_key, value)
    out.not_evaluated = {**a.not_evaluated}
    for check_key, name in b.not_evaluated.items():
        out.not_evaluated.setdefault(check_key, name)
    out.value_counts = dict(a.value_counts)
    for spec_key, counts in b.value_counts.items():
        mine_counts = out.value_counts.get(spec_key)
        out.value_counts[spec_key] = (
            counts if mine_counts is None else merge_counts(mine_counts, counts)
        )
    return out


@attrs.define
class _Found:
    """Duplicated rows of one unique spec in some pieces: a sample, and the kept copies.

    With pandera's ``report_duplicates="exclude_first"`` (``"exclude_last"``)
    the first (last) copy of each value is not a failure. A piece cannot know
    whether its first copy is the first overall, so it keeps its first (last)
    copies aside in ``edges``, and the ordered merge reports those that an
    earlier (later) piece has seen too.
    """

    cases: list[Any] = attrs.Factory(list)
    labels: list[Any] = attrs.Factory(list)
    edges: list[tuple[Any, Any, Any]] = attrs.Factory(list)  # (key, case, label)
    seen: set[Any] = attrs.Factory(set)


def _duplicate_rows(
    piece: pd.DataFrame, duplicated: dict[_UniqueSpec, pd.Index], limit: int
) -> dict[_UniqueSpec, _Found]:
    """Return, per unique spec, up to ``limit`` duplicated rows (failure case, index label)."""
    found: dict[_UniqueSpec, _Found] = {}
    for spec, values in duplicated.items():
        columns = spec.columns
        if any(c not in piece.columns for c in columns) or len(piece) == 0:
            continue
        if spec.kind == "column":
            column = piece[spec.label]
            mask = column.isin(values).to_numpy() & column.notna().to_numpy()
            keys: list[Any] = column[mask].to_numpy(dtype=object).tolist()
            cases = list(keys)
        else:
            frame = piece[columns]
            complete = frame.notna().all(axis=1).to_numpy()
            mask = pd.MultiIndex.from_frame(frame).isin(values) & complete
            rows = frame[mask].to_numpy(dtype=object).tolist()
            keys = [tuple(row) for row in rows]
            cases = [dict(zip(columns, row, strict=True)) for row in rows]
        labels = piece.index[mask].tolist()
        out = _Found()
        if spec.keep == "all":
            out.cases, out.labels = cases[:limit], labels[:limit]
        else:
            edge = pd.Series(keys, dtype=object).duplicated(
                keep="first" if spec.keep == "exclude_first" else "last"
            )
            is_edge = (~edge.to_numpy()).tolist()
            out.edges = [
                (k, c, i) for k, c, i, e in zip(keys, cases, labels, is_edge, strict=True) if e
            ]
            reported = [(c, i) for c, i, e in zip(cases, labels, is_edge, strict=True) if not e]
            out.cases = [c for c, _ in reported[:limit]]
            out.labels = [i for _, i in reported[:limit]]
            out.seen = set(keys)
        found[spec] = out
    return found


def _merge_found(
    a: dict[_UniqueSpec, _Found], b: dict[_UniqueSpec, _Found], limit: int
) -> dict[_UniqueSpec, _Found]:
    out = dict(a)
    for spec, right in b.items():
        left = out.get(spec)
        if left is None:
            out[spec] = right
            continue
        if spec.keep == "exclude_first":
            # right's first copies of values left has seen are failures after all
            late = [(c, i) for k, c, i in right.edges if k in left.seen]
            pairs = [*zip(left.cases, left.labels, strict=True)]
            pairs += [*zip(right.cases, right.labels, strict=True), *late]
            edges = left.edges + [e for e in right.edges if e[0] not in left.seen]
        elif spec.keep == "exclude_last":
            early = [(c, i) for k, c, i in left.edges if k in right.seen]
            pairs = [*zip(left.cases, left.labels, strict=True), *early]
            pairs += [*zip(right.cases, right.labels, strict=True)]
            edges = [e for e in left.edges if e[0] not in right.seen] + right.edges
        else:
            pairs = [*zip(left.cases, left.labels, strict=True)]
            pairs += [*zip(right.cases, right.labels, strict=True)]
            edges = []
        out[spec] = _Found(
            [c for c, _ in pairs[:limit]],
            [i for _, i in pairs[:limit]],
            edges,
            left.seen | right.seen,
        )
    return out


def _pieces_of(data: Any) -> Any:
    """Return ``data`` so it can be read twice: a one-shot iterator is refused."""
    if is_dask_frame(data):
        return data
    if iter(data) is data:
        raise DataError(
            "validate: the chunks are a one-shot iterator, but validating reads them twice "
            "(once for the failures, once for the duplicated rows); pass a list of chunks "
            "or a Dask frame",
            value=type(data).__name__,
            expected="a list of pandas DataFrames or a dask.dataframe.DataFrame",
        )
    return data


def validate_pieces(
    data: Any, schema: pa.DataFrameSchema, *, max_failure_cases: int
) -> ValidationReport:
    """Validate a Dask frame or chunks piece by piece; see :func:`mlkit.validation.validate`."""
    from mlkit.validation._validate import _check_columns, _frame, _schema_key

    data = _pieces_of(data)
    limit = max_failure_cases
    if is_dask_frame(data):
        meta: pd.DataFrame = data._meta
        _check_columns(meta, schema)
        columns: list[Any] = list(meta.columns)
    else:
        columns = []
        for chunk in data:
            if isinstance(chunk, pd.DataFrame):
                columns = list(chunk.columns)
                break
    specs = _unique_specs(schema, columns)

    def summarise(piece: pd.DataFrame) -> _Part:
        return _summarise_validation(piece, schema, specs, limit)

    def merge(a: _Part, b: _Part) -> _Part:
        return _merge_parts(a, b, limit)

    part = map_reduce(data, summarise, merge, name="the data to validate")
    if part.n_rows == 0:
        raise DataError(
            f"the frame is empty (0 rows, columns {columns[:10]!r}): nothing to validate",
            value=0,
            expected="at least one row",
        )
    duplicated: dict[_UniqueSpec, pd.Index] = {}
    n_duplicated: dict[_UniqueSpec, int] = {}
    for spec in specs:
        counts = part.value_counts.get((spec.kind, spec.label))
        if counts is None:
            continue
        repeated = counts[counts > 1]
        if len(repeated):
            duplicated[spec] = repeated.index
            n = int(repeated.sum())
            n_duplicated[spec] = n if spec.keep == "all" else n - len(repeated)
    found: dict[_UniqueSpec, _Found] = {}
    if duplicated:
        found = map_reduce(
            data,
            lambda piece: _duplicate_rows(piece, duplicated, limit),
            lambda a, b: _merge_found(a, b, limit),
            name="the data to validate",
        )

    from mlkit.validation._validate import _Block

    def block(key: GroupKey, values: list[Any], index: list[Any]) -> _Block:
        column, check, severity, detail, number, context = key
        cases = np.empty(len(values), dtype=object)
        cases[:] = values if values else []
        labels = np.empty(len(index), dtype=object)
        labels[:] = index if index else []
        return _Block(column, check, detail, number, context, severity, cases, labels)

    exact: dict[tuple[Any, str, str], int] = {}
    blocks: list[_Block] = []

    def add(key: GroupKey, values: list[Any], index: list[Any], n: int) -> None:
        blocks.append(block(key, values, index))
        count_key = (key[0], key[1], key[2])
        exact[count_key] = exact.get(count_key, 0) + n

    for (key, _), value in part.schema_rows.items():
        add(key, [value], [None], 1)
    for key, name in part.not_evaluated.items():
        add(key, [name], [None], 1)
    unique_blocks: dict[Any, tuple[GroupKey, list[Any], list[Any], int]] = {}
    for spec, n in n_duplicated.items():
        sample = found.get(spec, _Found())
        values, index = sample.cases, sample.labels
        if spec.kind == "frame":
            name, column, context = "multiple_fields_uniqueness", None, "DataFrameSchema"
            severity = severity_of(schema, None, name)
        else:
            name, column, context = "field_uniqueness", spec.label, "Column"
            severity = severity_of(schema, _schema_key(schema, column, context), name)
        key = (column, name, severity, name, None, context)
        if spec.kind == "frame":
            add(key, values, index, n)
        else:
            unique_blocks[column] = (key, values, index, n)
    for key, group in part.groups.items():
        pending = unique_blocks.pop(key[0], None) if key[0] is not None else None
        if pending is not None:
            add(*pending)
        add(key, group.values, group.index, group.count)
    for pending in unique_blocks.values():
        add(*pending)
    report = ValidationReport(part.n_rows, _frame(blocks), lazy=True, exact_counts=exact)
    logger.debug(
        "validated %d rows in pieces: %d failures, %d rows kept, worst %s",
        part.n_rows,
        report.n_failures,
        len(blocks),
        report.max_severity,
    )
    return report


# ---------------------------------------------------------------------------
# infer_schema


# ---------------------------------------------------------------------------
# infer_schema


@attrs.define
class _Column:
    """Mergeable statistics of one column, enough for the rules of ``infer_schema``."""

    n: int = 0
    n_null: int = 0
    n_str: int = 0  # non-null values that are str (object columns)
    distinct: list[Any] | None = attrs.Factory(list)  # None once over the limit
    lo: Any = None  # int / time: min; float: finite min
    hi: Any = None
    pos_inf: bool = False
    neg_inf: bool = False
    whole: bool = True  # every finite non-null float is a whole number
    keys: Any = None  # the values, while they might all be distinct (unique candidates)
    distinct_so_far: bool = True


@attrs.define
class _Frame:
    meta: pd.DataFrame
    n_rows: int = 0
    columns: dict[Any, _Column] = attrs.Factory(dict)
    range_index: bool = True
    index_nulls: list[bool] = attrs.Factory(list)


def _kind(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if pd.api.types.is_object_dtype(dtype):
        return "object"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "time"
    return "other"


def _ordered_union(a: list[Any] | None, b: list[Any] | None, cap: int) -> list[Any] | None:
    if a is None or b is None:
        return None
    merged = list(dict.fromkeys([*a, *b]))
    return merged if len(merged) <= cap else None


def _summarise_column(series: pd.Series, cap: int, track_unique: bool) -> _Column:
    from mlkit.validation._infer import _plain

    values = series.dropna()
    kind = _kind(series.dtype)
    stats = _Column(n=len(series), n_null=len(series) - len(values))
    if kind == "object":
        stats.n_str = int(sum(isinstance(v, str) for v in values))
    if kind in ("category", "string", "object", "bool"):
        found = list(dict.fromkeys(_plain(v) for v in pd.unique(values)))
        stats.distinct = found if len(found) <= cap else None
    if len(values) and kind in ("int", "time"):
        stats.lo, stats.hi = values.min(), values.max()
    if len(values) and kind == "float":
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = array[np.isfinite(array)]
        if finite.size:
            stats.lo, stats.hi = float(finite.min()), float(finite.max())
        stats.pos_inf = bool(np.any(array == np.inf))
        stats.neg_inf = bool(np.any(array == -np.inf))
        stats.whole = bool((np.floor(finite) == finite).all())
    if track_unique and kind in ("int", "string", "object") and stats.n_null == 0:
        stats.keys = values.to_numpy()
        stats.distinct_so_far = bool(values.is_unique)
    else:
        stats.distinct_so_far = False
    return stats


def _pick(a: Any, b: Any, better: Callable[[Any, Any], bool]) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return b if better(b, a) else a


def _merge_column(a: _Column, b: _Column, cap: int) -> _Column:
    out = _Column(
        n=a.n + b.n,
        n_null=a.n_null + b.n_null,
        n_str=a.n_str + b.n_str,
        distinct=_ordered_union(a.distinct, b.distinct, cap),
        lo=_pick(a.lo, b.lo, lambda x, y: x < y),
        hi=_pick(a.hi, b.hi, lambda x, y: x > y),
        pos_inf=a.pos_inf or b.pos_inf,
        neg_inf=a.neg_inf or b.neg_inf,
        whole=a.whole and b.whole,
    )
    out.distinct_so_far = a.distinct_so_far and b.distinct_so_far
    if out.distinct_so_far:
        keys = np.concatenate([a.keys, b.keys])
        out.distinct_so_far = bool(pd.Index(keys).is_unique)
        out.keys = keys if out.distinct_so_far else None
    return out


def _summarise_frame(piece: pd.DataFrame, cap: int, track_unique: bool) -> _Frame:
    out = _Frame(meta=piece.iloc[:0], n_rows=len(piece))
    for name in piece.columns:
        out.columns[name] = _summarise_column(piece[name], cap, track_unique)
    out.range_index = isinstance(piece.index, pd.RangeIndex)
    index = piece.index
    levels = (
        [index.get_level_values(i) for i in range(index.nlevels)]
        if isinstance(index, pd.MultiIndex)
        else [index]
    )
    out.index_nulls = [bool(level.isna().any()) for level in levels]
    return out


def _merge_frames(a: _Frame, b: _Frame, cap: int) -> _Frame:
    out = _Frame(meta=a.meta, n_rows=a.n_rows + b.n_rows)
    for name, stats in a.columns.items():
        other = b.columns.get(name)
        out.columns[name] = stats if other is None else _merge_column(stats, other, cap)
    out.range_index = a.range_index and b.range_index
    out.index_nulls = [x or y for x, y in zip(a.index_nulls, b.index_nulls, strict=False)]
    return out


def _checks_from_stats(
    dtype: Any, stats: _Column, *, categorical_max: int, range_margin: float
) -> list[pa.Check]:
    from mlkit.validation._checks import mlkit_finite, mlkit_integral
    from mlkit.validation._infer import _float_range, _integer_range, _time_range

    if stats.n == stats.n_null:
        return []
    kind = _kind(dtype)
    string_like = kind == "string" or (kind == "object" and stats.n_str == stats.n - stats.n_null)
    if kind == "category" or string_like:
        if stats.distinct is None:
            return []
        allowed = _sorted(stats.distinct)
        return [pa.Check.isin(allowed)] if len(allowed) <= categorical_max else []
    if kind == "bool":
        allowed = _sorted(stats.distinct or [])
        return [pa.Check.isin(allowed)] if stats.distinct is not None and len(allowed) == 1 else []
    if kind == "int":
        lo, hi = _integer_range(pd.Series([stats.lo, stats.hi], dtype=dtype), range_margin)
        return [pa.Check.in_range(lo, hi)]
    if kind == "float":
        checks: list[pa.Check] = []
        synthetic = [v for v in (stats.lo, stats.hi) if v is not None]
        synthetic += [math.inf] * stats.pos_inf + [-math.inf] * stats.neg_inf
        bounds = _float_range(pd.Series(synthetic, dtype=np.float64), range_margin)
        if bounds is not None:
            checks.append(pa.Check.in_range(*bounds))
        finite = not (stats.pos_inf or stats.neg_inf)
        if finite:
            checks.append(mlkit_finite())
        if finite and stats.n_null > 0 and stats.whole:
            checks.append(mlkit_integral())
        return checks
    if kind == "time":
        bounds_t = _time_range(pd.Series([stats.lo, stats.hi], dtype=dtype), range_margin)
        return [] if bounds_t is None else [pa.Check.in_range(*bounds_t)]
    return []


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types keep their order of appearance
        return list(values)


def infer_schema_pieces(
    data: Any,
    *,
    categorical_max: int,
    range_margin: float,
    nullable: str,
    unique: str,
    strict: bool,
    coerce_floats: bool,
) -> pa.DataFrameSchema:
    """Infer a schema from a Dask frame or chunks; see :func:`mlkit.validation.infer_schema`."""
    from mlkit.validation._infer import MIN_ROWS_FOR_UNIQUE, _check_reference, _dtype_of

    if is_dask_frame(data):
        # Column names and dtypes come from the meta: refuse what pandas refuses.
        _check_reference(_one_row(data._meta.columns, 1))
    cap = categorical_max + 1
    track_unique = unique == "observed"
    frame = map_reduce(
        data,
        lambda piece: _summarise_frame(piece, cap, track_unique),
        lambda a, b: _merge_frames(a, b, cap),
        name="reference_df",
    )
    _check_reference(_one_row(frame.meta.columns, min(frame.n_rows, 1)))
    columns: dict[Any, pa.Column] = {}
    for name, stats in frame.columns.items():
        dtype = frame.meta[name].dtype
        kind = _kind(dtype)
        string_like = (
            kind == "object" and stats.n_str > 0 and stats.n_str == stats.n - stats.n_null
        )
        sample = pd.Series(["x"] if string_like else [], dtype=dtype, name=name)
        has_nulls = stats.n_null > 0
        columns[name] = pa.Column(
            _dtype_of(sample),
            checks=_checks_from_stats(
                dtype, stats, categorical_max=categorical_max, range_margin=range_margin
            ),
            nullable={"observed": has_nulls, "always": True, "never": False}[nullable],
            unique=(
                track_unique
                and frame.n_rows >= MIN_ROWS_FOR_UNIQUE
                and not has_nulls
                and (kind in ("int", "string") or string_like)
                and stats.distinct_so_far
            ),
            coerce=coerce_floats and pd.api.types.is_float_dtype(dtype),
            name=name,
        )
    schema = pa.DataFrameSchema(columns, index=_index_schema(frame), strict=strict, coerce=False)
    logger.debug("infer_schema: %d columns from %d rows in pieces", len(columns), frame.n_rows)
    return schema


def _one_row(columns: pd.Index, n_rows: int) -> pd.DataFrame:
    """Return a stand-in with these columns and ``n_rows`` rows, for the reference checks."""
    stand_in: pd.DataFrame = pd.DataFrame(index=range(n_rows), columns=columns)
    return stand_in


def _index_schema(frame: _Frame) -> pa.Index | pa.MultiIndex | None:
    from mlkit.validation._infer import _dtype_of

    if frame.range_index:
        return None
    index = frame.meta.index
    levels = (
        [index.get_level_values(i) for i in range(index.nlevels)]
        if isinstance(index, pd.MultiIndex)
        else [index]
    )
    components = [
        pa.Index(_dtype_of(pd.Series(level, name=level.name)), nullable=nulls, name=level.name)
        for level, nulls in zip(levels, frame.index_nulls, strict=False)
    ]
    if len(components) == 1:
        return components[0]
    return pa.MultiIndex(components)
