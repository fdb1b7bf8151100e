"""Forms of the field screens. Choices come from the user's own cells and visits, so a tampered value is
refused by the form (a field error); the actions check again."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.accounts.models import User
from civicgrid.cases.actions import PhotoUpload
from civicgrid.cases.models import Category, Nature, Resolution, RevisitChannel, Satisfaction, Urgency
from civicgrid.core.widgets import QuickSelect
from civicgrid.fieldwork.models import HouseholdVisit, VisitPurpose
from civicgrid.fieldwork.queries import my_buildings, my_cells, visible_visits
from civicgrid.grids.models import Building, GridCell

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PHOTO_SLOTS = 3  # photos per report: one camera input each (capture opens the camera for one picture)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class CameraInput(forms.FileInput):
    """A file input that opens the phone's rear camera; desktop browsers offer a file picker."""

    def __init__(self) -> None:
        super().__init__(attrs={"accept": "image/*", "capture": "environment"})


def photo_field(label: StrOrPromise) -> forms.FileField:
    return forms.FileField(label=label, required=False, widget=CameraInput())


def check_photo_size(photo: UploadedFile | None) -> UploadedFile | None:
    """Refuse an oversized photo before reading it into memory (the case action checks the content)."""
    limit = settings.CASE_PHOTO_MAX_BYTES
    if photo is not None and (photo.size or 0) > limit:
        raise forms.ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": photo.name, "mb": limit // (1024 * 1024)}
        )
    return photo


def photo_uploads(photos: list[UploadedFile]) -> tuple[PhotoUpload, ...]:
    return tuple(PhotoUpload(name=p.name or "photo", content=p.read()) for p in photos)


PlainSelect = QuickSelect  # the shared widget (civicgrid/core/widgets.py)


# ModelChoiceField is generic only in the type stubs (django-stubs), not at run time.
if TYPE_CHECKING:
    _CellField = forms.ModelChoiceField[GridCell]
    _BuildingField = forms.ModelChoiceField[Building]
else:
    _CellField = _BuildingField = forms.ModelChoiceField


class CellChoiceField(_CellField):
    def label_from_instance(self, obj: GridCell) -> str:
        return f"{obj.name}（{obj.code}）"


class BuildingChoiceField(_BuildingField):
    def label_from_instance(self, obj: Building) -> str:
        return obj.name


def category_choices() -> list[tuple[str, StrOrPromise]]:
    """The active categories in tree order, indented by depth (a native select works best on a phone)."""
    rows = Category.objects.filter(is_active=True).order_by("path").values_list("code", "name", "depth")
    return [
        ("", _("Choose a category")),
        *((code, "\u3000" * (depth - 1) + name) for code, name, depth in rows),
    ]


class ReportForm(forms.Form):
    """上报事件 from the street: what, a photo, and where (GPS, a point on the map, or the address)."""

    category = forms.ChoiceField(label=_("Category"), widget=PlainSelect)
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("In a few words: what and where."))
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )
    photo_1 = photo_field(_("Photo 1"))
    photo_2 = photo_field(_("Photo 2"))
    photo_3 = photo_field(_("Photo 3"))
    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "autocomplete": "off"}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "autocomplete": "off"}),
    )
    address = forms.CharField(label=pgettext_lazy("place", "Address"), max_length=200, required=False)
    cell = CellChoiceField(
        label=_("Grid cell"),
        queryset=GridCell.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=None,
        help_text=_("Used when you give no position."),
        widget=PlainSelect,
    )
    nature = forms.ChoiceField(label=_("Nature"), choices=Nature.choices, initial=Nature.REPORT)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    intake_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    visit = forms.ModelChoiceField(
        queryset=HouseholdVisit.objects.none(), widget=forms.HiddenInput, required=False
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        self.fields["cell"].queryset = my_cells(user).defer("boundary").order_by("code")  # type: ignore[attr-defined]
        # A visit's event is reported once; the key makes a resubmission (a slow network) the same report.
        self.fields["visit"].queryset = visible_visits(user).filter(created_case__isnull=True)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("intake_key", f"field:{uuid.uuid4().hex}")

    def clean_photo_1(self) -> UploadedFile | None:
        return check_photo_size(self.cleaned_data.get("photo_1"))

    def clean_photo_2(self) -> UploadedFile | None:
        return check_photo_size(self.cleaned_data.get("photo_2"))

    def clean_photo_3(self) -> UploadedFile | None:
        return check_photo_size(self.cleaned_data.get("photo_3"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lon, lat = data.get("lon"), data.get("lat")
        if (lon is None) != (lat is None) and not self.has_error("lon") and not self.has_error("lat"):
            self.add_error(
                "lon" if lon is None else "lat", _("Give both longitude and latitude, or neither.")
            )
        elif lon is None and lat is None and not self.has_error("lon") and not self.has_error("lat"):
            # No position: the address says where, inside the chosen cell's community.
            if not (data.get("address") or "").strip():
                self.add_error(
                    "address", _("Give the address, or the position (use my location or tap the map).")
                )
            if data.get("cell") is None and not self.has_error("cell"):
                self.add_error("cell", _("Choose the grid cell where this happened."))
        return data

    def category_object(self) -> Category | None:
        code = self.cleaned_data.get("category")
        return Category.objects.filter(code=code).first() if code else None

    def photos(self) -> list[UploadedFile]:
        return [p for p in (self.cleaned_data.get(f"photo_{n}") for n in range(1, PHOTO_SLOTS + 1)) if p]


YES_NO = [("true", pgettext_lazy("verification", "Passed")), ("false", _("Failed: send back for rework"))]


def _to_bool(value: str) -> bool:
    return value == "true"


class VerifyForm(forms.Form):
    """核查 on site: was the reply true? A failed check sends the case back to the unit (返工)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    passed = forms.TypedChoiceField(
        label=_("Result"), choices=YES_NO, coerce=_to_bool, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Required when the check failed: what is still wrong."),
    )
    photo = photo_field(_("Photo"))

    def clean_photo(self) -> UploadedFile | None:
        return check_photo_size(self.cleaned_data.get("photo"))


REACHED = [("true", _("Yes")), ("false", _("No, the resident could not be reached"))]


class RevisitForm(forms.Form):
    """回访: did it get solved, is the resident satisfied (the revisit desks only)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    channel = forms.ChoiceField(
        label=_("Revisit channel"), choices=RevisitChannel.choices, initial=RevisitChannel.VISIT
    )
    reached = forms.TypedChoiceField(
        label=_("The resident was reached"),
        choices=REACHED,
        coerce=_to_bool,
        widget=forms.RadioSelect,
        initial="true",
    )
    resolution = forms.ChoiceField(
        label=_("Was the problem solved?"), choices=[("", "—"), *Resolution.choices], required=False
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=Satisfaction.choices, initial=Satisfaction.SATISFIED
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


def local_now_input() -> str:
    return timezone.localtime().strftime(DATETIME_LOCAL)


class VisitForm(forms.Form):
    """入户走访: one visit to one household, in one of the user's cells."""

    grid_cell = CellChoiceField(
        label=_("Grid cell"),
        queryset=GridCell.objects.none(),
        to_field_name="code",
        empty_label=None,
        widget=PlainSelect,
    )
    building = BuildingChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("— not in a listed building —"),
        widget=PlainSelect,
    )
    address = forms.CharField(
        label=_("Address or room"), max_length=200, help_text=_("For example: unit 2, room 301.")
    )
    household_head = forms.CharField(label=_("Head of household"), max_length=64, required=False)
    visited_at = forms.DateTimeField(
        label=_("Visited at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    purpose = forms.ChoiceField(
        label=pgettext_lazy("household visit", "Purpose"),
        choices=VisitPurpose.choices,
        widget=forms.RadioSelect,
    )
    findings = forms.CharField(
        label=_("Findings"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("What you saw and heard; no ID numbers or phone numbers here."),
    )
    needs_follow_up = forms.BooleanField(label=_("Needs a follow-up visit"), required=False)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cells = my_cells(user).defer("boundary").order_by("code")
        self.fields["grid_cell"].queryset = cells  # type: ignore[attr-defined]
        self.fields["building"].queryset = my_buildings(user).order_by("code")  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("visited_at", local_now_input())


class VisitFilterForm(forms.Form):
    building = BuildingChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All buildings"),
        widget=PlainSelect,
    )
    purpose = forms.ChoiceField(label=pgettext_lazy("household visit", "Purpose"), required=False)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = my_buildings(user).order_by("code")  # type: ignore[attr-defined]
        self.fields["purpose"].choices = [("", _("All purposes")), *VisitPurpose.choices]  # type: ignore[attr-defined]


class CellPickForm(forms.Form):
    """My grid's cell picker, for people who work several cells (a grid leader, a superuser)."""

    cell = CellChoiceField(
        label=_("Grid cell"),
        queryset=GridCell.objects.none(),
        to_field_name="code",
        empty_label=None,
        widget=PlainSelect,
    )

    def __init__(self, cells: QuerySet[GridCell], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cell"].queryset = cells  # type: ignore[attr-defined]
