"""``manage.py compute_hot_topics``: compute the hot topics (热点问题) now and make them current."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.triage.actions.hot import do_compute_hot_topics


class Command(BaseCommand):
    help = "Compute the hot topics of the last hot_window_days (smart routing policy) and make them current."

    def handle(self, *args: Any, **options: Any) -> None:
        run = do_compute_hot_topics(actor=None)
        topics = run.topics.order_by("rank")
        self.stdout.write(
            f"{topics.count()} hot topics among {run.n_cases} cases "
            f"({run.window_start:%Y-%m-%d} – {run.window_end:%Y-%m-%d}), {run.seconds:.2f} s"
        )
        for topic in topics[:10]:
            self.stdout.write(f"{topic.rank:3}. {topic.title} — {topic.size} cases, {topic.place or '—'}")
