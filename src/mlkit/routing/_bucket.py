"""Stable request bucketing: the same key lands in the same bucket in every process.

Python's :func:`hash` is salted per process, so two workers behind one load
balancer would route the same user differently. A keyed BLAKE2b digest is the
same everywhere, costs well under a microsecond for a short key, and spreads
keys uniformly enough that the share of keys under a threshold matches the
weight to within sampling noise.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Any

from mlkit.errors import ConfigurationError

__all__ = ["bucket", "in_rollout"]

DEFAULT_BUCKETS = 10_000
# BLAKE2b accepts a key of at most 64 bytes; longer salts are hashed down to it.
_MAX_KEY = 64


def _salt_bytes(salt: str | bytes) -> bytes:
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    elif not isinstance(salt, bytes):
        raise ConfigurationError(
            f"salt must be str or bytes, got {type(salt).__name__} {salt!r}",
            column="salt",
            value=salt,
            expected="str or bytes",
        )
    if len(salt) > _MAX_KEY:
        salt = hashlib.blake2b(salt, digest_size=_MAX_KEY).digest()
    return salt


@functools.lru_cache(maxsize=256)
def _hasher(salt: str | bytes) -> Any:
    # Keying BLAKE2b hashes a whole block for the key; copying a keyed hasher
    # skips that, which is most of the cost for short request keys.
    return hashlib.blake2b(digest_size=8, key=_salt_bytes(salt))


def key_bytes(key: Any) -> bytes:
    r"""Return the bytes hashed for ``key``: bytes as-is, anything else ``str(key)`` in UTF-8.

    ``1`` and ``"1"`` therefore share a bucket.

    Examples
    --------
    >>> key_bytes("user-1"), key_bytes(b"\x00"), key_bytes(7)
    (b'user-1', b'\x00', b'7')
    """
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    return str(key).encode("utf-8")


def check_buckets(buckets: Any) -> int:
    """Return ``buckets`` if it is a positive int, else raise ConfigurationError."""
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ConfigurationError(
            f"buckets must be a positive int, got {buckets!r}",
            column="buckets",
            value=buckets,
            expected="an int >= 1",
        )
    return buckets


def check_weight(weight: Any, name: str = "weight") -> float:
    """Return ``weight`` as a float if it is a number in [0, 1], else raise ConfigurationError."""
    ok = isinstance(weight, (int, float)) and not isinstance(weight, bool)
    if not ok or not math.isfinite(weight) or not 0.0 <= weight <= 1.0:
        raise ConfigurationError(
            f"{name} must be a number in [0, 1], got {weight!r}",
            column=name,
            value=weight,
            expected="a number in [0, 1]",
        )
    return float(weight)


def bucket(key: Any, *, salt: str | bytes, buckets: int = DEFAULT_BUCKETS) -> int:
    """Return the bucket of ``key`` in ``range(buckets)``, the same in every process.

    Parameters
    ----------
    key
        The routing key (user id, request id, ...). Bytes are hashed as they
        are, anything else as ``str(key)`` in UTF-8.
    salt
        Separates experiments: the same key lands in independent buckets under
        different salts. Give nested routers different salts.
    buckets
        The number of buckets.

    Returns
    -------
    int
        ``blake2b(key_bytes, digest_size=8, key=salt)`` read as a little-endian
        integer, modulo ``buckets``.

    Examples
    --------
    >>> from mlkit.routing import bucket
    >>> b = bucket("user-42", salt="checkout-v2")
    >>> 0 <= b < 10_000
    True
    >>> b == bucket("user-42", salt="checkout-v2")
    True
    """
    check_buckets(buckets)
    h = _hasher(salt).copy()
    h.update(key_bytes(key))
    return int.from_bytes(h.digest(), "little") % buckets


def in_rollout(
    key: Any, weight: float, *, salt: str | bytes, buckets: int = DEFAULT_BUCKETS
) -> bool:
    """Return whether ``key`` falls in a rollout of share ``weight``.

    A key is in when its bucket is below ``round(weight * buckets)``, so raising
    the weight only adds keys: every key already in stays in.

    Parameters
    ----------
    key
        The routing key.
    weight
        The share of keys in the rollout, in [0, 1].
    salt
        As for :func:`bucket`.
    buckets
        As for :func:`bucket`.

    Returns
    -------
    bool
        True when the key is in the rollout.

    Examples
    --------
    >>> from mlkit.routing import in_rollout
    >>> in_rollout("user-42", 0.0, salt="s"), in_rollout("user-42", 1.0, salt="s")
    (False, True)
    >>> keys = [f"user-{i}" for i in range(2_000)]
    >>> small = {k for k in keys if in_rollout(k, 0.05, salt="s")}
    >>> large = {k for k in keys if in_rollout(k, 0.20, salt="s")}
    >>> small <= large
    True
    """
    weight = check_weight(weight)
    return bucket(key, salt=salt, buckets=buckets) < round(weight * buckets)
