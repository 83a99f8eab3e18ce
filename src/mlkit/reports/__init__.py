"""Reports: self-contained HTML and JSON rendering of drift, validation and test results.

One file per report, no network access needed to view it.
"""

__all__: list[str] = []
