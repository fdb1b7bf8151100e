"""What cases are classified by, and the rules that time and escalate them — all data edited in the admin.

- ``Category``: the 分类 tree (seeded from the portal's three-level taxonomy), with the 权责清单 unit type,
  the level a category must start at, and per-category verification and reopen rules.
- ``TimeLimit``: per stage, the limit for a category / nature / handling class / urgency; the most specific
  row wins (see civicgrid.cases.limits). Several rows with the same stage and increasing ``seq`` are staged
  handling limits (停工 → 处罚 → 拆除).
- ``EscalationRule``: what the worker does when a clock crosses a threshold (urge, supervise, escalate).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.jurisdictions.models import Level


class Kind(models.TextChoices):
    APPEAL = "appeal", _("appeal")  # 诉求: a resident's request
    EVENT = "event", _("event")  # 事件: found by a grid worker or inspector


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("hotline")
    WEB = "web", _("web portal")
    WINDOW = "window", _("service window")
    GRID = "grid", _("grid worker")
    APP = "app", _("mobile app")
    OPEN311 = "open311", _("Open311 client")
    LETTER = "letter", _("letter")
    VISIT = "visit", _("visit in person")


class Nature(models.TextChoices):
    CONSULT = "consult", _("consultation")  # 咨询
    HELP = "help", _("request for help")  # 求助
    COMPLAINT = "complaint", _("complaint")  # 投诉
    REPORT = "report", _("report of wrongdoing")  # 举报
    SUGGESTION = "suggestion", _("suggestion")  # 建议
    PRAISE = "praise", _("praise")  # 表扬


class HandlingClass(models.TextChoices):
    INSTANT = "instant", _("instant")  # 即办件
    PROMISED = "promised", _("promised")  # 承诺件
    JOINT = "joint", _("joint")  # 联办件: a lead unit and co-handling units
    ESCALATED = "escalated", _("escalated")  # 上报件: handled above the receiving level


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical")


class TimeUnit(models.TextChoices):
    """Mirrors civicgrid.lib.workcalendar.TimeUnit (the arithmetic lives there)."""

    URGENT_HOUR = "urgent_hour", _("urgent hours")  # 紧急工作时
    WORK_HOUR = "work_hour", _("working hours")  # 工作时
    WORK_DAY = "work_day", _("working days")  # 工作日
    NATURAL_DAY = "natural_day", _("calendar days")  # 自然日


class Stage(models.TextChoices):
    REGISTER = "register", _("registration")  # intake → registered
    DISPATCH = "dispatch", _("dispatch")  # registered → dispatched
    ACCEPT = "accept", _("acceptance")  # dispatched → signed for
    RETURN_WINDOW = "return_window", _("return window")  # a return is allowed until then (no clock)
    HANDLE = "handle", pgettext_lazy("clock stage", "handling")  # until the reply (may be staged)
    VERIFY = "verify", _("verification")  # replied → verified
    REVISIT = "revisit", _("revisit")  # resolved → revisited
    EXTENSION_CAP = "extension_cap", _("extension cap")  # the most all extensions may add (no clock)


CLOCK_STAGES: tuple[Stage, ...] = (
    Stage.REGISTER,
    Stage.DISPATCH,
    Stage.ACCEPT,
    Stage.HANDLE,
    Stage.VERIFY,
    Stage.REVISIT,
)


class HandleStart(models.TextChoices):
    DISPATCH = "dispatch", _("at dispatch")  # 数字城管 practice
    ACCEPT = "accept", _("at acceptance")  # common 12345 practice


class Category(models.Model):
    """One node of the category tree. ``path`` is the chain of codes ("01/0103/010302/")."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(max_length=200, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)
    unit_type = models.ForeignKey(
        "jurisdictions.UnitType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible unit type"),
        help_text=_("The 权责清单 entry: which kind of unit handles this category (inherited by children)."),
    )
    min_level = models.CharField(
        _("handled at least at"),
        max_length=16,
        choices=Level.choices,
        blank=True,
        help_text=_("Cases of this category are escalated to this level at registration."),
    )
    requires_verification = models.BooleanField(
        _("requires verification"), default=True, help_text=_("Off: a reply closes the case without 核查.")
    )
    allow_reopen = models.BooleanField(_("may be reopened"), default=True)
    reopen_window_days = models.PositiveSmallIntegerField(_("reopen window (days)"), default=30)
    reopen_cap = models.PositiveSmallIntegerField(_("most reopenings"), default=2)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to this node."""
        return [part for part in self.path.split("/") if part]


class TimeLimit(models.Model):
    """A time limit for one stage. Blank matching fields mean "any"; the most specific match wins."""

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    seq = models.PositiveSmallIntegerField(
        _("step"), default=0, help_text=_("Staged handling limits: 0, 1, 2 … in order (停工 → 处罚 → 拆除).")
    )
    label = models.CharField(_("label"), max_length=64, blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="time_limits",
        verbose_name=_("category"),
        help_text=_("Applies to this category and its children; blank for all."),
    )
    nature = models.CharField(_("nature"), max_length=16, choices=Nature.choices, blank=True)
    handling_class = models.CharField(
        _("handling class"), max_length=16, choices=HandlingClass.choices, blank=True
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, blank=True)
    value = models.DecimalField(_("limit"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("time unit"), max_length=16, choices=TimeUnit.choices)
    warn_fraction = models.DecimalField(
        _("warning at"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.80"),
        help_text=_("Share of the limit."),
    )
    serious_factor = models.DecimalField(
        _("seriously overdue at"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("3.0"),
        help_text=_("Multiple of the limit."),
    )
    handle_starts = models.CharField(
        _("handling clock starts"), max_length=16, choices=HandleStart.choices, default=HandleStart.ACCEPT
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["stage", "category__path", "nature", "handling_class", "urgency", "seq"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.value} {self.get_unit_display()}"


class Threshold(models.TextChoices):
    WARNING = "warning", _("warning")  # e.g. 80 % of the limit used
    OVERDUE = "overdue", _("overdue")
    SERIOUS = "serious", _("seriously overdue")  # e.g. 3 × the limit


class RuleAction(models.TextChoices):
    URGE = "urge", _("urge the unit")  # 催办
    SUPERVISE = "supervise", _("open a supervision order")  # 督办
    ESCALATE = "escalate", _("escalate one level")  # 上报


class EscalationRule(models.Model):
    """When a clock of ``stage`` crosses ``threshold``, the worker performs ``action`` (if the case matches)."""

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    threshold = models.CharField(_("threshold"), max_length=16, choices=Threshold.choices)
    action = models.CharField(_("action"), max_length=16, choices=RuleAction.choices)
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    level = models.CharField(
        _("at level"), max_length=16, choices=Level.choices, blank=True, help_text=_("Blank: any level.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["stage", "threshold", "action"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} / {self.get_threshold_display()} → {self.get_action_display()}"
