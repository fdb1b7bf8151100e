"""The rollups kept by the worker equal a full recount, after random sequences of real actions.

Each run takes a seed: cases are taken in over several weeks, random actions from the transition table are
performed on random cases (most are refused, which must change nothing), the sweep fires the deadlines as
the frozen clock moves on, and the worker's refresh runs at random moments — sometimes in the middle of a
burst of changes. At the end the journal is drained and the figures kept so far are compared, row by row,
with ``do_rebuild``'s recount from the case tables (a different code path: set-based SQL from fresh facts).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from civicgrid.cases import sweep
from civicgrid.cases.actions import do_register
from civicgrid.cases.actions.base import CaseConflict
from civicgrid.cases.models import Case, CaseChange
from civicgrid.cases.workflow import TRANSITIONS, Action, TransitionNotAllowed
from civicgrid.core.worker import WorkerContext
from civicgrid.lib import clock
from civicgrid.stats import check
from civicgrid.stats.models import CaseFact, DailyFigures, MonthlyFigures
from civicgrid.stats.refresh import do_rebuild, do_refresh
from tests.cases.helpers import BJT_POINT, YH_POINT, build_catalog, new_case
from tests.cases.test_transitions import PERFORM
from tests.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)  # National Day week and its make-up days inside


def _drain() -> None:
    while do_refresh(actor=None, limit=7):
        pass


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kept_figures_equal_a_recount(seed: int, world: World) -> None:
    rng = random.Random(seed)
    catalog = build_catalog()
    categories = [catalog.road, catalog.illegal, catalog.consult]
    now = START
    with clock.frozen(now):
        do_rebuild(actor=None)  # an empty start, as on a fresh install
    cases: list[Case] = []
    performed = 0
    for _step in range(160):
        now += timedelta(minutes=rng.choice([5, 30, 90, 300, 1440, 4000]))
        with clock.frozen(now):
            roll = rng.random()
            if roll < 0.2 or len(cases) < 3:
                point = rng.choice([BJT_POINT, BJT_POINT, YH_POINT])
                case = new_case(
                    world,
                    actor=rng.choice([None, "tx_hotline"]) if point == BJT_POINT else None,
                    point=point,
                    nature=rng.choice(["complaint", "consult", "help"]),
                    channel=rng.choice(["hotline", "web"]),
                )
                if rng.random() < 0.7:
                    category = rng.choice(categories)
                    case = _try(partial(do_register, case, category=category, actor=None), case)
                cases.append(case)
            elif roll < 0.9:
                case = Case.objects.get(pk=rng.choice(cases).pk)
                allowed = [a for a, t in TRANSITIONS.items() if case.status in t.sources]
                action = (
                    rng.choice(allowed) if allowed and rng.random() < 0.9 else rng.choice(list(TRANSITIONS))
                )
                before = Case.objects.get(pk=case.pk).version
                result = _try(partial(PERFORM[action], world, catalog, case), case)
                performed += Case.objects.get(pk=case.pk).version > before
                if isinstance(result, list):  # a split: its parts are cases too
                    cases.extend(result)
            else:
                sweep.sweep_due_clocks(WorkerContext(worker_id="t", now=now, batch=100))
            if rng.random() < 0.15:
                do_refresh(actor=None, limit=rng.choice([1, 3, 50]))
    with clock.frozen(now):
        sweep.sweep_due_clocks(WorkerContext(worker_id="t", now=now, batch=1000))
        _drain()
    assert not CaseChange.objects.exists()
    assert performed > 30, "the walk must actually change cases"
    assert CaseFact.objects.count() == Case.objects.count()
    kept = check.snapshot()
    with clock.frozen(now):
        do_rebuild(actor=None)
    recounted = check.snapshot()
    assert recounted["daily"]
    assert recounted["monthly"]
    assert recounted["duration"]
    assert check.differences(kept, recounted) == []


def _try(run: Callable[[], Any], case: Case) -> Any:
    """Perform; a refusal must leave everything as it was (the action's own transaction rolled back)."""
    try:
        with transaction.atomic():
            return run()
    except (TransitionNotAllowed, ValidationError, PermissionDenied, CaseConflict):
        return case


def test_a_change_is_counted_only_after_the_refresh(world: World) -> None:
    catalog = build_catalog()
    with clock.frozen(START):
        do_rebuild(actor=None)
        case = new_case(world, actor=None)
        assert CaseChange.objects.filter(case=case, version=case.version).exists()
        assert not DailyFigures.objects.exists()
        assert do_refresh(actor=None) == 1
        assert DailyFigures.objects.filter(received=1).exists()
        PERFORM[Action.REGISTER](world, catalog, case)
        case.refresh_from_db()
        assert CaseChange.objects.get(case=case).version == case.version
        do_refresh(actor=None)
        assert not CaseChange.objects.exists()
        assert MonthlyFigures.objects.filter(dim="category", key=str(catalog.illegal.pk)).count() == 0
        assert MonthlyFigures.objects.filter(dim="category", key=str(catalog.road.pk), registered=1).exists()


def test_a_newer_version_stays_in_the_journal(world: World) -> None:
    """The refresh deletes a journal row only up to the version it counted: a change committed after it
    read the case stays for the next run."""
    with clock.frozen(START):
        do_rebuild(actor=None)
        case = new_case(world, actor=None)
        do_refresh(actor=None)
        fact = CaseFact.objects.get(case=case)
        CaseChange.objects.create(case=case, version=case.version + 1)  # as if a change committed later
        do_refresh(actor=None)  # recounts the same version: the newer row must survive
        assert CaseChange.objects.filter(case=case, version=case.version + 1).exists()
        assert CaseFact.objects.get(case=case).version == fact.version
