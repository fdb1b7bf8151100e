"""How the statistics pages write numbers: percentages with one decimal, changes with their direction."""

from __future__ import annotations

from fractions import Fraction

from django import template
from django.utils.translation import gettext as _

from civicgrid.stats.figures import Change

register = template.Library()


@register.filter
def pct(value: Fraction | float | None) -> str:
    """A share (0–1) as "12.3%"; "—" when there is none."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@register.filter
def change(c: Change) -> str:
    """A count's change: "↑12.5%" / "↓36.0%" / "持平"; "—" when the base is 0."""
    if c.rate is None:
        return "—"
    if c.rise is None:
        return _("no change")
    return f"{'↑' if c.rise else '↓'}{abs(float(c.rate)) * 100:.1f}%"


@register.filter
def points(c: Change) -> str:
    """A rate's change in percentage points: "+2.1 pp"; "—" when either rate is missing."""
    if c.diff is None:
        return "—"
    return _("%(sign)s%(n)s pp") % {
        "sign": "+" if c.diff >= 0 else "−",
        "n": f"{abs(float(c.diff)) * 100:.1f}",
    }
