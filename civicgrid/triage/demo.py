"""Demo step of smart routing (after the assessments'): the first classifier model, trained from the
labelled file and the demo's closed cases, the suggestions of the cases waiting to be registered, and the
hot topics of the last month. Idempotent: a model is trained only when none exists, and a case keeps its
first suggestion."""

from __future__ import annotations

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from civicgrid.demo.context import DemoContext

from .actions.models import do_request_training, do_suggest_for_case, do_train
from .demo_hot import load_hot
from .models import ClassifierModel, ModelSource, RunStatus, TrainingRun


def load(ctx: DemoContext) -> None:
    if not ClassifierModel.objects.exists():
        run = do_request_training(source=ModelSource.BOTH, seed=0, activate=True, actor=None)
        TrainingRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
        model = do_train(run, actor=None)
        ctx.say(f"    classifier v{model.version}: {model.n_samples} texts, {model.seconds:.1f} s")
    waiting = Case.objects.filter(
        status__in=[Status.RECEIVED, Status.CONFIRMING], triage_suggestion__isnull=True
    )
    n = 0
    for case in waiting.order_by("pk").iterator():
        do_suggest_for_case(case, actor=None)
        n += 1
    ctx.say(f"    suggestions: {n} cases waiting to be registered")
    load_hot(ctx)
