"""Writes owned by the core app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicgrid.core.models import PersonalDataAccess

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


def do_log_personal_data_access(
    *, actor: User, subject_type: str, subject_id: str | int, field: str, purpose: str = ""
) -> PersonalDataAccess:
    return PersonalDataAccess.objects.create(
        actor=actor, subject_type=subject_type, subject_id=str(subject_id), field=field, purpose=purpose[:200]
    )
