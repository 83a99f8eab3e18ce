"""JSON output: any result with ``to_dict()``, written atomically, NaN as ``null``."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from mlkit._atomic import write_text
from mlkit.errors import ConfigurationError

__all__ = ["json_safe", "save_json"]


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN as None, infinities as ``"inf"``/``"-inf"``, numpy as Python.

    Mappings, lists, tuples and sets are converted recursively (sets sorted when
    possible); dates become ISO strings and paths strings.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, set | frozenset):
        items = list(value)
        try:
            items.sort()
        except TypeError:
            items.sort(key=repr)
        return [json_safe(v) for v in items]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    import numpy as np

    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return value.isoformat()
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return json_safe(value.to_dict())
    raise ConfigurationError(
        f"cannot write a {type(value).__name__} value to JSON: {value!r:.80}",
        value=type(value).__name__,
        expected="numbers, strings, lists, mappings or objects with to_dict()",
    )


def save_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write a result (anything with ``to_dict()``, or a mapping) as JSON, atomically.

    NaN becomes ``null`` and infinities the strings ``"inf"``/``"-inf"``, so the
    file is strict JSON that every parser reads.

    Parameters
    ----------
    obj
        A report such as :class:`~mlkit.drift.DriftReport` or
        :class:`~mlkit.validation.ValidationReport`, or a plain mapping.
    path
        The file to write (parent folders are created).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ConfigurationError
        If ``obj`` (or a value inside it) cannot be written as JSON.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from mlkit.reports import save_json
    >>> folder = tempfile.mkdtemp()
    >>> path = save_json({"share": float("nan"), "n": 3}, pathlib.Path(folder) / "r.json")
    >>> json.loads(path.read_text())
    {'share': None, 'n': 3}
    """
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        data = obj.to_dict()
    elif isinstance(obj, Mapping | list | tuple):
        data = obj
    else:
        raise ConfigurationError(
            f"save_json() needs an object with to_dict() or a mapping, got a {type(obj).__name__}",
            value=type(obj).__name__,
            expected="a report with to_dict(), or a mapping",
        )
    text = json.dumps(json_safe(data), indent=2, allow_nan=False, ensure_ascii=False)
    return write_text(path, text + "\n")
