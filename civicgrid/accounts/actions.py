"""Every write to staff accounts and role grants goes through these actions (keyword-only ``actor``).

``actor`` None means system work (commands, the demo loader); a human actor must be allowed to administer
the jurisdiction the change touches (permissions.can_administer_path).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts import permissions
from civicgrid.accounts.models import Role, RoleGrant, User
from civicgrid.core import crypto
from civicgrid.core.actions import do_log_personal_data_access
from civicgrid.jurisdictions.models import Jurisdiction, Unit

_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def check_phone(phone: str) -> str:
    """A mainland mobile (11 digits starting with 1) or a landline with area code; spaces are dropped."""
    value = "".join(phone.split())
    if value and not _PHONE.match(value):
        raise ValidationError(
            {"phone": _("Enter an 11-digit mobile number or a landline with its area code.")}
        )
    return value


def _require_admin_over(actor: User | None, jurisdiction: Jurisdiction) -> None:
    if actor is not None and not permissions.can_administer_path(actor, jurisdiction.path):
        raise PermissionDenied(_("You may only administer staff within your own jurisdiction."))


@transaction.atomic
def do_create_staff(
    *,
    username: str,
    full_name: str,
    phone: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    actor: User | None,
) -> User:
    """Create a staff account. Roles are granted separately (do_grant_role), which is where scope is checked;
    an account without grants sees nothing."""
    if actor is not None and not permissions.scope_of(actor).has(permissions.Capability.ADMINISTER):
        raise PermissionDenied(_("Only administrators may create staff accounts."))
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    clean_phone = check_phone(phone)
    user = User(username=username, full_name=full_name, phone=clean_phone, is_active=True)
    user.phone_digest = crypto.digest(clean_phone) if clean_phone else ""
    if password_hash is not None:
        user.password = password_hash  # the demo loader hashes its one password once, not per account
    elif password is not None:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def do_update_staff(user: User, *, full_name: str, phone: str, is_active: bool, actor: User | None) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if actor is not None and not actor.is_superuser:
        grants = list(locked.grants.select_related("jurisdiction"))
        if not grants or not all(permissions.can_administer_path(actor, g.jurisdiction.path) for g in grants):
            raise PermissionDenied(_("You may only administer staff within your own jurisdiction."))
    clean_phone = check_phone(phone)
    locked.full_name = full_name
    locked.phone = clean_phone
    locked.phone_digest = crypto.digest(clean_phone) if clean_phone else ""
    locked.is_active = is_active
    locked.save(update_fields=["full_name", "phone", "phone_digest", "is_active"])
    return locked


@transaction.atomic
def do_grant_role(
    user: User,
    *,
    role: Role | str,
    jurisdiction: Jurisdiction | None = None,
    unit: Unit | None = None,
    actor: User | None,
) -> RoleGrant:
    """Grant a role within a jurisdiction, or for a unit (the jurisdiction is then the unit's)."""
    role = Role(role)
    if unit is not None:
        if jurisdiction is not None and jurisdiction.pk != unit.jurisdiction_id:
            raise ValidationError(
                {"jurisdiction": _("A role for a unit lies in the unit's own jurisdiction.")}
            )
        jurisdiction = unit.jurisdiction
    if jurisdiction is None:
        raise ValidationError({"jurisdiction": _("Choose the jurisdiction or the unit the role applies to.")})
    _require_admin_over(actor, jurisdiction)
    grant, _created = RoleGrant.objects.get_or_create(
        user=user, role=role.value, jurisdiction=jurisdiction, unit=unit, defaults={"granted_by": actor}
    )
    # The admin site is the administrators' tool; nobody else gets is_staff.
    should_be_staff = user.is_superuser or user.grants.filter(role=Role.ADMINISTRATOR).exists()
    if user.is_staff != should_be_staff:
        User.objects.filter(pk=user.pk).update(is_staff=should_be_staff)
        user.is_staff = should_be_staff
    permissions.forget_scope(user)
    return grant


@transaction.atomic
def do_revoke_role(grant: RoleGrant, *, actor: User | None) -> None:
    _require_admin_over(actor, grant.jurisdiction)
    user = grant.user
    grant.delete()
    if not user.is_superuser and not user.grants.filter(role=Role.ADMINISTRATOR).exists():
        User.objects.filter(pk=user.pk).update(is_staff=False)
        user.is_staff = False
    permissions.forget_scope(user)


@transaction.atomic
def do_reveal_phone(subject: User, *, actor: User, purpose: str = "") -> str:
    """Return a staff member's unmasked phone and log the view; refuse without VIEW_PERSONAL_DATA."""
    if not permissions.can_view_personal_data_of(actor, subject):
        raise PermissionDenied(_("You may not see this person's phone number."))
    do_log_personal_data_access(
        actor=actor, subject_type="accounts.user", subject_id=subject.pk, field="phone", purpose=purpose
    )
    return subject.phone or ""
