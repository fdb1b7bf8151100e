"""Side records of a case: escalation hops, extension requests, supervision orders, revisits, photos."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.cases.models.case import Case
from civicgrid.cases.models.catalog import TimeUnit
from civicgrid.jurisdictions.models import Level


class Trigger(models.TextChoices):
    MANUAL = "manual", _("manual")  # 上报 by the unit or the dispatcher, with a reason
    TIMEOUT = "timeout", _("timeout")  # a clock rule fired
    RULE = "rule", _("rule")  # the category or handling class demands a higher level


class EscalationHop(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hops")
    direction = models.SmallIntegerField(default=1, help_text="+1 up the ladder (上报), -1 down (下派)")
    from_level = models.CharField(max_length=16, choices=Level.choices)
    to_level = models.CharField(max_length=16, choices=Level.choices)
    from_jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="+"
    )
    to_jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="+"
    )
    from_unit = models.ForeignKey(
        "jurisdictions.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("escalation hop")
        verbose_name_plural = _("escalation hops")
        ordering = ["case", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_level} → {self.to_level} ({self.trigger})"


class DecisionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("extension decision", "pending")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class ExtensionRequest(models.Model):
    """延期: asked by the lead unit before the handling deadline, decided by the oversight office."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey("jurisdictions.Unit", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    amount = models.DecimalField(_("extension"), max_digits=8, decimal_places=2)
    time_unit = models.CharField(_("time unit"), max_length=16, choices=TimeUnit.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["case", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="extension_one_pending_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: +{self.amount} {self.time_unit} ({self.status})"


class OrderKind(models.TextChoices):
    SUPERVISE = "supervise", _("supervision")  # 督办
    URGE = "urge", _("urging")  # 催办


class SupervisionOrder(models.Model):
    """督办单 / 催办 record: who, when, the opinion and, for supervision, a reply deadline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="orders")
    kind = models.CharField(max_length=16, choices=OrderKind.choices)
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_unit = models.ForeignKey(
        "jurisdictions.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    opinion = models.TextField(blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["case", "at"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind} @ {self.at:%Y-%m-%d}"


class Resolution(models.TextChoices):
    RESOLVED = "resolved", pgettext_lazy("revisit answer", "resolved")  # 解决
    PARTLY = "partly", _("partly resolved")  # 部分解决
    UNRESOLVED = "unresolved", _("unresolved")  # 未解决


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")  # 满意
    BASICALLY = "basically", _("basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("unsatisfied")  # 不满意
    NOT_RATED = "not_rated", _("not rated")  # 未评价 (unreachable or declined)


class RevisitChannel(models.TextChoices):
    PHONE = "phone", _("phone")
    SMS = "sms", _("SMS")
    WEB = "web", _("web")
    VISIT = "visit", _("visit")


class Revisit(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="revisits")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    channel = models.CharField(_("channel"), max_length=8, choices=RevisitChannel.choices)
    reached = models.BooleanField(_("reached the resident"), default=True)
    resolution = models.CharField(_("resolved?"), max_length=16, choices=Resolution.choices, blank=True)
    satisfaction = models.CharField(_("satisfied?"), max_length=16, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        ordering = ["case", "at"]
        indexes = [models.Index(fields=["at"], name="revisit_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.satisfaction} @ {self.at:%Y-%m-%d}"

    @property
    def asks_for_rework(self) -> bool:
        return self.satisfaction == Satisfaction.UNSATISFIED or self.resolution == Resolution.UNRESOLVED


class PhotoStage(models.TextChoices):
    INTAKE = "intake", _("reported")
    REPLY = "reply", _("after handling")
    VERIFY = "verify", _("verification")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=8, choices=PhotoStage.choices, default=PhotoStage.INTAKE)
    file = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["case", "at"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.stage} {self.content_type}"
