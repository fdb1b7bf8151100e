"""API tokens for staff apps: issue and revoke (actions), and the two ways the JSON API authenticates.

A token is ``cg_`` + 43 URL-safe characters (256 random bits). Only its SHA-256 digest is stored, so a
leaked database does not leak usable tokens; the secret is shown once, by ``do_issue_api_token`` (and the
``issue_api_token`` command). Plain SHA-256 is enough here: the secret is random, not a password, so
there is nothing to guess slowly, and a fast digest keeps the per-request lookup cheap.

The API (civicgrid/api.py) accepts, in this order:
- ``TokenAuth``: ``Authorization: Bearer cg_…``. A request that sends a bearer token is judged by that
  token alone: a bad one is a 401 even if the browser also holds a session.
- ``SessionAuth``: the browser's Django session, with Django's CSRF check on unsafe methods.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from civicgrid.accounts import permissions
from civicgrid.accounts.models import ApiToken, User
from civicgrid.lib import clock, sqlrows

TOKEN_PREFIX = "cg_"
# last_used_at is for people ("is this token still in use?"), so minute precision is plenty and a busy
# app does not turn every API read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 128


class InvalidTokenError(AuthenticationError):
    """A bearer token was sent but is unknown, revoked or expired, or its user was deactivated."""

    def __init__(self) -> None:
        super().__init__(401, _("The API token is invalid, expired or revoked."))


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_may_manage(actor: User | None, user: User) -> None:
    """The user themselves, a superuser, or an administrator over every jurisdiction where the user holds a
    grant (the rule of accounts.actions.do_update_staff); None is the system (the command)."""
    if actor is None or actor.pk == user.pk or actor.is_superuser:
        return
    paths = list(user.grants.values_list("jurisdiction__path", flat=True))
    if not paths or not all(permissions.can_administer_path(actor, path) for path in paths):
        raise PermissionDenied(_("You may only manage API tokens of staff within your own jurisdiction."))


@transaction.atomic
def do_issue_api_token(
    user: User, *, name: str, expires_at: datetime | None = None, actor: User | None
) -> tuple[ApiToken, str]:
    """A new token for ``user``: returns the row and the secret, which is not stored and cannot be shown
    again."""
    _require_may_manage(actor, user)
    name = (name or "").strip()
    now = clock.now()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 64:
        errors["name"] = [_("At most %(n)s characters, this has %(m)s.") % {"n": 64, "m": len(name)}]
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = [_("The expiry must lie in the future.")]
    if not user.is_active:
        errors["user"] = [_("This account is deactivated.")]
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_digest=token_digest(secret),
        prefix=secret[:8],
        created_at=now,
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: User | None) -> ApiToken:
    """Revoke a token at once (the next request with it is a 401). Revoking twice keeps the first time."""
    _require_may_manage(actor, token.user)
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = clock.now()
        locked.save(update_fields=["revoked_at"])
    token.revoked_at = locked.revoked_at
    return locked


def note_token_used(token: ApiToken, *, at: datetime) -> None:
    """Record the use at most once per TOUCH_INTERVAL. The check on the row we read avoids the write in the
    common case; the conditional UPDATE keeps concurrent requests from writing it more than once."""
    if token.last_used_at is not None and at - token.last_used_at < TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - TOUCH_INTERVAL)
    ).update(last_used_at=at)


def user_for_token(secret: str) -> User | None:
    """The active user a valid secret stands for (None: unknown, revoked, expired or deactivated)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > _MAX_TOKEN_LENGTH:
        return None
    token = _token_with_user(token_digest(secret))
    now = clock.now()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    note_token_used(token, at=now)
    return token.user


def _token_with_user(digest: str) -> ApiToken | None:
    """The token with this digest and its user, in one hand-written query; on PostgreSQL the user's grants
    come in the same query, so the request's permission scope costs no round trip of its own (every API
    request asks; the ORM would spend longer building these queries than PostgreSQL spends answering)."""
    with sqlrows.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ApiToken._meta.concrete_fields)
    token = sqlrows.from_row(ApiToken, row[:width])
    user_width = len(sqlrows.read_fields(User, _USER_DEFER))
    user = sqlrows.from_row(User, row[width : width + user_width], defer=_USER_DEFER)
    token.user = user
    if connection.vendor == "postgresql":
        grants = row[width + user_width]
        if isinstance(grants, str):
            grants = json.loads(grants)
        permissions.remember_scope(user, [(str(r), str(p), u) for r, p, u in grants or []])
    return token


# Personal data the request's user object does not need up front (decrypting costs more than the query).
_USER_DEFER = frozenset({"phone"})


@lru_cache(maxsize=2)
def _token_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    users = sqlrows.select_columns(User, "u", _USER_DEFER)
    grants = ""
    if vendor == "postgresql":
        grants = (
            ", (SELECT coalesce(json_agg(json_build_array(x.role, x.path, x.unit_id)), '[]'::json) "
            f"FROM ({permissions.grants_sql('u.id')}) x)"
        )
    return (
        f"SELECT {sqlrows.select_columns(ApiToken, 't')}, {users}{grants} "
        f"FROM {q(ApiToken._meta.db_table)} t JOIN {q(User._meta.db_table)} u ON u.id = t.user_id "
        "WHERE t.key_digest = %s"
    )


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cg_…``. Tokens travel in a header browsers never add on their own, so these
    requests need no CSRF token."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = user_for_token(token.strip())
        if user is None:
            # Raise rather than return None: falling through to the session would let a stale token in a
            # script silently act as whoever is logged in in the same browser.
            raise InvalidTokenError
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """django-ninja's session auth (``django_auth``), which runs Django's CSRF check on unsafe methods, but
    only once a session has actually authenticated someone: a request with no session gets the 401 it
    deserves instead of a CSRF 403, and a logged-in browser still needs its CSRF token to change anything."""

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


__all__ = [
    "TOKEN_PREFIX",
    "InvalidTokenError",
    "SessionAuth",
    "TokenAuth",
    "do_issue_api_token",
    "do_revoke_api_token",
    "note_token_used",
    "token_digest",
    "user_for_token",
]
