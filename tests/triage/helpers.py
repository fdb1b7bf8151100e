"""Fixtures of the smart-routing tests: the seven first-level classes of the labelled file as categories
(城乡建设 routed to the 住建 unit type, 交通运输 to 城管), and a small labelled file (40 messages a class)
so a training takes a second."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings

from civicgrid.cases import limits
from civicgrid.cases.models import Category
from civicgrid.jurisdictions.models import UnitType
from civicgrid.triage import training

CLASSES = ["城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输"]
ROUTED = {"城乡建设": "zj", "交通运输": "cg"}
PER_CLASS = 40


def build_classes() -> dict[str, Category]:
    found: dict[str, Category] = {}
    for i, name in enumerate(CLASSES, start=1):
        code = f"T{i}"
        unit_type = UnitType.objects.get(code=ROUTED[name]) if name in ROUTED else None
        found[name] = Category.objects.create(
            code=code, name=name, path=f"{code}/", depth=1, unit_type=unit_type
        )
    leaf = Category.objects.create(
        code="T1-01", name="物业管理", parent=found["城乡建设"], path="T1/T1-01/", depth=2
    )
    found["物业管理"] = leaf
    limits.invalidate()
    return found


def small_file(directory: Path) -> Path:
    source = Path(settings.SHARED_DATA_DIR) / "messages" / "messages_labeled_dev.csv"
    target = directory / "labelled.csv"
    taken: dict[str, int] = defaultdict(int)
    with (
        source.open(encoding="utf-8", newline="") as fh,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(["label", "text"])
        for row in csv.DictReader(fh):
            if taken[row["label"]] < PER_CLASS:
                taken[row["label"]] += 1
                writer.writerow([row["label"], row["text"]])
    return target


@pytest.fixture
def labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = small_file(tmp_path)
    monkeypatch.setattr(training, "bootstrap_file", lambda: path)
    return path
