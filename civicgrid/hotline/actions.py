"""The hotline's writes: taking a call in as a case, answering it directly from the knowledge base, and
editing the knowledge base. Case rows are only ever written by the case actions (civicgrid.cases.actions)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import can_administer_path, scope_of
from civicgrid.cases.actions import do_answer_directly, do_create_case
from civicgrid.cases.models import Case, Category, Channel, HandlingClass, Nature, Urgency
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry
from civicgrid.hotline.queries import visible_knowledge
from civicgrid.lib import clock

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.jurisdictions.models import Jurisdiction


@dataclass(frozen=True)
class Call:
    """What the operator recorded about one call: the intake fields of the case it becomes."""

    nature: str
    title: str
    description: str
    category: Category | None = None
    handling_class: str = HandlingClass.PROMISED
    urgency: str = Urgency.NORMAL
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    jurisdiction: Jurisdiction | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    is_anonymous: bool = False
    intake_key: str | None = None

    def intake(self) -> dict[str, Any]:
        """do_create_case's keyword arguments (dataclasses.asdict would deep-copy the model instances)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def do_take_call(call: Call, *, actor: User | None) -> tuple[Case, bool]:
    """受理: the call becomes a case on the hotline channel. A retry with the same ``intake_key`` returns
    the first case (``created`` False). No transaction of our own: do_create_case writes the case in one
    statement on PostgreSQL, which an enclosing transaction would turn into several."""
    return do_create_case(channel=Channel.HOTLINE, **call.intake(), actor=actor)


def do_answer_call(
    call: Call, *, answer: str, entry: KnowledgeEntry | None = None, actor: User | None
) -> Case:
    """直接答复: take the call in and close it at once with ``answer`` (usually from the knowledge base
    ``entry``, whose use is counted and recorded). One transaction: if answering fails, the case is not
    left behind half-done. A call the operator did not classify takes the entry's category."""
    errors: dict[str, list[str]] = {}
    text = (answer or "").strip()
    if not text:
        errors["answer"] = [_("Write the answer given to the caller, or pick one from the knowledge base.")]
    if call.nature != Nature.CONSULT:
        errors["nature"] = [
            _("Only consultations can be answered directly: choose “consultation” or create a case.")
        ]
    if entry is not None and actor is not None and not visible_knowledge(actor).filter(pk=entry.pk).exists():
        errors["entry"] = [_("This knowledge base entry is not available to you.")]
    if errors:
        raise ValidationError(errors)
    if (
        entry is not None
        and call.category is None
        and entry.category is not None
        and entry.category.is_active
    ):
        call = replace(call, category=entry.category)
    with transaction.atomic():
        case, created = do_create_case(channel=Channel.HOTLINE, **call.intake(), actor=actor)
        if not created:
            # A retry of the same submission: the first one committed both steps, or neither (atomic).
            return case
        do_answer_directly(case, answer=text, actor=actor)
        if entry is not None:
            locked = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
            locked.use_count += 1
            locked.save(update_fields=["use_count"])
            AnswerUse.objects.create(entry=locked, case=case, actor=actor, at=case.closed_at or clock.now())
    return case


# --- The knowledge base (edited by administrators in the admin) -----------------------------------------


def check_knowledge_entry(
    *,
    title: str,
    answer: str,
    keywords: str = "",
    jurisdiction: Jurisdiction | None = None,
    actor: User | None,
) -> None:
    """ValidationError (by field) unless the entry may be saved so by the actor: a question and an answer,
    and a jurisdiction the actor administers — platform-wide entries (none) are for superusers only."""
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("This field is required.")]
    elif len(title.strip()) > 200:
        errors["title"] = [_("At most 200 characters.")]
    if not (answer or "").strip():
        errors["answer"] = [_("This field is required.")]
    if len(keywords or "") > 200:
        errors["keywords"] = [_("At most 200 characters.")]
    if actor is not None and not scope_of(actor).is_superuser:
        if jurisdiction is None:
            errors["jurisdiction"] = [
                _("Only platform operators may publish entries for the whole platform; choose an area.")
            ]
        elif not can_administer_path(actor, jurisdiction.path):
            errors["jurisdiction"] = [_("Choose an area you administer.")]
    if errors:
        raise ValidationError(errors)


def do_save_knowledge_entry(
    entry: KnowledgeEntry | None,
    *,
    title: str,
    answer: str,
    keywords: str = "",
    category: Category | None = None,
    jurisdiction: Jurisdiction | None = None,
    is_published: bool = True,
    actor: User | None,
) -> KnowledgeEntry:
    """Create (``entry`` None) or change a knowledge base entry."""
    check_knowledge_entry(
        title=title, answer=answer, keywords=keywords, jurisdiction=jurisdiction, actor=actor
    )
    with transaction.atomic():
        if entry is None:
            entry = KnowledgeEntry()
        else:
            # Lock the entry only: the jurisdiction is read, not changed (and PostgreSQL cannot lock the
            # nullable side of the outer join anyway).
            entry = (
                KnowledgeEntry.objects.select_for_update(of=("self",))
                .select_related("jurisdiction")
                .get(pk=entry.pk)
            )
            old = entry.jurisdiction
            if (
                actor is not None
                and not scope_of(actor).is_superuser
                and (old is None or not can_administer_path(actor, old.path))
            ):
                raise PermissionDenied(_("You may only edit entries of the areas you administer."))
        entry.title = title.strip()
        entry.answer = answer.strip()
        entry.keywords = " ".join((keywords or "").split())
        entry.category = category
        entry.jurisdiction = jurisdiction
        entry.is_published = is_published
        entry.updated_by = actor
        entry.save()
    return entry


__all__ = [
    "Call",
    "check_knowledge_entry",
    "do_answer_call",
    "do_save_knowledge_entry",
    "do_take_call",
]
