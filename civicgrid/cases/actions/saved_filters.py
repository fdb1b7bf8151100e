"""Saved queue filters: a staff member's own named filter sets on the case list."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.models import User
from civicgrid.cases.models import SavedFilter

MAX_PER_USER = 30
# Only filter parameters are kept (not the page offset), so a saved filter always opens at its start.
KEPT = {
    "queue",
    "q",
    "category",
    "unit",
    "grid",
    "channel",
    "jurisdiction",
    "received_from",
    "received_to",
    "overdue",
    "group",
    "status",
    "nature",
    "closed_from",
    "closed_to",
    "counted",
}


def clean_query(query: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(query) if k in KEPT and v])


def do_save_filter(*, name: str, query: str, actor: User) -> SavedFilter:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the filter a name.")})
    with transaction.atomic():
        # Lock the owner's row so two tabs saving at once cannot pass the limit together.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if SavedFilter.objects.filter(owner=actor).count() >= MAX_PER_USER:
            raise ValidationError(
                {"name": _("You have %(n)s saved filters; delete one first.") % {"n": MAX_PER_USER}}
            )
        try:
            with transaction.atomic():
                return SavedFilter.objects.create(owner=actor, name=name[:40], query=clean_query(query))
        except IntegrityError:
            raise ValidationError({"name": _("You already have a filter with this name.")}) from None


def do_delete_filter(saved: SavedFilter, *, actor: User) -> None:
    if saved.owner_id != actor.pk:
        raise ValidationError(_("This is not your filter."))
    saved.delete()
