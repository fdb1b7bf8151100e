"""The case, its unit assignments, its clocks and its append-only event history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models.catalog import Channel, HandlingClass, Kind, Nature, Stage, TimeUnit, Urgency
from civicgrid.cases.workflow import Group, Status, in_group
from civicgrid.core.fields import EncryptedTextField
from civicgrid.jurisdictions.models import Level
from civicgrid.lib.masking import mask_phone


class CaseNumberCounter(models.Model):
    """The last number issued per city and year. Incremented by a single UPDATE outside the intake
    transaction (see actions.intake.next_case_number), so the row lock lasts microseconds, not a whole
    intake; a rolled-back intake leaves a gap, which is allowed (numbers are unique, not contiguous)."""

    city_code = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city_code", "year"], name="casenumber_city_year")]

    def __str__(self) -> str:
        return f"{self.city_code}-{self.year}: {self.last}"


class Timing(models.TextChoices):
    ON_TIME = "on_time", _("on time")
    WARNING = "warning", _("due soon")  # the warning share of the limit is used
    OVERDUE = "overdue", _("overdue")
    SERIOUS = "serious", _("seriously overdue")


TIMING_RANK = {Timing.ON_TIME: 0, Timing.WARNING: 1, Timing.OVERDUE: 2, Timing.SERIOUS: 3}


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=32)  # unique: see Meta
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.APPEAL)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    nature = models.CharField(_("nature"), max_length=16, choices=Nature.choices)
    category = models.ForeignKey(
        "cases.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        db_index=False,  # case_category_recv_idx starts with it
    )
    handling_class = models.CharField(
        _("handling class"), max_length=16, choices=HandlingClass.choices, default=HandlingClass.PROMISED
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))

    # Where: the point and/or address; the grid cell and the community are filled in from the point.
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    grid_cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid cell"),
    )
    origin = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("location jurisdiction"),
    )
    origin_path = models.CharField(max_length=96, editable=False)  # indexed for prefixes: see Meta

    # Who owns it now: the level's jurisdiction (its dispatch desk) and, once dispatched, the lead unit.
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("level jurisdiction"),
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    level_path = models.CharField(max_length=96, editable=False)  # indexed for prefixes: see Meta
    lead_unit = models.ForeignKey(
        "jurisdictions.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead unit"),
        db_index=False,  # case_lead_status_idx starts with it
    )
    owner_ruled = models.BooleanField(
        _("owner ruled"),
        default=False,
        help_text=_("A dispatcher's ruling made the lead unit the final owner."),
    )

    # The resident. The phone is personal data: encrypted, found by digest, masked on screen.
    reporter_name = models.CharField(_("reporter"), max_length=64, blank=True)
    reporter_phone = EncryptedTextField(_("reporter phone"), blank=True)
    reporter_phone_digest = models.CharField(max_length=64, blank=True, editable=False)  # see Meta
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    needs_revisit = models.BooleanField(_("needs a revisit"), default=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    # Bumped by every change; an action refuses to write over a version it did not read (see locking.py).
    version = models.PositiveIntegerField(default=0)
    # NULL, not "", for "no key": the unique constraint (Meta) lets any number of rows have none.
    intake_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=80, null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("merged into"),
        db_index=False,  # a partial index: see Meta
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("split from"),
        db_index=False,  # a partial index: see Meta
    )

    received_at = models.DateTimeField(_("received at"), db_index=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)  # a partial index: see Meta
    # The time of the last change on the case's own timeline (the last action's clock time, not the wall
    # clock of the save: the demo replays history under clock.frozen, and Open311 publishes this value).
    updated_at = models.DateTimeField(default=timezone.now)

    # The running clock that ends first, kept by the clock code. Filtering "overdue" reads these columns.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    due_stage = models.CharField(_("due stage"), max_length=16, choices=Stage.choices, blank=True)
    timing = models.CharField(_("timing"), max_length=16, choices=Timing.choices, default=Timing.ON_TIME)
    was_overdue = models.BooleanField(_("was overdue"), default=False, help_text=_("Some clock ran out."))

    reply = models.TextField(_("reply to the resident"), blank=True)
    is_supervised = models.BooleanField(_("supervised"), default=False)
    is_forced_close = models.BooleanField(_("closed by force"), default=False)
    urge_count = models.PositiveSmallIntegerField(default=0)
    return_count = models.PositiveSmallIntegerField(default=0)
    rework_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    escalation_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-received_at"]
        # Every index costs each intake a write, so each one here is used and none repeats another.
        # Unique keys as constraints: a unique CharField would also get a LIKE index nobody uses.
        constraints = [
            models.UniqueConstraint(fields=["number"], name="case_number_uniq"),
            models.UniqueConstraint(fields=["intake_key"], name="case_intake_key_uniq"),
        ]
        indexes = [
            # Jurisdiction subtrees are path prefixes (LIKE 'a/b/%'); the pattern opclass serves them in
            # any collation, and equality too. On SQLite the opclass is ignored.
            models.Index(
                fields=["origin_path"], name="case_origin_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["level_path"], name="case_level_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["reporter_phone_digest"], name="case_phone_digest_idx"),  # repeat callers
            # Mostly empty columns: only the rows that have a value are indexed.
            models.Index(
                fields=["closed_at"], name="case_closed_idx", condition=models.Q(closed_at__isnull=False)
            ),
            models.Index(
                fields=["duplicate_of"],
                name="case_duplicate_of_idx",
                condition=models.Q(duplicate_of__isnull=False),
            ),
            models.Index(fields=["parent"], name="case_parent_idx", condition=models.Q(parent__isnull=False)),
            models.Index(fields=["status", "received_at"], name="case_status_recv_idx"),
            models.Index(fields=["lead_unit", "status"], name="case_lead_status_idx"),
            models.Index(fields=["category", "received_at"], name="case_category_recv_idx"),
            # The "overdue" filter and the lists sorted by urgency of the deadline; only open cases have one.
            models.Index(
                fields=["due_at"],
                name="case_open_due_idx",
                condition=models.Q(status__in=in_group(Group.OPEN)),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_reporter_phone(self) -> str:
        return mask_phone(self.reporter_phone or "")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("lead unit")  # 主办
    ASSIST = "assist", _("co-handling unit")  # 协办


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("waiting for acceptance")
    ACCEPTED = "accepted", _("accepted")
    REPLIED = "replied", _("replied")
    RETURNED = "returned", _("returned")
    ENDED = "ended", _("ended")  # the case moved on (re-dispatched, escalated, closed)


class CaseAssignment(models.Model):
    """A unit's part in a case: one lead (主办) and, for 联办件, co-handling units (协办), each signing for
    and replying on its own. Past assignments stay (``is_current`` false) so returns count per unit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(
        "jurisdictions.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(_("status"), max_length=16, choices=AssignmentStatus.choices)
    is_current = models.BooleanField(default=True)
    dispatched_from = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dispatched from"),
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dispatched_at = models.DateTimeField()
    return_due_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)
    return_basis = models.CharField(max_length=200, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["case", "-is_current", "role", "dispatched_at"]
        indexes = [models.Index(fields=["unit", "is_current", "status"], name="assignment_unit_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(is_current=True, role="lead"),
                name="assignment_one_current_lead",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.unit_id}:{self.role}"


class CaseEvent(models.Model):
    """One row per change, appended in the same transaction as the change. ``code`` is a stable action code
    (workflow.Action or a clock code such as ``clock.overdue``), translated only for display; ``seq`` is the
    case version after the change, so the history of a case is gap-free and totally ordered."""

    # db_index off: the unique (case, seq) index starts with the case.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    unit = models.ForeignKey(
        "jurisdictions.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="caseevent_case_seq")]
        indexes = [models.Index(fields=["code", "at"], name="caseevent_code_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.code}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    STOPPED = "stopped", _("stopped")


class CaseClock(models.Model):
    """One stage's clock (workflow.md §2.3). The limit is copied from the TimeLimit row when the clock
    starts, so later edits to the limits do not rewrite history."""

    # db_index off: caseclock_case_stage_idx starts with the case.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", db_index=False)
    stage = models.CharField(max_length=16, choices=Stage.choices)
    seq = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=16, choices=TimeUnit.choices)
    limit_value = models.DecimalField(max_digits=8, decimal_places=2)
    warn_fraction = models.DecimalField(max_digits=4, decimal_places=2)
    serious_factor = models.DecimalField(max_digits=4, decimal_places=1)
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    serious_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=ClockState.choices, default=ClockState.RUNNING)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_amount = models.FloatField(default=0.0, help_text="Paused time so far, in the clock's unit.")
    extended_amount = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)
    timing = models.CharField(max_length=16, choices=Timing.choices, default=Timing.ON_TIME)
    # When the worker must next look at this clock (the next threshold not yet fired); null = nothing due.
    next_fire_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "started_at", "stage", "seq"]
        indexes = [
            # The sweeper's claim query: running clocks whose next threshold is due, oldest first.
            models.Index(
                fields=["next_fire_at"],
                name="caseclock_due_idx",
                condition=models.Q(state="running", next_fire_at__isnull=False),
            ),
            models.Index(fields=["case", "stage", "state"], name="caseclock_case_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.stage}.{self.seq} → {self.deadline_at:%Y-%m-%d %H:%M}"

    @property
    def is_late(self) -> bool:
        """Stopped after its deadline, or still running past it."""
        return self.timing in (Timing.OVERDUE, Timing.SERIOUS)
