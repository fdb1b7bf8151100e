"""Train a category classifier now (the admin's "train a new model" queues the same for the worker)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.triage.actions.models import do_request_training, do_train
from civicgrid.triage.models import ModelSource, TrainingRun


class Command(BaseCommand):
    help = (
        "Train a category classifier from closed cases and/or the labelled file "
        "(../shared/data/messages/messages_labeled_dev.csv), store it as the next version and put it in use."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", choices=ModelSource.values, default=ModelSource.BOTH)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-activate", action="store_true", help="store the model without using it")

    def handle(self, *args: Any, **options: Any) -> None:
        run = do_request_training(
            source=options["source"], seed=options["seed"], activate=not options["no_activate"], actor=None
        )
        # Taken from the queue at once (a worker running beside would otherwise take it too).
        TrainingRun.objects.filter(pk=run.pk).update(status="running")
        bar = _Bar(self.stdout.isatty())
        try:
            model = do_train(
                run, actor=None, on_progress=lambda pct, stage: bar.show(pct, stage, self.stdout)
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"model v{model.version}: {model.n_samples} texts, {len(model.labels)} categories, "
            f"{model.seconds:.1f} s{' — in use' if model.is_active else ''}"
        )


class _Bar:
    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.last = -1

    def show(self, pct: int, stage: str, out: Any) -> None:
        if pct == self.last:
            return
        self.last = pct
        filled = pct * 30 // 100
        line = f"[{'#' * filled}{'.' * (30 - filled)}] {pct:3d}% {stage}"
        if self.tty:
            sys.stdout.write("\r" + line.ljust(70))
            sys.stdout.flush()
            if pct >= 100:
                sys.stdout.write("\n")
        else:
            out.write(line)
