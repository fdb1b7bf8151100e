"""The resident portal's forms. They parse and check what a resident typed; the actions decide the rest, and
an action's ValidationError is put back onto these forms at the field it names (``add_action_errors``)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.actions import check_phone
from civicgrid.cases.actions import PhotoUpload
from civicgrid.cases.models import Category, Nature, Resolution, Satisfaction
from civicgrid.core.widgets import QuickSelect
from civicgrid.jurisdictions.models import Jurisdiction
from civicgrid.portal import links, queries

MAX_PHOTOS = 3
PHONE_MESSAGE = _("Enter an 11-digit mobile number or a landline with its area code.")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS files from one <input type=file multiple>; their content is checked by the case
    action (check_photo), which names the offending file."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True})
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


def _phone(value: str) -> str:
    try:
        return check_phone(value)
    except ValidationError:
        raise ValidationError(PHONE_MESSAGE) from None


class PortalForm(forms.Form):
    """Maps an action's ValidationError onto the form: at the field it names, or at the top."""

    #: Action field names that the form shows at another field.
    ERROR_FIELDS: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Many labels here are questions ("问题是否解决？"): no colon after them.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_action_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            target = self.ERROR_FIELDS.get(name, name)
            self.add_error(target if target in self.fields else None, messages)


NATURES = [
    (Nature.HELP, _("I need help with a problem")),
    (Nature.COMPLAINT, _("I want to complain")),
    (Nature.REPORT, _("I want to report wrongdoing")),
    (Nature.CONSULT, _("I have a question")),
    (Nature.SUGGESTION, _("I have a suggestion")),
    (Nature.PRAISE, _("I want to praise someone")),
]


class ReportForm(PortalForm):
    """Submit a request. Without JavaScript the street/community select stands in for the map's pin."""

    ERROR_FIELDS = {"location": "jurisdiction", "lon": "jurisdiction", "lat": "jurisdiction"}

    form_key = forms.CharField(widget=forms.HiddenInput)
    nature = forms.ChoiceField(
        label=_("What would you like to do?"), choices=NATURES, initial=Nature.HELP, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(
        label=_("What is it about?"),
        required=False,
        widget=QuickSelect,
        help_text=_("Not sure? Leave it, and the hotline will choose."),
    )
    title = forms.CharField(
        label=_("The problem in one sentence"),
        max_length=100,
        help_text=_("For example: street light broken at the gate of building 3."),
    )
    description = forms.CharField(
        label=_("Describe the problem"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What is wrong, since when, and what you would like to be done."),
    )
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("Address or landmark"),
        max_length=200,
        required=False,
        help_text=_("For example: 12 Jiefang West Road, near the bus stop."),
    )
    jurisdiction = forms.ChoiceField(
        label=_("Street or community"),
        required=False,
        widget=QuickSelect,
        help_text=_("Needed when you put no pin on the map, so the right office gets your request."),
    )
    photos = PhotosField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 3 photos, JPEG, PNG or WebP."),
    )
    is_anonymous = forms.BooleanField(
        label=_("Keep my name from the offices handling the case (anonymous)"),
        required=False,
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=64, required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone"),
        max_length=20,
        required=False,
        help_text=_("For the reply and the follow-up call. Not needed when you stay anonymous."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # The honeypot: hidden from people (CSS, aria-hidden, out of the tab order), filled by robots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, policy: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._categories = queries.report_categories()
        self._places = queries.service_places(policy)
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ChoiceField)
        category_field.choices = [("", _("Not sure")), *queries.category_choices(self._categories)]
        place_field = self.fields["jurisdiction"]
        assert isinstance(place_field, forms.ChoiceField)
        place_field.choices = [("", _("Choose…")), *queries.place_choices(self._places)]
        self.fields["reporter_name"].widget.attrs["autocomplete"] = "name"
        self.fields["address"].widget.attrs["autocomplete"] = "street-address"

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def clean_form_key(self) -> str:
        value = str(self.cleaned_data["form_key"]).strip()
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValidationError(_("The form has expired. Please reload the page.")) from None

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        if not value:
            return None
        found = self._categories.filter(pk=value).first()
        if found is None:
            raise ValidationError(_("Choose a category from the list."))
        return found

    def clean_jurisdiction(self) -> Jurisdiction | None:
        value = self.cleaned_data.get("jurisdiction")
        if not value:
            return None
        found = self._places.filter(pk=value).first()
        if found is None:
            raise ValidationError(_("Choose a street or community from the list."))
        return found

    def clean_reporter_phone(self) -> str:
        return _phone(self.cleaned_data.get("reporter_phone", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in ("lon", "lat"):  # a hidden field cannot show its error: say it at the place select
            if name in self.errors:
                self.errors.pop(name)
                self.add_error("jurisdiction", _("The point on the map is not valid; put the pin again."))
                data[name] = None
        lon, lat = data.get("lon"), data.get("lat")
        has_point = lon is not None and lat is not None
        if not has_point:
            data["lon"] = data["lat"] = None
            if not data.get("jurisdiction") and "jurisdiction" not in self.errors:
                self.add_error("jurisdiction", _("Put a pin on the map, or choose your street or community."))
        if (
            not data.get("is_anonymous")
            and not data.get("reporter_phone")
            and "reporter_phone" not in self.errors
        ):
            self.add_error(
                "reporter_phone",
                _("Give a phone number so that we can reply, or tick “anonymous”."),
            )
        return data

    def photo_uploads(self) -> tuple[PhotoUpload, ...]:
        files: list[UploadedFile] = self.cleaned_data.get("photos") or []
        return tuple(PhotoUpload(name=f.name or "photo", content=f.read()) for f in files)


class SupportForm(PortalForm):
    # Named like the report form's phone field: the support button sends that field along when filled.
    reporter_phone = forms.CharField(
        label=_("Your phone (optional)"),
        max_length=20,
        required=False,
        help_text=_("Lets the hotline recognise you when you call; it is not shown to anyone."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_reporter_phone(self) -> str:
        return _phone(self.cleaned_data.get("reporter_phone", ""))


RESOLUTIONS = [
    (Resolution.RESOLVED, _("Solved")),
    (Resolution.PARTLY, _("Partly solved")),
    (Resolution.UNRESOLVED, _("Not solved")),
]
SATISFACTIONS = [
    (Satisfaction.SATISFIED, _("Satisfied")),
    (Satisfaction.BASICALLY, _("Basically satisfied")),
    (Satisfaction.UNSATISFIED, _("Not satisfied")),
]


class RateForm(PortalForm):
    resolution = forms.ChoiceField(
        label=_("Was the problem solved?"), choices=RESOLUTIONS, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("Are you satisfied with how it was handled?"), choices=SATISFACTIONS, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you are not satisfied: tell us what went wrong."),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("satisfaction") == Satisfaction.UNSATISFIED and not data.get("comment", "").strip():
            self.add_error("comment", _("Please tell us why you are not satisfied."))
        return data


class ReopenForm(PortalForm):
    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The oversight office reads this and decides whether the case is handled again."),
    )


_TRACK_PATH = re.compile(r"/track/([A-Za-z0-9_-]{20,64})/?")


class TrackLookupForm(PortalForm):
    link = forms.CharField(
        label=_("Your tracking link"),
        max_length=500,
        help_text=_("Paste the link from your receipt."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_link(self) -> str:
        value = self.cleaned_data["link"].strip()
        found = _TRACK_PATH.search(value)
        secret = found.group(1) if found else value
        if not links.looks_like_secret(secret) or queries.link_for_secret(secret) is None:
            raise ValidationError(_("No request matches this link. Check that you copied all of it."))
        return secret
