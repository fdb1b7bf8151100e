"""The case catalogue as admin data: categories keep their paths, limits validate and take effect at once,
escalation rules refuse stages without clocks; only superusers reach these admin pages."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from civicgrid.cases.actions.catalog import do_save_category, do_save_escalation_rule, do_save_time_limit
from civicgrid.cases.limits import limits_for
from civicgrid.cases.models import Category, EscalationRule, TimeLimit
from tests.world import World


def test_moving_a_category_moves_its_subtree(db: None) -> None:
    a = do_save_category(Category(code="01", name="城乡建设"), actor=None)
    b = do_save_category(Category(code="0101", name="市政", parent=a), actor=None)
    c = do_save_category(Category(code="010101", name="道路", parent=b), actor=None)
    assert (c.path, c.depth) == ("01/0101/010101/", 3)
    other = do_save_category(Category(code="02", name="环境保护"), actor=None)
    b.parent = other
    do_save_category(b, actor=None)
    c.refresh_from_db()
    assert c.path == "02/0101/010101/"
    other.parent = c  # 02 under its own grandchild
    with pytest.raises(ValidationError) as exc:
        do_save_category(other, actor=None)
    assert "parent" in exc.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", Decimal(0)), ("warn_fraction", Decimal("1.2")), ("serious_factor", Decimal("0.5"))],
)
def test_bad_limits_are_refused_by_field(db: None, field: str, value: Decimal) -> None:
    limit = TimeLimit(stage="handle", value=Decimal(5), unit="work_day")
    setattr(limit, field, value)
    with pytest.raises(ValidationError) as exc:
        do_save_time_limit(limit, actor=None)
    assert field in exc.value.message_dict


def test_a_saved_limit_takes_effect_at_once(
    db: None, django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]]
) -> None:
    cat = do_save_category(Category(code="09", name="测试"), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        do_save_time_limit(
            TimeLimit(stage="handle", category=cat, value=Decimal(2), unit="natural_day"), actor=None
        )
    rows = limits_for(
        "handle", category_codes=["09"], nature="complaint", handling_class="promised", urgency="normal"
    )
    assert [(r.value, r.unit) for r in rows] == [(Decimal(2), "natural_day")]


def test_rules_need_a_stage_with_a_clock(db: None) -> None:
    with pytest.raises(ValidationError) as exc:
        do_save_escalation_rule(
            EscalationRule(stage="return_window", threshold="overdue", action="urge"), actor=None
        )
    assert "stage" in exc.value.message_dict


@pytest.mark.parametrize(("username", "status"), [("root", 200), ("tx_admin", 302), ("tx_dispatcher", 302)])
def test_only_superusers_edit_the_catalogue(
    world: World, client_for: Callable[[str], Client], username: str, status: int
) -> None:
    for page in ("/admin/cases/timelimit/", "/admin/cases/category/", "/admin/cases/escalationrule/"):
        assert client_for(username).get(page).status_code in {status, 403}, (username, page)
    if status == 200:
        assert client_for(username).get("/admin/cases/case/").status_code == 200
