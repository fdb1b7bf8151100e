"""Encryption at rest for personal data, and a keyed digest to find rows by an encrypted value.

Keys come from settings.FIELD_ENCRYPTION_KEYS (Fernet keys; the first encrypts, all decrypt, so keys
rotate without downtime). Without configured keys they are derived from SECRET_KEY, which is acceptable
only in embedded mode; docs/operations.md says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _derive(purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"civicgrid", info=purpose)
    return hkdf.derive(settings.SECRET_KEY.encode())


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS) or [
        base64.urlsafe_b64encode(_derive(b"field-encryption")).decode()
    ]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY holds a key that is not a Fernet key: {exc}"
        ) from None


@cache
def _digest_key() -> bytes:
    # The digest key is derived from the first encryption key, so rotating the encryption key keeps
    # old digests only until the re-encryption command has run (see docs/operations.md).
    first = (
        settings.FIELD_ENCRYPTION_KEYS[0].encode() if settings.FIELD_ENCRYPTION_KEYS else _derive(b"digest")
    )
    return hashlib.sha256(b"civicgrid-digest:" + first).digest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "an encrypted value cannot be decrypted with the configured keys"
        ) from None


def digest(value: str) -> str:
    """HMAC-SHA256 of a normalised value: equal inputs give equal digests, usable in an index."""
    normalised = "".join(value.split())
    return hmac.new(_digest_key(), normalised.encode(), hashlib.sha256).hexdigest()


def reset_caches() -> None:
    """For tests that change the keys."""
    _fernet.cache_clear()
    _digest_key.cache_clear()
