"""The form renderer every form uses: Django's, with CivicGrid's field template (core/field.html)."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates


class CivicFormRenderer(DjangoTemplates):
    # ``{{ form.x.as_field_group }}`` and ``{{ form }}`` render each field as: label, help text, the error
    # at the field (aria-describedby and aria-invalid set by Django), then the widget with what was typed.
    field_template_name = "core/field.html"
