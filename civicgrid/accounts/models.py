"""Staff accounts and their roles. A role is always granted within a jurisdiction, optionally for a unit."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.fields import EncryptedTextField
from civicgrid.lib.masking import mask_phone


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("window clerk")
    INTAKE_OPERATOR = "intake_operator", _("hotline operator")
    GRID_WORKER = "grid_worker", _("grid worker")
    GRID_LEADER = "grid_leader", _("grid leader")
    BUILDING_HEAD = "building_head", _("building head")
    DISPATCHER = "dispatcher", _("dispatcher")
    HANDLER = "handler", _("unit handler")
    MEDIATOR = "mediator", _("mediator")
    SUPERVISOR = "supervisor", _("supervisor")
    LEADER = "leader", _("leader")
    ADMINISTRATOR = "administrator", _("administrator")


class User(AbstractUser):
    """A staff account. The phone is personal data: encrypted at rest, found through ``phone_digest``."""

    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = EncryptedTextField(_("mobile phone"), blank=True)
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class RoleGrant(models.Model):
    """A user holds ``role`` in ``jurisdiction`` (and its subtree), or for ``unit`` when set.

    When a unit is given the jurisdiction is the unit's own; the action that grants enforces it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="grants",
        verbose_name=_("jurisdiction"),
    )
    unit = models.ForeignKey(
        "jurisdictions.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("unit"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "jurisdiction"],
                condition=models.Q(unit__isnull=True),
                name="rolegrant_unique_jurisdiction_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=models.Q(unit__isnull=False),
                name="rolegrant_unique_unit_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.unit.name if self.unit_id and self.unit else self.jurisdiction.name
        return f"{self.get_role_display()} @ {where}"


class ApiToken(models.Model):
    """A bearer token for a staff app (``Authorization: Bearer cg_…``), acting as ``user``.

    Only the SHA-256 digest of the secret is stored: the secret is shown once, when the token is issued
    (civicgrid.accounts.tokens). A token is never deleted, only revoked, so the record of who used which
    token stays; ``prefix`` lets a user tell their tokens apart without the secret.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("staff member"),
    )
    name = models.CharField(
        _("name"), max_length=64, help_text=_("What the token is for, e.g. the app's name.")
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
