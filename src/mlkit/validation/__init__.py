"""Validation: schemas inferred from reference data, expectations with severities, quality reports.

Builds on pandera: ``infer_schema`` learns dtypes, ranges, categories and
nullability from reference data; expectations add whole-frame checks with
severities; a data quality monitor runs both and keeps a bounded history.
"""

__all__: list[str] = []
