"""Smart routing (智能分拨): what the text of requests tells the people who route them.

- ``TriagePolicy``: the one row of settings edited in the admin — the confidence below which no category
  is suggested, whether and above which confidence a case is dispatched automatically, the duplicate
  window (metres, days, similarity) and the hot-topic window.
- ``ClassifierModel``: a trained category classifier, versioned. Its weights are plain arrays (``.npz``
  without pickles) in the database, so every process serves the same model and a retrained model
  replaces the old one in one transaction (``is_active`` moves; at most one row has it).
- ``TrainingRun``: one training, with its progress (for the admin's progress bar) and outcome.
- ``CaseSuggestion``: what which model suggested for a case (category, confidence, the top 3, the lead
  unit the routing gives), whether the case was dispatched automatically; whether the dispatcher accepted
  or overrode it is read off the case's registered category.
- ``HotTopicRun`` / ``HotTopic`` / ``HotTopicMember``: the hot topics (热点问题) as last computed.
- ``TriageEvent``: every change of the policy, every training and activation (append-only).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

_UNIT_INTERVAL = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class TriagePolicy(models.Model):
    """A single row (pk 1), created with its defaults on first use."""

    suggest_min_confidence = models.DecimalField(
        _("least confidence to suggest"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.350"),
        validators=_UNIT_INTERVAL,
        help_text=_("Below this the operator is told there is no suggestion."),
    )
    auto_dispatch = models.BooleanField(
        _("dispatch automatically"),
        default=False,
        help_text=_(
            "Register and dispatch a new case to the routed lead unit when the model is sure enough."
        ),
    )
    auto_dispatch_confidence = models.DecimalField(
        _("least confidence to dispatch automatically"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=_UNIT_INTERVAL,
    )
    duplicate_radius_m = models.PositiveIntegerField(_("duplicates: within metres"), default=200)
    duplicate_window_days = models.PositiveSmallIntegerField(_("duplicates: within days"), default=7)
    duplicate_min_similarity = models.DecimalField(
        _("duplicates: least text similarity"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
        validators=_UNIT_INTERVAL,
    )
    hot_window_days = models.PositiveSmallIntegerField(_("hot topics: days looked at"), default=30)
    hot_radius_m = models.PositiveIntegerField(_("hot topics: within metres"), default=1500)
    hot_min_similarity = models.DecimalField(
        _("hot topics: least text similarity"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
        validators=_UNIT_INTERVAL,
    )
    hot_min_cases = models.PositiveSmallIntegerField(_("hot topics: fewest cases"), default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("smart routing policy")
        verbose_name_plural = _("smart routing policy")

    def __str__(self) -> str:
        return str(_("Smart routing policy"))


class ModelSource(models.TextChoices):
    FILE = "file", _("a labelled file")
    CASES = "cases", _("closed cases")
    BOTH = "both", _("closed cases and a labelled file")


class ClassifierModel(models.Model):
    version = models.PositiveIntegerField(_("version"), unique=True)
    is_active = models.BooleanField(_("in use"), default=False)
    source = models.CharField(_("trained from"), max_length=8, choices=ModelSource.choices)
    method = models.CharField(_("method"), max_length=80)
    seed = models.IntegerField(_("seed"))
    params = models.JSONField(_("parameters"), default=dict)
    labels = models.JSONField(_("category codes"), default=list)
    n_samples = models.PositiveIntegerField(_("training samples"))
    metrics = models.JSONField(_("measured"), default=dict, blank=True)
    weights = models.BinaryField(_("weights"))
    digest = models.CharField(_("SHA-256 of the weights"), max_length=64)
    trained_at = models.DateTimeField(_("trained at"))
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seconds = models.FloatField(_("training seconds"), default=0.0)

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="triage_one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("training run", "queued")
    RUNNING = "running", pgettext_lazy("training run", "running")
    DONE = "done", pgettext_lazy("training run", "done")
    FAILED = "failed", pgettext_lazy("training run", "failed")


class TrainingRun(models.Model):
    status = models.CharField(_("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    source = models.CharField(_("trained from"), max_length=8, choices=ModelSource.choices)
    seed = models.IntegerField(_("seed"), default=0)
    activate = models.BooleanField(_("use at once"), default=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(pgettext_lazy("training run", "stage"), max_length=120, blank=True)
    error = models.TextField(_("error"), blank=True)
    model = models.ForeignKey(
        ClassifierModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "id"], name="triage_run_status_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class CaseSuggestion(models.Model):
    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="triage_suggestion", verbose_name=_("case")
    )
    model = models.ForeignKey(ClassifierModel, on_delete=models.PROTECT, related_name="suggestions")
    category = models.ForeignKey(
        "cases.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence"), default=0.0)
    top = models.JSONField(_("top 3"), default=list)  # [[category code, probability], …]
    lead_unit = models.ForeignKey(
        "jurisdictions.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    no_suggestion = models.CharField(_("why no suggestion"), max_length=120, blank=True)
    auto_dispatched = models.BooleanField(_("dispatched automatically"), default=False)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("category suggestion")
        verbose_name_plural = _("category suggestions")
        indexes = [models.Index(fields=["model", "at"], name="triage_sugg_model_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.category_id}"


class TriageState(models.Model):
    """The worker's place in the case table: cases above ``last_case_id`` have not been looked at."""

    last_case_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("smart routing state")
        verbose_name_plural = _("smart routing state")

    def __str__(self) -> str:
        return f"after case {self.last_case_id}"


class HotTopicRun(models.Model):
    computed_at = models.DateTimeField(_("computed at"), db_index=True)
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("to"))
    n_cases = models.PositiveIntegerField(_("cases looked at"), default=0)
    seconds = models.FloatField(_("seconds"), default=0.0)
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("hot topic run")
        verbose_name_plural = _("hot topic runs")
        ordering = ["-computed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="triage_one_current_hot_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"


class HotTopic(models.Model):
    run = models.ForeignKey(HotTopicRun, on_delete=models.CASCADE, related_name="topics")
    rank = models.PositiveIntegerField(_("rank"))
    title = models.CharField(_("representative title"), max_length=200)
    representative = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    terms = models.CharField(_("key words"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("cases"))
    recent = models.PositiveIntegerField(_("cases in the later half"), default=0)
    earlier = models.PositiveIntegerField(_("cases in the earlier half"), default=0)
    growth = models.FloatField(_("growth"), default=0.0)
    support = models.PositiveIntegerField(_("supports"), default=0)
    score = models.FloatField(_("score"), default=0.0)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    first_at = models.DateTimeField(_("first"))
    last_at = models.DateTimeField(_("last"))

    class Meta:
        verbose_name = _("hot topic")
        verbose_name_plural = _("hot topics")
        ordering = ["run", "rank"]

    def __str__(self) -> str:
        return self.title


class HotTopicMember(models.Model):
    topic = models.ForeignKey(HotTopic, on_delete=models.CASCADE, related_name="members")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField(_("similarity to the representative"), default=0.0)

    class Meta:
        verbose_name = _("hot topic case")
        verbose_name_plural = _("hot topic cases")
        constraints = [models.UniqueConstraint(fields=["topic", "case"], name="triage_hot_member_uniq")]

    def __str__(self) -> str:
        return f"{self.topic_id}/{self.case_id}"


class TriageEvent(models.Model):
    kind = models.CharField(_("what"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("smart routing event")
        verbose_name_plural = _("smart routing events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.kind
