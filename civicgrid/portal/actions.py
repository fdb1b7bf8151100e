"""Every write of the resident portal. Cases are written only through the case actions (actor None: the
public has no account); these functions add the portal's own rows around them.

Rate limits are counted in the database (SubmissionLog), so they hold across every web process. The count
and the new log row are one short transaction that locks the policy row, so two processes cannot both slip
under a limit at the same moment; the case itself is taken in afterwards, outside that transaction (the
intake's own fast path must not run inside a caller's transaction, see docs/architecture.md "Cases").
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.accounts.permissions import case_action_allowed
from civicgrid.cases import notify
from civicgrid.cases.actions import PhotoUpload, do_create_case, do_reopen
from civicgrid.cases.models import Case, Category, Channel, Kind
from civicgrid.cases.workflow import Action, TransitionNotAllowed
from civicgrid.lib import clock
from civicgrid.portal import links
from civicgrid.portal.models import (
    PortalPolicy,
    ReopenRequest,
    ReopenStatus,
    SubmissionKind,
    SubmissionLog,
    Support,
    TrackingLink,
)
from civicgrid.portal.queries import current_policy, reopen_refusal

if TYPE_CHECKING:
    from civicgrid.accounts.models import User
    from civicgrid.jurisdictions.models import Jurisdiction

log = logging.getLogger(__name__)


class RateLimited(Exception):  # noqa: N818 — reads as a state, like TransitionNotAllowed
    """Too many submissions from one address in the last hour, or with one phone in the last day."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _check_rate(kind: SubmissionKind, *, ip_digest: str, phone_digest: str = "") -> None:
    """Count the attempt against the limits and log it; RateLimited (nothing logged) when over a limit."""
    with transaction.atomic():
        # The lock serializes the count-then-insert of concurrent submissions across processes.
        policy = PortalPolicy.objects.select_for_update().get(pk=current_policy().pk)
        now = clock.now()
        kinds = [kind, SubmissionKind.HONEYPOT] if kind == SubmissionKind.REPORT else [kind]
        recent = SubmissionLog.objects.filter(kind__in=kinds, at__gte=now - timedelta(hours=1))
        if recent.filter(ip_digest=ip_digest).count() >= policy.submissions_per_ip_per_hour:
            raise RateLimited(
                _(
                    "Too many submissions from your network in the last hour. Please try again later or call 12345."
                )
            )
        if phone_digest:
            today = SubmissionLog.objects.filter(
                kind=kind, phone_digest=phone_digest, at__gte=now - timedelta(days=1)
            )
            if today.count() >= policy.submissions_per_phone_per_day:
                raise RateLimited(
                    _(
                        "Too many submissions with this phone number today. Please try again tomorrow or call 12345."
                    )
                )
        SubmissionLog.objects.create(at=now, kind=kind, ip_digest=ip_digest, phone_digest=phone_digest)


@dataclass(frozen=True)
class Submission:
    case: Case
    secret: str  # the tracking link's secret: shown once, on the receipt
    created: bool  # False: a double submit, answered with the first case


def do_submit_request(
    *,
    form_key: str,
    ip_address: str,
    nature: str,
    title: str,
    description: str,
    category: Category | None,
    address: str,
    lon: float | None,
    lat: float | None,
    jurisdiction: Jurisdiction | None,
    reporter_name: str,
    reporter_phone: str,
    is_anonymous: bool,
    photos: tuple[PhotoUpload, ...] = (),
    actor: User | None,
) -> Submission:
    """A resident's request from the web: counted against the rate limits, taken in as a case (受理, channel
    web, no staff actor) and given its secret tracking link. The same ``form_key`` again (a double submit)
    returns the first case and the same link, and is not counted twice.

    ``actor`` is accepted for the house signature but must be None: the public portal writes as nobody,
    even when a staff member happens to be logged in."""
    if actor is not None:
        raise PermissionDenied(_("The resident portal takes requests from the public only."))
    key = links.intake_key(form_key)
    secret = links.secret_for(form_key)
    if not Case.objects.filter(intake_key=key).exists():
        phone = "".join(reporter_phone.split())
        _check_rate(
            SubmissionKind.REPORT,
            ip_digest=links.ip_digest(ip_address),
            phone_digest=links.phone_digest(phone),
        )
    case, created = do_create_case(
        channel=Channel.WEB,
        kind=Kind.APPEAL,
        nature=nature,
        title=title,
        description=description,
        category=category,
        address=address,
        lon=lon,
        lat=lat,
        jurisdiction=jurisdiction,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        is_anonymous=is_anonymous,
        photos=photos,
        intake_key=key,
        actor=None,
    )
    # Its own step, after the intake (see the module's docstring). Should it ever fail after the case was
    # written, the resident's retry with the same form key creates the link for the same case.
    with transaction.atomic():
        TrackingLink.objects.get_or_create(
            case=case, defaults={"secret_digest": links.secret_digest(secret), "created_at": clock.now()}
        )
    return Submission(case=case, secret=secret, created=created)


def do_log_honeypot(*, ip_address: str, actor: User | None) -> None:
    """A robot filled the hidden field: nothing is taken in. The attempt is logged (and counted against
    the address's hourly limit, so a flood of them is refused too)."""
    digest = links.ip_digest(ip_address)
    log.warning("portal: honeypot field filled, submission dropped (address digest %s)", digest[:12])
    with contextlib.suppress(RateLimited):  # the robot is told "thank you" either way
        _check_rate(SubmissionKind.HONEYPOT, ip_digest=digest)


def do_add_support(
    case: Case, *, ip_address: str, phone: str = "", actor: User | None
) -> tuple[Support, bool]:
    """ "I have the same problem": a resident's support for an open case instead of a new report. One per
    case and address (or phone); ``created`` is False when this resident already supported the case."""
    if actor is not None:
        raise PermissionDenied(_("The resident portal takes requests from the public only."))
    ip = links.ip_digest(ip_address)
    phone_digest = links.phone_digest("".join(phone.split()))
    earlier = Support.objects.filter(case=case, ip_digest=ip).first()
    if earlier is None and phone_digest:
        earlier = Support.objects.filter(case=case, phone_digest=phone_digest).first()
    if earlier is not None:
        return earlier, False
    _check_rate(SubmissionKind.SUPPORT, ip_digest=ip, phone_digest=phone_digest)
    support = Support.objects.create(case=case, at=clock.now(), ip_digest=ip, phone_digest=phone_digest)
    return support, True


def do_request_reopen(case: Case, *, reason: str, actor: User | None) -> ReopenRequest:
    """A resident asks to reopen a closed case they found unsolved. Allowed within the portal's window
    after closure, after a rating that asks for more work, and while no other request waits; the
    oversight office is told and decides on the staff case page (do_decide_reopen_request)."""
    if actor is not None:
        raise PermissionDenied(_("The resident portal takes requests from the public only."))
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": _("Tell us what is still wrong.")})
    if len(text) > 2000:
        raise ValidationError({"reason": _("At most %(n)s characters.") % {"n": 2000}})
    with transaction.atomic():
        policy = current_policy()
        refusal = reopen_refusal(case, policy, at=clock.now())
        if refusal:
            raise ValidationError({"reason": refusal})
        try:
            with transaction.atomic():
                request = ReopenRequest.objects.create(case=case, at=clock.now(), reason=text)
        except IntegrityError:  # another request was made meanwhile (one pending per case)
            raise ValidationError(
                {"reason": _("Your request to reopen this case is waiting for a decision.")}
            ) from None
        notify.tell(
            notify.oversight_staff(case),
            case,
            "case.reopen_requested",
            _("The resident asks to reopen the case"),
            text,
        )
    return request


def do_decide_reopen_request(
    request: ReopenRequest,
    *,
    accept: bool,
    note: str = "",
    to_dispatch: bool = False,
    actor: User | None,
) -> ReopenRequest:
    """The oversight office decides a resident's request to reopen. Accepting reopens the case through the
    case action (重办, same unit or back to dispatch), which checks the decider's permission and the rules;
    declining needs a note, which the resident reads on the tracking page. Only the same people who may
    reopen the case may decline the request."""
    note = (note or "").strip()
    if not accept and not note:
        raise ValidationError({"note": _("Tell the resident why the case is not reopened.")})
    with transaction.atomic():
        locked = ReopenRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
        if locked.status != ReopenStatus.PENDING:
            raise ValidationError({"accept": _("This request was already decided.")})
        case = locked.case
        if accept:
            reason = _("At the resident's request: %(reason)s") % {"reason": locked.reason}
            try:
                do_reopen(case, reason=reason, to_dispatch=to_dispatch, actor=actor)
            except TransitionNotAllowed:
                raise ValidationError(
                    {
                        "accept": _("The case can no longer be reopened (it is %(status)s).")
                        % {"status": case.get_status_display()}
                    }
                ) from None
        elif actor is not None and not case_action_allowed(actor, case, Action.REOPEN):
            raise PermissionDenied(_("You may not decide on reopening this case."))
        locked.status = ReopenStatus.ACCEPTED if accept else ReopenStatus.DECLINED
        locked.decided_by = actor
        locked.decided_at = clock.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        notify.tell_resident(case, "case.reopen_decided", _decision_text(case, accept=accept, note=note))
    request.refresh_from_db()
    return locked


def _decision_text(case: Case, *, accept: bool, note: str) -> str:
    # Residents get the site's language (Chinese), whatever language the supervisor's screen is in.
    with translation.override(settings.LANGUAGE_CODE):
        if accept:
            return _("Your request to reopen case %(number)s was accepted; it is being handled again.") % {
                "number": case.number
            }
        return _("Your request to reopen case %(number)s was declined: %(note)s") % {
            "number": case.number,
            "note": note[:200],
        }


# The longest window a rate limit counts (one phone in a day), with a margin.
SUBMISSION_LOG_KEPT = timedelta(days=2)


def do_prune_submission_log(*, actor: User | None) -> int:
    """Drop log entries no rate limit counts any more (the worker job ``portal.prune``): the log is personal
    data (digests of addresses and phones), kept no longer than it is needed."""
    deleted, _rows = SubmissionLog.objects.filter(at__lt=clock.now() - SUBMISSION_LOG_KEPT).delete()
    return deleted


def do_save_portal_policy(policy: PortalPolicy, *, actor: User | None) -> PortalPolicy:
    """The admin's edit of the policy (superusers: it is the whole portal's)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only platform operators may change the portal policy."))
    policy.full_clean()
    with transaction.atomic():
        policy.save()
    return policy
