"""Demo step of the statistics (the last one): bring the figures up to date with the demo's cases, so the
dashboard and the reports have numbers as soon as `make run` serves (the worker would fold them in within
seconds anyway). Idempotent: a second run only folds in what changed since."""

from __future__ import annotations

from time import perf_counter

from civicgrid.demo.context import DemoContext
from civicgrid.stats.refresh import do_refresh


def load(ctx: DemoContext) -> None:
    started, total = perf_counter(), 0
    while done := do_refresh(actor=None, limit=5000):
        total += done
    ctx.say(f"  statistics: {total} cases counted in {perf_counter() - started:.1f} s")
