"""Tracking secrets, idempotency keys and the digests of what residents send (ORM-free).

The secret of a tracking link is derived from the submission's idempotency key (a random UUID made when the
form was rendered) with an HMAC under the site's key: 24 bytes, URL-safe, as long as
``secrets.token_urlsafe(24)``. Deriving it, rather than drawing a fresh one, lets a double submit (the
browser shows the *second* response) present the same link again, although only the link's SHA-256 is
stored. Whoever does not know both the random key and the site's key cannot compute it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from django.utils.crypto import salted_hmac

from civicgrid.core import crypto

KEY_PREFIX = "web:"  # the channel's namespace inside Case.intake_key (unique across every channel)
_SECRET = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def new_form_key() -> str:
    """A fresh idempotency key for one rendering of the report form."""
    return str(uuid.uuid4())


def intake_key(form_key: str) -> str:
    return KEY_PREFIX + form_key


def secret_for(form_key: str) -> str:
    mac = salted_hmac("civicgrid.portal.tracking", form_key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_secret(value: str) -> bool:
    return bool(_SECRET.match(value))


def ip_digest(address: str) -> str:
    """A keyed digest of a network address (personal data): equal addresses give equal digests."""
    return crypto.digest("ip:" + (address or "unknown"))


def phone_digest(phone: str) -> str:
    """The same digest as Case.reporter_phone_digest, so a phone can be followed across both."""
    return crypto.digest(phone) if phone else ""
