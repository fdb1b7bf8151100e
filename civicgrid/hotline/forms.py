"""The hotline desk's forms. Choices that depend on the user (the streets and communities of their scope,
the knowledge base entries they may use) are built per request from the scoped querysets, so a tampered
value is refused at its field; the case actions check everything again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import User
from civicgrid.cases.models import Category, HandlingClass, Nature, Urgency
from civicgrid.hotline.actions import Call
from civicgrid.hotline.models import KnowledgeEntry
from civicgrid.hotline.queries import intake_places, place_choices, visible_knowledge
from civicgrid.jurisdictions.models import Jurisdiction, Level

Choices = list[tuple[Any, Any]]

# Where an action's error keys land on this form (the rest keep their name, or go to the top).
ERROR_FIELDS = {
    "reporter_phone": "phone",
    "reporter_name": "name",
    "location": "jurisdiction",
    "entry": "answer",
}


class FastSelect(forms.Select):
    """A select rendered in Python. The category list has some 650 options, and rendering each one through
    the option template cost more than the rest of the desk page; the elements are the same."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = set(self.format_value(value))

        def option(code: Any, label: Any) -> str:
            selected = " selected" if str(code) in chosen else ""
            return f'<option value="{escape(code)}"{selected}>{escape(label)}</option>'

        parts: list[str] = []
        for code, label in self.choices:
            if isinstance(label, list | tuple):  # an optgroup: (group label, [(code, label), …])
                parts.append(f'<optgroup label="{escape(code)}">')
                parts.extend(option(c, text) for c, text in label)
                parts.append("</optgroup>")
            else:
                parts.append(option(code, label))
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = mark_safe("".join(parts))  # every value and label was escaped above
        return format_html("<select{}>{}</select>", flatatt(final), options)


class AnswerPart(forms.Form):
    """The answer box: also rendered alone when the operator picks a knowledge base entry (htmx)."""

    answer = forms.CharField(
        label=_("Answer to the caller"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "Needed to answer directly. Picking a knowledge base entry fills it in; adapt it as needed."
        ),
    )
    entry = forms.IntegerField(required=False, widget=forms.HiddenInput)


class IntakeForm(AnswerPart):
    """One call. ``mode`` is the button pressed: "create" (a case) or "answer" (直接答复)."""

    # The order on screen, which the error summary follows.
    field_order = [
        "phone",
        "name",
        "is_anonymous",
        "nature",
        "category",
        "urgency",
        "handling_class",
        "title",
        "description",
        "address",
        "jurisdiction",
        "lon",
        "lat",
        "answer",
    ]

    phone = forms.CharField(
        label=_("Caller's phone"),
        required=False,
        max_length=20,
        help_text=_("Press Enter to look up the caller's earlier cases."),
    )
    name = forms.CharField(label=_("Caller's name"), required=False, max_length=64)
    is_anonymous = forms.BooleanField(
        label=_("Anonymous"), required=False, help_text=_("The name and phone are hidden from the units.")
    )
    nature = forms.ChoiceField(label=_("Nature"), choices=Nature.choices, initial=Nature.CONSULT)
    category = forms.ChoiceField(label=_("Category"), required=False, widget=FastSelect)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    handling_class = forms.ChoiceField(
        label=_("Handling class"), choices=HandlingClass.choices, initial=HandlingClass.PROMISED
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What the caller says"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    jurisdiction = forms.ChoiceField(label=_("Street or community"), required=False, widget=FastSelect)
    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput({"step": "any"}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput({"step": "any"}),
    )
    intake_key = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, user: User, *args: Any, mode: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.mode = user, mode
        cast(forms.ChoiceField, self.fields["jurisdiction"]).choices = self._place_choices()
        cast(forms.ChoiceField, self.fields["category"]).choices = self._category_choices()
        self.fields["phone"].widget.attrs.update(
            {
                "inputmode": "tel",
                "autocomplete": "off",
                # Leaving the field (or Enter, through the look-up button) shows the caller's earlier cases.
                "hx-post": reverse("hotline:caller"),
                "hx-trigger": "change",
                "hx-target": "#caller-panel",
                "hx-params": "phone",
                "hx-sync": "#caller-panel:replace",
            }
        )
        self.fields["title"].widget.attrs["maxlength"] = "200"

    def _place_choices(self) -> Choices:
        groups: dict[str, tuple[str, Choices]] = {}
        for code, name, level, parent_code, parent_name in place_choices(self.user):
            if level == Level.TOWNSHIP:
                groups[code] = (name, [(code, _("%(name)s (whole street)") % {"name": name})])
            else:
                groups.setdefault(parent_code or "", (parent_name or "", []))[1].append((code, name))
        return [("", _("— choose —")), *groups.values()]

    @staticmethod
    def _category_choices() -> Choices:
        rows = list(
            Category.objects.filter(is_active=True).order_by("path").values_list("code", "name", "path")
        )
        names = {code: name for code, name, _path in rows}
        groups: dict[str, tuple[str, Choices]] = {}
        for code, _name, path in rows:
            chain = [c for c in path.split("/") if c]
            if any(c not in names for c in chain):
                continue  # under an inactive parent
            label = " › ".join(names[c] for c in chain[1:]) if len(chain) > 1 else names[code]
            groups.setdefault(chain[0], (names[chain[0]], []))[1].append((code, label))
        return [("", _("— not classified yet —")), *groups.values()]

    # --- cleaning ---

    # The choices were the scoped lists, so a code that passed is in scope; the objects are read again
    # through the same querysets all the same.
    def clean_category(self) -> Category | None:
        code = self.cleaned_data.get("category") or ""
        return Category.objects.filter(code=code, is_active=True).first() if code else None

    def clean_jurisdiction(self) -> Jurisdiction | None:
        code = self.cleaned_data.get("jurisdiction") or ""
        return intake_places(self.user).filter(code=code).first() if code else None

    def clean_entry(self) -> KnowledgeEntry | None:
        pk = self.cleaned_data.get("entry")
        if pk is None:
            return None
        entry = visible_knowledge(self.user).filter(pk=pk).select_related("category").first()
        if entry is None:
            raise ValidationError(_("This knowledge base entry is not available to you."))
        return entry

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "entry" in self.errors:
            for message in self.errors.pop("entry"):
                self.add_error("answer", message)
        lon, lat = data.get("lon"), data.get("lat")
        if (lon is None) != (lat is None) and "lon" not in self.errors and "lat" not in self.errors:
            self.add_error("lon", _("Give both longitude and latitude, or neither."))
        elif lon is None and not data.get("jurisdiction") and "jurisdiction" not in self.errors:
            self.add_error("jurisdiction", _("Choose the street or community the call is about."))
        if self.mode == "answer":
            if not (data.get("answer") or "").strip():
                self.add_error(
                    "answer", _("Write the answer given to the caller, or pick one from the knowledge base.")
                )
            if data.get("nature") and data["nature"] != Nature.CONSULT:
                self.add_error(
                    "nature",
                    _("Only consultations can be answered directly: choose “consultation” or create a case."),
                )
        return data

    def call(self) -> Call:
        d = self.cleaned_data
        return Call(
            nature=d["nature"],
            title=d["title"],
            description=d["description"],
            category=d.get("category"),
            handling_class=d["handling_class"],
            urgency=d["urgency"],
            address=d.get("address") or "",
            lon=d.get("lon"),
            lat=d.get("lat"),
            jurisdiction=d.get("jurisdiction"),
            reporter_name=d.get("name") or "",
            reporter_phone=d.get("phone") or "",
            is_anonymous=bool(d.get("is_anonymous")),
            intake_key=d.get("intake_key") or None,
        )

    def add_action_error(self, exc: ValidationError) -> None:
        """Put a case action's ValidationError on the fields it names (at the top when none fits)."""
        found = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        for key, messages in found.items():
            name: str | None = ERROR_FIELDS.get(key, key)
            if name == "jurisdiction" and self.cleaned_data.get("lon") is not None:
                name = "lon"  # the place came from the point
            if name not in self.fields or name in ("intake_key", "entry"):
                name = None
            for message in messages:
                self.add_error(name, message)

    def place_error(self, message: str) -> None:
        """The actor may not take in calls for the chosen place (PermissionDenied from the action)."""
        self.add_error("lon" if self.cleaned_data.get("lon") is not None else "jurisdiction", message)


class KnowledgeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the knowledge base"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {
                "hx-get": reverse("hotline:knowledge"),
                "hx-trigger": "input changed delay:300ms, kb-search",
                "hx-target": "#kb-results",
                "hx-params": "q",
                "hx-sync": "this:replace",
            }
        )
