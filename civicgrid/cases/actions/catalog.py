"""Writes to the case catalogue — categories, time limits, escalation rules — from the admin.

They are city-wide data (one catalogue per installation), so only superusers edit them (cases/admin.py).
Limits are cached per process (civicgrid.cases.limits); a saved change drops the cache on commit here and
reaches other processes within CACHE_RECHECK_SECONDS.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.cases import limits
from civicgrid.cases.models import Category, EscalationRule, Stage, TimeLimit

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


@transaction.atomic
def do_save_category(category: Category, *, actor: User | None) -> Category:
    """Create or update a category; its ``path`` and ``depth`` follow the parent, and a move carries the
    whole subtree along."""
    category.code = (category.code or "").strip()
    category.name = (category.name or "").strip()
    if not category.code or "/" in category.code:
        raise ValidationError({"code": _("Enter a code without slashes.")})
    if not category.name:
        raise ValidationError({"name": _("This field is required.")})
    parent = category.parent
    old_path = (
        Category.objects.filter(pk=category.pk).values_list("path", flat=True).first()
        if category.pk
        else None
    )
    if parent is not None and old_path and parent.path.startswith(old_path):
        raise ValidationError({"parent": _("A category cannot be moved under itself.")})
    category.path = f"{parent.path if parent else ''}{category.code}/"
    category.depth = category.path.count("/")
    category.full_clean(exclude=["path", "depth"])
    category.save()
    if old_path and old_path != category.path:
        for child in Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk):
            child.path = category.path + child.path[len(old_path) :]
            child.depth = child.path.count("/")
            child.save(update_fields=["path", "depth"])
    transaction.on_commit(limits.invalidate)
    return category


@transaction.atomic
def do_save_time_limit(limit: TimeLimit, *, actor: User | None) -> TimeLimit:
    if limit.value is None or Decimal(limit.value) <= 0:
        raise ValidationError({"value": _("Enter a positive limit.")})
    if not (Decimal(0) < Decimal(limit.warn_fraction) < Decimal(1)):
        raise ValidationError({"warn_fraction": _("The warning share must lie between 0 and 1.")})
    if Decimal(limit.serious_factor) <= 1:
        raise ValidationError({"serious_factor": _("Seriously overdue must be more than the limit itself.")})
    if limit.seq and limit.stage != Stage.HANDLE:
        raise ValidationError({"seq": _("Only handling limits have stages.")})
    limit.full_clean()
    limit.save()
    transaction.on_commit(limits.invalidate)
    return limit


@transaction.atomic
def do_save_escalation_rule(rule: EscalationRule, *, actor: User | None) -> EscalationRule:
    if rule.stage in (Stage.RETURN_WINDOW, Stage.EXTENSION_CAP):
        raise ValidationError({"stage": _("This stage has no clock, so nothing can fire on it.")})
    rule.full_clean()
    rule.save()
    return rule
