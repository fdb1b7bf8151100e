"""The action panel's forms: one Django form per case action, built from the action's API body schema
(civicgrid.cases.api_schemas via civicgrid.cases.performing.SPECS), so the page asks for exactly what the
API takes. Choices that depend on the case and the user (units to dispatch to, pending extension
requests, the user's co-handling assignments) are filled per request from the scoped querysets; a
tampered value is refused by the form, and a value the form lets through is checked again by the lookup
in performing (inside the user's scope) and by the action itself.
"""

from __future__ import annotations

import base64
import types
import typing
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from django import forms
from django.db.models import Case as When_
from django.db.models import IntegerField, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.accounts.models import User
from civicgrid.accounts.permissions import case_action_allowed, visible_jurisdictions, visible_units
from civicgrid.cases.models import (
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseClock,
    Category,
    DecisionStatus,
    ExtensionRequest,
    Stage,
)
from civicgrid.cases.performing import SPECS
from civicgrid.cases.workflow import Action
from civicgrid.core.widgets import QuickSelect, QuickSelectMultiple

# Labels of the body fields, shared by every action that has the field.
LABELS: dict[str, Any] = {
    "note": _("Note"),
    "reason": _("Reason"),
    "answer": _("Answer to the resident"),
    "category": _("Category"),
    "handling_class": _("Handling class"),
    "urgency": _("Urgency"),
    "nature": _("Nature"),
    "title": _("Title"),
    "master": _("Master case number"),
    "lead_unit": _("Lead unit"),
    "assist_units": _("Co-handling units"),
    "basis": _("Basis (responsibility list clause)"),
    "to": _("Lower level desk"),
    "amount": _("Extra time"),
    "time_unit": _("Time unit"),
    "request": _("Extension request"),
    "approve": _("Decision"),
    "seq": _("Stage"),
    "assignment": _("Co-handling assignment"),
    "reply": _("Reply"),
    "opinion": _("Supervision opinion"),
    "reply_due_at": _("Reply due"),
    "photos": _("Photos"),
    "passed": _("Result"),
    "channel": _("Revisit channel"),
    "satisfaction": _("Satisfaction"),
    "resolution": _("Was the problem solved?"),
    "reached": _("The resident was reached"),
    "comment": _("Comment"),
    "to_dispatch": _("Send back to the dispatching desk instead of the same unit"),
}
LONG_TEXT = {"note", "reason", "answer", "reply", "opinion", "comment", "basis"}
YES_NO: dict[str, tuple[Any, Any]] = {
    "approve": (_("Approve"), _("Reject")),
    "passed": (pgettext_lazy("verification", "Passed"), _("Failed: send back for rework")),
}
MAX_PHOTOS = 3


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS images; the case action checks their type and size (its messages name the file)."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


class ActionForm(forms.Form):
    """The form of one action on one case for one user. ``prefix`` is the action code, so several forms
    on the case page keep their fields (and ids) apart."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, action: Action, case: Case, user: User, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", action.value)
        super().__init__(*args, **kwargs)
        self._unit_choices: list[tuple[str, str]] | None = None
        self.action, self.case, self.user = action, case, user
        self.fields["version"].initial = case.version
        schema = SPECS[action].body
        for name, info in schema.model_fields.items():
            if name == "version":
                continue
            field = self._field_for(name, info.annotation, info.is_required(), info.default)
            if field is not None:
                field.label = LABELS.get(name, name)
                self.fields[name] = field

    # --- fields ---

    def _field_for(self, name: str, annotation: Any, required: bool, default: Any) -> forms.Field | None:
        kind, optional = _unwrap(annotation)
        required = required and not optional
        special = getattr(self, f"_field_{name}", None)
        if special is not None:
            field: forms.Field | None = special(required)
            return field
        if isinstance(kind, type) and issubclass(kind, Enum):
            choices = [(m.value, str(getattr(m, "label", m.value))) for m in kind]
            blank = [] if required else [("", "—")]
            return forms.ChoiceField(choices=blank + choices, required=required)
        if kind is bool:
            if name in YES_NO:
                yes, no = YES_NO[name]
                return forms.TypedChoiceField(
                    choices=[("true", yes), ("false", no)],
                    coerce=lambda v: v == "true",
                    widget=forms.RadioSelect,
                    required=True,
                )
            return forms.BooleanField(required=False, initial=default is True)
        if kind is Decimal:
            return forms.DecimalField(
                required=required, min_value=Decimal("0.5"), max_digits=8, decimal_places=2
            )
        if kind is int:
            return forms.IntegerField(required=required, min_value=0)
        if kind is datetime:
            return forms.DateTimeField(
                required=required, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
            )
        if kind is str:
            widget = forms.Textarea(attrs={"rows": 3}) if name in LONG_TEXT else forms.TextInput
            return forms.CharField(required=required, widget=widget, strip=True)
        return None  # lists of parts (split) are offered through the API only

    def _field_category(self, required: bool) -> forms.Field:
        rows = Category.objects.filter(is_active=True).order_by("path").values_list("code", "name", "depth")
        choices = [(code, "\u3000" * (depth - 1) + name) for code, name, depth in rows]
        field = forms.ChoiceField(
            choices=([] if required else [("", "—")]) + choices, required=required, widget=QuickSelect
        )
        if self.case.category is not None:
            field.initial = self.case.category.code
        return field

    def _units(self) -> list[tuple[str, str]]:
        # Units of the category's type first, then the rest, each group by level (the case's own first).
        # Computed once per form: the lead and co-handling selects offer the same units.
        if self._unit_choices is None:
            self._unit_choices = self._read_units()
        return self._unit_choices

    def _read_units(self) -> list[tuple[str, str]]:
        qs = visible_units(self.user).filter(is_active=True).select_related("jurisdiction")
        type_id = self.case.category.unit_type_id if self.case.category is not None else None
        qs = qs.annotate(
            fit=When_(
                When(unit_type_id=type_id, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        return [
            (u.code, f"{u.name}（{u.jurisdiction.name}）")
            for u in qs.order_by("fit", "jurisdiction__path", "name")
        ]

    def _field_lead_unit(self, required: bool) -> forms.Field:
        return forms.ChoiceField(choices=[("", "—"), *self._units()], required=True, widget=QuickSelect)

    def _field_assist_units(self, required: bool) -> forms.Field:
        return forms.MultipleChoiceField(
            choices=self._units(), required=False, widget=QuickSelectMultiple(attrs={"size": 5})
        )

    def _field_to(self, required: bool) -> forms.Field:
        below = visible_jurisdictions(self.user).filter(parent_id=self.case.jurisdiction_id, is_active=True)
        return forms.ChoiceField(
            choices=[("", "—"), *[(j.code, j.name) for j in below.order_by("code")]], required=True
        )

    def _field_request(self, required: bool) -> forms.Field:
        pending = ExtensionRequest.objects.filter(case=self.case, status=DecisionStatus.PENDING).order_by(
            "pk"
        )
        return forms.TypedChoiceField(
            choices=[(x.pk, f"{x.amount} {x.get_time_unit_display()} · {x.reason}") for x in pending],
            coerce=int,
            required=True,
        )

    def _field_assignment(self, required: bool) -> forms.Field:
        mine = [
            a
            for a in CaseAssignment.objects.filter(
                case=self.case, role=AssignmentRole.ASSIST, is_current=True
            )
            .select_related("unit")
            .order_by("pk")
            if case_action_allowed(self.user, self.case, self.action, assignment=a)
        ]
        return forms.TypedChoiceField(
            choices=[(a.pk, f"{a.unit.name} · {a.get_status_display()}") for a in mine],
            coerce=int,
            required=True,
        )

    def _field_seq(self, required: bool) -> forms.Field:
        steps = CaseClock.objects.filter(case=self.case, stage=Stage.HANDLE).exclude(label="").order_by("seq")
        return forms.TypedChoiceField(
            choices=[(k.seq, k.label or str(k.seq)) for k in steps], coerce=int, required=True
        )

    def _field_photos(self, required: bool) -> forms.Field:
        return PhotosField(
            required=False, help_text=_("JPEG, PNG or WebP; at most %(n)s.") % {"n": MAX_PHOTOS}
        )

    # --- body ---

    def body_data(self) -> dict[str, Any]:
        """The cleaned values as the action's API body (photos as base64, as the API takes them)."""
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "photos":
                data[name] = [
                    {"name": f.name, "content_base64": base64.b64encode(f.read()).decode()} for f in value
                ]
            elif value in ("", None) and not self.fields[name].required:
                continue  # an empty optional field is an absent one
            else:
                data[name] = value
        return data


def forms_for(
    case: Case, user: User, allowed: Sequence[str], *, bound: ActionForm | None = None
) -> list[ActionForm]:
    """A form for each action the user may do now; ``bound`` (a failed submission) takes its place."""
    result = []
    for code in allowed:
        action = Action(code)
        if action == Action.SPLIT:
            continue  # needs a list of parts: offered through the API only
        if bound is not None and bound.action == action:
            result.append(bound)
        else:
            result.append(ActionForm(action, case, user))
    return result
