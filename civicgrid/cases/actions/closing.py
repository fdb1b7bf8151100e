"""After the reply: verification (核查, or 返工), revisit (回访), reopening (重办), forced closure and archive."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.cases import clocks, notify
from civicgrid.cases.actions.base import case_step, require_text
from civicgrid.cases.actions.intake import PhotoUpload, _save_photo, check_photo
from civicgrid.cases.actions.levels import current_lead, end_assignments
from civicgrid.cases.models import (
    AssignmentStatus,
    Case,
    CaseAssignment,
    PhotoStage,
    Resolution,
    Revisit,
    RevisitChannel,
    Satisfaction,
    Stage,
)
from civicgrid.cases.workflow import Action, Status

if TYPE_CHECKING:
    from civicgrid.accounts.models import User


def do_verify(
    case: Case,
    *,
    passed: bool,
    note: str = "",
    photos: tuple[PhotoUpload, ...] = (),
    actor: User | None,
) -> Case:
    """核查: pass → resolved (结案; the revisit clock starts when the resident can be asked);
    fail → back to the unit for rework (返工) with a new handling deadline."""
    if not passed:
        note = require_text(note, "note")
    photo_types = [check_photo(p) for p in photos]
    target = Status.RESOLVED if passed else Status.HANDLING
    with case_step(case, Action.VERIFY, actor=actor, target=target) as step:
        c = step.case
        for photo, content_type in zip(photos, photo_types, strict=True):
            _save_photo(c, photo, content_type, PhotoStage.VERIFY, actor=step.actor, at=step.at)
        clocks.stop_clocks(c, Stage.VERIFY, at=step.at)
        step.data = {"passed": passed, "note": note}
        if passed:
            step.set(closed_at=step.at)
            if c.needs_revisit:
                clocks.start_clocks(c, Stage.REVISIT, at=step.at)
        else:
            lead = current_lead(c)
            if lead is not None:
                CaseAssignment.objects.filter(pk=lead.pk).update(status=AssignmentStatus.ACCEPTED)
            step.set(rework_count=c.rework_count + 1)
            clocks.start_clocks(c, Stage.HANDLE, at=step.at)
            if c.lead_unit_id:
                notify.tell(
                    notify.unit_staff(c.lead_unit_id),
                    c,
                    "case.rework",
                    _("Verification failed: rework"),
                    note,
                )
    return case


def do_revisit(
    case: Case,
    *,
    channel: str,
    satisfaction: str,
    resolution: str = "",
    reached: bool = True,
    comment: str = "",
    actor: User | None,
) -> Revisit:
    """回访: was it solved, is the resident satisfied. An unreachable resident ends as "not rated"."""
    if channel not in RevisitChannel.values:
        raise ValidationError({"channel": _("“%(value)s” is not a valid choice.") % {"value": channel}})
    if not reached:
        satisfaction, resolution = Satisfaction.NOT_RATED, ""
    if satisfaction not in Satisfaction.values:
        raise ValidationError(
            {"satisfaction": _("“%(value)s” is not a valid choice.") % {"value": satisfaction}}
        )
    if resolution and resolution not in Resolution.values:
        raise ValidationError({"resolution": _("“%(value)s” is not a valid choice.") % {"value": resolution}})
    if reached and not resolution:
        raise ValidationError({"resolution": _("Ask whether the problem was solved.")})
    if satisfaction == Satisfaction.UNSATISFIED and not comment.strip():
        raise ValidationError({"comment": _("Record why the resident is not satisfied.")})
    with case_step(case, Action.REVISIT, actor=actor) as step:
        c = step.case
        revisit = Revisit.objects.create(
            case=c,
            by=step.actor,
            at=step.at,
            channel=channel,
            reached=reached,
            resolution=resolution,
            satisfaction=satisfaction,
            comment=comment.strip(),
        )
        clocks.stop_clocks(c, Stage.REVISIT, at=step.at)
        step.data = {
            "revisit": revisit.pk,
            "reached": reached,
            "resolution": resolution,
            "satisfaction": satisfaction,
        }
    return revisit


def do_reopen(case: Case, *, reason: str, to_dispatch: bool = False, actor: User | None) -> Case:
    """重办 after an unsatisfied or unsolved revisit, approved by the oversight office: back to the same
    unit (``handling``) or, when the case was misrouted, to the desk that dispatched it (``registered``).
    The category sets whether and for how long after closure a case may be reopened, and how often."""
    reason = require_text(reason, "reason")
    target = Status.REGISTERED if to_dispatch else Status.HANDLING
    with case_step(case, Action.REOPEN, actor=actor, target=target) as step:
        c = step.case
        last = c.revisits.order_by("-at", "-pk").first()
        if last is None or not last.asks_for_rework:
            raise ValidationError(
                {"reason": _("Only a case the resident found unsolved or unsatisfying can be reopened.")}
            )
        category = c.category
        if category is not None:
            if not category.allow_reopen:
                raise ValidationError({"reason": _("Cases of this category cannot be reopened.")})
            if c.closed_at and step.at > c.closed_at + timedelta(days=category.reopen_window_days):
                raise ValidationError(
                    {
                        "reason": _("The case closed more than %(n)s days ago.")
                        % {"n": category.reopen_window_days}
                    }
                )
            if c.reopen_count >= category.reopen_cap:
                raise ValidationError(
                    {"reason": _("The case was already reopened %(n)s times.") % {"n": c.reopen_count}}
                )
        lead = current_lead(c)
        step.set(reopen_count=c.reopen_count + 1, closed_at=None)
        step.data = {"reason": reason, "to_dispatch": to_dispatch}
        if to_dispatch or lead is None:
            if lead is None and not to_dispatch:
                raise ValidationError(
                    {"to_dispatch": _("No unit holds this case any more; reopen it for dispatch.")}
                )
            desk = lead.dispatched_from if lead is not None else c.jurisdiction
            end_assignments(c)
            step.set(lead_unit=None, jurisdiction=desk, level=desk.level, level_path=desk.path)
            clocks.start_clocks(c, Stage.DISPATCH, at=step.at)
        else:
            CaseAssignment.objects.filter(pk=lead.pk).update(status=AssignmentStatus.ACCEPTED)
            clocks.start_clocks(c, Stage.HANDLE, at=step.at)
            notify.tell(notify.unit_staff(lead.unit_id), c, "case.reopened", _("Case reopened"), reason)
    return case


def do_force_close(case: Case, *, reason: str, actor: User | None) -> Case:
    """强制结案 by the oversight office (e.g. an unreasonable demand explained to the resident)."""
    reason = require_text(reason, "reason")
    with case_step(case, Action.FORCE_CLOSE, actor=actor) as step:
        c = step.case
        clocks.stop_clocks(c, at=step.at)
        end_assignments(c)
        step.set(is_forced_close=True, closed_at=step.at)
        if c.needs_revisit:
            clocks.start_clocks(c, Stage.REVISIT, at=step.at)
        step.data = {"reason": reason}
    return case


def do_archive(case: Case, *, actor: User | None) -> Case:
    """归档: read-only from now on (after the revisit, or by the worker some days after closure)."""
    with case_step(case, Action.ARCHIVE, actor=actor) as step:
        clocks.stop_clocks(step.case, at=step.at)
        end_assignments(step.case)
    return case
