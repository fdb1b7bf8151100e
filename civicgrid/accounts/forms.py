from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class StaffSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or username"), required=False, max_length=64)
    role = forms.ChoiceField(label=_("Role"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        from civicgrid.accounts.models import Role

        self.fields["role"].choices = [("", _("All roles")), *Role.choices]  # type: ignore[attr-defined]


class RevealForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose"), required=True, max_length=200)
