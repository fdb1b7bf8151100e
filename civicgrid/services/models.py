"""The service window (便民服务中心): the catalogue of service items (事项) and the visits registered at a window.

- ``ServiceItem`` + ``RequiredMaterial``: the catalogue, city-wide data edited in the admin. An item names
  the *type* of its responsible unit and the *level* that decides it, not a unit: the same item (高龄津贴申请,
  居住证办理 …) is taken in at every street's centre, and the unit that handles a given visit is the unit of
  that type at the visiting centre's ancestor of that level (resolved when the visit is registered, see
  ``actions.responsible_unit_for``). One catalogue row therefore serves every street of the city.
- ``ServiceCenterProfile``: what the printed documents need about a centre that ``Unit`` does not hold
  (address, opening hours, where results are collected); edited by the district's administrators.
- ``WindowVisit`` + ``VisitEvent``: one resident at one window for one item, with its outcome, promised
  date on the working-day calendar, status and append-only history. The materials are a snapshot taken at
  registration, so a later edit of the catalogue does not rewrite what a resident was told.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from civicgrid.cases.models import HandlingClass
from civicgrid.core.fields import EncryptedTextField
from civicgrid.jurisdictions.models import Level
from civicgrid.lib.masking import mask_id_number, mask_phone


class LimitUnit(models.TextChoices):
    """The two units legal limits of service items are given in; the values are
    civicgrid.lib.workcalendar.TimeUnit's, so the calendar arithmetic takes them as they are."""

    WORK_DAY = "work_day", _("working days")
    NATURAL_DAY = "natural_day", _("calendar days")


def limit_display(value: int, unit: str) -> str:
    """ "5 working days", "10 calendar days"; 0 is "on the spot"."""
    if not value:
        return str(_("on the spot"))
    if unit == LimitUnit.NATURAL_DAY:
        return ngettext("%(n)s calendar day", "%(n)s calendar days", value) % {"n": value}
    return ngettext("%(n)s working day", "%(n)s working days", value) % {"n": value}


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("original")
    COPY = "copy", _("copy")
    ORIGINAL_AND_COPY = "original_and_copy", _("original and copy")


class ServiceItem(models.Model):
    code = models.CharField(_("code"), max_length=32)  # unique: see Meta
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    handling_class = models.CharField(
        _("handling class"), max_length=16, choices=HandlingClass.choices, default=HandlingClass.PROMISED
    )
    legal_limit_value = models.PositiveSmallIntegerField(
        _("legal limit"),
        default=0,
        help_text=_("The limit set by law or regulation (法定时限); 0: on the spot."),
    )
    promised_limit_value = models.PositiveSmallIntegerField(
        _("promised limit"),
        default=0,
        help_text=_("The limit the centre promises residents (承诺时限); at most the legal limit."),
    )
    limit_unit = models.CharField(
        _("limit unit"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORK_DAY
    )
    unit_type = models.ForeignKey(
        "jurisdictions.UnitType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible unit type"),
        help_text=_(
            "With the level: the unit of this type at that level above the visiting centre handles the "
            "item, so one item serves every street."
        ),
    )
    level = models.CharField(
        _("deciding level"), max_length=16, choices=Level.choices, default=Level.TOWNSHIP
    )
    fee = models.CharField(_("fee"), max_length=100, blank=True, help_text=_("Empty: free of charge."))
    basis = models.TextField(_("legal basis"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("sort order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["order", "code"]
        constraints = [models.UniqueConstraint(fields=["code"], name="serviceitem_code_uniq")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def promised_limit_display(self) -> str:
        return limit_display(self.promised_limit_value, self.limit_unit)

    @property
    def legal_limit_display(self) -> str:
        return limit_display(self.legal_limit_value, self.limit_unit)


class RequiredMaterial(models.Model):
    item = models.ForeignKey(
        ServiceItem, on_delete=models.CASCADE, related_name="materials", verbose_name=_("service item")
    )
    name = models.CharField(_("material"), max_length=200)
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)
    form = models.CharField(
        _("form"), max_length=20, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    required = models.BooleanField(_("required"), default=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("required material")
        verbose_name_plural = _("required materials")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ServiceCenterProfile(models.Model):
    """The public details of a 便民服务中心 printed on its notices and receipts."""

    unit = models.OneToOneField(
        "jurisdictions.Unit", on_delete=models.PROTECT, related_name="service_profile", verbose_name=_("unit")
    )
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(
        _("public phone"), max_length=32, blank=True, help_text=_("Empty: the unit's office phone.")
    )
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    collection_point = models.CharField(
        _("where results are collected"), max_length=200, blank=True, help_text=_("Empty: this centre.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service centre details")
        verbose_name_plural = _("service centre details")

    def __str__(self) -> str:
        return str(self.unit)


class Outcome(models.TextChoices):
    ACCEPTED = (
        "accepted",
        pgettext_lazy("window visit outcome", "accepted"),
    )  # 受理: every required material is there
    NOTICE = (
        "notice",
        pgettext_lazy("window visit outcome", "one-time notice"),
    )  # 一次性告知: materials missing, the full list printed
    INSTANT = "instant", pgettext_lazy("window visit outcome", "done on the spot")  # 即办
    REFUSED = "refused", pgettext_lazy("window visit outcome", "refused")  # 不予受理, with the reason


class VisitStatus(models.TextChoices):
    REGISTERED = "registered", pgettext_lazy("window visit status", "registered")
    IN_PROGRESS = "in_progress", pgettext_lazy("window visit status", "in progress")
    DONE = "done", pgettext_lazy("window visit status", "done")  # 办结: the result is ready
    COLLECTED = "collected", pgettext_lazy("window visit status", "collected")  # 已领取
    CLOSED = (
        "closed",
        pgettext_lazy("window visit status", "closed"),
    )  # nothing further: notice given or application refused


# Statuses in which the centre still owes the resident something (the promised date runs).
OPEN_STATUSES: tuple[str, ...] = (VisitStatus.REGISTERED, VisitStatus.IN_PROGRESS)


class VisitAction(models.TextChoices):
    REGISTER = "register", pgettext_lazy("window visit action", "register")
    START = "start", pgettext_lazy("window visit action", "start handling")
    COMPLETE = "complete", pgettext_lazy("window visit action", "complete")
    COLLECT = "collect", pgettext_lazy("window visit action", "mark collected")


class VisitNumberCounter(models.Model):
    """The last visit number issued on a day (numbers are W + date + sequence, unique city-wide)."""

    day = models.DateField(_("day"), unique=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class WindowVisit(models.Model):
    number = models.CharField(_("visit number"), max_length=20)  # unique: see Meta
    item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, related_name="visits", verbose_name=_("service item")
    )
    service_center = models.ForeignKey(
        "jurisdictions.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service centre"),
        db_index=False,  # visit_center_reg_idx starts with it
    )
    responsible_unit = models.ForeignKey(
        "jurisdictions.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible unit"),
        db_index=False,  # never filtered on by the window
    )
    applicant_name = models.CharField(_("applicant"), max_length=64)
    applicant_phone = EncryptedTextField(_("applicant phone"))
    applicant_phone_digest = models.CharField(
        _("applicant phone digest"), max_length=64, editable=False, db_index=True
    )
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_digest = models.CharField(
        _("ID number digest"), max_length=64, blank=True, editable=False
    )  # indexed: see Meta
    # A snapshot of the item's materials at registration: [{"id", "name", "copies", "form", "required",
    # "notes", "received"}], in the catalogue's order.
    materials = models.JSONField(_("materials"), default=list)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    note = models.TextField(_("note"), blank=True)
    # Copies of the item's limits when the visit was registered (the catalogue may change later).
    promised_limit_value = models.PositiveSmallIntegerField(_("promised limit"), default=0)
    legal_limit_value = models.PositiveSmallIntegerField(_("legal limit"), default=0)
    limit_unit = models.CharField(_("limit unit"), max_length=16, choices=LimitUnit.choices)
    promised_due_at = models.DateTimeField(
        _("promised by"), null=True, blank=True, help_text=_("The end of the promised completion day.")
    )
    status = models.CharField(_("status"), max_length=16, choices=VisitStatus.choices)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("window visit", "registered by"),
        db_index=False,  # never filtered on by the window
    )
    registered_at = models.DateTimeField(pgettext_lazy("window visit", "registered at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("window visit")
        verbose_name_plural = _("window visits")
        ordering = ["-registered_at"]
        constraints = [models.UniqueConstraint(fields=["number"], name="windowvisit_number_uniq")]
        indexes = [
            # The desk's and the list's "this centre, newest first".
            models.Index(fields=["service_center", "-registered_at"], name="visit_center_reg_idx"),
            # "Due soon / overdue" among the visits still owed; only those have a running promise.
            models.Index(
                fields=["promised_due_at"],
                name="visit_open_due_idx",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # Finding a returning resident by ID number; most visits have none.
            models.Index(
                fields=["id_number_digest"],
                name="visit_id_digest_idx",
                condition=~models.Q(id_number_digest=""),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.applicant_phone or "")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def material_rows(self) -> list[dict[str, Any]]:
        """The snapshot with display labels: ``form_label`` (原件 / 复印件 …) and ``missing``."""
        forms = dict(MaterialForm.choices)
        return [
            {
                **m,
                "form_label": forms.get(m.get("form", ""), m.get("form", "")),
                "missing": bool(m.get("required") and not m.get("received")),
            }
            for m in self.materials
        ]

    @property
    def received_materials(self) -> list[dict[str, Any]]:
        return [m for m in self.material_rows if m.get("received")]

    @property
    def missing_materials(self) -> list[dict[str, Any]]:
        """Required materials the resident did not bring."""
        return [m for m in self.material_rows if m["missing"]]

    @property
    def promised_limit_display(self) -> str:
        return limit_display(self.promised_limit_value, self.limit_unit)

    @property
    def legal_limit_display(self) -> str:
        return limit_display(self.legal_limit_value, self.limit_unit)

    @property
    def promised_date(self) -> date | None:
        """The promised completion day (``promised_due_at`` is the midnight that ends it)."""
        if self.promised_due_at is None:
            return None
        return timezone.localtime(self.promised_due_at - timedelta(microseconds=1)).date()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class VisitEvent(models.Model):
    """Append-only history: one row per change of a visit, numbered gap-free per visit."""

    visit = models.ForeignKey(
        WindowVisit,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("window visit"),
        db_index=False,  # visitevent_visit_seq_uniq starts with it
    )
    seq = models.PositiveSmallIntegerField(_("sequence"))
    code = models.CharField(_("action"), max_length=16, choices=VisitAction.choices)
    from_status = models.CharField(_("from status"), max_length=16, choices=VisitStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, choices=VisitStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("time"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")
        ordering = ["visit", "seq"]
        constraints = [models.UniqueConstraint(fields=["visit", "seq"], name="visitevent_visit_seq_uniq")]

    def __str__(self) -> str:
        return f"{self.visit_id}#{self.seq} {self.code}"
