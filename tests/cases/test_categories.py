"""Importing the portal's three-level taxonomy: counts, codes in file order, idempotency, unit types,
clear errors for a bad file, and who may import."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from civicgrid.cases.categories import do_import_categories
from civicgrid.cases.models import Category
from civicgrid.jurisdictions.actions import do_upsert_unit_type
from tests.world import World

TAXONOMY = settings.SHARED_DATA_DIR / "messages" / "category_taxonomy.csv"


def _tree() -> list[tuple[str, str, str, int, str | None]]:
    return list(
        Category.objects.order_by("path").values_list("code", "name", "path", "depth", "parent__code")
    )


def test_the_shared_taxonomy_becomes_a_three_level_tree(db: None) -> None:
    result = do_import_categories(TAXONOMY, actor=None)
    assert (result.rows, result.nodes, result.created) == (517, 650, 650)
    assert result.by_depth == {1: 15, 2: 118, 3: 517}
    assert Category.objects.count() == 650
    assert Category.objects.filter(depth=1).count() == 15
    # Codes follow the file order: its first rows are 城乡建设 / 安全生产 / 事故处理, 安全生产管理 ….
    first = Category.objects.get(code="010101")
    assert (first.name, first.path, first.depth) == ("事故处理", "01/0101/010101/", 3)
    assert first.parent is not None
    assert (first.parent.name, first.parent.code) == ("安全生产", "0101")
    assert Category.objects.get(code="010102").name == "安全生产管理"
    assert Category.objects.get(code="01").name == "城乡建设"
    # The same second-level name under two classes is two nodes (城乡建设/安全生产, 经济管理/安全生产).
    assert Category.objects.filter(name="安全生产", depth=2).count() == 2


def test_a_second_import_changes_nothing(db: None) -> None:
    do_import_categories(TAXONOMY, actor=None)
    before = _tree()
    again = do_import_categories(TAXONOMY, actor=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 650)
    assert _tree() == before


def test_a_newer_file_keeps_the_codes_and_appends(db: None, tmp_path: Path) -> None:
    do_import_categories(TAXONOMY, actor=None)
    newer = tmp_path / "newer.csv"
    newer.write_text(
        "一级分类,二级分类,三级分类\n城乡建设,安全生产,新增事项\n新的一级,新的二级,新的三级\n",
        encoding="utf-8",
    )
    result = do_import_categories(newer, actor=None)
    assert result.created == 4  # one third level under 0101, and a new class with its two levels
    assert Category.objects.get(name="新增事项").code == "010104"  # after 事故处理, 安全生产管理, 安全隐患
    assert Category.objects.get(name="新的一级").code == "16"
    assert Category.objects.get(name="新的三级").path == "16/1601/160101/"
    assert Category.objects.get(code="010101").name == "事故处理"


def test_unit_types_are_set_and_only_changed_when_they_differ(db: None) -> None:
    cg = do_upsert_unit_type(code="cg", name="城管执法", actor=None)
    zr = do_upsert_unit_type(code="zr", name="自然资源和规划", actor=None)
    do_import_categories(TAXONOMY, unit_types={"城乡建设": "cg", "城乡建设/城乡规划": "zr"}, actor=None)
    assert Category.objects.get(code="01").unit_type == cg
    assert Category.objects.get(name="城乡规划").unit_type == zr
    assert Category.objects.get(name="违章建筑").unit_type is None  # inherited, not copied
    again = do_import_categories(
        TAXONOMY, unit_types={"城乡建设": "cg", "城乡建设/城乡规划": "zr"}, actor=None
    )
    assert (again.created, again.updated) == (0, 0)
    moved = do_import_categories(TAXONOMY, unit_types={"城乡建设": "zr"}, actor=None)
    assert moved.updated == 1
    assert Category.objects.get(code="01").unit_type == zr


@pytest.mark.parametrize(
    ("unit_types", "message"),
    [({"城乡建设": "nope"}, "nope"), ({"不存在的分类": "cg"}, "不存在的分类")],
)
def test_a_bad_unit_type_mapping_is_refused(db: None, unit_types: dict[str, str], message: str) -> None:
    do_upsert_unit_type(code="cg", name="城管执法", actor=None)
    with pytest.raises(ValidationError) as exc:
        do_import_categories(TAXONOMY, unit_types=unit_types, actor=None)
    assert message in str(exc.value)
    assert not Category.objects.exists()


def test_a_bad_header_names_the_missing_column(db: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("一级分类,二级,三级分类\n城乡建设,安全生产,事故处理\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        do_import_categories(bad, actor=None)
    assert "二级分类" in exc.value.messages[0]
    assert "bad.csv" in exc.value.messages[0]
    assert not Category.objects.exists()


def test_an_empty_cell_names_the_line_and_changes_nothing(db: None, tmp_path: Path) -> None:
    bad = tmp_path / "gap.csv"
    bad.write_text(
        "一级分类,二级分类,三级分类\n城乡建设,安全生产,事故处理\n城乡建设,,其他\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError) as exc:
        do_import_categories(bad, actor=None)
    assert "line 3" in exc.value.messages[0]
    assert "二级分类" in exc.value.messages[0]
    assert not Category.objects.exists()


def test_only_platform_operators_may_import(world: World) -> None:
    with pytest.raises(PermissionDenied):
        do_import_categories(TAXONOMY, actor=world.u("tx_admin"))
    assert not Category.objects.exists()
    assert do_import_categories(TAXONOMY, actor=world.u("root")).created == 650


def test_the_command_defaults_to_the_shared_file(db: None, tmp_path: Path) -> None:
    out = StringIO()
    call_command("import_categories", stdout=out)
    assert "650 created" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n", encoding="utf-8")
    with pytest.raises(CommandError, match="一级分类"):
        call_command("import_categories", str(bad), stdout=StringIO())
    with pytest.raises(CommandError, match="NAME=CODE"):
        call_command("import_categories", "--unit-type", "城乡建设", stdout=StringIO())
