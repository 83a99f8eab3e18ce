"""Import optional dependencies with an error that names the extra to install."""

from __future__ import annotations

from typing import Any

from mlkit.errors import MissingDependencyError


def require(module: str, extra: str, feature: str) -> Any:
    """Import and return ``module``, or raise :class:`MissingDependencyError` naming the extra.

    Parameters
    ----------
    module
        The module to import, e.g. ``"matplotlib"``.
    extra
        The mlkit extra that provides it, e.g. ``"report"``.
    feature
        What needs it, for the message, e.g. ``"HTML reports"``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} need {module!r}, which is not installed; "
            f"install it with: pip install 'mlkit[{extra}]'",
            value=module,
            expected=f"the {extra!r} extra installed",
        ) from exc
