"""The worker's jobs of smart routing (registered in TriageConfig.ready).

- ``triage.train``: runs the trainings queued from the admin, one at a time, reporting progress on the run.
- ``triage.suggest``: records the model's suggestion on each new case (and dispatches automatically when
  the policy allows). It walks the case table upwards from a cursor (``TriageState``), so each case is
  looked at once; only cases received in the last ``SUGGEST_WITHIN`` are taken, so a first model does not
  spend its first hours on the archive.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from civicgrid.core.worker import WorkerContext, register_job

logger = logging.getLogger("civicgrid.triage")

SUGGEST_WITHIN = timedelta(days=2)


def train(context: WorkerContext) -> int:
    from civicgrid.triage.actions.models import claim_training, do_train

    run = claim_training()
    if run is None:
        return 0
    try:
        do_train(run, actor=run.requested_by)
    except Exception:
        logger.exception("training run %s failed", run.pk)
    return 1


def suggest(context: WorkerContext) -> int:
    from civicgrid.cases.models import Case
    from civicgrid.cases.workflow import GROUPS, Group
    from civicgrid.triage.actions.models import do_suggest_for_case
    from civicgrid.triage.models import ClassifierModel, TriageState

    if not ClassifierModel.objects.filter(is_active=True).exists():
        return 0
    state, _created = TriageState.objects.get_or_create(pk=1)
    cases = list(
        Case.objects.filter(pk__gt=state.last_case_id)
        .order_by("pk")
        .only("pk", "status", "received_at", "title", "description", "origin_path", "level_path")[
            : context.batch
        ]
    )
    if not cases:
        return 0
    open_statuses = GROUPS[Group.OPEN]
    for case in cases:
        if case.status in open_statuses and case.received_at >= context.now - SUGGEST_WITHIN:
            do_suggest_for_case(case, actor=None)
    TriageState.objects.filter(pk=1).update(last_case_id=cases[-1].pk)
    return len(cases)


def register() -> None:
    register_job("triage.train", train)
    register_job("triage.suggest", suggest)
    from civicgrid.triage.hot_job import refresh_hot_topics  # hot topics: recomputed hourly

    register_job("triage.hot_topics", refresh_hot_topics)
