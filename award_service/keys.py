"""The keys the stored data depends on, which live outside the database.

A backup holds the database, never these keys; its manifest names each key the
data needs by a fingerprint, and a restore refuses a configuration that lacks
one or holds another.  A part that adds such a key (the data-encryption key of
personal data, the credential-signing key) registers it here with
:func:`register`, from its own module: this core module knows no feature.

A fingerprint is an HMAC-SHA-256 of a fixed label keyed by the key, cut to 64
bits: the same key always gives the same fingerprint, and the fingerprint says
nothing about the key (finding a key from it means guessing the key).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

FINGERPRINT_LABEL = b"award-service key fingerprint v1"
FINGERPRINT_PREFIX = "hmac-sha256:"


def _as_bytes(value: object) -> bytes | None:
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


@dataclass(frozen=True)
class DataKey:
    """One key the stored data depends on.

    ``config``: the configuration variable that holds it.  ``protects``: what
    it signs or encrypts, for the operator who reads a refusal.  ``replaceable``:
    a restore may go on under a new key when the operator says so, because
    nothing stored becomes unreadable (only signatures of the moment are lost);
    a key that encrypts or signs stored data is never replaceable.
    """

    name: str
    config: str
    protects: str
    replaceable: bool = False
    # How to read the key's bytes from the configuration (a key ring may keep several).
    read: Callable[[Mapping[str, Any]], bytes | None] | None = field(default=None, compare=False)

    def value(self, config: Mapping[str, Any]) -> bytes | None:
        if self.read is not None:
            return self.read(config)
        return _as_bytes(config.get(self.config))


_REGISTRY: dict[str, DataKey] = {}


def register(key: DataKey) -> DataKey:
    """Add a key the data depends on (once per name; the same definition again is a no-op)."""
    known = _REGISTRY.get(key.name)
    if known is not None and known != key:
        raise ValueError(f"a different key named {key.name!r} is registered already")
    _REGISTRY[key.name] = key
    return key


def registered() -> tuple[DataKey, ...]:
    return tuple(_REGISTRY[name] for name in sorted(_REGISTRY))


def fingerprint(value: bytes) -> str:
    """The key's one-way fingerprint, e.g. ``hmac-sha256:3f9a0c51d2e4b877``."""
    digest = hmac.new(value, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()
    return FINGERPRINT_PREFIX + digest[:16]


def fingerprint_of(config: Mapping[str, Any], config_name: str) -> str | None:
    """The fingerprint of the key in ``config[config_name]``; None when it is not set."""
    for key in _REGISTRY.values():
        if key.config == config_name:
            value = key.value(config)
            break
    else:
        value = _as_bytes(config.get(config_name))
    return fingerprint(value) if value is not None else None


SECRET_KEY = register(
    DataKey(
        name="secret_key",
        config="SECRET_KEY",
        protects=(
            "signs session cookies and form (CSRF) tokens, and keys the hash of e-mail addresses "
            "in the lost-link resend window; verification codes and ticket tokens are random, not signed"
        ),
        replaceable=True,
    )
)
