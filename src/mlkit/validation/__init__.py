"""Validation: schemas inferred from reference data, expectations with severities, quality reports.

Builds on pandera: ``infer_schema`` learns dtypes, ranges, categories and
nullability from reference data; expectations add whole-frame checks with
severities; a data quality monitor runs both and keeps a bounded history.
"""

from mlkit.validation._checks import (
    MLKIT_CHECKS,
    ScalarCheck,
    mlkit_finite,
    mlkit_integral,
    mlkit_not_in_future,
)
from mlkit.validation._decorators import validate_input, validate_output
from mlkit.validation._expectations import (
    Expectation,
    ExpectationResult,
    expect_column_mean_between,
    expect_column_stat_between,
    expect_columns,
    expect_fresh,
    expect_null_share_below,
    expect_row_count_between,
    expect_share_between,
    expect_unique,
    expect_values_in,
)
from mlkit.validation._infer import infer_schema
from mlkit.validation._io import load_schema, save_schema, schema_from_dict, schema_to_dict
from mlkit.validation._monitor import DataQualityMonitor, QualityReport
from mlkit.validation._record import RecordFailure, RecordResult, RecordValidator, validate_record
from mlkit.validation._report import ValidationReport
from mlkit.validation._severity import SEVERITIES, max_severity, severity_of, with_severity
from mlkit.validation._validate import validate

__all__ = [
    "DataQualityMonitor",
    "Expectation",
    "ExpectationResult",
    "MLKIT_CHECKS",
    "QualityReport",
    "RecordFailure",
    "RecordResult",
    "RecordValidator",
    "SEVERITIES",
    "ScalarCheck",
    "ValidationReport",
    "expect_column_mean_between",
    "expect_column_stat_between",
    "expect_columns",
    "expect_fresh",
    "expect_null_share_below",
    "expect_row_count_between",
    "expect_share_between",
    "expect_unique",
    "expect_values_in",
    "infer_schema",
    "load_schema",
    "max_severity",
    "mlkit_finite",
    "mlkit_integral",
    "mlkit_not_in_future",
    "save_schema",
    "schema_from_dict",
    "schema_to_dict",
    "severity_of",
    "validate",
    "validate_input",
    "validate_output",
    "validate_record",
    "with_severity",
]
