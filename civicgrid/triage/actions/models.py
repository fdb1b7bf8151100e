"""Training and activating classifier models, recording suggestions on cases, dispatching automatically,
and editing the policy. Every change appends a ``TriageEvent``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from civicgrid.accounts.permissions import can_administer_installation
from civicgrid.cases.actions.dispatching import do_dispatch
from civicgrid.cases.actions.registration import do_register
from civicgrid.cases.models import Case, Category
from civicgrid.cases.workflow import Status
from civicgrid.lib import clock
from civicgrid.triage import classifier, serving
from civicgrid.triage.models import (
    CaseSuggestion,
    ClassifierModel,
    ModelSource,
    RunStatus,
    TrainingRun,
    TriageEvent,
    TriagePolicy,
)
from civicgrid.triage.policy import policy
from civicgrid.triage.training import training_set

if TYPE_CHECKING:
    from civicgrid.accounts.models import User

logger = logging.getLogger("civicgrid.triage")

# The fewest texts per category for it to be learned (fewer cannot be cross-validated for the confidence).
MIN_PER_LABEL = 5


def _event(kind: str, actor: User | None, **data: Any) -> None:
    TriageEvent.objects.create(kind=kind, actor=actor, at=clock.now(), data=data)


def _require_admin(actor: User | None) -> None:
    if actor is not None and not can_administer_installation(actor):
        raise PermissionDenied


@transaction.atomic
def do_save_policy(row: TriagePolicy, *, actor: User | None) -> TriagePolicy:
    _require_admin(actor)
    row.pk = 1
    row.full_clean()
    row.save()
    _event(
        "policy.saved",
        actor,
        auto_dispatch=row.auto_dispatch,
        auto_dispatch_confidence=str(row.auto_dispatch_confidence),
        suggest_min_confidence=str(row.suggest_min_confidence),
    )
    return row


def do_request_training(
    *, source: str = ModelSource.BOTH, seed: int = 0, activate: bool = True, actor: User | None
) -> TrainingRun:
    """Queue a training for the worker (the admin's "train a new model"); its progress is on the run."""
    _require_admin(actor)
    if source not in ModelSource.values:
        raise ValidationError({"source": _("“%(value)s” is not a valid choice.") % {"value": source}})
    with transaction.atomic():
        run = TrainingRun.objects.create(
            source=source, seed=seed, activate=activate, requested_at=clock.now(), requested_by=actor
        )
        _event("training.requested", actor, run=run.pk, source=source, seed=seed)
    return run


def claim_training() -> TrainingRun | None:
    """The oldest queued run, taken by this worker (a conditional UPDATE: two workers never take one run)."""
    for run_id in (
        TrainingRun.objects.filter(status=RunStatus.QUEUED).order_by("pk").values_list("pk", flat=True)[:3]
    ):
        taken = TrainingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=clock.now(), stage=_("reading the training data")
        )
        if taken:
            return TrainingRun.objects.get(pk=run_id)
    return None


def _progress(run: TrainingRun, pct: int, stage: str) -> None:
    # Its own tiny write outside any transaction of the training, so the progress bar moves while it runs.
    TrainingRun.objects.filter(pk=run.pk).update(progress=pct, stage=stage)


STAGES = {
    "calibrating": gettext_noop("calibrating the confidence"),
    "fitting": gettext_noop("fitting"),
    "storing": gettext_noop("storing"),
}


def do_train(
    run: TrainingRun, *, actor: User | None, on_progress: Callable[[int, str], None] | None = None
) -> ClassifierModel:
    """Train the model a run asks for and store it as the next version; activate it if the run says so.
    A failure marks the run failed and leaves the model in use untouched."""
    started = time.perf_counter()

    def report(pct: int, stage: str) -> None:
        _progress(run, pct, stage)
        if on_progress is not None:
            on_progress(pct, stage)

    try:
        data = training_set(run.source)
        counts: dict[str, int] = {}
        for label in data.labels:
            counts[label] = counts.get(label, 0) + 1
        rare = {label for label, n in counts.items() if n < MIN_PER_LABEL}
        texts = [t for t, label in zip(data.texts, data.labels, strict=True) if label not in rare]
        labels = [label for label in data.labels if label not in rare]
        if len(set(labels)) < 2:
            raise ValidationError(
                _("At least two categories with %(n)s texts each are needed to train.") % {"n": MIN_PER_LABEL}
            )
        report(5, _("training on %(n)s texts") % {"n": len(texts)})
        model = classifier.train(
            texts,
            labels,
            seed=run.seed,
            progress=lambda pct, stage: report(pct, _(STAGES.get(stage, stage))),
        )
        blob = classifier.dump(model)
        seconds = time.perf_counter() - started
        with transaction.atomic():
            version = (ClassifierModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
            row = ClassifierModel.objects.create(
                version=version,
                source=run.source,
                method=classifier.METHOD,
                seed=run.seed,
                params={"ngrams": list(classifier.NGRAMS), "min_df": classifier.MIN_DF, "C": classifier.C},
                labels=model.labels,
                n_samples=len(texts),
                metrics={
                    "from_file": data.from_file,
                    "from_cases": data.from_cases,
                    "left_out": sorted(rare),
                    "temperature": model.temperature,
                    "per_label": {label: counts[label] for label in model.labels},
                },
                weights=blob,
                digest=classifier.weights_digest(model),
                trained_at=clock.now(),
                trained_by=actor,
                seconds=seconds,
            )
            TrainingRun.objects.filter(pk=run.pk).update(
                status=RunStatus.DONE,
                progress=100,
                stage=pgettext("training run", "done"),
                model=row,
                finished_at=clock.now(),
            )
            _event("model.trained", actor, version=version, run=run.pk, samples=len(texts), digest=row.digest)
            if run.activate:
                do_activate_model(row, actor=actor)
        if on_progress is not None:
            on_progress(100, pgettext("training run", "done"))
        return row
    except Exception as exc:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=_message(exc), finished_at=clock.now()
        )
        with transaction.atomic():
            _event("training.failed", actor, run=run.pk, error=_message(exc))
        raise


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


def do_activate_model(model: ClassifierModel, *, actor: User | None) -> ClassifierModel:
    """Put ``model`` in use in one transaction: the old one is switched off and the new one on together
    (the partial unique index allows one active row), so a suggestion reads the old or the new, never none."""
    _require_admin(actor)
    with transaction.atomic():
        old = list(ClassifierModel.objects.select_for_update().filter(is_active=True).exclude(pk=model.pk))
        ClassifierModel.objects.filter(pk__in=[m.pk for m in old]).update(is_active=False)
        ClassifierModel.objects.filter(pk=model.pk).update(is_active=True)
        _event("model.activated", actor, version=model.version, replaced=[m.version for m in old])
    model.is_active = True
    return model


def do_suggest_for_case(case: Case, *, actor: User | None) -> CaseSuggestion | None:
    """Record what the model in use suggests for ``case`` (once per case) and, when the policy says so and
    the model is sure enough, register and dispatch it to the routed lead unit. None without a model."""
    found = CaseSuggestion.objects.filter(case=case).first()
    if found is not None:
        return found
    s = serving.suggest(case.title, case.description)
    if s.model is None:
        return None
    best = s.best
    lead = serving.route_lead_unit(best.category, case) if best is not None else None
    with transaction.atomic():
        row, created = CaseSuggestion.objects.get_or_create(
            case=case,
            defaults={
                "model": s.model,
                "category": best.category if best else None,
                "confidence": s.choices[0].probability if s.choices else 0.0,
                "top": [[c.category.code, round(c.probability, 4)] for c in s.choices],
                "lead_unit": lead,
                "no_suggestion": s.reason_code,
                "at": clock.now(),
            },
        )
    if created and best is not None and lead is not None:
        _auto_dispatch(row, case, best.category, lead)
    return row


def _auto_dispatch(row: CaseSuggestion, case: Case, category: Category, lead: Any) -> None:
    rules = policy()
    if not rules.auto_dispatch or row.confidence < float(rules.auto_dispatch_confidence):
        return
    case.refresh_from_db()
    if case.status != Status.RECEIVED:
        return
    note = _("Dispatched automatically: model v%(version)s, %(pct)s %% sure.") % {
        "version": row.model.version,
        "pct": round(row.confidence * 100),
    }
    try:
        with transaction.atomic():
            do_register(case, category=category, note=note, actor=None)
            if case.status != Status.REGISTERED:  # a rule sent it up a level: the desk there decides
                return
            do_dispatch(case, lead=lead, note=note, actor=None)
            CaseSuggestion.objects.filter(pk=row.pk).update(auto_dispatched=True)
            _event("case.auto_dispatched", None, case=case.number, version=row.model.version, lead=lead.code)
    except ValidationError as exc:
        # The case stays at the desk for a person; why is kept for the admin.
        with transaction.atomic():
            _event("case.auto_dispatch_refused", None, case=case.number, error=_message(exc))
    row.refresh_from_db()
