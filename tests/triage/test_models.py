"""Training, versions and their atomic replacement, suggestions recorded on cases, automatic dispatch,
the accept / override count, the worker's jobs and the command — against the database."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client

from civicgrid.cases.actions import do_register
from civicgrid.cases.models import CaseEvent, Category
from civicgrid.cases.workflow import Status
from civicgrid.core.worker import WorkerContext
from civicgrid.lib import clock
from civicgrid.triage import classifier, jobs, queries, serving
from civicgrid.triage.actions import models as actions
from civicgrid.triage.models import (
    CaseSuggestion,
    ClassifierModel,
    ModelSource,
    RunStatus,
    TrainingRun,
    TriageEvent,
    TriageState,
)
from civicgrid.triage.policy import policy
from tests.cases.helpers import new_case
from tests.triage.helpers import build_classes, labelled  # noqa: F401 (the fixture, used by the mark below)
from tests.world import World

ROAD = (
    "小区门口道路塌陷积水",
    "我们小区门口的市政道路塌陷，下雨积水很深，住建部门能否尽快修复路面和下水道。",
)

pytestmark = pytest.mark.usefixtures("labelled")


@pytest.fixture
def classes(world: World) -> dict[str, Category]:
    return build_classes()


def train(
    source: str = ModelSource.FILE, *, seed: int = 0, activate: bool = True, actor: Any = None
) -> ClassifierModel:
    run = actions.do_request_training(source=source, seed=seed, activate=activate, actor=actor)
    return actions.do_train(run, actor=actor)


def active_versions() -> list[int]:
    return list(ClassifierModel.objects.filter(is_active=True).values_list("version", flat=True))


def test_training_from_the_file_stores_version_1_in_use(classes: dict[str, Category]) -> None:
    model = train()
    assert model.version == 1
    assert active_versions() == [1]
    assert model.n_samples == 280
    assert sorted(model.labels) == sorted(c.code for n, c in classes.items() if n != "物业管理")
    assert model.digest == classifier.weights_digest(classifier.load(bytes(model.weights)))
    run = TrainingRun.objects.get(model=model)
    assert (run.status, run.progress) == (RunStatus.DONE, 100)
    kinds = list(TriageEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["training.requested", "model.trained", "model.activated"]


def test_the_same_data_and_seed_give_the_same_weights(classes: dict[str, Category]) -> None:
    first, second = train(seed=3), train(seed=3, activate=False)
    assert first.digest == second.digest
    assert active_versions() == [first.version]


def test_a_retrained_model_replaces_the_old_one_atomically(classes: dict[str, Category]) -> None:
    v1 = train()
    seen_during: list[tuple[int, list[int]]] = []
    run = actions.do_request_training(source=ModelSource.FILE, seed=1, activate=True, actor=None)
    v2 = actions.do_train(
        run, actor=None, on_progress=lambda pct, stage: seen_during.append((pct, active_versions()))
    )
    # While v2 trained, v1 served every suggestion; afterwards v2 alone does.
    assert len(seen_during) > 3
    assert all(v == [v1.version] for pct, v in seen_during if pct < 100)
    assert seen_during[-1] == (100, [v2.version])
    assert active_versions() == [v2.version]
    assert serving.suggest(*ROAD).model == v2
    # the database itself refuses two models in use
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassifierModel.objects.filter(pk=v1.pk).update(is_active=True)
    assert active_versions() == [v2.version]


def test_a_failed_training_leaves_the_model_in_use(
    classes: dict[str, Category], monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = train()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError("out of memory")

    monkeypatch.setattr(classifier, "train", broken)
    run = actions.do_request_training(source=ModelSource.FILE, actor=None)
    with pytest.raises(MemoryError):
        actions.do_train(run, actor=None)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "out of memory" in run.error
    assert active_versions() == [v1.version]
    assert ClassifierModel.objects.count() == 1


def test_training_needs_two_categories(world: World) -> None:
    # no category of the tree matches the file's classes: nothing to learn, said clearly
    run = actions.do_request_training(source=ModelSource.FILE, actor=None)
    with pytest.raises(Exception, match="At least two categories"):
        actions.do_train(run, actor=None)
    assert TrainingRun.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_closed_cases_are_learned_under_their_first_level_class(
    world: World, classes: dict[str, Category]
) -> None:
    from civicgrid.triage.training import training_set

    case = new_case(world, actor=None, title=ROAD[0], description=ROAD[1])
    do_register(case, category=classes["物业管理"], actor=None)
    from civicgrid.cases.models import Case

    Case.objects.filter(pk=case.pk).update(status=Status.ARCHIVED)  # closed, however it got there
    data = training_set(ModelSource.BOTH)
    assert data.from_file == 280
    assert data.from_cases == 1
    assert data.labels[-1] == classes["城乡建设"].code
    assert data.texts[-1].startswith(ROAD[0])


def test_only_the_citys_administrators_train_and_switch(classes: dict[str, Category], world: World) -> None:
    with pytest.raises(PermissionDenied):
        actions.do_request_training(actor=world.u("tx_admin"))  # a district's administrator
    model = train(actor=world.u("root"))
    with pytest.raises(PermissionDenied):
        actions.do_activate_model(model, actor=world.u("tx_leader"))


# --- Suggestions on cases ----------------------------------------------------------------------------------


def test_a_case_records_the_models_suggestion_and_routed_unit(
    world: World, classes: dict[str, Category]
) -> None:
    model = train()
    case = new_case(world, title=ROAD[0], description=ROAD[1])
    row = actions.do_suggest_for_case(case, actor=None)
    assert row is not None
    assert row.model == model
    assert row.category == classes["城乡建设"]
    assert len(row.top) == 3
    assert row.top[0][0] == classes["城乡建设"].code
    assert row.confidence == pytest.approx(row.top[0][1], abs=1e-4)
    assert row.lead_unit == world.units["430103-zj"]  # 住建 by the routing rules, at the case's desk
    assert not row.auto_dispatched
    # once per case: a second call returns the first record
    assert actions.do_suggest_for_case(case, actor=None) == row
    assert CaseSuggestion.objects.filter(case=case).count() == 1


def test_a_case_without_words_gets_no_suggestion_recorded_with_the_reason(
    world: World, classes: dict[str, Category]
) -> None:
    train()
    case = new_case(world, title="？？？", description="123456 !!!")
    row = actions.do_suggest_for_case(case, actor=None)
    assert row is not None
    assert row.category is None
    assert row.no_suggestion == classifier.NO_WORDS
    assert row.lead_unit is None
    assert "no words" in serving.reason_text(row.no_suggestion)


def test_without_a_model_nothing_is_recorded(world: World, classes: dict[str, Category]) -> None:
    case = new_case(world, title=ROAD[0], description=ROAD[1])
    assert actions.do_suggest_for_case(case, actor=None) is None
    assert serving.suggest(*ROAD).reason_code == serving.NO_MODEL


def test_an_unsure_model_suggests_nothing(world: World, classes: dict[str, Category]) -> None:
    train()
    row = policy()
    row.suggest_min_confidence = Decimal("0.999")
    actions.do_save_policy(row, actor=None)
    s = serving.suggest("请问", "")
    assert s.best is None
    assert s.reason_code == serving.UNSURE
    assert "not sure" in s.reason


@pytest.mark.parametrize(
    ("enabled", "threshold", "dispatched"),
    [(True, "0.500", True), (True, "1.000", False), (False, "0.500", False)],
)
def test_automatic_dispatch_above_the_configured_confidence(
    world: World,
    classes: dict[str, Category],
    enabled: bool,
    threshold: str,
    dispatched: bool,
) -> None:
    model = train()
    row = policy()
    row.auto_dispatch, row.auto_dispatch_confidence = enabled, Decimal(threshold)
    actions.do_save_policy(row, actor=None)
    case = new_case(world, title=ROAD[0], description=ROAD[1])
    suggestion = actions.do_suggest_for_case(case, actor=None)
    assert suggestion is not None
    assert suggestion.confidence > 0.5
    case.refresh_from_db()
    suggestion.refresh_from_db()
    assert suggestion.auto_dispatched is dispatched
    if dispatched:
        assert case.status == Status.DISPATCHED
        assert case.category == classes["城乡建设"]
        assert case.lead_unit == world.units["430103-zj"]
        notes = list(CaseEvent.objects.filter(case=case).values_list("data", flat=True))
        assert any(f"model v{model.version}" in str(d.get("note", "")) for d in notes)
        assert TriageEvent.objects.filter(kind="case.auto_dispatched").count() == 1
    else:
        assert case.status == Status.RECEIVED


def test_accepted_and_overridden_are_counted_per_model(world: World, classes: dict[str, Category]) -> None:
    train()
    accepted = new_case(world, title=ROAD[0], description=ROAD[1])
    overridden = new_case(world, title=ROAD[0], description=ROAD[1] + "（二）")
    pending = new_case(world, title=ROAD[0], description=ROAD[1] + "（三）")
    for case in (accepted, overridden, pending):
        actions.do_suggest_for_case(case, actor=None)
    do_register(accepted, category=classes["物业管理"], actor=None)  # below the suggested class: accepted
    do_register(overridden, category=classes["交通运输"], actor=None)
    late = new_case(world, title=ROAD[0], description=ROAD[1] + "（四）")
    do_register(late, category=classes["交通运输"], actor=None)
    actions.do_suggest_for_case(late, actor=None)  # made after registration: seen by nobody, not judged
    [fared] = queries.fared(world.u("tx_leader"))
    assert (fared.accepted, fared.overridden, fared.pending) == (1, 1, 1)
    assert fared.accept_rate == 0.5
    assert [s.case for s in queries.recent_overrides(world.u("tx_leader"))] == [overridden]
    # another district's leader sees none of it
    assert queries.fared(world.u("yh_admin")) == []


# --- The worker and the command ------------------------------------------------------------------------------


def context(batch: int = 50) -> WorkerContext:
    return WorkerContext(worker_id="t", now=clock.now(), batch=batch)


def test_the_worker_suggests_for_each_new_case_once(world: World, classes: dict[str, Category]) -> None:
    assert jobs.suggest(context()) == 0  # no model: nothing to do
    train()
    cases = [new_case(world, title=ROAD[0], description=ROAD[1] + str(i)) for i in range(3)]
    assert jobs.suggest(context(batch=2)) == 2
    assert jobs.suggest(context(batch=2)) == 1
    assert jobs.suggest(context(batch=2)) == 0
    assert CaseSuggestion.objects.filter(case__in=cases).count() == 3
    assert TriageState.objects.get(pk=1).last_case_id == cases[-1].pk


def test_the_worker_runs_a_queued_training(classes: dict[str, Category], world: World) -> None:
    run = actions.do_request_training(source=ModelSource.FILE, actor=world.u("root"))
    assert jobs.train(context()) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.model is not None
    assert run.model.is_active
    assert jobs.train(context()) == 0


def test_the_command_trains_and_reports(classes: dict[str, Category]) -> None:
    out = StringIO()
    call_command("train_classifier", "--source", "file", "--seed", "5", stdout=out)
    text = out.getvalue()
    assert "100%" in text
    assert "model v1: 280 texts, 7 categories" in text
    assert ClassifierModel.objects.get(version=1).seed == 5


# --- The admin: train a new model, watch its progress ---------------------------------------------------------


def test_the_admin_queues_a_training_and_shows_its_progress(
    classes: dict[str, Category], client_for: Callable[[str], Client]
) -> None:
    root = client_for("root")
    assert root.get("/admin/triage/classifiermodel/").status_code == 200
    assert root.get("/admin/triage/classifiermodel/train/").status_code == 200
    bad = root.post("/admin/triage/classifiermodel/train/", {"source": "file", "seed": "x"})
    assert bad.status_code == 200
    assert "请输入整数" in bad.content.decode()
    assert not TrainingRun.objects.exists()
    response = root.post(
        "/admin/triage/classifiermodel/train/", {"source": "file", "seed": "2", "activate": "on"}
    )
    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/triage/classifiermodel/runs/{run.pk}/")
    page = root.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "等待后台任务" in page
    jobs.train(context())
    partial = root.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'value="100"' in partial
    assert "every 1s" not in partial  # finished: the polling stops
    assert "模型 v1" in partial


@pytest.mark.parametrize("username", ["tx_admin", "tx_leader", "nobody"])
def test_others_do_not_reach_the_models_admin(
    classes: dict[str, Category], client_for: Callable[[str], Client], username: str
) -> None:
    client = client_for(username)
    for url in (
        "/admin/triage/classifiermodel/",
        "/admin/triage/classifiermodel/train/",
        "/admin/triage/triagepolicy/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), (url, response.status_code)
    assert not TrainingRun.objects.exists()


def test_reading_the_policy_never_writes(world: World, client_for: Callable[[str], Client]) -> None:
    from civicgrid.triage.models import TriagePolicy

    row = policy()
    assert row.duplicate_radius_m == 200
    assert row.auto_dispatch is False
    assert not TriagePolicy.objects.exists()
    # the admin's list opens the one row, storing the defaults the first time
    response = client_for("root").get("/admin/triage/triagepolicy/")
    assert response.status_code == 302
    assert response["Location"].endswith("/admin/triage/triagepolicy/1/change/")
    assert TriagePolicy.objects.count() == 1
