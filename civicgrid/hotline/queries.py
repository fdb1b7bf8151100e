"""What the hotline screen reads, always through the permission module's scoped querysets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from civicgrid.accounts.actions import check_phone
from civicgrid.accounts.permissions import (
    Capability,
    scope_of,
    visible_cases,
    visible_jurisdictions,
)
from civicgrid.core import crypto
from civicgrid.hotline.models import KnowledgeEntry
from civicgrid.jurisdictions.models import Jurisdiction, Level
from civicgrid.lib.masking import mask_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case

EARLIER_CASES_SHOWN = 10
KNOWLEDGE_SHOWN = 8


def _ancestor_paths(path: str) -> list[str]:
    """ "430100/430103/" → ["430100/", "430100/430103/"]."""
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def visible_knowledge(user: User | AnonymousUser) -> QuerySet[KnowledgeEntry]:
    """Published entries that apply where the user works: platform-wide ones (no jurisdiction), those of
    an area the user sees, and those of an area *containing* the user's (an entry for 长沙市 also answers
    callers in 天心区). Another district's entries stay out of sight."""
    entries = KnowledgeEntry.objects.filter(is_published=True)
    scope = scope_of(user)
    if scope.is_superuser:
        return entries
    above = sorted({p for e in scope.entries_with(Capability.VIEW_MAP) for p in _ancestor_paths(e.path)})
    return entries.filter(
        Q(jurisdiction__isnull=True)
        | Q(jurisdiction__path__in=above)
        | Q(jurisdiction__in=visible_jurisdictions(user))
    )


def search_knowledge(user: User, query: str) -> tuple[list[KnowledgeEntry], int]:
    """Entries whose question, keywords or answer hold every word of ``query`` (at most KNOWLEDGE_SHOWN,
    and how many matched): question matches first, then keyword matches, then by use. An empty query
    gives the most used entries."""
    entries = visible_knowledge(user).select_related("category", "jurisdiction")
    words = query.split()[:5]
    if not words:
        top = list(entries.order_by("-use_count", "title")[:KNOWLEDGE_SHOWN])
        return top, len(top)
    in_title = Q()
    in_keywords = Q()
    for word in words:
        entries = entries.filter(
            Q(title__icontains=word) | Q(keywords__icontains=word) | Q(answer__icontains=word)
        )
        in_title &= Q(title__icontains=word)
        in_keywords &= Q(title__icontains=word) | Q(keywords__icontains=word)
    ranked: QuerySet[KnowledgeEntry] = entries.annotate(
        rank=When_(
            When(in_title, then=Value(0)),
            When(in_keywords, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("rank", "-use_count", "title")
    found = list(ranked[: KNOWLEDGE_SHOWN + 1])
    count = len(found) if len(found) <= KNOWLEDGE_SHOWN else entries.count()
    return found[:KNOWLEDGE_SHOWN], count


@dataclass(frozen=True)
class CallerHistory:
    masked_phone: str
    cases: list[Case]  # newest first, at most EARLIER_CASES_SHOWN
    count: int


def phone_digest(phone: str) -> str:
    """The digest cases keep of a resident's phone, normalised exactly as the intake does (check_phone,
    then crypto.digest: see civicgrid.cases.actions.intake). ValidationError for a malformed number."""
    try:
        normalised = check_phone(phone)
    except ValidationError:
        raise ValidationError(
            _("Enter an 11-digit mobile number or a landline with its area code.")
        ) from None
    if not normalised:
        raise ValidationError(_("Type the caller's phone number first."))
    return crypto.digest(normalised)


def caller_history(user: User, phone: str) -> CallerHistory:
    """The earlier cases of the caller with this phone that the user may see (repeat callers)."""
    digest = phone_digest(phone)
    cases = (
        visible_cases(user)
        .filter(reporter_phone_digest=digest)
        .select_related("category")
        .only("number", "title", "status", "received_at", "category__name", "is_anonymous")
        .order_by("-received_at")
    )
    shown = list(cases[: EARLIER_CASES_SHOWN + 1])
    count = len(shown) if len(shown) <= EARLIER_CASES_SHOWN else cases.count()
    return CallerHistory(
        masked_phone=mask_phone(check_phone(phone)), cases=shown[:EARLIER_CASES_SHOWN], count=count
    )


def intake_places(user: User) -> QuerySet[Jurisdiction]:
    """The streets and communities an operator may file a call under."""
    return visible_jurisdictions(user).filter(level__in=[Level.TOWNSHIP, Level.COMMUNITY], is_active=True)


def place_choices(user: User) -> list[tuple[str, str, str, str, str]]:
    """(code, name, level, parent code, parent name) of the intake places, in tree order. Plain values:
    the desk lists a hundred or more, and model instances cost more than the page's other work."""
    return list(
        intake_places(user)
        .order_by("path")
        .values_list("code", "name", "level", "parent__code", "parent__name")
    )
