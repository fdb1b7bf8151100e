"""Demo data of this app (a step of load_demo; see civicgrid/demo/context.py). Idempotent."""

from __future__ import annotations

from civicgrid.demo.context import DemoContext


def load(ctx: DemoContext) -> None:
    """Nothing yet."""
