"""The worker's job ``triage.hot_topics``: recompute the hot topics when the current run is an hour old."""

from __future__ import annotations

from civicgrid.core.worker import WorkerContext


def refresh_hot_topics(context: WorkerContext) -> int:
    from civicgrid.triage.actions.hot import do_compute_hot_topics_if_stale

    return 0 if do_compute_hot_topics_if_stale(now=context.now, actor=None) is None else 1
