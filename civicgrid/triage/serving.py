"""Suggesting a category with the model in use, and the lead unit the routing rules give it.

Every process keeps the active model in memory, keyed by its primary key: each suggestion asks the
database which model is active (one indexed row), so a retrained model is taken up by every gunicorn worker
at its next suggestion, and never half-loaded (the weights are one column of one row).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, Category
from civicgrid.jurisdictions.models import Unit
from civicgrid.triage import classifier
from civicgrid.triage.models import ClassifierModel
from civicgrid.triage.policy import policy
from civicgrid.triage.training import case_text

_lock = threading.Lock()
_cache: dict[int, classifier.Classifier] = {}


def active_model() -> tuple[ClassifierModel, classifier.Classifier] | None:
    row = ClassifierModel.objects.filter(is_active=True).defer("weights").first()
    if row is None:
        return None
    with _lock:
        model = _cache.get(row.pk)
    if model is None:
        blob = ClassifierModel.objects.filter(pk=row.pk).values_list("weights", flat=True).get()
        model = classifier.load(bytes(blob))
        with _lock:
            _cache.clear()  # one model in memory: an old one is not used again
            _cache[row.pk] = model
    return row, model


@dataclass(frozen=True)
class Choice:
    category: Category
    probability: float

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


# Why there is no suggestion (stored on the case as the code, shown translated).
NO_MODEL = "no-model"
INACTIVE = "inactive"
UNSURE = "unsure"


def reason_text(code: str, best_percent: int | None = None) -> str:
    if code == UNSURE:
        return _("No suggestion: the model is not sure (%(pct)s %% at best).") % {"pct": best_percent or 0}
    return {
        NO_MODEL: _("No suggestion: no model has been trained yet."),
        classifier.EMPTY: _("No suggestion: the request has no text yet."),
        classifier.NO_WORDS: _("No suggestion: the text has no words to go by."),
        classifier.UNKNOWN: _("No suggestion: none of the text's words were seen in training."),
        INACTIVE: _("No suggestion: the model's categories are no longer active."),
    }.get(code, _("No suggestion."))


@dataclass(frozen=True)
class Suggestion:
    """What to show: the top choices (best first), or why there is no suggestion (``reason_code``)."""

    model: ClassifierModel | None
    choices: list[Choice] = field(default_factory=list)
    reason_code: str = ""

    @property
    def confident(self) -> bool:
        return bool(self.choices) and not self.reason_code

    @property
    def best(self) -> Choice | None:
        return self.choices[0] if self.confident else None

    @property
    def reason(self) -> str:
        if not self.reason_code:
            return ""
        return reason_text(self.reason_code, self.choices[0].percent if self.choices else None)


def suggest(title: str, description: str) -> Suggestion:
    """The model's top 3 for a request's text. Never raises on bad text: empty text, text without
    letters, or text the model never saw give a suggestion without choices and a reason."""
    loaded = active_model()
    if loaded is None:
        return Suggestion(model=None, reason_code=NO_MODEL)
    row, model = loaded
    prediction = model.predict(case_text(title, description))
    if not prediction.ranked:
        return Suggestion(model=row, reason_code=prediction.reason)
    by_code = Category.objects.in_bulk([code for code, _p in prediction.ranked], field_name="code")
    choices = [
        Choice(by_code[code], p)
        for code, p in prediction.ranked
        if code in by_code and by_code[code].is_active
    ]
    if not choices:
        return Suggestion(model=row, reason_code=INACTIVE)
    floor = float(policy().suggest_min_confidence)
    return Suggestion(
        model=row, choices=choices, reason_code="" if choices[0].probability >= floor else UNSURE
    )


def routed_unit_type(category: Category) -> int | None:
    """The unit type the routing rules (权责清单) give a category: its own, else its nearest ancestor's."""
    codes = [c for c in category.path.split("/") if c]
    types = dict(Category.objects.filter(code__in=codes).values_list("code", "unit_type_id"))
    for code in reversed(codes):
        if types.get(code):
            return types[code]
    return None


def route_lead_unit(category: Category, case: Case) -> Unit | None:
    """The lead unit for ``case`` under ``category``: an active unit of the category's unit type inside the
    desk's subtree, the one on the way from the desk down to the place of the case closest to that place;
    None when no unit of the type is on that way (the dispatcher chooses)."""
    type_id = routed_unit_type(category)
    if type_id is None:
        return None
    origin_path = case.origin_path or case.level_path
    chain = [p for p in _prefixes(origin_path) if p.startswith(case.level_path)]
    units = list(
        Unit.objects.filter(
            unit_type_id=type_id, is_active=True, jurisdiction__path__in=chain
        ).select_related("jurisdiction")
    )
    if not units:
        return None
    units.sort(key=lambda u: (-len(u.jurisdiction.path), u.code))
    return units[0]


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[: i + 1]) for i in range(len(parts))]
