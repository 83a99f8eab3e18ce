"""Result objects of the drift kernels: one value per column, scipy-style names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CategoricalResult", "StatResult"]


def _json_float(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


@attrs.frozen(eq=False, repr=False)
class StatResult:
    """One statistic per column, as returned by every drift kernel.

    Attributes
    ----------
    statistic
        ``(n_columns,)`` float64: the statistic of each column (NaN where a
        column could not be tested, for example under ``nan_policy="propagate"``).
    pvalue
        ``(n_columns,)`` float64: the p-value of each column; all NaN for
        distances that have none (PSI, Wasserstein, Jensen-Shannon, ...).
    n_reference, n_current
        ``(n_columns,)`` int64: the non-missing values used from each sample.
    columns
        The column names, ``("column 0", ...)`` when none were given.
    name
        The statistic's short name, for example ``"ks"`` or ``"psi"``.
    """

    statistic: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    n_reference: NDArray[np.int64]
    n_current: NDArray[np.int64]
    columns: tuple[str, ...]
    name: str

    def _records(self) -> dict[str, Any]:
        return {
            "column": list(self.columns),
            "test": [self.name] * len(self.columns),
            "statistic": self.statistic,
            "p_value": self.pvalue,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy frame, one row per column."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame(self._records())
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: ``{"test": name, "columns": [{...}, ...]}`` (NaN as None)."""
        rows = []
        for j, column in enumerate(self.columns):
            row: dict[str, Any] = {
                "column": column,
                "statistic": _json_float(self.statistic[j]),
                "p_value": _json_float(self.pvalue[j]),
                "n_reference": int(self.n_reference[j]),
                "n_current": int(self.n_current[j]),
            }
            row.update(self._extra_json(j))
            rows.append(row)
        return {"test": self.name, "columns": rows}

    def _extra_json(self, j: int) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        k = len(self.columns)
        shown = ", ".join(
            f"{c}={s:.4g}" for c, s in zip(self.columns[:3], self.statistic[:3], strict=False)
        )
        more = f", ... ({k} columns)" if k > 3 else ""
        return f"{type(self).__name__}({self.name}: {shown}{more})"


@attrs.frozen(eq=False, repr=False)
class CategoricalResult(StatResult):
    """A :class:`StatResult` of a categorical test, with unseen categories counted.

    Attributes
    ----------
    unseen
        ``(n_columns,)`` int64: values in the current sample whose category
        never occurs in the reference.
    """

    unseen: NDArray[np.int64] = attrs.field(kw_only=True)

    def _records(self) -> dict[str, Any]:
        records = super()._records()
        records["unseen_categories"] = self.unseen
        return records

    def _extra_json(self, j: int) -> dict[str, Any]:
        return {"unseen_categories": int(self.unseen[j])}
