"""Select widgets written in Python. Django renders each <option> through its own template, about a tenth
of a millisecond each; the category catalogue has some 650 options and a district's units several hundred,
which made those selects most of a page's time. These write the same markup directly."""

from __future__ import annotations

from html import escape
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class QuickSelect(forms.Select):
    """A <select>, with <optgroup>s for nested choices; every value and label is escaped."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        if self.allow_multiple_selected:
            final["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}

        def option(key: Any, label: Any) -> str:
            selected = " selected" if str(key) in chosen else ""
            return f'<option value="{escape(str(key))}"{selected}>{escape(str(label))}</option>'

        parts: list[str] = [format_html("<select{}>", flatatt(final))]
        for key, label in self.choices:
            if isinstance(label, list | tuple):
                inner = "".join(option(k, v) for k, v in label)
                parts.append(f'<optgroup label="{escape(str(key))}">{inner}</optgroup>')
            else:
                parts.append(option(key, label))
        parts.append("</select>")
        # Every value and label above went through html.escape (quotes included).
        return mark_safe("".join(parts))


class QuickSelectMultiple(QuickSelect):
    allow_multiple_selected = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return forms.SelectMultiple.value_from_datadict(self, data, files, name)  # type: ignore[arg-type]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # an empty multiple select sends nothing, which is a value (none chosen)
