"""Forms of the service window. They parse and check shapes; the rules live in civicgrid.services.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.cases.models import HandlingClass
from civicgrid.jurisdictions.models import Unit
from civicgrid.services.models import MaterialForm, Outcome, RequiredMaterial, ServiceItem, VisitStatus


class ItemSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a service item"),
        required=False,
        max_length=50,
        help_text=_("Part of its name or its code, e.g. 居住证 or MZ-003."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class MaterialCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that say which materials are required (services.js picks the outcome from them)."""

    def __init__(self, *args: Any, required_ids: frozenset[int] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_ids = required_ids

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(name, value, *args, **kwargs)
        key = getattr(value, "value", value)
        if key in self.required_ids:
            option["attrs"]["data-required"] = "true"
        return option


class MaterialChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: RequiredMaterial) -> str:
        label = _("%(name)s (%(form)s, %(copies)s)") % {
            "name": obj.name,
            "form": MaterialForm(obj.form).label,
            "copies": _copies(obj.copies),
        }
        return label if obj.required else f"{label} · {_('optional')}"


def _copies(n: int) -> str:
    return ngettext("%(n)s copy", "%(n)s copies", n) % {"n": n}


class VisitForm(forms.Form):
    """Registering a visit for one service item at one of the clerk's centres."""

    service_center = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("Service centre"))
    materials = MaterialChoiceField(
        queryset=RequiredMaterial.objects.none(),
        required=False,
        label=_("Materials received"),
        help_text=_(
            "Tick what the resident handed in. Anything required and not ticked is listed as missing."
        ),
    )
    applicant_name = forms.CharField(label=_("Applicant"), max_length=64)
    applicant_phone = forms.CharField(
        label=_("Applicant phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=20,
        required=False,
        help_text=_("Optional; stored encrypted and shown masked."),
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    refusal_reason = forms.CharField(
        label=_("Reason for refusal"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the application is refused."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, item: ServiceItem, centers: QuerySet[Unit] | list[Unit], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        centre_field = self.fields["service_center"]
        assert isinstance(centre_field, forms.ModelChoiceField)
        pks = [c.pk for c in centers]
        centre_field.queryset = Unit.objects.filter(pk__in=pks).order_by("jurisdiction__path", "code")
        if len(pks) == 1:
            # One counter: nothing to choose (still checked on submit, so a forged value is refused).
            centre_field.widget = forms.HiddenInput()
            centre_field.initial = pks[0]
        materials = list(item.materials.all())
        field = self.fields["materials"]
        assert isinstance(field, MaterialChoiceField)
        # The widget first: setting the queryset hands its choices to the widget in place.
        field.widget = MaterialCheckboxes(required_ids=frozenset(m.pk for m in materials if m.required))
        field.queryset = RequiredMaterial.objects.filter(item=item).order_by("order", "pk")
        if item.handling_class != HandlingClass.INSTANT:
            outcome = self.fields["outcome"]
            assert isinstance(outcome, forms.ChoiceField)
            outcome.choices = [(v, label) for v, label in Outcome.choices if v != Outcome.INSTANT]


class StepForm(forms.Form):
    """The note that goes with starting, completing or marking a visit collected."""

    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VisitSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Visit number, phone or ID number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *VisitStatus.choices]
    )
