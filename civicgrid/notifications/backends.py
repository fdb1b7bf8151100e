"""How a notification leaves the system, one backend per channel (settings.NOTIFICATION_BACKENDS).

A backend's ``send`` returns when the message was handed over and raises when it was not; the worker
then retries with back-off. ``UndeliverableError`` means retrying cannot help (no phone number on file),
and the row is given up at once. A backend must time out well within the worker's lease (60 s), or a
second worker may take the row over and send it again.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from civicgrid.notifications.models import Channel, Notification, mask_address

logger = logging.getLogger("civicgrid.notifications")

# Which environment variable sets which channel's backend, for error messages (see civicgrid/settings.py).
_SETTING_SOURCE = {Channel.SMS: "NOTIFY_SMS_BACKEND", Channel.EMAIL: "NOTIFY_EMAIL_BACKEND"}


class UndeliverableError(Exception):
    """Sending this notification can never succeed as it stands; do not retry it."""


class NotificationBackend(Protocol):
    def send(self, notification: Notification) -> None:
        """Hand the message over, or raise."""


def destination(notification: Notification) -> str:
    """The phone or e-mail to send to: the stored address of a resident, else the staff member's, read now."""
    if notification.address:
        return str(notification.address)
    user = notification.recipient
    if user is None:
        raise UndeliverableError("the notification has neither a recipient nor an address")
    if not user.is_active:
        # Someone who left must not keep receiving case details on a private phone.
        raise UndeliverableError(f"the recipient (user {user.pk}) is deactivated")
    if notification.channel == Channel.SMS:
        value = user.phone or ""
    elif notification.channel == Channel.EMAIL:
        value = user.email
    else:
        raise UndeliverableError(f"channel {notification.channel!r} has no address")
    if not value:
        what = "mobile phone" if notification.channel == Channel.SMS else "e-mail address"
        raise UndeliverableError(f"the recipient (user {notification.recipient_id}) has no {what}")
    return value


class LogBackend:
    """Writes one log line instead of sending: the default for SMS and e-mail until a gateway is set up."""

    def send(self, notification: Notification) -> None:
        logger.info(
            "notification %s %s to %s: %s [%s]",
            notification.pk,
            notification.channel,
            mask_address(destination(notification)),
            notification.subject,
            notification.ref or notification.kind,
        )


class InAppBackend:
    """Nothing to transmit: the row is the inbox entry. Only checks that there is an inbox to put it in."""

    def send(self, notification: Notification) -> None:
        if notification.recipient_id is None:
            raise UndeliverableError("an in-app message needs a staff recipient")


class EmailBackend:
    """Sends through Django's e-mail settings (EMAIL_HOST …) from DEFAULT_FROM_EMAIL."""

    def send(self, notification: Notification) -> None:
        address = destination(notification)
        if "@" not in address:
            raise UndeliverableError("the address is not an e-mail address")
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [address],
            fail_silently=False,
        )


@cache
def _load(path: str) -> type[NotificationBackend]:
    backend: type[NotificationBackend] = import_string(path)
    return backend


def get_backend(channel: str) -> NotificationBackend:
    """A fresh backend instance for the channel (cheap; the class is imported once per path)."""
    try:
        path = settings.NOTIFICATION_BACKENDS[channel]
    except KeyError:
        raise ImproperlyConfigured(f"NOTIFICATION_BACKENDS has no backend for channel {channel!r}") from None
    return _load(path)()


def check_backend_settings() -> None:
    """Import every configured backend so a typo fails at start-up, naming the variable to fix."""
    for channel in Channel:
        path = settings.NOTIFICATION_BACKENDS.get(channel.value)
        source = _SETTING_SOURCE.get(channel, "NOTIFICATION_BACKENDS")
        if not path:
            raise ImproperlyConfigured(f"NOTIFICATION_BACKENDS has no backend for channel {channel.value!r}")
        try:
            backend = _load(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{source}={path!r} cannot be imported: {exc}") from None
        if not callable(getattr(backend, "send", None)):
            raise ImproperlyConfigured(f"{source}={path!r} has no send(notification) method")
